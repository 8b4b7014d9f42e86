//! The socket tasks: one per socket half, so the heartbeat answers and control is read
//! while a cell runs. Everything the kernel sends goes through `Session::encode` (its own
//! session id, signed); everything it receives through `Session::decode`, which drops a
//! malformed or wrongly signed message with a log line (never the key).

use crate::jupyter::publisher::Outgoing;
use crate::jupyter::wire::{Message, Session};
use bytes::Bytes;
use serde_json::json;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tracing::{debug, warn};
use zeromq::{RepSocket, RouterRecvHalf, RouterSendHalf, SocketRecv, SocketSend, XPubSocket};

fn to_zmq(frames: Vec<Bytes>) -> Option<zeromq::ZmqMessage> {
    zeromq::ZmqMessage::try_from(frames).ok()
}

/// The heartbeat answers on its own task, so it keeps answering while a cell runs.
pub async fn heartbeat(mut socket: RepSocket) {
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
pub async fn iopub(mut socket: XPubSocket, mut rx: UnboundedReceiver<Outgoing>, session: Session) {
    loop {
        tokio::select! {
            sub = socket.recv() => match sub {
                Ok(msg) => {
                    let Some(frame) = msg.get(0) else { continue };
                    // 1 then the topic: a subscription (0 is an unsubscription).
                    if frame.first() == Some(&1) {
                        let topic = String::from_utf8_lossy(&frame[1..]).to_string();
                        let mut welcome =
                            session.message("iopub_welcome", json!({ "subscription": topic }));
                        welcome.identities = vec![Bytes::from(topic)];
                        if let Some(z) = to_zmq(session.encode(welcome)) {
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
                    if let Some(z) = to_zmq(session.encode(*msg)) {
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

/// Sends replies (shell, control) and prompts (stdin) on a ROUTER socket.
pub async fn router_send(
    channel: &'static str,
    mut socket: RouterSendHalf,
    mut rx: UnboundedReceiver<Outgoing>,
    session: Session,
) {
    while let Some(out) = rx.recv().await {
        match out {
            Outgoing::Message(msg) => {
                if let Some(z) = to_zmq(session.encode(*msg)) {
                    if let Err(e) = socket.send(z).await {
                        warn!("{channel} send failed: {e}");
                    }
                }
            }
            Outgoing::Flush(ack) => {
                let _ = ack.send(());
            }
        }
    }
}

/// Receives, verifies and forwards messages (as `wrap` makes them). Anything malformed or
/// wrongly signed is dropped here with a log line, and the loop goes on.
pub async fn router_recv<T>(
    channel: &'static str,
    mut socket: RouterRecvHalf,
    tx: UnboundedSender<T>,
    session: Session,
    wrap: impl Fn(Message) -> T,
) {
    loop {
        match socket.recv().await {
            Ok(z) => match session.decode(z.into_vec()) {
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
