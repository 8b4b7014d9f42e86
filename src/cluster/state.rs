//! The master's state machine: agents, frameworks, offers, tasks and the status update
//! streams of the agents. A plain struct whose methods apply one call or one event and say
//! what must happen next as `Effect`s (launch a task, arm a timer); `runtime.rs` carries
//! those out, and tests call the methods directly.

use super::event_queue;
use super::ids::Ids;
use super::views;
pub use stored_info::StoredInfo;
pub use stored_status::StoredStatus;
// RecordIO is one wire format for both sides; its codec lives with the client.
use super::resources::Resources;
use crate::mesos::recordio;
use crate::mesos::v1::ids::id_json;
use crate::mesos::v1::{to_sparse_value, TaskState, TimeInfo};
use base64::Engine as _;
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

mod adopt;
mod completed_framework;
pub use completed_framework::CompletedFramework;
pub mod completed_tasks;
pub use completed_tasks::CompletedTasks;
pub mod executors;
mod frameworks;
mod launch;
mod offers;
mod updates;
pub use updates::StatusExtra;
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
pub mod stored_info;
pub mod stored_status;
#[cfg(test)]
mod subscribe_tests;
pub mod task_json;
mod task_list;
pub use task_list::TaskList;
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
    /// How far, in bytes, a subscriber's stream may fall behind before it is closed
    /// (`event_queue.rs`).
    pub subscriber_backlog: usize,
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
    /// Start a framework's own executor on its agent (`custom_executor.rs`).
    LaunchExecutor(Box<executors::ExecutorLaunch>),
    /// Serve a newly registered agent on its port (an agent back after maintenance).
    ServeAgent {
        agent_id: String,
        port: u16,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Timer {
    /// The allocation `allocate_soon` queued.
    QueuedAllocation,
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
    /// A framework's executor had `--executor_registration_timeout` to subscribe.
    ExecutorRegistration {
        framework_id: String,
        agent_id: String,
        executor_id: String,
        container_id: String,
    },
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
    tx: event_queue::Sender,
    /// The framework's event counters (the per-framework `events/*` metrics).
    counts: Arc<EventCounts>,
}

impl EventSink {
    pub fn new(stream_id: String, tx: event_queue::Sender) -> EventSink {
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

    /// An UPDATE event of `status`, written straight into its record.
    fn send_update(&self, status: &impl Serialize) -> bool {
        self.counts.count_kind("UPDATE");
        let event = UpdateEvent {
            r#type: "UPDATE",
            update: UpdateOf { status },
        };
        self.tx.send(frame(&event)).is_ok()
    }

    /// UPDATE events written together (a reconciliation's answers): one queued write.
    fn send_updates(&self, batch: UpdateBatch<'_>) -> bool {
        if batch.count == 0 {
            return true;
        }
        self.counts.count_kind_n("UPDATE", batch.count);
        batch
            .pieces
            .into_iter()
            .chain(std::iter::once(Bytes::from(batch.records)))
            .filter(|piece| !piece.is_empty())
            .all(|piece| self.tx.send(piece).is_ok())
    }
}

/// UPDATE events as RecordIO records, one after the other in pieces of whole records:
/// the 20,000 answers of a RECONCILE were 20,000 buffers, each grown twice while written,
/// copied into its record and queued on its own. The pieces stay small enough that the
/// stream goes out in chunks of the usual size (a client that copies what it has not yet
/// read, as simple ones do, would slow to a crawl on one chunk of megabytes).
///
/// Given the stream they go to (`to`), full pieces are queued as they are written, so the
/// stream's writer sends the first while the master writes the rest (20,000 answers took
/// the master 13–16 ms, the framework waiting for the first of them all along).
#[derive(Default)]
pub struct UpdateBatch<'a> {
    sink: Option<&'a EventSink>,
    pieces: Vec<Bytes>,
    records: Vec<u8>,
    json: Vec<u8>,
    count: u64,
}

/// Where a batch starts a new piece.
const BATCH_PIECE: usize = 64 << 10;

impl<'a> UpdateBatch<'a> {
    /// A batch for `sink`'s stream (none: the framework is not connected).
    pub fn to(sink: Option<&'a EventSink>) -> UpdateBatch<'a> {
        UpdateBatch {
            sink,
            ..UpdateBatch::default()
        }
    }

    pub fn push(&mut self, status: &impl Serialize) {
        let event = UpdateEvent {
            r#type: "UPDATE",
            update: UpdateOf { status },
        };
        self.json.clear();
        // Writing an event cannot fail: its keys are strings and its numbers finite.
        if serde_json::to_writer(&mut self.json, &event).is_ok() {
            recordio::encode_into(&self.json, &mut self.records);
            self.count += 1;
            if self.records.len() >= BATCH_PIECE {
                let full =
                    std::mem::replace(&mut self.records, Vec::with_capacity(BATCH_PIECE * 9 / 8));
                match self.sink {
                    // A stream that is closed or over its backlog refuses the rest too.
                    Some(sink) => {
                        let _ = sink.tx.send(Bytes::from(full));
                    }
                    None => self.pieces.push(Bytes::from(full)),
                }
            }
        }
    }
}

/// One event as a RecordIO record.
pub fn frame(event: &(impl Serialize + ?Sized)) -> Bytes {
    // Writing an event cannot fail: its keys are strings and its numbers finite.
    let json = serde_json::to_vec(event).unwrap_or_default();
    Bytes::from(recordio::encode(&json))
}

/// `{"type": "UPDATE", "update": {"status": ...}}` around a status that writes itself.
#[derive(Serialize)]
struct UpdateEvent<'a, S> {
    r#type: &'static str,
    update: UpdateOf<'a, S>,
}

#[derive(Serialize)]
struct UpdateOf<'a, S> {
    status: &'a S,
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
    /// Its TaskInfo as the framework gave it, with the master's defaults, kept as text.
    pub info: StoredInfo,
    pub resources: Resources,
    /// What a task group's executor itself uses (given back when its last task ends).
    pub executor_resources: Resources,
    /// The role its resources were allocated to (that of the offer it was launched on).
    pub role: String,
    pub state: String,
    /// Every status the task went through (with uuid when it had one).
    pub statuses: Vec<StoredStatus>,
    /// The agent's status update stream: the head is in flight, the rest wait for its ack.
    pub pending: VecDeque<StoredStatus>,
    pub acked_status: Option<stored_status::Acknowledged>,
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
    /// Its v1 JSON's unchanging parts, written by the first answer that shows it.
    pub json: std::sync::OnceLock<task_json::TaskJson>,
}

impl Task {
    pub fn is_terminal(&self) -> bool {
        is_terminal(&self.state)
    }

    /// A task of a framework's own executor (a LAUNCH task with an ExecutorInfo).
    pub fn has_custom_executor(&self) -> bool {
        self.executor.is_some() && self.nested_container_id.is_none()
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
    pub tasks: TaskList,
    /// Its completed tasks, written out as they come (`completed_tasks.rs`).
    pub completed_tasks: CompletedTasks,
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

    fn send_update(&self, status: &impl Serialize) {
        if let Some(sink) = &self.sink {
            sink.send_update(status);
        }
    }

    fn send_updates(&self, batch: UpdateBatch<'_>) {
        if let Some(sink) = &self.sink {
            sink.send_updates(batch);
        }
    }

    pub fn task(&self, task_id: &str) -> Option<&Task> {
        self.tasks.get(task_id)
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
    pub completed_frameworks: Vec<CompletedFramework>,
    pub offers: Vec<Offer>,
    pub counters: Counters,
    operator_subscribers: Vec<event_queue::Sender>,
    /// When the allocation `allocate_soon` queued was asked for, until it runs.
    allocation_queued: Option<Instant>,
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
    /// Frameworks' own executors running on the agents (`executors.rs`).
    pub executors: Vec<executors::ExecutorRun>,
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
            allocation_queued: None,
            held: Held::default(),
            registry_bytes: 0,
            tenancy: tenancy::Tenancy::default(),
            operations: Vec::new(),
            maintenance: Default::default(),
            drains: Default::default(),
            logs: Default::default(),
            executors: Vec::new(),
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
            out.entry(o.agent_id.as_str())
                .or_default()
                .add(&o.resources);
        }
        out
    }

    pub fn offered_to(&self, framework_id: &str) -> Resources {
        self.offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .fold(Resources::default(), |acc, o| acc.plus(&o.resources))
    }

    /// A new subscriber's event queue, bounded by `--subscriber-backlog`.
    pub fn event_queue(&self) -> (event_queue::Sender, event_queue::Receiver) {
        event_queue::channel(self.settings.subscriber_backlog)
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
    pub fn operator_subscribe(&mut self, tx: event_queue::Sender) {
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
                .map(|c| &c.framework)
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

    // The scheduler calls are answered in `frameworks.rs` (SUBSCRIBE), `offers.rs`
    // (DECLINE, REVIVE, SUPPRESS), `launch.rs` (ACCEPT) and `updates.rs` (KILL, RECONCILE,
    // ACKNOWLEDGE, executors' updates).

    /// A timer armed earlier went off.
    pub fn fire(&mut self, timer: Timer, fx: &mut Vec<Effect>) {
        match timer {
            Timer::Allocate => self.allocate(fx),
            Timer::ExecutorRegistration {
                framework_id,
                agent_id,
                executor_id,
                container_id,
            } => self.executor_registration_timeout(
                &framework_id,
                &agent_id,
                &executor_id,
                &container_id,
            ),
            Timer::QueuedAllocation => {
                if self.allocation_queued.is_some() {
                    self.allocate(fx);
                }
            }
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
                if head.uuid() != Some(uuid.as_str()) {
                    return;
                }
                // The agent resends, so a crashed one does not.
                if !self.answers(&task.agent_id) {
                    return;
                }
                f.send_update(head);
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

    /// The tasks held as tasks: the live and unreachable ones of every framework. Every
    /// task that is not over is among them; the completed ones are written out.
    pub fn held_tasks(&self) -> impl Iterator<Item = &Task> {
        let live = self
            .frameworks
            .iter()
            .flat_map(|f| f.tasks.iter().chain(f.unreachable_tasks.iter()));
        let done = self
            .completed_frameworks
            .iter()
            .flat_map(|c| c.framework.unreachable_tasks.iter());
        live.chain(done)
    }

    /// The tasks the views show, of one agent or of all (`None`): those held, then the
    /// completed ones read back.
    pub fn tasks_on(&self, agent_id: Option<&str>) -> AllTasks<'_> {
        let frameworks = self.frameworks.iter();
        let completed = self.completed_frameworks.iter().map(|c| &c.framework);
        let read = frameworks.chain(completed).flat_map(|f| match agent_id {
            Some(a) => f.completed_tasks.read_back_on(a),
            None => f.completed_tasks.read_back(),
        });
        AllTasks {
            m: self,
            agent_id: agent_id.map(str::to_string),
            read: read.collect(),
        }
    }
}

/// `Master::tasks_on`: what it read back, beside the master it borrows the rest from.
pub struct AllTasks<'a> {
    m: &'a Master,
    agent_id: Option<String>,
    read: Vec<Task>,
}

impl AllTasks<'_> {
    pub fn iter(&self) -> impl Iterator<Item = &Task> {
        let mine = |t: &&Task| self.agent_id.as_ref().is_none_or(|a| *a == t.agent_id);
        self.m.held_tasks().filter(mine).chain(self.read.iter())
    }
}

/// The operator stream's TASK_ADDED of a task.
pub fn task_added_event(task: &Task) -> Value {
    json!({"type": "TASK_ADDED", "task_added": {"task": views::task_v1(task)}})
}

/// The operator stream's TASK_UPDATED: a task's update and the state it is in now.
pub fn task_updated_event(framework_id: &str, status: &Value, state: &str) -> Value {
    json!({"type": "TASK_UPDATED", "task_updated": {
        "framework_id": id(framework_id), "status": status, "state": state}})
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn a_batch_of_updates_is_the_records_each_would_be() {
        let statuses = [
            json!({"task_id": {"value": "a"}, "state": "TASK_LOST"}),
            json!({"task_id": {"value": "b\u{e9}"}, "state": "TASK_UNKNOWN", "message": "x"}),
        ];
        let mut batch = UpdateBatch::default();
        let mut one_by_one = Vec::new();
        for status in &statuses {
            batch.push(status);
            one_by_one.extend_from_slice(&frame(&UpdateEvent {
                r#type: "UPDATE",
                update: UpdateOf { status },
            }));
        }
        assert_eq!(batch.count, 2);
        assert!(batch.pieces.is_empty());
        assert_eq!(batch.records, one_by_one);
        let mut d = recordio::Decoder::new();
        d.push(&batch.records);
        let first: Value = serde_json::from_slice(&d.next_record().unwrap().unwrap()).unwrap();
        assert_eq!(first["update"]["status"]["task_id"]["value"], "a");
        assert!(d.next_record().is_some());
        assert!(d.next_record().is_none());
        // A big batch goes in pieces of whole records.
        let mut big = UpdateBatch::default();
        for _ in 0..2000 {
            big.push(&statuses[1]);
        }
        assert!(big.pieces.len() > 1);
        assert!(big.pieces.iter().all(|p| p.len() < BATCH_PIECE + 200));
        let mut d = recordio::Decoder::new();
        for piece in &big.pieces {
            d.push(piece);
        }
        d.push(&big.records);
        assert_eq!(std::iter::from_fn(|| d.next_record()).count(), 2000);
        // For a stream, the full pieces go out as they are written, the rest at the end.
        let (tx, mut rx) = event_queue::channel(64 << 20);
        let sink = EventSink::new("s".into(), tx);
        let mut streamed = UpdateBatch::to(Some(&sink));
        for _ in 0..2000 {
            streamed.push(&statuses[1]);
        }
        let mut d = recordio::Decoder::new();
        let mut early = 0;
        while let Ok(piece) = rx.try_recv() {
            early += 1;
            d.push(&piece);
        }
        assert_eq!(early, big.pieces.len());
        assert!(streamed.pieces.is_empty());
        assert!(sink.send_updates(streamed));
        while let Ok(piece) = rx.try_recv() {
            d.push(&piece);
        }
        assert_eq!(std::iter::from_fn(|| d.next_record()).count(), 2000);
        let counted = sink
            .counts
            .snapshot()
            .into_iter()
            .find(|(k, _)| *k == "UPDATE");
        assert_eq!(counted, Some(("UPDATE", 2000)));
    }

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
            subscriber_backlog: crate::cluster::event_queue::DEFAULT_BACKLOG,
        }
    }

    pub(super) fn master() -> Master {
        let mut m = Master::new(settings(), Some(1));
        let total = Resources::flat(2.0, 496.0, 4930.0, 0.0, &[(9000, 10000)]);
        m.add_agent(5051, total, vec![], &mut Vec::new());
        m
    }

    /// A framework subscribed with `info`: its id, its event stream and its first offer.
    pub(super) fn subscribed(
        m: &mut Master,
        info: Value,
        fx: &mut Vec<Effect>,
    ) -> (String, crate::cluster::event_queue::Receiver, Value) {
        let (tx, mut rx) = crate::cluster::event_queue::channel(usize::MAX);
        let (_stream, fid) = m.subscribe(info, tx, fx);
        let offer = events(&mut rx)
            .into_iter()
            .find(|e| e["type"] == "OFFERS")
            .map(|e| e["offers"]["offers"][0].clone())
            .unwrap_or_default();
        (fid.unwrap_or_default(), rx, offer)
    }

    /// A LAUNCH of `task_infos` on `offer`, accepted for framework `fid`.
    pub(super) fn launched(
        m: &mut Master,
        fid: &str,
        offer: &Value,
        task_infos: Vec<Value>,
        fx: &mut Vec<Effect>,
    ) {
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": task_infos}});
        let offer_id = offer["id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(m.accept(fid, &[offer_id], &[op], 0.0, fx).is_ok());
    }

    pub(super) fn events(rx: &mut crate::cluster::event_queue::Receiver) -> Vec<Value> {
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
        let (tx, mut rx) = crate::cluster::event_queue::channel(usize::MAX);
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
