//! The scheduler session: a SUBSCRIBE stream read on a background task, and the chores
//! Mesos leaves to frameworks: the Mesos-Stream-Id and framework_id on every call,
//! acknowledging updates exactly once, watching heartbeats, re-subscribing with the
//! framework id when the stream is lost, and reconciling after every re-subscription. A
//! framework taken over by another client ends its session (the master says "Framework
//! failed over"); this side never fights for it.

use crate::mesos::client::{json_headers, Client, Reply};
use crate::mesos::error::{error_message, MesosError};
use crate::mesos::event_log::{EventLog, LoggedEvent};
use crate::mesos::event_stream::{self, endpoint, patience, Backoff, StreamEnd};
use crate::mesos::v1::scheduler::{Call, CallType, Event, EventType};
use crate::mesos::v1::task::Reason;
use crate::mesos::v1::{to_sparse_value, FrameworkId, MasterInfo, Offer, TaskStatus};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

mod known_task;
mod reconcile;
pub use known_task::KnownTask;
pub use reconcile::Reconciliation;
pub use reconcile::RECONCILE_WAIT;

/// The event log keeps this many events; older ones are dropped.
pub const MAX_EVENTS: usize = 1000;
pub use crate::mesos::event_stream::MISSED_HEARTBEATS;
/// Acknowledged uuids remembered (to acknowledge a re-sent update once): the master re-sends
/// only an update still waiting for its acknowledgement, so the recent ones suffice, and
/// the set stays bounded however many updates a long session sees.
const REMEMBERED_ACKS: usize = 4096;
/// Acknowledgements in flight at once. Each task's next update waits for the ack of its
/// previous one, so sending them one at a time, in the reading loop, capped a flood of
/// updates at one HTTP round trip per event.
const ACKS_IN_FLIGHT: usize = 8;
/// The master's ERROR to the connection it takes a framework from (`failoverFramework` in
/// Mesos's `src/master/master.cpp`).
pub const FAILED_OVER: &str = "Framework failed over";
/// What the session says when another client took its framework.
pub fn taken_over(framework_id: &str, message: &str) -> String {
    format!("the framework {framework_id} was taken over by another client (Mesos: {message})")
}

/// A message as the kernel reads it, with the JSON it came in (what a user is shown).
#[derive(Debug, Clone, PartialEq)]
pub struct Received<T> {
    pub message: T,
    pub json: Value,
}

/// What the session knows, updated by the stream task and read by cells.
#[derive(Debug, Default, Clone)]
pub struct State {
    pub framework_id: Option<FrameworkId>,
    pub stream_id: Option<String>,
    pub master_info: Option<MasterInfo>,
    pub heartbeat_interval: f64,
    /// Outstanding offers (added on OFFERS, removed on RESCIND or use).
    pub offers: Vec<Received<Offer>>,
    /// The latest status per task id as the master sent it (what `$tasks` shows), in launch
    /// order, with the task's name when known; `task_status` reads one. Found by hashing:
    /// a reconcile flood looks up tens of thousands of ids in tens of thousands.
    pub tasks: HashMap<String, KnownTask>,
    pub task_order: Vec<String>,
    pub events: EventLog,
    pub last_heartbeat: Option<String>,
    pub connected: bool,
    /// Set when the master ended the framework (ERROR event, TEARDOWN).
    pub ended: Option<String>,
    /// A TEARDOWN is on its way: the master closing the stream may be its answer, and
    /// whether to reconnect waits for the answer.
    tearing_down: bool,
    /// Lines to show in the next cell's output (reconnections, errors).
    pub notices: Vec<String>,
    pub manual_ack: bool,
    /// Updates with a uuid that wait for a manual ACKNOWLEDGE.
    pub unacked: Vec<TaskStatus>,
    pub acked: HashSet<String>,
    /// `acked` in the order of acknowledgement, to forget the oldest.
    acked_order: VecDeque<String>,
    pub ack_count: u64,
    pub subscriptions: u64,
    /// Set while this kernel subscribes the same framework on a new stream: the master's
    /// "Framework failed over" on this stream is then expected, and the stream does not
    /// re-subscribe meanwhile (that would take the framework back from the new one).
    pub handing_over: bool,
    pub reconciliation: Reconciliation,
    /// When the last update answering a reconciliation arrived.
    last_reconciled: Option<Instant>,
    /// The last arrival stamp written, with its millisecond: a flood brings dozens of
    /// events per millisecond, and each was formatting the same stamp again.
    stamp: (i64, String),
}

impl State {
    /// The latest status of a task, read (leniently: the kernel's own placeholder for a
    /// task just sent has only what it knows).
    pub fn task_status(&self, task_id: &str) -> Option<TaskStatus> {
        crate::mesos::v1::message::read_lenient(&self.tasks.get(task_id)?.to_value())
    }

    /// The outstanding offers as they came (`$offers`).
    pub fn offers_json(&self) -> Vec<Value> {
        self.offers.iter().map(|o| o.json.clone()).collect()
    }

    /// `$tasks` as JSON text, written from the statuses in place (no copy of them made).
    pub fn tasks_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.tasks.len() * 256 + 2);
        out.push(b'[');
        let known = self.task_order.iter().filter_map(|id| self.tasks.get(id));
        for (i, task) in known.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            task.write_json(&mut out);
        }
        out.push(b']');
        out
    }

    pub fn tasks_in_order(&self) -> Vec<Value> {
        self.task_order
            .iter()
            .filter_map(|id| self.tasks.get(id).map(KnownTask::to_value))
            .collect()
    }

    /// Logs an event's text, stamped with its arrival.
    fn log(&mut self, record: &str, kind: Option<&str>) {
        let now = chrono::Utc::now();
        if self.stamp.0 != now.timestamp_millis() || self.stamp.1.is_empty() {
            self.stamp = (now.timestamp_millis(), stamp(now));
        }
        self.events
            .push(LoggedEvent::new(record, kind, &self.stamp.1));
    }

    /// An UPDATE: the task's latest status (as it came, with the name it had), and the
    /// acknowledgement it needs, once per uuid (or its place among the manual ones).
    /// `raw` is the status as it came (`update_status`).
    fn apply_update(&mut self, status: TaskStatus, raw: &RawValue, ack: &mut Option<Call>) {
        if status.reason == Some(Reason::Reconciliation) {
            self.last_reconciled = Some(Instant::now());
        }
        let own_name = status.extra.get("name").is_some();
        self.remember_status(&status.task_id.value, raw, own_name);
        // Only updates carrying a uuid are acknowledged, and each uuid once.
        let Some(uuid) = status.uuid.as_deref() else {
            return;
        };
        if self.acked.contains(uuid) {
            return;
        }
        if self.manual_ack {
            if !self.unacked.iter().any(|u| u.uuid == status.uuid) {
                self.unacked.push(status);
            }
        } else {
            self.remember_ack(uuid);
            *ack = Some(Call::acknowledge(&status));
        }
    }

    /// An update that needs no acknowledgement (the master's own: reconciliation, a lost
    /// agent), read by `light_update` without the typed `Event`.
    fn apply_unacknowledged(&mut self, update: &LightUpdate<'_>) {
        if update.head.reason.as_deref() == Some(Reason::Reconciliation.as_str()) {
            self.last_reconciled = Some(Instant::now());
        }
        self.remember_status(
            &update.head.task_id.value,
            update.status,
            update.head.name.is_some(),
        );
    }

    /// The task's latest status, as it came, with the name it had unless it has its own.
    fn remember_status(&mut self, task_id: &str, status: &RawValue, own_name: bool) {
        // One lookup in the task map (it holds every task the session has heard of).
        match self.tasks.get_mut(task_id) {
            Some(known) => {
                let name = known.name().filter(|_| !own_name).map(Box::from);
                *known = KnownTask::received(status, name);
            }
            None => {
                self.task_order.push(task_id.to_string());
                self.tasks
                    .insert(task_id.to_string(), KnownTask::received(status, None));
            }
        }
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

#[derive(Deserialize)]
struct UpdateOf<'a> {
    #[serde(borrow)]
    status: &'a RawValue,
}

/// A call's text with `"framework_id"` written after its last field (where `call` places
/// it in a `Value`); text that is not an object is left as it is, for the master to refuse.
fn with_framework_id(body: &str, fid: &FrameworkId) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(body.len() + 64);
    let Some(open) = body.trim_end().strip_suffix('}').map(str::trim_end) else {
        bytes.extend_from_slice(body.as_bytes());
        return bytes;
    };
    bytes.extend_from_slice(open.as_bytes());
    if !open.ends_with('{') {
        bytes.push(b',');
    }
    bytes.extend_from_slice(b"\"framework_id\":");
    // Writing an id into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut bytes, &to_sparse_value(fid));
    bytes.push(b'}');
    bytes
}

/// An UPDATE read only for what the session does with one that needs no acknowledgement:
/// its status's text and the few fields acted on, borrowed from the record. A reconcile
/// flood is tens of thousands of these; the typed `Event` of each (every field of its
/// status in its own `String`) was the larger part of reading one.
struct LightUpdate<'a> {
    status: &'a RawValue,
    head: StatusHead<'a>,
}

#[derive(Deserialize)]
struct RecordHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    update: Option<UpdateOf<'a>>,
}

#[derive(Deserialize)]
struct StatusHead<'a> {
    #[serde(borrow)]
    task_id: IdOf<'a>,
    #[serde(borrow)]
    state: Cow<'a, str>,
    #[serde(borrow, default)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uuid: Option<Cow<'a, str>>,
    #[serde(default)]
    name: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct IdOf<'a> {
    #[serde(borrow)]
    value: Cow<'a, str>,
}

/// An UPDATE record's status, as its text (what `$tasks` keeps); `None` for other events.
fn update_status(text: &str) -> Option<&RawValue> {
    let record: RecordHead<'_> = serde_json::from_str(text).ok()?;
    if record.kind.as_deref() != Some(EventType::Update.as_str()) {
        return None;
    }
    record.update.map(|u| u.status)
}

/// The status as a `LightUpdate` when it has no uuid and has what a TaskStatus requires;
/// anything else is read as a typed `Event`.
fn light_update(status: &RawValue) -> Option<LightUpdate<'_>> {
    let head: StatusHead<'_> = serde_json::from_str(status.get()).ok()?;
    head.uuid.is_none().then_some(LightUpdate { status, head })
}

fn now() -> String {
    stamp(chrono::Utc::now())
}

/// An arrival stamp: RFC 3339, UTC, to the millisecond.
fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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

/// Where the scheduler API is on the master.
const SCHEDULER_PATH: &str = "/api/v1/scheduler";

fn scheduler_url(master: &Mutex<String>) -> String {
    endpoint(master, SCHEDULER_PATH)
}

/// Whether a SUBSCRIBE call names a framework (a re-subscription, after which the session
/// reconciles).
fn names_framework(subscribe: &Value) -> bool {
    subscribe
        .get("framework_id")
        .and_then(|f| FrameworkId::deserialize(f).ok())
        .is_some_and(|id| !id.value.is_empty())
}

/// The kind of a scheduler call given as JSON (Unknown when it names none).
pub fn call_type(body: &Value) -> CallType {
    body.get("type")
        .and_then(Value::as_str)
        .map(CallType::from_name)
        .unwrap_or_default()
}

/// The JSON of a list inside an event (`event[outer][inner]`), as it came: what `$offers`
/// keeps beside the typed offers read from the same event.
fn listed<'a>(event: &'a Value, outer: &str, inner: &str) -> &'a [Value] {
    event
        .get(outer)
        .and_then(|o| o.get(inner))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

impl Session {
    /// Sends SUBSCRIBE and returns once SUBSCRIBED arrives (or the master refuses). A
    /// SUBSCRIBE naming a framework returns once its implicit reconciliation is answered, so
    /// the session knows the framework's tasks. `manual_ack` holds updates for ACKNOWLEDGE
    /// from the first one (a re-subscribed framework's unacknowledged updates come at once).
    pub async fn subscribe(
        client: &Client,
        master: Arc<Mutex<String>>,
        subscribe: Value,
        manual_ack: bool,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Session, MesosError> {
        let started = tokio::time::Instant::now();
        let reconciles = names_framework(&subscribe);
        let shared = Arc::new(Mutex::new(State {
            heartbeat_interval: 15.0,
            manual_ack,
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
            Ok(Ok(Ok(()))) => {
                let session = Session {
                    shared,
                    changes: rx,
                    synced: AtomicU64::new(u64::MAX),
                    client: client.clone(),
                    master,
                    stop,
                };
                if reconciles {
                    let left = timeout.saturating_sub(started.elapsed());
                    session.reconciled(left.min(RECONCILE_WAIT), cancel).await?;
                }
                Ok(session)
            }
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

    /// Says that this kernel is about to subscribe this session's framework on a new stream
    /// (`true`), or that it gave up (`false`): see `State::handing_over`.
    pub fn expect_failover(&self, expected: bool) {
        self.with_state(|s| s.handing_over = expected);
    }

    /// Sends a scheduler call with the framework id and Mesos-Stream-Id filled in.
    pub async fn call(
        &self,
        mut body: Value,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        let (fid, sid) = self.ids();
        if let (Value::Object(m), Some(fid)) = (&mut body, &fid) {
            m.entry("framework_id")
                .or_insert_with(|| to_sparse_value(fid));
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let teardown = call_type(&body) == CallType::Teardown;
        self.post(bytes, sid, teardown, timeout, cancel).await
    }

    /// Sends a call given as its JSON text (an object) as it is, the framework id written
    /// in where it has none: a big body (a RECONCILE of 20,000 tasks) is never a `Value`.
    pub async fn call_text(
        &self,
        body: &str,
        has_framework_id: bool,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        let (fid, sid) = self.ids();
        let bytes = match fid.filter(|_| !has_framework_id) {
            Some(fid) => with_framework_id(body, &fid),
            None => body.as_bytes().to_vec(),
        };
        self.post(bytes, sid, false, timeout, cancel).await
    }

    /// The framework id and the Mesos-Stream-Id every call carries.
    fn ids(&self) -> (Option<FrameworkId>, Option<String>) {
        self.with_state(|s| (s.framework_id.clone(), s.stream_id.clone()))
            .unwrap_or((None, None))
    }

    async fn post(
        &self,
        bytes: Vec<u8>,
        sid: Option<String>,
        teardown: bool,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Value, MesosError> {
        let mut headers = json_headers();
        if let Some(sid) = sid {
            headers.push(("Mesos-Stream-Id".into(), sid));
        }
        let url = scheduler_url(&self.master);
        if teardown {
            // The master closes the stream at once: that end is expected, not a loss.
            self.with_state(|s| s.tearing_down = true);
        }
        let reply = self
            .client
            .request("POST", &url, &headers, Some(bytes), timeout, cancel)
            .await;
        if teardown {
            // Ended before the flag drops, so the stream never reconnects a torn-down
            // framework; a TEARDOWN that failed ends nothing, and the stream goes on.
            if reply.as_ref().is_ok_and(|r| (200..300).contains(&r.status)) {
                self.end("the framework was torn down");
            }
            self.with_state(|s| s.tearing_down = false);
        }
        let reply = reply?;
        if (200..300).contains(&reply.status) {
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
        status: &TaskStatus,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), MesosError> {
        let body = to_sparse_value(&Call::acknowledge(status));
        self.call(body, timeout, cancel).await?;
        let uuid = status.uuid.clone().unwrap_or_default();
        self.with_state(|s| {
            s.remember_ack(&uuid);
            s.ack_count += 1;
            s.unacked
                .retain(|u| u.uuid.as_deref() != Some(uuid.as_str()));
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

impl Stream {
    fn update(&self, f: impl FnOnce(&mut State)) {
        update(&self.shared, &self.changes, f);
    }

    fn handing_over(&self) -> bool {
        self.shared.lock().map(|s| s.handing_over).unwrap_or(false)
    }

    async fn run(mut self, ready: oneshot::Sender<Result<(), MesosError>>) {
        let mut ready = Some(ready);
        let mut backoff = Backoff::default();
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
                    if !self.still_wanted().await {
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
                let id = to_sparse_value(&fid);
                if let Some(Value::Object(info)) = self
                    .subscribe
                    .get_mut("subscribe")
                    .and_then(|s| s.get_mut("framework_info"))
                {
                    info.insert("id".into(), id.clone());
                }
                if let Value::Object(call) = &mut self.subscribe {
                    call.insert("framework_id".into(), id);
                }
            }
            // While this kernel subscribes the framework on a new stream, the pause lasts:
            // re-subscribing here would take the framework back from it.
            if !backoff
                .pause(&self.master, SCHEDULER_PATH, &self.stop, || {
                    self.handing_over()
                })
                .await
            {
                return;
            }
        }
    }

    /// After a loss: whether the framework goes on. While a TEARDOWN is on its way, its
    /// answer decides (the master closes the stream of a framework it tore down).
    async fn still_wanted(&self) -> bool {
        loop {
            let (ended, tearing_down) = self
                .shared
                .lock()
                .map(|s| (s.ended.is_some(), s.tearing_down))
                .unwrap_or((true, false));
            if ended || !tearing_down {
                return !ended;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                _ = self.stop.cancelled() => return false,
            }
        }
    }

    async fn connect_once(
        &mut self,
        ready: &mut Option<oneshot::Sender<Result<(), MesosError>>>,
    ) -> StreamEnd {
        let url = scheduler_url(&self.master);
        let body = serde_json::to_vec(&self.subscribe).unwrap_or_default();
        let opened = match event_stream::open(&self.client, &url, body, &self.stop).await {
            Ok(o) => o,
            Err(end) => return end,
        };
        let stream_id = opened.stream_id;
        self.update(|s| s.stream_id = stream_id.clone());
        let mut events = opened.events;
        loop {
            let interval = self
                .shared
                .lock()
                .map(|s| s.heartbeat_interval)
                .unwrap_or(15.0);
            let event = match events.next_record(patience(interval), &self.stop).await {
                Ok(e) => e,
                Err(end) => return end,
            };
            if let Some(end) = self.handle(event, ready).await {
                return end;
            }
        }
    }

    /// Applies one event; returns how the stream ends when the event ends it. The record
    /// is read as the vocabulary's `Event` for routing, and logged as the text it came in
    /// (no `Value` of it is made but for OFFERS and an UPDATE's status).
    async fn handle(
        &self,
        record: Vec<u8>,
        ready: &mut Option<oneshot::Sender<Result<(), MesosError>>>,
    ) -> Option<StreamEnd> {
        // Valid JSON is valid UTF-8; a record that is neither is dropped.
        let Ok(text) = std::str::from_utf8(&record) else {
            warn!("ignored an event that is not JSON: it is not UTF-8");
            return None;
        };
        // An UPDATE's status is found once: read lightly, or kept beside the typed event.
        let status = update_status(text);
        if let Some(update) = status.and_then(light_update) {
            debug!("scheduler event UPDATE ({}, no uuid)", update.head.state);
            self.update(|s| {
                s.apply_unacknowledged(&update);
                s.log(text, Some(EventType::Update.as_str()));
            });
            return None;
        }
        let typed = match serde_json::from_str::<Event>(text) {
            Ok(e) => e,
            Err(e) => {
                if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                    warn!("an event that is not a scheduler event was only logged: {e}");
                    self.update(|s| s.log(text, None));
                } else {
                    warn!("ignored an event that is not JSON: {e}");
                }
                return None;
            }
        };
        let kind = typed.kind();
        debug!("scheduler event {kind}");
        let mut ack: Option<Call> = None;
        let mut end = None;
        let mut reconcile = false;
        self.update(|s| {
            match kind {
                EventType::Subscribed => {
                    let sub = typed.subscribed.unwrap_or_default();
                    let again = s.subscriptions > 0;
                    s.heartbeat_interval = sub.heartbeat_interval_seconds.unwrap_or(15.0);
                    s.master_info = sub.master_info;
                    s.connected = true;
                    s.subscriptions += 1;
                    // A re-subscribed framework may have tasks this session does not know,
                    // or missed updates while away: ask the master for all of them.
                    if names_framework(&self.subscribe) {
                        s.reconciliation = Reconciliation::Sent;
                        reconcile = true;
                    }
                    if again {
                        s.notices
                            .push(format!("Re-subscribed as framework {}.", sub.framework_id));
                    }
                    s.framework_id = Some(sub.framework_id);
                }
                EventType::Offers => {
                    let offers = typed.offers.map(|o| o.offers).unwrap_or_default();
                    let event: Value = serde_json::from_str(text).unwrap_or_default();
                    let json = listed(&event, "offers", "offers");
                    s.offers.extend(
                        offers
                            .into_iter()
                            .zip(json)
                            .map(|(message, json)| Received {
                                message,
                                json: json.clone(),
                            }),
                    );
                }
                EventType::Rescind => {
                    if let Some(r) = typed.rescind {
                        s.offers.retain(|o| o.message.id.value != r.offer_id.value);
                    }
                }
                EventType::Update => {
                    if let Some(update) = typed.update {
                        s.apply_update(update.status, status.unwrap_or(RawValue::NULL), &mut ack);
                    }
                }
                EventType::Heartbeat => s.last_heartbeat = Some(now()),
                // A FAILURE naming only an agent: the master lost that agent (unreachable
                // or marked gone). Its tasks' own updates say what became of them.
                EventType::Failure => {
                    if let Some(f) = typed.failure.filter(|f| f.executor_id.is_none()) {
                        if let Some(agent) = f.agent_id {
                            s.notices
                                .push(format!("The master lost agent {agent} (FAILURE event)."));
                        }
                    }
                }
                // The master ends this connection: it refused the subscription, removed the
                // framework, or gave it to another connection. None of these is retried.
                EventType::Error => {
                    let message = typed
                        .error
                        .map(|e| e.message)
                        .unwrap_or_else(|| "error".into());
                    let fid = s.framework_id.clone().unwrap_or_default();
                    if message == FAILED_OVER && s.handing_over {
                        s.ended =
                            Some("this kernel subscribed the framework on a new stream".into());
                    } else if message == FAILED_OVER && s.subscriptions > 0 {
                        let said = taken_over(&fid.value, &message);
                        s.notices.push(said.clone());
                        s.ended = Some(said);
                    } else {
                        s.notices.push(format!("The master sent ERROR: {message}"));
                        s.ended = Some(message.clone());
                    }
                    s.connected = false;
                    s.offers.clear();
                    end = Some(message);
                }
                _ => {}
            }
            s.log(text, typed.kind.as_ref().map(EventType::as_str));
        });
        if kind == EventType::Subscribed {
            if let Some(r) = ready.take() {
                let _ = r.send(Ok(()));
            }
        }
        if reconcile {
            self.send_reconcile();
        }
        if let Some(message) = end {
            if let Some(r) = ready.take() {
                let _ = r.send(Err(MesosError::Refused { message }));
            }
            self.stop.cancel();
            return Some(StreamEnd::Stopped);
        }
        if let Some(call) = ack {
            self.send_ack(call).await;
        }
        None
    }

    /// The headers and body of a call from this stream's framework, with its framework id
    /// and stream id (the call written sparsely: only what is set).
    fn prepare(&self, mut call: Call) -> (Vec<(String, String)>, Vec<u8>) {
        let (fid, sid) = self
            .shared
            .lock()
            .map(|s| (s.framework_id.clone(), s.stream_id.clone()))
            .unwrap_or((None, None));
        call.framework_id = fid;
        let mut headers = json_headers();
        if let Some(sid) = sid {
            headers.push(("Mesos-Stream-Id".into(), sid));
        }
        let body = crate::mesos::v1::sparse(|| serde_json::to_vec(&call)).unwrap_or_default();
        (headers, body)
    }

    /// Sends an acknowledgement on a task of its own, so reading goes on meanwhile; at most
    /// `ACKS_IN_FLIGHT` at once (then reading waits, which bounds the connections).
    async fn send_ack(&self, call: Call) {
        let Ok(permit) = self.acks.clone().acquire_owned().await else {
            return;
        };
        let uuid = call
            .acknowledge
            .as_ref()
            .map(|a| a.uuid.clone())
            .unwrap_or_default();
        self.post_in_background(call, move |result, shared, changes| {
            drop(permit);
            match result {
                Ok(r) if (200..300).contains(&r.status) => {
                    update(shared, changes, |s| s.ack_count += 1);
                }
                Ok(r) => {
                    warn!("ACKNOWLEDGE answered {}", r.status);
                    // Allow a retry when the update is sent again.
                    update(shared, changes, |s| {
                        s.acked.remove(&uuid);
                    });
                }
                Err(e) => info!("ACKNOWLEDGE failed: {e}"),
            }
        });
    }

    /// Posts a call on a task of its own (the stream's reading goes on meanwhile); `done`
    /// gets the answer and the session state to change.
    fn post_in_background<F>(&self, call: Call, done: F)
    where
        F: FnOnce(Result<Reply, MesosError>, &Mutex<State>, &watch::Sender<u64>) + Send + 'static,
    {
        let (headers, bytes) = self.prepare(call);
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
            done(result, &shared, &changes);
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
    use serde_json::json;

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
    fn tasks_are_written_in_launch_order() {
        let mut s = State::default();
        for (id, state) in [("b", "TASK_RUNNING"), ("a", "TASK_STAGING")] {
            s.task_order.push(id.to_string());
            s.tasks.insert(
                id.to_string(),
                KnownTask::from_value(&json!({"task_id": {"value": id}, "state": state})),
            );
        }
        let written: Value = serde_json::from_slice(&s.tasks_json()).unwrap();
        assert_eq!(written, Value::Array(s.tasks_in_order()));
        assert_eq!(written[0]["task_id"]["value"], "b");
    }

    #[test]
    fn a_call_given_as_text_gets_the_framework_id_where_a_value_would() {
        let fid = FrameworkId {
            value: "F-1".into(),
            ..Default::default()
        };
        let text = r#"{"type":"RECONCILE","reconcile":{"tasks":[{"task_id":{"value":"a"}}]}}"#;
        let mut value: Value = serde_json::from_str(text).unwrap();
        value["framework_id"] = to_sparse_value(&fid);
        assert_eq!(
            with_framework_id(text, &fid),
            serde_json::to_vec(&value).unwrap()
        );
        assert_eq!(
            with_framework_id("{ } ", &fid),
            br#"{"framework_id":{"value":"F-1"}}"#
        );
        assert_eq!(with_framework_id("[1]", &fid), b"[1]");
    }

    #[test]
    fn updates_without_a_uuid_are_read_lightly_and_others_typed() {
        let lost = r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_LOST","reason":"REASON_RECONCILIATION","message":"Reconciliation: Task is unknown","source":"SOURCE_MASTER","timestamp":1.5}}}"#;
        let light_update = |text| update_status(text).and_then(light_update);
        let light = light_update(lost).expect("read lightly");
        assert_eq!(light.head.task_id.value, "t1");
        assert_eq!(light.head.state, "TASK_LOST");
        // Updates to acknowledge, other events, and statuses a TaskStatus could not be
        // read from go the typed way.
        let with_uuid = r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t1"},"state":"TASK_RUNNING","uuid":"AAAA"}}}"#;
        assert!(light_update(with_uuid).is_none());
        assert!(light_update(r#"{"type":"HEARTBEAT"}"#).is_none());
        assert!(
            light_update(r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"}}}}"#)
                .is_none()
        );
        assert!(light_update(
            r#"{"type":"UPDATE","update":{"status":{"task_id":"t","state":"TASK_LOST"}}}"#
        )
        .is_none());

        let mut s = State::default();
        s.tasks.insert(
            "t1".into(),
            KnownTask::from_value(
                &json!({"task_id": {"value": "t1"}, "state": "TASK_STAGING", "name": "web"}),
            ),
        );
        s.task_order.push("t1".into());
        s.apply_unacknowledged(&light);
        let t1 = s.tasks["t1"].to_value();
        assert_eq!(t1["state"], "TASK_LOST");
        assert_eq!(t1["name"], "web");
        assert_eq!(t1["message"], "Reconciliation: Task is unknown");
        assert!(s.last_reconciled.is_some());
        // A task heard of first by reconciliation joins the order.
        let other = lost.replace("t1", "t2");
        s.apply_unacknowledged(&light_update(&other).unwrap());
        assert_eq!(s.task_order, ["t1", "t2"]);
        assert!(s.tasks["t2"].to_value().get("name").is_none());
    }

    #[test]
    fn the_log_stamps_and_bounds_events() {
        let mut s = State::default();
        for i in 0..MAX_EVENTS + 5 {
            s.log(
                &json!({"type": "HEARTBEAT", "n": i}).to_string(),
                Some("HEARTBEAT"),
            );
        }
        assert_eq!(s.events.len(), MAX_EVENTS);
        let first = s.events.iter().next().map(LoggedEvent::value).unwrap();
        assert_eq!(first["n"], 5);
        assert!(first["received"].is_string());
    }
}
