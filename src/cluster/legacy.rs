//! The legacy JSON endpoints (`/master/state`, `/state`, `/metrics/snapshot` ...) with the
//! field names of Mesos 1.x, which older clients and the Demo-API notebook read.

use super::election::Role;
use super::operator::{agent_metrics, master_metrics, version_info};
use super::reply;
use super::resources::{Resources, Seq};
use super::runtime::Shared;
use super::state::{
    Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM, MESOS_VERSION,
};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A map with the keys of `pairs`; a repeated key keeps its first place and last value,
/// as inserting into a `Map` does.
fn pairs_map(pairs: &[(String, String)]) -> Value {
    let mut o = Map::new();
    for (k, v) in pairs {
        o.insert(k.clone(), json!(v));
    }
    Value::Object(o)
}

fn flags(m: &Master) -> Value {
    pairs_map(&m.settings.flags)
}

/// The legacy form of a task, borrowing its statuses.
struct TaskLegacy<'a>(&'a Task);

impl Serialize for TaskLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Status<'a>(&'a Value);
        impl Serialize for Status<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let st = self.0;
                let mut o = s.serialize_map(None)?;
                o.serialize_entry("state", &st["state"])?;
                o.serialize_entry("timestamp", &st["timestamp"])?;
                if let Some(c) = st.get("container_status") {
                    o.serialize_entry("container_status", c)?;
                }
                o.end()
            }
        }
        let t = self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &t.task_id)?;
        o.serialize_entry("name", &t.name)?;
        o.serialize_entry("framework_id", &t.framework_id)?;
        o.serialize_entry("executor_id", "")?;
        o.serialize_entry("slave_id", &t.agent_id)?;
        o.serialize_entry("state", &t.state)?;
        o.serialize_entry("resources", &t.resources.legacy())?;
        o.serialize_entry("role", "*")?;
        o.serialize_entry("statuses", &Seq(|| t.statuses.iter().map(Status)))?;
        for key in ["container", "discovery", "labels"] {
            if let Some(v) = t.info.get(key) {
                o.serialize_entry(key, v)?;
            }
        }
        o.end()
    }
}

pub fn task_legacy(t: &Task) -> Value {
    serde_json::to_value(TaskLegacy(t)).unwrap_or(Value::Null)
}

struct OfferLegacy<'a>(&'a Offer);

impl Serialize for OfferLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let offer = self.0;
        let mut o = s.serialize_map(Some(4))?;
        o.serialize_entry("id", &offer.id)?;
        o.serialize_entry("framework_id", &offer.framework_id)?;
        o.serialize_entry("slave_id", &offer.agent_id)?;
        o.serialize_entry("resources", &offer.resources.legacy())?;
        o.end()
    }
}

struct FrameworkLegacy<'a> {
    m: &'a Master,
    f: &'a Framework,
}

impl Serialize for FrameworkLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, f) = (self.m, self.f);
        let used = f.used_resources();
        let offered = m.offered_to(&f.id);
        let info = &f.info;
        let empty = Value::String(String::new());
        let get = |k: &str| info.get(k).unwrap_or(&empty);
        let capabilities = || {
            info.get("capabilities")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.get("type"))
        };
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &f.id)?;
        o.serialize_entry("name", get("name"))?;
        o.serialize_entry("user", get("user"))?;
        o.serialize_entry("hostname", get("hostname"))?;
        o.serialize_entry("webui_url", get("webui_url"))?;
        o.serialize_entry("principal", info.get("principal").unwrap_or(&Value::Null))?;
        o.serialize_entry("capabilities", &Seq(capabilities))?;
        o.serialize_entry("active", &f.active)?;
        o.serialize_entry("connected", &f.connected())?;
        o.serialize_entry("recovered", &false)?;
        o.serialize_entry("role", &f.role())?;
        match info.get("roles") {
            Some(roles) => o.serialize_entry("roles", roles)?,
            None => o.serialize_entry("roles", &[f.role()])?,
        }
        o.serialize_entry("failover_timeout", &f.failover_timeout())?;
        o.serialize_entry(
            "checkpoint",
            info.get("checkpoint").unwrap_or(&Value::Bool(false)),
        )?;
        o.serialize_entry("registered_time", &f.registered_time)?;
        o.serialize_entry("reregistered_time", &f.reregistered_time)?;
        o.serialize_entry("unregistered_time", &f.unregistered_time.unwrap_or(0.0))?;
        o.serialize_entry("resources", &used.plus(&offered).legacy())?;
        o.serialize_entry("used_resources", &used.legacy())?;
        o.serialize_entry("offered_resources", &offered.legacy())?;
        o.serialize_entry("tasks", &Seq(|| f.tasks.iter().map(TaskLegacy)))?;
        o.serialize_entry(
            "completed_tasks",
            &Seq(|| f.completed_tasks.iter().map(TaskLegacy)),
        )?;
        o.serialize_entry(
            "unreachable_tasks",
            &Seq(|| f.unreachable_tasks.iter().map(TaskLegacy)),
        )?;
        o.serialize_entry(
            "offers",
            &Seq(|| {
                m.offers
                    .iter()
                    .filter(|o| o.framework_id == f.id)
                    .map(OfferLegacy)
            }),
        )?;
        o.serialize_entry("executors", &[(); 0])?;
        o.end()
    }
}

fn framework_legacy(m: &Master, f: &Framework) -> Value {
    serde_json::to_value(FrameworkLegacy { m, f }).unwrap_or(Value::Null)
}

struct AgentLegacy<'a> {
    m: &'a Master,
    a: &'a Agent,
    offered: &'a Resources,
}

impl Serialize for AgentLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.a;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &a.id)?;
        o.serialize_entry("pid", &a.pid(self.m.settings.ip))?;
        o.serialize_entry("hostname", &a.hostname)?;
        o.serialize_entry("port", &a.port)?;
        o.serialize_entry("registered_time", &a.registered_time)?;
        o.serialize_entry("resources", &a.total.legacy())?;
        o.serialize_entry("used_resources", &a.used.legacy())?;
        o.serialize_entry("offered_resources", &self.offered.legacy())?;
        o.serialize_entry("reserved_resources", &Map::new())?;
        o.serialize_entry("unreserved_resources", &a.total.legacy())?;
        o.serialize_entry("attributes", &pairs_map(&a.attributes))?;
        o.serialize_entry("active", &a.active)?;
        o.serialize_entry("deactivated", &false)?;
        o.serialize_entry("version", MESOS_VERSION)?;
        o.serialize_entry(
            "capabilities",
            &["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"],
        )?;
        o.end()
    }
}

fn agent_legacy(m: &Master, a: &Agent) -> Value {
    let offered = m.offered_on(&a.id);
    serde_json::to_value(AgentLegacy {
        m,
        a,
        offered: &offered,
    })
    .unwrap_or(Value::Null)
}

fn build_fields(o: &mut Map<String, Value>) {
    if let Value::Object(v) = version_info() {
        for (k, val) in v {
            if k != "version" {
                o.insert(k, val);
            }
        }
    }
}

/// `/master/state`, written straight from the state (tens of MB on a big cluster).
pub struct MasterState<'a>(pub &'a Master);

impl Serialize for MasterState<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let offered = m.offered_by_agent();
        let none = Resources::default();
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("version", MESOS_VERSION)?;
        if let Value::Object(v) = version_info() {
            for (k, val) in &v {
                if k != "version" {
                    o.serialize_entry(k, val)?;
                }
            }
        }
        o.serialize_entry("start_time", &m.settings.start_time)?;
        o.serialize_entry("elected_time", &m.settings.start_time)?;
        o.serialize_entry("id", m.master_id())?;
        o.serialize_entry("pid", &m.pid())?;
        o.serialize_entry("hostname", &m.settings.hostname)?;
        o.serialize_entry(
            "activated_slaves",
            &m.agents.iter().filter(|a| a.active).count(),
        )?;
        o.serialize_entry("deactivated_slaves", &0)?;
        o.serialize_entry("unreachable_slaves", &m.unreachable_agents.len())?;
        o.serialize_entry("leader", &m.pid())?;
        o.serialize_entry("leader_info", &m.master_info())?;
        o.serialize_entry("flags", &flags(m))?;
        o.serialize_entry(
            "slaves",
            &Seq(|| {
                m.agents.iter().map(|a| AgentLegacy {
                    m,
                    a,
                    offered: offered.get(a.id.as_str()).unwrap_or(&none),
                })
            }),
        )?;
        o.serialize_entry(
            "frameworks",
            &Seq(|| m.frameworks.iter().map(|f| FrameworkLegacy { m, f })),
        )?;
        o.serialize_entry(
            "completed_frameworks",
            &Seq(|| {
                m.completed_frameworks
                    .iter()
                    .map(|f| FrameworkLegacy { m, f })
            }),
        )?;
        o.serialize_entry("orphan_tasks", &[(); 0])?;
        o.serialize_entry("unregistered_frameworks", &[(); 0])?;
        o.end()
    }
}

const STATES: &[&str] = &[
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

fn counts<'a>(o: &mut Value, tasks: impl Iterator<Item = &'a Task>) {
    let tasks: Vec<&Task> = tasks.collect();
    for s in STATES {
        o[*s] = json!(tasks.iter().filter(|t| t.state == *s).count());
    }
}

pub async fn master_state_handler(State(shared): State<Arc<Shared>>) -> Response {
    reply::json_of(&MasterState(&shared.lock()))
}

pub async fn state_summary(State(shared): State<Arc<Shared>>) -> Response {
    let m = shared.lock();
    let slaves: Vec<Value> = m
        .agents
        .iter()
        .map(|a| {
            let mut o = agent_legacy(&m, a);
            counts(&mut o, m.all_tasks().filter(|t| t.agent_id == a.id));
            let mut fids: Vec<&str> = m
                .all_tasks()
                .filter(|t| t.agent_id == a.id)
                .map(|t| t.framework_id.as_str())
                .collect();
            fids.dedup();
            o["framework_ids"] = json!(fids);
            o
        })
        .collect();
    let frameworks: Vec<Value> = m
        .frameworks
        .iter()
        .map(|f| {
            let mut o = framework_legacy(&m, f);
            if let Some(obj) = o.as_object_mut() {
                for k in [
                    "tasks",
                    "completed_tasks",
                    "unreachable_tasks",
                    "offers",
                    "executors",
                ] {
                    obj.remove(k);
                }
            }
            counts(
                &mut o,
                f.tasks
                    .iter()
                    .chain(f.completed_tasks.iter())
                    .chain(f.unreachable_tasks.iter()),
            );
            let mut sids: Vec<&str> = f.tasks.iter().map(|t| t.agent_id.as_str()).collect();
            sids.sort();
            sids.dedup();
            o["slave_ids"] = json!(sids);
            o
        })
        .collect();
    reply::json(
        &json!({"hostname": m.settings.hostname, "cluster": "", "slaves": slaves, "frameworks": frameworks}),
    )
}

type Q = Query<HashMap<String, String>>;

pub async fn frameworks(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let wanted = q.get("framework_id");
    let keep = |f: &&Framework| wanted.is_none_or(|w| *w == f.id);
    reply::json(&json!({
        "frameworks": m.frameworks.iter().filter(keep).map(|f| framework_legacy(&m, f)).collect::<Vec<_>>(),
        "completed_frameworks": m.completed_frameworks.iter().filter(keep).map(|f| framework_legacy(&m, f)).collect::<Vec<_>>(),
        "unregistered_frameworks": []
    }))
}

pub async fn slaves(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let wanted = q.get("slave_id");
    reply::json(&json!({
        "slaves": m.agents.iter().filter(|a| wanted.is_none_or(|w| *w == a.id)).map(|a| agent_legacy(&m, a)).collect::<Vec<_>>(),
        "recovered_slaves": []
    }))
}

pub async fn tasks(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    let m = shared.lock();
    let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
    let offset: usize = q.get("offset").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut list: Vec<&Task> = m
        .all_tasks()
        .filter(|t| q.get("framework_id").is_none_or(|f| *f == t.framework_id))
        .filter(|t| q.get("task_id").is_none_or(|id| *id == t.task_id))
        .collect();
    let start = |t: &Task| {
        t.statuses
            .first()
            .and_then(|s| s["timestamp"].as_f64())
            .unwrap_or(0.0)
    };
    list.sort_by(|a, b| start(a).total_cmp(&start(b)));
    if q.get("order").map(String::as_str) != Some("asc") {
        list.reverse();
    }
    let page: Vec<Value> = list
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(task_legacy)
        .collect();
    reply::json(&json!({"tasks": page}))
}

pub async fn master_flags(State(shared): State<Arc<Shared>>) -> Response {
    reply::json(&json!({"flags": flags(&shared.lock())}))
}

pub async fn roles(State(shared): State<Arc<Shared>>) -> Response {
    let m = shared.lock();
    let mut names: Vec<String> = m.frameworks.iter().map(Framework::role).collect();
    names.sort();
    names.dedup();
    let roles: Vec<Value> = names
        .iter()
        .map(|r| json!({"name": r, "weight": 1.0, "frameworks": m.frameworks.iter().filter(|f| &f.role() == r).map(|f| f.id.clone()).collect::<Vec<_>>()}))
        .collect();
    reply::json(&json!({"roles": roles}))
}

pub async fn health() -> Response {
    StatusCode::OK.into_response()
}

pub async fn version() -> Response {
    reply::json(&version_info())
}

fn flat(metrics: Vec<(String, f64)>) -> Value {
    let mut o = Map::new();
    for (k, v) in metrics {
        o.insert(k, json!(v));
    }
    Value::Object(o)
}

pub async fn master_metrics_handler(State(shared): State<Arc<Shared>>) -> Response {
    let mut metrics = master_metrics(&shared.lock());
    // A standby master is not elected; its other counters stay as they are (zero).
    if shared.role.get() != Role::Leading {
        for (name, value) in &mut metrics {
            if name == "master/elected" {
                *value = 0.0;
            }
        }
    }
    reply::json(&flat(metrics))
}

/// `/master/redirect`: 307 to the leading master (itself when it leads), 503 while no
/// leader is elected.
pub async fn redirect(State(shared): State<Arc<Shared>>) -> Response {
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

// ------------------------------------------------------------------------------ agent

fn executor_legacy(t: &Task, tasks: Vec<Value>, completed: Vec<Value>) -> Value {
    let dir = t
        .sandbox
        .ancestors()
        .find(|p| {
            p.parent()
                .and_then(|q| q.file_name())
                .is_some_and(|n| n == "runs")
        })
        .unwrap_or(&t.sandbox)
        .to_string_lossy()
        .into_owned();
    let resources = t.resources.plus(&Resources {
        cpus: EXECUTOR_CPUS,
        mem: EXECUTOR_MEM,
        ..Resources::default()
    });
    json!({
        "id": t.executor_id,
        "name": t.executor_name,
        "source": t.task_id,
        "container": t.container_id,
        "directory": dir,
        "resources": resources.to_legacy(),
        "role": "*",
        "type": "COMMAND",
        "tasks": tasks,
        "queued_tasks": [],
        "completed_tasks": completed
    })
}

fn agent_framework_legacy(f: &Framework, agent_id: &str) -> Value {
    let on_agent: Vec<&Task> = f
        .tasks
        .iter()
        .chain(f.completed_tasks.iter())
        .filter(|t| t.agent_id == agent_id)
        .collect();
    // One entry per executor run; a task group's tasks share theirs.
    let mut executors = Vec::new();
    let mut completed = Vec::new();
    for rep in super::operator::one_per_executor(on_agent.iter().copied()) {
        let run: Vec<&Task> = on_agent
            .iter()
            .copied()
            .filter(|t| t.executor_id == rep.executor_id && t.container_id == rep.container_id)
            .collect();
        let live: Vec<Value> = run
            .iter()
            .filter(|t| !t.is_terminal())
            .map(|t| task_legacy(t))
            .collect();
        let done: Vec<Value> = run
            .iter()
            .filter(|t| t.is_terminal())
            .map(|t| task_legacy(t))
            .collect();
        if live.is_empty() {
            completed.push(executor_legacy(rep, live, done));
        } else {
            executors.push(executor_legacy(rep, live, done));
        }
    }
    json!({
        "id": f.id,
        "name": f.info.get("name").cloned().unwrap_or(json!("")),
        "user": f.info.get("user").cloned().unwrap_or(json!("")),
        "hostname": f.info.get("hostname").cloned().unwrap_or(json!("")),
        "failover_timeout": f.failover_timeout(),
        "checkpoint": f.info.get("checkpoint").cloned().unwrap_or(json!(false)),
        "role": f.role(),
        "executors": executors,
        "completed_executors": completed
    })
}

pub fn agent_state(m: &Master, a: &Agent) -> Value {
    let touches = |f: &&Framework| {
        f.tasks
            .iter()
            .chain(f.completed_tasks.iter())
            .any(|t| t.agent_id == a.id)
    };
    let mut o = Map::new();
    o.insert("version".into(), json!(MESOS_VERSION));
    build_fields(&mut o);
    o.insert("start_time".into(), json!(m.settings.start_time));
    o.insert("id".into(), json!(a.id));
    o.insert("pid".into(), json!(a.pid(m.settings.ip)));
    o.insert("hostname".into(), json!(a.hostname));
    o.insert(
        "capabilities".into(),
        json!(["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"]),
    );
    o.insert("resources".into(), a.total.to_legacy());
    o.insert("reserved_resources".into(), json!({}));
    o.insert("unreserved_resources".into(), a.total.to_legacy());
    o.insert("attributes".into(), pairs_map(&a.attributes));
    o.insert("master_hostname".into(), json!(m.settings.hostname));
    o.insert("flags".into(), flags(m));
    o.insert(
        "frameworks".into(),
        json!(m
            .frameworks
            .iter()
            .filter(touches)
            .map(|f| agent_framework_legacy(f, &a.id))
            .collect::<Vec<_>>()),
    );
    o.insert(
        "completed_frameworks".into(),
        json!(m
            .completed_frameworks
            .iter()
            .filter(touches)
            .map(|f| agent_framework_legacy(f, &a.id))
            .collect::<Vec<_>>()),
    );
    Value::Object(o)
}

pub fn agent_metrics_flat(m: &Master, a: &Agent) -> Value {
    flat(agent_metrics(m, a))
}

pub fn monitor_statistics(m: &Master, a: &Agent) -> Value {
    let now = super::state::now_secs();
    Value::Array(
        m.all_tasks()
            .filter(|t| t.agent_id == a.id && !t.is_terminal())
            .map(|t| {
                json!({
                    "framework_id": t.framework_id,
                    "executor_id": t.executor_id,
                    "executor_name": t.executor_name,
                    "source": t.task_id,
                    "statistics": {
                        "timestamp": now,
                        "cpus_limit": t.resources.cpus + EXECUTOR_CPUS,
                        "mem_limit_bytes": ((t.resources.mem + EXECUTOR_MEM) * 1048576.0) as u64
                    }
                })
            })
            .collect(),
    )
}
