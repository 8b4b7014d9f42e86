//! The agent's `/state` as Mesos 1.11's agent writes it (`Http::state`, `FrameworkWriter`
//! and `ExecutorWriter` in `src/slave/http.cpp`).

use super::containers::{executor_resources, source};
use super::legacy::{executor_legacy_fields, flags_object, pairs_map, TaskLegacy};
use super::resources::Seq;
use super::state::{Agent, Framework, Master, Task, MESOS_VERSION};
use super::views::{version_info, AGENT_CAPABILITIES};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};

/// One executor run of a framework on the agent: its first task and all its tasks.
struct Run<'a> {
    rep: &'a Task,
    tasks: Vec<&'a Task>,
}

impl Run<'_> {
    fn running(&self) -> bool {
        self.tasks.iter().any(|t| !t.is_terminal())
    }
}

/// The executor runs of a framework on an agent, in the order they started (`completed`:
/// its completed tasks).
fn runs<'a>(f: &'a Framework, completed: &'a [Task], agent_id: &str) -> Vec<Run<'a>> {
    let on_agent: Vec<&Task> = f
        .tasks
        .iter()
        .chain(f.unreachable_tasks.iter())
        .chain(completed.iter())
        .filter(|t| t.agent_id == agent_id)
        .collect();
    super::views::one_per_executor(on_agent.iter().copied())
        .into_iter()
        .map(|rep| Run {
            rep,
            tasks: on_agent
                .iter()
                .copied()
                .filter(|t| t.executor_id == rep.executor_id && t.container_id == rep.container_id)
                .collect(),
        })
        .collect()
}

/// The run directory of an executor (`.../executors/<id>/runs/<container id>`).
fn directory(t: &Task) -> String {
    t.sandbox
        .ancestors()
        .find(|p| {
            p.parent()
                .and_then(|q| q.file_name())
                .is_some_and(|n| n == "runs")
        })
        .unwrap_or(&t.sandbox)
        .to_string_lossy()
        .into_owned()
}

/// `ExecutorWriter`.
struct ExecutorLegacy<'a>(&'a Run<'a>);

impl Serialize for ExecutorLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let run = self.0;
        let t = run.rep;
        let live: Vec<&Task> = run
            .tasks
            .iter()
            .copied()
            .filter(|t| !t.is_terminal())
            .collect();
        let info = executor_legacy_fields(t, &executor_resources(t, &[]));
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &t.executor_id)?;
        o.serialize_entry("name", info.get("name").unwrap_or(&json!("")))?;
        o.serialize_entry("source", &source(t))?;
        o.serialize_entry("container", &t.container_id)?;
        o.serialize_entry("directory", &directory(t))?;
        // `Executor::allocatedResources`: its own and its launched tasks'.
        o.serialize_entry("resources", &executor_resources(t, &live).to_legacy())?;
        o.serialize_entry("role", &t.role)?;
        for key in ["labels", "type"] {
            if let Some(v) = info.get(key) {
                o.serialize_entry(key, v)?;
            }
        }
        o.serialize_entry("tasks", &Seq(|| live.iter().map(|t| TaskLegacy(t))))?;
        o.serialize_entry("queued_tasks", &[(); 0])?;
        o.serialize_entry(
            "completed_tasks",
            &Seq(|| {
                run.tasks
                    .iter()
                    .filter(|t| t.is_terminal())
                    .map(|t| TaskLegacy(t))
            }),
        )?;
        o.end()
    }
}

/// `FrameworkWriter`.
struct FrameworkLegacy<'a> {
    f: &'a Framework,
    runs: Vec<Run<'a>>,
}

impl Serialize for FrameworkLegacy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.f;
        let info = &f.info;
        let text = |k: &str| info.get(k).cloned().unwrap_or(json!(""));
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("id", &f.id)?;
        o.serialize_entry("name", &text("name"))?;
        o.serialize_entry("user", &text("user"))?;
        o.serialize_entry("failover_timeout", &f.failover_timeout())?;
        o.serialize_entry(
            "checkpoint",
            info.get("checkpoint").unwrap_or(&Value::Bool(false)),
        )?;
        o.serialize_entry("hostname", &text("hostname"))?;
        if let Some(p) = info.get("principal") {
            o.serialize_entry("principal", p)?;
        }
        let multi_role = info
            .get("capabilities")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().any(|c| c["type"] == "MULTI_ROLE"));
        if multi_role {
            o.serialize_entry("roles", &f.roles())?;
        } else {
            o.serialize_entry("role", &f.roles().into_iter().next().unwrap_or_default())?;
        }
        o.serialize_entry(
            "executors",
            &Seq(|| self.runs.iter().filter(|r| r.running()).map(ExecutorLegacy)),
        )?;
        o.serialize_entry(
            "completed_executors",
            &Seq(|| {
                self.runs
                    .iter()
                    .filter(|r| !r.running())
                    .map(ExecutorLegacy)
            }),
        )?;
        o.end()
    }
}

/// The agent's `/state`. A framework is the agent's while one of its executors runs
/// there; after that (or once it is removed) it is one of its completed frameworks.
pub fn agent_state(m: &Master, a: &Agent) -> Value {
    let mut live = Vec::new();
    let mut done = Vec::new();
    // What the agent's executors hold: their own resources and their live tasks'.
    let mut allocated = super::resources::Resources::default();
    let completed = m.completed_frameworks.iter().map(|c| &c.framework);
    for f in m.frameworks.iter().chain(completed) {
        let read = f.completed_tasks.read_back_on(&a.id);
        let runs = runs(f, &read, &a.id);
        if runs.is_empty() {
            continue;
        }
        for run in runs.iter().filter(|r| r.running()) {
            let tasks: Vec<&Task> = run
                .tasks
                .iter()
                .copied()
                .filter(|t| !t.is_terminal())
                .collect();
            allocated = allocated.plus(&executor_resources(run.rep, &tasks));
        }
        let running = runs.iter().any(Run::running);
        let view = serde_json::to_value(FrameworkLegacy { f, runs }).unwrap_or(Value::Null);
        if running {
            live.push(view);
        } else {
            done.push(view);
        }
    }
    let mut o = Map::new();
    o.insert("version".into(), json!(MESOS_VERSION));
    if let Value::Object(v) = version_info() {
        for (k, val) in v {
            if k != "version" {
                o.insert(k, val);
            }
        }
    }
    o.insert("start_time".into(), json!(a.started_time));
    o.insert("id".into(), json!(a.id));
    o.insert("pid".into(), json!(a.pid(m.settings.ip)));
    o.insert("hostname".into(), json!(a.hostname));
    o.insert("capabilities".into(), json!(AGENT_CAPABILITIES));
    if let Some(d) = &m.settings.flags.domain {
        o.insert("domain".into(), d.to_json());
    }
    if let Some((config, started)) = super::state::drain::agent_side(m, &a.id) {
        o.insert("drain_config".into(), json!(config));
        o.insert("estimated_drain_start_time_seconds".into(), json!(started));
    }
    o.insert("resources".into(), a.total.to_legacy());
    o.insert("reserved_resources".into(), a.total.reserved_legacy());
    o.insert(
        "unreserved_resources".into(),
        a.total.unreserved().to_legacy(),
    );
    o.insert("reserved_resources_full".into(), a.total.reserved_full());
    o.insert(
        "unreserved_resources_full".into(),
        a.total.unreserved().to_v1(),
    );
    o.insert(
        "reserved_resources_allocated".into(),
        allocated.reserved_legacy(),
    );
    o.insert(
        "unreserved_resources_allocated".into(),
        allocated.unreserved().to_legacy(),
    );
    o.insert("resource_providers".into(), json!([]));
    o.insert("attributes".into(), pairs_map(&a.attributes));
    o.insert("master_hostname".into(), json!(m.settings.hostname));
    o.insert(
        "flags".into(),
        flags_object(&super::flags::agent(&m.settings.flags, a.port)),
    );
    o.insert("frameworks".into(), Value::Array(live));
    o.insert("completed_frameworks".into(), Value::Array(done));
    Value::Object(o)
}
