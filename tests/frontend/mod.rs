//! A Jupyter front end for tests, written from the messaging protocol rather than from the
//! kernel's own wire code (so a mistake there is not repeated here): it writes a
//! connection file, starts the `mesos-kernel` binary on it, and speaks ZMQ as
//! jupyter_client does: DEALER sockets for shell, control and stdin (shell and stdin with
//! one identity, so input requests find their way), SUB for iopub, REQ for the heartbeat,
//! every message signed with HMAC-SHA256 and the connection key, every message from the
//! kernel checked against it.
#![allow(dead_code)]

use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use zeromq::{
    DealerSocket, ReqSocket, Socket, SocketOptions, SocketRecv, SocketSend, SubSocket, ZmqMessage,
};

pub const DELIMITER: &[u8] = b"<IDS|MSG>";
/// How long a test waits for something the kernel should do at once.
pub const WAIT: Duration = Duration::from_secs(15);

/// A message as the front end sees it.
#[derive(Debug, Clone)]
pub struct Msg {
    pub header: Value,
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
}

impl Msg {
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// The msg_id of the request this answers.
    pub fn parent_id(&self) -> &str {
        self.parent_header["msg_id"].as_str().unwrap_or("")
    }

    pub fn session(&self) -> &str {
        self.header["session"].as_str().unwrap_or("")
    }
}

pub fn sign(key: &[u8], parts: &[&[u8]]) -> String {
    if key.is_empty() {
        return String::new();
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    for p in parts {
        mac.update(p);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Shell,
    Control,
    Stdin,
}

/// The ports and key of one kernel, and the connection file that says them.
#[derive(Debug, Clone)]
pub struct Connection {
    pub dir: PathBuf,
    pub file: PathBuf,
    pub key: String,
    pub shell: u16,
    pub iopub: u16,
    pub stdin: u16,
    pub control: u16,
    pub hb: u16,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

impl Connection {
    /// A new connection file in a directory of its own under the system's temp dir.
    pub fn new() -> Connection {
        let dir = std::env::temp_dir().join(format!(
            "mesos-kernel-frontend-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let c = Connection {
            file: dir.join("kernel.json"),
            dir,
            key: uuid::Uuid::new_v4().to_string(),
            shell: free_port(),
            iopub: free_port(),
            stdin: free_port(),
            control: free_port(),
            hb: free_port(),
        };
        let text = json!({
            "transport": "tcp", "ip": "127.0.0.1", "key": c.key,
            "signature_scheme": "hmac-sha256", "kernel_name": "mesos",
            "shell_port": c.shell, "iopub_port": c.iopub, "stdin_port": c.stdin,
            "control_port": c.control, "hb_port": c.hb,
        });
        std::fs::write(&c.file, text.to_string()).expect("the connection file");
        c
    }

    fn endpoint(port: u16) -> String {
        format!("tcp://127.0.0.1:{port}")
    }
}

/// The kernel binary as cargo built it for these tests.
pub fn kernel_binary() -> &'static str {
    env!("CARGO_BIN_EXE_mesos-kernel")
}

/// A command that starts the kernel on `conn`, with its log in `conn.dir/kernel.log`
/// and no configured master (the embedded cluster).
pub fn kernel_command(conn: &Connection) -> Command {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(conn.dir.join("kernel.log"))
        .expect("the kernel's log file");
    let mut cmd = Command::new(kernel_binary());
    cmd.args(["kernel", "--connection-file"])
        .arg(&conn.file)
        .env_remove("MESOS_MASTER")
        .env_remove("JPY_PARENT_PID")
        .env("MESOS_KERNEL_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log));
    cmd
}

/// The sockets of one front end.
pub struct Frontend {
    pub key: Vec<u8>,
    /// This front end's session id (the kernel's replies carry the kernel's own).
    pub session: String,
    pub shell: DealerSocket,
    pub control: DealerSocket,
    pub stdin: DealerSocket,
    pub iopub: SubSocket,
    pub hb: ReqSocket,
    /// The iopub_welcome this front end got when it subscribed.
    pub welcome: Msg,
}

async fn connect<S: Socket>(mut socket: S, port: u16) -> S {
    tokio::time::timeout(WAIT, socket.connect(&Connection::endpoint(port)))
        .await
        .expect("connecting in time")
        .expect("connecting");
    socket
}

impl Frontend {
    /// Connects to the kernel of `conn` and waits until it is ready: an iopub_welcome for
    /// the subscription, and a kernel_info_reply on shell.
    pub async fn connect(conn: &Connection) -> Frontend {
        let session = uuid::Uuid::new_v4().to_string();
        let identity = || {
            let mut o = SocketOptions::default();
            o.peer_identity(
                zeromq::util::PeerIdentity::try_from(session.clone().into_bytes())
                    .expect("a session id is a valid identity"),
            );
            o
        };
        let shell = connect(DealerSocket::with_options(identity()), conn.shell).await;
        let stdin = connect(DealerSocket::with_options(identity()), conn.stdin).await;
        let control = connect(DealerSocket::new(), conn.control).await;
        let hb = connect(ReqSocket::new(), conn.hb).await;
        let mut iopub = connect(SubSocket::new(), conn.iopub).await;
        iopub.subscribe("").await.expect("subscribing");
        let mut fe = Frontend {
            key: conn.key.clone().into_bytes(),
            session,
            shell,
            control,
            stdin,
            iopub,
            hb,
            welcome: Msg {
                header: json!({}),
                parent_header: json!({}),
                metadata: json!({}),
                content: json!({}),
            },
        };
        fe.welcome = fe
            .iopub_until(|m| m.msg_type() == "iopub_welcome")
            .await
            .expect("an iopub_welcome");
        let id = fe
            .send(Channel::Shell, "kernel_info_request", json!({}))
            .await;
        let reply = fe.reply(Channel::Shell).await.expect("a kernel_info_reply");
        assert_eq!(reply.parent_id(), id);
        fe
    }

    /// A request's frames, signed; returns them with the request's msg_id.
    pub fn frames(&self, msg_type: &str, content: Value) -> (String, Vec<Bytes>) {
        let msg_id = uuid::Uuid::new_v4().to_string();
        let header = json!({
            "msg_id": msg_id, "session": self.session, "username": "test",
            "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "msg_type": msg_type, "version": "5.4",
        });
        (msg_id, self.frames_of(&header, &content))
    }

    pub fn frames_of(&self, header: &Value, content: &Value) -> Vec<Bytes> {
        let parts: Vec<Vec<u8>> = [header, &json!({}), &json!({}), content]
            .iter()
            .map(|v| serde_json::to_vec(v).expect("JSON"))
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let signature = sign(&self.key, &refs);
        let mut frames = vec![Bytes::from_static(DELIMITER), Bytes::from(signature)];
        frames.extend(parts.into_iter().map(Bytes::from));
        frames
    }

    fn socket(&mut self, channel: Channel) -> &mut DealerSocket {
        match channel {
            Channel::Shell => &mut self.shell,
            Channel::Control => &mut self.control,
            Channel::Stdin => &mut self.stdin,
        }
    }

    pub async fn send_frames(&mut self, channel: Channel, frames: Vec<Bytes>) {
        let z = ZmqMessage::try_from(frames).expect("frames");
        self.socket(channel).send(z).await.expect("sending");
    }

    /// Sends a request; returns its msg_id.
    pub async fn send(&mut self, channel: Channel, msg_type: &str, content: Value) -> String {
        let (id, frames) = self.frames(msg_type, content);
        self.send_frames(channel, frames).await;
        id
    }

    /// Parses and verifies a message from the kernel (a wrong signature fails the test).
    fn parse(&self, frames: Vec<Bytes>) -> Msg {
        let delim = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .unwrap_or_else(|| panic!("no delimiter in {frames:?}"));
        let rest = &frames[delim + 1..];
        assert!(rest.len() >= 5, "short message {frames:?}");
        let parts: Vec<&[u8]> = rest[1..5].iter().map(|b| b.as_ref()).collect();
        assert_eq!(
            rest[0].as_ref(),
            sign(&self.key, &parts).as_bytes(),
            "the kernel's signature does not match"
        );
        let json = |b: &[u8]| serde_json::from_slice::<Value>(b).expect("JSON frames");
        Msg {
            header: json(parts[0]),
            parent_header: json(parts[1]),
            metadata: json(parts[2]),
            content: json(parts[3]),
        }
    }

    /// The next message on a DEALER channel, or None after `timeout`.
    pub async fn recv_within(&mut self, channel: Channel, timeout: Duration) -> Option<Msg> {
        let z = tokio::time::timeout(timeout, self.socket(channel).recv())
            .await
            .ok()?
            .expect("receiving");
        Some(self.parse(z.into_vec()))
    }

    pub async fn reply(&mut self, channel: Channel) -> Option<Msg> {
        self.recv_within(channel, WAIT).await
    }

    pub async fn iopub_within(&mut self, timeout: Duration) -> Option<Msg> {
        let z = tokio::time::timeout(timeout, self.iopub.recv())
            .await
            .ok()?
            .expect("receiving on iopub");
        Some(self.parse(z.into_vec()))
    }

    /// iopub messages up to and including the first that `done` accepts.
    pub async fn iopub_until(&mut self, done: impl Fn(&Msg) -> bool) -> Option<Msg> {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let m = self.iopub_within(left).await?;
            if done(&m) {
                return Some(m);
            }
        }
    }

    /// The iopub messages of request `id`, from its first to its `idle`.
    pub async fn iopub_of(&mut self, id: &str) -> Vec<Msg> {
        let deadline = Instant::now() + WAIT;
        let mut out = Vec::new();
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no idle for {id}; got {out:#?}"));
            let m = self
                .iopub_within(left)
                .await
                .unwrap_or_else(|| panic!("no idle for {id}; got {out:#?}"));
            if m.parent_id() != id {
                continue;
            }
            let idle = m.msg_type() == "status" && m.content["execution_state"] == "idle";
            out.push(m);
            if idle {
                return out;
            }
        }
    }

    /// Sends an execute_request with `extra` content fields over the defaults.
    pub async fn execute_with(&mut self, code: &str, extra: Value) -> String {
        let mut content = json!({
            "code": code, "silent": false, "store_history": true,
            "user_expressions": {}, "allow_stdin": false, "stop_on_error": true,
        });
        if let (Some(c), Some(e)) = (content.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        self.send(Channel::Shell, "execute_request", content).await
    }

    /// Runs a cell: its execute_reply and its iopub messages (busy to idle).
    pub async fn execute(&mut self, code: &str) -> (Msg, Vec<Msg>) {
        let id = self.execute_with(code, json!({})).await;
        let iopub = self.iopub_of(&id).await;
        let reply = self.reply(Channel::Shell).await.expect("an execute_reply");
        assert_eq!(reply.parent_id(), id);
        (reply, iopub)
    }

    /// Runs a cell that must succeed; returns the text/plain of its result ("" for none).
    pub async fn ok(&mut self, code: &str) -> String {
        let (reply, iopub) = self.execute(code).await;
        assert_eq!(
            reply.content["status"], "ok",
            "{code}: {:#?}",
            reply.content
        );
        iopub
            .iter()
            .rev()
            .find(|m| m.msg_type() == "execute_result")
            .and_then(|m| m.content["data"]["text/plain"].as_str())
            .unwrap_or("")
            .to_string()
    }

    /// The heartbeat's echo of `ping`, or None after `timeout`.
    pub async fn beat(&mut self, ping: &[u8], timeout: Duration) -> Option<Vec<u8>> {
        self.hb
            .send(ZmqMessage::from(ping.to_vec()))
            .await
            .expect("sending a heartbeat");
        let z = tokio::time::timeout(timeout, self.hb.recv()).await.ok()?;
        z.ok()?.get(0).map(|b| b.to_vec())
    }
}

/// A kernel process of these tests and a front end connected to it. Dropping it kills the
/// kernel (if it still runs) and removes its directory.
pub struct Kernel {
    pub conn: Connection,
    pub child: Child,
    pub fe: Frontend,
}

/// Starts a kernel with the command `make` gives for a new connection file, and connects
/// to it. A free port can be taken by someone else (another test's outgoing connection)
/// between the choice and the kernel's bind, as with jupyter_client: the kernel then
/// exits saying so, and it is tried again on other ports.
pub async fn start_on(make: impl Fn(&Connection) -> Command) -> (Connection, Child, Frontend) {
    for _ in 0..5 {
        let conn = Connection::new();
        let mut child = make(&conn).spawn().expect("starting the kernel");
        match connect_while_running(&conn, &mut child).await {
            Some(fe) => return (conn, child, fe),
            None => {
                let log = std::fs::read_to_string(conn.dir.join("kernel.log")).unwrap_or_default();
                remove_dir(&conn.dir);
                assert!(log.contains("cannot bind"), "the kernel exited: {log}");
            }
        }
    }
    panic!("no free ports for a kernel in five tries");
}

/// Connects to the kernel of `conn`, or None if `child` exits first.
pub async fn connect_while_running(conn: &Connection, child: &mut Child) -> Option<Frontend> {
    let exited = async {
        while let Ok(None) = child.try_wait() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        fe = Frontend::connect(conn) => Some(fe),
        _ = exited => None,
    }
}

impl Kernel {
    pub async fn start() -> Kernel {
        Self::start_with(|_| {}).await
    }

    /// Starts a kernel after `adjust` changed its command (environment, say).
    pub async fn start_with(adjust: impl Fn(&mut Command)) -> Kernel {
        let (conn, child, fe) = start_on(|conn| {
            let mut cmd = kernel_command(conn);
            adjust(&mut cmd);
            cmd
        })
        .await;
        Kernel { conn, child, fe }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.conn.dir.join("kernel.log")).unwrap_or_default()
    }

    /// Waits for the kernel process to exit; its status, or None after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        wait_exit(&mut self.child, timeout)
    }

    pub fn signal(&self, sig: i32) {
        signal(self.pid(), sig);
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        remove_dir(&self.conn.dir);
    }
}

pub fn remove_dir(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn signal(pid: u32, sig: i32) {
    let pid = libc::pid_t::try_from(pid).expect("a pid");
    // SAFETY: kill(2) takes two integers and touches no memory.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Content of the messages of `msgs` of one type.
pub fn of_type<'a>(msgs: &'a [Msg], msg_type: &str) -> Vec<&'a Msg> {
    msgs.iter().filter(|m| m.msg_type() == msg_type).collect()
}

/// The message types of `msgs`, with each status's state (`status:busy`).
pub fn types(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .map(|m| match m.msg_type() {
            "status" => format!(
                "status:{}",
                m.content["execution_state"].as_str().unwrap_or("")
            ),
            t => t.to_string(),
        })
        .collect()
}
