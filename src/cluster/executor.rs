//! Running tasks on an agent: the sandbox, the URI fetcher, the command process (in its own
//! process group, so a kill reaches its children), and the simulated Docker container.
//! Each task reports TASK_STARTING, TASK_RUNNING and a terminal state, as Mesos's command
//! executor does.

use super::checks;
use super::containerizer::{ContainerId, Owner, Termination};
use super::runtime::Shared;
use super::state::{LaunchSpec, StatusExtra, UriSpec};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use tokio::process::Command;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

fn report(
    shared: &Arc<Shared>,
    spec: &LaunchSpec,
    state: &str,
    message: Option<String>,
    reason: Option<&str>,
) {
    let extra = StatusExtra::default();
    send(
        shared,
        &spec.framework_id,
        &spec.task_id,
        state,
        message,
        reason,
        &extra,
    );
}

fn send(
    shared: &Arc<Shared>,
    framework_id: &str,
    task_id: &str,
    state: &str,
    message: Option<String>,
    reason: Option<&str>,
    extra: &StatusExtra,
) {
    // A task run for a master of another process: its update goes to the leader.
    if shared
        .follow
        .forward(framework_id, task_id, state, message.clone(), reason, extra)
    {
        return;
    }
    shared.with(|m, fx| {
        m.status_update_with(framework_id, task_id, state, message, reason, extra, fx)
    });
}

/// Starts the task's health check and check beside it (`checks.rs`); they stop when the
/// guard is dropped. The receiver hears when the health check asks for a kill.
fn start_probes(shared: &Arc<Shared>, spec: &LaunchSpec) -> (DropGuard, mpsc::Receiver<()>) {
    let stop = CancellationToken::new();
    let (kill_tx, kill_rx) = mpsc::channel(1);
    let target = checks::Target {
        sandbox: spec.sandbox.clone(),
        env: spec.env.clone(),
    };
    let ids = Arc::new((spec.framework_id.clone(), spec.task_id.clone()));
    // A health or check update: TASK_RUNNING made from the last update, unless the task
    // ended or its kill began meanwhile.
    let update = |reason: &'static str| {
        let (shared, ids, stop) = (Arc::clone(shared), Arc::clone(&ids), stop.clone());
        move |extra: StatusExtra| {
            if !stop.is_cancelled() {
                send(
                    &shared,
                    &ids.0,
                    &ids.1,
                    "TASK_RUNNING",
                    None,
                    Some(reason),
                    &extra,
                );
            }
        }
    };
    if let Some(h) = spec.probes.health.clone() {
        let report = update("REASON_TASK_HEALTH_CHECK_STATUS_UPDATED");
        let (target, stop) = (target.clone(), stop.clone());
        tokio::spawn(checks::health_checks(h, target, stop, move |health| {
            report(StatusExtra {
                healthy: Some(health.healthy),
                check_status: None,
                from_last: true,
            });
            if health.kill {
                let _ = kill_tx.try_send(());
            }
        }));
    }
    if let Some(c) = spec.probes.check.clone() {
        let report = update("REASON_TASK_CHECK_STATUS_UPDATED");
        tokio::spawn(checks::checks(c, target, stop.clone(), move |status| {
            report(StatusExtra {
                healthy: None,
                check_status: Some(status),
                from_last: true,
            })
        }));
    }
    (stop.drop_guard(), kill_rx)
}

/// A killed task's TASK_KILLED; one its health check killed says so (`healthy: false`).
fn send_killed(shared: &Arc<Shared>, spec: &LaunchSpec, message: String, by_health: bool) {
    let extra = StatusExtra {
        healthy: by_health.then_some(false),
        ..StatusExtra::default()
    };
    send(
        shared,
        &spec.framework_id,
        &spec.task_id,
        "TASK_KILLED",
        Some(message),
        None,
        &extra,
    );
}

/// How a running task's command ended.
enum Ended {
    Exited(std::io::Result<std::process::ExitStatus>),
    Killed { by_health: bool },
}

async fn killed(kill: &mut watch::Receiver<bool>) {
    loop {
        if *kill.borrow_and_update() {
            return;
        }
        if kill.changed().await.is_err() {
            // The master forgot the task (framework removed): treat it as a kill.
            return;
        }
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        1 => "Hangup".into(),
        2 => "Interrupt".into(),
        3 => "Quit".into(),
        6 => "Aborted".into(),
        9 => "Killed".into(),
        11 => "Segmentation fault".into(),
        13 => "Broken pipe".into(),
        15 => "Terminated".into(),
        n => format!("signal {n}"),
    }
}

fn signal_group(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

/// Links each persistent volume into the sandbox at its container path, as Mesos's
/// `filesystem/posix` isolator does (a symlink; relative paths only).
async fn link_volumes(
    sandbox: &std::path::Path,
    volumes: &[(PathBuf, String)],
) -> Result<(), String> {
    for (dir, container_path) in volumes {
        if std::path::Path::new(container_path).is_absolute() {
            return Err(format!(
                "Failed to prepare the container's volumes: Absolute container path '{container_path}' is not supported"
            ));
        }
        let link = sandbox.join(container_path);
        if let Some(parent) = link.parent() {
            let _ = tokio::fs::create_dir_all(parent).await;
        }
        let _ = tokio::fs::create_dir_all(dir).await;
        if tokio::fs::symlink_metadata(&link).await.is_err() {
            tokio::fs::symlink(dir, &link).await.map_err(|e| {
                format!(
                    "Failed to symlink persistent volume from '{}' to '{}': {e}",
                    dir.display(),
                    link.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Runs one task to its end.
/// The spec stays boxed: the spawned task keeps its future (and what it holds inline) for
/// the task's whole life.
pub async fn run(shared: Arc<Shared>, mut spec: Box<LaunchSpec>) {
    let sandbox = spec.sandbox.clone();
    if let Err(e) = tokio::fs::create_dir_all(&sandbox).await {
        report(
            &shared,
            &spec,
            "TASK_FAILED",
            Some(format!(
                "Failed to create sandbox {}: {e}",
                sandbox.display()
            )),
            Some("REASON_CONTAINER_LAUNCH_FAILED"),
        );
        return;
    }
    link_latest(&sandbox, &spec.container_id).await;
    if let Err(message) = link_volumes(&sandbox, &spec.volumes).await {
        report(
            &shared,
            &spec,
            "TASK_FAILED",
            Some(message),
            Some("REASON_CONTAINER_LAUNCH_FAILED"),
        );
        return;
    }
    // Through tokio::fs (the blocking pool): on a slow disk a burst of launches must not
    // stall the runtime threads that answer the API.
    let stdout = tokio::fs::File::create(sandbox.join("stdout")).await;
    let stderr = tokio::fs::File::create(sandbox.join("stderr")).await;
    let (Ok(stdout), Ok(stderr)) = (stdout, stderr) else {
        report(
            &shared,
            &spec,
            "TASK_FAILED",
            Some("Failed to create stdout/stderr in the sandbox".into()),
            Some("REASON_CONTAINER_LAUNCH_FAILED"),
        );
        return;
    };
    let (stdout, stderr) = (stdout.into_std().await, stderr.into_std().await);
    for uri in spec.uris.clone() {
        // Boxed, as the two ways a task runs below: a spawned task is as big as its
        // largest state, kept for the task's whole life, and 10,000 tasks wait in the
        // smallest of them.
        if let Err(e) = Box::pin(fetch(&uri, &sandbox)).await {
            let message = format!(
                "Failed to fetch all URIs for container '{}': {e}",
                spec.container_id
            );
            report(
                &shared,
                &spec,
                "TASK_FAILED",
                Some(message),
                Some("REASON_CONTAINER_LAUNCH_FAILED"),
            );
            return;
        }
    }
    if *spec.kill.borrow() {
        report(
            &shared,
            &spec,
            "TASK_KILLED",
            Some("Task killed before it was launched".into()),
            None,
        );
        return;
    }
    report(&shared, &spec, "TASK_STARTING", None, None);

    if let Some(image) = spec.docker_image.clone() {
        Box::pin(simulated_container(
            &shared, &mut spec, &sandbox, stdout, stderr, &image,
        ))
        .await;
        return;
    }
    Box::pin(command_process(
        &shared, &mut spec, &sandbox, stdout, stderr,
    ))
    .await;
}

/// A Docker task: no container engine is assumed, the container is a placeholder that
/// runs until killed.
async fn simulated_container(
    shared: &Arc<Shared>,
    spec: &mut LaunchSpec,
    sandbox: &Path,
    stdout: std::fs::File,
    stderr: std::fs::File,
    image: &str,
) {
    // Its files are closed while it "runs": thousands of simulated containers must not
    // hold thousands of descriptors (the process limit is often 20,000 or less).
    use std::io::Write;
    drop(stderr);
    let mut out = stdout;
    let _ = writeln!(
        out,
        "mesos-kernel embedded cluster: Docker image '{image}' was simulated (no container engine); the task stays TASK_RUNNING until killed"
    );
    drop(out);
    report(shared, spec, "TASK_RUNNING", None, None);
    let (probes, mut health_kill) = start_probes(shared, spec);
    let by_health = tokio::select! {
        _ = killed(&mut spec.kill) => false,
        Some(()) = health_kill.recv() => true,
    };
    drop(probes);
    if spec.killing_state {
        report(shared, spec, "TASK_KILLING", None, None);
    }
    if let Ok(mut out) = tokio::fs::OpenOptions::new()
        .append(true)
        .open(sandbox.join("stdout"))
        .await
    {
        use tokio::io::AsyncWriteExt;
        let _ = out
            .write_all(b"mesos-kernel embedded cluster: simulated container killed\n")
            .await;
    }
    let message = "Command terminated with signal Terminated".to_string();
    send_killed(shared, spec, message, by_health);
}

/// A command task: its process, to its end or its kill.
async fn command_process(
    shared: &Arc<Shared>,
    spec: &mut LaunchSpec,
    sandbox: &Path,
    stdout: std::fs::File,
    stderr: std::fs::File,
) {
    let Some(mut cmd) = command_of(&spec.command) else {
        report(
            shared,
            spec,
            "TASK_FAILED",
            Some("Command has no value to run".into()),
            Some("REASON_COMMAND_EXECUTOR_FAILED"),
        );
        return;
    };
    cmd.current_dir(sandbox)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .env("MESOS_SANDBOX", sandbox)
        .env("MESOS_DIRECTORY", sandbox)
        .env("MESOS_TASK_ID", &spec.task_id)
        .env("MESOS_FRAMEWORK_ID", &spec.framework_id)
        .env("MESOS_AGENT_ID", &spec.agent_id)
        .env("MESOS_SLAVE_ID", &spec.agent_id)
        .env("MESOS_EXECUTOR_ID", &spec.executor_id)
        .env("MESOS_CONTAINER_ID", &spec.container_id)
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            report(
                shared,
                spec,
                "TASK_FAILED",
                Some(format!("Failed to launch command: {e}")),
                Some("REASON_COMMAND_EXECUTOR_FAILED"),
            );
            return;
        }
    };
    let pid = child.id().unwrap_or(0);
    if pid != 0 {
        shared.with(|m, _| m.task_process(&spec.framework_id, &spec.task_id, pid));
    }
    let container = register(shared, spec, pid);
    let running = Registered {
        shared: Arc::clone(shared),
        container,
        executor: ContainerId::new(&spec.container_id),
        status: std::sync::Mutex::new(None),
    };
    report(shared, spec, "TASK_RUNNING", None, None);
    let (probes, mut health_kill) = start_probes(shared, spec);

    let ended = tokio::select! {
        status = child.wait() => Ended::Exited(status),
        _ = killed(&mut spec.kill) => Ended::Killed { by_health: false },
        Some(()) = health_kill.recv() => Ended::Killed { by_health: true },
    };
    // No health or check update after the task ends or its kill begins.
    drop(probes);
    let status = match ended {
        Ended::Exited(status) => status,
        Ended::Killed { by_health } => {
            if spec.killing_state {
                report(shared, spec, "TASK_KILLING", None, None);
            }
            signal_group(pid, libc::SIGTERM);
            // The task's kill policy, or a draining agent's `max_grace_period`.
            let grace =
                shared
                    .lock()
                    .kill_grace_of(&spec.framework_id, &spec.task_id, spec.kill_grace);
            let status = match tokio::time::timeout(grace, child.wait()).await {
                Ok(s) => s,
                Err(_) => {
                    signal_group(pid, libc::SIGKILL);
                    child.wait().await
                }
            };
            signal_group(pid, libc::SIGKILL);
            let message = match status
                .as_ref()
                .ok()
                .and_then(std::os::unix::process::ExitStatusExt::signal)
            {
                Some(sig) => format!("Command terminated with signal {}", signal_name(sig)),
                None => "Command was killed".to_string(),
            };
            send_killed(shared, spec, message, by_health);
            return;
        }
    };
    if let Ok(s) = &status {
        let raw = std::os::unix::process::ExitStatusExt::into_raw(*s);
        *running.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(raw);
    }
    // Whatever the command left behind in its group goes with it.
    signal_group(pid, libc::SIGKILL);
    match status {
        Ok(s) if s.success() => report(
            shared,
            spec,
            "TASK_FINISHED",
            Some("Command exited with status 0".into()),
            None,
        ),
        Ok(s) => {
            let message = match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                (Some(code), _) => format!("Command exited with status {code}"),
                (None, Some(sig)) => format!("Command terminated with signal {}", signal_name(sig)),
                (None, None) => "Command ended".to_string(),
            };
            report(shared, spec, "TASK_FAILED", Some(message), None);
        }
        Err(e) => report(
            shared,
            spec,
            "TASK_FAILED",
            Some(format!("Failed to wait for the command: {e}")),
            Some("REASON_COMMAND_EXECUTOR_FAILED"),
        ),
    }
}

/// The task's container joins the agent's containers, so that the container calls reach
/// it: a command task's is top level; a pod's task is nested under its executor's (which
/// has no process of its own here).
fn register(shared: &Shared, spec: &LaunchSpec, pid: u32) -> ContainerId {
    let executor = ContainerId::new(&spec.container_id);
    let owner = Owner::Executor {
        framework_id: spec.framework_id.clone(),
        executor_id: spec.executor_id.clone(),
        executor_name: String::new(),
    };
    match &spec.nested_container {
        None => {
            shared.containers.add_executor(
                &spec.agent_id,
                executor.clone(),
                spec.sandbox.clone(),
                owner,
                Some(pid),
            );
            executor
        }
        Some(nested) => {
            // tasks/<id> sits in the executor's run directory.
            let run_dir = spec
                .sandbox
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&spec.sandbox)
                .to_path_buf();
            shared
                .containers
                .add_executor(&spec.agent_id, executor.clone(), run_dir, owner, None);
            let child = ContainerId::nested(&executor, nested);
            shared.containers.add_executor(
                &spec.agent_id,
                child.clone(),
                spec.sandbox.clone(),
                Owner::Nested,
                Some(pid),
            );
            child
        }
    }
}

/// Takes the task's container out of the live ones when the task's process is done
/// (whichever way `run` returns); a pod's executor goes with its last task.
struct Registered {
    shared: Arc<Shared>,
    container: ContainerId,
    executor: ContainerId,
    status: std::sync::Mutex<Option<i32>>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let status = *self.status.lock().unwrap_or_else(|e| e.into_inner());
        let containers = &self.shared.containers;
        containers.ended(&self.container, Termination { status });
        if self.container != self.executor && !containers.has_children(&self.executor) {
            containers.ended(&self.executor, Termination { status: None });
        }
    }
}

/// `runs/latest` points at the newest run, as on a Mesos agent.
pub(super) async fn link_latest(sandbox: &Path, container_id: &str) {
    let runs = sandbox
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "runs"));
    if let Some(runs) = runs {
        let latest = runs.join("latest");
        let _ = tokio::fs::remove_file(&latest).await;
        let _ = tokio::fs::symlink(container_id, &latest).await;
    }
}

/// The fetcher: http(s) URLs and local paths, copied into the sandbox; archives unpacked.
pub(super) async fn fetch(uri: &UriSpec, sandbox: &Path) -> Result<(), String> {
    let value = uri.value.as_str();
    let base = value
        .split(['?', '#'])
        .next()
        .unwrap_or(value)
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let name = uri.output_file.clone().unwrap_or(base);
    if name.is_empty() || name.contains("..") || name.starts_with('/') {
        return Err(format!("cannot name a file for '{value}'"));
    }
    let dest = sandbox.join(&name);
    if value.starts_with("http://") || value.starts_with("https://") {
        let response = reqwest::get(value)
            .await
            .map_err(|e| format!("Failed to fetch '{value}': {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "Failed to fetch '{value}': HTTP {}",
                response.status()
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("Failed to fetch '{value}': {e}"))?;
        tokio::fs::write(&dest, &bytes)
            .await
            .map_err(|e| format!("Failed to write '{}': {e}", dest.display()))?;
    } else {
        let source = value.strip_prefix("file://").unwrap_or(value);
        tokio::fs::copy(source, &dest)
            .await
            .map_err(|e| format!("Failed to copy '{source}': {e}"))?;
    }
    if uri.executable {
        use std::os::unix::fs::PermissionsExt;
        let _ = tokio::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).await;
    } else if uri.extract
        && [".tar.gz", ".tgz", ".tar", ".tar.bz2", ".txz", ".tar.xz"]
            .iter()
            .any(|s| name.ends_with(s))
    {
        let status = Command::new("tar")
            .arg("-xf")
            .arg(&dest)
            .arg("-C")
            .arg(sandbox)
            .status()
            .await
            .map_err(|e| format!("Failed to run tar: {e}"))?;
        if !status.success() {
            return Err(format!("Failed to extract '{name}': tar {status}"));
        }
    }
    Ok(())
}

/// The process a CommandInfo runs: `sh -c value` for a shell command, else `value` with
/// `arguments` as its whole argv (argv[0] included); none without a value.
pub(super) fn command_of(command: &super::state::CommandSpec) -> Option<Command> {
    let value = command.value.as_ref()?;
    if command.shell {
        let mut c = Command::new("sh");
        c.arg("-c").arg(value);
        return Some(c);
    }
    let mut c = Command::new(value);
    if let Some(first) = command.arguments.first() {
        c.arg0(first);
    }
    c.args(command.arguments.iter().skip(1));
    Some(c)
}
