//! The operator event stream in cells. `operator SUBSCRIBE` (or `{"type": "SUBSCRIBE"}`
//! without a `subscribe.framework_info`) opens the master's operator stream beside any
//! framework session; `$operator` holds what it knows (agents, frameworks, tasks, the
//! latest events, where the stream is), a live view redraws in place at most ten times a
//! second (the last state always drawn), WAIT wakes on its changes, and `operator
//! UNSUBSCRIBE` closes it. A second SUBSCRIBE shows the open stream's view again.

use crate::display::operator_view::{operator_view, OperatorView};
use crate::display::Bundle;
use crate::engine::connect::mesos_error;
use crate::engine::errors::Kind;
use crate::engine::session::referenced_names;
use crate::engine::{Engine, Outcome};
use crate::jupyter::publisher::Publisher;
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::operator_stream::{is_terminal, OperatorState, OperatorStream};
use crate::mesos::v1::ids::id_text;
use crate::mesos::v1::message::read_lenient;
use crate::mesos::v1::operator::master::{Call as MasterCall, EventType};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The least time between two redraws of a live display (this view, `TASKS watch`).
pub const VIEW_INTERVAL: Duration = Duration::from_millis(100);
/// The session variable.
pub const VARIABLE: &str = "operator";

/// An open operator stream with its live view.
pub(crate) struct OperatorSession {
    stream: OperatorStream,
    display_id: String,
    /// The latest cell's publisher. Redraws go out with it, so a front end that follows
    /// only the running cell's messages (nbclient, running a notebook headless) still
    /// applies them to the view, wherever the view is.
    publisher: Arc<Mutex<Publisher>>,
    view: CancellationToken,
}

impl Drop for OperatorSession {
    fn drop(&mut self) {
        self.view.cancel();
    }
}

fn invalid(msg: impl Into<String>) -> CellError {
    CellError::new(Kind::InvalidCall.name(), msg)
}

/// Live tasks per framework id, for the frameworks table.
fn live_tasks(s: &OperatorState) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for t in s.tasks.values() {
        let state = t.get("state").and_then(Value::as_str).unwrap_or("");
        if is_terminal(state) {
            continue;
        }
        if let Some(f) = t.get("framework_id").and_then(id_text) {
            *out.entry(f.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// The view of the state, drawn from borrowed parts.
pub(crate) fn view_of(s: &OperatorState) -> Bundle {
    operator_view(&OperatorView {
        status: s.status.as_str(),
        problem: s.problem.as_deref(),
        master: &s.master,
        last_heartbeat: s.last_heartbeat.as_deref(),
        events_received: s.events_received,
        agents: s.agents.values().collect(),
        frameworks: s.frameworks.values().collect(),
        tasks: s.tasks_for_view().collect(),
        live_tasks: live_tasks(s),
        events: s
            .events
            .iter()
            .filter(|e| {
                e.get("type").and_then(Value::as_str) != Some(EventType::Heartbeat.as_str())
            })
            .collect(),
    })
}

/// Redraws the view as the state changes: after a change, waits out the rest of
/// `VIEW_INTERVAL` (taking in whatever else arrives meanwhile), then draws the state as it
/// is then, so the last state is always drawn and a flood costs ten redraws a second.
async fn keep_view(
    shared: Arc<Mutex<OperatorState>>,
    mut changes: watch::Receiver<u64>,
    publisher: Arc<Mutex<Publisher>>,
    id: String,
    stop: CancellationToken,
) {
    let mut drawn: Option<Bundle> = None;
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::select! {
            r = changes.changed() => if r.is_err() { return },
            _ = stop.cancelled() => return,
        }
        let next = last + VIEW_INTERVAL;
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.cancelled() => return,
        }
        changes.borrow_and_update();
        // Drawn and sent under the state's lock, so a redraw never overtakes a later one
        // (UNSUBSCRIBE draws the closed stream last).
        if let Ok(s) = shared.lock() {
            let bundle = view_of(&s);
            if drawn.as_ref() != Some(&bundle) {
                if let Ok(p) = publisher.lock() {
                    p.update_display(&bundle, &id);
                }
                drawn = Some(bundle);
            }
        }
        last = tokio::time::Instant::now();
    }
}

/// Resolves when any of the receivers sees a change; never when there are none.
pub(crate) async fn any_changed(receivers: &mut [watch::Receiver<u64>]) {
    if receivers.is_empty() {
        return std::future::pending().await;
    }
    let waits = receivers.iter_mut().map(|rx| Box::pin(rx.changed()));
    let _ = futures::future::select_all(waits).await;
}

impl Engine {
    /// `operator SUBSCRIBE`: opens the stream, or shows the open one's view again.
    pub(crate) async fn operator_subscribe(
        &mut self,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        if let Some(op) = self.operator.as_ref().filter(|o| o.stream.is_open()) {
            let (bundle, master, status) = op
                .stream
                .with_state(|s| (view_of(s), s.master.clone(), s.status.as_str()))
                .unwrap_or_else(|| (Bundle::text(""), String::new(), "unknown"));
            ctx.publisher.stream(
                "stdout",
                &format!("The operator event stream is already open ({status}, {master}); nothing new was opened.\n"),
            );
            ctx.publisher.display(&bundle, Some(&op.display_id));
            let mut outcome = Outcome::shown(op.stream.snapshot(), None);
            outcome.shows = false;
            return Ok(outcome);
        }
        self.master_base(ctx).await?;
        let handle = self.conn.master_handle();
        let stream = OperatorStream::open(&self.client, handle, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let display_id = format!("mesos-kernel-operator-{}", uuid::Uuid::new_v4());
        let publisher = Arc::new(Mutex::new(ctx.publisher.clone()));
        let view = CancellationToken::new();
        // The first drawing, and the redraws from the same state lock, in order.
        if let Some(bundle) = stream.with_state(|s| view_of(s)) {
            ctx.publisher.display(&bundle, Some(&display_id));
        }
        tokio::spawn(keep_view(
            stream.state_handle(),
            stream.changes(),
            publisher.clone(),
            display_id.clone(),
            view.clone(),
        ));
        let snapshot = stream.snapshot();
        stream.changed_since_sync();
        self.vars.set(VARIABLE, snapshot.clone());
        self.operator = Some(OperatorSession {
            stream,
            display_id,
            publisher,
            view,
        });
        let mut outcome = Outcome::shown(snapshot, None);
        outcome.shows = false;
        Ok(outcome)
    }

    /// `operator UNSUBSCRIBE`: closes the stream; `$operator` keeps its last state.
    pub(crate) fn operator_unsubscribe(
        &mut self,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let Some(op) = self.operator.take() else {
            return Err(invalid(
                "no operator event stream is open (operator SUBSCRIBE opens one)",
            ));
        };
        op.stream.close();
        op.view.cancel();
        if let Some(bundle) = op.stream.with_state(|s| view_of(s)) {
            ctx.publisher.update_display(&bundle, &op.display_id);
        }
        let snapshot = op.stream.snapshot();
        self.vars.set(VARIABLE, snapshot.clone());
        ctx.publisher
            .stream("stdout", "The operator event stream is closed.\n");
        let mut outcome = Outcome::shown(snapshot, None);
        outcome.shows = false;
        Ok(outcome)
    }

    /// A cell begins: the view's redraws go out with its publisher from now on.
    pub(crate) fn operator_cell_started(&self, publisher: &Publisher) {
        if let Some(op) = &self.operator {
            if let Ok(mut p) = op.publisher.lock() {
                *p = publisher.clone();
            }
        }
    }

    /// Shows the stream's notices (losses, reconnections) and copies it into `$operator`
    /// when it changed.
    pub(crate) fn sync_operator(&mut self, publisher: Option<&Publisher>) {
        let Some(op) = &self.operator else { return };
        if let Some(p) = publisher {
            for n in op.stream.take_notices() {
                p.stream("stderr", &format!("{n}\n"));
            }
        }
        if op.stream.changed_since_sync() {
            let snapshot = op.stream.snapshot();
            self.vars.set(VARIABLE, snapshot);
        }
    }

    /// For WAIT: copies `$operator` only when the condition names it and the stream
    /// changed since `seen`.
    pub(crate) fn sync_operator_for(
        &mut self,
        publisher: &Publisher,
        code: &str,
        seen: &mut Option<u64>,
    ) {
        let Some(op) = &self.operator else { return };
        for n in op.stream.take_notices() {
            publisher.stream("stderr", &format!("{n}\n"));
        }
        let version = Some(op.stream.version());
        if *seen == version || !referenced_names(code).contains(&VARIABLE) {
            return;
        }
        *seen = version;
        let snapshot = op.stream.snapshot();
        self.vars.set(VARIABLE, snapshot);
    }

    /// A receiver of the stream's changes, for WAIT.
    pub(crate) fn operator_changes(&self) -> Option<watch::Receiver<u64>> {
        self.operator.as_ref().map(|o| o.stream.changes())
    }

    /// The kernel's MARK_AGENT_GONE was answered 200: the agent leaves the view (Mesos sends
    /// operator subscribers no event for it).
    pub(crate) fn operator_agent_gone(&self, call: &Value) {
        let gone = read_lenient::<MasterCall>(call).and_then(|c| c.mark_agent_gone);
        let (Some(op), Some(gone)) = (&self.operator, gone) else {
            return;
        };
        op.stream.agent_gone(&gone.agent_id.value);
    }

    /// What the engine's two sessions are, read from the sessions themselves (not from
    /// the variables a cell last copied): the framework's ids, whether its stream runs,
    /// its tasks; the operator stream's state. For tests and tools.
    pub fn sessions(&self) -> Value {
        let framework = self.session.as_ref().map(|s| {
            let st = s.state();
            json!({
                "active": s.is_active(),
                "framework_id": st.framework_id,
                "stream_id": st.stream_id,
                "tasks": st.tasks_in_order(),
            })
        });
        let operator = self.operator.as_ref().map(|o| {
            let (status, subscriptions, master) = o
                .stream
                .with_state(|s| (s.status.as_str(), s.subscriptions, s.master.clone()))
                .unwrap_or(("unknown", 0, String::new()));
            json!({
                "open": o.stream.is_open(),
                "status": status,
                "subscriptions": subscriptions,
                "master": master,
                "display_id": o.display_id,
            })
        });
        json!({"framework": framework, "operator": operator})
    }

    pub(crate) fn operator_shutdown(&mut self) {
        if let Some(op) = self.operator.take() {
            op.stream.close();
        }
    }
}
