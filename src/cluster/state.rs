//! The master's state machine: agents, frameworks, offers, tasks and the status update
//! streams of the agents. A plain struct whose methods apply one call or one event and say
//! what must happen next as `Effect`s (launch a task, arm a timer); `runtime.rs` carries
//! those out, and tests call the methods directly.

use super::ids::Ids;
use super::operator;
// RecordIO is one wire format for both sides; its codec lives with the client.
use super::resources::Resources;
use crate::mesos::recordio;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

mod loss;
pub use loss::LostAgent;

/// The version the cluster reports: the last Mesos 1.x release, whose API it follows.
pub const MESOS_VERSION: &str = "1.11.0";

/// First resend of an unacknowledged status update, as Mesos's agents do (the default of
/// `Settings::update_retry`); it doubles up to `UPDATE_RETRY_MAX`.
pub const UPDATE_RETRY_MIN: Duration = Duration::from_secs(10);
pub const UPDATE_RETRY_MAX: Duration = Duration::from_secs(600);

/// What the command executor adds to a command task's resources, as in Mesos.
pub const EXECUTOR_CPUS: f64 = 0.1;
pub const EXECUTOR_MEM: f64 = 32.0;

/// Fixed facts about this cluster, decided at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub ip: IpAddr,
    pub port: u16,
    pub hostname: String,
    pub heartbeat_interval: Duration,
    pub kill_grace: Duration,
    pub offer_timeout: Option<Duration>,
    /// First resend of an unacknowledged status update.
    pub update_retry: Duration,
    pub work_dir: PathBuf,
    /// Seconds since the epoch.
    pub start_time: f64,
    /// `name=value` pairs shown by GET_FLAGS and `/master/flags`.
    pub flags: Vec<(String, String)>,
    /// `https` when the cluster serves TLS, else `http` (offers' agent URLs say it).
    pub scheme: &'static str,
    /// Time between two health checks of an agent (Mesos's `--agent_ping_timeout`).
    pub agent_ping_timeout: Duration,
    /// Missed health checks after which an agent is unreachable
    /// (Mesos's `--max_agent_ping_timeouts`).
    pub max_agent_ping_timeouts: u32,
}

/// An answer the HTTP layer gives to a call the state refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub status: u16,
    pub message: String,
}

impl CallError {
    pub fn new(status: u16, message: impl Into<String>) -> CallError {
        CallError {
            status,
            message: message.into(),
        }
    }
}

/// Work the state machine asks for; it never waits or spawns by itself.
#[derive(Debug)]
pub enum Effect {
    Launch(Box<LaunchSpec>),
    Timer(Instant, Timer),
    /// Stop an agent's HTTP server: the agent crashed, or was shut down when marked gone.
    StopAgent(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Timer {
    /// Re-run the allocator (a refuse filter expired).
    Allocate,
    /// Resend a status update if it is still unacknowledged.
    Retry {
        framework_id: String,
        task_id: String,
        uuid: String,
        backoff: Duration,
    },
    /// Remove a disconnected framework if it did not come back.
    Failover {
        framework_id: String,
        generation: u64,
    },
    /// Withdraw an offer nobody answered (`--offer-timeout`).
    OfferTimeout { offer_id: String },
    /// Health check of an agent that stopped answering (`--agent-ping-timeout`).
    Ping { agent_id: String },
}

/// How to run one task on an agent.
#[derive(Debug)]
pub struct LaunchSpec {
    pub framework_id: String,
    pub agent_id: String,
    pub task_id: String,
    pub executor_id: String,
    pub container_id: String,
    pub sandbox: PathBuf,
    pub command: CommandSpec,
    pub docker_image: Option<String>,
    pub env: Vec<(String, String)>,
    pub uris: Vec<UriSpec>,
    pub killing_state: bool,
    pub kill_grace: Duration,
    pub kill: watch::Receiver<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct CommandSpec {
    pub shell: bool,
    pub value: Option<String>,
    pub arguments: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct UriSpec {
    pub value: String,
    pub extract: bool,
    pub executable: bool,
    pub output_file: Option<String>,
}

/// The open event stream of a subscribed framework.
#[derive(Debug)]
pub struct EventSink {
    pub stream_id: String,
    tx: mpsc::UnboundedSender<Bytes>,
}

impl EventSink {
    pub fn new(stream_id: String, tx: mpsc::UnboundedSender<Bytes>) -> EventSink {
        EventSink { stream_id, tx }
    }

    fn send(&self, event: &Value) -> bool {
        self.tx.send(frame(event)).is_ok()
    }
}

/// One event as a RecordIO record.
pub fn frame(event: &Value) -> Bytes {
    Bytes::from(recordio::encode(event.to_string().as_bytes()))
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub port: u16,
    pub hostname: String,
    pub total: Resources,
    pub used: Resources,
    pub attributes: Vec<(String, String)>,
    pub registered_time: f64,
    pub active: bool,
    /// Stopped answering (the fault-injection hook): health checks go unanswered.
    pub crashed: bool,
    /// Health checks missed in a row since it stopped answering.
    pub missed_pings: u32,
}

impl Agent {
    pub fn pid(&self, ip: IpAddr) -> String {
        format!("slave(1)@{}:{}", ip, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub framework_id: String,
    pub agent_id: String,
    pub resources: Resources,
}

#[derive(Debug, Clone)]
struct Filter {
    agent_id: String,
    resources: Resources,
    until: Instant,
}

#[derive(Debug)]
pub struct Task {
    pub task_id: String,
    pub name: String,
    pub framework_id: String,
    pub agent_id: String,
    pub executor_id: String,
    pub executor_name: String,
    pub container_id: String,
    pub info: Value,
    pub resources: Resources,
    /// What a task group's executor itself uses (given back when its last task ends).
    pub executor_resources: Resources,
    pub state: String,
    /// Every status the task went through (with uuid when it had one).
    pub statuses: Vec<Value>,
    /// The agent's status update stream: the head is in flight, the rest wait for its ack.
    pub pending: VecDeque<Value>,
    pub acked_status: Option<Value>,
    pub sandbox: PathBuf,
    pub docker_image: Option<String>,
    kill: Option<watch::Sender<bool>>,
    resources_recovered: bool,
}

impl Task {
    pub fn is_terminal(&self) -> bool {
        is_terminal(&self.state)
    }
}

#[derive(Debug)]
pub struct Framework {
    pub id: String,
    pub info: Value,
    pub sink: Option<EventSink>,
    pub active: bool,
    pub suppressed: bool,
    pub registered_time: f64,
    pub reregistered_time: Option<f64>,
    pub unregistered_time: Option<f64>,
    pub tasks: Vec<Task>,
    pub completed_tasks: Vec<Task>,
    /// Tasks of agents that became unreachable (and, as in Mesos, the TASK_LOST tasks of
    /// a framework that is not partition-aware, whichever way the agent was lost).
    pub unreachable_tasks: Vec<Task>,
    filters: Vec<Filter>,
    generation: u64,
}

impl Framework {
    pub fn connected(&self) -> bool {
        self.sink.is_some()
    }

    /// What its live tasks use.
    pub fn used_resources(&self) -> Resources {
        self.tasks
            .iter()
            .filter(|t| !t.is_terminal())
            .fold(Resources::default(), |acc, t| acc.plus(&t.resources))
    }

    fn has_capability(&self, cap: &str) -> bool {
        self.info
            .get("capabilities")
            .and_then(Value::as_array)
            .is_some_and(|caps| {
                caps.iter()
                    .any(|c| c.get("type").and_then(Value::as_str) == Some(cap))
            })
    }

    pub fn partition_aware(&self) -> bool {
        self.has_capability("PARTITION_AWARE")
    }

    pub fn failover_timeout(&self) -> f64 {
        self.info
            .get("failover_timeout")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }

    pub fn role(&self) -> String {
        self.info
            .get("roles")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(Value::as_str)
            .or_else(|| self.info.get("role").and_then(Value::as_str))
            .unwrap_or("*")
            .to_string()
    }

    fn send(&self, event: &Value) {
        if let Some(sink) = &self.sink {
            sink.send(event);
        }
    }

    pub fn task(&self, task_id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.task_id == task_id)
    }
}

/// Counters shown in `/metrics/snapshot` and GET_METRICS.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub tasks_finished: u64,
    pub tasks_failed: u64,
    pub tasks_killed: u64,
    pub tasks_lost: u64,
    pub tasks_error: u64,
    pub tasks_dropped: u64,
    pub offers_sent: u64,
    pub offers_declined: u64,
    pub offers_rescinded: u64,
    pub calls: u64,
    pub invalid_calls: u64,
    /// ACKNOWLEDGE calls for the update in flight, and for anything else (a duplicate, an
    /// unknown uuid): Mesos's `master/{valid,invalid}_status_update_acknowledgements`.
    pub valid_acknowledgements: u64,
    pub invalid_acknowledgements: u64,
    /// TASK_GONE comes from an agent that re-registers without a task; no agent of this
    /// cluster ever comes back, so it stays 0 (shown because Mesos shows it).
    pub tasks_gone: u64,
    pub tasks_gone_by_operator: u64,
    /// Agents removed (`master/slave_removals`); Mesos counts unreachable agents here, not
    /// agents marked gone.
    pub slave_removals: u64,
    pub slave_removals_reason_unhealthy: u64,
    pub slave_unreachable_scheduled: u64,
    pub slave_unreachable_completed: u64,
}

pub struct Master {
    pub settings: Settings,
    ids: Ids,
    /// Registered agents; lost ones move to `unreachable_agents` or `gone_agents`.
    pub agents: Vec<Agent>,
    pub unreachable_agents: Vec<LostAgent>,
    pub gone_agents: Vec<LostAgent>,
    pub frameworks: Vec<Framework>,
    pub completed_frameworks: Vec<Framework>,
    pub offers: Vec<Offer>,
    pub counters: Counters,
    operator_subscribers: Vec<mpsc::UnboundedSender<Bytes>>,
}

pub fn is_terminal(state: &str) -> bool {
    matches!(
        state,
        "TASK_FINISHED"
            | "TASK_FAILED"
            | "TASK_KILLED"
            | "TASK_ERROR"
            | "TASK_LOST"
            | "TASK_DROPPED"
            | "TASK_GONE"
            | "TASK_GONE_BY_OPERATOR"
    )
}

pub fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

fn id(value: &str) -> Value {
    json!({ "value": value })
}

/// A TimeInfo, `{"nanoseconds": N}`.
pub fn time_info(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

/// `{"value": "x"}` -> `"x"`.
pub fn id_of(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl Master {
    pub fn new(settings: Settings, seed: Option<u64>) -> Master {
        Master {
            settings,
            ids: Ids::new(seed),
            agents: Vec::new(),
            unreachable_agents: Vec::new(),
            gone_agents: Vec::new(),
            frameworks: Vec::new(),
            completed_frameworks: Vec::new(),
            offers: Vec::new(),
            counters: Counters::default(),
            operator_subscribers: Vec::new(),
        }
    }

    pub fn master_id(&self) -> &str {
        self.ids.master_id()
    }

    pub fn pid(&self) -> String {
        format!("master@{}:{}", self.settings.ip, self.settings.port)
    }

    /// MasterInfo: `ip` is the IPv4 address packed in network byte order, read as a
    /// little-endian uint32 (127.0.0.1 is 16777343), as Mesos writes it.
    pub fn master_info(&self) -> Value {
        let packed = match self.settings.ip {
            IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
            IpAddr::V6(_) => 0,
        };
        json!({
            "id": self.master_id(),
            "ip": packed,
            "port": self.settings.port,
            "pid": self.pid(),
            "hostname": self.settings.hostname,
            "version": MESOS_VERSION,
            "address": {
                "hostname": self.settings.hostname,
                "ip": self.settings.ip.to_string(),
                "port": self.settings.port
            },
            "capabilities": [{"type": "AGENT_UPDATE"}]
        })
    }

    /// Registers an agent (at start; agents leave only when lost, see `loss.rs`).
    pub fn add_agent(
        &mut self,
        port: u16,
        total: Resources,
        attributes: Vec<(String, String)>,
        fx: &mut Vec<Effect>,
    ) -> String {
        let agent = Agent {
            id: self.ids.agent(),
            port,
            hostname: self.settings.hostname.clone(),
            total,
            used: Resources::default(),
            attributes,
            registered_time: now_secs(),
            active: true,
            crashed: false,
            missed_pings: 0,
        };
        let agent_id = agent.id.clone();
        self.agents.push(agent);
        if let Some(a) = self.agents.last() {
            let event = json!({"type": "AGENT_ADDED", "agent_added": {"agent": operator::agent_v1(self, a)}});
            self.publish(&event);
        }
        self.allocate(fx);
        agent_id
    }

    pub fn agent(&self, agent_id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == agent_id)
    }

    fn agent_mut(&mut self, agent_id: &str) -> Option<&mut Agent> {
        self.agents.iter_mut().find(|a| a.id == agent_id)
    }

    pub fn framework(&self, framework_id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.id == framework_id)
    }

    fn framework_mut(&mut self, framework_id: &str) -> Option<&mut Framework> {
        self.frameworks.iter_mut().find(|f| f.id == framework_id)
    }

    /// Resources an agent has offered but not yet had answered.
    pub fn offered_on(&self, agent_id: &str) -> Resources {
        self.offers
            .iter()
            .filter(|o| o.agent_id == agent_id)
            .fold(Resources::default(), |acc, o| acc.plus(&o.resources))
    }

    /// What is offered on each agent, in one pass over the offers (the allocator and the
    /// state views need it for every agent; scanning the offers per agent is quadratic).
    pub fn offered_by_agent(&self) -> std::collections::HashMap<&str, Resources> {
        let mut out: std::collections::HashMap<&str, Resources> = std::collections::HashMap::new();
        for o in &self.offers {
            let entry = out.entry(o.agent_id.as_str()).or_default();
            *entry = entry.plus(&o.resources);
        }
        out
    }

    pub fn offered_to(&self, framework_id: &str) -> Resources {
        self.offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .fold(Resources::default(), |acc, o| acc.plus(&o.resources))
    }

    /// Sends one event to every operator SUBSCRIBE stream, forgetting closed ones.
    pub fn publish(&mut self, event: &Value) {
        if self.operator_subscribers.is_empty() {
            return;
        }
        let bytes = frame(event);
        self.operator_subscribers
            .retain(|tx| tx.send(bytes.clone()).is_ok());
    }

    /// Operator SUBSCRIBE: the SUBSCRIBED event with the whole state, then every change.
    pub fn operator_subscribe(&mut self, tx: mpsc::UnboundedSender<Bytes>) {
        let event = json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "get_state": operator::get_state(self),
                "heartbeat_interval_seconds": self.settings.heartbeat_interval.as_secs_f64()
            }
        });
        if tx.send(frame(&event)).is_ok() && tx.send(frame(&json!({"type": "HEARTBEAT"}))).is_ok() {
            self.operator_subscribers.push(tx);
        }
    }

    fn publish_framework(&mut self, kind: &str, framework_id: &str) {
        if self.operator_subscribers.is_empty() {
            return;
        }
        let Some(f) = self.framework(framework_id).or_else(|| {
            self.completed_frameworks
                .iter()
                .find(|f| f.id == framework_id)
        }) else {
            return;
        };
        let event = match kind {
            "FRAMEWORK_REMOVED" => {
                json!({"type": kind, "framework_removed": {"framework_info": f.info}})
            }
            "FRAMEWORK_ADDED" => {
                json!({"type": kind, "framework_added": {"framework": operator::framework_v1(self, f)}})
            }
            _ => {
                json!({"type": kind, "framework_updated": {"framework": operator::framework_v1(self, f)}})
            }
        };
        self.publish(&event);
    }

    // ---------------------------------------------------------------- scheduler calls

    /// SUBSCRIBE with a new or returning framework. Always gives a stream id (the HTTP answer
    /// is 200 even when the framework is refused: the refusal is an ERROR event).
    pub fn subscribe(
        &mut self,
        mut info: Value,
        tx: mpsc::UnboundedSender<Bytes>,
        fx: &mut Vec<Effect>,
    ) -> (String, Option<String>) {
        let stream_id = self.ids.uuid().to_string();
        let sink = EventSink::new(stream_id.clone(), tx);
        let requested = id_of(info.get("id"));
        if let Some(fid) = &requested {
            if self.completed_frameworks.iter().any(|f| &f.id == fid) {
                sink.send(
                    &json!({"type": "ERROR", "error": {"message": "Framework has been removed"}}),
                );
                return (stream_id, None);
            }
        }
        let now = now_secs();
        let fid = match requested {
            Some(fid) if self.framework(&fid).is_some() => {
                let Some(f) = self.framework_mut(&fid) else {
                    return (stream_id, None);
                };
                if let Some(old) = f.sink.take() {
                    old.send(
                        &json!({"type": "ERROR", "error": {"message": "Framework failed over"}}),
                    );
                }
                info["id"] = id(&fid);
                f.info = info;
                f.sink = Some(sink);
                f.active = true;
                f.generation += 1;
                f.reregistered_time = Some(now);
                f.unregistered_time = None;
                fid
            }
            other => {
                // A new framework, or one recovering after a master failover.
                let recovering = other.is_some();
                let fid = match other {
                    Some(fid) => fid,
                    None => self.fresh_framework_id(),
                };
                info["id"] = id(&fid);
                self.frameworks.push(Framework {
                    id: fid.clone(),
                    info,
                    sink: Some(sink),
                    active: true,
                    suppressed: false,
                    registered_time: now,
                    reregistered_time: recovering.then_some(now),
                    unregistered_time: None,
                    tasks: Vec::new(),
                    completed_tasks: Vec::new(),
                    unreachable_tasks: Vec::new(),
                    filters: Vec::new(),
                    generation: 0,
                });
                self.publish_framework("FRAMEWORK_ADDED", &fid);
                fid
            }
        };
        let subscribed = json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": id(&fid),
                "heartbeat_interval_seconds": self.settings.heartbeat_interval.as_secs_f64(),
                "master_info": self.master_info()
            }
        });
        if let Some(f) = self.framework(&fid) {
            f.send(&subscribed);
            // The first HEARTBEAT follows SUBSCRIBED at once, as in Mesos.
            f.send(&json!({"type": "HEARTBEAT"}));
            // Updates waiting for an acknowledgement go out again on the new stream.
            for task in &f.tasks {
                if !self.answers(&task.agent_id) {
                    continue;
                }
                if let Some(head) = task.pending.front() {
                    f.send(&update_event(head));
                }
            }
        }
        if self
            .framework(&fid)
            .is_some_and(|f| f.reregistered_time.is_some())
        {
            self.publish_framework("FRAMEWORK_UPDATED", &fid);
        }
        self.allocate(fx);
        (stream_id, Some(fid))
    }

    /// The next framework id not taken by a framework that recovered with its own id (after
    /// a restart of a seeded master, ids repeat).
    fn fresh_framework_id(&mut self) -> String {
        loop {
            let fid = self.ids.framework();
            let taken = self
                .frameworks
                .iter()
                .chain(self.completed_frameworks.iter())
                .any(|f| f.id == fid);
            if !taken {
                return fid;
            }
        }
    }

    /// Checks done for every call but SUBSCRIBE, in Mesos's order.
    pub fn check_stream(
        &self,
        framework_id: &str,
        stream_id: Option<&str>,
    ) -> Result<(), CallError> {
        let Some(f) = self.framework(framework_id) else {
            return Err(CallError::new(400, "Framework cannot be found"));
        };
        let Some(sink) = &f.sink else {
            return Err(CallError::new(403, "Framework is not subscribed"));
        };
        match stream_id {
            None => Err(CallError::new(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            )),
            Some(s) if s != sink.stream_id => Err(CallError::new(
                400,
                format!(
                    "The stream ID '{s}' included in this request didn't match the stream ID currently associated with framework ID {framework_id}"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The framework's stream closed: it stays, inactive, for its failover timeout.
    pub fn disconnected(&mut self, framework_id: &str, stream_id: &str, fx: &mut Vec<Effect>) {
        let Some(f) = self.framework_mut(framework_id) else {
            return;
        };
        if f.sink.as_ref().map(|s| s.stream_id.as_str()) != Some(stream_id) {
            return;
        }
        f.sink = None;
        f.active = false;
        f.generation += 1;
        f.unregistered_time = Some(now_secs());
        let generation = f.generation;
        let timeout = Duration::from_secs_f64(f.failover_timeout().clamp(0.0, 1e9));
        // Its offers go back; it cannot answer them.
        let mine: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in mine {
            self.take_offer(&offer_id);
        }
        fx.push(Effect::Timer(
            Instant::now() + timeout,
            Timer::Failover {
                framework_id: framework_id.to_string(),
                generation,
            },
        ));
        self.publish_framework("FRAMEWORK_UPDATED", framework_id);
        self.allocate(fx);
    }

    /// TEARDOWN (scheduler or operator), or an expired failover timeout: the framework's
    /// tasks are killed and it moves to the completed frameworks.
    pub fn remove_framework(&mut self, framework_id: &str, fx: &mut Vec<Effect>) -> bool {
        let Some(pos) = self.frameworks.iter().position(|f| f.id == framework_id) else {
            return false;
        };
        let mut f = self.frameworks.remove(pos);
        f.sink = None;
        f.active = false;
        f.unregistered_time = Some(now_secs());
        for mut task in f.tasks.drain(..) {
            if let Some(kill) = &task.kill {
                let _ = kill.send(true);
            }
            if !task.is_terminal() {
                task.state = "TASK_KILLED".into();
                task.statuses
                    .push(json!({"state": "TASK_KILLED", "timestamp": now_secs()}));
                self.counters.tasks_killed += 1;
            }
            if !task.resources_recovered {
                task.resources_recovered = true;
                if let Some(agent) = self.agent_mut(&task.agent_id) {
                    agent.used = agent.used.minus(&task.resources);
                }
            }
            task.pending.clear();
            f.completed_tasks.push(task);
        }
        let mine: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in mine {
            self.take_offer(&offer_id);
        }
        self.completed_frameworks.push(f);
        self.publish_framework("FRAMEWORK_REMOVED", framework_id);
        self.allocate(fx);
        true
    }

    /// Removes an offer and returns its resources to the agent's free pool.
    fn take_offer(&mut self, offer_id: &str) -> Option<Offer> {
        let pos = self.offers.iter().position(|o| o.id == offer_id)?;
        Some(self.offers.remove(pos))
    }

    fn add_filter(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        resources: Resources,
        secs: f64,
        fx: &mut Vec<Effect>,
    ) {
        if secs <= 0.0 || !secs.is_finite() {
            return;
        }
        let until = Instant::now() + Duration::from_secs_f64(secs.min(1e9));
        if let Some(f) = self.framework_mut(framework_id) {
            f.filters.push(Filter {
                agent_id: agent_id.to_string(),
                resources,
                until,
            });
            fx.push(Effect::Timer(until, Timer::Allocate));
        }
    }

    /// DECLINE: the offers go back, refused to this framework for `refuse_seconds`.
    pub fn decline(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) {
        for offer_id in offer_ids {
            let mine = self
                .offers
                .iter()
                .any(|o| &o.id == offer_id && o.framework_id == framework_id);
            if !mine {
                continue;
            }
            if let Some(offer) = self.take_offer(offer_id) {
                self.counters.offers_declined += 1;
                self.add_filter(
                    framework_id,
                    &offer.agent_id,
                    offer.resources,
                    refuse_seconds,
                    fx,
                );
            }
        }
        self.allocate(fx);
    }

    pub fn revive(&mut self, framework_id: &str, fx: &mut Vec<Effect>) {
        if let Some(f) = self.framework_mut(framework_id) {
            f.suppressed = false;
            f.filters.clear();
        }
        self.allocate(fx);
    }

    pub fn suppress(&mut self, framework_id: &str) {
        if let Some(f) = self.framework_mut(framework_id) {
            f.suppressed = true;
        }
    }

    /// ACCEPT with LAUNCH / LAUNCH_GROUP operations. Other operations are refused before
    /// anything happens (501), since this cluster has no reservations or volumes.
    pub fn accept(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        operations: &[Value],
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        // Each group is launched (or refused) as a whole: a LAUNCH gives one group per task.
        let mut groups: Vec<(Option<Value>, Vec<Value>)> = Vec::new();
        for op in operations {
            let kind = op.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN");
            match kind {
                "LAUNCH" => {
                    let tasks = op
                        .pointer("/launch/task_infos")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.extend(tasks.into_iter().map(|t| (None, vec![t])));
                }
                "LAUNCH_GROUP" => {
                    let executor = op.pointer("/launch_group/executor").cloned();
                    let tasks = op
                        .pointer("/launch_group/task_group/tasks")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.push((Some(executor.unwrap_or(Value::Null)), tasks));
                }
                other => {
                    return Err(CallError::new(
                        501,
                        format!(
                            "Offer operation '{other}' is not supported by the mesos-kernel embedded cluster (only LAUNCH and LAUNCH_GROUP are)"
                        ),
                    ))
                }
            }
        }
        if self.framework(framework_id).is_none() {
            return Err(CallError::new(400, "Framework cannot be found"));
        }

        // Offers first: all must be outstanding, this framework's, on one agent.
        let mut offer_error = None;
        let mut agent_id: Option<String> = None;
        for (i, offer_id) in offer_ids.iter().enumerate() {
            if offer_ids[..i].contains(offer_id) {
                offer_error = Some(format!("Duplicate offer {offer_id} in accept"));
                break;
            }
            match self.offers.iter().find(|o| &o.id == offer_id) {
                Some(o) if o.framework_id == framework_id => {
                    if agent_id.as_ref().is_some_and(|a| a != &o.agent_id) {
                        offer_error =
                            Some("Aggregated offers must belong to the same agent".into());
                        break;
                    }
                    agent_id = Some(o.agent_id.clone());
                }
                _ => {
                    offer_error = Some(format!("Offer {offer_id} is no longer valid"));
                    break;
                }
            }
        }
        if offer_ids.is_empty() {
            offer_error = Some("No offers specified".into());
        }
        let mut available = Resources::default();
        for offer_id in offer_ids {
            let mine = self
                .offers
                .iter()
                .any(|o| &o.id == offer_id && o.framework_id == framework_id);
            if mine {
                if let Some(o) = self.take_offer(offer_id) {
                    available = available.plus(&o.resources);
                }
            }
        }
        if let Some(error) = offer_error {
            let partition_aware = self
                .framework(framework_id)
                .is_some_and(Framework::partition_aware);
            let state = if partition_aware {
                "TASK_DROPPED"
            } else {
                "TASK_LOST"
            };
            for (_, tasks) in &groups {
                for t in tasks {
                    self.master_update(
                        framework_id,
                        t,
                        state,
                        "REASON_INVALID_OFFERS",
                        &format!("Task launched with invalid offers: {error}"),
                    );
                }
            }
            self.allocate(fx);
            return Ok(());
        }
        let Some(agent_id) = agent_id else {
            return Ok(());
        };

        for (executor, tasks) in groups {
            let mut needed = Resources::default();
            let mut error = None;
            if let Some(exec) = &executor {
                match Resources::from_v1(exec.get("resources").unwrap_or(&Value::Null)) {
                    Ok(r) => needed = r,
                    Err(e) => error = Some(e),
                }
            }
            let mut seen: Vec<String> = Vec::new();
            for t in &tasks {
                if error.is_some() {
                    break;
                }
                match self.validate_task(framework_id, &agent_id, t, executor.is_some(), &seen) {
                    Ok(r) => {
                        needed = needed.plus(&r);
                        seen.push(id_of(t.get("task_id")).unwrap_or_default());
                    }
                    Err(e) => error = Some(e),
                }
            }
            if error.is_none() && !available.contains(&needed) {
                error = Some(format!(
                    "Total resources {needed} required by task and its executor is more than available {available}"
                ));
            }
            if let Some(message) = error {
                for t in &tasks {
                    self.master_update(
                        framework_id,
                        t,
                        "TASK_ERROR",
                        "REASON_TASK_INVALID",
                        &message,
                    );
                }
                continue;
            }
            available = available.minus(&needed);
            if let Some(agent) = self.agent_mut(&agent_id) {
                agent.used = agent.used.plus(&needed);
            }
            // One executor run (one container, one sandbox) per LAUNCH task or per group.
            let container_id = self.ids.uuid().to_string();
            for t in &tasks {
                self.launch(
                    framework_id,
                    &agent_id,
                    t,
                    executor.as_ref(),
                    &container_id,
                    fx,
                );
            }
        }
        if !available.is_empty() {
            self.add_filter(framework_id, &agent_id, available, refuse_seconds, fx);
        }
        self.allocate(fx);
        Ok(())
    }

    /// Mesos's task checks, in its order; the task's resources when it is valid.
    fn validate_task(
        &self,
        framework_id: &str,
        agent_id: &str,
        task: &Value,
        in_group: bool,
        earlier_in_group: &[String],
    ) -> Result<Resources, String> {
        let task_id = id_of(task.get("task_id")).unwrap_or_default();
        if task_id.is_empty() {
            return Err("ID must not be empty".into());
        }
        if task_id
            .chars()
            .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(format!("'{task_id}' contains invalid characters"));
        }
        let duplicate = self
            .framework(framework_id)
            .is_some_and(|f| f.task(&task_id).is_some())
            || earlier_in_group.contains(&task_id);
        if duplicate {
            return Err(format!("Task has duplicate ID: {task_id}"));
        }
        let task_agent = id_of(task.get("agent_id")).unwrap_or_default();
        if task_agent != agent_id {
            return Err(format!(
                "Task uses invalid agent {task_agent} while agent {agent_id} is expected"
            ));
        }
        let has_command = task.get("command").is_some_and(|c| !c.is_null());
        let has_executor = task.get("executor").is_some_and(|c| !c.is_null());
        if !in_group && has_command == has_executor {
            return Err(
                "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                    .into(),
            );
        }
        if has_executor {
            return Err(
                "Custom executors are not supported by the mesos-kernel embedded cluster; use a command task"
                    .into(),
            );
        }
        let resources = Resources::from_v1(task.get("resources").unwrap_or(&Value::Null))?;
        if resources.is_empty() {
            return Err("Task uses no resources".into());
        }
        Ok(resources)
    }

    fn launch(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        info: &Value,
        group_executor: Option<&Value>,
        container_id: &str,
        fx: &mut Vec<Effect>,
    ) {
        let task_id = id_of(info.get("task_id")).unwrap_or_default();
        let name = info
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let resources =
            Resources::from_v1(info.get("resources").unwrap_or(&Value::Null)).unwrap_or_default();
        let command_value = info
            .pointer("/command/value")
            .and_then(Value::as_str)
            .map(str::to_string);
        let command = CommandSpec {
            shell: info
                .pointer("/command/shell")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            value: command_value.clone(),
            arguments: info
                .pointer("/command/arguments")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
        };
        let docker_image =
            if info.pointer("/container/type").and_then(Value::as_str) == Some("DOCKER") {
                Some(
                    info.pointer("/container/docker/image")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            } else {
                None
            };
        let (executor_id, executor_name) = match group_executor {
            Some(e) => (
                id_of(e.get("executor_id")).unwrap_or_else(|| task_id.clone()),
                e.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            None => {
                let shown = match (&command_value, command.shell) {
                    (Some(v), true) => format!("sh -c '{v}'"),
                    (Some(v), false) => std::iter::once(v.clone())
                        .chain(command.arguments.iter().skip(1).cloned())
                        .collect::<Vec<_>>()
                        .join(" "),
                    (None, _) => String::new(),
                };
                (
                    task_id.clone(),
                    format!("Command Executor (Task: {task_id}) (Command: {shown})"),
                )
            }
        };
        let container_id = container_id.to_string();
        let executor_dir = self
            .settings
            .work_dir
            .join("slaves")
            .join(agent_id)
            .join("frameworks")
            .join(framework_id)
            .join("executors")
            .join(&executor_id)
            .join("runs")
            .join(&container_id);
        // Tasks of a group share their executor's sandbox, each in `tasks/<id>` as the
        // default executor lays them out.
        let sandbox = if group_executor.is_some() {
            executor_dir.join("tasks").join(&task_id)
        } else {
            executor_dir
        };
        let env: Vec<(String, String)> = info
            .pointer("/command/environment/variables")
            .and_then(Value::as_array)
            .map(|vars| {
                vars.iter()
                    .filter_map(|v| {
                        let name = v.get("name")?.as_str()?.to_string();
                        let value = v
                            .get("value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        Some((name, value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let uris: Vec<UriSpec> = info
            .pointer("/command/uris")
            .and_then(Value::as_array)
            .map(|uris| {
                uris.iter()
                    .filter_map(|u| {
                        Some(UriSpec {
                            value: u.get("value")?.as_str()?.to_string(),
                            extract: u.get("extract").and_then(Value::as_bool).unwrap_or(true),
                            executable: u
                                .get("executable")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            output_file: u
                                .get("output_file")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let killing_state = self
            .framework(framework_id)
            .is_some_and(|f| f.has_capability("TASK_KILLING_STATE"));
        let (kill_tx, kill_rx) = watch::channel(false);
        let mut stored = info.clone();
        stored["agent_id"] = id(agent_id);
        let task = Task {
            task_id: task_id.clone(),
            name,
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            executor_id: executor_id.clone(),
            executor_name,
            container_id: container_id.clone(),
            info: stored,
            resources,
            executor_resources: group_executor
                .and_then(|e| Resources::from_v1(e.get("resources").unwrap_or(&Value::Null)).ok())
                .unwrap_or_default(),
            state: "TASK_STAGING".into(),
            statuses: Vec::new(),
            pending: VecDeque::new(),
            acked_status: None,
            sandbox: sandbox.clone(),
            docker_image: docker_image.clone(),
            kill: Some(kill_tx),
            resources_recovered: false,
        };
        let added = json!({"type": "TASK_ADDED", "task_added": {"task": operator::task_v1(&task)}});
        if let Some(f) = self.framework_mut(framework_id) {
            f.tasks.push(task);
        }
        self.publish(&added);
        // A crashed agent never hears of the task: it stays TASK_STAGING until the master
        // notices the agent is gone, as in Mesos.
        if !self.answers(agent_id) {
            return;
        }
        fx.push(Effect::Launch(Box::new(LaunchSpec {
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            task_id,
            executor_id,
            container_id,
            sandbox,
            command,
            docker_image,
            env,
            uris,
            killing_state,
            kill_grace: self.settings.kill_grace,
            kill: kill_rx,
        })));
    }

    /// An update made by the master itself (invalid task, reconciliation): no uuid, so it
    /// is neither retried nor acknowledged.
    fn master_update(
        &mut self,
        framework_id: &str,
        task: &Value,
        state: &str,
        reason: &str,
        message: &str,
    ) {
        let status = json!({
            "task_id": task.get("task_id").cloned().unwrap_or_else(|| id("")),
            "state": state,
            "source": "SOURCE_MASTER",
            "reason": reason,
            "message": message,
            "agent_id": task.get("agent_id").cloned().unwrap_or(Value::Null),
            "timestamp": now_secs()
        });
        let mut status = status;
        if status["agent_id"].is_null() {
            if let Some(o) = status.as_object_mut() {
                o.remove("agent_id");
            }
        }
        match state {
            "TASK_ERROR" => self.counters.tasks_error += 1,
            "TASK_LOST" => self.counters.tasks_lost += 1,
            "TASK_DROPPED" => self.counters.tasks_dropped += 1,
            _ => {}
        }
        if let Some(f) = self.framework(framework_id) {
            f.send(&update_event(&status));
        }
    }

    /// KILL: the agent signals the task; unknown tasks get a reconciliation answer.
    pub fn kill(&mut self, framework_id: &str, task_id: &str) {
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        match f.task(task_id) {
            Some(task) => {
                if let Some(kill) = &task.kill {
                    let _ = kill.send(true);
                }
            }
            None => {
                let unknown = json!([{ "task_id": id(task_id) }]);
                self.reconcile(
                    framework_id,
                    unknown.as_array().map(Vec::as_slice).unwrap_or(&[]),
                );
            }
        }
    }

    /// SHUTDOWN of an executor: its tasks are killed.
    pub fn shutdown_executor(&mut self, framework_id: &str, executor_id: &str) {
        if let Some(f) = self.framework(framework_id) {
            for task in f.tasks.iter().filter(|t| t.executor_id == executor_id) {
                if let Some(kill) = &task.kill {
                    let _ = kill.send(true);
                }
            }
        }
    }

    /// RECONCILE: the latest state of the named tasks (all of them when none is named).
    pub fn reconcile(&mut self, framework_id: &str, tasks: &[Value]) {
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        let mut statuses = Vec::new();
        let status = |task_id: &str, state: &str, agent: Option<&str>, message: &str| {
            let mut s = json!({
                "task_id": id(task_id),
                "state": state,
                "source": "SOURCE_MASTER",
                "reason": "REASON_RECONCILIATION",
                "message": message,
                "timestamp": now_secs()
            });
            if let Some(a) = agent {
                s["agent_id"] = id(a);
            }
            s
        };
        if tasks.is_empty() {
            for t in &f.tasks {
                statuses.push(status(
                    &t.task_id,
                    &t.state,
                    Some(&t.agent_id),
                    "Reconciliation: Latest task state",
                ));
            }
        } else {
            for wanted in tasks {
                let task_id = id_of(wanted.get("task_id")).unwrap_or_default();
                match f.task(&task_id) {
                    Some(t) => statuses.push(status(
                        &t.task_id,
                        &t.state,
                        Some(&t.agent_id),
                        "Reconciliation: Latest task state",
                    )),
                    None => {
                        let agent = id_of(wanted.get("agent_id"));
                        let lost = agent.as_deref().and_then(|a| self.lost_agent(a));
                        // Mesos's order: an unreachable agent, a gone agent, else unknown.
                        let (state, message) = match lost {
                            Some((_, Some(_))) => {
                                ("TASK_UNREACHABLE", "Reconciliation: Task is unreachable")
                            }
                            Some((_, None)) => {
                                ("TASK_GONE_BY_OPERATOR", "Reconciliation: Task is gone")
                            }
                            None => ("TASK_UNKNOWN", "Reconciliation: Task is unknown"),
                        };
                        let state = if f.partition_aware() {
                            state
                        } else {
                            "TASK_LOST"
                        };
                        let mut s = status(&task_id, state, agent.as_deref(), message);
                        if let Some((_, Some(time))) = lost {
                            s["unreachable_time"] = time_info(time);
                        }
                        statuses.push(s);
                    }
                }
            }
        }
        for s in statuses {
            f.send(&update_event(&s));
        }
    }

    /// ACKNOWLEDGE: the agent moves on to the task's next update; an acknowledged terminal
    /// update retires the task.
    pub fn acknowledge(
        &mut self,
        framework_id: &str,
        task_id: &str,
        uuid_b64: &str,
        fx: &mut Vec<Effect>,
    ) {
        let retry = self.settings.update_retry;
        let in_flight = self
            .framework_mut(framework_id)
            .and_then(|f| f.tasks.iter().find(|t| t.task_id == task_id))
            .and_then(|t| t.pending.front())
            .and_then(|s| s.get("uuid"))
            .and_then(Value::as_str)
            == Some(uuid_b64);
        if !in_flight {
            tracing::debug!(
                task_id,
                "acknowledgement for an update that is not in flight"
            );
            self.counters.invalid_acknowledgements += 1;
            return;
        }
        self.counters.valid_acknowledgements += 1;
        let Some(f) = self.framework_mut(framework_id) else {
            return;
        };
        let Some(pos) = f.tasks.iter().position(|t| t.task_id == task_id) else {
            return;
        };
        let task = &mut f.tasks[pos];
        let acked = task.pending.pop_front();
        task.acked_status = acked;
        let next = task.pending.front().cloned();
        let retire = next.is_none() && task.is_terminal();
        if let Some(next) = next {
            if let Some(sink) = &f.sink {
                sink.send(&update_event(&next));
            }
            let uuid = next
                .get("uuid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            fx.push(Effect::Timer(
                Instant::now() + retry,
                Timer::Retry {
                    framework_id: framework_id.to_string(),
                    task_id: task_id.to_string(),
                    uuid,
                    backoff: retry,
                },
            ));
        }
        if retire {
            let mut task = f.tasks.remove(pos);
            task.kill = None;
            f.completed_tasks.push(task);
        }
    }

    /// A status update from a task's executor, entering the agent's update stream.
    pub fn status_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: Option<String>,
        reason: Option<&str>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(agent_id) = self.task_agent(framework_id, task_id) else {
            return;
        };
        // A crashed agent's executors die with it; nothing they say reaches the master.
        if !self.answers(&agent_id) {
            return;
        }
        let uuid_bytes = *self.ids.uuid().as_bytes();
        let uuid = base64::engine::general_purpose::STANDARD.encode(uuid_bytes);
        let ip = self.settings.ip.to_string();
        let Some(f) = self.frameworks.iter_mut().find(|f| f.id == framework_id) else {
            return;
        };
        let Some(task) = f.tasks.iter_mut().find(|t| t.task_id == task_id) else {
            return;
        };
        if task.is_terminal() {
            return;
        }
        let mut status = json!({
            "task_id": id(task_id),
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "agent_id": id(&task.agent_id),
            "executor_id": id(&task.executor_id),
            "timestamp": now_secs(),
            "uuid": uuid,
            "container_status": {
                "container_id": id(&task.container_id),
                "network_infos": [{"ip_addresses": [{"protocol": "IPv4", "ip_address": ip}]}]
            }
        });
        if let Some(m) = message {
            status["message"] = Value::String(m);
        }
        if let Some(r) = reason {
            status["reason"] = Value::String(r.to_string());
        }
        task.state = state.to_string();
        task.statuses.push(status.clone());
        task.pending.push_back(status.clone());
        let in_flight = task.pending.len() == 1;
        let recover = is_terminal(state) && !task.resources_recovered;
        if recover {
            task.resources_recovered = true;
        }
        let (agent_id, mut resources) = (task.agent_id.clone(), task.resources.clone());
        let (executor_id, container_id) = (task.executor_id.clone(), task.container_id.clone());
        let in_group = executor_id != task_id;
        let executor_resources = task.executor_resources.clone();
        // A task group's executor ends with its last task: its resources come back and the
        // framework hears of it in a FAILURE event, as the default executor exits.
        let group_done = recover
            && in_group
            && f.tasks
                .iter()
                .filter(|t| t.executor_id == executor_id && t.container_id == container_id)
                .all(Task::is_terminal);
        if group_done {
            resources = resources.plus(&executor_resources);
        }
        if in_flight {
            if let Some(sink) = &f.sink {
                sink.send(&update_event(&status));
            }
            fx.push(Effect::Timer(
                Instant::now() + self.settings.update_retry,
                Timer::Retry {
                    framework_id: framework_id.to_string(),
                    task_id: task_id.to_string(),
                    uuid: uuid.clone(),
                    backoff: self.settings.update_retry,
                },
            ));
        }
        match state {
            "TASK_FINISHED" => self.counters.tasks_finished += 1,
            "TASK_FAILED" => self.counters.tasks_failed += 1,
            "TASK_KILLED" => self.counters.tasks_killed += 1,
            _ => {}
        }
        self.publish(&json!({
            "type": "TASK_UPDATED",
            "task_updated": {"framework_id": id(framework_id), "status": status, "state": state}
        }));
        if group_done {
            if let Some(f) = self.framework(framework_id) {
                f.send(&json!({"type": "FAILURE", "failure": {
                    "agent_id": id(&agent_id), "executor_id": id(&executor_id), "status": 0}}));
            }
        }
        if recover {
            if let Some(agent) = self.agent_mut(&agent_id) {
                agent.used = agent.used.minus(&resources);
            }
            self.allocate(fx);
        }
    }

    /// A timer armed earlier went off.
    pub fn fire(&mut self, timer: Timer, fx: &mut Vec<Effect>) {
        match timer {
            Timer::Allocate => self.allocate(fx),
            Timer::Retry {
                framework_id,
                task_id,
                uuid,
                backoff,
            } => {
                let Some(f) = self.framework(&framework_id) else {
                    return;
                };
                let Some(task) = f.task(&task_id) else {
                    return;
                };
                let Some(head) = task.pending.front() else {
                    return;
                };
                if head.get("uuid").and_then(Value::as_str) != Some(uuid.as_str()) {
                    return;
                }
                // The agent resends, so a crashed one does not.
                if !self.answers(&task.agent_id) {
                    return;
                }
                f.send(&update_event(head));
                let backoff = (backoff * 2).min(UPDATE_RETRY_MAX);
                fx.push(Effect::Timer(
                    Instant::now() + backoff,
                    Timer::Retry {
                        framework_id,
                        task_id,
                        uuid,
                        backoff,
                    },
                ));
            }
            Timer::Failover {
                framework_id,
                generation,
            } => {
                let expired = self
                    .framework(&framework_id)
                    .is_some_and(|f| !f.connected() && f.generation == generation);
                if expired {
                    tracing::info!(
                        framework_id,
                        "failover timeout passed; removing the framework"
                    );
                    self.remove_framework(&framework_id, fx);
                }
            }
            Timer::Ping { agent_id } => self.ping(&agent_id, fx),
            Timer::OfferTimeout { offer_id } => {
                if let Some(offer) = self.take_offer(&offer_id) {
                    self.counters.offers_rescinded += 1;
                    if let Some(f) = self.framework(&offer.framework_id) {
                        f.send(&json!({"type": "RESCIND", "rescind": {"offer_id": id(&offer.id)}}));
                    }
                    self.allocate(fx);
                }
            }
        }
    }

    /// The allocator: each agent's free resources, not already offered, go as one offer to
    /// the first framework (in registration order) that wants them and has not refused them.
    pub fn allocate(&mut self, fx: &mut Vec<Effect>) {
        let now = Instant::now();
        for f in &mut self.frameworks {
            f.filters.retain(|flt| flt.until > now);
        }
        let mut made: Vec<Offer> = Vec::new();
        let offered = self.offered_by_agent();
        for a in 0..self.agents.len() {
            let agent = &self.agents[a];
            if !agent.active {
                continue;
            }
            // What is neither used by tasks nor already offered (an agent may have several
            // outstanding offers, as in Mesos).
            let free = agent.total.minus(&agent.used).minus(
                offered
                    .get(agent.id.as_str())
                    .unwrap_or(&Resources::default()),
            );
            if free.cpus <= 0.0 && free.mem <= 0.0 {
                continue;
            }
            let taker = self.frameworks.iter().find(|f| {
                f.active
                    && f.connected()
                    && !f.suppressed
                    && !f
                        .filters
                        .iter()
                        .any(|flt| flt.agent_id == agent.id && flt.resources.contains(&free))
            });
            let Some(taker) = taker else {
                continue;
            };
            let offer = Offer {
                id: String::new(),
                framework_id: taker.id.clone(),
                agent_id: agent.id.clone(),
                resources: free,
            };
            made.push(offer);
        }
        if made.is_empty() {
            return;
        }
        for offer in &mut made {
            offer.id = self.ids.offer();
        }
        self.counters.offers_sent += made.len() as u64;
        let framework_ids: Vec<String> = self.frameworks.iter().map(|f| f.id.clone()).collect();
        for fid in framework_ids {
            let mine: Vec<Value> = made
                .iter()
                .filter(|o| o.framework_id == fid)
                .map(|o| operator::offer_v1(self, o))
                .collect();
            if mine.is_empty() {
                continue;
            }
            if let Some(f) = self.framework(&fid) {
                f.send(&json!({"type": "OFFERS", "offers": {"offers": mine}}));
            }
        }
        if let Some(timeout) = self.settings.offer_timeout {
            for o in &made {
                fx.push(Effect::Timer(
                    now + timeout,
                    Timer::OfferTimeout {
                        offer_id: o.id.clone(),
                    },
                ));
            }
        }
        self.offers.extend(made);
    }

    /// Stops everything: streams close and every task is told to die.
    pub fn shutdown(&mut self) {
        self.operator_subscribers.clear();
        for f in &mut self.frameworks {
            f.sink = None;
            for t in &f.tasks {
                if let Some(kill) = &t.kill {
                    let _ = kill.send(true);
                }
            }
        }
    }

    /// All tasks (active, then completed, then unreachable), for the views.
    pub fn all_tasks(&self) -> impl Iterator<Item = &Task> {
        self.frameworks
            .iter()
            .chain(self.completed_frameworks.iter())
            .flat_map(|f| {
                f.tasks
                    .iter()
                    .chain(f.completed_tasks.iter())
                    .chain(f.unreachable_tasks.iter())
            })
    }
}

pub fn update_event(status: &Value) -> Value {
    json!({"type": "UPDATE", "update": {"status": status}})
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// A master on 127.0.0.1:5050 with short timeouts, for tests of the state machine.
    pub(crate) fn settings() -> Settings {
        Settings {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 5050,
            hostname: "127.0.0.1".into(),
            heartbeat_interval: Duration::from_secs(1),
            kill_grace: Duration::from_millis(100),
            offer_timeout: None,
            update_retry: UPDATE_RETRY_MIN,
            work_dir: std::env::temp_dir(),
            start_time: now_secs(),
            flags: Vec::new(),
            scheme: "http",
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 3,
        }
    }

    pub(super) fn master() -> Master {
        let mut m = Master::new(settings(), Some(1));
        let total = Resources {
            cpus: 2.0,
            mem: 496.0,
            disk: 4930.0,
            gpus: 0.0,
            ports: vec![(9000, 10000)],
        };
        m.add_agent(5051, total, vec![], &mut Vec::new());
        m
    }

    pub(super) fn events(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> Vec<Value> {
        let mut d = recordio::Decoder::new();
        while let Ok(b) = rx.try_recv() {
            d.push(&b);
        }
        let mut out = Vec::new();
        while let Some(Ok(r)) = d.next_record() {
            out.push(serde_json::from_slice(&r).unwrap_or(Value::Null));
        }
        out
    }

    #[test]
    fn offers_launch_ack_and_recovery() {
        let mut m = master();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut fx = Vec::new();
        let (_stream, fid) = m.subscribe(json!({"user": "u", "name": "n"}), tx, &mut fx);
        let fid = fid.unwrap_or_default();
        let ev = events(&mut rx);
        assert_eq!(ev[0]["type"], "SUBSCRIBED");
        assert_eq!(ev[1]["type"], "HEARTBEAT");
        assert_eq!(ev[2]["type"], "OFFERS");
        let offer = ev[2]["offers"]["offers"][0].clone();
        let offer_id = id_of(offer.get("id")).unwrap_or_default();
        let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
            "command": {"value": "true"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 3.0}}]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [task]}});
        assert!(m
            .accept(&fid, std::slice::from_ref(&offer_id), &[op], 0.0, &mut fx)
            .is_ok());
        let ev = events(&mut rx);
        assert_eq!(ev[0]["update"]["status"]["state"], "TASK_ERROR");
        assert_eq!(ev[0]["update"]["status"]["reason"], "REASON_TASK_INVALID");
        // The offer was used up, so a second accept of it gives TASK_LOST.
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [{"name": "t", "task_id": {"value": "t2"}}]}});
        assert!(m
            .accept(&fid, std::slice::from_ref(&offer_id), &[op], 0.0, &mut fx)
            .is_ok());
        let ev = events(&mut rx);
        let lost = ev
            .iter()
            .find(|e| e["type"] == "UPDATE")
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(lost["update"]["status"]["state"], "TASK_LOST");
        assert_eq!(
            lost["update"]["status"]["message"],
            format!("Task launched with invalid offers: Offer {offer_id} is no longer valid")
        );
        // Unsupported operations are refused up front.
        let op = json!({"type": "RESERVE", "reserve": {}});
        assert_eq!(
            m.accept(&fid, &[offer_id], &[op], 0.0, &mut fx)
                .map_err(|e| e.status),
            Err(501)
        );
    }
}
