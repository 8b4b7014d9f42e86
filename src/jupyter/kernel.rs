//! The kernel core: binds the five sockets, runs one task per channel, and dispatches
//! requests to the interpreter. Busy/idle, the execution counter, history, interrupts,
//! `stop_on_error` and shutdown are handled here, once, for any interpreter.

use crate::jupyter::connection::ConnectionInfo;
use crate::jupyter::history::History;
use crate::jupyter::interpreter::{CellError, Completeness, ExecuteContext, Interpreter};
use crate::jupyter::publisher::{Outgoing, Publisher};
use crate::jupyter::stdin::{StdinBroker, StdinHandle};
use crate::jupyter::wire::{Header, Message, Signer, PROTOCOL_VERSION};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use zeromq::{
    RepSocket, RouterRecvHalf, RouterSendHalf, RouterSocket, Socket, SocketRecv, SocketSend,
    XPubSocket, ZmqMessage,
};

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("cannot bind the {channel} socket on {endpoint}: {source}")]
    Bind {
        channel: &'static str,
        endpoint: String,
        source: zeromq::ZmqError,
    },
}

/// State shared by the control task, the signal handler and the executor.
struct Shared {
    /// The token of the running execution; replaced for each execute_request.
    current: Mutex<CancellationToken>,
    shutdown: CancellationToken,
    session: String,
}

impl Shared {
    fn interrupt(&self) {
        if let Ok(token) = self.current.lock() {
            token.cancel();
        }
    }

    fn new_execution(&self) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut current) = self.current.lock() {
            *current = token.clone();
        }
        token
    }
}

/// Runs the kernel until a shutdown_request. Returns once the last messages are sent.
pub async fn run<I: Interpreter>(info: ConnectionInfo, interpreter: I) -> Result<(), KernelError> {
    let signer = Signer::new(&info.key);
    let shared = Arc::new(Shared {
        current: Mutex::new(CancellationToken::new()),
        shutdown: CancellationToken::new(),
        session: uuid::Uuid::new_v4().to_string(),
    });

    let mut heartbeat = RepSocket::new();
    bind(&mut heartbeat, "heartbeat", &info.endpoint(info.hb_port)).await?;
    let mut iopub = XPubSocket::new();
    bind(&mut iopub, "iopub", &info.endpoint(info.iopub_port)).await?;
    let mut shell = RouterSocket::new();
    bind(&mut shell, "shell", &info.endpoint(info.shell_port)).await?;
    let mut control = RouterSocket::new();
    bind(&mut control, "control", &info.endpoint(info.control_port)).await?;
    let mut stdin = RouterSocket::new();
    bind(&mut stdin, "stdin", &info.endpoint(info.stdin_port)).await?;
    info!(ip = %info.ip, shell = info.shell_port, "kernel listening");

    let (iopub_tx, iopub_rx) = mpsc::unbounded_channel();
    tokio::spawn(heartbeat_loop(heartbeat));
    tokio::spawn(iopub_loop(
        iopub,
        iopub_rx,
        signer.clone(),
        shared.session.clone(),
    ));

    let (shell_send, shell_recv) = shell.split();
    let (shell_out_tx, shell_out_rx) = mpsc::unbounded_channel();
    tokio::spawn(router_send_loop(
        "shell",
        shell_send,
        shell_out_rx,
        signer.clone(),
    ));
    let (queue_tx, queue_rx) = mpsc::unbounded_channel();
    tokio::spawn(router_recv_loop(
        "shell",
        shell_recv,
        queue_tx,
        signer.clone(),
        Arrived::now,
    ));

    let broker = StdinBroker::default();
    let (stdin_send, stdin_recv) = stdin.split();
    let (stdin_out_tx, stdin_out_rx) = mpsc::unbounded_channel();
    tokio::spawn(router_send_loop(
        "stdin",
        stdin_send,
        stdin_out_rx,
        signer.clone(),
    ));
    let (stdin_in_tx, stdin_in_rx) = mpsc::unbounded_channel();
    tokio::spawn(router_recv_loop(
        "stdin",
        stdin_recv,
        stdin_in_tx,
        signer.clone(),
        |msg| msg,
    ));
    tokio::spawn(stdin_reply_loop(stdin_in_rx, broker.clone()));

    let kernel_info = kernel_info_content(&interpreter);
    tokio::spawn(control_loop(
        control,
        signer.clone(),
        shared.clone(),
        iopub_tx.clone(),
        kernel_info.clone(),
    ));
    tokio::spawn(sigint_loop(shared.clone()));

    // "starting" once, for whoever is already subscribed.
    let starting = Message {
        identities: vec![],
        header: Header::new("status", &shared.session, "kernel"),
        parent_header: json!({}),
        metadata: json!({}),
        content: json!({ "execution_state": "starting" }),
        buffers: vec![],
    };
    Publisher::new(iopub_tx.clone(), starting).status("starting");

    let (done_tx, done_rx) = oneshot::channel();
    let executor = Executor {
        interpreter,
        shared: shared.clone(),
        iopub: iopub_tx.clone(),
        shell_out: shell_out_tx,
        stdin_out: stdin_out_tx,
        broker,
        kernel_info,
        history: History::default(),
        execution_count: 0,
        failed_at: chrono::Utc::now(),
        failed_at_instant: tokio::time::Instant::now(),
    };
    tokio::spawn(executor.run(queue_rx, done_tx));

    shared.shutdown.cancelled().await;
    // Give the executor a moment to stop the running cell and its resources.
    let _ = tokio::time::timeout(Duration::from_millis(700), done_rx).await;
    let (flushed_tx, flushed_rx) = oneshot::channel();
    let _ = iopub_tx.send(Outgoing::Flush(flushed_tx));
    let _ = tokio::time::timeout(Duration::from_millis(200), flushed_rx).await;
    info!("kernel shut down");
    Ok(())
}

async fn bind<S: Socket>(
    socket: &mut S,
    channel: &'static str,
    endpoint: &str,
) -> Result<(), KernelError> {
    socket
        .bind(endpoint)
        .await
        .map(|_| ())
        .map_err(|source| KernelError::Bind {
            channel,
            endpoint: endpoint.to_string(),
            source,
        })
}

fn to_zmq(frames: Vec<Bytes>) -> Option<ZmqMessage> {
    ZmqMessage::try_from(frames).ok()
}

/// The heartbeat answers on its own task, so it keeps answering while a cell runs.
async fn heartbeat_loop(mut socket: RepSocket) {
    loop {
        match socket.recv().await {
            Ok(msg) => {
                if let Err(e) = socket.send(msg).await {
                    warn!("heartbeat send failed: {e}");
                }
            }
            Err(e) => {
                debug!("heartbeat receive failed: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Owns the XPUB socket: publishes outgoing messages and greets each new subscriber with
/// `iopub_welcome` (JEP 65), so a late subscriber knows it will see what follows.
async fn iopub_loop(
    mut socket: XPubSocket,
    mut rx: UnboundedReceiver<Outgoing>,
    signer: Signer,
    session: String,
) {
    loop {
        tokio::select! {
            sub = socket.recv() => match sub {
                Ok(msg) => {
                    let Some(frame) = msg.get(0) else { continue };
                    if frame.first() == Some(&1) {
                        let topic = String::from_utf8_lossy(&frame[1..]).to_string();
                        let welcome = Message {
                            identities: vec![Bytes::from(topic.clone())],
                            header: Header::new("iopub_welcome", &session, "kernel"),
                            parent_header: json!({}),
                            metadata: json!({}),
                            content: json!({ "subscription": topic }),
                            buffers: vec![],
                        };
                        if let Some(z) = to_zmq(welcome.encode(&signer)) {
                            if let Err(e) = socket.send(z).await {
                                warn!("iopub_welcome send failed: {e}");
                            }
                        }
                    }
                }
                Err(e) => {
                    debug!("iopub subscription receive failed: {e}");
                    tokio::task::yield_now().await;
                }
            },
            out = rx.recv() => match out {
                Some(Outgoing::Message(msg)) => {
                    if let Some(z) = to_zmq(msg.encode(&signer)) {
                        if let Err(e) = socket.send(z).await {
                            warn!("iopub send failed: {e}");
                        }
                    }
                }
                Some(Outgoing::Flush(ack)) => {
                    let _ = ack.send(());
                }
                None => return,
            }
        }
    }
}

async fn router_send_loop(
    channel: &'static str,
    mut socket: RouterSendHalf,
    mut rx: UnboundedReceiver<Message>,
    signer: Signer,
) {
    while let Some(msg) = rx.recv().await {
        if let Some(z) = to_zmq(msg.encode(&signer)) {
            if let Err(e) = socket.send(z).await {
                warn!("{channel} send failed: {e}");
            }
        }
    }
}

/// A shell request and when it came off the socket, by the kernel's own clock: whether it
/// arrived before a failure decides if `stop_on_error` aborts it (see `abort_queued`).
struct Arrived {
    msg: Message,
    at: tokio::time::Instant,
}

impl Arrived {
    fn now(msg: Message) -> Self {
        Arrived {
            msg,
            at: tokio::time::Instant::now(),
        }
    }
}

/// Receives, verifies and forwards messages (as `wrap` makes them). Anything malformed or
/// wrongly signed is dropped here with a log line (never the key), and the loop goes on.
async fn router_recv_loop<T>(
    channel: &'static str,
    mut socket: RouterRecvHalf,
    tx: UnboundedSender<T>,
    signer: Signer,
    wrap: fn(Message) -> T,
) {
    loop {
        match socket.recv().await {
            Ok(z) => match Message::decode(z.into_vec(), &signer) {
                Ok(msg) => {
                    if tx.send(wrap(msg)).is_err() {
                        return;
                    }
                }
                Err(e) => warn!("dropped a message on {channel}: {e}"),
            },
            Err(e) => {
                debug!("{channel} receive failed: {e}");
                tokio::task::yield_now().await;
            }
        }
    }
}

async fn stdin_reply_loop(mut rx: UnboundedReceiver<Message>, broker: StdinBroker) {
    while let Some(msg) = rx.recv().await {
        if msg.header.msg_type != "input_reply" {
            warn!("ignored {} on stdin", msg.header.msg_type);
            continue;
        }
        let value = msg
            .content
            .get("value")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !broker.deliver(value.to_string()) {
            warn!("input_reply arrived with no input_request waiting");
        }
    }
}

/// SIGINT is an interrupt, not death: jupyter_client sends it before every shutdown.
async fn sigint_loop(shared: Arc<Shared>) {
    loop {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        info!("SIGINT: interrupting the running statement");
        shared.interrupt();
    }
}

fn kernel_info_content<I: Interpreter>(interpreter: &I) -> Value {
    let mut content = json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "mesos-kernel",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "debugger": false,
        "supported_features": [],
    });
    if let (Value::Object(out), Value::Object(extra)) = (&mut content, interpreter.kernel_info()) {
        out.extend(extra);
    }
    content
}

async fn control_loop(
    socket: RouterSocket,
    signer: Signer,
    shared: Arc<Shared>,
    iopub: UnboundedSender<Outgoing>,
    kernel_info: Value,
) {
    let (mut send, mut recv) = socket.split();
    loop {
        let frames = match recv.recv().await {
            Ok(z) => z.into_vec(),
            Err(e) => {
                debug!("control receive failed: {e}");
                tokio::task::yield_now().await;
                continue;
            }
        };
        let msg = match Message::decode(frames, &signer) {
            Ok(m) => m,
            Err(e) => {
                warn!("dropped a message on control: {e}");
                continue;
            }
        };
        let publisher = Publisher::new(iopub.clone(), msg.clone());
        publisher.status("busy");
        let reply = match msg.header.msg_type.as_str() {
            "kernel_info_request" => Some(msg.child("kernel_info_reply", kernel_info.clone())),
            "interrupt_request" => {
                shared.interrupt();
                Some(msg.child("interrupt_reply", json!({ "status": "ok" })))
            }
            "shutdown_request" => {
                let restart = msg
                    .content
                    .get("restart")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let content = json!({ "status": "ok", "restart": restart });
                publisher.send("shutdown_reply", content.clone());
                Some(msg.child("shutdown_reply", content))
            }
            other => {
                warn!("unsupported control request {other}");
                None
            }
        };
        if let Some(reply) = reply {
            if let Some(z) = to_zmq(reply.encode(&signer)) {
                if let Err(e) = send.send(z).await {
                    warn!("control send failed: {e}");
                }
            }
        }
        publisher.status("idle");
        if msg.header.msg_type == "shutdown_request" {
            shared.interrupt();
            shared.shutdown.cancel();
        }
    }
}

/// Runs shell requests one at a time, in order, on the interpreter.
struct Executor<I: Interpreter> {
    interpreter: I,
    shared: Arc<Shared>,
    iopub: UnboundedSender<Outgoing>,
    shell_out: UnboundedSender<Message>,
    stdin_out: UnboundedSender<Message>,
    broker: StdinBroker,
    kernel_info: Value,
    history: History,
    execution_count: u64,
    /// When the last execute failed (see `abort_queued`).
    failed_at: chrono::DateTime<chrono::Utc>,
    /// The same moment by the kernel's monotonic clock, to compare with `Arrived::at`.
    failed_at_instant: tokio::time::Instant,
}

impl<I: Interpreter> Executor<I> {
    async fn run(mut self, mut queue: UnboundedReceiver<Arrived>, done: oneshot::Sender<()>) {
        loop {
            tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => break,
                msg = queue.recv() => match msg {
                    Some(arrived) => {
                        let mut failed = self.handle(arrived.msg).await;
                        while failed {
                            failed = self.abort_queued(&mut queue).await;
                        }
                    }
                    None => break,
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_millis(500), self.interpreter.shutdown()).await;
        let _ = done.send(());
    }

    fn reply(&self, parent: &Message, msg_type: &str, content: Value) {
        let _ = self.shell_out.send(parent.child(msg_type, content));
    }

    /// Handles one request; returns true when an execute failed with `stop_on_error`.
    async fn handle(&mut self, msg: Message) -> bool {
        let publisher = Publisher::new(self.iopub.clone(), msg.clone());
        publisher.status("busy");
        let mut failed = false;
        let content = &msg.content;
        match msg.header.msg_type.as_str() {
            "execute_request" => failed = self.execute(&msg, publisher.clone()).await,
            "kernel_info_request" => {
                self.reply(&msg, "kernel_info_reply", self.kernel_info.clone())
            }
            "is_complete_request" => {
                let code = content.get("code").and_then(Value::as_str).unwrap_or("");
                let reply = match self.interpreter.is_complete(code) {
                    Completeness::Complete => json!({ "status": "complete" }),
                    Completeness::Incomplete { indent } => {
                        json!({ "status": "incomplete", "indent": indent })
                    }
                    Completeness::Invalid => json!({ "status": "invalid" }),
                };
                self.reply(&msg, "is_complete_reply", reply);
            }
            "complete_request" => {
                let code = content.get("code").and_then(Value::as_str).unwrap_or("");
                let cursor = cursor_pos(content, code);
                let c = self.interpreter.complete(code, cursor);
                self.reply(
                    &msg,
                    "complete_reply",
                    json!({
                        "status": "ok",
                        "matches": c.matches,
                        "cursor_start": c.cursor_start,
                        "cursor_end": c.cursor_end,
                        "metadata": if c.metadata.is_null() { json!({}) } else { c.metadata },
                    }),
                );
            }
            "inspect_request" => {
                let code = content.get("code").and_then(Value::as_str).unwrap_or("");
                let cursor = cursor_pos(content, code);
                let level = content
                    .get("detail_level")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as u8;
                let reply = match self.interpreter.inspect(code, cursor, level) {
                    Some(bundle) => {
                        let (data, metadata) = bundle.to_json();
                        json!({ "status": "ok", "found": true, "data": data, "metadata": metadata })
                    }
                    None => json!({ "status": "ok", "found": false, "data": {}, "metadata": {} }),
                };
                self.reply(&msg, "inspect_reply", reply);
            }
            "history_request" => {
                let history = self.history.query(content);
                self.reply(
                    &msg,
                    "history_reply",
                    json!({ "status": "ok", "history": history }),
                );
            }
            "comm_info_request" => self.reply(
                &msg,
                "comm_info_reply",
                json!({ "status": "ok", "comms": {} }),
            ),
            "comm_open" => {
                // No comm targets: close it at once so the front end does not wait.
                let comm_id = content.get("comm_id").cloned().unwrap_or(Value::Null);
                publisher.send("comm_close", json!({ "comm_id": comm_id, "data": {} }));
            }
            "comm_msg" | "comm_close" => {}
            "shutdown_request" => {
                let restart = content
                    .get("restart")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let reply = json!({ "status": "ok", "restart": restart });
                publisher.send("shutdown_reply", reply.clone());
                self.reply(&msg, "shutdown_reply", reply);
                self.shared.shutdown.cancel();
            }
            other => warn!("unsupported shell request {other}"),
        }
        publisher.status("idle");
        failed
    }

    async fn execute(&mut self, msg: &Message, publisher: Publisher) -> bool {
        let content = &msg.content;
        let code = content
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let silent = content
            .get("silent")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let store_history = !silent
            && content
                .get("store_history")
                .and_then(Value::as_bool)
                .unwrap_or(true);
        let stop_on_error = content
            .get("stop_on_error")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let allow_stdin = content
            .get("allow_stdin")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if store_history {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !silent {
            publisher.send(
                "execute_input",
                json!({ "code": code, "execution_count": count }),
            );
        }
        if store_history {
            self.history.push(count, &code);
        }
        let cancel = self.shared.new_execution();
        let ctx = ExecuteContext {
            publisher: publisher.clone().silenced(silent),
            cancel: cancel.clone(),
            stdin: StdinHandle::new(
                &self.broker,
                self.stdin_out.clone(),
                msg.clone(),
                allow_stdin,
            ),
            execution_count: count,
            silent,
        };
        let result = self.interpreter.execute(&code, ctx).await;
        match result {
            Ok(()) => {
                let user_expressions = self.user_expressions(content, &cancel).await;
                self.reply(
                    msg,
                    "execute_reply",
                    json!({
                        "status": "ok",
                        "execution_count": count,
                        "user_expressions": user_expressions,
                        "payload": [],
                    }),
                );
                false
            }
            Err(CellError {
                ename,
                evalue,
                traceback,
            }) => {
                // Before the front end can know of the failure: requests it sends after
                // seeing the error are newer than this.
                self.failed_at = chrono::Utc::now();
                self.failed_at_instant = tokio::time::Instant::now();
                publisher.send(
                    "error",
                    json!({ "ename": ename, "evalue": evalue, "traceback": traceback }),
                );
                self.reply(
                    msg,
                    "execute_reply",
                    json!({
                        "status": "error",
                        "execution_count": count,
                        "ename": ename,
                        "evalue": evalue,
                        "traceback": traceback,
                        "user_expressions": {},
                        "payload": [],
                    }),
                );
                stop_on_error
            }
        }
    }

    async fn user_expressions(&mut self, content: &Value, cancel: &CancellationToken) -> Value {
        let mut out = serde_json::Map::new();
        if let Some(exprs) = content.get("user_expressions").and_then(Value::as_object) {
            for (name, expr) in exprs {
                let expr = expr.as_str().unwrap_or("");
                let entry = match self.interpreter.user_expression(expr, cancel).await {
                    Ok(bundle) => {
                        let (data, metadata) = bundle.to_json();
                        json!({ "status": "ok", "data": data, "metadata": metadata })
                    }
                    Err(e) => json!({
                        "status": "error", "ename": e.ename, "evalue": e.evalue,
                        "traceback": e.traceback,
                    }),
                };
                out.insert(name.clone(), entry);
            }
        }
        Value::Object(out)
    }

    /// After a failed execute with `stop_on_error`, the executes that arrived before the
    /// failure (queued behind it), and those arriving within a short window that were sent
    /// before it (a front end's "run all" sends them in a burst that may still be on the
    /// wire), are answered `aborted` instead of run, as ipykernel does. An execute sent
    /// after the front end saw the error (nbclient's next cell) runs, however quickly it
    /// comes. Other requests are answered normally.
    async fn abort_queued(&mut self, queue: &mut UnboundedReceiver<Arrived>) -> bool {
        let failed_at = self.failed_at;
        let failed_at_instant = self.failed_at_instant;
        let until = tokio::time::Instant::now() + ABORT_WINDOW;
        loop {
            let arrived = match queue.try_recv() {
                Ok(a) => a,
                Err(_) => match tokio::time::timeout_at(until, queue.recv()).await {
                    Ok(Some(a)) => a,
                    _ => break,
                },
            };
            let msg = arrived.msg;
            // The arrival time needs no clock but ours; the header's date (the sender's
            // clock) catches the rest of a burst still on the wire.
            let arrived_before = arrived.at <= failed_at_instant;
            let sent_before = || {
                chrono::DateTime::parse_from_rfc3339(&msg.header.date)
                    .map(|d| d.with_timezone(&chrono::Utc) <= failed_at)
                    .unwrap_or(false)
            };
            if msg.header.msg_type == "execute_request" && (arrived_before || sent_before()) {
                let publisher = Publisher::new(self.iopub.clone(), msg.clone());
                publisher.status("busy");
                self.reply(&msg, "execute_reply", json!({ "status": "aborted" }));
                publisher.status("idle");
            } else if self.handle(msg).await {
                // A new failure starts a new window; the caller loops (no recursion,
                // so a long run of failing cells cannot grow the stack).
                return true;
            }
        }
        false
    }
}

/// How long after a failure newly arriving executes are still aborted.
const ABORT_WINDOW: Duration = Duration::from_millis(100);

fn cursor_pos(content: &Value, code: &str) -> usize {
    content
        .get("cursor_pos")
        .and_then(Value::as_u64)
        .map(|c| c as usize)
        .unwrap_or_else(|| code.chars().count())
}
