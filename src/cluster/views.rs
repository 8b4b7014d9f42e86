//! The v1 JSON views of agents, frameworks, offers, tasks and executors, written straight
//! from the state (GET_STATE and its parts, the scheduler's OFFERS, the operator events).

use super::flags::Domain;
use super::resources::{Resources, Seq};
use super::state::task_json::TaskJson;
use super::state::{
    Agent, Framework, Master, Offer, Task, EXECUTOR_CPUS, EXECUTOR_MEM, MESOS_VERSION,
};
// Mesos's id message `{"value": ...}`, written from a borrowed string.
use crate::mesos::v1::ids::{id_json, IdRef as Id};
use crate::mesos::v1::{to_sparse_value, TimeInfo};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

fn id(v: &str) -> Value {
    id_json(v)
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

/// An AgentInfo, with the cluster's fault domain when it has one.
struct AgentInfo<'a>(&'a Agent, Option<&'a Domain>);

impl Serialize for AgentInfo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let mut o = s.serialize_map(Some(6))?;
        o.serialize_entry("id", &Id(&a.id))?;
        o.serialize_entry("hostname", &a.hostname)?;
        o.serialize_entry("port", &a.port)?;
        o.serialize_entry("resources", &a.total.v1())?;
        o.serialize_entry("attributes", &Attributes(&a.attributes))?;
        if let Some(d) = self.1 {
            o.serialize_entry("domain", &d.to_json())?;
        }
        o.end()
    }
}

pub fn agent_info_v1(m: &Master, a: &Agent) -> Value {
    to_value(AgentInfo(a, m.settings.flags.domain.as_ref()))
}

/// An agent's capabilities: those of a Mesos 1.11 agent (`AGENT_CAPABILITIES()` in
/// `src/slave/constants.cpp`).
pub const AGENT_CAPABILITIES: &[&str] = &[
    "HIERARCHICAL_ROLE",
    "MULTI_ROLE",
    "RESERVATION_REFINEMENT",
    "RESOURCE_PROVIDER",
    "RESIZE_VOLUME",
    "AGENT_OPERATION_FEEDBACK",
    "AGENT_DRAINING",
    "TASK_RESOURCE_LIMITS",
];

/// Resources by the role they are allocated (or offered) to.
pub type ByRole<'a> = BTreeMap<&'a str, Resources>;

/// A list of resources allocated to roles, each with its `allocation_info`.
struct Allocated<'a>(&'a ByRole<'a>);

impl Serialize for Allocated<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut list = s.serialize_seq(None)?;
        for (role, r) in self.0 {
            // Each role's resources, flattened into one list.
            let one = serde_json::to_value(r.v1_allocated(role)).unwrap_or(Value::Null);
            for item in one.as_array().into_iter().flatten() {
                list.serialize_element(item)?;
            }
        }
        list.end()
    }
}

fn is_empty(by_role: &ByRole) -> bool {
    by_role.values().all(Resources::v1_is_empty)
}

/// What is allocated and offered, by agent and by framework, and by role: found in one
/// pass over the tasks and offers (a big cluster's GET_STATE has an agent per task).
#[derive(Default)]
pub struct Holdings<'a> {
    pub allocated_on: HashMap<&'a str, ByRole<'a>>,
    pub offered_on: HashMap<&'a str, ByRole<'a>>,
    pub allocated_to: HashMap<&'a str, ByRole<'a>>,
    pub offered_to: HashMap<&'a str, ByRole<'a>>,
}

impl<'a> Holdings<'a> {
    pub fn of(m: &'a Master) -> Holdings<'a> {
        let mut h = Holdings::default();
        let add =
            |map: &mut HashMap<&'a str, ByRole<'a>>, key: &'a str, role: &'a str, r: &Resources| {
                map.entry(key).or_default().entry(role).or_default().add(r);
            };
        for f in &m.frameworks {
            let mut groups: HashSet<(&str, &str)> = HashSet::new();
            for t in f.tasks.iter().filter(|t| !t.is_terminal()) {
                add(&mut h.allocated_on, &t.agent_id, &t.role, &t.resources);
                add(&mut h.allocated_to, &f.id, &t.role, &t.resources);
                // A task group's executor holds its own resources while it runs.
                if t.executor.is_some() && groups.insert((&t.executor_id, &t.container_id)) {
                    add(
                        &mut h.allocated_on,
                        &t.agent_id,
                        &t.role,
                        &t.executor_resources,
                    );
                    add(&mut h.allocated_to, &f.id, &t.role, &t.executor_resources);
                }
            }
        }
        for o in &m.offers {
            add(&mut h.offered_on, &o.agent_id, &o.role, &o.resources);
            add(&mut h.offered_to, &o.framework_id, &o.role, &o.resources);
        }
        h
    }
}

/// One agent of GET_AGENTS, with what is allocated and offered on it.
struct AgentV1<'a> {
    m: &'a Master,
    a: &'a Agent,
    allocated: Option<&'a ByRole<'a>>,
    offered: Option<&'a ByRole<'a>>,
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
        let none = ByRole::new();
        let mut o = s.serialize_map(Some(10))?;
        o.serialize_entry(
            "agent_info",
            &AgentInfo(a, self.m.settings.flags.domain.as_ref()),
        )?;
        o.serialize_entry("active", &a.active)?;
        let (deactivated, drain_info, drain_start) =
            super::state::drain::agent_fields(self.m, &a.id);
        o.serialize_entry("deactivated", &deactivated)?;
        if let Some(info) = &drain_info {
            o.serialize_entry("drain_info", info)?;
        }
        if let Some(start) = &drain_start {
            o.serialize_entry("estimated_drain_start_time", start)?;
        }
        o.serialize_entry("version", MESOS_VERSION)?;
        o.serialize_entry("pid", &a.pid(self.m.settings.ip))?;
        o.serialize_entry("registered_time", &TimeInfo::from_secs(a.registered_time))?;
        if let Some(t) = a.reregistered_time {
            o.serialize_entry("reregistered_time", &TimeInfo::from_secs(t))?;
        }
        o.serialize_entry("total_resources", &a.total.v1())?;
        let allocated = self.allocated.unwrap_or(&none);
        if !is_empty(allocated) {
            o.serialize_entry("allocated_resources", &Allocated(allocated))?;
        }
        let offered = self.offered.unwrap_or(&none);
        if !is_empty(offered) {
            o.serialize_entry("offered_resources", &Allocated(offered))?;
        }
        o.serialize_entry(
            "capabilities",
            &Seq(|| AGENT_CAPABILITIES.iter().map(|c| Capability(c))),
        )?;
        o.end()
    }
}

pub fn agent_v1(m: &Master, a: &Agent) -> Value {
    let h = Holdings::of(m);
    to_value(AgentV1 {
        m,
        a,
        allocated: h.allocated_on.get(a.id.as_str()),
        offered: h.offered_on.get(a.id.as_str()),
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
        let mut o = s.serialize_map(Some(9))?;
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
        o.serialize_entry("resources", &offer.resources.v1_allocated(&offer.role))?;
        o.serialize_entry("attributes", &Attributes(attributes))?;
        o.serialize_entry("allocation_info", &json!({ "role": offer.role }))?;
        // An agent of a machine scheduled for maintenance offers with its unavailability.
        if let Some(u) = m.unavailability_of(&offer.agent_id) {
            o.serialize_entry("unavailability", &u)?;
        }
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
    holdings: &'a Holdings<'a>,
}

impl Serialize for FrameworkV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, f) = (self.m, self.f);
        let none = ByRole::new();
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("framework_info", &f.info)?;
        o.serialize_entry("active", &f.active)?;
        o.serialize_entry("connected", &f.connected())?;
        o.serialize_entry("recovered", &false)?;
        o.serialize_entry("registered_time", &TimeInfo::from_secs(f.registered_time))?;
        // Times are written when set (`model(const Framework&)` in src/master/http.cpp).
        if let Some(t) = f.unregistered_time {
            o.serialize_entry("unregistered_time", &TimeInfo::from_secs(t))?;
        }
        o.serialize_entry(
            "reregistered_time",
            &TimeInfo::from_secs(f.reregistered_time),
        )?;
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
        let inverse = m.inverse_offers_of(&f.id);
        if !inverse.is_empty() {
            o.serialize_entry("inverse_offers", &inverse)?;
        }
        let allocated = self
            .holdings
            .allocated_to
            .get(f.id.as_str())
            .unwrap_or(&none);
        if !is_empty(allocated) {
            o.serialize_entry("allocated_resources", &Allocated(allocated))?;
        }
        let offered = self.holdings.offered_to.get(f.id.as_str()).unwrap_or(&none);
        if !is_empty(offered) {
            o.serialize_entry("offered_resources", &Allocated(offered))?;
        }
        o.end()
    }
}

/// A framework as FRAMEWORK_ADDED and FRAMEWORK_UPDATED carry it: its info, state and
/// three times, an unset one as 0 (`createFrameworkAdded` in src/common/protobuf_utils.cpp).
pub fn framework_event(f: &Framework) -> Value {
    let ns = |t: f64| to_sparse_value(&TimeInfo::from_secs(t));
    json!({
        "framework_info": f.info,
        "active": f.active,
        "connected": f.connected(),
        "recovered": false,
        "registered_time": ns(f.registered_time),
        "reregistered_time": ns(f.reregistered_time),
        "unregistered_time": ns(f.unregistered_time.unwrap_or(0.0))
    })
}

/// The user a task runs as, when its command names one (`protobuf::createTask`).
pub fn task_user(t: &Task) -> Option<String> {
    let user = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    user(t.info.pointer("/command/user").as_ref())
        .or_else(|| user(t.executor.as_ref().and_then(|e| e.pointer("/command/user"))))
}

/// A task in the v1 form, borrowing its statuses and the text of its unchanging fields
/// (`task_json.rs`). A command task has
/// no `executor_id` (Mesos's Task names only an executor the framework gave).
pub struct TaskV1<'a>(pub &'a Task);

impl Serialize for TaskV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("name", &t.name)?;
        o.serialize_entry("task_id", &Id(&t.task_id))?;
        o.serialize_entry("framework_id", &Id(&t.framework_id))?;
        if t.executor.is_some() {
            o.serialize_entry("executor_id", &Id(&t.executor_id))?;
        }
        o.serialize_entry("agent_id", &Id(&t.agent_id))?;
        o.serialize_entry("state", &t.state)?;
        let fixed = t.json.get_or_init(|| {
            TaskJson::new(
                &t.resources.v1_allocated(&t.role),
                &t.info,
                task_user(t).as_deref(),
            )
        });
        o.serialize_entry("resources", fixed.resources())?;
        if !t.statuses.is_empty() {
            o.serialize_entry("statuses", &t.statuses)?;
        }
        if let Some(s) = &t.acked_status {
            o.serialize_entry("status_update_state", s.state.as_str())?;
            o.serialize_entry("status_update_uuid", &s.uuid)?;
        }
        for (key, v) in fixed.tail() {
            o.serialize_entry(key, v)?;
        }
        o.end()
    }
}

pub fn task_v1(t: &Task) -> Value {
    to_value(TaskV1(t))
}

/// The command executor's name, as the agent makes it (`Slave::getExecutorInfo`): the task
/// and its command, cut to 12 characters when longer than 15.
pub fn command_executor_name(task_id: &str, command: &Value) -> String {
    let shell = command
        .get("shell")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let value = command.get("value").and_then(Value::as_str);
    let cut = |text: &str, close: &str| {
        if text.chars().count() > 15 {
            format!("{}...{close}", text.chars().take(12).collect::<String>())
        } else {
            format!("{text}{close}")
        }
    };
    let shown = match (shell, value) {
        (true, None) => "(Command: NO COMMAND)".to_string(),
        (true, Some(v)) => format!("(Command: sh -c '{}", cut(v, "')")),
        (false, None) => "(Command: NO EXECUTABLE)".to_string(),
        (false, Some(v)) => {
            let args: Vec<&str> = command
                .get("arguments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let joined = format!("{v}, {}", args.join(", "));
            format!("(Command: [{}", cut(&joined, "])"))
        }
    };
    format!("Command Executor (Task: {task_id}) {shown}")
}

/// The `mesos-executor` command the agent runs a command task with, from the task's
/// `container` and `command`.
fn command_executor_command(container: Option<&Value>, command: Option<&Value>) -> Value {
    let dir = LAUNCHER_DIR;
    let at = |v: Option<&Value>, path: &str| v.and_then(|v| v.pointer(path)).cloned();
    let mut arguments = vec![
        json!("mesos-executor"),
        json!(format!("--launcher_dir={dir}")),
    ];
    let image = at(container, "/type").as_ref().and_then(Value::as_str) == Some("MESOS")
        && at(container, "/mesos/image").is_some();
    if image {
        arguments.push(json!("--sandbox_directory=/mnt/mesos/sandbox"));
    }
    let mut c = Map::new();
    if let Some(uris) = at(command, "/uris") {
        c.insert("uris".into(), uris);
    }
    if let Some(env) = at(command, "/environment") {
        c.insert("environment".into(), env);
    }
    c.insert("shell".into(), json!(false));
    c.insert("value".into(), json!(format!("{dir}/mesos-executor")));
    c.insert("arguments".into(), Value::Array(arguments));
    if let Some(user) = at(command, "/user") {
        c.insert("user".into(), user);
    }
    Value::Object(c)
}

/// Where the agents' `--launcher_dir` says Mesos's executors are.
pub const LAUNCHER_DIR: &str = "/usr/local/libexec/mesos";

/// The ExecutorInfo of a task's executor: a task group's as its framework gave it (with
/// its resources allocated), or the command executor the agent makes for a command task
/// (`Slave::getExecutorInfo`: the task's container, labels and discovery, 0.1 cpus and
/// 32 MB of its own).
pub fn executor_info_v1(t: &Task) -> Value {
    if let Some(given) = &t.executor {
        let mut e = given.clone();
        if let Some(o) = e.as_object_mut() {
            o.insert("framework_id".into(), id(&t.framework_id));
            let resources = serde_json::to_value(t.executor_resources.v1_allocated(&t.role))
                .unwrap_or(Value::Null);
            if resources.as_array().is_some_and(|r| !r.is_empty()) {
                o.insert("resources".into(), resources);
            }
        }
        return e;
    }
    // The TaskInfo's fields it repeats, each read from the kept text alone.
    let container = t.info.get("container");
    let own = Resources::flat(EXECUTOR_CPUS, EXECUTOR_MEM, 0.0, 0.0, &[]);
    let mut o = Map::new();
    o.insert("executor_id".into(), id(&t.executor_id));
    o.insert("framework_id".into(), id(&t.framework_id));
    if let Some(c) = &container {
        o.insert("container".into(), c.clone());
    }
    o.insert("name".into(), json!(t.executor_name));
    o.insert("source".into(), json!(t.task_id));
    o.insert(
        "command".into(),
        command_executor_command(container.as_ref(), t.info.get("command").as_ref()),
    );
    o.insert(
        "resources".into(),
        serde_json::to_value(own.v1_allocated(&t.role)).unwrap_or(Value::Null),
    );
    for key in ["labels", "discovery"] {
        if let Some(v) = t.info.get(key) {
            o.insert(key.into(), v);
        }
    }
    Value::Object(o)
}

/// An executor of GET_EXECUTORS (master: with its agent) or of an agent's GET_EXECUTORS.
struct Executor<'a> {
    task: &'a Task,
    with_agent: bool,
}

impl Serialize for Executor<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("executor_info", &executor_info_v1(self.task))?;
        if self.with_agent {
            o.serialize_entry("agent_id", &Id(&self.task.agent_id))?;
        }
        o.end()
    }
}

/// The completed tasks of live frameworks, then those of completed ones (their texts, read
/// back a chunk at a time).
struct CompletedV1<'a>(&'a Master);

impl Serialize for CompletedV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let completed = m.completed_frameworks.iter().map(|c| &c.framework);
        let mut seq = s.serialize_seq(None)?;
        for f in m.frameworks.iter().chain(completed) {
            f.completed_tasks.write_v1(&mut seq)?;
        }
        seq.end()
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
        let completed = m.completed_frameworks.iter().map(|c| &c.framework);
        let mut frameworks = m.frameworks.iter().chain(completed);
        if frameworks.any(|f| !f.completed_tasks.is_empty()) {
            o.serialize_entry("completed_tasks", &CompletedV1(m))?;
        }
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
        // The master knows only the executors frameworks gave (a task group's); command
        // executors are the agents' own.
        let executors = one_per_executor(
            m.frameworks
                .iter()
                .flat_map(|f| f.tasks.iter())
                .filter(|t| !t.is_terminal() && t.executor.is_some()),
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
        FrameworksWith(self.0, &Holdings::of(self.0)).serialize(s)
    }
}

/// GET_FRAMEWORKS with holdings found once for all of GET_STATE (a pass over every task).
struct FrameworksWith<'a>(&'a Master, &'a Holdings<'a>);

impl Serialize for FrameworksWith<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, holdings) = (self.0, self.1);
        let agents = agents_by_id(m);
        let view = |f| FrameworkV1 {
            m,
            f,
            agents: &agents,
            holdings,
        };
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "frameworks", || m.frameworks.iter().map(view))?;
        put_list(&mut o, "completed_frameworks", || {
            m.completed_frameworks.iter().map(|c| view(&c.framework))
        })?;
        o.end()
    }
}

pub struct GetAgents<'a>(pub &'a Master);

impl Serialize for GetAgents<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AgentsWith(self.0, &Holdings::of(self.0)).serialize(s)
    }
}

struct AgentsWith<'a>(&'a Master, &'a Holdings<'a>);

impl Serialize for AgentsWith<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (m, h) = (self.0, self.1);
        let mut o = s.serialize_map(None)?;
        put_list(&mut o, "agents", || {
            m.agents.iter().map(|a| AgentV1 {
                m,
                a,
                allocated: h.allocated_on.get(a.id.as_str()),
                offered: h.offered_on.get(a.id.as_str()),
            })
        })?;
        put_list(&mut o, "recovered_agents", || {
            m.recovered_agents.iter().map(|r| &r.info)
        })?;
        o.end()
    }
}

pub struct GetState<'a>(pub &'a Master);

impl Serialize for GetState<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = self.0;
        let holdings = Holdings::of(m);
        let mut o = s.serialize_map(Some(4))?;
        o.serialize_entry("get_tasks", &GetTasks(m))?;
        o.serialize_entry("get_executors", &GetExecutors(m))?;
        o.serialize_entry("get_frameworks", &FrameworksWith(m, &holdings))?;
        o.serialize_entry("get_agents", &AgentsWith(m, &holdings))?;
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

/// One role the master knows, with what its frameworks hold (`RoleResourceBreakdown`):
/// allocated and offered to the role or a role below it, reserved to it or below it.
pub struct RoleView {
    pub name: String,
    pub weight: f64,
    pub frameworks: Vec<String>,
    pub allocated: Resources,
    pub offered: Resources,
    pub reserved: Resources,
}

/// The roles the master knows (`Master::knownRoles`): every role of a subscribed
/// framework, every role something is reserved to, every role with a weight or a quota,
/// and those roles' ancestors (`a` of `a/b`), sorted by name.
pub fn known_roles(m: &Master) -> Vec<RoleView> {
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut know = |role: &str, framework: Option<&str>| {
        let mut ancestor = role;
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            names.entry(parent.to_string()).or_default();
            ancestor = parent;
        }
        let entry = names.entry(role.to_string()).or_default();
        if let Some(f) = framework {
            entry.push(f.to_string());
        }
    };
    for f in &m.frameworks {
        for role in f.roles() {
            know(&role, Some(&f.id));
        }
    }
    let reserved = m.reserved_by_role();
    for role in reserved.keys() {
        know(role, None);
    }
    for role in m.tenancy.weights().keys() {
        know(role, None);
    }
    for role in m.tenancy.quotas.keys() {
        know(role, None);
    }
    let h = Holdings::of(m);
    let subtree =
        |r: &str, of: &str| r == of || crate::mesos::v1::roles::is_strict_subrole_of(r, of);
    let sum = |map: &HashMap<&str, ByRole>, role: &str| {
        map.values()
            .flat_map(|by_role| by_role.iter())
            .filter(|(r, _)| subtree(r, role))
            .fold(Resources::default(), |acc, (_, r)| acc.plus(r))
    };
    names
        .into_iter()
        .map(|(name, frameworks)| RoleView {
            weight: m.tenancy.weight(&name),
            allocated: sum(&h.allocated_to, &name),
            offered: sum(&h.offered_to, &name),
            reserved: reserved
                .iter()
                .filter(|(r, _)| subtree(r, &name))
                .fold(Resources::default(), |acc, (_, r)| acc.plus(r)),
            name,
            frameworks,
        })
        .collect()
}

/// A role of GET_ROLES: its weight, its frameworks, and what they are allocated and offered
/// as scalar Resource messages (`Master::ReadOnlyHandler::getRoles`).
pub fn role_v1(r: &RoleView) -> Value {
    let held = r.allocated.plus(&r.offered);
    let resources: Vec<Value> = [
        ("cpus", held.cpus()),
        ("mem", held.mem()),
        ("disk", held.disk()),
        ("gpus", held.gpus()),
    ]
    .into_iter()
    .filter(|(_, v)| *v > 0.0)
    .map(|(name, v)| json!({"name": name, "type": "SCALAR", "scalar": {"value": v}}))
    .collect();
    let mut o = Map::new();
    o.insert("name".into(), json!(r.name));
    o.insert("weight".into(), json!(r.weight));
    if !r.frameworks.is_empty() {
        o.insert(
            "frameworks".into(),
            Value::Array(r.frameworks.iter().map(|f| id(f)).collect()),
        );
    }
    if !resources.is_empty() {
        o.insert("resources".into(), Value::Array(resources));
    }
    Value::Object(o)
}
