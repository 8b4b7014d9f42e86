//! The v1 operator API (`POST /api/v1`) of the master and of the agents, and the v1 JSON
//! views of agents, frameworks, offers, tasks and executors it answers with (the scheduler
//! events and operator SUBSCRIBE reuse them).

use super::files;
use super::reply;
use super::resources::{Resources, Seq};
use super::runtime::Shared;
use super::state::{
    now_secs, Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM, MESOS_VERSION,
};
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

fn id(v: &str) -> Value {
    json!({ "value": v })
}

/// Leaves an empty list out, as Mesos does (for the small views still built as `Value`s).
fn put_values(o: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        o.insert(key.to_string(), Value::Array(items));
    }
}

/// Mesos's id message, `{"value": ...}`.
struct Id<'a>(&'a str);

impl Serialize for Id<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(Some(1))?;
        o.serialize_entry("value", self.0)?;
        o.end()
    }
}

/// `TimeInfo`: seconds as `{"nanoseconds": ...}`.
struct TimeInfo(f64);

impl Serialize for TimeInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(Some(1))?;
        o.serialize_entry("nanoseconds", &((self.0 * 1e9) as i64))?;
        o.end()
    }
}

/// Mesos leaves empty repeated fields out of its JSON; so do we. `items` is called twice
/// (to look for a first item, then to write them all), so nothing is collected.
fn put_list<M, F, I>(o: &mut M, key: &str, items: F) -> Result<(), M::Error>
where
    M: SerializeMap,
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    if items().into_iter().next().is_some() {
        o.serialize_entry(key, &Seq(items))?;
    }
    Ok(())
}

/// A view's `Value`, for the events that carry one. Serializing a view into a `Value`
/// cannot fail: every key is a string.
fn to_value(view: impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

struct Attributes<'a>(&'a [(String, String)]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Attribute<'a>(&'a str, &'a str);
        impl Serialize for Attribute<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(Some(3))?;
                o.serialize_entry("name", self.0)?;
                o.serialize_entry("type", "TEXT")?;
                o.serialize_entry("text", &Id(self.1))?;
                o.end()
            }
        }
        s.collect_seq(self.0.iter().map(|(k, v)| Attribute(k, v)))
    }
}

struct AgentInfo<'a>(&'a Agent);

impl Serialize for AgentInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut o = s.serialize_map(Some(5))?;
        o.serialize_entry("id", &Id(&a.id))?;
        o.serialize_entry("hostname", &a.hostname)?;
        o.serialize_entry("port", &a.port)?;
        o.serialize_entry("resources", &a.total.v1())?;
        o.serialize_entry("attributes", &Attributes(&a.attributes))?;
        o.end()
    }
}

pub fn agent_info_v1(a: &Agent) -> Value {
    to_value(AgentInfo(a))
}

/// One agent of GET_AGENTS, with what is offered on it (found once for all agents).
struct AgentV1<'a> {
    m: &'a Master,
    a: &'a Agent,
    offered: &'a Resources,
}

impl Serialize for AgentV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Capability(&'static str);
        impl Serialize for Capability {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(Some(1))?;
                o.serialize_entry("type", self.0)?;
                o.end()
            }
        }
        let a = self.a;
        let mut o = s.serialize_map(Some(10))?;
        o.serialize_entry("agent_info", &AgentInfo(a))?;
        o.serialize_entry("active", &a.active)?;
        o.serialize_entry("deactivated", &false)?;
        o.serialize_entry("version", MESOS_VERSION)?;
        o.serialize_entry("pid", &a.pid(self.m.settings.ip))?;
        o.serialize_entry("registered_time", &TimeInfo(a.registered_time))?;
        o.serialize_entry("total_resources", &a.total.v1())?;
        o.serialize_entry("allocated_resources", &a.used.v1())?;
        o.serialize_entry("offered_resources", &self.offered.v1())?;
        o.serialize_entry(
            "capabilities",
            &[
                Capability("MULTI_ROLE"),
                Capability("HIERARCHICAL_ROLE"),
                Capability("RESERVATION_REFINEMENT"),
            ],
        )?;
        o.end()
    }
}

pub fn agent_v1(m: &Master, a: &Agent) -> Value {
    to_value(AgentV1 {
        m,
        a,
        offered: &m.offered_on(&a.id),
    })
}

struct OfferV1<'a> {
    m: &'a Master,
    o: &'a Offer,
    /// The agent it is on (None if it is gone).
    agent: Option<&'a Agent>,
}

impl Serialize for OfferV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Url<'a> {
            scheme: &'a str,
            hostname: &'a str,
            ip: String,
            port: u16,
        }
        impl Serialize for Url<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                struct Address<'a>(&'a Url<'a>);
                impl Serialize for Address<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut o = s.serialize_map(Some(3))?;
                        o.serialize_entry("hostname", self.0.hostname)?;
                        o.serialize_entry("ip", &self.0.ip)?;
                        o.serialize_entry("port", &self.0.port)?;
                        o.end()
                    }
                }
                let mut o = s.serialize_map(Some(3))?;
                o.serialize_entry("scheme", self.scheme)?;
                o.serialize_entry("address", &Address(self))?;
                o.serialize_entry("path", "/slave(1)")?;
                o.end()
            }
        }
        let (m, offer) = (self.m, self.o);
        let (hostname, port, attributes): (&str, u16, &[(String, String)]) = match self.agent {
            Some(a) => (&a.hostname, a.port, &a.attributes),
            None => (&m.settings.hostname, 0, &[]),
        };
        let mut o = s.serialize_map(Some(8))?;
        o.serialize_entry("id", &Id(&offer.id))?;
        o.serialize_entry("framework_id", &Id(&offer.framework_id))?;
        o.serialize_entry("agent_id", &Id(&offer.agent_id))?;
        o.serialize_entry("hostname", hostname)?;
        let url = Url {
            scheme: m.settings.scheme,
            hostname,
            ip: m.settings.ip.to_string(),
            port,
        };
        o.serialize_entry("url", &url)?;
        o.serialize_entry("resources", &offer.resources.v1())?;
        o.serialize_entry("attributes", &Attributes(attributes))?;
        o.end()
    }
}

pub fn offer_v1(m: &Master, o: &Offer) -> Value {
    to_value(OfferV1 {
        m,
        o,
        agent: m.agent(&o.agent_id),
    })
}

/// Agents by id, for views that look one up per offer or per task.
fn agents_by_id(m: &Master) -> HashMap<&str, &Agent> {
    m.agents.iter().map(|a| (a.id.as_str(), a)).collect()
}

struct FrameworkV1<'a> {
    m: &'a Master,
    f: &'a Framework,
    agents: &'a HashMap<&'a str, &'a Agent>,
}

impl Serialize for FrameworkV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, f) = (self.m, self.f);
        let used = f.used_resources();
        let offered = m.offered_to(&f.id);
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("framework_info", &f.info)?;
        o.serialize_entry("active", &f.active)?;
        o.serialize_entry("connected", &f.connected())?;
        o.serialize_entry("recovered", &false)?;
        o.serialize_entry("registered_time", &TimeInfo(f.registered_time))?;
        if let Some(t) = f.reregistered_time {
            o.serialize_entry("reregistered_time", &TimeInfo(t))?;
        }
        if let Some(t) = f.unregistered_time {
            o.serialize_entry("unregistered_time", &TimeInfo(t))?;
        }
        put_list(&mut o, "offers", || {
            m.offers
                .iter()
                .filter(|o| o.framework_id == f.id)
                .map(|o| OfferV1 {
                    m,
                    o,
                    agent: self.agents.get(o.agent_id.as_str()).copied(),
                })
        })?;
        if !used.v1_is_empty() {
            o.serialize_entry("allocated_resources", &used.v1())?;
        }
        if !offered.v1_is_empty() {
            o.serialize_entry("offered_resources", &offered.v1())?;
        }
        o.end()
    }
}

pub fn framework_v1(m: &Master, f: &Framework) -> Value {
    to_value(FrameworkV1 {
        m,
        f,
        agents: &agents_by_id(m),
    })
}

/// A task in the v1 form, borrowing its statuses and TaskInfo fields.
pub struct TaskV1<'a>(pub &'a Task);

impl Serialize for TaskV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("name", &t.name)?;
        o.serialize_entry("task_id", &Id(&t.task_id))?;
        o.serialize_entry("framework_id", &Id(&t.framework_id))?;
        o.serialize_entry("executor_id", &Id(&t.executor_id))?;
        o.serialize_entry("agent_id", &Id(&t.agent_id))?;
        o.serialize_entry("state", &t.state)?;
        o.serialize_entry("resources", &t.resources.v1())?;
        if !t.statuses.is_empty() {
            o.serialize_entry("statuses", &t.statuses)?;
        }
        if let Some(s) = &t.acked_status {
            o.serialize_entry("status_update_state", &s["state"])?;
            o.serialize_entry("status_update_uuid", &s["uuid"])?;
        }
        for key in [
            "container",
            "command",
            "labels",
            "discovery",
            "health_check",
            "kill_policy",
        ] {
            if let Some(v) = t.info.get(key) {
                o.serialize_entry(key, v)?;
            }
        }
        o.end()
    }
}

pub fn task_v1(t: &Task) -> Value {
    to_value(TaskV1(t))
}

/// The command executor Mesos would run for a task (its id is the task id).
struct ExecutorInfo<'a>(&'a Task);

impl Serialize for ExecutorInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Command;
        impl Serialize for Command {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut o = s.serialize_map(Some(2))?;
                o.serialize_entry("shell", &false)?;
                o.serialize_entry("value", "mesos-executor")?;
                o.end()
            }
        }
        let t = self.0;
        let resources = t.resources.plus(&Resources {
            cpus: EXECUTOR_CPUS,
            mem: EXECUTOR_MEM,
            ..Resources::default()
        });
        let mut o = s.serialize_map(Some(7))?;
        o.serialize_entry("executor_id", &Id(&t.executor_id))?;
        o.serialize_entry("framework_id", &Id(&t.framework_id))?;
        o.serialize_entry("name", &t.executor_name)?;
        o.serialize_entry("source", &t.task_id)?;
        o.serialize_entry("type", "DEFAULT")?;
        o.serialize_entry("command", &Command)?;
        o.serialize_entry("resources", &resources.v1())?;
        o.end()
    }
}

pub fn executor_info_v1(t: &Task) -> Value {
    to_value(ExecutorInfo(t))
}

/// An executor of GET_EXECUTORS (master: with its agent) or of an agent's GET_EXECUTORS.
struct Executor<'a> {
    task: &'a Task,
    with_agent: bool,
}

impl Serialize for Executor<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("executor_info", &ExecutorInfo(self.task))?;
        if self.with_agent {
            o.serialize_entry("agent_id", &Id(&self.task.agent_id))?;
        }
        o.end()
    }
}

/// GET_TASKS: active tasks, then completed ones (of removed frameworks too), then the
/// unreachable ones.
pub struct GetTasks<'a>(pub &'a Master);

impl Serialize for GetTasks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "tasks", || {
            m.frameworks.iter().flat_map(|f| f.tasks.iter()).map(TaskV1)
        })?;
        put_list(&mut o, "completed_tasks", || {
            m.frameworks
                .iter()
                .chain(m.completed_frameworks.iter())
                .flat_map(|f| f.completed_tasks.iter())
                .map(TaskV1)
        })?;
        put_list(&mut o, "unreachable_tasks", || {
            m.frameworks
                .iter()
                .flat_map(|f| f.unreachable_tasks.iter())
                .map(TaskV1)
        })?;
        o.end()
    }
}

/// Tasks of a task group share one executor: keep the first task of each executor run.
/// One pass with a set: a big cluster has one executor per task, so a list scan per task
/// was quadratic.
pub fn one_per_executor<'a>(tasks: impl Iterator<Item = &'a Task>) -> Vec<&'a Task> {
    let mut seen: HashSet<(&str, &str, &str)> = HashSet::new();
    tasks
        .filter(|t| {
            seen.insert((
                t.framework_id.as_str(),
                t.executor_id.as_str(),
                t.container_id.as_str(),
            ))
        })
        .collect()
}

pub struct GetExecutors<'a>(pub &'a Master);

impl Serialize for GetExecutors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let executors = one_per_executor(
            m.frameworks
                .iter()
                .flat_map(|f| f.tasks.iter())
                .filter(|t| !t.is_terminal()),
        );
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "executors", || {
            executors.iter().map(|&task| Executor {
                task,
                with_agent: true,
            })
        })?;
        o.end()
    }
}

pub struct GetFrameworks<'a>(pub &'a Master);

impl Serialize for GetFrameworks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let agents = agents_by_id(m);
        let view = |f| FrameworkV1 {
            m,
            f,
            agents: &agents,
        };
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "frameworks", || m.frameworks.iter().map(view))?;
        put_list(&mut o, "completed_frameworks", || {
            m.completed_frameworks.iter().map(view)
        })?;
        o.end()
    }
}

pub struct GetAgents<'a>(pub &'a Master);

impl Serialize for GetAgents<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let offered = m.offered_by_agent();
        let none = Resources::default();
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "agents", || {
            m.agents.iter().map(|a| AgentV1 {
                m,
                a,
                offered: offered.get(a.id.as_str()).unwrap_or(&none),
            })
        })?;
        o.end()
    }
}

pub struct GetState<'a>(pub &'a Master);

impl Serialize for GetState<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let mut o = s.serialize_map(Some(4))?;
        o.serialize_entry("get_tasks", &GetTasks(m))?;
        o.serialize_entry("get_executors", &GetExecutors(m))?;
        o.serialize_entry("get_frameworks", &GetFrameworks(m))?;
        o.serialize_entry("get_agents", &GetAgents(m))?;
        o.end()
    }
}

/// GET_STATE as a `Value`, for the operator SUBSCRIBED event.
pub fn get_state(m: &Master) -> Value {
    to_value(GetState(m))
}

pub fn version_info() -> Value {
    json!({
        "version": MESOS_VERSION,
        "build_date": "2026-01-01 00:00:00",
        "build_time": 1767225600.0,
        "build_user": "mesos-kernel",
        "git_tag": concat!("mesos-kernel-", env!("CARGO_PKG_VERSION"))
    })
}

/// Metrics of the master, by Mesos's names.
pub fn master_metrics(m: &Master) -> Vec<(String, f64)> {
    let count = |state: &str| m.all_tasks().filter(|t| t.state == state).count() as f64;
    let c = &m.counters;
    let used = m
        .agents
        .iter()
        .fold(Resources::default(), |acc, a| acc.plus(&a.used));
    let total = m
        .agents
        .iter()
        .fold(Resources::default(), |acc, a| acc.plus(&a.total));
    vec![
        (
            "master/uptime_secs".into(),
            (now_secs() - m.settings.start_time).max(0.0),
        ),
        ("master/elected".into(), 1.0),
        (
            "master/slaves_active".into(),
            m.agents.iter().filter(|a| a.active).count() as f64,
        ),
        ("master/slaves_inactive".into(), 0.0),
        ("master/slaves_connected".into(), m.agents.len() as f64),
        ("master/slaves_disconnected".into(), 0.0),
        (
            "master/slaves_unreachable".into(),
            m.unreachable_agents.len() as f64,
        ),
        ("master/slave_removals".into(), c.slave_removals as f64),
        (
            "master/slave_removals/reason_unhealthy".into(),
            c.slave_removals_reason_unhealthy as f64,
        ),
        (
            "master/slave_unreachable_scheduled".into(),
            c.slave_unreachable_scheduled as f64,
        ),
        (
            "master/slave_unreachable_completed".into(),
            c.slave_unreachable_completed as f64,
        ),
        ("master/slave_unreachable_canceled".into(), 0.0),
        (
            "master/frameworks_active".into(),
            m.frameworks.iter().filter(|f| f.active).count() as f64,
        ),
        (
            "master/frameworks_inactive".into(),
            m.frameworks.iter().filter(|f| !f.active).count() as f64,
        ),
        (
            "master/frameworks_connected".into(),
            m.frameworks.iter().filter(|f| f.connected()).count() as f64,
        ),
        (
            "master/frameworks_disconnected".into(),
            m.frameworks.iter().filter(|f| !f.connected()).count() as f64,
        ),
        ("master/outstanding_offers".into(), m.offers.len() as f64),
        ("master/tasks_staging".into(), count("TASK_STAGING")),
        ("master/tasks_starting".into(), count("TASK_STARTING")),
        ("master/tasks_running".into(), count("TASK_RUNNING")),
        ("master/tasks_killing".into(), count("TASK_KILLING")),
        ("master/tasks_finished".into(), c.tasks_finished as f64),
        ("master/tasks_failed".into(), c.tasks_failed as f64),
        ("master/tasks_killed".into(), c.tasks_killed as f64),
        ("master/tasks_lost".into(), c.tasks_lost as f64),
        ("master/tasks_error".into(), c.tasks_error as f64),
        ("master/tasks_dropped".into(), c.tasks_dropped as f64),
        // A gauge in Mesos: unreachable tasks of registered frameworks still in that state.
        (
            "master/tasks_unreachable".into(),
            m.frameworks
                .iter()
                .flat_map(|f| f.unreachable_tasks.iter())
                .filter(|t| t.state == "TASK_UNREACHABLE")
                .count() as f64,
        ),
        ("master/tasks_gone".into(), c.tasks_gone as f64),
        (
            "master/tasks_gone_by_operator".into(),
            c.tasks_gone_by_operator as f64,
        ),
        (
            "master/messages_decline_offers".into(),
            c.offers_declined as f64,
        ),
        ("master/offers_sent".into(), c.offers_sent as f64),
        ("master/offers_declined".into(), c.offers_declined as f64),
        ("master/offers_rescinded".into(), c.offers_rescinded as f64),
        (
            "master/valid_status_update_acknowledgements".into(),
            c.valid_acknowledgements as f64,
        ),
        (
            "master/invalid_status_update_acknowledgements".into(),
            c.invalid_acknowledgements as f64,
        ),
        ("master/cpus_total".into(), total.cpus),
        ("master/cpus_used".into(), used.cpus),
        ("master/mem_total".into(), total.mem),
        ("master/mem_used".into(), used.mem),
        ("master/disk_total".into(), total.disk),
        ("master/disk_used".into(), used.disk),
    ]
}

pub fn agent_metrics(m: &Master, a: &Agent) -> Vec<(String, f64)> {
    let tasks: Vec<&Task> = m.all_tasks().filter(|t| t.agent_id == a.id).collect();
    let count = |state: &str| tasks.iter().filter(|t| t.state == state).count() as f64;
    vec![
        (
            "slave/uptime_secs".into(),
            (now_secs() - m.settings.start_time).max(0.0),
        ),
        ("slave/registered".into(), 1.0),
        ("slave/tasks_staging".into(), count("TASK_STAGING")),
        ("slave/tasks_starting".into(), count("TASK_STARTING")),
        ("slave/tasks_running".into(), count("TASK_RUNNING")),
        ("slave/tasks_finished".into(), count("TASK_FINISHED")),
        ("slave/tasks_failed".into(), count("TASK_FAILED")),
        ("slave/tasks_killed".into(), count("TASK_KILLED")),
        (
            "slave/executors_running".into(),
            tasks.iter().filter(|t| !t.is_terminal()).count() as f64,
        ),
        ("slave/cpus_total".into(), a.total.cpus),
        ("slave/cpus_used".into(), a.used.cpus),
        ("slave/mem_total".into(), a.total.mem),
        ("slave/mem_used".into(), a.used.mem),
        ("slave/disk_total".into(), a.total.disk),
        ("slave/disk_used".into(), a.used.disk),
    ]
}

pub fn flags_v1(flags: &[(String, String)]) -> Value {
    Value::Array(
        flags
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    )
}

fn answer(kind: &str, body: impl Serialize) -> Response {
    struct Answer<'a, T> {
        kind: &'a str,
        body: T,
    }
    impl<T: Serialize> Serialize for Answer<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut o = s.serialize_map(Some(2))?;
            o.serialize_entry("type", self.kind)?;
            o.serialize_entry(&self.kind.to_ascii_lowercase(), &self.body)?;
            o.end()
        }
    }
    reply::json_of(&Answer { kind, body })
}

fn metrics_v1(metrics: Vec<(String, f64)>) -> Value {
    json!({"metrics": metrics.into_iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>()})
}

/// Calls Mesos knows but this cluster does not implement: answered 501, naming the call.
fn not_implemented(kind: &str) -> Response {
    reply::text(
        501,
        format!("Call '{kind}' is not implemented by the mesos-kernel embedded cluster"),
    )
}

/// Parses and checks an operator call; its type when it can be answered.
#[allow(clippy::result_large_err)] // the error is a ready answer
fn parse_call(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    who: &str,
) -> Result<(String, Value), Response> {
    let call = reply::parse_post(method, headers, body)?;
    if !call.is_object() {
        return Err(reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Expecting a JSON object",
        ));
    }
    let accept = reply::accept(headers);
    if accept != reply::Accept::Json {
        return Err(reply::not_acceptable(accept));
    }
    let kind = call
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind.is_empty() {
        return Err(reply::text(
            400,
            format!("Failed to validate {who}::Call: Expecting 'type' to be present"),
        ));
    }
    if kind == "UNKNOWN" {
        return Err(reply::text(501, "501 Not Implemented."));
    }
    // Calls with a sub-message need it.
    let needs = [
        "GET_METRICS",
        "SET_LOGGING_LEVEL",
        "LIST_FILES",
        "READ_FILE",
        "TEARDOWN",
        "MARK_AGENT_GONE",
    ];
    if needs.contains(&kind.as_str()) {
        let field = kind.to_ascii_lowercase();
        if call.get(&field).is_none_or(Value::is_null) {
            return Err(reply::text(
                400,
                format!("Failed to validate {who}::Call: Expecting '{field}' to be present"),
            ));
        }
    }
    Ok((kind, call))
}

/// `POST /api/v1` on the master.
pub async fn master_api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, call) = match parse_call(&method, &headers, &body, "master") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = shared.lock();
    match kind.as_str() {
        "GET_HEALTH" => answer(&kind, json!({"healthy": true})),
        "GET_FLAGS" => answer(&kind, json!({"flags": flags_v1(&m.settings.flags)})),
        "GET_VERSION" => answer(&kind, json!({"version_info": version_info()})),
        "GET_METRICS" => answer(&kind, metrics_v1(master_metrics(&m))),
        "GET_LOGGING_LEVEL" => answer(&kind, json!({"level": 0})),
        // Written straight from the state: a big cluster's answer is tens of MB.
        "GET_STATE" => answer(&kind, GetState(&m)),
        "GET_AGENTS" => answer(&kind, GetAgents(&m)),
        "GET_FRAMEWORKS" => answer(&kind, GetFrameworks(&m)),
        "GET_EXECUTORS" => answer(&kind, GetExecutors(&m)),
        "GET_TASKS" => answer(&kind, GetTasks(&m)),
        "GET_ROLES" => {
            let mut roles: Vec<String> = m.frameworks.iter().map(Framework::role).collect();
            roles.sort();
            roles.dedup();
            let roles: Vec<Value> = roles
                .into_iter()
                .map(|r| {
                    let fws: Vec<Value> = m
                        .frameworks
                        .iter()
                        .filter(|f| f.role() == r)
                        .map(|f| id(&f.id))
                        .collect();
                    json!({"name": r, "weight": 1.0, "frameworks": fws})
                })
                .collect();
            answer(&kind, json!({"roles": roles}))
        }
        "GET_MASTER" => answer(
            &kind,
            json!({"master_info": m.master_info(), "start_time": m.settings.start_time, "elected_time": m.settings.start_time}),
        ),
        "SUBSCRIBE" => {
            drop(m);
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let heartbeat = shared.with(|m, _| {
                m.operator_subscribe(tx);
                m.settings.heartbeat_interval
            });
            reply::event_stream(
                rx,
                heartbeat,
                super::state::frame(&json!({"type": "HEARTBEAT"})),
                (),
                Vec::new(),
            )
        }
        "TEARDOWN" => {
            drop(m);
            let fid = call
                .pointer("/teardown/framework_id/value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if shared.with(|m, fx| m.remove_framework(&fid, fx)) {
                reply::text(200, "")
            } else {
                reply::text(400, "No framework found with specified ID")
            }
        }
        "MARK_AGENT_GONE" => {
            drop(m);
            mark_agent_gone(&shared, &call)
        }
        "LIST_FILES" => files::list_files_v1(&m, None, &call),
        "READ_FILE" => files::read_file_v1(&m, None, &call),
        other => not_implemented(other),
    }
}

/// MARK_AGENT_GONE: 200 with an empty body (also for an agent already gone), 404
/// `Agent '<id>' not found` for an agent the master does not know.
fn mark_agent_gone(shared: &Arc<Shared>, call: &Value) -> Response {
    let Some(agent_id) = call
        .pointer("/mark_agent_gone/agent_id/value")
        .and_then(Value::as_str)
    else {
        return reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: mark_agent_gone.agent_id",
        );
    };
    match shared.with(|m, fx| m.mark_gone(agent_id, fx)) {
        Ok(()) => reply::text(200, ""),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// The fault-injection hook `POST /__cluster/agents/<id>/crash` (the embedded cluster's
/// own, not Mesos's): the agent stops answering; the master notices by missed health checks.
pub fn crash_agent(shared: &Arc<Shared>, agent_id: &str) -> Response {
    let (result, timeout, max) = shared.with(|m, fx| {
        (
            m.crash_agent(agent_id, fx),
            m.settings.agent_ping_timeout,
            m.settings.max_agent_ping_timeouts,
        )
    });
    match result {
        Ok(()) => reply::json(&json!({
            "agent_id": id(agent_id),
            "crashed": true,
            "unreachable_after_secs": timeout.as_secs_f64() * f64::from(max)
        })),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// `POST /api/v1` on an agent.
pub async fn agent_api(
    shared: Arc<Shared>,
    agent_id: String,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, call) = match parse_call(&method, &headers, &body, "agent") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = shared.lock();
    let Some(agent) = m.agent(&agent_id) else {
        return reply::text(503, "Agent has not finished recovery");
    };
    match kind.as_str() {
        "GET_HEALTH" => answer(&kind, json!({"healthy": true})),
        "GET_FLAGS" => answer(&kind, json!({"flags": flags_v1(&m.settings.flags)})),
        "GET_VERSION" => answer(&kind, json!({"version_info": version_info()})),
        "GET_METRICS" => answer(&kind, metrics_v1(agent_metrics(&m, agent))),
        "GET_LOGGING_LEVEL" => answer(&kind, json!({"level": 0})),
        "GET_STATE" => answer(&kind, agent_state_v1(&m, agent)),
        "GET_CONTAINERS" => answer(&kind, agent_containers(&m, agent)),
        "GET_FRAMEWORKS" => answer(&kind, agent_frameworks(&m, agent)),
        "GET_EXECUTORS" => answer(&kind, agent_executors(&m, agent)),
        "GET_TASKS" => answer(&kind, agent_tasks(&m, agent)),
        "GET_AGENT" => answer(&kind, json!({"agent_info": agent_info_v1(agent)})),
        "LIST_FILES" => files::list_files_v1(&m, Some(&agent_id), &call),
        "READ_FILE" => files::read_file_v1(&m, Some(&agent_id), &call),
        other => not_implemented(other),
    }
}

fn tasks_on<'a>(m: &'a Master, a: &'a Agent) -> impl Iterator<Item = &'a Task> + 'a {
    m.all_tasks().filter(move |t| t.agent_id == a.id)
}

pub fn agent_tasks(m: &Master, a: &Agent) -> Value {
    let mut o = Map::new();
    put_values(
        &mut o,
        "launched_tasks",
        tasks_on(m, a)
            .filter(|t| !t.is_terminal())
            .map(task_v1)
            .collect(),
    );
    put_values(
        &mut o,
        "terminated_tasks",
        tasks_on(m, a)
            .filter(|t| t.is_terminal())
            .map(task_v1)
            .collect(),
    );
    Value::Object(o)
}

pub fn agent_executors(m: &Master, a: &Agent) -> Value {
    let mut o = Map::new();
    put_values(
        &mut o,
        "executors",
        one_per_executor(tasks_on(m, a).filter(|t| !t.is_terminal()))
            .into_iter()
            .map(|t| json!({"executor_info": executor_info_v1(t)}))
            .collect(),
    );
    put_values(
        &mut o,
        "completed_executors",
        one_per_executor(tasks_on(m, a).filter(|t| t.is_terminal()))
            .into_iter()
            .map(|t| json!({"executor_info": executor_info_v1(t)}))
            .collect(),
    );
    Value::Object(o)
}

pub fn agent_frameworks(m: &Master, a: &Agent) -> Value {
    let on_agent = |f: &&Framework| {
        f.tasks
            .iter()
            .chain(f.completed_tasks.iter())
            .any(|t| t.agent_id == a.id)
    };
    let mut o = Map::new();
    put_values(
        &mut o,
        "frameworks",
        m.frameworks
            .iter()
            .filter(on_agent)
            .map(|f| json!({"framework_info": f.info}))
            .collect(),
    );
    put_values(
        &mut o,
        "completed_frameworks",
        m.completed_frameworks
            .iter()
            .filter(on_agent)
            .map(|f| json!({"framework_info": f.info}))
            .collect(),
    );
    Value::Object(o)
}

pub fn agent_containers(m: &Master, a: &Agent) -> Value {
    let containers: Vec<Value> = tasks_on(m, a)
        .filter(|t| !t.is_terminal())
        .map(|t| {
            json!({
                "framework_id": id(&t.framework_id),
                "executor_id": id(&t.executor_id),
                "executor_name": t.executor_name,
                "container_id": id(&t.container_id),
                "container_status": {"container_id": id(&t.container_id)},
                "resource_statistics": {
                    "timestamp": now_secs(),
                    "cpus_limit": t.resources.cpus + EXECUTOR_CPUS,
                    "mem_limit_bytes": ((t.resources.mem + EXECUTOR_MEM) * 1048576.0) as u64
                }
            })
        })
        .collect();
    let mut o = Map::new();
    put_values(&mut o, "containers", containers);
    Value::Object(o)
}

pub fn agent_state_v1(m: &Master, a: &Agent) -> Value {
    json!({
        "get_tasks": agent_tasks(m, a),
        "get_executors": agent_executors(m, a),
        "get_frameworks": agent_frameworks(m, a)
    })
}
