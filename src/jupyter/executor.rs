//! The executor: runs requests one at a time, in order, on the interpreter. Shell sends it
//! everything; control sends it what the dispatch table says needs the interpreter. Busy
//! and idle, the execution counter, history and `stop_on_error` live here.

use crate::jupyter::dispatch::{Core, Incoming, Ordered, Route, Shared};
use crate::jupyter::history::History;
use crate::jupyter::interpreter::{CellError, Completeness, ExecuteContext, Interpreter};
use crate::jupyter::publisher::{Outgoing, Publisher};
use crate::jupyter::stdin::{StdinBroker, StdinHandle};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use tracing::warn;

/// How long the interpreter has to release what it started (the embedded cluster kills its
/// tasks: SIGTERM, then SIGKILL after its 2 s grace) when the kernel shuts down.
pub const INTERPRETER_SHUTDOWN: Duration = Duration::from_secs(3);

/// How long after a failure newly arriving executes are still aborted.
const ABORT_WINDOW: Duration = Duration::from_millis(100);

pub struct Executor<I: Interpreter> {
    interpreter: I,
    core: Arc<Core>,
    shared: Arc<Shared>,
    iopub: UnboundedSender<Outgoing>,
    stdin_out: UnboundedSender<Outgoing>,
    broker: StdinBroker,
    history: History,
    execution_count: u64,
    /// When the last execute failed (see `abort_queued`).
    failed_at: chrono::DateTime<chrono::Utc>,
    /// The same moment by the kernel's monotonic clock, to compare with `Incoming::at`.
    failed_at_instant: tokio::time::Instant,
}

impl<I: Interpreter> Executor<I> {
    pub fn new(interpreter: I, core: Arc<Core>, stdin_out: UnboundedSender<Outgoing>) -> Self {
        Executor {
            interpreter,
            shared: core.shared.clone(),
            iopub: core.iopub.clone(),
            core,
            stdin_out,
            broker: StdinBroker::default(),
            history: History::default(),
            execution_count: 0,
            failed_at: chrono::Utc::now(),
            failed_at_instant: tokio::time::Instant::now(),
        }
    }

    /// Where the stdin socket task delivers `input_reply`s for this executor's prompts.
    pub fn broker(&self) -> StdinBroker {
        self.broker.clone()
    }

    pub async fn run(mut self, mut queue: UnboundedReceiver<Incoming>, done: oneshot::Sender<()>) {
        loop {
            tokio::select! {
                biased;
                _ = self.shared.shutdown.cancelled() => break,
                msg = queue.recv() => match msg {
                    Some(incoming) => {
                        let mut failed = self.handle(incoming).await;
                        while failed {
                            failed = self.abort_queued(&mut queue).await;
                        }
                    }
                    None => break,
                }
            }
        }
        let _ = tokio::time::timeout(INTERPRETER_SHUTDOWN, self.interpreter.shutdown()).await;
        let _ = done.send(());
    }

    /// Handles one request; returns true when an execute failed with `stop_on_error`.
    async fn handle(&mut self, incoming: Incoming) -> bool {
        let route = Route::of(&incoming.msg.header.msg_type);
        let ordered = match route {
            Some(Route::InOrder(ordered)) => ordered,
            Some(Route::Core(request)) => {
                self.core.answer(request, &incoming);
                return false;
            }
            None => {
                warn!(
                    "unsupported {} request {}; no reply",
                    incoming.channel, incoming.msg.header.msg_type
                );
                let publisher = Publisher::new(self.iopub.clone(), incoming.msg.clone());
                publisher.status("busy");
                publisher.status("idle");
                return false;
            }
        };
        let publisher = Publisher::new(self.iopub.clone(), incoming.msg.clone());
        publisher.status("busy");
        let failed = match ordered {
            Ordered::Execute => self.execute(&incoming, publisher.clone()).await,
            Ordered::IsComplete => {
                self.is_complete(&incoming);
                false
            }
            Ordered::Complete => {
                self.complete(&incoming);
                false
            }
            Ordered::Inspect => {
                self.inspect(&incoming);
                false
            }
            Ordered::History => {
                let history = self.history.query(&incoming.msg.content);
                incoming.answer(
                    "history_reply",
                    json!({ "status": "ok", "history": history }),
                );
                false
            }
        };
        publisher.status("idle");
        failed
    }

    fn is_complete(&mut self, incoming: &Incoming) {
        let reply = match self.interpreter.is_complete(code_of(&incoming.msg.content)) {
            Completeness::Complete => json!({ "status": "complete" }),
            Completeness::Incomplete { indent } => {
                json!({ "status": "incomplete", "indent": indent })
            }
            Completeness::Invalid => json!({ "status": "invalid" }),
        };
        incoming.answer("is_complete_reply", reply);
    }

    fn complete(&mut self, incoming: &Incoming) {
        let content = &incoming.msg.content;
        let code = code_of(content);
        let c = self.interpreter.complete(code, cursor_pos(content, code));
        incoming.answer(
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

    fn inspect(&mut self, incoming: &Incoming) {
        let content = &incoming.msg.content;
        let code = code_of(content);
        let level = content
            .get("detail_level")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u8;
        let reply = match self
            .interpreter
            .inspect(code, cursor_pos(content, code), level)
        {
            Some(bundle) => {
                let (data, metadata) = bundle.to_json();
                json!({ "status": "ok", "found": true, "data": data, "metadata": metadata })
            }
            None => json!({ "status": "ok", "found": false, "data": {}, "metadata": {} }),
        };
        incoming.answer("inspect_reply", reply);
    }

    async fn execute(&mut self, incoming: &Incoming, publisher: Publisher) -> bool {
        let msg = &incoming.msg;
        let content = &msg.content;
        let flag = |name: &str, default: bool| {
            content
                .get(name)
                .and_then(Value::as_bool)
                .unwrap_or(default)
        };
        let code = code_of(content).to_string();
        let silent = flag("silent", false);
        let store_history = !silent && flag("store_history", true);
        let stop_on_error = flag("stop_on_error", true);
        let allow_stdin = flag("allow_stdin", true);
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
                cancel.clone(),
            ),
            execution_count: count,
            silent,
        };
        match self.interpreter.execute(&code, ctx).await {
            Ok(()) => {
                let user_expressions = self.user_expressions(content, &cancel).await;
                incoming.answer(
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
                incoming.answer(
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
    async fn abort_queued(&mut self, queue: &mut UnboundedReceiver<Incoming>) -> bool {
        let failed_at = self.failed_at;
        let failed_at_instant = self.failed_at_instant;
        let until = tokio::time::Instant::now() + ABORT_WINDOW;
        loop {
            let incoming = match queue.try_recv() {
                Ok(a) => a,
                Err(_) => match tokio::time::timeout_at(until, queue.recv()).await {
                    Ok(Some(a)) => a,
                    _ => break,
                },
            };
            let msg = &incoming.msg;
            // The arrival time needs no clock but ours; the header's date (the sender's
            // clock) catches the rest of a burst still on the wire.
            let arrived_before = incoming.at <= failed_at_instant;
            let sent_before = || {
                chrono::DateTime::parse_from_rfc3339(&msg.header.date)
                    .map(|d| d.with_timezone(&chrono::Utc) <= failed_at)
                    .unwrap_or(false)
            };
            if msg.header.msg_type == "execute_request" && (arrived_before || sent_before()) {
                let publisher = Publisher::new(self.iopub.clone(), msg.clone());
                publisher.status("busy");
                incoming.answer("execute_reply", json!({ "status": "aborted" }));
                publisher.status("idle");
            } else if self.handle(incoming).await {
                // A new failure starts a new window; the caller loops (no recursion,
                // so a long run of failing cells cannot grow the stack).
                return true;
            }
        }
        false
    }
}

fn code_of(content: &Value) -> &str {
    content.get("code").and_then(Value::as_str).unwrap_or("")
}

fn cursor_pos(content: &Value, code: &str) -> usize {
    content
        .get("cursor_pos")
        .and_then(Value::as_u64)
        .map(|c| c as usize)
        .unwrap_or_else(|| code.chars().count())
}
