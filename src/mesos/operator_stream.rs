//! The master's operator event stream (`SUBSCRIBE` on `/api/v1`), read on a background task
//! and kept open: the cluster as the master last described it (SUBSCRIBED's `get_state`,
//! then every TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED,
//! FRAMEWORK_UPDATED, FRAMEWORK_REMOVED), the latest events, and the heartbeat. A lost
//! stream is said so and opened again after a growing pause, at the leading master when a
//! leader watch moved the URL; the new SUBSCRIBED replaces the whole state.
//!
//! Mesos sends AGENT_REMOVED only for an agent that unregisters. An agent marked gone or
//! unreachable leaves the registered agents silently; its tasks' master-made updates
//! (reason REASON_AGENT_REMOVED or REASON_AGENT_REMOVED_BY_OPERATOR) say it, and so does a
//! MARK_AGENT_GONE the kernel itself sent (`agent_gone`).

use crate::mesos::client::Client;
use crate::mesos::error::MesosError;
use crate::mesos::event_stream::{self, endpoint, patience, Backoff, StreamEnd};
use crate::mesos::v1::ids::{id_json, id_text};
use crate::mesos::v1::operator::master::{AgentRemoved, EventType, TaskUpdated};
use crate::mesos::v1::{Reason, TaskState};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

/// Where the operator API is on the master.
pub const OPERATOR_PATH: &str = "/api/v1";
/// The event log keeps this many events; older ones are dropped.
pub const MAX_EVENTS: usize = 1000;
/// Ended tasks kept (the oldest ended go first), as the master keeps a bounded number of
/// completed tasks; live tasks are always kept.
pub const MAX_ENDED_TASKS: usize = 1000;
/// Removed frameworks kept.
pub const MAX_COMPLETED_FRAMEWORKS: usize = 100;
/// Until SUBSCRIBED says otherwise (Mesos's default heartbeat interval).
const DEFAULT_HEARTBEAT: f64 = 15.0;

/// Where the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting => "reconnecting",
            Status::Closed => "closed",
        }
    }
}

/// The cluster as the stream knows it.
#[derive(Debug, Default, Clone)]
pub struct OperatorState {
    pub status: Status,
    /// Why the stream is not connected (the loss, or the last failed attempt).
    pub problem: Option<String>,
    /// The master the stream is open on (where redirects led).
    pub master: String,
    pub heartbeat_interval: f64,
    pub last_heartbeat: Option<String>,
    /// SUBSCRIBED events seen: 1 on the first connection, one more per reconnection.
    pub subscriptions: u64,
    /// `Response.GetAgents.Agent` objects by agent id.
    pub agents: Map<String, Value>,
    /// `Response.GetFrameworks.Framework` objects by framework id.
    pub frameworks: Map<String, Value>,
    pub completed_frameworks: VecDeque<Value>,
    /// v1 `Task` objects by `framework/task`, in the order the stream first saw them; their
    /// `state` and `statuses` follow TASK_UPDATED.
    pub tasks: Map<String, Value>,
    /// Keys of ended tasks, oldest ended first.
    ended: VecDeque<String>,
    pub events: VecDeque<Value>,
    pub events_received: u64,
    /// Lines to show in the next cell's output (losses, reconnections).
    pub notices: Vec<String>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The id (`{"value": ...}`) at `pointer` in a message kept as JSON.
fn id_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(id_text)
}

fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Whether a task in this state never changes again.
pub fn is_terminal(state: &str) -> bool {
    TaskState::from_name(state).is_terminal()
}

fn task_key(task: &Value) -> Option<String> {
    Some(format!(
        "{}/{}",
        id_at(task, "/framework_id")?,
        id_at(task, "/task_id")?
    ))
}

impl OperatorState {
    /// The whole state from a SUBSCRIBED event's `get_state`.
    pub fn apply_subscribed(&mut self, subscribed: &Value) {
        let state = subscribed.get("get_state").unwrap_or(&Value::Null);
        self.heartbeat_interval = subscribed
            .get("heartbeat_interval_seconds")
            .and_then(Value::as_f64)
            .unwrap_or(DEFAULT_HEARTBEAT);
        self.agents.clear();
        for a in list(state, "/get_agents/agents") {
            if let Some(id) = id_at(a, "/agent_info/id") {
                self.agents.insert(id.to_string(), a.clone());
            }
        }
        self.frameworks.clear();
        for f in list(state, "/get_frameworks/frameworks") {
            if let Some(id) = id_at(f, "/framework_info/id") {
                self.frameworks.insert(id.to_string(), f.clone());
            }
        }
        self.completed_frameworks = list(state, "/get_frameworks/completed_frameworks")
            .iter()
            .cloned()
            .collect();
        while self.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
            self.completed_frameworks.pop_front();
        }
        self.tasks.clear();
        self.ended.clear();
        for key in [
            "pending_tasks",
            "tasks",
            "unreachable_tasks",
            "completed_tasks",
        ] {
            for t in list(state, &format!("/get_tasks/{key}")) {
                self.put_task(t.clone());
            }
        }
    }

    fn put_task(&mut self, task: Value) {
        let Some(key) = task_key(&task) else { return };
        let ended = task
            .get("state")
            .and_then(Value::as_str)
            .is_some_and(is_terminal);
        self.tasks.insert(key.clone(), task);
        if ended {
            self.task_ended(key);
        }
    }

    fn task_ended(&mut self, key: String) {
        self.ended.push_back(key);
        while self.ended.len() > MAX_ENDED_TASKS {
            if let Some(old) = self.ended.pop_front() {
                self.tasks.shift_remove(&old);
            }
        }
    }

    /// A task's new status (TASK_UPDATED), read as the vocabulary's `TaskUpdated`; the
    /// status is kept as it came.
    fn update_task(&mut self, update: &Value) {
        let (Some(status), Some(typed)) = (
            update.get("status"),
            crate::mesos::v1::message::read_lenient::<TaskUpdated>(update),
        ) else {
            return;
        };
        let (fid, tid) = (
            typed.framework_id.value.as_str(),
            typed.status.task_id.value.as_str(),
        );
        if fid.is_empty() || tid.is_empty() {
            return;
        }
        // The update's own state, else its status's (a newer Mesos may send only one).
        let state = if update.get("state").is_some() {
            typed.state.as_str().to_string()
        } else {
            typed.status.state.as_str().to_string()
        };
        let key = format!("{fid}/{tid}");
        let was_ended = self
            .tasks
            .get(&key)
            .and_then(|t| t.get("state"))
            .and_then(Value::as_str)
            .is_some_and(is_terminal);
        let task = self.tasks.entry(key.clone()).or_insert_with(|| {
            // An update for a task the stream never saw added (it began before a gap).
            json!({
                "task_id": status.get("task_id"),
                "framework_id": id_json(fid),
                "agent_id": status.get("agent_id"),
                "statuses": [],
            })
        });
        if let Value::Object(t) = task {
            t.insert("state".into(), Value::String(state.clone()));
            match t.get_mut("statuses") {
                Some(Value::Array(statuses)) => statuses.push(status.clone()),
                _ => {
                    t.insert("statuses".into(), json!([status]));
                }
            }
        }
        if is_terminal(&state) && !was_ended {
            self.task_ended(key);
        }
        // A master-made status saying the agent was removed: the agent has left the
        // registered agents, and Mesos sends no AGENT_REMOVED for that.
        if matches!(
            typed.status.reason,
            Some(Reason::AgentRemoved | Reason::AgentRemovedByOperator)
        ) {
            if let Some(agent) = &typed.status.agent_id {
                self.agents.shift_remove(&agent.value);
            }
        }
    }

    /// Applies one event and logs it.
    pub fn apply(&mut self, event: Value) {
        let kind = EventType::from_name(event.get("type").and_then(Value::as_str).unwrap_or(""));
        match kind {
            EventType::Subscribed => {
                let sub = event.get("subscribed").unwrap_or(&Value::Null);
                self.apply_subscribed(sub);
                // The log keeps what the event said, not a second copy of the state.
                let logged = json!({"type": "SUBSCRIBED", "subscribed": {
                    "heartbeat_interval_seconds": self.heartbeat_interval,
                    "agents": self.agents.len(),
                    "frameworks": self.frameworks.len(),
                    "tasks": self.tasks.len(),
                }});
                self.log(logged);
                return;
            }
            EventType::TaskAdded => {
                if let Some(task) = event.pointer("/task_added/task") {
                    self.put_task(task.clone());
                }
            }
            EventType::TaskUpdated => {
                if let Some(update) = event.get("task_updated") {
                    self.update_task(update);
                }
            }
            EventType::FrameworkAdded | EventType::FrameworkUpdated => {
                let f = event
                    .pointer("/framework_added/framework")
                    .or_else(|| event.pointer("/framework_updated/framework"));
                if let Some(f) = f {
                    if let Some(id) = id_at(f, "/framework_info/id") {
                        self.frameworks.insert(id.to_string(), f.clone());
                    }
                }
            }
            EventType::FrameworkRemoved => {
                if let Some(info) = event.pointer("/framework_removed/framework_info") {
                    let id = id_at(info, "/id").unwrap_or("");
                    let mut gone = self
                        .frameworks
                        .shift_remove(id)
                        .unwrap_or_else(|| json!({}));
                    if let Value::Object(g) = &mut gone {
                        g.insert("framework_info".into(), info.clone());
                        g.insert("active".into(), Value::Bool(false));
                        g.insert("connected".into(), Value::Bool(false));
                    }
                    self.completed_frameworks.push_back(gone);
                    while self.completed_frameworks.len() > MAX_COMPLETED_FRAMEWORKS {
                        self.completed_frameworks.pop_front();
                    }
                }
            }
            EventType::AgentAdded => {
                if let Some(a) = event.pointer("/agent_added/agent") {
                    if let Some(id) = id_at(a, "/agent_info/id") {
                        self.agents.insert(id.to_string(), a.clone());
                    }
                }
            }
            EventType::AgentRemoved => {
                let removed = event
                    .get("agent_removed")
                    .and_then(|r| AgentRemoved::deserialize(r).ok());
                if let Some(r) = removed {
                    self.agents.shift_remove(&r.agent_id.value);
                }
            }
            EventType::Heartbeat => self.last_heartbeat = Some(now()),
            other => debug!("operator event {other} kept in the log only"),
        }
        self.log(event);
    }

    fn log(&mut self, mut event: Value) {
        self.events_received += 1;
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        if let Value::Object(m) = &mut event {
            m.insert("received".into(), json!(now()));
        }
        self.events.push_back(event);
    }

    /// Live tasks in the order they were seen, then ended ones, the latest ended first.
    pub fn tasks_for_view(&self) -> impl Iterator<Item = &Value> {
        let live = self.tasks.values().filter(|t| {
            !t.get("state")
                .and_then(Value::as_str)
                .is_some_and(is_terminal)
        });
        let ended = self.ended.iter().rev().filter_map(|k| self.tasks.get(k));
        live.chain(ended)
    }

    /// The state as one JSON value (the cells' `$operator`).
    pub fn to_value(&self) -> Value {
        json!({
            "status": self.status.as_str(),
            "problem": self.problem,
            "master": self.master,
            "heartbeat_interval_seconds": self.heartbeat_interval,
            "last_heartbeat": self.last_heartbeat,
            "subscriptions": self.subscriptions,
            "events_received": self.events_received,
            "agents": self.agents.values().cloned().collect::<Vec<_>>(),
            "frameworks": self.frameworks.values().cloned().collect::<Vec<_>>(),
            "completed_frameworks": self.completed_frameworks.iter().cloned().collect::<Vec<_>>(),
            "tasks": self.tasks.values().cloned().collect::<Vec<_>>(),
            "events": self.events.iter().cloned().collect::<Vec<_>>(),
        })
    }
}

/// Changes the state and tells the watchers.
fn update(
    shared: &Mutex<OperatorState>,
    changes: &watch::Sender<u64>,
    f: impl FnOnce(&mut OperatorState),
) {
    if let Ok(mut s) = shared.lock() {
        f(&mut s);
    }
    changes.send_modify(|v| *v += 1);
}

/// An open operator stream. Dropping it closes the stream.
pub struct OperatorStream {
    shared: Arc<Mutex<OperatorState>>,
    changes_tx: Arc<watch::Sender<u64>>,
    changes: watch::Receiver<u64>,
    /// The change count the engine last copied into `$operator`.
    synced: AtomicU64,
    stop: CancellationToken,
}

struct Reader {
    shared: Arc<Mutex<OperatorState>>,
    changes: Arc<watch::Sender<u64>>,
    client: Client,
    master: Arc<Mutex<String>>,
    stop: CancellationToken,
}

type Ready = Option<oneshot::Sender<Result<(), MesosError>>>;

impl OperatorStream {
    /// Sends SUBSCRIBE to the master's operator API and returns once SUBSCRIBED arrived (or
    /// the master refused, or `timeout` passed); the stream then goes on in the background.
    pub async fn open(
        client: &Client,
        master: Arc<Mutex<String>>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<OperatorStream, MesosError> {
        let shared = Arc::new(Mutex::new(OperatorState {
            heartbeat_interval: DEFAULT_HEARTBEAT,
            master: endpoint(&master, ""),
            ..OperatorState::default()
        }));
        let (tx, rx) = watch::channel(0u64);
        let changes_tx = Arc::new(tx);
        let stop = CancellationToken::new();
        let reader = Reader {
            shared: shared.clone(),
            changes: changes_tx.clone(),
            client: client.clone(),
            master: master.clone(),
            stop: stop.clone(),
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(reader.run(ready_tx));
        let url = endpoint(&master, OPERATOR_PATH);
        let first = tokio::select! {
            r = tokio::time::timeout(timeout, ready_rx) => r,
            _ = cancel.cancelled() => { stop.cancel(); return Err(MesosError::Interrupted) }
        };
        let failed = match first {
            Ok(Ok(Ok(()))) => None,
            Ok(Ok(Err(e))) => Some(e),
            Ok(Err(_)) => Some(MesosError::BadResponse {
                url,
                detail: "the stream ended before SUBSCRIBED".into(),
            }),
            Err(_) => Some(MesosError::Timeout {
                method: "POST".into(),
                url,
                after: timeout,
            }),
        };
        if let Some(e) = failed {
            stop.cancel();
            return Err(e);
        }
        Ok(OperatorStream {
            shared,
            changes_tx,
            changes: rx,
            synced: AtomicU64::new(u64::MAX),
            stop,
        })
    }

    pub fn with_state<R>(&self, f: impl FnOnce(&mut OperatorState) -> R) -> Option<R> {
        self.shared.lock().ok().map(|mut s| f(&mut s))
    }

    /// `$operator`: the state as one value.
    pub fn snapshot(&self) -> Value {
        self.with_state(|s| s.to_value()).unwrap_or(Value::Null)
    }

    /// The shared state, for a live view that outlives a cell.
    pub fn state_handle(&self) -> Arc<Mutex<OperatorState>> {
        self.shared.clone()
    }

    /// A receiver that changes whenever the state does.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    pub fn version(&self) -> u64 {
        *self.changes.borrow()
    }

    /// Whether the state changed since the last call.
    pub fn changed_since_sync(&self) -> bool {
        let now = *self.changes.borrow();
        self.synced.swap(now, Ordering::Relaxed) != now
    }

    pub fn take_notices(&self) -> Vec<String> {
        self.with_state(|s| std::mem::take(&mut s.notices))
            .unwrap_or_default()
    }

    pub fn is_open(&self) -> bool {
        !self.stop.is_cancelled()
    }

    /// The kernel marked an agent gone (MARK_AGENT_GONE answered 200): Mesos tells
    /// operator subscribers nothing of it, so the agent leaves the view here.
    pub fn agent_gone(&self, agent_id: &str) {
        update(&self.shared, &self.changes_tx, |s| {
            s.agents.shift_remove(agent_id);
        });
    }

    /// Closes the stream; the state stays as it was last seen, marked closed.
    pub fn close(&self) {
        self.stop.cancel();
        update(&self.shared, &self.changes_tx, |s| {
            s.status = Status::Closed;
            s.problem = None;
        });
    }
}

impl Drop for OperatorStream {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Reader {
    fn update(&self, f: impl FnOnce(&mut OperatorState)) {
        update(&self.shared, &self.changes, f);
    }

    async fn run(self, ready: oneshot::Sender<Result<(), MesosError>>) {
        let mut ready = Some(ready);
        let mut backoff = Backoff::default();
        loop {
            let end = self.connect_once(&mut ready, &mut backoff).await;
            if let Some(r) = ready.take() {
                // The first connection failed: the cell that opened the stream says why.
                let error = match end {
                    StreamEnd::Stopped => return,
                    StreamEnd::Refused(e) => e,
                    StreamEnd::Lost(why) => MesosError::BadResponse {
                        url: endpoint(&self.master, OPERATOR_PATH),
                        detail: why,
                    },
                };
                let _ = r.send(Err(error));
                return;
            }
            match end {
                StreamEnd::Stopped => return,
                StreamEnd::Refused(e) => {
                    self.update(|s| {
                        s.status = Status::Reconnecting;
                        s.problem = Some(format!("reconnecting failed: {e}"));
                    });
                }
                StreamEnd::Lost(why) => {
                    warn!("operator event stream lost: {why}");
                    self.update(|s| {
                        s.status = Status::Reconnecting;
                        s.problem = Some(why.clone());
                        s.notices.push(format!(
                            "The operator event stream was lost ({why}); reconnecting."
                        ));
                    });
                }
            }
            if !backoff
                .pause(&self.master, OPERATOR_PATH, &self.stop, || false)
                .await
            {
                return;
            }
        }
    }

    async fn connect_once(&self, ready: &mut Ready, backoff: &mut Backoff) -> StreamEnd {
        let url = endpoint(&self.master, OPERATOR_PATH);
        let call = crate::mesos::v1::operator::master::Call {
            kind: Some(crate::mesos::v1::operator::master::CallType::Subscribe),
            ..Default::default()
        };
        let body = crate::mesos::v1::sparse(|| serde_json::to_vec(&call)).unwrap_or_default();
        let opened = match event_stream::open(&self.client, &url, body, &self.stop).await {
            Ok(o) => o,
            Err(end) => return end,
        };
        let master = opened.origin;
        let mut events = opened.events;
        loop {
            let interval = self
                .shared
                .lock()
                .map(|s| s.heartbeat_interval)
                .unwrap_or(DEFAULT_HEARTBEAT);
            let event = match events.next(patience(interval), &self.stop).await {
                Ok(e) => e,
                Err(end) => return end,
            };
            let subscribed =
                event.get("type").and_then(Value::as_str) == Some(EventType::Subscribed.as_str());
            self.update(|s| {
                s.apply(event);
                if subscribed {
                    s.status = Status::Connected;
                    s.problem = None;
                    s.master = master.clone();
                    s.subscriptions += 1;
                    if s.subscriptions > 1 {
                        s.notices.push(format!(
                            "The operator event stream is open again at {master}; the cluster's state was read anew."
                        ));
                    }
                }
            });
            if subscribed {
                backoff.reset();
                if let Some(r) = ready.take() {
                    let _ = r.send(Ok(()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(fid: &str, tid: &str, agent: &str, state: &str) -> Value {
        json!({"task_id": {"value": tid}, "framework_id": {"value": fid},
               "agent_id": {"value": agent}, "name": tid, "state": state, "statuses": []})
    }

    fn agent(id: &str) -> Value {
        json!({"agent_info": {"id": {"value": id}, "hostname": "h"}, "active": true})
    }

    fn subscribed() -> Value {
        json!({"type": "SUBSCRIBED", "subscribed": {"heartbeat_interval_seconds": 2.0, "get_state": {
            "get_agents": {"agents": [agent("S0"), agent("S1")]},
            "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "F"}, "name": "f"}, "active": true}]},
            "get_tasks": {"tasks": [task("F", "a", "S0", "TASK_RUNNING")],
                          "completed_tasks": [task("F", "old", "S0", "TASK_FINISHED")]},
        }}})
    }

    fn updated(tid: &str, agent: &str, state: &str, reason: Option<&str>) -> Value {
        let mut status =
            json!({"task_id": {"value": tid}, "agent_id": {"value": agent}, "state": state});
        if let Some(r) = reason {
            status["reason"] = json!(r);
            status["source"] = json!("SOURCE_MASTER");
        }
        json!({"type": "TASK_UPDATED", "task_updated": {"framework_id": {"value": "F"}, "status": status, "state": state}})
    }

    #[test]
    fn subscribed_then_events_keep_the_cluster() {
        let mut s = OperatorState::default();
        s.apply(subscribed());
        assert_eq!(s.heartbeat_interval, 2.0);
        assert_eq!(s.agents.len(), 2);
        assert_eq!(s.tasks.len(), 2);
        // The log keeps counts, not the state twice.
        assert_eq!(s.events[0]["subscribed"]["tasks"], 2);
        assert!(s.events[0]["subscribed"].get("get_state").is_none());

        s.apply(json!({"type": "TASK_ADDED", "task_added": {"task": task("F", "b", "S1", "TASK_STAGING")}}));
        s.apply(updated("b", "S1", "TASK_RUNNING", None));
        let b = &s.tasks["F/b"];
        assert_eq!(b["state"], "TASK_RUNNING");
        assert_eq!(b["statuses"].as_array().unwrap().len(), 1);

        s.apply(json!({"type": "AGENT_ADDED", "agent_added": {"agent": agent("S2")}}));
        s.apply(json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": {"value": "S2"}}}));
        assert_eq!(s.agents.keys().collect::<Vec<_>>(), ["S0", "S1"]);

        // A task on an agent marked gone: the master's update removes the agent too.
        s.apply(updated(
            "b",
            "S1",
            "TASK_GONE_BY_OPERATOR",
            Some("REASON_AGENT_REMOVED_BY_OPERATOR"),
        ));
        assert!(!s.agents.contains_key("S1"));
        assert_eq!(s.tasks["F/b"]["state"], "TASK_GONE_BY_OPERATOR");
        // Live tasks come first in the view, then the latest ended.
        let order: Vec<&str> = s
            .tasks_for_view()
            .map(|t| t["task_id"]["value"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["a", "b", "old"]);

        s.apply(json!({"type": "FRAMEWORK_REMOVED", "framework_removed": {"framework_info": {"id": {"value": "F"}, "name": "f"}}}));
        assert!(s.frameworks.is_empty());
        assert_eq!(s.completed_frameworks[0]["active"], false);

        s.apply(json!({"type": "HEARTBEAT"}));
        assert!(s.last_heartbeat.is_some());
        let v = s.to_value();
        assert_eq!(v["agents"].as_array().unwrap().len(), 1);
        assert_eq!(v["events"].as_array().unwrap().len(), 8);
        assert!(v["events"][7]["received"].is_string());
    }

    #[test]
    fn an_update_for_an_unseen_task_adds_it() {
        let mut s = OperatorState::default();
        s.apply(updated("x", "S0", "TASK_RUNNING", None));
        assert_eq!(s.tasks["F/x"]["state"], "TASK_RUNNING");
        assert_eq!(s.tasks["F/x"]["agent_id"]["value"], "S0");
    }

    #[test]
    fn ended_tasks_and_events_are_bounded() {
        let mut s = OperatorState::default();
        s.apply(json!({"type": "TASK_ADDED", "task_added": {"task": task("F", "live", "S0", "TASK_RUNNING")}}));
        for i in 0..MAX_ENDED_TASKS + 10 {
            let id = format!("t{i}");
            s.apply(json!({"type": "TASK_ADDED", "task_added": {"task": task("F", &id, "S0", "TASK_STAGING")}}));
            s.apply(updated(&id, "S0", "TASK_FINISHED", None));
            // A repeated terminal update does not count the task twice.
            s.apply(updated(&id, "S0", "TASK_FINISHED", None));
        }
        assert_eq!(s.tasks.len(), MAX_ENDED_TASKS + 1);
        assert!(s.tasks.contains_key("F/live"));
        assert!(!s.tasks.contains_key("F/t9") && s.tasks.contains_key("F/t10"));
        assert_eq!(s.events.len(), MAX_EVENTS);
    }
}
