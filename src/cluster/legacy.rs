//! The master's legacy JSON endpoints (`/master/state`, `/master/slaves`, `/master/tasks`,
//! `/metrics/snapshot` ...) as Mesos 1.11 writes them (`src/master/readonly_handler.cpp`,
//! the `json()` models of `src/common/http.cpp`), and the models the agent's `/state`
//! shares with them (tasks, resources, executors).

use super::election::Role;
use super::metrics;
use super::reply;
use super::resources::{Resources, Seq};
use super::runtime::Shared;
use super::state::{Agent, CompletedTasks, Framework, Master, Offer, Task, MESOS_VERSION};
use super::views::{
    executor_info_v1, known_roles, task_user, version_info, ByRole, Holdings, AGENT_CAPABILITIES,
};
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The capabilities of a Mesos 1.11 master (`MASTER_CAPABILITIES()`).
pub const MASTER_CAPABILITIES: &[&str] = &["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"];

/// A map with the keys of `pairs`; a repeated key keeps its first place and last value,
/// as inserting into a `Map` does.
pub fn pairs_map(pairs: &[(String, String)]) -> Value {
    let mut o = Map::new();
    for (k, v) in pairs {
        o.insert(k.clone(), json!(v));
    }
    Value::Object(o)
}

/// Flags as the legacy JSON writes them: an object by name.
pub fn flags_object(flags: &super::flags::Flags) -> Value {
    Value::Object(
        flags
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
            .collect(),
    )
}

fn master_flags_of(m: &Master) -> Value {
    flags_object(&super::flags::master(&m.settings.flags))
}

/// `{"labels": [...]}` -> `[...]`: the legacy JSON writes Labels as the array of its
/// `{"key", "value"}` (`json(JSON::ArrayWriter*, const Labels&)`).
pub fn labels_array(labels: &Value) -> Value {
    labels
        .get("labels")
        .cloned()
        .unwrap_or_else(|| Value::Array(Vec::new()))
}

/// A NetworkInfo as `json(NetworkInfo)` writes it (labels as an array).
#[cfg(test)]
fn network_info_legacy(n: &Value) -> Value {
    serde_json::to_value(NetworkLegacy(n)).unwrap_or(Value::Null)
}

/// A NetworkInfo as `json(NetworkInfo)` writes it, straight from its v1 form.
struct NetworkLegacy<'a>(&'a Value);

impl Serialize for NetworkLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0;
        let mut o = s.serialize_map(None)?;
        for key in ["groups", "labels", "ip_addresses", "name", "port_mappings"] {
            let Some(v) = n.get(key) else { continue };
            if key == "labels" {
                let empty = Value::Array(Vec::new());
                o.serialize_entry(key, v.get("labels").unwrap_or(&empty))?;
            } else {
                o.serialize_entry(key, v)?;
            }
        }
        o.end()
    }
}

/// A ContainerStatus as `json(ContainerStatus)` writes it: its id and networks.
struct ContainerStatusLegacy<'a>(&'a Value);

impl Serialize for ContainerStatusLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut o = s.serialize_map(None)?;
        if let Some(id) = c.get("container_id") {
            o.serialize_entry("container_id", id)?;
        }
        if let Some(n) = c.get("network_infos").and_then(Value::as_array) {
            if !n.is_empty() {
                o.serialize_entry("network_infos", &Seq(|| n.iter().map(NetworkLegacy)))?;
            }
        }
        o.end()
    }
}

/// A TaskStatus as `json(TaskStatus)` writes it: state, timestamp, labels, the container's
/// id and networks, health.
struct StatusLegacy(Value);

impl Serialize for StatusLegacy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let st = &self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("state", &st["state"])?;
        o.serialize_entry("timestamp", &st["timestamp"])?;
        if let Some(l) = st.get("labels") {
            o.serialize_entry("labels", &labels_array(l))?;
        }
        if let Some(c) = st.get("container_status") {
            o.serialize_entry("container_status", &ContainerStatusLegacy(c))?;
        }
        if let Some(h) = st.get("healthy") {
            o.serialize_entry("healthy", h)?;
        }
        o.end()
    }
}

/// A task as `json(Task)` writes it.
pub struct TaskLegacy<'a>(pub &'a Task);

impl Serialize for TaskLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &t.task_id)?;
        o.serialize_entry("name", &t.name)?;
        o.serialize_entry("framework_id", &t.framework_id)?;
        // A command task names no executor: Mesos writes the unset id as "".
        let executor = if t.executor.is_some() {
            t.executor_id.as_str()
        } else {
            ""
        };
        o.serialize_entry("executor_id", executor)?;
        o.serialize_entry("slave_id", &t.agent_id)?;
        o.serialize_entry("state", &t.state)?;
        o.serialize_entry("resources", &t.resources.legacy())?;
        o.serialize_entry("role", &t.role)?;
        o.serialize_entry(
            "statuses",
            &Seq(|| t.statuses.iter().map(|s| StatusLegacy(s.value()))),
        )?;
        if let Some(user) = task_user(t) {
            o.serialize_entry("user", &user)?;
        }
        if let Some(l) = t.info.get("labels") {
            let empty = Value::Array(Vec::new());
            o.serialize_entry("labels", l.get("labels").unwrap_or(&empty))?;
        }
        for key in ["discovery", "container", "health_check"] {
            if let Some(v) = t.info.get(key) {
                o.serialize_entry(key, &v)?;
            }
        }
        o.end()
    }
}

/// When a task started, for `/master/tasks`'s order: its first status's time.
pub fn task_start(t: &Task) -> f64 {
    t.statuses.first().map_or(0.0, |s| s.timestamp())
}

pub fn task_legacy(t: &Task) -> Value {
    serde_json::to_value(TaskLegacy(t)).unwrap_or(Value::Null)
}

/// An offer as `json(Offer)` writes it.
struct OfferLegacy<'a>(&'a Offer);

impl Serialize for OfferLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let offer = self.0;
        let mut o = s.serialize_map(Some(5))?;
        o.serialize_entry("id", &offer.id)?;
        o.serialize_entry("framework_id", &offer.framework_id)?;
        o.serialize_entry("allocation_info", &json!({ "role": offer.role }))?;
        o.serialize_entry("slave_id", &offer.agent_id)?;
        o.serialize_entry("resources", &offer.resources.legacy())?;
        o.end()
    }
}

/// A CommandInfo as `json(CommandInfo)` writes it: `argv` and `uris` always.
fn command_legacy(c: &Value) -> Value {
    let mut o = Map::new();
    for key in ["shell", "value"] {
        if let Some(v) = c.get(key) {
            o.insert(key.into(), v.clone());
        }
    }
    o.insert(
        "argv".into(),
        c.get("arguments").cloned().unwrap_or_else(|| json!([])),
    );
    if let Some(env) = c.get("environment") {
        o.insert("environment".into(), env.clone());
    }
    let uris: Vec<Value> = c
        .get("uris")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|u| {
            json!({
                "value": u.get("value").cloned().unwrap_or(json!("")),
                "executable": u.get("executable").cloned().unwrap_or(json!(false))
            })
        })
        .collect();
    o.insert("uris".into(), Value::Array(uris));
    Value::Object(o)
}

/// An ExecutorInfo as `json(ExecutorInfo)` writes it (the v1 form, ids as strings).
pub fn executor_legacy_fields(t: &Task, resources: &Resources) -> Map<String, Value> {
    let info = executor_info_v1(t);
    let mut o = Map::new();
    o.insert("executor_id".into(), json!(t.executor_id));
    o.insert(
        "name".into(),
        info.get("name").cloned().unwrap_or(json!("")),
    );
    o.insert("framework_id".into(), json!(t.framework_id));
    o.insert(
        "command".into(),
        command_legacy(info.get("command").unwrap_or(&Value::Null)),
    );
    o.insert("resources".into(), resources.to_legacy());
    if !resources.is_empty() {
        o.insert("role".into(), json!(t.role));
    }
    if let Some(l) = info.get("labels") {
        o.insert("labels".into(), labels_array(l));
    }
    if let Some(kind) = info.get("type") {
        o.insert("type".into(), kind.clone());
    }
    o
}

/// Capabilities as the legacy JSON writes them: their names.
fn capability_names(info: &Value) -> Vec<&str> {
    info.get("capabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("type").and_then(Value::as_str))
        .collect()
}

fn sum(by_role: Option<&ByRole>) -> Resources {
    by_role
        .into_iter()
        .flat_map(|b| b.values())
        .fold(Resources::default(), |acc, r| acc.plus(r))
}

/// `json(Summary<Framework>)`: what `/master/state-summary` says of a framework, and what
/// the full view starts with.
fn framework_summary<M: SerializeMap>(
    o: &mut M,
    f: &Framework,
    h: &Holdings,
) -> Result<(), M::Error> {
    let info = &f.info;
    let empty = Value::String(String::new());
    let get = |k: &str| info.get(k).unwrap_or(&empty);
    o.serialize_entry("id", &f.id)?;
    o.serialize_entry("name", get("name"))?;
    o.serialize_entry(
        "used_resources",
        &sum(h.allocated_to.get(f.id.as_str())).legacy(),
    )?;
    o.serialize_entry(
        "offered_resources",
        &sum(h.offered_to.get(f.id.as_str())).legacy(),
    )?;
    o.serialize_entry("capabilities", &capability_names(info))?;
    o.serialize_entry("hostname", get("hostname"))?;
    o.serialize_entry("webui_url", get("webui_url"))?;
    o.serialize_entry("active", &f.active)?;
    o.serialize_entry("connected", &f.connected())?;
    o.serialize_entry("recovered", &false)
}

/// `FullFrameworkWriter`: a framework in `/master/state` and `/master/frameworks`.
struct FrameworkLegacy<'a> {
    m: &'a Master,
    f: &'a Framework,
    h: &'a Holdings<'a>,
}

/// A framework's `completed_tasks`, as `json(Task)` writes them.
struct CompletedLegacy<'a>(&'a CompletedTasks);

impl Serialize for CompletedLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        self.0.write_legacy(&mut seq)?;
        seq.end()
    }
}

impl Serialize for FrameworkLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, f, h) = (self.m, self.f, self.h);
        let info = &f.info;
        let mut o = s.serialize_map(None)?;
        framework_summary(&mut o, f, h)?;
        o.serialize_entry("user", info.get("user").unwrap_or(&json!("")))?;
        o.serialize_entry("failover_timeout", &f.failover_timeout())?;
        o.serialize_entry(
            "checkpoint",
            info.get("checkpoint").unwrap_or(&Value::Bool(false)),
        )?;
        o.serialize_entry("registered_time", &f.registered_time)?;
        o.serialize_entry("unregistered_time", &f.unregistered_time.unwrap_or(0.0))?;
        if let Some(p) = info.get("principal") {
            o.serialize_entry("principal", p)?;
        }
        let used = sum(h.allocated_to.get(f.id.as_str()));
        let offered = sum(h.offered_to.get(f.id.as_str()));
        o.serialize_entry("resources", &used.plus(&offered).legacy())?;
        if f.reregistered_time != f.registered_time {
            o.serialize_entry("reregistered_time", &f.reregistered_time)?;
        }
        // A multi-role framework has `roles`, the others `role` (as its protobuf has).
        let multi_role = capability_names(info).contains(&"MULTI_ROLE");
        if multi_role {
            o.serialize_entry("roles", &f.roles())?;
        } else {
            o.serialize_entry("role", &f.roles().into_iter().next().unwrap_or_default())?;
        }
        o.serialize_entry("tasks", &Seq(|| f.tasks.iter().map(TaskLegacy)))?;
        o.serialize_entry(
            "unreachable_tasks",
            &Seq(|| f.unreachable_tasks.iter().map(TaskLegacy)),
        )?;
        o.serialize_entry("completed_tasks", &CompletedLegacy(&f.completed_tasks))?;
        o.serialize_entry(
            "offers",
            &Seq(|| {
                m.offers
                    .iter()
                    .filter(|o| o.framework_id == f.id)
                    .map(OfferLegacy)
            }),
        )?;
        // The executors the master knows: those frameworks gave (a task group's), while
        // they run.
        let executors: Vec<Value> = super::views::one_per_executor(
            f.tasks
                .iter()
                .filter(|t| t.executor.is_some() && !t.is_terminal()),
        )
        .into_iter()
        .map(|t| {
            let mut e = executor_legacy_fields(t, &t.executor_resources);
            e.insert("slave_id".into(), json!(t.agent_id));
            Value::Object(e)
        })
        .collect();
        o.serialize_entry("executors", &executors)?;
        if let Some(l) = info.get("labels") {
            o.serialize_entry("labels", &labels_array(l))?;
        }
        o.serialize_entry("offer_constraints", &f.offer_constraints_json)?;
        o.end()
    }
}

/// `SlaveWriter`: an agent in `/master/state`, `/master/slaves`, `/master/state-summary`.
struct AgentLegacy<'a> {
    m: &'a Master,
    a: &'a Agent,
    h: &'a Holdings<'a>,
}

impl AgentLegacy<'_> {
    fn fields<M: SerializeMap>(&self, o: &mut M) -> Result<(), M::Error> {
        let a = self.a;
        o.serialize_entry("id", &a.id)?;
        o.serialize_entry("hostname", &a.hostname)?;
        o.serialize_entry("port", &a.port)?;
        o.serialize_entry("attributes", &pairs_map(&a.attributes))?;
        if let Some(d) = &self.m.settings.flags.domain {
            o.serialize_entry("domain", &d.to_json())?;
        }
        o.serialize_entry("pid", &a.pid(self.m.settings.ip))?;
        o.serialize_entry("registered_time", &a.registered_time)?;
        if let Some(t) = a.reregistered_time {
            o.serialize_entry("reregistered_time", &t)?;
        }
        o.serialize_entry("resources", &a.total.legacy())?;
        o.serialize_entry("used_resources", &a.used.legacy())?;
        o.serialize_entry(
            "offered_resources",
            &sum(self.h.offered_on.get(a.id.as_str())).legacy(),
        )?;
        o.serialize_entry("reserved_resources", &a.total.reserved_legacy())?;
        o.serialize_entry("unreserved_resources", &a.total.unreserved().legacy())?;
        o.serialize_entry("active", &a.active)?;
        let (deactivated, drain_info, _) = super::state::drain::agent_fields(self.m, &a.id);
        o.serialize_entry("deactivated", &deactivated)?;
        o.serialize_entry("version", MESOS_VERSION)?;
        o.serialize_entry("capabilities", AGENT_CAPABILITIES)?;
        if let (Some(info), Some(d)) = (drain_info, self.m.drains.of(&a.id)) {
            o.serialize_entry("drain_info", &info)?;
            o.serialize_entry("estimated_drain_start_time_seconds", &d.started)?;
        }
        Ok(())
    }

    /// `SlavesWriter::writeSlave`'s additions: every resource in full (ENDPOINT format).
    fn full<M: SerializeMap>(&self, o: &mut M) -> Result<(), M::Error> {
        let a = self.a;
        let none = ByRole::new();
        o.serialize_entry("reserved_resources_full", &a.total.reserved_full())?;
        o.serialize_entry("unreserved_resources_full", &a.total.unreserved().v1())?;
        let used = self.h.allocated_on.get(a.id.as_str()).unwrap_or(&none);
        o.serialize_entry("used_resources_full", &FullByRole(used))?;
        let offered = self.h.offered_on.get(a.id.as_str()).unwrap_or(&none);
        o.serialize_entry("offered_resources_full", &FullByRole(offered))
    }
}

impl Serialize for AgentLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        self.fields(&mut o)?;
        o.end()
    }
}

/// Resources of several roles as one list of Resource messages, each with its allocation.
struct FullByRole<'a>(&'a ByRole<'a>);

impl Serialize for FullByRole<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut all = Vec::new();
        for (role, r) in self.0 {
            if let Value::Array(items) =
                serde_json::to_value(r.v1_allocated(role)).unwrap_or(Value::Null)
            {
                all.extend(items);
            }
        }
        all.serialize(s)
    }
}

/// An agent of `/master/slaves`: the state's fields and the full resources.
struct AgentSlaves<'a>(AgentLegacy<'a>);

impl Serialize for AgentSlaves<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        self.0.fields(&mut o)?;
        self.0.full(&mut o)?;
        o.end()
    }
}

/// The build fields of `/master/state` and the agent's `/state`.
fn build_fields<M: SerializeMap>(o: &mut M) -> Result<(), M::Error> {
    if let Value::Object(v) = version_info() {
        for (k, val) in &v {
            if k != "version" {
                o.serialize_entry(k, val)?;
            }
        }
    }
    Ok(())
}

/// MasterInfo as `json(MasterInfo)` writes it (`leader_info`).
fn leader_info(m: &Master) -> Value {
    let mut info = json!({
        "id": m.master_id(),
        "pid": m.pid(),
        "port": m.settings.port,
        "hostname": m.settings.hostname
    });
    if let Some(d) = &m.settings.flags.domain {
        info["domain"] = d.to_json();
    }
    info
}

/// `/master/state`, written straight from the state (tens of MB on a big cluster).
pub struct MasterState<'a>(pub &'a Master);

impl Serialize for MasterState<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let h = Holdings::of(m);
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("version", MESOS_VERSION)?;
        build_fields(&mut o)?;
        o.serialize_entry("start_time", &m.settings.start_time)?;
        o.serialize_entry("elected_time", &m.settings.start_time)?;
        o.serialize_entry("id", m.master_id())?;
        o.serialize_entry("pid", &m.pid())?;
        o.serialize_entry("hostname", &m.settings.hostname)?;
        o.serialize_entry("capabilities", MASTER_CAPABILITIES)?;
        o.serialize_entry(
            "activated_slaves",
            &m.agents.iter().filter(|a| a.active).count(),
        )?;
        o.serialize_entry(
            "deactivated_slaves",
            &m.agents.iter().filter(|a| !a.active).count(),
        )?;
        o.serialize_entry("unreachable_slaves", &m.unreachable_agents.len())?;
        if let Some(d) = &m.settings.flags.domain {
            o.serialize_entry("domain", &d.to_json())?;
        }
        o.serialize_entry("leader", &m.pid())?;
        o.serialize_entry("leader_info", &leader_info(m))?;
        if let Some(name) = &m.settings.flags.cluster {
            o.serialize_entry("cluster", name)?;
        }
        o.serialize_entry("flags", &master_flags_of(m))?;
        o.serialize_entry(
            "slaves",
            &Seq(|| m.agents.iter().map(|a| AgentLegacy { m, a, h: &h })),
        )?;
        o.serialize_entry("recovered_slaves", &recovered_slaves(m, None))?;
        o.serialize_entry(
            "frameworks",
            &Seq(|| m.frameworks.iter().map(|f| FrameworkLegacy { m, f, h: &h })),
        )?;
        o.serialize_entry(
            "completed_frameworks",
            &Seq(|| {
                m.completed_frameworks.iter().map(|c| FrameworkLegacy {
                    m,
                    f: &c.framework,
                    h: &h,
                })
            }),
        )?;
        o.serialize_entry("orphan_tasks", &[(); 0])?;
        o.serialize_entry("unregistered_frameworks", &[(); 0])?;
        o.end()
    }
}

pub async fn master_state_handler(State(shared): State<Arc<Shared>>) -> Response {
    reply::json_of(&MasterState(&shared.lock()))
}

/// Task counts by state, as `/master/state-summary` writes them.
#[derive(Default)]
struct StateCounts([usize; 10]);

const SUMMARY_STATES: [&str; 10] = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_FINISHED",
    "TASK_KILLED",
    "TASK_FAILED",
    "TASK_LOST",
    "TASK_ERROR",
    "TASK_UNREACHABLE",
];

impl StateCounts {
    fn count(&mut self, state: &str) {
        if let Some(i) = SUMMARY_STATES.iter().position(|s| *s == state) {
            self.0[i] += 1;
        }
    }

    fn write<M: SerializeMap>(&self, o: &mut M) -> Result<(), M::Error> {
        for (state, n) in SUMMARY_STATES.iter().zip(self.0.iter()) {
            o.serialize_entry(state, n)?;
        }
        Ok(())
    }
}

/// `/master/state-summary`: agents and registered frameworks with task counts by state
/// (of the registered frameworks' tasks, completed and unreachable ones too).
struct StateSummary<'a>(&'a Master);

impl Serialize for StateSummary<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct AgentSummary<'a> {
            agent: AgentLegacy<'a>,
            counts: StateCounts,
            frameworks: BTreeSet<&'a str>,
        }
        impl Serialize for AgentSummary<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(None)?;
                self.agent.fields(&mut o)?;
                self.counts.write(&mut o)?;
                o.serialize_entry("framework_ids", &self.frameworks)?;
                o.end()
            }
        }
        struct FrameworkSummary<'a> {
            f: &'a Framework,
            h: &'a Holdings<'a>,
            counts: StateCounts,
            agents: BTreeSet<&'a str>,
        }
        impl Serialize for FrameworkSummary<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(None)?;
                framework_summary(&mut o, self.f, self.h)?;
                self.counts.write(&mut o)?;
                o.serialize_entry("slave_ids", &self.agents)?;
                o.end()
            }
        }
        let m = self.0;
        let h = Holdings::of(m);
        let mut by_agent: HashMap<&str, (StateCounts, BTreeSet<&str>)> = HashMap::new();
        let mut frameworks = Vec::new();
        for f in &m.frameworks {
            let mut counts = StateCounts::default();
            let mut agents = BTreeSet::new();
            let held = f.tasks.iter().chain(f.unreachable_tasks.iter());
            let held = held.map(|t| (t.agent_id.as_str(), t.state.as_str()));
            let done = f.completed_tasks.summaries().map(|t| (t.agent_id, t.state));
            for (agent_id, state) in held.chain(done) {
                counts.count(state);
                agents.insert(agent_id);
                let entry = by_agent.entry(agent_id).or_default();
                entry.0.count(state);
                entry.1.insert(&f.id);
            }
            frameworks.push(FrameworkSummary {
                f,
                h: &h,
                counts,
                agents,
            });
        }
        let agents: Vec<AgentSummary> = m
            .agents
            .iter()
            .map(|a| {
                let (counts, frameworks) = by_agent.remove(a.id.as_str()).unwrap_or_default();
                AgentSummary {
                    agent: AgentLegacy { m, a, h: &h },
                    counts,
                    frameworks,
                }
            })
            .collect();
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("hostname", &m.settings.hostname)?;
        if let Some(name) = &m.settings.flags.cluster {
            o.serialize_entry("cluster", name)?;
        }
        o.serialize_entry("slaves", &agents)?;
        o.serialize_entry("frameworks", &frameworks)?;
        o.end()
    }
}

pub async fn state_summary(State(shared): State<Arc<Shared>>) -> Response {
    reply::json_of(&StateSummary(&shared.lock()))
}

type Q = Query<HashMap<String, String>>;

pub async fn frameworks(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let h = Holdings::of(&m);
    let wanted = q.get("framework_id");
    let keep = |id: &str| wanted.is_none_or(|w| w == id);
    let view = |f: FrameworkLegacy| serde_json::to_value(f).unwrap_or(Value::Null);
    let live = m.frameworks.iter().filter(|f| keep(&f.id));
    let done = m.completed_frameworks.iter().filter(|c| keep(c.id()));
    reply::json(&json!({
        "frameworks": live.map(|f| view(FrameworkLegacy { m: &m, f, h: &h })).collect::<Vec<_>>(),
        "completed_frameworks": done.map(|c| view(FrameworkLegacy { m: &m, f: &c.framework, h: &h })).collect::<Vec<_>>(),
        "unregistered_frameworks": []
    }))
}

pub async fn slaves(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let h = Holdings::of(&m);
    let wanted = q.get("slave_id");
    let slaves: Vec<Value> = m
        .agents
        .iter()
        .filter(|a| wanted.is_none_or(|w| *w == a.id))
        .map(|a| {
            serde_json::to_value(AgentSlaves(AgentLegacy { m: &m, a, h: &h }))
                .unwrap_or(Value::Null)
        })
        .collect();
    let recovered = recovered_slaves(&m, wanted.map(String::as_str));
    reply::json(&json!({"slaves": slaves, "recovered_slaves": recovered}))
}

/// The recovered agents as `json(SlaveInfo)` writes them: id, hostname, port, attributes by
/// name, domain.
fn recovered_slaves(m: &Master, wanted: Option<&str>) -> Vec<Value> {
    m.recovered_agents
        .iter()
        .filter(|r| wanted.is_none_or(|w| w == r.id()))
        .map(|r| {
            let attributes: Map<String, Value> = r
                .info
                .attributes
                .iter()
                .map(|a| {
                    let value = match (&a.text, &a.scalar) {
                        (Some(t), _) => json!(t.value),
                        (None, Some(s)) => json!(s.value),
                        _ => Value::Null,
                    };
                    (a.name.clone(), value)
                })
                .collect();
            let mut o = json!({"id": r.id(), "hostname": r.info.hostname,
                "port": r.info.port(), "attributes": attributes});
            if let Some(d) = &r.info.domain {
                o["domain"] = serde_json::to_value(d).unwrap_or(Value::Null);
            }
            o
        })
        .collect()
}

/// `/master/tasks`: the tasks of registered and completed frameworks (live, unreachable,
/// completed), newest first unless `order=asc`, `limit` (100) from `offset`.
pub async fn tasks(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let offset: usize = q.get("offset").and_then(|l| l.parse().ok()).unwrap_or(0);
    let framework = |id: &str| q.get("framework_id").is_none_or(|w| w == id);
    let wanted = |id: &str| q.get("task_id").is_none_or(|w| w == id);
    let completed = m.completed_frameworks.iter().map(|c| &c.framework);
    let frameworks: Vec<&Framework> = m
        .frameworks
        .iter()
        .chain(completed)
        .filter(|f| framework(&f.id))
        .collect();
    /// A task to sort: one held, or the `i`th completed task of the `f`th framework.
    enum Listed<'a> {
        Held(&'a Task),
        Written(usize, usize),
    }
    let mut list: Vec<(f64, Listed)> = frameworks
        .iter()
        .flat_map(|f| f.tasks.iter().chain(f.unreachable_tasks.iter()))
        .filter(|t| wanted(&t.task_id))
        .map(|t| (task_start(t), Listed::Held(t)))
        .collect();
    for (n, f) in frameworks.iter().enumerate() {
        let done = f.completed_tasks.summaries().enumerate();
        let mine = done.filter(|(_, t)| wanted(t.task_id));
        list.extend(mine.map(|(i, t)| (t.start, Listed::Written(n, i))));
    }
    list.sort_by(|a, b| a.0.total_cmp(&b.0));
    if q.get("order").map(String::as_str) != Some("asc") {
        list.reverse();
    }
    let page: Vec<Value> = list
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, listed)| match listed {
            Listed::Held(t) => task_legacy(t),
            Listed::Written(n, i) => frameworks
                .get(n)
                .map_or(Value::Null, |f| f.completed_tasks.legacy_value(i)),
        })
        .collect();
    reply::json(&json!({"tasks": page}))
}

pub async fn master_flags(State(shared): State<Arc<Shared>>) -> Response {
    reply::json(&json!({"flags": master_flags_of(&shared.lock())}))
}

/// ResourceQuantities as the legacy JSON writes them: scalar resources by name.
pub fn quantities(r: &Resources) -> Value {
    let mut o = Map::new();
    for res in r.iter().filter(|x| x.scalar.is_some()) {
        o.insert(res.name.clone(), json!(r.scalar(&res.name)));
    }
    Value::Object(o)
}

/// `/master/roles` (`Master::ReadOnlyHandler::roles`): every known role with its weight,
/// quota (guarantee, limit and what it consumes: its allocations and its reservations
/// not allocated), what it holds and its frameworks.
pub async fn roles(State(shared): State<Arc<Shared>>) -> Response {
    let m = shared.lock();
    let roles: Vec<Value> = known_roles(&m)
        .into_iter()
        .map(|r| {
            let quota = m.tenancy.quota(&r.name).cloned().unwrap_or_default();
            let consumed = m.consumed_quota(&r.name);
            json!({
                "name": r.name,
                "weight": r.weight,
                "quota": {"role": r.name, "guarantee": quota.guarantees, "limit": quota.limits,
                          "consumed": quantities(&consumed)},
                "resources": quantities(&r.allocated.plus(&r.offered)),
                "allocated": quantities(&r.allocated),
                "offered": quantities(&r.offered),
                "reserved": quantities(&r.reserved),
                "frameworks": r.frameworks
            })
        })
        .collect();
    reply::json(&json!({ "roles": roles }))
}

pub async fn health() -> Response {
    StatusCode::OK.into_response()
}

pub async fn version() -> Response {
    reply::json(&version_info())
}

pub async fn master_metrics_handler(State(shared): State<Arc<Shared>>) -> Response {
    // A standby master is not elected; its other counters stay as they are (zero).
    let elected = shared.role.get() == Role::Leading;
    reply::json(&metrics::flat(&metrics::master(&shared.lock(), elected)))
}

/// `/master/redirect`: 307 to the leading master (itself when it leads), 503 while no
/// leader is elected.
pub async fn redirect(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    // Mesos's guard against redirect loops (`Master::Http::redirect`): a path under
    // `/redirect/` is not found.
    let requested = super::router::requested_path(&request);
    if requested.starts_with("/redirect/") || requested.starts_with("/master/redirect/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (host, port) = match shared.role.get() {
        Role::Leading => {
            let m = shared.lock();
            (m.settings.hostname.clone(), m.settings.port)
        }
        Role::Standby(Some(leader)) => leader,
        Role::Standby(None) => return reply::text(503, "No leader elected"),
    };
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, format!("//{host}:{port}"))],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_an_array_in_the_legacy_json() {
        let labels = json!({"labels": [{"key": "a", "value": "1"}]});
        assert_eq!(labels_array(&labels), json!([{"key": "a", "value": "1"}]));
        assert_eq!(labels_array(&json!({})), json!([]));
        let n = network_info_legacy(&json!({"name": "dcos", "labels": labels,
            "ip_addresses": [{"ip_address": "10.0.0.1"}]}));
        assert!(n["labels"].is_array());
        let c = command_legacy(&json!({"shell": true, "value": "sleep 1"}));
        assert_eq!(
            c,
            json!({"shell": true, "value": "sleep 1", "argv": [], "uris": []})
        );
    }
}
