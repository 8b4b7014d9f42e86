//! Running tasks on an agent: the sandbox, the URI fetcher, the command process (in its own
//! process group, so a kill reaches its children), and the simulated Docker container.
//! Each task reports TASK_STARTING, TASK_RUNNING and a terminal state, as Mesos's command
//! executor does.

use super::runtime::Shared;
use super::state::{LaunchSpec, UriSpec};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use tokio::process::Command;
use tokio::sync::watch;

fn report(
    shared: &Arc<Shared>,
    spec: &LaunchSpec,
    state: &str,
    message: Option<String>,
    reason: Option<&str>,
) {
    shared.with(|m, fx| {
        m.status_update(
            &spec.framework_id,
            &spec.task_id,
            state,
            message,
            reason,
            fx,
        )
    });
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

/// Runs one task to its end.
pub async fn run(shared: Arc<Shared>, mut spec: LaunchSpec) {
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
    let stdout = std::fs::File::create(sandbox.join("stdout"));
    let stderr = std::fs::File::create(sandbox.join("stderr"));
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
    for uri in spec.uris.clone() {
        if let Err(e) = fetch(&uri, &sandbox).await {
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
        // No container engine is assumed: the container is a placeholder that runs until killed.
        use std::io::Write;
        let mut out = stdout;
        let _ = writeln!(
            out,
            "mesos-kernel embedded cluster: Docker image '{image}' was simulated (no container engine); the task stays TASK_RUNNING until killed"
        );
        report(&shared, &spec, "TASK_RUNNING", None, None);
        killed(&mut spec.kill).await;
        if spec.killing_state {
            report(&shared, &spec, "TASK_KILLING", None, None);
        }
        let _ = writeln!(
            out,
            "mesos-kernel embedded cluster: simulated container killed"
        );
        report(
            &shared,
            &spec,
            "TASK_KILLED",
            Some("Command terminated with signal Terminated".into()),
            None,
        );
        return;
    }

    let mut cmd = match (&spec.command.value, spec.command.shell) {
        (Some(v), true) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(v);
            c
        }
        (Some(v), false) => {
            let mut c = Command::new(v);
            // `arguments` is the whole argv, argv[0] included.
            if let Some(first) = spec.command.arguments.first() {
                c.arg0(first);
            }
            c.args(spec.command.arguments.iter().skip(1));
            c
        }
        (None, _) => {
            report(
                &shared,
                &spec,
                "TASK_FAILED",
                Some("Command has no value to run".into()),
                Some("REASON_COMMAND_EXECUTOR_FAILED"),
            );
            return;
        }
    };
    cmd.current_dir(&sandbox)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .env("MESOS_SANDBOX", &sandbox)
        .env("MESOS_DIRECTORY", &sandbox)
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
                &shared,
                &spec,
                "TASK_FAILED",
                Some(format!("Failed to launch command: {e}")),
                Some("REASON_COMMAND_EXECUTOR_FAILED"),
            );
            return;
        }
    };
    let pid = child.id().unwrap_or(0);
    report(&shared, &spec, "TASK_RUNNING", None, None);

    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed(&mut spec.kill) => {
            if spec.killing_state {
                report(&shared, &spec, "TASK_KILLING", None, None);
            }
            signal_group(pid, libc::SIGTERM);
            let status = match tokio::time::timeout(spec.kill_grace, child.wait()).await {
                Ok(s) => s,
                Err(_) => {
                    signal_group(pid, libc::SIGKILL);
                    child.wait().await
                }
            };
            signal_group(pid, libc::SIGKILL);
            let message = match status.as_ref().ok().and_then(std::os::unix::process::ExitStatusExt::signal) {
                Some(sig) => format!("Command terminated with signal {}", signal_name(sig)),
                None => "Command was killed".to_string(),
            };
            report(&shared, &spec, "TASK_KILLED", Some(message), None);
            return;
        }
    };
    // Whatever the command left behind in its group goes with it.
    signal_group(pid, libc::SIGKILL);
    match status {
        Ok(s) if s.success() => report(
            &shared,
            &spec,
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
            report(&shared, &spec, "TASK_FAILED", Some(message), None);
        }
        Err(e) => report(
            &shared,
            &spec,
            "TASK_FAILED",
            Some(format!("Failed to wait for the command: {e}")),
            Some("REASON_COMMAND_EXECUTOR_FAILED"),
        ),
    }
}

/// `runs/latest` points at the newest run, as on a Mesos agent.
async fn link_latest(sandbox: &Path, container_id: &str) {
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
async fn fetch(uri: &UriSpec, sandbox: &Path) -> Result<(), String> {
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
