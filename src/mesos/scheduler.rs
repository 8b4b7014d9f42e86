//! The scheduler session: a SUBSCRIBE stream read on a background task, and the chores
//! Mesos leaves to frameworks: the Mesos-Stream-Id and framework_id on every call,
//! acknowledging updates exactly once, watching heartbeats, and re-subscribing with the
//! framework id when the stream is lost.

use crate::mesos::client::{json_headers, Client};
use crate::mesos::error::{error_message, MesosError};
use crate::mesos::recordio::Decoder;
use futures::StreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, watch, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// The event log keeps this many events; older ones are dropped.
pub const MAX_EVENTS: usize = 1000;
/// Missed heartbeats before the stream is considered lost (Mesos advises about 5).
pub const MISSED_HEARTBEATS: f64 = 5.0;
/// Acknowledged uuids remembered (to acknowledge a re-sent update once): the master re-sends
/// only an update still waiting for its acknowledgement, so the recent ones suffice, and
/// the set stays bounded however many updates a long session sees.
const REMEMBERED_ACKS: usize = 4096;
/// Acknowledgements in flight at once. Each task's next update waits for the ack of its
/// previous one, so sending them one at a time, in the reading loop, capped a flood of
/// updates at one HTTP round trip per event.
const ACKS_IN_FLIGHT: usize = 8;

/// What the session knows, updated by the stream task and read by cells.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub framework_id: Option<String>,
    pub stream_id: Option<String>,
    pub master_info: Value,
    pub heartbeat_interval: f64,
    /// Outstanding offers (added on OFFERS, removed on RESCIND or use).
    pub offers: Vec<Value>,
    /// The latest status per task id, in launch order, with the task's name when known.
    pub tasks: BTreeMap<String, Value>,
    pub task_order: Vec<String>,
    pub events: VecDeque<Value>,
    pub last_heartbeat: Option<String>,
    pub connected: bool,
    /// Set when the master ended the framework (ERROR event, TEARDOWN).
    pub ended: Option<String>,
    /// Lines to show in the next cell's output (reconnections, errors).
    pub notices: Vec<String>,
    pub manual_ack: bool,
    /// Updates with a uuid that wait for a manual ACKNOWLEDGE.
    pub unacked: Vec<Value>,
    pub acked: HashSet<String>,
    /// `acked` in the order of acknowledgement, to forget the oldest.
    acked_order: VecDeque<String>,
    pub ack_count: u64,
    pub subscriptions: u64,
}

impl State {
    pub fn tasks_in_order(&self) -> Vec<Value> {
        self.task_order
            .iter()
            .filter_map(|id| self.tasks.get(id).cloned())
            .collect()
    }

    fn log(&mut self, mut event: Value) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        if let Value::Object(m) = &mut event {
            m.insert("received".into(), json!(now()));
        }
        self.events.push_back(event);
    }

    fn remember_ack(&mut self, uuid: &str) {
        if self.acked.insert(uuid.to_string()) {
            self.acked_order.push_back(uuid.to_string());
        }
        while self.acked_order.len() > REMEMBERED_ACKS {
            if let Some(old) = self.acked_order.pop_front() {
                self.acked.remove(&old);
            }
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A subscribed framework. Dropping it does not end the framework; `teardown` does.
pub struct Session {
    shared: Arc<Mutex<State>>,
    changes: watch::Receiver<u64>,
    /// The change count the engine last copied into session variables.
    synced: AtomicU64,
    client: Client,
    /// The master's URL; a leader watch moves it when the leading master changes.
    master: Arc<Mutex<String>>,
    stop: CancellationToken,
}

struct Stream {
    shared: Arc<Mutex<State>>,
    /// Shared with the acknowledgement tasks, which change the state too.
    changes: Arc<watch::Sender<u64>>,
    acks: Arc<Semaphore>,
    client: Client,
    master: Arc<Mutex<String>>,
    subscribe: Value,
    stop: CancellationToken,
}

/// How often a paused re-subscription looks whether the leading master changed.
const LEADER_POLL: Duration = Duration::from_millis(50);

fn scheduler_url(master: &Mutex<String>) -> String {
    let base = master.lock().map(|m| m.clone()).unwrap_or_default();
    format!("{}/api/v1/scheduler", base.trim_end_matches('/'))
}

impl Session {
    /// Sends SUBSCRIBE and returns once SUBSCRIBED arrives (or the master refuses).
    pub async fn subscribe(
        client: &Client,
        master: Arc<Mutex<String>>,
        subscribe: Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Session, MesosError> {
        let shared = Arc::new(Mutex::new(State {
            heartbeat_interval: 15.0,
            ..State::default()
        }));
        let (tx, rx) = watch::channel(0u64);
        let stop = CancellationToken::new();
        let stream = Stream {
            shared: shared.clone(),
            changes: Arc::new(tx),
            acks: Arc::new(Semaphore::new(ACKS_IN_FLIGHT)),
            client: client.clone(),
            master: master.clone(),
            subscribe,
            stop: stop.clone(),
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(stream.run(ready_tx));
        let first = tokio::select! {
            r = tokio::time::timeout(timeout, ready_rx) => r,
            _ = cancel.cancelled() => { stop.cancel(); return Err(MesosError::Interrupted) }
        };
        match first {
            Ok(Ok(Ok(()))) => Ok(Session {
                shared,
                changes: rx,
                synced: AtomicU64::new(u64::MAX),
                client: client.clone(),
                master,
                stop,
            }),
            Ok(Ok(Err(e))) => {
                stop.cancel();
                Err(e)
            }
            Ok(Err(_)) => Err(MesosError::BadResponse {
                url: scheduler_url(&master),
                detail: "the stream ended before SUBSCRIBED".into(),
            }),
            Err(_) => {
                stop.cancel();
                Err(MesosError::Timeout {
                    method: "POST".into(),
                    url: scheduler_url(&master),
                    after: timeout,
                })
            }
        }
    }

    pub fn state(&self) -> State {
        self.shared.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> Option<R> {
        self.shared.lock().ok().map(|mut s| f(&mut s))
    }

    /// The shared state, for live views that outlive a cell.
    pub fn state_handle(&self) -> Arc<Mutex<State>> {
        self.shared.clone()
    }

    /// Whether the state changed since the last call: a cell copies the session into its
    /// variables only then (a flood of updates makes `$tasks` big and copying it costly).
    pub fn changed_since_sync(&self) -> bool {
        let now = *self.changes.borrow();
        self.synced.swap(now, Ordering::Relaxed) != now
    }

    /// How many times the state changed so far.
    pub fn version(&self) -> u64 {
        *self.changes.borrow()
    }

    /// A receiver that changes whenever the session state does (for WAIT and live views).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    pub fn is_active(&self) -> bool {
        !self.stop.is_cancelled()
    }

    pub fn take_notices(&self) -> Vec<String> {
        self.with_state(|s| std::mem::take(&mut s.notices))
            .unwrap_or_default()
    }

    /// Sends a scheduler call with the framework id and Mesos-Stream-Id filled in.
    pub async fn call(
        &self,
        mut body: Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        let (fid, sid) = self
            .with_state(|s| (s.framework_id.clone(), s.stream_id.clone()))
            .unwrap_or((None, None));
        if let (Value::Object(m), Some(fid)) = (&mut body, &fid) {
            m.entry("framework_id")
                .or_insert_with(|| json!({ "value": fid }));
        }
        let mut headers = json_headers();
        if let Some(sid) = sid {
            headers.push(("Mesos-Stream-Id".into(), sid));
        }
        let url = scheduler_url(&self.master);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let teardown = body.get("type").and_then(Value::as_str) == Some("TEARDOWN");
        if teardown {
            // The master closes the stream at once: that end is expected, not a loss.
            self.with_state(|s| s.ended = Some("the framework was torn down".into()));
        }
        let reply = self
            .client
            .request("POST", &url, &headers, Some(bytes), timeout, cancel)
            .await;
        if teardown && !reply.as_ref().is_ok_and(|r| (200..300).contains(&r.status)) {
            self.with_state(|s| s.ended = None);
        }
        let reply = reply?;
        if (200..300).contains(&reply.status) {
            if body.get("type").and_then(Value::as_str) == Some("TEARDOWN") {
                self.end("the framework was torn down");
            }
            return Ok(reply.value());
        }
        Err(MesosError::Http {
            method: "POST".into(),
            url,
            status: reply.status,
            message: error_message(&reply.body, &reply.status.to_string()),
        })
    }

    /// Acknowledges one update by hand (`%ack manual`).
    pub async fn acknowledge(
        &self,
        status: &Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), MesosError> {
        let body = ack_body(status);
        self.call(body, timeout, cancel).await?;
        let uuid = status
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.with_state(|s| {
            s.remember_ack(&uuid);
            s.ack_count += 1;
            s.unacked
                .retain(|u| u.get("uuid").and_then(Value::as_str) != Some(uuid.as_str()));
        });
        Ok(())
    }

    pub fn end(&self, why: &str) {
        self.with_state(|s| {
            s.ended = Some(why.to_string());
            s.connected = false;
            s.offers.clear();
        });
        self.stop.cancel();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the stream disconnects the framework; it may re-subscribe within its
        // failover timeout.
        self.stop.cancel();
    }
}

fn ack_body(status: &Value) -> Value {
    json!({
        "type": "ACKNOWLEDGE",
        "acknowledge": {
            "agent_id": status.get("agent_id").cloned().unwrap_or(Value::Null),
            "task_id": status.get("task_id").cloned().unwrap_or(Value::Null),
            "uuid": status.get("uuid").cloned().unwrap_or(Value::Null),
        }
    })
}

enum StreamEnd {
    Stopped,
    Lost(String),
    Refused(MesosError),
}

impl Stream {
    fn update(&self, f: impl FnOnce(&mut State)) {
        update(&self.shared, &self.changes, f);
    }

    async fn run(mut self, ready: oneshot::Sender<Result<(), MesosError>>) {
        let mut ready = Some(ready);
        let mut backoff = Duration::from_millis(250);
        loop {
            match self.connect_once(&mut ready).await {
                StreamEnd::Stopped => return,
                StreamEnd::Refused(e) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Err(e));
                        return;
                    }
                    self.update(|s| {
                        s.notices
                            .push(format!("re-subscribing failed: {e}; retrying"))
                    });
                }
                StreamEnd::Lost(why) => {
                    if ready.is_some() {
                        if let Some(r) = ready.take() {
                            let _ = r.send(Err(MesosError::BadResponse {
                                url: scheduler_url(&self.master),
                                detail: why,
                            }));
                        }
                        return;
                    }
                    let ended = self
                        .shared
                        .lock()
                        .map(|s| s.ended.is_some())
                        .unwrap_or(true);
                    if ended {
                        return;
                    }
                    warn!("scheduler stream lost: {why}");
                    self.update(|s| {
                        s.connected = false;
                        s.offers.clear();
                        s.notices
                            .push(format!("The event stream was lost ({why}); reconnecting."));
                    });
                }
            }
            // Re-subscribe as the same framework, after a growing pause.
            let fid = self.shared.lock().ok().and_then(|s| s.framework_id.clone());
            // Mesos compares the call's framework_id with framework_info.id: set both.
            if let Some(fid) = fid {
                if let Some(Value::Object(info)) =
                    self.subscribe.pointer_mut("/subscribe/framework_info")
                {
                    info.insert("id".into(), json!({ "value": fid }));
                }
                if let Value::Object(call) = &mut self.subscribe {
                    call.insert("framework_id".into(), json!({ "value": fid }));
                }
            }
            // A new leader (the leader watch moved the URL) ends the pause at once: waiting
            // out a backoff grown against the dead leader would only delay the failover.
            let tried = scheduler_url(&self.master);
            let resume = tokio::time::Instant::now() + backoff;
            let mut moved = false;
            while tokio::time::Instant::now() < resume {
                tokio::select! {
                    _ = tokio::time::sleep_until(resume.min(tokio::time::Instant::now() + LEADER_POLL)) => {}
                    _ = self.stop.cancelled() => return,
                }
                if scheduler_url(&self.master) != tried {
                    moved = true;
                    break;
                }
            }
            backoff = if moved {
                Duration::from_millis(250)
            } else {
                (backoff * 2).min(Duration::from_secs(10))
            };
        }
    }

    async fn connect_once(
        &mut self,
        ready: &mut Option<oneshot::Sender<Result<(), MesosError>>>,
    ) -> StreamEnd {
        let url = scheduler_url(&self.master);
        let body = serde_json::to_vec(&self.subscribe).unwrap_or_default();
        let response = tokio::select! {
            r = self.client.post_stream(&url, body) => r,
            _ = self.stop.cancelled() => return StreamEnd::Stopped,
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => return StreamEnd::Refused(e),
        };
        let status = response.status().as_u16();
        if status != 200 {
            let bytes = response.bytes().await.unwrap_or_default();
            return StreamEnd::Refused(MesosError::Http {
                method: "POST".into(),
                url,
                status,
                message: error_message(&bytes, &status.to_string()),
            });
        }
        let stream_id = response
            .headers()
            .get("Mesos-Stream-Id")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        self.update(|s| s.stream_id = stream_id.clone());
        let mut body = response.bytes_stream();
        let mut decoder = Decoder::new();
        loop {
            let interval = self
                .shared
                .lock()
                .map(|s| s.heartbeat_interval)
                .unwrap_or(15.0)
                .max(0.01);
            let patience = Duration::from_secs_f64(interval * MISSED_HEARTBEATS);
            let chunk = tokio::select! {
                c = tokio::time::timeout(patience, body.next()) => c,
                _ = self.stop.cancelled() => return StreamEnd::Stopped,
            };
            let chunk = match chunk {
                Err(_) => {
                    return StreamEnd::Lost(format!(
                        "no heartbeat for {:.1}s",
                        patience.as_secs_f64()
                    ))
                }
                Ok(None) => return StreamEnd::Lost("the master closed the stream".into()),
                Ok(Some(Err(e))) => return StreamEnd::Lost(format!("the stream broke: {e}")),
                Ok(Some(Ok(c))) => c,
            };
            decoder.push(&chunk);
            while let Some(record) = decoder.next_record() {
                let record = match record {
                    Ok(r) => r,
                    Err(e) => return StreamEnd::Lost(format!("bad framing: {e}")),
                };
                let event: Value = match serde_json::from_slice(&record) {
                    Ok(v) => v,
                    Err(e) => {
                        warn!("ignored an event that is not JSON: {e}");
                        continue;
                    }
                };
                if let Some(end) = self.handle(event, ready).await {
                    return end;
                }
            }
        }
    }

    /// Applies one event; returns how the stream ends when the event ends it.
    async fn handle(
        &self,
        event: Value,
        ready: &mut Option<oneshot::Sender<Result<(), MesosError>>>,
    ) -> Option<StreamEnd> {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        debug!("scheduler event {kind}");
        let mut ack: Option<Value> = None;
        let mut end = None;
        self.update(|s| {
            match kind.as_str() {
                "SUBSCRIBED" => {
                    let sub = &event["subscribed"];
                    let fid = sub
                        .pointer("/framework_id/value")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let again = s.subscriptions > 0;
                    s.framework_id = fid.clone();
                    s.heartbeat_interval = sub
                        .get("heartbeat_interval_seconds")
                        .and_then(Value::as_f64)
                        .unwrap_or(15.0);
                    s.master_info = sub.get("master_info").cloned().unwrap_or(Value::Null);
                    s.connected = true;
                    s.subscriptions += 1;
                    if again {
                        s.notices.push(format!(
                            "Re-subscribed as framework {}.",
                            fid.unwrap_or_default()
                        ));
                    }
                }
                "OFFERS" => {
                    if let Some(list) = event.pointer("/offers/offers").and_then(Value::as_array) {
                        s.offers.extend(list.iter().cloned());
                    }
                }
                "RESCIND" => {
                    let id = event.pointer("/rescind/offer_id/value").cloned();
                    s.offers.retain(|o| o.pointer("/id/value") != id.as_ref());
                }
                "UPDATE" => {
                    let null = Value::Null;
                    let status = event.pointer("/update/status").unwrap_or(&null);
                    if let Some(id) = status.pointer("/task_id/value").and_then(Value::as_str) {
                        let mut merged = status.clone();
                        if let (Value::Object(m), Some(old)) = (&mut merged, s.tasks.get(id)) {
                            if let Some(name) = old.get("name") {
                                m.entry("name").or_insert(name.clone());
                            }
                        }
                        if !s.tasks.contains_key(id) {
                            s.task_order.push(id.to_string());
                        }
                        s.tasks.insert(id.to_string(), merged);
                    }
                    // Only updates carrying a uuid are acknowledged, and each uuid once.
                    if let Some(uuid) = status.get("uuid").and_then(Value::as_str) {
                        if !s.acked.contains(uuid) {
                            if s.manual_ack {
                                if !s
                                    .unacked
                                    .iter()
                                    .any(|u| u.get("uuid") == status.get("uuid"))
                                {
                                    s.unacked.push(status.clone());
                                }
                            } else {
                                s.remember_ack(uuid);
                                ack = Some(ack_body(status));
                            }
                        }
                    }
                }
                "HEARTBEAT" => s.last_heartbeat = Some(now()),
                // A FAILURE naming only an agent: the master lost that agent (unreachable
                // or marked gone). Its tasks' own updates say what became of them.
                "FAILURE" if event.pointer("/failure/executor_id").is_none() => {
                    if let Some(agent) = event
                        .pointer("/failure/agent_id/value")
                        .and_then(Value::as_str)
                    {
                        s.notices
                            .push(format!("The master lost agent {agent} (FAILURE event)."));
                    }
                }
                "ERROR" => {
                    let message = event
                        .pointer("/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("error")
                        .to_string();
                    s.notices.push(format!("The master sent ERROR: {message}"));
                    s.ended = Some(message.clone());
                    s.connected = false;
                    end = Some(message);
                }
                _ => {}
            }
            // Logged last, so the event is moved rather than copied.
            s.log(event);
        });
        if kind == "SUBSCRIBED" {
            if let Some(r) = ready.take() {
                let _ = r.send(Ok(()));
            }
        }
        if let Some(message) = end {
            if let Some(r) = ready.take() {
                let _ = r.send(Err(MesosError::Http {
                    method: "POST".into(),
                    url: scheduler_url(&self.master),
                    status: 200,
                    message,
                }));
            }
            self.stop.cancel();
            return Some(StreamEnd::Stopped);
        }
        if let Some(body) = ack {
            self.send_ack(body).await;
        }
        None
    }

    /// Sends an acknowledgement on a task of its own, so reading goes on meanwhile; at most
    /// `ACKS_IN_FLIGHT` at once (then reading waits, which bounds the connections).
    async fn send_ack(&self, mut body: Value) {
        let Ok(permit) = self.acks.clone().acquire_owned().await else {
            return;
        };
        let (fid, sid) = self
            .shared
            .lock()
            .map(|s| (s.framework_id.clone(), s.stream_id.clone()))
            .unwrap_or((None, None));
        if let (Value::Object(m), Some(fid)) = (&mut body, fid) {
            m.insert("framework_id".into(), json!({ "value": fid }));
        }
        let mut headers = json_headers();
        if let Some(sid) = sid {
            headers.push(("Mesos-Stream-Id".into(), sid));
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let (client, url, stop) = (
            self.client.clone(),
            scheduler_url(&self.master),
            self.stop.clone(),
        );
        let (shared, changes) = (self.shared.clone(), self.changes.clone());
        tokio::spawn(async move {
            let result = client
                .request(
                    "POST",
                    &url,
                    &headers,
                    Some(bytes),
                    Duration::from_secs(10),
                    &stop,
                )
                .await;
            drop(permit);
            match result {
                Ok(r) if (200..300).contains(&r.status) => {
                    update(&shared, &changes, |s| s.ack_count += 1);
                }
                Ok(r) => {
                    let uuid = body
                        .pointer("/acknowledge/uuid")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    warn!("ACKNOWLEDGE answered {}", r.status);
                    // Allow a retry when the update is sent again.
                    update(&shared, &changes, |s| {
                        s.acked.remove(&uuid);
                    });
                }
                Err(e) => info!("ACKNOWLEDGE failed: {e}"),
            }
        });
    }
}

/// Changes the session state and tells the watchers.
fn update(shared: &Mutex<State>, changes: &watch::Sender<u64>, f: impl FnOnce(&mut State)) {
    if let Ok(mut s) = shared.lock() {
        f(&mut s);
    }
    changes.send_modify(|v| *v += 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledged_uuids_are_remembered_within_a_bound() {
        let mut s = State::default();
        for i in 0..REMEMBERED_ACKS + 10 {
            s.remember_ack(&format!("u{i}"));
        }
        // A repeat is not counted twice.
        s.remember_ack(&format!("u{}", REMEMBERED_ACKS + 9));
        assert_eq!(s.acked.len(), REMEMBERED_ACKS);
        assert_eq!(s.acked_order.len(), REMEMBERED_ACKS);
        assert!(!s.acked.contains("u0") && !s.acked.contains("u9"));
        assert!(s.acked.contains("u10") && s.acked.contains(&format!("u{}", REMEMBERED_ACKS + 9)));
    }

    #[test]
    fn the_log_stamps_and_bounds_events() {
        let mut s = State::default();
        for i in 0..MAX_EVENTS + 5 {
            s.log(json!({"type": "HEARTBEAT", "n": i}));
        }
        assert_eq!(s.events.len(), MAX_EVENTS);
        assert_eq!(s.events[0]["n"], 5);
        assert!(s.events[0]["received"].is_string());
    }
}
