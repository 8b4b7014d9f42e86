//! The legacy JSON endpoints (`/master/state`, `/state`, `/metrics/snapshot` ...) with the
//! field names of Mesos 1.x, which older clients and the Demo-API notebook read.

use super::election::Role;
use super::operator::{agent_metrics, master_metrics, version_info};
use super::reply;
use super::resources::Resources;
use super::runtime::Shared;
use super::state::{
    Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM, MESOS_VERSION,
};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn attributes(a: &Agent) -> Value {
    let mut o = Map::new();
    for (k, v) in &a.attributes {
        o.insert(k.clone(), json!(v));
    }
    Value::Object(o)
}

fn flags(m: &Master) -> Value {
    let mut o = Map::new();
    for (k, v) in &m.settings.flags {
        o.insert(k.clone(), json!(v));
    }
    Value::Object(o)
}

pub fn task_legacy(t: &Task) -> Value {
    let statuses: Vec<Value> = t
        .statuses
        .iter()
        .map(|s| {
            let mut o = json!({"state": s["state"], "timestamp": s["timestamp"]});
            if let Some(c) = s.get("container_status") {
                o["container_status"] = c.clone();
            }
            o
        })
        .collect();
    let mut o = json!({
        "id": t.task_id,
        "name": t.name,
        "framework_id": t.framework_id,
        "executor_id": "",
        "slave_id": t.agent_id,
        "state": t.state,
        "resources": t.resources.to_legacy(),
        "role": "*",
        "statuses": statuses
    });
    for key in ["container", "discovery", "labels"] {
        if let Some(v) = t.info.get(key) {
            o[key] = v.clone();
        }
    }
    o
}

fn offer_legacy(o: &Offer) -> Value {
    json!({"id": o.id, "framework_id": o.framework_id, "slave_id": o.agent_id, "resources": o.resources.to_legacy()})
}

fn framework_legacy(m: &Master, f: &Framework) -> Value {
    let used = f
        .tasks
        .iter()
        .filter(|t| !t.is_terminal())
        .fold(Resources::default(), |acc, t| acc.plus(&t.resources));
    let offered = m.offered_to(&f.id);
    let info = &f.info;
    let get = |k: &str, default: Value| info.get(k).cloned().unwrap_or(default);
    json!({
        "id": f.id,
        "name": get("name", json!("")),
        "user": get("user", json!("")),
        "hostname": get("hostname", json!("")),
        "webui_url": get("webui_url", json!("")),
        "principal": get("principal", Value::Null),
        "capabilities": info.get("capabilities").and_then(Value::as_array).map(|c| c.iter().filter_map(|x| x.get("type").cloned()).collect::<Vec<_>>()).unwrap_or_default(),
        "active": f.active,
        "connected": f.connected(),
        "recovered": false,
        "role": f.role(),
        "roles": get("roles", json!([f.role()])),
        "failover_timeout": f.failover_timeout(),
        "checkpoint": get("checkpoint", json!(false)),
        "registered_time": f.registered_time,
        "reregistered_time": f.reregistered_time,
        "unregistered_time": f.unregistered_time.unwrap_or(0.0),
        "resources": used.plus(&offered).to_legacy(),
        "used_resources": used.to_legacy(),
        "offered_resources": offered.to_legacy(),
        "tasks": f.tasks.iter().map(task_legacy).collect::<Vec<_>>(),
        "completed_tasks": f.completed_tasks.iter().map(task_legacy).collect::<Vec<_>>(),
        "unreachable_tasks": f.unreachable_tasks.iter().map(task_legacy).collect::<Vec<_>>(),
        "offers": m.offers.iter().filter(|o| o.framework_id == f.id).map(offer_legacy).collect::<Vec<_>>(),
        "executors": []
    })
}

fn agent_legacy(m: &Master, a: &Agent) -> Value {
    json!({
        "id": a.id,
        "pid": a.pid(m.settings.ip),
        "hostname": a.hostname,
        "port": a.port,
        "registered_time": a.registered_time,
        "resources": a.total.to_legacy(),
        "used_resources": a.used.to_legacy(),
        "offered_resources": m.offered_on(&a.id).to_legacy(),
        "reserved_resources": {},
        "unreserved_resources": a.total.to_legacy(),
        "attributes": attributes(a),
        "active": a.active,
        "deactivated": false,
        "version": MESOS_VERSION,
        "capabilities": ["MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT"]
    })
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

pub fn master_state(m: &Master) -> Value {
    let mut o = Map::new();
    o.insert("version".into(), json!(MESOS_VERSION));
    build_fields(&mut o);
    o.insert("start_time".into(), json!(m.settings.start_time));
    o.insert("elected_time".into(), json!(m.settings.start_time));
    o.insert("id".into(), json!(m.master_id()));
    o.insert("pid".into(), json!(m.pid()));
    o.insert("hostname".into(), json!(m.settings.hostname));
    o.insert(
        "activated_slaves".into(),
        json!(m.agents.iter().filter(|a| a.active).count()),
    );
    o.insert("deactivated_slaves".into(), json!(0));
    o.insert(
        "unreachable_slaves".into(),
        json!(m.unreachable_agents.len()),
    );
    o.insert("leader".into(), json!(m.pid()));
    o.insert("leader_info".into(), m.master_info());
    o.insert("flags".into(), flags(m));
    o.insert(
        "slaves".into(),
        json!(m
            .agents
            .iter()
            .map(|a| agent_legacy(m, a))
            .collect::<Vec<_>>()),
    );
    o.insert(
        "frameworks".into(),
        json!(m
            .frameworks
            .iter()
            .map(|f| framework_legacy(m, f))
            .collect::<Vec<_>>()),
    );
    o.insert(
        "completed_frameworks".into(),
        json!(m
            .completed_frameworks
            .iter()
            .map(|f| framework_legacy(m, f))
            .collect::<Vec<_>>()),
    );
    o.insert("orphan_tasks".into(), json!([]));
    o.insert("unregistered_frameworks".into(), json!([]));
    Value::Object(o)
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
    reply::json(&master_state(&shared.lock()))
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
    o.insert("attributes".into(), attributes(a));
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
