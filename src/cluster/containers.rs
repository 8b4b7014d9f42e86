//! An agent's containers as Mesos's agent shows them: the ContainerStatus of a task's
//! container (in every status update, and in `/containers` and GET_CONTAINERS), and the
//! ResourceStatistics of each executor's container (`/containers`, `/monitor/statistics`,
//! GET_CONTAINERS): its limits, and the CPU times and resident memory of its processes as
//! the posix isolators read them (`src/slave/containerizer/mesos/isolators/posix.hpp`).

use super::host::{self, Usage};
use super::resources::Resources;
use super::state::{now_secs, Agent, Master, Task, EXECUTOR_CPUS, EXECUTOR_MEM};
use super::views::one_per_executor;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::IpAddr;

fn id(v: &str) -> Value {
    crate::mesos::v1::ids::id_json(v)
}

/// The networks a task's container joined: those its ContainerInfo names (a task of a
/// group joins its executor's), each as the CNI isolator reports it, with the address it
/// got (the agent's own: the embedded agent runs no network isolation); else the host
/// network, with the agent's address.
pub fn network_infos(task: &Task, ip: IpAddr) -> Value {
    let asked = task.info.pointer("/container/network_infos").or_else(|| {
        task.executor
            .as_ref()
            .and_then(|e| e.pointer("/container/network_infos"))
            .cloned()
    });
    let asked = asked
        .as_ref()
        .and_then(Value::as_array)
        .filter(|n| !n.is_empty());
    let protocol = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
    let address = json!([{"protocol": protocol, "ip_address": ip.to_string()}]);
    match asked {
        Some(networks) => Value::Array(
            networks
                .iter()
                .map(|n| {
                    let mut n = n.clone();
                    n["ip_addresses"] = address.clone();
                    n
                })
                .collect(),
        ),
        None => json!([{ "ip_addresses": address }]),
    }
}

/// The ContainerID of a task's container: a task of a group runs in a container nested in
/// its executor's, `{"value": child, "parent": {"value": executor's}}`.
pub fn container_id(task: &Task) -> Value {
    match &task.nested_container_id {
        Some(child) => json!({"value": child, "parent": id(&task.container_id)}),
        None => id(&task.container_id),
    }
}

/// The ContainerStatus a status update of the task carries.
pub fn status(task: &Task, ip: IpAddr) -> Value {
    let mut s = Map::new();
    s.insert("container_id".into(), container_id(task));
    // The embedded agent runs no executor process; the task's own process stands for it.
    if let Some(pid) = task.pid {
        s.insert("executor_pid".into(), json!(pid));
    }
    s.insert("network_infos".into(), network_infos(task, ip));
    Value::Object(s)
}

/// The ContainerStatus of an executor's container (`/containers`): its own id.
fn executor_status(task: &Task, ip: IpAddr) -> Value {
    let mut s = Map::new();
    s.insert("container_id".into(), id(&task.container_id));
    if let Some(pid) = task.pid {
        s.insert("executor_pid".into(), json!(pid));
    }
    s.insert("network_infos".into(), network_infos(task, ip));
    Value::Object(s)
}

/// What `docker inspect` says of a task's (simulated) container, as the Docker executor
/// sends it in TASK_RUNNING's `data`: the container Mesos's Docker containerizer names
/// `mesos-<container id>`, its image, labels and state.
pub fn docker_inspect(task: &Task, image: &str, started: f64) -> Value {
    let given = task.info.pointer("/labels/labels");
    let labels: Map<String, Value> = given
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                l.get("key")?.as_str()?.to_string(),
                l.get("value").cloned().unwrap_or(json!("")),
            ))
        })
        .collect();
    let started = chrono::DateTime::from_timestamp_micros((started * 1e6) as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default();
    json!([{
        "Id": task.container_id.replace('-', ""),
        "Name": format!("/mesos-{}", task.container_id),
        "Created": started,
        "Config": {"Image": image, "Labels": labels},
        "State": {"Status": "running", "Running": true, "Pid": 0, "StartedAt": started},
        "NetworkSettings": {"IPAddress": "", "Networks": {}},
        "Mounts": []
    }])
}

/// An executor's resources: its tasks' and its own (the command executor's 0.1 cpus and
/// 32 MB, as Mesos adds them; a task group's executor says what it needs).
pub fn executor_resources(rep: &Task, run: &[&Task]) -> Resources {
    let own = if rep.executor.is_some() {
        rep.executor_resources.clone()
    } else {
        Resources::flat(EXECUTOR_CPUS, EXECUTOR_MEM, 0.0, 0.0, &[])
    };
    run.iter().fold(own, |acc, t| acc.plus(&t.resources))
}

/// ResourceStatistics of an executor's container.
fn statistics(run: &[&Task], limits: &Resources, usage: &HashMap<u32, Usage>) -> Value {
    let used = run
        .iter()
        .filter_map(|t| t.pid.and_then(|p| usage.get(&p)))
        .fold(Usage::default(), |acc, u| Usage {
            cpus_user_time_secs: acc.cpus_user_time_secs + u.cpus_user_time_secs,
            cpus_system_time_secs: acc.cpus_system_time_secs + u.cpus_system_time_secs,
            mem_rss_bytes: acc.mem_rss_bytes + u.mem_rss_bytes,
        });
    json!({
        "timestamp": now_secs(),
        "cpus_limit": limits.cpus(),
        "cpus_user_time_secs": used.cpus_user_time_secs,
        "cpus_system_time_secs": used.cpus_system_time_secs,
        "mem_limit_bytes": (limits.mem() * 1048576.0) as u64,
        "mem_rss_bytes": used.mem_rss_bytes
    })
}

/// One running executor of the agent: its first task, all its live tasks.
struct Run<'a> {
    rep: &'a Task,
    tasks: Vec<&'a Task>,
}

fn runs<'a>(m: &'a Master, a: &Agent) -> Vec<Run<'a>> {
    let live: Vec<&Task> = m
        .held_tasks()
        .filter(|t| t.agent_id == a.id && !t.is_terminal())
        .collect();
    one_per_executor(live.iter().copied())
        .into_iter()
        .map(|rep| Run {
            rep,
            tasks: live
                .iter()
                .copied()
                .filter(|t| {
                    t.framework_id == rep.framework_id
                        && t.executor_id == rep.executor_id
                        && t.container_id == rep.container_id
                })
                .collect(),
        })
        .collect()
}

/// What names an executor in these answers.
fn executor_fields(o: &mut Map<String, Value>, rep: &Task) {
    o.insert("framework_id".into(), json!(rep.framework_id));
    o.insert("executor_id".into(), json!(rep.executor_id));
    o.insert("executor_name".into(), json!(rep.executor_name));
    o.insert("source".into(), json!(source(rep)));
}

/// ExecutorInfo's `source`: the task id for a command executor, as Mesos sets it; a task
/// group's executor has the one its framework gave, if any.
pub fn source(rep: &Task) -> String {
    match &rep.executor {
        Some(e) => e
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        None => rep.task_id.clone(),
    }
}

/// `/containers`: the running executors' containers with their status and statistics.
pub fn legacy(m: &Master, a: &Agent) -> Value {
    let usage = host::usage_by_group();
    let ip = m.settings.ip;
    Value::Array(
        runs(m, a)
            .into_iter()
            .map(|run| {
                let mut o = Map::new();
                executor_fields(&mut o, run.rep);
                o.insert("container_id".into(), json!(run.rep.container_id));
                o.insert("status".into(), executor_status(run.rep, ip));
                let limits = executor_resources(run.rep, &run.tasks);
                o.insert("statistics".into(), statistics(&run.tasks, &limits, &usage));
                Value::Object(o)
            })
            .collect(),
    )
}

/// `/monitor/statistics`: the same executors, their statistics without the status.
pub fn monitor_statistics(m: &Master, a: &Agent) -> Value {
    let usage = host::usage_by_group();
    Value::Array(
        runs(m, a)
            .into_iter()
            .map(|run| {
                let mut o = Map::new();
                executor_fields(&mut o, run.rep);
                let limits = executor_resources(run.rep, &run.tasks);
                o.insert("statistics".into(), statistics(&run.tasks, &limits, &usage));
                Value::Object(o)
            })
            .collect(),
    )
}

/// GET_CONTAINERS: the v1 form, ids as messages.
pub fn v1(m: &Master, a: &Agent) -> Value {
    let usage = host::usage_by_group();
    let ip = m.settings.ip;
    let containers: Vec<Value> = runs(m, a)
        .into_iter()
        .map(|run| {
            let limits = executor_resources(run.rep, &run.tasks);
            json!({
                "framework_id": id(&run.rep.framework_id),
                "executor_id": id(&run.rep.executor_id),
                "executor_name": run.rep.executor_name,
                "container_id": id(&run.rep.container_id),
                "container_status": executor_status(run.rep, ip),
                "resource_statistics": statistics(&run.tasks, &limits, &usage)
            })
        })
        .collect();
    let mut o = Map::new();
    if !containers.is_empty() {
        o.insert("containers".into(), Value::Array(containers));
    }
    Value::Object(o)
}
