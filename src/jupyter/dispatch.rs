//! The one dispatch table for shell and control: every request type the kernel answers, and
//! whether the core answers it by itself or the executor answers it in order with the
//! interpreter. Both channels look requests up here; the requests the core answers have one
//! implementation (`Core::answer`), whichever channel they came on.
//!
//! On control, a request the core answers is answered the moment it arrives (kernel_info,
//! interrupt and shutdown while a cell runs); one that needs the interpreter waits its
//! turn behind the running cell, like every shell request, and is answered on control.

use crate::jupyter::publisher::{Outgoing, Publisher};
use crate::jupyter::wire::Message;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use tracing::info;

/// Where a request type is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// By the core, with no interpreter: on control at once, on shell in its turn.
    Core(CoreRequest),
    /// By the executor, in order, with the interpreter (or the history of what it ran).
    InOrder(Ordered),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoreRequest {
    KernelInfo,
    Interrupt,
    Shutdown,
    CommInfo,
    CommOpen,
    CommMsg,
    CommClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordered {
    Execute,
    IsComplete,
    Complete,
    Inspect,
    History,
}

/// The table. Comms: this kernel has no comm targets, so the core closes what is opened.
const TABLE: &[(&str, Route)] = &[
    ("kernel_info_request", Route::Core(CoreRequest::KernelInfo)),
    ("interrupt_request", Route::Core(CoreRequest::Interrupt)),
    ("shutdown_request", Route::Core(CoreRequest::Shutdown)),
    ("comm_info_request", Route::Core(CoreRequest::CommInfo)),
    ("comm_open", Route::Core(CoreRequest::CommOpen)),
    ("comm_msg", Route::Core(CoreRequest::CommMsg)),
    ("comm_close", Route::Core(CoreRequest::CommClose)),
    ("execute_request", Route::InOrder(Ordered::Execute)),
    ("is_complete_request", Route::InOrder(Ordered::IsComplete)),
    ("complete_request", Route::InOrder(Ordered::Complete)),
    ("inspect_request", Route::InOrder(Ordered::Inspect)),
    ("history_request", Route::InOrder(Ordered::History)),
];

impl Route {
    pub fn of(msg_type: &str) -> Option<Route> {
        TABLE.iter().find(|(t, _)| *t == msg_type).map(|(_, r)| *r)
    }
}

/// A request as it came off its socket, with where its reply goes.
pub struct Incoming {
    pub msg: Message,
    /// When it came off the socket, by the kernel's clock: whether it arrived before a
    /// failure decides if `stop_on_error` aborts it.
    pub at: tokio::time::Instant,
    /// The send queue of the channel it came on.
    pub reply: UnboundedSender<Outgoing>,
    /// That channel's name, for the log.
    pub channel: &'static str,
}

impl Incoming {
    pub fn new(msg: Message, reply: UnboundedSender<Outgoing>, channel: &'static str) -> Self {
        Incoming {
            msg,
            at: tokio::time::Instant::now(),
            reply,
            channel,
        }
    }

    pub fn answer(&self, msg_type: &str, content: Value) {
        // A closed queue means the kernel is shutting down; nothing left to tell.
        let _ = self.reply.send(Outgoing::Message(Box::new(
            self.msg.child(msg_type, content),
        )));
    }
}

/// State shared by the channels, the signal handlers, the parent watch and the executor.
pub struct Shared {
    /// The token of the running execution; replaced for each execute_request.
    current: Mutex<CancellationToken>,
    pub shutdown: CancellationToken,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            current: Mutex::new(CancellationToken::new()),
            shutdown: CancellationToken::new(),
        }
    }
}

impl Shared {
    /// Cancels the running statement (a wait, a call, a prompt for input).
    pub fn interrupt(&self) {
        if let Ok(token) = self.current.lock() {
            token.cancel();
        }
    }

    pub fn new_execution(&self) -> CancellationToken {
        let token = CancellationToken::new();
        if let Ok(mut current) = self.current.lock() {
            *current = token.clone();
        }
        token
    }

    /// Stops the running cell and starts the shutdown (see `kernel::run`).
    pub fn shut_down(&self, why: &str) {
        info!("shutting down: {why}");
        self.interrupt();
        self.shutdown.cancel();
    }
}

/// What the core answers by itself.
pub struct Core {
    pub kernel_info: Value,
    pub shared: Arc<Shared>,
    pub iopub: UnboundedSender<Outgoing>,
}

impl Core {
    /// Answers `request` (one the table gives to the core) between `busy` and `idle`.
    pub fn answer(&self, request: CoreRequest, incoming: &Incoming) {
        let msg = &incoming.msg;
        let publisher = Publisher::new(self.iopub.clone(), msg.clone());
        publisher.status("busy");
        let mut shutdown = false;
        match request {
            CoreRequest::KernelInfo => {
                incoming.answer("kernel_info_reply", self.kernel_info.clone())
            }
            CoreRequest::Interrupt => {
                self.shared.interrupt();
                incoming.answer("interrupt_reply", json!({ "status": "ok" }));
            }
            CoreRequest::Shutdown => {
                let restart = msg
                    .content
                    .get("restart")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let content = json!({ "status": "ok", "restart": restart });
                // Also on iopub, so every front end of this kernel learns of it.
                publisher.send("shutdown_reply", content.clone());
                incoming.answer("shutdown_reply", content);
                shutdown = true;
            }
            CoreRequest::CommInfo => {
                incoming.answer("comm_info_reply", json!({ "status": "ok", "comms": {} }))
            }
            CoreRequest::CommOpen => {
                // No comm targets: close it at once so the front end does not wait.
                let comm_id = msg.content.get("comm_id").cloned().unwrap_or(Value::Null);
                publisher.send("comm_close", json!({ "comm_id": comm_id, "data": {} }));
            }
            // Messages on comms this kernel never opened or already closed.
            CoreRequest::CommMsg | CoreRequest::CommClose => {}
        }
        publisher.status("idle");
        if shutdown {
            self.shared.shut_down("a shutdown_request");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_in_the_table_once() {
        for (i, (t, _)) in TABLE.iter().enumerate() {
            assert!(TABLE[i + 1..].iter().all(|(u, _)| u != t), "{t} twice");
        }
        assert_eq!(
            Route::of("kernel_info_request"),
            Some(Route::Core(CoreRequest::KernelInfo))
        );
        assert_eq!(
            Route::of("execute_request"),
            Some(Route::InOrder(Ordered::Execute))
        );
        assert_eq!(Route::of("debug_request"), None);
    }
}
