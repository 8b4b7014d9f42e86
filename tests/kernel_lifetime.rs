//! How a kernel process ends: a shutdown_request (with or without restart), SIGTERM, and a
//! front end that dies without a word. It never outlives its front end, and takes with it
//! what it started: the embedded cluster's task processes and the jq worker.

mod frontend;

use frontend::{types, Channel, Frontend, Kernel};
use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_shutdown_request_is_answered_and_the_process_exits_at_once() {
    let mut k = Kernel::start().await;
    let asked = Instant::now();
    let id =
        k.fe.send(
            Channel::Control,
            "shutdown_request",
            json!({"restart": false}),
        )
        .await;
    let reply =
        k.fe.reply(Channel::Control)
            .await
            .expect("a shutdown_reply");
    assert_eq!(reply.msg_type(), "shutdown_reply");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content, json!({"status": "ok", "restart": false}));
    let iopub = k.fe.iopub_of(&id).await;
    assert_eq!(
        types(&iopub),
        ["status:busy", "shutdown_reply", "status:idle"]
    );
    let status = k
        .wait_exit(Duration::from_millis(1500))
        .expect("the kernel exits within 1.5 s");
    assert!(status.success(), "{status}");
    assert!(asked.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn a_shutdown_request_on_shell_works_too() {
    let mut k = Kernel::start().await;
    k.fe.send(
        Channel::Shell,
        "shutdown_request",
        json!({"restart": false}),
    )
    .await;
    let reply = k.fe.reply(Channel::Shell).await.expect("a shutdown_reply");
    assert_eq!(reply.msg_type(), "shutdown_reply");
    assert!(k.wait_exit(Duration::from_millis(1500)).is_some());
}

#[tokio::test]
async fn a_shutdown_while_a_cell_runs_interrupts_it() {
    let mut k = Kernel::start().await;
    let id =
        k.fe.execute_with("WAIT false timeout=120s", json!({}))
            .await;
    let want = id.clone();
    k.fe.iopub_until(|m| m.msg_type() == "execute_input" && m.parent_id() == want)
        .await
        .expect("the cell to start");
    k.fe.send(
        Channel::Control,
        "shutdown_request",
        json!({"restart": false}),
    )
    .await;
    let reply = k.fe.reply(Channel::Shell).await.expect("the cell's reply");
    assert_eq!(reply.parent_id(), id);
    assert_eq!(reply.content["ename"], "Interrupted");
    assert!(k.wait_exit(Duration::from_millis(1500)).is_some());
}

#[tokio::test]
async fn a_restart_is_a_shutdown_then_a_new_kernel_on_the_same_connection_file() {
    let mut k = Kernel::start().await;
    k.fe.ok("x = 41").await;
    k.fe.ok("$x + 1").await;
    k.fe.send(
        Channel::Control,
        "shutdown_request",
        json!({"restart": true}),
    )
    .await;
    let reply =
        k.fe.reply(Channel::Control)
            .await
            .expect("a shutdown_reply");
    assert_eq!(reply.content, json!({"status": "ok", "restart": true}));
    assert!(k.wait_exit(Duration::from_millis(1500)).is_some());
    let old_session = k.fe.welcome.session().to_string();
    // As jupyter_client restarts: the same ports and key, a new process.
    k.child = frontend::kernel_command(&k.conn)
        .spawn()
        .expect("starting the kernel again");
    k.fe = frontend::connect_while_running(&k.conn, &mut k.child)
        .await
        .unwrap_or_else(|| panic!("the restarted kernel exited: {}", k.log()));
    assert_ne!(k.fe.welcome.session(), old_session);
    let (reply, _) = k.fe.execute("$x").await;
    assert_eq!(
        reply.content["status"], "error",
        "the old session's variables are gone"
    );
    assert_eq!(reply.content["execution_count"], 1);
    assert_eq!(k.fe.ok("1 + 2").await, "3");
}

/// Processes on Linux, read from /proc.
#[cfg(target_os = "linux")]
mod procs {
    /// (pid, parent pid, state) of every process.
    fn table() -> Vec<(u32, u32, char)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let (Some(state), Some(ppid)) = (fields.first(), fields.get(1)) else {
                continue;
            };
            out.push((
                pid,
                ppid.parse().unwrap_or(0),
                state.chars().next().unwrap_or('?'),
            ));
        }
        out
    }

    /// Every live descendant of `pid`.
    pub fn descendants(pid: u32) -> Vec<u32> {
        let table = table();
        let mut found = vec![pid];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(
                table
                    .iter()
                    .filter(|(_, ppid, state)| *ppid == parent && !matches!(state, 'Z' | 'X'))
                    .map(|(p, _, _)| *p),
            );
            i += 1;
        }
        found.remove(0);
        found
    }

    pub fn children(pid: u32) -> Vec<u32> {
        table()
            .into_iter()
            .filter(|(_, ppid, state)| *ppid == pid && !matches!(state, 'Z' | 'X'))
            .map(|(p, _, _)| p)
            .collect()
    }

    /// Running (a zombie has ended; a reaped process has no entry).
    pub fn alive(pid: u32) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        matches!(state, Some(s) if s != "Z" && s != "X")
    }

    pub fn cmdline(pid: u32) -> String {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default()
    }
}

/// Starts the embedded cluster with a framework and two tasks (one that ignores SIGTERM,
/// so only the cluster's SIGKILL after its grace ends it), and a jq evaluation (the jq
/// worker); returns the kernel's processes, checked to be there.
#[cfg(target_os = "linux")]
async fn start_everything(fe: &mut Frontend, kernel_pid: u32) -> Vec<u32> {
    fe.ok("SUBSCRIBE name=lifetime user=test\nOFFERS wait=20s min=2")
        .await;
    fe.ok("LAUNCH name=sleeper cmd=\"sleep 600\" cpus=0.1 mem=32 wait=RUNNING")
        .await;
    fe.ok("LAUNCH name=stubborn cmd=\"trap '' TERM; sleep 601\" cpus=0.1 mem=32 wait=RUNNING")
        .await;
    assert_eq!(fe.ok("[1, 2] | add").await, "3");
    let deadline = Instant::now() + frontend::WAIT;
    loop {
        let found = procs::descendants(kernel_pid);
        let commands: Vec<String> = found.iter().map(|p| procs::cmdline(*p)).collect();
        let has = |s: &str| commands.iter().any(|c| c.contains(s));
        if has("jq-worker") && has("sleep 600") && has("sleep 601") {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "the kernel's processes are not all there: {commands:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(target_os = "linux")]
fn wait_all_gone(pids: &[u32], timeout: Duration) -> Result<Duration, Vec<(u32, String)>> {
    let started = Instant::now();
    loop {
        let left: Vec<u32> = pids.iter().copied().filter(|p| procs::alive(*p)).collect();
        if left.is_empty() {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            return Err(left.iter().map(|p| (*p, procs::cmdline(*p))).collect());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What jupyter_client does when it starts a kernel (it is the parent and names itself in
/// JPY_PARENT_PID), played by a shell; then the shell is killed with SIGKILL, as a crashed
/// JupyterLab or a killed nbconvert would be. The kernel notices, shuts down cleanly, and
/// nothing of it is left.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_kernel_whose_front_end_is_killed_leaves_no_process_behind() {
    let (conn, mut starter, mut fe) = frontend::start_on(|conn| {
        let log = std::fs::File::create(conn.dir.join("kernel.log")).unwrap();
        let mut starter = Command::new("sh");
        starter
            .args([
                "-c",
                "JPY_PARENT_PID=$$ \"$0\" kernel --connection-file \"$1\" & wait",
                frontend::kernel_binary(),
            ])
            .arg(&conn.file)
            .env_remove("MESOS_MASTER")
            .env_remove("JPY_PARENT_PID")
            .env("MESOS_KERNEL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        starter
    })
    .await;
    let kernels = procs::children(starter.id());
    assert_eq!(kernels.len(), 1, "{kernels:?}");
    let kernel = kernels[0];
    assert!(procs::cmdline(kernel).contains("kernel --connection-file"));
    let mut everything = start_everything(&mut fe, kernel).await;
    everything.push(kernel);

    starter.kill().unwrap();
    starter.wait().unwrap();
    let gone = wait_all_gone(&everything, Duration::from_secs(8));
    let log = std::fs::read_to_string(conn.dir.join("kernel.log")).unwrap_or_default();
    frontend::remove_dir(&conn.dir);
    match gone {
        Ok(after) => {
            assert!(log.contains("the front end is gone"), "{log}");
            eprintln!("everything gone {after:?} after the front end's SIGKILL");
        }
        Err(left) => {
            for (pid, _) in &left {
                frontend::signal(*pid, libc::SIGKILL);
            }
            panic!("left behind: {left:?}\nkernel log:\n{log}");
        }
    }
}

/// The front end behind a wrapper: the kernel's parent lives on, the process named by
/// JPY_PARENT_PID dies.
#[tokio::test]
async fn a_kernel_ends_when_the_process_in_jpy_parent_pid_ends() {
    let mut front_end = Command::new("sleep").arg("600").spawn().unwrap();
    let pid = front_end.id().to_string();
    let mut k = Kernel::start_with(|cmd| {
        cmd.env("JPY_PARENT_PID", &pid);
    })
    .await;
    assert_eq!(k.fe.ok("1 + 2").await, "3");
    front_end.kill().unwrap();
    front_end.wait().unwrap();
    let status = k
        .wait_exit(Duration::from_secs(5))
        .expect("the kernel ends within 5 s of its front end");
    assert!(status.success(), "{status}");
    assert!(k.log().contains("(JPY_PARENT_PID) exited"), "{}", k.log());
}

/// SIGTERM (jupyter_client's terminate, a process manager's stop) shuts down as a
/// shutdown_request does: the tasks and the jq worker end with the kernel.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn sigterm_shuts_down_and_takes_the_tasks_along() {
    let mut k = Kernel::start().await;
    let pid = k.pid();
    let everything = start_everything(&mut k.fe, pid).await;
    k.signal(libc::SIGTERM);
    let status = k
        // Its shutdown is bounded by about 4 s (the interpreter's 3 s, the flush, the
        // linger); the rest is room for a loaded machine.
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("the kernel did not exit after SIGTERM:\n{}", k.log()));
    assert!(status.success(), "{status}");
    if let Err(left) = wait_all_gone(&everything, Duration::from_secs(2)) {
        for (pid, _) in &left {
            frontend::signal(*pid, libc::SIGKILL);
        }
        panic!("left behind: {left:?}\n{}", k.log());
    }
    assert!(k.log().contains("shutting down: SIGTERM"), "{}", k.log());
}

/// A kernel whose stderr is gone (a console's terminal that was closed) logs into the void
/// and goes on: a log line that cannot be written once panicked the task that wrote it
/// (the socket loop that logs a dropped message, the parent watch), so the kernel stopped
/// answering, or outlived its console.
#[tokio::test]
async fn a_kernel_whose_stderr_is_gone_works_on_and_ends_with_its_front_end() {
    let mut front_end = Command::new("sleep").arg("600").spawn().unwrap();
    let pid = front_end.id().to_string();
    let mut k = Kernel::start_with(|cmd| {
        cmd.env("JPY_PARENT_PID", &pid)
            .env("MESOS_KERNEL_LOG", "debug")
            .stderr(Stdio::piped());
    })
    .await;
    // Closed: every write to the kernel's stderr fails from now on.
    drop(k.child.stderr.take());
    assert_eq!(k.fe.ok("1 + 2").await, "3");
    // Logged as a warning by the shell socket's loop, which must live on.
    let (_, frames) = {
        let real = std::mem::replace(&mut k.fe.key, b"wrong".to_vec());
        let forged = k.fe.frames("execute_request", json!({"code": "1"}));
        k.fe.key = real;
        forged
    };
    k.fe.send_frames(Channel::Shell, frames).await;
    assert_eq!(k.fe.ok("[1, 2] | add").await, "3");
    front_end.kill().unwrap();
    front_end.wait().unwrap();
    let status = k
        .wait_exit(Duration::from_secs(5))
        .expect("the kernel ends with its front end, its last words lost");
    assert!(status.success(), "{status}");
}

/// A kernel killed outright (a front end's restart of a kernel that does not answer) gets
/// no chance to stop its jq worker: the worker, busy in a filter that never ends, sees its
/// pipe close and goes too.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_killed_kernel_takes_its_busy_jq_worker_along() {
    let mut k = Kernel::start().await;
    let id = k.fe.execute_with("last(range(1e18))", json!({})).await;
    let want = id.clone();
    k.fe.iopub_until(|m| m.msg_type() == "execute_input" && m.parent_id() == want)
        .await
        .expect("the cell to start");
    let pid = k.pid();
    let deadline = Instant::now() + frontend::WAIT;
    let worker = loop {
        let found: Vec<u32> = procs::children(pid)
            .into_iter()
            .filter(|p| procs::cmdline(*p).contains("jq-worker"))
            .collect();
        if let [worker] = found[..] {
            break worker;
        }
        assert!(Instant::now() < deadline, "no jq worker: {found:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    k.signal(libc::SIGKILL);
    assert!(k.wait_exit(Duration::from_secs(5)).is_some());
    if let Err(left) = wait_all_gone(&[worker], Duration::from_secs(5)) {
        frontend::signal(worker, libc::SIGKILL);
        panic!("the busy worker outlived its killed kernel: {left:?}");
    }
}
