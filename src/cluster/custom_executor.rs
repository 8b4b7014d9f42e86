//! A framework's own executor as a process on its agent: its sandbox, the fetch of its
//! command's URIs, the command (in its own process group) with the environment Mesos gives
//! executors, its container among the agent's, and its end: the process exits, or is
//! killed once its shutdown grace period is over (`state/executors.rs` decides when).

use super::containerizer::{ContainerId, Owner, Termination};
use super::executor::{command_of, fetch, link_latest};
use super::runtime::Shared;
use super::state::executors::ExecutorLaunch;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs the executor's process to its end and tells the state how it ended.
pub async fn run(shared: Arc<Shared>, mut spec: ExecutorLaunch) {
    let status = match start(&shared, &spec).await {
        Ok(child) => wait(&shared, &mut spec, child).await,
        Err(e) => {
            tracing::warn!(
                executor_id = spec.executor_id,
                "cannot start the executor: {e}"
            );
            // Written where the framework can read it, as the agent's containerizer logs.
            let _ = tokio::fs::write(spec.directory.join("stderr"), format!("{e}\n")).await;
            None
        }
    };
    shared.with(|m, fx| {
        m.executor_exited(
            &spec.framework_id,
            &spec.agent_id,
            &spec.executor_id,
            &spec.container_id,
            status,
            fx,
        )
    });
}

async fn start(
    shared: &Arc<Shared>,
    spec: &ExecutorLaunch,
) -> Result<tokio::process::Child, String> {
    let dir = &spec.directory;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| format!("Failed to create sandbox {}: {e}", dir.display()))?;
    link_latest(dir, &spec.container_id).await;
    let stdout = tokio::fs::File::create(dir.join("stdout"))
        .await
        .map_err(|e| format!("Failed to create stdout in the sandbox: {e}"))?;
    let stderr = tokio::fs::File::create(dir.join("stderr"))
        .await
        .map_err(|e| format!("Failed to create stderr in the sandbox: {e}"))?;
    for uri in &spec.uris {
        fetch(uri, dir).await.map_err(|e| {
            format!(
                "Failed to fetch all URIs for container '{}': {e}",
                spec.container_id
            )
        })?;
    }
    let Some(mut cmd) = command_of(&spec.command) else {
        return Err("Executor's command has no value to run".into());
    };
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout.into_std().await))
        .stderr(Stdio::from(stderr.into_std().await))
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("Failed to launch the executor's command: {e}"))?;
    let pid = child.id().unwrap_or(0);
    shared.containers.add_executor(
        &spec.agent_id,
        ContainerId::new(&spec.container_id),
        dir.clone(),
        Owner::Executor {
            framework_id: spec.framework_id.clone(),
            executor_id: spec.executor_id.clone(),
            executor_name: spec.executor_name.clone(),
        },
        (pid != 0).then_some(pid),
    );
    if pid != 0 {
        shared.with(|m, _| {
            m.executor_process(&spec.framework_id, &spec.agent_id, &spec.executor_id, pid)
        });
    }
    Ok(child)
}

/// The grace period the state asked for, once it asks.
async fn stop_asked(stop: &mut watch::Receiver<Option<Duration>>) -> Duration {
    loop {
        if let Some(grace) = *stop.borrow_and_update() {
            return grace;
        }
        if stop.changed().await.is_err() {
            // The state forgot the run: nothing will ask for a grace period any more.
            return Duration::ZERO;
        }
    }
}

/// Waits for the process to exit, or for the state to stop it (the cluster stopping
/// kills it at once); its wait status when known.
async fn wait(
    shared: &Arc<Shared>,
    spec: &mut ExecutorLaunch,
    mut child: tokio::process::Child,
) -> Option<i32> {
    let pid = child.id().unwrap_or(0);
    let status = tokio::select! {
        s = child.wait() => s.ok(),
        grace = stop_asked(&mut spec.stop) => {
            // The executor had SHUTDOWN; it may end on its own within the grace period.
            match tokio::time::timeout(grace, child.wait()).await {
                Ok(s) => s.ok(),
                Err(_) => {
                    group_kill(pid);
                    child.wait().await.ok()
                }
            }
        }
        _ = shared.stopping.cancelled() => {
            group_kill(pid);
            child.wait().await.ok()
        }
    };
    // Whatever it left behind in its group goes with it.
    group_kill(pid);
    let raw = status.map(ExitStatusExt::into_raw);
    shared.containers.ended(
        &ContainerId::new(&spec.container_id),
        Termination { status: raw },
    );
    raw
}

fn group_kill(pid: u32) {
    if pid != 0 {
        super::containerizer::signal_group(pid, libc::SIGKILL);
    }
}
