//! The v1 operator API (`POST /api/v1`) of the master and of the agents, and the v1 JSON
//! views of agents, frameworks, offers, tasks and executors it answers with (the scheduler
//! events and operator SUBSCRIBE reuse them).

use super::files;
use super::reply;
use super::resources::Resources;
use super::runtime::Shared;
use super::state::{
    now_secs, time_info, Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM,
    MESOS_VERSION,
};
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn id(v: &str) -> Value {
    json!({ "value": v })
}

/// Mesos leaves empty repeated fields out of its JSON; so do we.
fn put_list(o: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        o.insert(key.to_string(), Value::Array(items));
    }
}

pub fn attributes_v1(attrs: &[(String, String)]) -> Value {
    Value::Array(
        attrs
            .iter()
            .map(|(k, v)| json!({"name": k, "type": "TEXT", "text": {"value": v}}))
            .collect(),
    )
}

pub fn agent_info_v1(a: &Agent) -> Value {
    json!({
        "id": id(&a.id),
        "hostname": a.hostname,
        "port": a.port,
        "resources": a.total.to_v1(),
        "attributes": attributes_v1(&a.attributes)
    })
}

pub fn agent_v1(m: &Master, a: &Agent) -> Value {
    json!({
        "agent_info": agent_info_v1(a),
        "active": a.active,
        "deactivated": false,
        "version": MESOS_VERSION,
        "pid": a.pid(m.settings.ip),
        "registered_time": time_info(a.registered_time),
        "total_resources": a.total.to_v1(),
        "allocated_resources": a.used.to_v1(),
        "offered_resources": m.offered_on(&a.id).to_v1(),
        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "HIERARCHICAL_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
    })
}

pub fn offer_v1(m: &Master, o: &Offer) -> Value {
    let (hostname, port, attributes) = match m.agent(&o.agent_id) {
        Some(a) => (a.hostname.clone(), a.port, attributes_v1(&a.attributes)),
        None => (m.settings.hostname.clone(), 0, json!([])),
    };
    json!({
        "id": id(&o.id),
        "framework_id": id(&o.framework_id),
        "agent_id": id(&o.agent_id),
        "hostname": hostname,
        "url": {
            "scheme": m.settings.scheme,
            "address": {"hostname": hostname, "ip": m.settings.ip.to_string(), "port": port},
            "path": "/slave(1)"
        },
        "resources": o.resources.to_v1(),
        "attributes": attributes
    })
}

pub fn framework_v1(m: &Master, f: &Framework) -> Value {
    let offers: Vec<Value> = m
        .offers
        .iter()
        .filter(|o| o.framework_id == f.id)
        .map(|o| offer_v1(m, o))
        .collect();
    let used = f
        .tasks
        .iter()
        .filter(|t| !t.is_terminal())
        .fold(Resources::default(), |acc, t| acc.plus(&t.resources));
    let mut o = Map::new();
    o.insert("framework_info".into(), f.info.clone());
    o.insert("active".into(), json!(f.active));
    o.insert("connected".into(), json!(f.connected()));
    o.insert("recovered".into(), json!(false));
    o.insert("registered_time".into(), time_info(f.registered_time));
    if let Some(t) = f.reregistered_time {
        o.insert("reregistered_time".into(), time_info(t));
    }
    if let Some(t) = f.unregistered_time {
        o.insert("unregistered_time".into(), time_info(t));
    }
    put_list(&mut o, "offers", offers);
    put_list(
        &mut o,
        "allocated_resources",
        used.to_v1().as_array().cloned().unwrap_or_default(),
    );
    put_list(
        &mut o,
        "offered_resources",
        m.offered_to(&f.id)
            .to_v1()
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    Value::Object(o)
}

pub fn task_v1(t: &Task) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(t.name));
    o.insert("task_id".into(), id(&t.task_id));
    o.insert("framework_id".into(), id(&t.framework_id));
    o.insert("executor_id".into(), id(&t.executor_id));
    o.insert("agent_id".into(), id(&t.agent_id));
    o.insert("state".into(), json!(t.state));
    o.insert("resources".into(), t.resources.to_v1());
    put_list(&mut o, "statuses", t.statuses.clone());
    if let Some(s) = &t.acked_status {
        o.insert("status_update_state".into(), s["state"].clone());
        o.insert("status_update_uuid".into(), s["uuid"].clone());
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
            o.insert(key.into(), v.clone());
        }
    }
    Value::Object(o)
}

/// The command executor Mesos would run for a task (its id is the task id).
pub fn executor_info_v1(t: &Task) -> Value {
    let resources = t.resources.plus(&Resources {
        cpus: EXECUTOR_CPUS,
        mem: EXECUTOR_MEM,
        ..Resources::default()
    });
    json!({
        "executor_id": id(&t.executor_id),
        "framework_id": id(&t.framework_id),
        "name": t.executor_name,
        "source": t.task_id,
        "type": "DEFAULT",
        "command": {"shell": false, "value": "mesos-executor"},
        "resources": resources.to_v1()
    })
}

pub fn get_tasks(m: &Master) -> Value {
    let mut o = Map::new();
    let active: Vec<Value> = m
        .frameworks
        .iter()
        .flat_map(|f| f.tasks.iter())
        .map(task_v1)
        .collect();
    let completed: Vec<Value> = m
        .frameworks
        .iter()
        .chain(m.completed_frameworks.iter())
        .flat_map(|f| f.completed_tasks.iter())
        .map(task_v1)
        .collect();
    let unreachable: Vec<Value> = m
        .frameworks
        .iter()
        .flat_map(|f| f.unreachable_tasks.iter())
        .map(task_v1)
        .collect();
    put_list(&mut o, "tasks", active);
    put_list(&mut o, "completed_tasks", completed);
    put_list(&mut o, "unreachable_tasks", unreachable);
    Value::Object(o)
}

/// Tasks of a task group share one executor: keep the first task of each executor run.
pub fn one_per_executor<'a>(tasks: impl Iterator<Item = &'a Task>) -> Vec<&'a Task> {
    let mut seen: Vec<(&str, &str, &str)> = Vec::new();
    let mut out = Vec::new();
    for t in tasks {
        let key = (
            t.framework_id.as_str(),
            t.executor_id.as_str(),
            t.container_id.as_str(),
        );
        if !seen.contains(&key) {
            seen.push(key);
            out.push(t);
        }
    }
    out
}

pub fn get_executors(m: &Master) -> Value {
    let mut o = Map::new();
    let executors: Vec<Value> = one_per_executor(
        m.frameworks
            .iter()
            .flat_map(|f| f.tasks.iter())
            .filter(|t| !t.is_terminal()),
    )
    .into_iter()
    .map(|t| json!({"executor_info": executor_info_v1(t), "agent_id": id(&t.agent_id)}))
    .collect();
    put_list(&mut o, "executors", executors);
    Value::Object(o)
}

pub fn get_frameworks(m: &Master) -> Value {
    let mut o = Map::new();
    put_list(
        &mut o,
        "frameworks",
        m.frameworks.iter().map(|f| framework_v1(m, f)).collect(),
    );
    put_list(
        &mut o,
        "completed_frameworks",
        m.completed_frameworks
            .iter()
            .map(|f| framework_v1(m, f))
            .collect(),
    );
    Value::Object(o)
}

pub fn get_agents(m: &Master) -> Value {
    let mut o = Map::new();
    put_list(
        &mut o,
        "agents",
        m.agents.iter().map(|a| agent_v1(m, a)).collect(),
    );
    Value::Object(o)
}

pub fn get_state(m: &Master) -> Value {
    json!({
        "get_tasks": get_tasks(m),
        "get_executors": get_executors(m),
        "get_frameworks": get_frameworks(m),
        "get_agents": get_agents(m)
    })
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

fn answer(kind: &str, body: Value) -> Response {
    let mut o = Map::new();
    o.insert("type".into(), json!(kind));
    o.insert(kind.to_ascii_lowercase(), body);
    reply::json(&Value::Object(o))
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
        "GET_STATE" => answer(&kind, get_state(&m)),
        "GET_AGENTS" => answer(&kind, get_agents(&m)),
        "GET_FRAMEWORKS" => answer(&kind, get_frameworks(&m)),
        "GET_EXECUTORS" => answer(&kind, get_executors(&m)),
        "GET_TASKS" => answer(&kind, get_tasks(&m)),
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
    put_list(
        &mut o,
        "launched_tasks",
        tasks_on(m, a)
            .filter(|t| !t.is_terminal())
            .map(task_v1)
            .collect(),
    );
    put_list(
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
    put_list(
        &mut o,
        "executors",
        one_per_executor(tasks_on(m, a).filter(|t| !t.is_terminal()))
            .into_iter()
            .map(|t| json!({"executor_info": executor_info_v1(t)}))
            .collect(),
    );
    put_list(
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
    put_list(
        &mut o,
        "frameworks",
        m.frameworks
            .iter()
            .filter(on_agent)
            .map(|f| json!({"framework_info": f.info}))
            .collect(),
    );
    put_list(
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
    put_list(&mut o, "containers", containers);
    Value::Object(o)
}

pub fn agent_state_v1(m: &Master, a: &Agent) -> Value {
    json!({
        "get_tasks": agent_tasks(m, a),
        "get_executors": agent_executors(m, a),
        "get_frameworks": agent_frameworks(m, a)
    })
}
