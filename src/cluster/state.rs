//! The master's state machine: agents, frameworks, offers, tasks and the status update
//! streams of the agents. A plain struct whose methods apply one call or one event and say
//! what must happen next as `Effect`s (launch a task, arm a timer); `runtime.rs` carries
//! those out, and tests call the methods directly.

use super::ids::Ids;
use super::views;
// RecordIO is one wire format for both sides; its codec lives with the client.
use super::resources::Resources;
use crate::mesos::recordio;
use crate::mesos::v1::ids::id_json;
use crate::mesos::v1::{to_sparse_value, TaskState, TimeInfo};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

mod adopt;
mod allocation;
mod allocator;
mod counts;
mod down;
pub mod drain;
mod inverse_offers;
mod log_lines;
mod loss;
pub mod maintenance;
pub mod offer_operations;
pub mod operations;
mod partition;
pub mod quota;
mod recovery;
mod registry;
pub mod reservations;
mod roles;
#[cfg(test)]
mod subscribe_tests;
pub mod tenancy;
pub mod volumes;
pub use adopt::{AdoptedTask, RemoteAgent};
pub use counts::{Counters, Counts, EventCounts, EVENT_TYPES};
pub use loss::LostAgent;
pub use partition::Held;
pub use registry::{parse as registry_parse, RecoveredAgent, AGENT_REREGISTER_TIMEOUT};
pub use roles::{roles_of, OfferConstraints};

/// The version the cluster reports: the last Mesos 1.x release, whose API it follows.
pub const MESOS_VERSION: &str = "1.11.0";

/// First resend of an unacknowledged status update, as Mesos's agents do (the default of
/// `Settings::update_retry`); it doubles up to `UPDATE_RETRY_MAX`.
pub const UPDATE_RETRY_MIN: Duration = Duration::from_secs(10);
pub const UPDATE_RETRY_MAX: Duration = Duration::from_secs(600);

/// What the master keeps of what is over, as Mesos's defaults of `--max_completed_*`
/// and `--max_unreachable_tasks_per_framework` allow: the oldest go first.
pub const MAX_COMPLETED_FRAMEWORKS: usize = 50;
pub const MAX_COMPLETED_TASKS_PER_FRAMEWORK: usize = 1000;
pub const MAX_UNREACHABLE_TASKS_PER_FRAMEWORK: usize = 1000;

/// Drops the oldest entries beyond `max`.
pub(crate) fn cap<T>(list: &mut Vec<T>, max: usize) {
    if list.len() > max {
        list.drain(..list.len() - max);
    }
}

/// Mesos's `--min_allocatable_resources` default: an agent is offered when at least this
/// many cpus or this much memory is free.
pub const MIN_CPUS: f64 = 0.01;
pub const MIN_MEM: f64 = 32.0;

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
    /// What the flags of the master and the agents show (GET_FLAGS, `/master/flags` ...).
    pub flags: super::flags::Inputs,
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
    /// Make (before any later launch) or delete a persistent volume's directory.
    Volume {
        path: PathBuf,
        create: bool,
    },
    /// Serve a newly registered agent on its port (an agent back after maintenance).
    ServeAgent {
        agent_id: String,
        port: u16,
    },
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
    /// Forget the recovered agents that did not re-register (`--agent_reregister_timeout`).
    RecoveredAgents,
    /// A SET_LOGGING_LEVEL's duration is over.
    RevertLogLevel {
        process: crate::cluster::logging::Process,
        generation: u64,
    },
}

/// How to run one task on an agent.
#[derive(Debug)]
pub struct LaunchSpec {
    pub framework_id: String,
    pub agent_id: String,
    pub task_id: String,
    pub executor_id: String,
    pub container_id: String,
    /// A pod's task runs in a nested container under the executor's (`container_id`).
    pub nested_container: Option<String>,
    pub sandbox: PathBuf,
    pub command: CommandSpec,
    pub docker_image: Option<String>,
    pub env: Vec<(String, String)>,
    pub uris: Vec<UriSpec>,
    pub killing_state: bool,
    pub kill_grace: Duration,
    pub kill: watch::Receiver<bool>,
    /// Persistent volumes to link into the sandbox: the volume's directory, its path there.
    pub volumes: Vec<(PathBuf, String)>,
    /// The task's health check and check.
    pub probes: super::checks::Probes,
}

/// What a health check or a check adds to an executor's update (`checks.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusExtra {
    pub healthy: Option<bool>,
    pub check_status: Option<Value>,
    /// A health or check update: made from the task's last update, as Mesos's executor
    /// makes it from `lastTaskStatus`, so it keeps what that one carried. Other updates
    /// are made from scratch: a task with a check has an empty `check_status` in them.
    pub from_last: bool,
}

impl StatusExtra {
    fn apply(&self, status: &mut Value, task: &Task) {
        if self.from_last {
            let last = task
                .statuses
                .iter()
                .rev()
                .find(|s| s["source"] == "SOURCE_EXECUTOR");
            for key in ["healthy", "check_status"] {
                if let Some(v) = last.and_then(|l| l.get(key)) {
                    status[key] = v.clone();
                }
            }
        } else if let Some(empty) = super::checks::empty_status(&task.info) {
            status["check_status"] = empty;
        }
        if let Some(h) = self.healthy {
            status["healthy"] = Value::Bool(h);
        }
        if let Some(c) = &self.check_status {
            status["check_status"] = c.clone();
        }
    }
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
    /// The framework's event counters (the per-framework `events/*` metrics).
    counts: Arc<EventCounts>,
}

impl EventSink {
    pub fn new(stream_id: String, tx: mpsc::UnboundedSender<Bytes>) -> EventSink {
        EventSink {
            stream_id,
            tx,
            counts: Arc::default(),
        }
    }

    fn send(&self, event: &Value) -> bool {
        self.counts.count(event);
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
    /// When it last re-registered (after a restart, a partition, a master failover).
    pub reregistered_time: Option<f64>,
    /// When its process started (again, after a restart): its `/state`'s `start_time`.
    pub started_time: f64,
    pub active: bool,
    /// Stopped answering (the fault-injection hook): health checks go unanswered.
    pub crashed: bool,
    /// Health checks missed in a row since it stopped answering.
    pub missed_pings: u32,
    /// Cut off from the master (the partition hook): its processes keep running.
    pub partitioned: bool,
    /// Its process is restarting (the restart hook): disconnected until it re-registers.
    pub disconnected: bool,
    /// An agent of another master's process, registered with this leader over HTTP
    /// (`follow.rs`): its base URL, where launches and kills go.
    pub remote: Option<String>,
    /// The agent's counters (`slave/valid_status_updates` ...).
    pub counts: Counts,
}

impl Agent {
    pub fn pid(&self, ip: IpAddr) -> String {
        format!("slave(1)@{}:{}", ip, self.port)
    }

    pub fn count_of(&self, name: &str) -> u64 {
        self.counts.get(name).unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub struct Offer {
    pub id: String,
    pub framework_id: String,
    pub agent_id: String,
    pub resources: Resources,
    /// The role the resources are offered to (the offer's `allocation_info`).
    pub role: String,
}

#[derive(Debug, Clone)]
struct Filter {
    agent_id: String,
    /// The role the refused resources were offered to.
    role: String,
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
    /// The role its resources were allocated to (that of the offer it was launched on).
    pub role: String,
    pub state: String,
    /// Every status the task went through (with uuid when it had one).
    pub statuses: Vec<Value>,
    /// The agent's status update stream: the head is in flight, the rest wait for its ack.
    pub pending: VecDeque<Value>,
    pub acked_status: Option<Value>,
    pub sandbox: PathBuf,
    pub docker_image: Option<String>,
    /// The ExecutorInfo of a task group's executor, as the framework gave it.
    pub executor: Option<Value>,
    /// A task of a group runs in a container nested in its executor's: this one.
    pub nested_container_id: Option<String>,
    /// The task's process (its process group), once it runs.
    pub pid: Option<u32>,
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
    /// Roles that get no offers until revived.
    pub suppressed_roles: BTreeSet<String>,
    /// Agents it wants offers from, per role.
    pub offer_constraints: OfferConstraints,
    /// Those constraints as it gave them (`{}` for none), for the views.
    pub offer_constraints_json: Value,
    /// The framework's own counters (`calls/*`, `offers/*`, `tasks/terminal/*` ...).
    pub counts: Counts,
    /// Events sent to it, by type (shared with its open stream).
    pub events: Arc<EventCounts>,
    pub registered_time: f64,
    /// Its registration time until it subscribes again (Mesos's `Framework` starts the two
    /// equal).
    pub reregistered_time: f64,
    /// When it was removed (Mesos sets it only then).
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

    pub(crate) fn has_capability(&self, cap: &str) -> bool {
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

    /// Its roles, in the order it gave them.
    pub fn roles(&self) -> Vec<String> {
        roles_of(&self.info)
    }

    pub fn is_suppressed(&self, role: &str) -> bool {
        self.suppressed_roles.contains(role)
    }

    /// Offer filters (refusals) still in force.
    pub fn active_filters(&self) -> usize {
        let now = Instant::now();
        self.filters.iter().filter(|f| f.until > now).count()
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

pub struct Master {
    pub settings: Settings,
    ids: Ids,
    /// Registered agents; lost ones move to `unreachable_agents` or `gone_agents`.
    pub agents: Vec<Agent>,
    pub unreachable_agents: Vec<LostAgent>,
    pub gone_agents: Vec<LostAgent>,
    /// Agents the registry admitted that have not re-registered since this master was
    /// elected (`state/registry.rs`).
    pub recovered_agents: Vec<RecoveredAgent>,
    pub frameworks: Vec<Framework>,
    pub completed_frameworks: Vec<Framework>,
    pub offers: Vec<Offer>,
    pub counters: Counters,
    operator_subscribers: Vec<mpsc::UnboundedSender<Bytes>>,
    /// What agents cut off from the master keep for when they are back (`partition.rs`).
    pub held: Held,
    /// What the in-memory registry holds, in bytes.
    registry_bytes: usize,
    /// Roles' weights and quotas.
    pub tenancy: tenancy::Tenancy,
    /// Frameworks' operations with an id, until their terminal status is acknowledged.
    pub operations: Vec<operations::Operation>,
    /// The maintenance schedule, machines and inverse offers (`maintenance.rs`).
    pub maintenance: maintenance::Maintenance,
    /// Draining and deactivated agents (`drain.rs`).
    pub drains: drain::Drains,
    /// The master's and agents' own logs (`logging.rs`).
    pub logs: crate::cluster::logging::Logs,
}

pub fn is_terminal(state: &str) -> bool {
    TaskState::from_name(state).is_terminal()
}

pub fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

fn id(value: &str) -> Value {
    id_json(value)
}

/// A TimeInfo, `{"nanoseconds": N}`.
pub fn time_info(secs: f64) -> Value {
    to_sparse_value(&TimeInfo::from_secs(secs))
}

/// Mesos's rule for ids (`validateID` in `src/common/validation.cpp`): not empty, at most
/// NAME_MAX (255) bytes, not `.` or `..`, no control characters and no slashes.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("ID must not be empty".into());
    }
    if id.len() > 255 {
        return Err("ID must not be greater than 255 characters".into());
    }
    if id == "." || id == ".." {
        return Err(format!("'{id}' is disallowed"));
    }
    if id.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(format!("'{id}' contains invalid characters"));
    }
    Ok(())
}

/// `{"value": "x"}` -> `"x"`.
pub fn id_of(v: Option<&Value>) -> Option<String> {
    v.and_then(|v| v.get("value"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl Master {
    pub fn new(settings: Settings, seed: Option<u64>) -> Master {
        let mut m = Master {
            settings,
            ids: Ids::new(seed),
            agents: Vec::new(),
            unreachable_agents: Vec::new(),
            gone_agents: Vec::new(),
            recovered_agents: Vec::new(),
            frameworks: Vec::new(),
            completed_frameworks: Vec::new(),
            offers: Vec::new(),
            counters: Counters::default(),
            operator_subscribers: Vec::new(),
            held: Held::default(),
            registry_bytes: 0,
            tenancy: tenancy::Tenancy::default(),
            operations: Vec::new(),
            maintenance: Default::default(),
            drains: Default::default(),
            logs: Default::default(),
        };
        // The registrar recovers (an empty registry) and stores it with this master's info.
        let started = Instant::now();
        m.registry_bytes = 0;
        m.counters.registry_fetch.record(started.elapsed());
        let info = m.master_info();
        m.store_registry(&info);
        m
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
        let mut info = json!({
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
            "capabilities": [{"type": "AGENT_UPDATE"}, {"type": "AGENT_DRAINING"}, {"type": "QUOTA_V2"}]
        });
        if let Some(domain) = &self.settings.flags.domain {
            info["domain"] = domain.to_json();
        }
        info
    }

    /// Registers an agent (at start; agents leave only when lost, see `loss.rs`).
    pub fn add_agent(
        &mut self,
        port: u16,
        total: Resources,
        attributes: Vec<(String, String)>,
        fx: &mut Vec<Effect>,
    ) -> String {
        let hostname = self.settings.hostname.clone();
        self.add_agent_named(port, hostname, total, attributes, fx)
    }

    /// Registers an agent with its own hostname (Mesos's agent `--hostname`).
    pub fn add_agent_named(
        &mut self,
        port: u16,
        hostname: String,
        total: Resources,
        attributes: Vec<(String, String)>,
        fx: &mut Vec<Effect>,
    ) -> String {
        let agent = Agent {
            id: self.ids.agent(),
            port,
            hostname,
            total,
            used: Resources::default(),
            attributes,
            registered_time: now_secs(),
            reregistered_time: None,
            started_time: now_secs(),
            active: true,
            crashed: false,
            missed_pings: 0,
            partitioned: false,
            disconnected: false,
            remote: None,
            counts: Counts::default(),
        };
        let agent_id = agent.id.clone();
        self.know_machine_of(&agent);
        self.agents.push(agent);
        self.logs.open_agent(&agent_id, port);
        self.counters.count("master/messages_register_slave");
        self.counters.count("master/slave_registrations");
        if let Some(a) = self.agents.last() {
            let info = views::agent_info_v1(self, a);
            self.store_registry(&info);
        }
        if let Some(a) = self.agents.last() {
            let event =
                json!({"type": "AGENT_ADDED", "agent_added": {"agent": views::agent_v1(self, a)}});
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

    /// Operator SUBSCRIBE streams still open (Mesos's `master/operator_event_stream_subscribers`).
    pub fn operator_subscribers(&self) -> usize {
        self.operator_subscribers
            .iter()
            .filter(|tx| !tx.is_closed())
            .count()
    }

    /// The size of what Mesos's registry holds (the master's info, the agents admitted,
    /// those marked unreachable or gone), serialized: the in-memory registry's bytes.
    pub fn registry_size(&self) -> usize {
        self.registry_bytes
    }

    /// The registrar stores each change of the registry (an agent admitted, marked
    /// unreachable or gone): here it is serialized into memory, and timed.
    pub(crate) fn store_registry(&mut self, entry: &Value) {
        let started = Instant::now();
        self.registry_bytes += entry.to_string().len();
        self.counters.registry_store.record(started.elapsed());
    }

    /// Sends one event to every operator SUBSCRIBE stream, forgetting closed ones.
    pub fn publish(&mut self, event: &Value) {
        self.log_event(event);
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
                "get_state": views::get_state(self),
                "heartbeat_interval_seconds": self.settings.heartbeat_interval.as_secs_f64()
            }
        });
        if tx.send(frame(&event)).is_ok() && tx.send(frame(&json!({"type": "HEARTBEAT"}))).is_ok() {
            self.operator_subscribers.push(tx);
        }
    }

    fn publish_framework(&mut self, kind: &str, framework_id: &str) {
        self.log_framework(kind, framework_id);
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
                json!({"type": kind, "framework_added": {"framework": views::framework_event(f)}})
            }
            _ => {
                json!({"type": kind, "framework_updated": {"framework": views::framework_event(f)}})
            }
        };
        self.publish(&event);
    }

    // ---------------------------------------------------------------- scheduler calls

    /// SUBSCRIBE with only a FrameworkInfo.
    pub fn subscribe(
        &mut self,
        info: Value,
        tx: mpsc::UnboundedSender<Bytes>,
        fx: &mut Vec<Effect>,
    ) -> (String, Option<String>) {
        self.subscribe_call(&json!({ "framework_info": info }), tx, fx)
    }

    /// SUBSCRIBE (the call's `subscribe` message) with a new or returning framework.
    /// Always gives a stream id (the HTTP answer is 200 even when the framework is
    /// refused: the refusal is an ERROR event).
    ///
    /// As Mesos 1.11's master (`Master::subscribe`, `_subscribe`, `failoverFramework`): an
    /// empty id is a new framework; an invalid id, or the id of a framework this master
    /// removed, is refused, and so are suppressed roles the framework does not have and
    /// offer constraints Mesos cannot build; a known framework fails over to the new
    /// stream (the old one hears "Framework failed over" and closes, its offers are
    /// discarded); an id this master does not know is a framework it has not recovered yet
    /// (as after a master failover: Mesos keeps no record of frameworks), accepted with no
    /// tasks.
    pub fn subscribe_call(
        &mut self,
        call: &Value,
        tx: mpsc::UnboundedSender<Bytes>,
        fx: &mut Vec<Effect>,
    ) -> (String, Option<String>) {
        let mut info = call.get("framework_info").cloned().unwrap_or(Value::Null);
        super::defaults::framework_info(&mut info);
        let stream_id = self.ids.uuid().to_string();
        let mut sink = EventSink::new(stream_id.clone(), tx);
        let refuse = |sink: &EventSink, message: &str| {
            sink.send(&json!({"type": "ERROR", "error": {"message": message}}));
        };
        let requested = id_of(info.get("id")).filter(|fid| !fid.is_empty());
        if requested.is_some() {
            self.counters.count("master/messages_reregister_framework");
        } else {
            self.counters.count("master/messages_register_framework");
        }
        if let Some(fid) = &requested {
            if let Err(e) = validate_id(fid) {
                refuse(&sink, &e);
                return (stream_id, None);
            }
        }
        // Mesos's `validateFramework`, then the offer constraints.
        let roles = roles_of(&info);
        let suppressed: BTreeSet<String> = call
            .get("suppressed_roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if let Some(role) = suppressed.iter().find(|r| !roles.contains(r)) {
            refuse(
                &sink,
                &format!("Suppressed role '{role}' is not contained in the list of roles"),
            );
            return (stream_id, None);
        }
        if let Some(fid) = &requested {
            if self.completed_frameworks.iter().any(|f| &f.id == fid) {
                refuse(&sink, "Framework has been removed");
                return (stream_id, None);
            }
        }
        let constraints = match OfferConstraints::parse(call.get("offer_constraints")) {
            Ok(c) => c,
            Err(message) => {
                refuse(&sink, &message);
                return (stream_id, None);
            }
        };
        let constraints_json = call
            .get("offer_constraints")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let now = now_secs();
        // A framework that names its id subscribes again (after a failover of its own, or
        // of the master): operator streams hear FRAMEWORK_UPDATED.
        let resubscribed = requested.is_some();
        let fid = match requested {
            Some(fid) if self.framework(&fid).is_some() => {
                let Some(f) = self.framework(&fid) else {
                    return (stream_id, None);
                };
                let principal = |i: &Value| i.get("principal").filter(|p| !p.is_null()).cloned();
                if principal(&f.info) != principal(&info) {
                    refuse(&sink, "Changing framework's principal is not allowed.");
                    return (stream_id, None);
                }
                // User and checkpointing cannot change (MESOS-703): Mesos keeps the old ones.
                for field in ["user", "checkpoint"] {
                    match f.info.get(field) {
                        Some(v) => info[field] = v.clone(),
                        None => {
                            if let Value::Object(m) = &mut info {
                                m.remove(field);
                            }
                        }
                    }
                }
                // The offers made to the old connection are discarded (no RESCIND: the new
                // one never saw them) and offered again.
                let offered: Vec<String> = self
                    .offers
                    .iter()
                    .filter(|o| o.framework_id == fid)
                    .map(|o| o.id.clone())
                    .collect();
                for offer_id in offered {
                    self.take_offer(&offer_id);
                }
                let Some(f) = self.framework_mut(&fid) else {
                    return (stream_id, None);
                };
                if let Some(old) = f.sink.take() {
                    // Dropping the old sink ends its stream after this event, as Mesos
                    // closes the old connection.
                    old.send(
                        &json!({"type": "ERROR", "error": {"message": "Framework failed over"}}),
                    );
                }
                info["id"] = id(&fid);
                f.info = info;
                sink.counts = f.events.clone();
                f.sink = Some(sink);
                f.active = true;
                f.generation += 1;
                f.reregistered_time = now;
                f.suppressed_roles = suppressed;
                f.offer_constraints = constraints;
                f.offer_constraints_json = constraints_json;
                fid
            }
            other => {
                // A new framework, or one recovering after a master failover.
                let fid = match other {
                    Some(fid) => fid,
                    None => self.fresh_framework_id(),
                };
                info["id"] = id(&fid);
                let events = Arc::new(EventCounts::default());
                sink.counts = events.clone();
                self.frameworks.push(Framework {
                    id: fid.clone(),
                    info,
                    sink: Some(sink),
                    active: true,
                    suppressed_roles: suppressed,
                    offer_constraints: constraints,
                    offer_constraints_json: constraints_json,
                    counts: Counts::default(),
                    events,
                    registered_time: now,
                    reregistered_time: now,
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
        if let Some(f) = self.framework_mut(&fid) {
            f.counts.bump("calls/subscribe");
        }
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
        if resubscribed {
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
        // Task groups' executors still running give their own resources back once.
        let mut executors_done: Vec<(String, String)> = Vec::new();
        let mut published = Vec::new();
        for mut task in f.tasks.drain(..) {
            if let Some(kill) = &task.kill {
                let _ = kill.send(true);
            }
            if !task.is_terminal() {
                // Mesos's `removeFramework`: the task is implicitly killed.
                let mut status = json!({
                    "task_id": id(&task.task_id),
                    "state": "TASK_KILLED",
                    "source": "SOURCE_MASTER",
                    "reason": "REASON_FRAMEWORK_REMOVED",
                    "message": format!("Framework {framework_id} removed"),
                    "agent_id": id(&task.agent_id),
                    "timestamp": now_secs()
                });
                if task.executor.is_some() {
                    status["executor_id"] = id(&task.executor_id);
                }
                task.state = "TASK_KILLED".into();
                task.statuses.push(status.clone());
                self.counters.task_ended(&status);
                f.counts.bump("tasks/terminal/task_killed");
                published.push(json!({
                    "type": "TASK_UPDATED",
                    "task_updated": {"framework_id": id(framework_id), "status": status, "state": "TASK_KILLED"}
                }));
                let run = (task.executor_id.clone(), task.container_id.clone());
                if task.executor.is_some() && !executors_done.contains(&run) {
                    executors_done.push(run);
                    if let Some(agent) = self.agent_mut(&task.agent_id) {
                        agent.used = agent.used.minus(&task.executor_resources);
                    }
                }
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
        cap(&mut f.completed_tasks, MAX_COMPLETED_TASKS_PER_FRAMEWORK);
        for event in &published {
            self.publish(event);
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
        // Its tasks are gone from their agents: a draining one may be drained now.
        let mut agents: Vec<String> = f
            .completed_tasks
            .iter()
            .map(|t| t.agent_id.clone())
            .collect();
        agents.sort();
        agents.dedup();
        self.completed_frameworks.push(f);
        self.publish_framework("FRAMEWORK_REMOVED", framework_id);
        cap(&mut self.completed_frameworks, MAX_COMPLETED_FRAMEWORKS);
        for agent_id in agents {
            self.check_drained(&agent_id, fx);
        }
        self.allocate(fx);
        true
    }

    /// Removes an offer and returns its resources to the agent's free pool.
    fn take_offer(&mut self, offer_id: &str) -> Option<Offer> {
        let pos = self.offers.iter().position(|o| o.id == offer_id)?;
        Some(self.offers.remove(pos))
    }

    /// Every outstanding offer of an agent goes back, with a RESCIND to its framework (an
    /// agent lost, disconnected, going down for maintenance).
    fn rescind_offers_of(&mut self, agent_id: &str) {
        let offers: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.agent_id == agent_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in offers {
            if let Some(offer) = self.take_offer(&offer_id) {
                self.counters.offers_rescinded += 1;
                if let Some(f) = self.framework_mut(&offer.framework_id) {
                    f.counts.bump("offers/rescinded");
                    f.send(&json!({"type": "RESCIND", "rescind": {"offer_id": id(&offer.id)}}));
                }
            }
        }
    }

    fn add_filter(
        &mut self,
        framework_id: &str,
        offer: (&str, &str),
        resources: Resources,
        secs: f64,
        fx: &mut Vec<Effect>,
    ) {
        if secs <= 0.0 || !secs.is_finite() {
            return;
        }
        let (agent_id, role) = offer;
        let until = Instant::now() + Duration::from_secs_f64(secs.min(1e9));
        if let Some(f) = self.framework_mut(framework_id) {
            f.filters.push(Filter {
                agent_id: agent_id.to_string(),
                role: role.to_string(),
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
                if let Some(f) = self.framework_mut(framework_id) {
                    f.counts.bump("offers/declined");
                }
                self.add_filter(
                    framework_id,
                    (&offer.agent_id, &offer.role),
                    offer.resources,
                    refuse_seconds,
                    fx,
                );
            }
        }
        self.allocate(fx);
    }

    /// The roles a REVIVE or SUPPRESS names, or all the framework's when it names none.
    fn named_roles(f: &Framework, roles: &[String]) -> Vec<String> {
        if roles.is_empty() {
            f.roles()
        } else {
            roles
                .iter()
                .filter(|r| f.roles().contains(r))
                .cloned()
                .collect()
        }
    }

    /// REVIVE: the roles get offers again and their refusals are forgotten.
    pub fn revive(&mut self, framework_id: &str, roles: &[String], fx: &mut Vec<Effect>) {
        if let Some(f) = self.framework_mut(framework_id) {
            let roles = Self::named_roles(f, roles);
            for role in &roles {
                f.suppressed_roles.remove(role);
            }
            f.filters.retain(|flt| !roles.contains(&flt.role));
        }
        self.allocate(fx);
    }

    /// SUPPRESS: the roles get no offers until revived (outstanding ones stay).
    pub fn suppress(&mut self, framework_id: &str, roles: &[String]) {
        if let Some(f) = self.framework_mut(framework_id) {
            let roles = Self::named_roles(f, roles);
            f.suppressed_roles.extend(roles);
        }
    }

    /// ACCEPT: LAUNCH and LAUNCH_GROUP here, reservations and volumes in
    /// `offer_operations.rs`, in the order given (a LAUNCH may use what a RESERVE before it
    /// reserved). Operations on resource providers' disks are refused before anything
    /// happens (501): the agents have only their default resources.
    pub fn accept(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        operations: &[Value],
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        // Each group is launched (or refused) as a whole: a LAUNCH gives one group per task;
        // another operation stands alone (the third member).
        let mut groups: Vec<(Option<Value>, Vec<Value>, Option<&Value>)> = Vec::new();
        let mut id_refused: Vec<&Value> = Vec::new();
        for op in operations {
            let kind = op.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN");
            // Operation feedback is for operations other than launches (`_accept`).
            if matches!(kind, "LAUNCH" | "LAUNCH_GROUP") && op.get("id").is_some() {
                id_refused.push(op);
                continue;
            }
            match kind {
                "LAUNCH" => {
                    let tasks = op
                        .pointer("/launch/task_infos")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.extend(tasks.into_iter().map(|t| (None, vec![t], None)));
                }
                "LAUNCH_GROUP" => {
                    let executor = op.pointer("/launch_group/executor").cloned();
                    let tasks = op
                        .pointer("/launch_group/task_group/tasks")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.push((Some(executor.unwrap_or(Value::Null)), tasks, None));
                }
                k if offer_operations::SUPPORTED.contains(&k) => groups.push((None, vec![], Some(op))),
                other => {
                    return Err(CallError::new(
                        501,
                        format!(
                            "Offer operation '{other}' is not supported by the mesos-kernel embedded cluster (its agents have no resource providers)"
                        ),
                    ))
                }
            }
        }
        let Some(f) = self.framework_mut(framework_id) else {
            return Err(CallError::new(400, "Framework cannot be found"));
        };
        // Mesos's counters: a LAUNCH with tasks is a launch, one without a decline.
        let mut messages = Vec::new();
        for op in operations {
            let kind = op.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN");
            f.counts
                .bump(&format!("operations/{}", kind.to_ascii_lowercase()));
            if kind == "LAUNCH" {
                let empty = op
                    .pointer("/launch/task_infos")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty);
                messages.push(if empty {
                    "master/messages_decline_offers"
                } else {
                    "master/messages_launch_tasks"
                });
            }
        }
        for name in messages {
            self.counters.count(name);
        }

        // Offers first: all must be outstanding, this framework's, on one agent.
        let mut offer_error = None;
        let mut agent_id: Option<String> = None;
        let mut role = String::from("*");
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
                    role = o.role.clone();
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
                    if let Some(f) = self.framework_mut(framework_id) {
                        f.counts.bump("offers/accepted");
                    }
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
            for (_, tasks, _) in &groups {
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
        for op in id_refused {
            offer_operations::refuse_launch_with_id(self, framework_id, op);
        }

        let multi_role = self
            .framework(framework_id)
            .is_some_and(|f| f.has_capability("MULTI_ROLE"));
        for (executor, tasks, other) in groups {
            if let Some(op) = other {
                self.offer_operation(framework_id, (&agent_id, &role), op, &mut available, fx);
                continue;
            }
            let mut needed = Resources::default();
            let mut error = None;
            let mut needed_role = role.clone();
            if let Some(exec) = &executor {
                let list = exec.get("resources").unwrap_or(&Value::Null);
                match allocation::allocation_role(list, &role, multi_role)
                    .and_then(|r| Ok((r, Resources::from_v1(list)?)))
                {
                    Ok((r, res)) => (needed_role, needed) = (r, res),
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
                        let list = t.get("resources").unwrap_or(&Value::Null);
                        match allocation::allocation_role(list, &role, multi_role) {
                            Ok(own) if seen.is_empty() && executor.is_none() => needed_role = own,
                            Ok(own) if own != needed_role => {
                                error = Some(format!("Invalid task resources: The resources have multiple allocation roles ('{own}' and '{needed_role}') but only one allocation role is allowed"));
                            }
                            Ok(_) => {}
                            Err(e) => error = Some(e),
                        }
                        needed = needed.plus(&r);
                        seen.push(id_of(t.get("task_id")).unwrap_or_default());
                    }
                    Err(e) => error = Some(e),
                }
            }
            if error.is_none() && (needed_role != role || !available.contains(&needed)) {
                error = Some(allocation::more_than_available(
                    &needed,
                    &needed_role,
                    &available,
                    &role,
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
                    (&agent_id, &role),
                    t,
                    executor.as_ref(),
                    &container_id,
                    fx,
                );
            }
        }
        if !available.is_empty() {
            self.add_filter(
                framework_id,
                (&agent_id, &role),
                available,
                refuse_seconds,
                fx,
            );
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
        validate_id(&task_id)?;
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
        super::checks::validate(task)?;
        let list = task.get("resources").unwrap_or(&Value::Null);
        if list.as_array().is_none_or(Vec::is_empty) {
            return Err("Task uses no resources".into());
        }
        let resources =
            Resources::from_v1(list).map_err(|e| format!("Task uses invalid resources: {e}"))?;
        Ok(resources)
    }

    fn launch(
        &mut self,
        framework_id: &str,
        offer: (&str, &str),
        info: &Value,
        group_executor: Option<&Value>,
        container_id: &str,
        fx: &mut Vec<Effect>,
    ) {
        let (agent_id, role) = offer;
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
            None => (
                task_id.clone(),
                views::command_executor_name(&task_id, info.get("command").unwrap_or(&Value::Null)),
            ),
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
        let nested_container = group_executor.map(|_| self.ids.uuid().to_string());
        let (kill_tx, kill_rx) = watch::channel(false);
        let mut stored = info.clone();
        super::defaults::task_info(&mut stored);
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
            role: role.to_string(),
            state: "TASK_STAGING".into(),
            statuses: Vec::new(),
            pending: VecDeque::new(),
            acked_status: None,
            sandbox: sandbox.clone(),
            docker_image: docker_image.clone(),
            executor: group_executor.cloned().map(|mut e| {
                super::defaults::executor_info(&mut e);
                e
            }),
            nested_container_id: nested_container.clone(),
            pid: None,
            kill: Some(kill_tx),
            resources_recovered: false,
        };
        let added = json!({"type": "TASK_ADDED", "task_added": {"task": views::task_v1(&task)}});
        if let Some(f) = self.framework_mut(framework_id) {
            f.tasks.push(task);
        }
        self.publish(&added);
        // A crashed agent never hears of the task: it stays TASK_STAGING until the master
        // notices the agent is gone, as in Mesos.
        if !self.answers(agent_id) {
            return;
        }
        let volumes = self
            .framework(framework_id)
            .and_then(|f| f.task(&task_id))
            .map(|t| volumes::task_links(&self.settings.work_dir, agent_id, &t.resources))
            .unwrap_or_default();
        fx.push(Effect::Launch(Box::new(LaunchSpec {
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            task_id,
            executor_id,
            container_id,
            nested_container,
            sandbox,
            command,
            docker_image,
            env,
            uris,
            killing_state,
            kill_grace: self.settings.kill_grace,
            kill: kill_rx,
            volumes,
            probes: super::checks::Probes::of(info),
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
        self.counters.task_ended(&status);
        if let Some(f) = self.framework_mut(framework_id) {
            f.counts
                .bump(&format!("tasks/terminal/{}", state.to_ascii_lowercase()));
            f.send(&update_event(&status));
        }
    }

    /// KILL: the agent signals the task; unknown tasks get a reconciliation answer.
    pub fn kill(&mut self, framework_id: &str, task_id: &str) {
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        match f.task(task_id) {
            // The kill message is lost on the way to an agent that cannot be reached.
            Some(task) if !self.answers(&task.agent_id) => {}
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
        // Mesos cannot pass it on to an agent that is disconnected (or cut off): the agent
        // sends the update again once it is back.
        if self
            .task_agent(framework_id, task_id)
            .is_some_and(|a| !self.answers(&a))
        {
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
            let agent_id = task.agent_id.clone();
            f.completed_tasks.push(task);
            cap(&mut f.completed_tasks, MAX_COMPLETED_TASKS_PER_FRAMEWORK);
            self.check_drained(&agent_id, fx);
        }
    }

    /// The task's process started (its id is its process group's).
    pub fn task_process(&mut self, framework_id: &str, task_id: &str, pid: u32) {
        if let Some(task) = self
            .framework_mut(framework_id)
            .and_then(|f| f.tasks.iter_mut().find(|t| t.task_id == task_id))
        {
            task.pid = Some(pid);
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
        let extra = StatusExtra::default();
        self.status_update_with(framework_id, task_id, state, message, reason, &extra, fx);
    }

    /// An executor's update with what its health check or check adds (`StatusExtra`).
    #[allow(clippy::too_many_arguments)]
    pub fn status_update_with(
        &mut self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: Option<String>,
        reason: Option<&str>,
        extra: &StatusExtra,
        fx: &mut Vec<Effect>,
    ) {
        // An agent cut off from the master keeps what its executors say for later.
        if self.hold_update(framework_id, task_id, state, &message, reason) {
            return;
        }
        let Some(agent_id) = self.task_agent(framework_id, task_id) else {
            return;
        };
        // A crashed agent's executors die with it; nothing they say reaches the master.
        if !self.answers(&agent_id) {
            return;
        }
        let (state, reason) = self.drain_status(&agent_id, framework_id, state, reason);
        let uuid_bytes = *self.ids.uuid().as_bytes();
        let uuid = base64::engine::general_purpose::STANDARD.encode(uuid_bytes);
        let ip = self.settings.ip;
        let Some(f) = self.frameworks.iter_mut().find(|f| f.id == framework_id) else {
            return;
        };
        let Some(task) = f.tasks.iter_mut().find(|t| t.task_id == task_id) else {
            return;
        };
        if task.is_terminal() {
            return;
        }
        let now = now_secs();
        let mut status = json!({
            "task_id": id(task_id),
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "agent_id": id(&task.agent_id),
            "executor_id": id(&task.executor_id),
            "timestamp": now,
            "uuid": uuid,
            "container_status": super::containers::status(task, ip)
        });
        // Mesos's Docker executor puts the container's `docker inspect` in its
        // TASK_RUNNING update (`src/docker/executor.cpp`); a simulated one too.
        if state == "TASK_RUNNING" {
            if let Some(image) = &task.docker_image {
                let inspect = super::containers::docker_inspect(task, image, now);
                status["data"] = Value::String(
                    base64::engine::general_purpose::STANDARD.encode(inspect.to_string()),
                );
            }
        }
        if let Some(m) = message {
            status["message"] = Value::String(m);
        }
        if let Some(r) = reason {
            status["reason"] = Value::String(r.to_string());
        }
        extra.apply(&mut status, task);
        task.state = state.to_string();
        // The master keeps statuses without their data (MESOS-1746: it could be large).
        let mut kept = status.clone();
        if let Some(o) = kept.as_object_mut() {
            o.remove("data");
        }
        task.statuses.push(kept);
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
        // The agent's and the master's counters: every update is valid here.
        let ended = is_terminal(state);
        let executor_exited = ended && (!in_group || group_done);
        // The agent tells the master of executors it did not make itself (a task group's),
        // not of command executors (`Slave::executorTerminated`).
        let executor_reported = ended && group_done;
        if ended {
            f.counts
                .bump(&format!("tasks/terminal/{}", state.to_ascii_lowercase()));
        }
        self.counters.count("master/messages_status_update");
        self.counters.count("master/valid_status_updates");
        if ended {
            self.counters.task_ended(&status);
        }
        if executor_reported {
            self.counters.count("master/messages_exited_executor");
        }
        if let Some(agent) = self.agents.iter_mut().find(|a| a.id == agent_id) {
            agent.counts.bump("slave/valid_status_updates");
            if ended {
                let name = state.trim_start_matches("TASK_").to_ascii_lowercase();
                agent.counts.bump(&format!("slave/tasks_{name}"));
            }
            if executor_exited {
                agent.counts.bump("slave/executors_terminated");
            }
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
            self.check_drained(&agent_id, fx);
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
            Timer::RecoveredAgents => self.recovered_timeout(),
            Timer::RevertLogLevel {
                process,
                generation,
            } => self.revert_logging_level(&process, generation),
            Timer::OfferTimeout { offer_id } if self.inverse_offer_timeout(&offer_id) => {}
            Timer::OfferTimeout { offer_id } => {
                if self.offers.iter().any(|o| o.id == offer_id) {
                    self.rescind(&offer_id);
                    self.allocate(fx);
                }
            }
        }
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
            flags: crate::cluster::flags::Inputs::default(),
            scheme: "http",
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 3,
        }
    }

    pub(super) fn master() -> Master {
        let mut m = Master::new(settings(), Some(1));
        let total = Resources::flat(2.0, 496.0, 4930.0, 0.0, &[(9000, 10000)]);
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
        let op = json!({"type": "CREATE_DISK", "create_disk": {}});
        assert_eq!(
            m.accept(&fid, &[offer_id], &[op], 0.0, &mut fx)
                .map_err(|e| e.status),
            Err(501)
        );
    }
}
