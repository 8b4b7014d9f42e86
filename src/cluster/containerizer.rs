//! The agents' containers, as Mesos's containerizer keeps them: the executor container of
//! each task run (top level), the nested containers under it (the tasks of a pod, and what
//! LAUNCH_NESTED_CONTAINER and LAUNCH_NESTED_CONTAINER_SESSION start), and standalone
//! containers (LAUNCH_CONTAINER without a parent). Nested and standalone containers are
//! real processes in their own sandboxes; a nested container's termination is kept until
//! REMOVE_NESTED_CONTAINER, as Mesos checkpoints it in its runtime directory.
//!
//! The HTTP side (validation, answers, RecordIO framing) is `container_calls.rs`; what
//! `/containers` and GET_CONTAINERS show of the executors' containers is `containers.rs`.

use bytes::Bytes;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::{broadcast, mpsc, watch};

// The vocabulary's ContainerID (its chain of parents; `Display` is Mesos's `stringify`,
// the key containers are kept under here).
pub use crate::mesos::v1::ContainerId;

/// Reads `{"value": "x", "parent": {...}}`; `None` when it is not a ContainerID.
pub fn container_id(v: &Value) -> Option<ContainerId> {
    serde_json::from_value(v.clone()).ok()
}

/// The values below the root, outermost first.
fn below_root(id: &ContainerId) -> Vec<&str> {
    let mut chain = Vec::new();
    let mut at = id;
    while let Some(p) = &at.parent {
        chain.push(at.value.as_str());
        at = p;
    }
    chain.reverse();
    chain
}

/// Mesos's `getSandboxPath`: `<root sandbox>/containers/<child>/containers/<grandchild>`.
pub fn sandbox_under(id: &ContainerId, root_sandbox: &Path) -> PathBuf {
    let mut path = root_sandbox.to_path_buf();
    for v in below_root(id) {
        path = path.join("containers").join(v);
    }
    path
}

/// Mesos's ContainerID checks (common ID rules, then its own), with its wording.
pub fn validate_id(id: &ContainerId) -> Result<(), String> {
    let v = &id.value;
    if v.is_empty() {
        return Err("ID must not be empty".into());
    }
    if v.len() > 255 {
        return Err("ID must not be greater than 255 characters".into());
    }
    if v == "." || v == ".." {
        return Err(format!("'{v}' is disallowed"));
    }
    if v.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!("'{v}' contains invalid characters"));
    }
    if v.len() > 242 {
        return Err(format!(
            "'ContainerID.value' '{v}' exceeds the maximum length (242)"
        ));
    }
    if v.contains(['.', ' ']) {
        return Err(format!(
            "'ContainerID.value' '{v}' contains invalid characters"
        ));
    }
    if let Some(p) = &id.parent {
        validate_id(p).map_err(|e| format!("'ContainerID.parent' is invalid: {e}"))?;
    }
    Ok(())
}

/// Who a container belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    /// The container of a task run (a command task's, or a pod's default executor).
    Executor {
        framework_id: String,
        executor_id: String,
        executor_name: String,
    },
    /// Under another container: a pod's task, or one launched through the agent's API.
    Nested,
    /// LAUNCH_CONTAINER without a parent.
    Standalone,
}

/// A piece of a container's output, as the IO switchboard hands it out.
#[derive(Debug, Clone)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
    /// Both pipes closed and the process was reaped.
    End,
}

/// How a container ended (Mesos's ContainerTermination: the raw wait status).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Termination {
    pub status: Option<i32>,
}

struct Live {
    id: ContainerId,
    agent_id: String,
    sandbox: PathBuf,
    owner: Owner,
    /// The process group leader; `None` for a pod's executor (no process of its own here).
    pid: Option<u32>,
    /// DEBUG containers (sessions) have an IO switchboard: output can be attached.
    output: Option<broadcast::Sender<Output>>,
    /// Their stdin; one input connection at a time.
    input: Option<mpsc::UnboundedSender<Bytes>>,
    input_attached: bool,
    done: watch::Receiver<Option<Termination>>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<String, Live>,
    /// Terminations of nested containers, kept until they are removed.
    ended: HashMap<String, (String, Termination, PathBuf)>,
}

/// Every container of every agent of one cluster.
#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

/// What to run in a container launched through the API.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub shell: bool,
    pub value: Option<String>,
    pub arguments: Vec<String>,
    pub env: Vec<(String, String)>,
    /// LAUNCH_NESTED_CONTAINER_SESSION: output streamed, working directory the parent's.
    pub debug: bool,
}

/// Why a launch through the API did not start.
#[derive(Debug, PartialEq)]
pub enum LaunchError {
    /// Already running: Mesos answers 202.
    AlreadyLaunched,
    /// A launch failure, answered 400 with this message.
    Failed(String),
}

/// A view of a live container for GET_CONTAINERS.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: ContainerId,
    pub owner: Owner,
    /// Its process (group), if it has one of its own.
    pub pid: Option<u32>,
}

/// An opened output stream: the records so far cannot be replayed; a session subscribes
/// before its process starts, so it misses nothing.
pub type OutputStream = broadcast::Receiver<Output>;

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A task run's container (called when its process starts; `pid` None for a pod's
    /// executor). Registering again only updates the pid.
    pub fn add_executor(
        &self,
        agent_id: &str,
        id: ContainerId,
        sandbox: PathBuf,
        owner: Owner,
        pid: Option<u32>,
    ) -> watch::Sender<Option<Termination>> {
        let (tx, rx) = watch::channel(None);
        let mut inner = self.lock();
        let key = id.to_string();
        if let Some(live) = inner.live.get_mut(&key) {
            if pid.is_some() {
                live.pid = pid;
            }
            return tx;
        }
        inner.ended.remove(&key);
        inner.live.insert(
            key,
            Live {
                id,
                agent_id: agent_id.to_string(),
                sandbox,
                owner,
                pid,
                output: None,
                input: None,
                input_attached: false,
                done: rx,
            },
        );
        tx
    }

    /// A container's process ended (or a pod executor's last task did).
    pub fn ended(&self, id: &ContainerId, termination: Termination) {
        let mut inner = self.lock();
        let key = id.to_string();
        if let Some(live) = inner.live.remove(&key) {
            if id.parent.is_some() {
                inner
                    .ended
                    .insert(key, (live.agent_id, termination, live.sandbox));
            }
        }
    }

    /// Whether a container has live nested containers.
    pub fn has_children(&self, id: &ContainerId) -> bool {
        let inner = self.lock();
        inner
            .live
            .values()
            .any(|l| l.id.parent.as_deref() == Some(id))
    }

    pub fn is_live(&self, agent_id: &str, id: &ContainerId) -> bool {
        self.lock()
            .live
            .get(&id.to_string())
            .is_some_and(|l| l.agent_id == agent_id)
    }

    /// Live containers of an agent.
    pub fn listed(&self, agent_id: &str) -> Vec<Listed> {
        let inner = self.lock();
        let mut out: Vec<Listed> = inner
            .live
            .values()
            .filter(|l| l.agent_id == agent_id)
            .map(|l| Listed {
                id: l.id.clone(),
                owner: l.owner.clone(),
                pid: l.pid,
            })
            .collect();
        out.sort_by_key(|l| l.id.to_string());
        out
    }

    /// Starts a nested or standalone container's process. Mesos's order: an existing
    /// container is ALREADY_LAUNCHED, then the parent must exist and the sandbox be made.
    pub fn launch(
        self: &Arc<Self>,
        agent_id: &str,
        id: &ContainerId,
        standalone_sandbox: Option<PathBuf>,
        what: Launch,
    ) -> Result<Option<OutputStream>, LaunchError> {
        let (sandbox, workdir) = {
            let inner = self.lock();
            if inner.live.contains_key(&id.to_string()) {
                return Err(LaunchError::AlreadyLaunched);
            }
            match &id.parent {
                Some(parent) => {
                    let Some(p) = inner
                        .live
                        .get(&parent.to_string())
                        .filter(|p| p.agent_id == agent_id)
                    else {
                        return Err(LaunchError::Failed(format!(
                            "Parent container {} does not exist",
                            parent
                        )));
                    };
                    let Some(root) = inner.live.get(&id.root().to_string()) else {
                        return Err(LaunchError::Failed(format!(
                            "Unexpected empty sandbox directory for root container {}",
                            id.root()
                        )));
                    };
                    let sandbox = sandbox_under(id, &root.sandbox);
                    // A DEBUG container works in its parent's sandbox (where the task's
                    // files are), as `mesos task exec` users expect.
                    let workdir = if what.debug {
                        p.sandbox.clone()
                    } else {
                        sandbox.clone()
                    };
                    (sandbox, workdir)
                }
                None => {
                    let s = standalone_sandbox.unwrap_or_default();
                    (s.clone(), s)
                }
            }
        };
        std::fs::create_dir_all(&sandbox).map_err(|e| {
            LaunchError::Failed(format!(
                "Failed to create nested sandbox '{}': {e}",
                sandbox.display()
            ))
        })?;
        let mut cmd = match (&what.value, what.shell) {
            (v, true) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(v.as_deref().unwrap_or(""));
                c
            }
            (Some(v), false) => {
                let mut c = Command::new(v);
                if let Some(first) = what.arguments.first() {
                    c.arg0(first);
                }
                c.args(what.arguments.iter().skip(1));
                c
            }
            (None, false) => {
                return Err(LaunchError::Failed(
                    "Failed to launch container: the command has no value".into(),
                ))
            }
        };
        cmd.current_dir(&workdir)
            .env("MESOS_SANDBOX", &workdir)
            .env("MESOS_CONTAINER_ID", &id.value)
            .envs(what.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .process_group(0)
            .kill_on_drop(true);
        let (stdout, stderr) = if what.debug {
            (Stdio::piped(), Stdio::piped())
        } else {
            let out = std::fs::File::create(sandbox.join("stdout"));
            let err = std::fs::File::create(sandbox.join("stderr"));
            match (out, err) {
                (Ok(o), Ok(e)) => (Stdio::from(o), Stdio::from(e)),
                _ => {
                    return Err(LaunchError::Failed(
                        "Failed to create stdout/stderr in the sandbox".into(),
                    ))
                }
            }
        };
        cmd.stdout(stdout).stderr(stderr).stdin(if what.debug {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .spawn()
            .map_err(|e| LaunchError::Failed(format!("Failed to fork: {e}")))?;
        let pid = child.id();
        let (done_tx, done_rx) = watch::channel(None);
        let (output, stream) = if what.debug {
            let (tx, rx) = broadcast::channel(4096);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let input = child.stdin.take().map(|mut stdin| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
            tokio::spawn(async move {
                while let Some(chunk) = rx.recv().await {
                    // An empty chunk is EOF, as an empty DATA record is in Mesos.
                    if chunk.is_empty() || stdin.write_all(&chunk).await.is_err() {
                        break;
                    }
                    let _ = stdin.flush().await;
                }
            });
            tx
        });
        self.lock().live.insert(
            id.to_string(),
            Live {
                id: id.clone(),
                agent_id: agent_id.to_string(),
                sandbox,
                owner: match id.parent {
                    Some(_) => Owner::Nested,
                    None => Owner::Standalone,
                },
                pid,
                output: output.clone(),
                input,
                input_attached: false,
                done: done_rx,
            },
        );
        let pumps = match &output {
            Some(tx) => {
                let out = child.stdout.take().map(|r| pump(r, tx.clone(), true));
                let err = child.stderr.take().map(|r| pump(r, tx.clone(), false));
                vec![out, err].into_iter().flatten().collect()
            }
            None => Vec::new(),
        };
        let registry = Arc::clone(self);
        let id = id.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            for p in pumps {
                let _ = p.await;
            }
            if let Some(pid) = pid {
                signal_group(pid, libc::SIGKILL);
            }
            let raw = status
                .ok()
                .map(std::os::unix::process::ExitStatusExt::into_raw);
            let termination = Termination { status: raw };
            registry.ended(&id, termination);
            let _ = done_tx.send(Some(termination));
            if let Some(tx) = output {
                let _ = tx.send(Output::End);
            }
        });
        Ok(stream)
    }

    /// A container's termination: waits while it runs. `None`: unknown (Mesos: 404).
    pub async fn wait(&self, agent_id: &str, id: &ContainerId) -> Option<Termination> {
        let mut rx = {
            let inner = self.lock();
            match inner.live.get(&id.to_string()) {
                Some(l) if l.agent_id == agent_id => l.done.clone(),
                _ => {
                    return inner
                        .ended
                        .get(&id.to_string())
                        .filter(|(a, _, _)| a == agent_id)
                        .map(|(_, t, _)| *t)
                }
            }
        };
        loop {
            if let Some(t) = *rx.borrow_and_update() {
                return Some(t);
            }
            if rx.changed().await.is_err() {
                return self
                    .lock()
                    .ended
                    .get(&id.to_string())
                    .map(|(_, t, _)| *t)
                    .or(Some(Termination { status: None }));
            }
        }
    }

    /// Sends a signal to a live container's processes (a pod executor's: to its nested
    /// containers). `false`: unknown, as Mesos's containerizer answers.
    pub fn kill(&self, agent_id: &str, id: &ContainerId, signal: i32) -> bool {
        let inner = self.lock();
        let Some(live) = inner
            .live
            .get(&id.to_string())
            .filter(|l| l.agent_id == agent_id)
        else {
            return false;
        };
        match live.pid {
            Some(pid) => signal_group(pid, signal),
            None => {
                for child in inner
                    .live
                    .values()
                    .filter(|l| l.id.parent.as_deref() == Some(&live.id))
                {
                    if let Some(pid) = child.pid {
                        signal_group(pid, signal);
                    }
                }
            }
        }
        true
    }

    /// REMOVE_(NESTED_)CONTAINER: forgets a terminated container and removes its sandbox.
    pub fn remove(&self, agent_id: &str, id: &ContainerId) -> Result<(), String> {
        let mut inner = self.lock();
        if inner
            .live
            .get(&id.to_string())
            .is_some_and(|l| l.agent_id == agent_id)
        {
            return Err(if id.parent.is_some() {
                "Nested container has not terminated yet".into()
            } else {
                "Container has not terminated yet".into()
            });
        }
        if id.parent.is_some() && !inner.live.contains_key(&id.root().to_string()) {
            return Err("Unknown root container".into());
        }
        if let Some((_, _, sandbox)) = inner.ended.remove(&id.to_string()) {
            if let Err(e) = std::fs::remove_dir_all(&sandbox) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(format!("Failed to remove the sandbox directory: {e}"));
                }
            }
        }
        Ok(())
    }

    /// ATTACH_CONTAINER_OUTPUT: follows a DEBUG container's output from now on.
    pub fn attach_output(&self, agent_id: &str, id: &ContainerId) -> Result<OutputStream, String> {
        let inner = self.lock();
        let Some(live) = inner
            .live
            .get(&id.to_string())
            .filter(|l| l.agent_id == agent_id)
        else {
            return Err(format!("Unknown container {id}"));
        };
        live.output
            .as_ref()
            .map(broadcast::Sender::subscribe)
            .ok_or_else(|| "I/O switchboard server was disabled for this container".into())
    }

    /// ATTACH_CONTAINER_INPUT: the stdin of a DEBUG container, one connection at a time.
    pub fn attach_input(
        &self,
        agent_id: &str,
        id: &ContainerId,
    ) -> Result<mpsc::UnboundedSender<Bytes>, (u16, String)> {
        let mut inner = self.lock();
        let Some(live) = inner
            .live
            .get_mut(&id.to_string())
            .filter(|l| l.agent_id == agent_id)
        else {
            return Err((500, format!("Unknown container {}", id)));
        };
        let Some(input) = live.input.clone() else {
            return Err((
                500,
                "I/O switchboard server was disabled for this container".into(),
            ));
        };
        if live.input_attached {
            return Err((409, "Multiple input connections are not allowed".into()));
        }
        live.input_attached = true;
        Ok(input)
    }

    /// The input connection closed.
    pub fn detach_input(&self, id: &ContainerId) {
        if let Some(live) = self.lock().live.get_mut(&id.to_string()) {
            live.input_attached = false;
        }
    }

    /// Every process of every API-launched container is killed (the cluster stops).
    pub fn shutdown(&self) {
        let inner = self.lock();
        for l in inner.live.values() {
            if l.owner != Owner::Nested && l.owner != Owner::Standalone {
                continue;
            }
            if let Some(pid) = l.pid {
                signal_group(pid, libc::SIGKILL);
            }
        }
    }

    /// Forgets an agent's containers (the agent was shut down or lost its processes).
    pub fn forget_agent(&self, agent_id: &str) {
        let mut inner = self.lock();
        let gone: Vec<String> = inner
            .live
            .iter()
            .filter(|(_, l)| l.agent_id == agent_id)
            .map(|(k, _)| k.clone())
            .collect();
        for key in gone {
            if let Some(l) = inner.live.remove(&key) {
                if let (Some(pid), Owner::Nested | Owner::Standalone) = (l.pid, &l.owner) {
                    signal_group(pid, libc::SIGKILL);
                }
            }
        }
        inner.ended.retain(|_, (a, _, _)| a != agent_id);
    }
}

fn pump(
    mut reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    tx: broadcast::Sender<Output>,
    stdout: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = Bytes::copy_from_slice(&buf[..n]);
                    let _ = tx.send(if stdout {
                        Output::Stdout(chunk)
                    } else {
                        Output::Stderr(chunk)
                    });
                }
            }
        }
    })
}

pub fn signal_group(pid: u32, sig: i32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_chain_validate_and_place_sandboxes() {
        let root = ContainerId::new("r");
        let child = ContainerId::nested(&root, "c");
        let grand = ContainerId::nested(&child, "g");
        assert_eq!(grand.to_string(), "r.c.g");
        assert_eq!(grand.root(), &root);
        assert_eq!(
            sandbox_under(&grand, Path::new("/s")),
            PathBuf::from("/s/containers/c/containers/g")
        );
        assert_eq!(
            container_id(&serde_json::to_value(&grand).unwrap()),
            Some(grand)
        );
        assert!(validate_id(&ContainerId::new("a.b"))
            .is_err_and(|e| e == "'ContainerID.value' 'a.b' contains invalid characters"));
        let bad_parent = ContainerId::nested(&ContainerId::new(""), "x");
        assert_eq!(
            validate_id(&bad_parent),
            Err("'ContainerID.parent' is invalid: ID must not be empty".into())
        );
    }

    #[tokio::test]
    async fn a_nested_session_streams_output_and_keeps_its_termination() {
        let dir = std::env::temp_dir().join(format!("mk-containers-{}", std::process::id()));
        let reg = Arc::new(Registry::default());
        let parent = ContainerId::new("p");
        let _tx = reg.add_executor("a", parent.clone(), dir.clone(), Owner::Nested, None);
        let child = ContainerId::nested(&parent, "s");
        let what = Launch {
            shell: true,
            value: Some("echo hi; exit 3".into()),
            debug: true,
            ..Launch::default()
        };
        let mut out = reg
            .launch("a", &child, None, what.clone())
            .ok()
            .flatten()
            .expect("a session stream");
        let mut text = Vec::new();
        loop {
            match out.recv().await {
                Ok(Output::Stdout(b)) => text.extend_from_slice(&b),
                Ok(Output::End) | Err(_) => break,
                Ok(Output::Stderr(_)) => {}
            }
        }
        assert_eq!(text, b"hi\n");
        let t = reg.wait("a", &child).await;
        assert_eq!(
            t,
            Some(Termination {
                status: Some(3 << 8)
            })
        );
        assert_eq!(
            reg.launch(
                "a",
                &ContainerId::nested(&ContainerId::new("nope"), "x"),
                None,
                what
            )
            .err(),
            Some(LaunchError::Failed(
                "Parent container nope does not exist".into()
            ))
        );
        assert!(reg.remove("a", &child).is_ok());
        assert_eq!(reg.wait("a", &child).await, None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
