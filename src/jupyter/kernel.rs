//! The kernel core: binds the five sockets, starts one task per socket half (`channels`),
//! answers control at once and everything else in order (`dispatch`, `executor`), and
//! shuts down once: on a shutdown_request, on SIGTERM, or when the front end is gone
//! (`parent`). SIGINT is an interrupt.

use crate::jupyter::channels;
use crate::jupyter::connection::ConnectionInfo;
use crate::jupyter::dispatch::{Core, Incoming, Route, Shared};
use crate::jupyter::executor::{Executor, INTERPRETER_SHUTDOWN};
use crate::jupyter::interpreter::Interpreter;
use crate::jupyter::parent::ParentWatch;
use crate::jupyter::publisher::{Outgoing, Publisher};
use crate::jupyter::stdin::StdinBroker;
use crate::jupyter::wire::{Message, Session, PROTOCOL_VERSION};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tracing::{info, warn};
use zeromq::{RepSocket, RouterSocket, Socket, XPubSocket};

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("cannot bind the {channel} socket on {endpoint}: {source}")]
    Bind {
        channel: &'static str,
        endpoint: String,
        source: zeromq::ZmqError,
    },
}

/// How long, once shutting down, the executor has to stop the running cell and shut the
/// interpreter down, before the last messages are flushed anyway.
const EXECUTOR_SHUTDOWN: Duration = INTERPRETER_SHUTDOWN.saturating_add(Duration::from_millis(500));
/// How long each socket has to write what is queued for it at the end.
const FLUSH: Duration = Duration::from_millis(200);
/// How long the sockets' writers have, after that, to put it on the wire.
const LINGER: Duration = Duration::from_millis(100);

/// Runs the kernel until it shuts down. Returns once the last messages are sent.
pub async fn run<I: Interpreter>(info: ConnectionInfo, interpreter: I) -> Result<(), KernelError> {
    let session = Session::new(&info.key);
    let shared = Arc::new(Shared::default());

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

    tokio::spawn(channels::heartbeat(heartbeat));
    let (iopub_tx, iopub_rx) = mpsc::unbounded_channel();
    tokio::spawn(channels::iopub(iopub, iopub_rx, session.clone()));
    let (queue_tx, queue_rx) = mpsc::unbounded_channel::<Incoming>();
    let shell_out = serve_router(shell, "shell", &session, queue_tx.clone(), incoming);
    let (control_in_tx, control_in_rx) = mpsc::unbounded_channel::<Incoming>();
    let control_out = serve_router(control, "control", &session, control_in_tx, incoming);
    let (stdin_in_tx, stdin_in_rx) = mpsc::unbounded_channel::<Message>();
    let stdin_out = serve_router(stdin, "stdin", &session, stdin_in_tx, |msg, _, _| msg);

    let core = Arc::new(Core {
        kernel_info: kernel_info_content(&interpreter),
        shared: shared.clone(),
        iopub: iopub_tx.clone(),
    });
    tokio::spawn(control_loop(control_in_rx, core.clone(), queue_tx));
    let executor = Executor::new(interpreter, core, stdin_out.clone());
    tokio::spawn(stdin_reply_loop(stdin_in_rx, executor.broker()));
    tokio::spawn(sigint_loop(shared.clone()));
    tokio::spawn(sigterm_loop(shared.clone()));
    let watch = ParentWatch::from_env();
    if watching(&watch) {
        let shared = shared.clone();
        tokio::spawn(async move {
            let why = watch.wait().await;
            warn!("{why}: the front end is gone, shutting down");
            shared.shut_down(&why);
        });
    }

    // "starting" once, for whoever is already subscribed.
    Publisher::new(iopub_tx.clone(), session.message("status", json!({}))).status("starting");

    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(executor.run(queue_rx, done_tx));

    shared.shutdown.cancelled().await;
    // The executor stops the running cell, then shuts the interpreter down (the embedded
    // cluster and its tasks, the jq worker).
    let _ = tokio::time::timeout(EXECUTOR_SHUTDOWN, done_rx).await;
    futures::join!(
        flush(&iopub_tx),
        flush(&shell_out),
        flush(&control_out),
        flush(&stdin_out)
    );
    // A flushed message has reached its socket's queue for the peer, not the wire: the
    // socket's writer task sends it. Linger, as ZMQ sockets do, so the shutdown_reply and
    // the last idle are not lost when the process exits.
    tokio::time::sleep(LINGER).await;
    info!("kernel shut down");
    Ok(())
}

fn watching(watch: &ParentWatch) -> bool {
    if !watch.watching() {
        info!("no parent process to watch");
    }
    watch.watching()
}

/// A request off a ROUTER socket, answered on the same socket.
fn incoming(msg: Message, reply: &UnboundedSender<Outgoing>, channel: &'static str) -> Incoming {
    Incoming::new(msg, reply.clone(), channel)
}

/// Starts a ROUTER socket's two tasks: what it receives goes to `received` (as `wrap`
/// makes it of the message, the socket's send queue and its name); returns the send queue.
fn serve_router<T: Send + 'static>(
    socket: RouterSocket,
    channel: &'static str,
    session: &Session,
    received: UnboundedSender<T>,
    wrap: fn(Message, &UnboundedSender<Outgoing>, &'static str) -> T,
) -> UnboundedSender<Outgoing> {
    let (send, recv) = socket.split();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    tokio::spawn(channels::router_send(
        channel,
        send,
        out_rx,
        session.clone(),
    ));
    let reply = out_tx.clone();
    tokio::spawn(channels::router_recv(
        channel,
        recv,
        received,
        session.clone(),
        move |msg| wrap(msg, &reply, channel),
    ));
    out_tx
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

/// Waits until a socket task has written everything queued before this call.
async fn flush(tx: &UnboundedSender<Outgoing>) {
    let (ack_tx, ack_rx) = oneshot::channel();
    if tx.send(Outgoing::Flush(ack_tx)).is_ok() {
        let _ = tokio::time::timeout(FLUSH, ack_rx).await;
    }
}

/// Control: what the core answers is answered at once, even while a cell runs; the rest
/// waits its turn on the executor and is answered on control.
async fn control_loop(
    mut rx: UnboundedReceiver<Incoming>,
    core: Arc<Core>,
    executor: UnboundedSender<Incoming>,
) {
    while let Some(incoming) = rx.recv().await {
        match Route::of(&incoming.msg.header.msg_type) {
            Some(Route::Core(request)) => core.answer(request, &incoming),
            // The executor also publishes busy/idle for what it does not know.
            Some(Route::InOrder(_)) | None => {
                if executor.send(incoming).is_err() {
                    return;
                }
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

/// SIGINT is an interrupt, not death: jupyter_client sends it before every shutdown, and
/// an unhandled SIGINT would end the process.
async fn sigint_loop(shared: Arc<Shared>) {
    loop {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        info!("SIGINT: interrupting the running statement");
        shared.interrupt();
    }
}

/// SIGTERM (a front end's terminate, a process manager's stop) shuts down as a
/// shutdown_request does, so the embedded cluster's tasks do not outlive the kernel.
async fn sigterm_loop(shared: Arc<Shared>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            warn!("cannot handle SIGTERM: {e}");
            return;
        }
    };
    if term.recv().await.is_some() {
        shared.shut_down("SIGTERM");
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
