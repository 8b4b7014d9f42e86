//! Test only: the JSON views of the master as they were built before they were serialized
//! straight from the state (every object a `serde_json::Value`, statuses cloned). They are
//! kept as the reference the views must match byte for byte on a small seeded cluster, so
//! the speed-up cannot quietly drop, rename or reorder a field.

use super::operator::version_info;
use super::resources::{ranges_text, Resources};
use super::state::{
    Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM, MESOS_VERSION,
};
use serde_json::{json, Map, Value};

/// The old `Resources::to_v1` and `to_legacy`, by another name so the views' versions
/// are not used here.
trait OldForms {
    fn to_v1_ref(&self) -> Value;
    fn to_legacy_ref(&self) -> Value;
}

impl OldForms for Resources {
    fn to_v1_ref(&self) -> Value {
        to_v1(self)
    }

    fn to_legacy_ref(&self) -> Value {
        to_legacy(self)
    }
}

fn to_v1(r: &Resources) -> Value {
    let mut out = Vec::new();
    for (name, v) in [
        ("cpus", r.cpus),
        ("mem", r.mem),
        ("disk", r.disk),
        ("gpus", r.gpus),
    ] {
        if v > 0.0 {
            out.push(json!({"name": name, "type": "SCALAR", "scalar": {"value": v}, "role": "*"}));
        }
    }
    if !r.ports.is_empty() {
        let range: Vec<Value> = r
            .ports
            .iter()
            .map(|(b, e)| json!({"begin": b, "end": e}))
            .collect();
        out.push(
            json!({"name": "ports", "type": "RANGES", "ranges": {"range": range}, "role": "*"}),
        );
    }
    Value::Array(out)
}

fn to_legacy(r: &Resources) -> Value {
    let mut o = json!({"cpus": r.cpus, "mem": r.mem, "disk": r.disk, "gpus": r.gpus});
    if !r.ports.is_empty() {
        o["ports"] = Value::String(ranges_text(&r.ports));
    }
    o
}

fn id(v: &str) -> Value {
    json!({ "value": v })
}

fn time_info(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

/// Mesos leaves empty repeated fields out of its JSON; so do we.
fn put_list(o: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        o.insert(key.to_string(), Value::Array(items));
    }
}

fn attributes_v1(attrs: &[(String, String)]) -> Value {
    Value::Array(
        attrs
            .iter()
            .map(|(k, v)| json!({"name": k, "type": "TEXT", "text": {"value": v}}))
            .collect(),
    )
}

fn agent_info_v1(a: &Agent) -> Value {
    json!({
        "id": id(&a.id),
        "hostname": a.hostname,
        "port": a.port,
        "resources": a.total.to_v1_ref(),
        "attributes": attributes_v1(&a.attributes)
    })
}

fn agent_v1(m: &Master, a: &Agent) -> Value {
    json!({
        "agent_info": agent_info_v1(a),
        "active": a.active,
        "deactivated": false,
        "version": MESOS_VERSION,
        "pid": a.pid(m.settings.ip),
        "registered_time": time_info(a.registered_time),
        "total_resources": a.total.to_v1_ref(),
        "allocated_resources": a.used.to_v1_ref(),
        "offered_resources": m.offered_on(&a.id).to_v1_ref(),
        "capabilities": [{"type": "MULTI_ROLE"}, {"type": "HIERARCHICAL_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
    })
}

fn offer_v1(m: &Master, o: &Offer) -> Value {
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
        "resources": o.resources.to_v1_ref(),
        "attributes": attributes
    })
}

fn framework_v1(m: &Master, f: &Framework) -> Value {
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
        used.to_v1_ref().as_array().cloned().unwrap_or_default(),
    );
    put_list(
        &mut o,
        "offered_resources",
        m.offered_to(&f.id)
            .to_v1_ref()
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    Value::Object(o)
}

fn task_v1(t: &Task) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), json!(t.name));
    o.insert("task_id".into(), id(&t.task_id));
    o.insert("framework_id".into(), id(&t.framework_id));
    o.insert("executor_id".into(), id(&t.executor_id));
    o.insert("agent_id".into(), id(&t.agent_id));
    o.insert("state".into(), json!(t.state));
    o.insert("resources".into(), t.resources.to_v1_ref());
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
fn executor_info_v1(t: &Task) -> Value {
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
        "resources": resources.to_v1_ref()
    })
}

fn get_tasks(m: &Master) -> Value {
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
fn one_per_executor<'a>(tasks: impl Iterator<Item = &'a Task>) -> Vec<&'a Task> {
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

fn get_executors(m: &Master) -> Value {
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

fn get_frameworks(m: &Master) -> Value {
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

fn get_agents(m: &Master) -> Value {
    let mut o = Map::new();
    put_list(
        &mut o,
        "agents",
        m.agents.iter().map(|a| agent_v1(m, a)).collect(),
    );
    Value::Object(o)
}

fn get_state(m: &Master) -> Value {
    json!({
        "get_tasks": get_tasks(m),
        "get_executors": get_executors(m),
        "get_frameworks": get_frameworks(m),
        "get_agents": get_agents(m)
    })
}
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

fn task_legacy(t: &Task) -> Value {
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
        "resources": t.resources.to_legacy_ref(),
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
    json!({"id": o.id, "framework_id": o.framework_id, "slave_id": o.agent_id, "resources": o.resources.to_legacy_ref()})
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
        "resources": used.plus(&offered).to_legacy_ref(),
        "used_resources": used.to_legacy_ref(),
        "offered_resources": offered.to_legacy_ref(),
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
        "resources": a.total.to_legacy_ref(),
        "used_resources": a.used.to_legacy_ref(),
        "offered_resources": m.offered_on(&a.id).to_legacy_ref(),
        "reserved_resources": {},
        "unreserved_resources": a.total.to_legacy_ref(),
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

fn master_state(m: &Master) -> Value {
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

mod tests {
    use super::super::state::{id_of, Settings};
    use super::super::{legacy, operator};
    use super::*;
    use bytes::Bytes;
    use tokio::sync::mpsc;

    fn offers_in(rx: &mut mpsc::UnboundedReceiver<Bytes>) -> Vec<Value> {
        let mut d = crate::mesos::recordio::Decoder::new();
        while let Ok(b) = rx.try_recv() {
            d.push(&b);
        }
        let mut out = Vec::new();
        while let Some(Ok(r)) = d.next_record() {
            let event: Value = serde_json::from_slice(&r).unwrap_or(Value::Null);
            if event["type"] == "OFFERS" {
                out.extend(
                    event["offers"]["offers"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default(),
                );
            }
        }
        out
    }

    fn scalar(name: &str, v: f64) -> Value {
        json!({"name": name, "type": "SCALAR", "scalar": {"value": v}})
    }

    /// Two agents, a framework with plain tasks and a task group in several states (some
    /// acknowledged, one finished and retired), a second framework holding offers, and a
    /// removed framework whose task was killed.
    fn seeded() -> Master {
        let settings = Settings {
            flags: vec![("work_dir".into(), "/tmp".into())],
            ..crate::cluster::state::tests::settings()
        };
        let mut m = Master::new(settings, Some(7));
        let mut fx = Vec::new();
        for (port, rack) in [(5051, "r1"), (5052, "r2")] {
            let total = Resources {
                cpus: 4.0,
                mem: 1024.0,
                disk: 4096.0,
                gpus: 0.0,
                ports: vec![(9000, 9100), (31000, 32000)],
            };
            m.add_agent(port, total, vec![("rack".into(), rack.into())], &mut fx);
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let info = json!({"user": "u", "name": "with tasks", "roles": ["web"],
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}],
            "labels": {"labels": [{"key": "team", "value": "a"}]}});
        let (_, fid) = m.subscribe(info, tx, &mut fx);
        let fid = fid.unwrap_or_default();
        let offers = offers_in(&mut rx);
        assert_eq!(offers.len(), 2, "{offers:?}");
        let offer_id = id_of(offers[0].get("id")).unwrap_or_default();
        let agent_id = offers[0]["agent_id"].clone();
        let task = |name: &str, port: u64, extra: Value| {
            let mut t = json!({"name": name, "task_id": {"value": name}, "agent_id": agent_id,
                "command": {"value": "sleep 100"},
                "resources": [scalar("cpus", 0.5), scalar("mem", 64.0),
                    {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": port, "end": port + 1}]}}]});
            if let (Some(o), Some(e)) = (t.as_object_mut(), extra.as_object()) {
                for (k, v) in e {
                    o.insert(k.clone(), v.clone());
                }
            }
            t
        };
        let launch = json!({"type": "LAUNCH", "launch": {"task_infos": [
            task("web", 9001, json!({"labels": {"labels": [{"key": "k", "value": "v"}]},
                "discovery": {"visibility": "FRAMEWORK", "name": "web"},
                "health_check": {"type": "COMMAND", "command": {"value": "true"}},
                "kill_policy": {"grace_period": {"nanoseconds": 1000}}})),
            task("docker", 9003, json!({"container": {"type": "DOCKER", "docker": {"image": "nginx:1", "network": "HOST"}},
                "command": {"shell": false}})),
            task("done", 31000, json!({}))]}});
        let group_task = |name: &str| {
            json!({"name": name, "task_id": {"value": name}, "agent_id": agent_id,
                "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
                "command": {"value": "sleep 100"}})
        };
        let group = json!({"type": "LAUNCH_GROUP", "launch_group": {
            "executor": {"executor_id": {"value": "ex"}, "type": "DEFAULT",
                "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]},
            "task_group": {"tasks": [group_task("g1"), group_task("g2")]}}});
        m.accept(&fid, &[offer_id], &[launch, group], 0.0, &mut fx)
            .unwrap_or_else(|e| panic!("accept: {}", e.message));
        for t in ["web", "docker", "done", "g1", "g2"] {
            m.status_update(&fid, t, "TASK_STARTING", None, None, &mut fx);
            m.status_update(&fid, t, "TASK_RUNNING", None, None, &mut fx);
        }
        m.status_update(
            &fid,
            "done",
            "TASK_FINISHED",
            Some("exit 0".into()),
            Some("REASON_COMMAND_EXECUTOR_FAILED"),
            &mut fx,
        );
        // Acknowledge every update of "web" and "done" (so "done" retires), and one of "g1".
        for (t, n) in [("web", 2), ("done", 3), ("g1", 1)] {
            for _ in 0..n {
                let uuid = m
                    .framework(&fid)
                    .and_then(|f| f.task(t))
                    .and_then(|t| t.pending.front())
                    .and_then(|s| s["uuid"].as_str())
                    .unwrap_or("")
                    .to_string();
                m.acknowledge(&fid, t, &uuid, &mut fx);
            }
        }
        // The first framework refuses the rest; a second one launches a task and is
        // removed; a third one is left holding offers.
        let all_offers = |m: &Master| m.offers.iter().map(|o| o.id.clone()).collect::<Vec<_>>();
        m.decline(&fid, &all_offers(&m), 1e6, &mut fx);
        let (tx3, mut rx3) = mpsc::unbounded_channel();
        let (_, fid3) = m.subscribe(json!({"user": "w", "name": "removed"}), tx3, &mut fx);
        let fid3 = fid3.unwrap_or_default();
        let offers3 = offers_in(&mut rx3);
        assert!(!offers3.is_empty());
        let oid = id_of(offers3[0].get("id")).unwrap_or_default();
        let t = json!({"name": "gone", "task_id": {"value": "gone"}, "agent_id": offers3[0]["agent_id"],
            "command": {"value": "true"}, "resources": [scalar("cpus", 0.2)]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [t]}});
        m.accept(&fid3, &[oid], &[op], 0.0, &mut fx)
            .unwrap_or_else(|e| panic!("accept: {}", e.message));
        m.remove_framework(&fid3, &mut fx);
        let (tx2, mut rx2) = mpsc::unbounded_channel();
        let (_, fid2) = m.subscribe(json!({"user": "v", "name": "holds offers"}), tx2, &mut fx);
        let fid2 = fid2.unwrap_or_default();
        let offers2 = offers_in(&mut rx2);
        // It also runs a task on the other agent, which the operator then marks gone: the
        // task (TASK_LOST, as the framework is not partition-aware) is unreachable now.
        let other = offers2
            .iter()
            .find(|o| o["agent_id"] != agent_id)
            .unwrap_or_else(|| panic!("no offer on the second agent: {offers2:?}"));
        let oid2 = id_of(other.get("id")).unwrap_or_default();
        let lost_agent = other["agent_id"]["value"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let t = json!({"name": "lost", "task_id": {"value": "lost"}, "agent_id": other["agent_id"],
            "command": {"value": "sleep 100"}, "resources": [scalar("cpus", 0.2)]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [t]}});
        m.accept(&fid2, &[oid2], &[op], 0.0, &mut fx)
            .unwrap_or_else(|e| panic!("accept: {}", e.message));
        m.status_update(&fid2, "lost", "TASK_RUNNING", None, None, &mut fx);
        m.mark_gone(&lost_agent, &mut fx)
            .unwrap_or_else(|e| panic!("mark gone: {}", e.message));
        m.allocate(&mut fx);
        m
    }

    fn same(what: &str, new: String, old: &Value) {
        let old = old.to_string();
        assert!(new == old, "{what} changed:\nnew {new}\nold {old}");
    }

    #[test]
    fn views_serialize_to_the_old_values_byte_for_byte() {
        let m = seeded();
        // The seeded cluster has what each view can show.
        assert!(!m.offers.is_empty());
        assert_eq!(m.completed_frameworks.len(), 1);
        let states: Vec<(&str, &str, usize)> = m
            .all_tasks()
            .map(|t| (t.task_id.as_str(), t.state.as_str(), t.pending.len()))
            .collect();
        assert!(
            m.frameworks.iter().any(|f| !f.completed_tasks.is_empty()),
            "{states:?}"
        );
        assert!(
            m.frameworks.iter().any(|f| !f.unreachable_tasks.is_empty()),
            "{states:?}"
        );
        let s = |v: &dyn erased::Json| v.json();
        same("GET_STATE", s(&operator::GetState(&m)), &get_state(&m));
        same("GET_TASKS", s(&operator::GetTasks(&m)), &get_tasks(&m));
        same("GET_AGENTS", s(&operator::GetAgents(&m)), &get_agents(&m));
        same(
            "GET_EXECUTORS",
            s(&operator::GetExecutors(&m)),
            &get_executors(&m),
        );
        same(
            "GET_FRAMEWORKS",
            s(&operator::GetFrameworks(&m)),
            &get_frameworks(&m),
        );
        same(
            "/master/state",
            s(&legacy::MasterState(&m)),
            &master_state(&m),
        );
        // The Value forms the events carry.
        same(
            "get_state value",
            operator::get_state(&m).to_string(),
            &get_state(&m),
        );
        for a in &m.agents {
            same(
                "agent",
                operator::agent_v1(&m, a).to_string(),
                &agent_v1(&m, a),
            );
        }
        for o in &m.offers {
            same(
                "offer",
                operator::offer_v1(&m, o).to_string(),
                &offer_v1(&m, o),
            );
        }
        for f in m.frameworks.iter().chain(m.completed_frameworks.iter()) {
            same(
                "framework",
                operator::framework_v1(&m, f).to_string(),
                &framework_v1(&m, f),
            );
        }
        for t in m.all_tasks() {
            same("task", operator::task_v1(t).to_string(), &task_v1(t));
            same(
                "legacy task",
                legacy::task_legacy(t).to_string(),
                &task_legacy(t),
            );
        }
    }

    /// Serializes any view to a string, so the test can list them side by side.
    mod erased {
        pub trait Json {
            fn json(&self) -> String;
        }
        impl<T: serde::Serialize> Json for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
        }
    }
}
