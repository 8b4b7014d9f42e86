//! The rows of the Mesos tables: agents, frameworks, tasks, task statuses, executors,
//! offers, roles, metrics, flags and files, each read from a v1 item as the vocabulary's
//! type (leniently: a display shows what a user kept) or from a legacy item as JSON.

use std::collections::HashMap;

use serde_json::Value;

use super::resources::{
    attribute_list, attributes, field, file_mode, flag, format_number, format_opt, number, text,
    time, used_of, Resources,
};
use super::table::{Cell, Table};
use crate::mesos::v1::message::read_lenient;
use crate::mesos::v1::operator::master::{Agent, Framework};
use crate::mesos::v1::operator::{FileInfo, Flag, Metric, Role};
use crate::mesos::v1::{ExecutorInfo, FrameworkInfo, Offer, Task, TaskState, TaskStatus};

static NULL: Value = Value::Null;

// ---------------------------------------------------------------- agents

/// What a row and a chart bar need from an agent, in either shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentSummary {
    pub id: String,
    pub hostname: String,
    pub active: Option<bool>,
    pub total: Resources,
    pub used: Resources,
    pub attributes: String,
}

/// Reads a v1 agent (GET_AGENTS' `Agent`) or a legacy slave (`resources`, `used_resources`).
pub fn agent_summary(agent: &Value) -> AgentSummary {
    if agent.get("agent_info").is_some() {
        let a: Agent = read_lenient(agent).unwrap_or_default();
        let info = a.agent_info;
        let total = if a.total_resources.is_empty() {
            info.resources
        } else {
            a.total_resources
        };
        return AgentSummary {
            id: info.id.map(|i| i.value).unwrap_or_default(),
            hostname: info.hostname,
            active: Some(a.active),
            total: Resources::from_v1(total),
            used: Resources::from_v1(a.allocated_resources),
            attributes: attribute_list(&info.attributes),
        };
    }
    AgentSummary {
        id: field(agent, "id"),
        hostname: field(agent, "hostname"),
        active: flag(agent, "active"),
        total: Resources::parse(agent.get("resources").unwrap_or(&NULL)),
        used: Resources::parse(agent.get("used_resources").unwrap_or(&NULL)),
        attributes: attributes(agent.get("attributes").unwrap_or(&NULL)),
    }
}

pub(crate) fn agents<'a>(items: impl Iterator<Item = &'a Value>) -> Table {
    Table::from_items(
        "agents",
        &[
            "id",
            "hostname",
            "active",
            "cpus used/total",
            "mem MB used/total",
            "disk MB used/total",
            "ports",
            "attributes",
        ],
        items,
        |a| {
            let s = agent_summary(a);
            vec![
                Cell::new(s.id),
                Cell::new(s.hostname),
                Cell::flag(s.active),
                Cell::new(used_of(s.used.cpus, s.total.cpus)),
                Cell::new(used_of(s.used.mem, s.total.mem)),
                Cell::new(used_of(s.used.disk, s.total.disk)),
                Cell::new(s.total.ports.unwrap_or_default()),
                Cell::new(s.attributes),
            ]
        },
    )
}

// ---------------------------------------------------------------- frameworks

/// What a frameworks row shows, from either shape.
struct FrameworkRow {
    id: String,
    name: String,
    user: String,
    role: String,
    active: Option<bool>,
    connected: Option<bool>,
    /// Live tasks, when the item says (legacy lists and state-summary counts).
    tasks: Option<String>,
    resources: Resources,
}

fn roles_of(info: &FrameworkInfo) -> String {
    if info.roles.is_empty() {
        info.role.clone().unwrap_or_default()
    } else {
        info.roles.join(",")
    }
}

/// A v1 framework (the master's, with `active`, or an agent's: only `framework_info`) or a
/// legacy one.
fn framework_row(f: &Value) -> FrameworkRow {
    if f.get("framework_info").is_some() {
        let (info, active, connected, resources) = if f.get("active").is_some() {
            let m: Framework = read_lenient(f).unwrap_or_default();
            (
                m.framework_info,
                Some(m.active),
                Some(m.connected),
                m.allocated_resources,
            )
        } else {
            let info = f
                .get("framework_info")
                .and_then(read_lenient)
                .unwrap_or_default();
            (info, None, None, Vec::new())
        };
        return FrameworkRow {
            id: info
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default(),
            role: roles_of(&info),
            name: info.name,
            user: info.user,
            active,
            connected,
            tasks: None,
            resources: Resources::from_v1(resources),
        };
    }
    let role = match f.get("roles").and_then(Value::as_array) {
        Some(roles) if !roles.is_empty() => roles.iter().map(text).collect::<Vec<_>>().join(","),
        _ => field(f, "role"),
    };
    let tasks = if let Some(list) = f.get("tasks").and_then(Value::as_array) {
        Some(list.len().to_string())
    } else if f.get(TaskState::Running.as_str()).is_some() {
        // state-summary: counts by state; live ones are the tasks of interest.
        let live: f64 = [
            TaskState::Staging,
            TaskState::Starting,
            TaskState::Running,
            TaskState::Killing,
        ]
        .iter()
        .filter_map(|k| f.get(k.as_str()).and_then(number))
        .sum();
        Some(format_number(live))
    } else {
        None
    };
    FrameworkRow {
        id: field(f, "id"),
        name: field(f, "name"),
        user: field(f, "user"),
        role,
        active: flag(f, "active"),
        connected: flag(f, "connected"),
        tasks,
        resources: Resources::parse(
            f.get("used_resources")
                .or_else(|| f.get("resources"))
                .unwrap_or(&NULL),
        ),
    }
}

/// Frameworks, v1 or legacy; `task_counts` by framework id when the tasks live elsewhere
/// (v1 GET_STATE).
pub(crate) fn frameworks<'a>(
    caption: &str,
    items: impl Iterator<Item = &'a Value>,
    task_counts: Option<&HashMap<String, usize>>,
) -> Table {
    Table::from_items(
        caption,
        &[
            "id",
            "name",
            "user",
            "role",
            "active",
            "connected",
            "tasks",
            "cpus",
            "mem MB",
            "disk MB",
        ],
        items,
        |f| {
            let r = framework_row(f);
            let tasks = r.tasks.clone().unwrap_or_else(|| match task_counts {
                Some(m) => m.get(&r.id).copied().unwrap_or(0).to_string(),
                None => String::new(),
            });
            vec![
                Cell::new(r.id),
                Cell::new(r.name),
                Cell::new(r.user),
                Cell::new(r.role),
                Cell::flag(r.active),
                Cell::flag(r.connected),
                Cell::new(tasks),
                Cell::new(format_opt(r.resources.cpus)),
                Cell::new(format_opt(r.resources.mem)),
                Cell::new(format_opt(r.resources.disk)),
            ]
        },
    )
}

// ---------------------------------------------------------------- tasks

/// The time of a task's latest status, as a date.
fn last_status_time(statuses: &[TaskStatus]) -> String {
    statuses
        .last()
        .and_then(|s| s.timestamp)
        .map(|t| time(&Value::from(t)))
        .unwrap_or_default()
}

/// Tasks, v1 Task (`task_id`, `agent_id`) or legacy (`id`, `slave_id`).
pub(crate) fn tasks<'a>(items: impl Iterator<Item = &'a Value>) -> Table {
    Table::from_items(
        "tasks",
        &[
            "id",
            "name",
            "framework",
            "agent",
            "state",
            "cpus",
            "mem MB",
            "last status",
        ],
        items,
        |t| {
            if t.get("task_id").is_some() {
                let task: Task = read_lenient(t).unwrap_or_default();
                let res = Resources::from_v1(task.resources);
                return vec![
                    Cell::new(task.task_id.value),
                    Cell::new(task.name),
                    Cell::new(task.framework_id.value),
                    Cell::new(task.agent_id.value),
                    Cell::state(task.state.as_str()),
                    Cell::new(format_opt(res.cpus)),
                    Cell::new(format_opt(res.mem)),
                    Cell::new(last_status_time(&task.statuses)),
                ];
            }
            let res = Resources::parse(t.get("resources").unwrap_or(&NULL));
            let last = t
                .get("statuses")
                .and_then(Value::as_array)
                .and_then(|s| s.last())
                .and_then(|s| s.get("timestamp"))
                .map(time)
                .unwrap_or_default();
            vec![
                Cell::new(field(t, "id")),
                Cell::new(field(t, "name")),
                Cell::new(field(t, "framework_id")),
                Cell::new(field(t, "slave_id")),
                Cell::state(field(t, "state")),
                Cell::new(format_opt(res.cpus)),
                Cell::new(format_opt(res.mem)),
                Cell::new(last),
            ]
        },
    )
}

/// The TASKS helper's latest TaskStatus per task (with the `name` the kernel adds); a
/// `healthy` column when a task's health check has said something.
pub(super) fn task_statuses(items: &[Value]) -> Table {
    let health = items.iter().any(|s| s.get("healthy").is_some());
    let mut columns = vec!["id", "name", "agent", "state"];
    if health {
        columns.push("healthy");
    }
    columns.extend(["message", "updated"]);
    Table::from_items("tasks", &columns, items, |s| {
        let st: TaskStatus = read_lenient(s).unwrap_or_default();
        let name = st.extra.get("name").map(text).unwrap_or_default();
        let mut row = vec![
            Cell::new(st.task_id.value),
            Cell::new(name),
            Cell::new(st.agent_id.map(|a| a.value).unwrap_or_default()),
            Cell::state(st.state.as_str()),
        ];
        if health {
            row.push(Cell::flag(st.healthy));
        }
        row.push(Cell::new(st.message.unwrap_or_default()));
        row.push(Cell::new(
            st.timestamp
                .map(|t| time(&Value::from(t)))
                .unwrap_or_default(),
        ));
        row
    })
}

// ---------------------------------------------------------------- executors

/// A legacy executor (`id`, its tasks, its sandbox `directory`).
pub(super) fn executor_row(e: &Value, framework: Option<&str>, agent: Option<&str>) -> Vec<Cell> {
    let res = Resources::parse(e.get("resources").unwrap_or(&NULL));
    let tasks = ["tasks", "queued_tasks"]
        .iter()
        .filter_map(|k| e.get(*k).and_then(Value::as_array))
        .map(Vec::len)
        .sum::<usize>();
    vec![
        Cell::new(field(e, "id")),
        Cell::new(field(e, "name")),
        Cell::new(
            framework
                .map(str::to_string)
                .unwrap_or_else(|| field(e, "framework_id")),
        ),
        Cell::new(agent.map(str::to_string).unwrap_or_default()),
        Cell::new(if e.get("tasks").is_some() {
            tasks.to_string()
        } else {
            String::new()
        }),
        Cell::new(format_opt(res.cpus)),
        Cell::new(format_opt(res.mem)),
        Cell::new(field(e, "directory")),
    ]
}

pub(super) const EXECUTOR_COLUMNS: [&str; 8] = [
    "id",
    "name",
    "framework",
    "agent",
    "tasks",
    "cpus",
    "mem MB",
    "directory",
];

/// v1 executors: the master's `{executor_info, agent_id}`, an agent's `{executor_info}`.
pub(super) fn v1_executors<'a>(items: impl Iterator<Item = &'a Value>) -> Table {
    Table::from_items("executors", &EXECUTOR_COLUMNS, items, |e| {
        let agent = e
            .get("agent_id")
            .and_then(read_lenient::<crate::mesos::v1::AgentId>)
            .map(|a| a.value)
            .unwrap_or_default();
        let info: ExecutorInfo = e
            .get("executor_info")
            .and_then(read_lenient)
            .unwrap_or_default();
        let res = Resources::from_v1(info.resources);
        vec![
            Cell::new(info.executor_id.value),
            Cell::new(info.name.unwrap_or_default()),
            Cell::new(info.framework_id.map(|f| f.value).unwrap_or_default()),
            Cell::new(agent),
            Cell::new(""),
            Cell::new(format_opt(res.cpus)),
            Cell::new(format_opt(res.mem)),
            Cell::new(""),
        ]
    })
}

// ---------------------------------------------------------------- offers

/// v1 Offers (`agent_id`, resource list) or legacy ones (`slave_id`, resource object).
pub(super) fn offers<'a>(items: impl Iterator<Item = &'a Value>) -> Table {
    Table::from_items(
        "offers",
        &[
            "id",
            "agent",
            "hostname",
            "cpus",
            "mem MB",
            "disk MB",
            "ports",
            "attributes",
        ],
        items,
        |o| {
            let (id, agent, hostname, res, attrs) = if o.get("agent_id").is_some() {
                let offer: Offer = read_lenient(o).unwrap_or_default();
                (
                    offer.id.value,
                    offer.agent_id.value,
                    offer.hostname,
                    Resources::from_v1(offer.resources),
                    attribute_list(&offer.attributes),
                )
            } else {
                (
                    field(o, "id"),
                    field(o, "slave_id"),
                    field(o, "hostname"),
                    Resources::parse(o.get("resources").unwrap_or(&NULL)),
                    attributes(o.get("attributes").unwrap_or(&NULL)),
                )
            };
            vec![
                Cell::new(id),
                Cell::new(agent),
                Cell::new(hostname),
                Cell::new(format_opt(res.cpus)),
                Cell::new(format_opt(res.mem)),
                Cell::new(format_opt(res.disk)),
                Cell::new(res.ports.unwrap_or_default()),
                Cell::new(attrs),
            ]
        },
    )
}

// ---------------------------------------------------------------- roles, metrics, files

/// v1 roles (framework ids and a resource list) or legacy `/roles` ones (framework id
/// strings and a resources object).
pub(super) fn roles(items: &[Value]) -> Table {
    Table::from_items(
        "roles",
        &["name", "weight", "frameworks", "cpus", "mem MB", "disk MB"],
        items,
        |r| {
            let legacy = r.get("resources").is_some_and(Value::is_object)
                || r.get("frameworks")
                    .and_then(Value::as_array)
                    .is_some_and(|f| f.iter().any(Value::is_string));
            let (name, weight, frameworks, res) = if legacy {
                let frameworks = r
                    .get("frameworks")
                    .and_then(Value::as_array)
                    .map(|f| f.iter().map(text).collect::<Vec<_>>())
                    .unwrap_or_default();
                let res = Resources::parse(r.get("resources").unwrap_or(&NULL));
                (field(r, "name"), field(r, "weight"), frameworks, res)
            } else {
                let role: Role = read_lenient(r).unwrap_or_default();
                let frameworks = role.frameworks.into_iter().map(|f| f.value).collect();
                let weight = r.get("weight").map(text).unwrap_or_default();
                (
                    role.name,
                    weight,
                    frameworks,
                    Resources::from_v1(role.resources),
                )
            };
            vec![
                Cell::new(name),
                Cell::new(weight),
                Cell::new(frameworks.join(", ")),
                Cell::new(format_opt(res.cpus)),
                Cell::new(format_opt(res.mem)),
                Cell::new(format_opt(res.disk)),
            ]
        },
    )
}

/// v1 metrics as name/value pairs.
pub(super) fn metric_values(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(read_lenient::<Metric>)
        .map(|m| {
            (
                m.name,
                m.value.map(|v| text(&Value::from(v))).unwrap_or_default(),
            )
        })
        .collect()
}

/// v1 flags as name/value pairs.
pub(super) fn flag_values(items: &[Value]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(read_lenient::<Flag>)
        .map(|f| (f.name, f.value.unwrap_or_default()))
        .collect()
}

/// A JSON object's entries as name/value pairs (legacy metrics and flags).
pub(super) fn object_values(v: &Value) -> Option<Vec<(String, String)>> {
    Some(
        v.as_object()?
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect(),
    )
}

/// A name/value table sorted by name (metrics, flags).
pub(super) fn metrics(mut pairs: Vec<(String, String)>, caption: &str) -> Table {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut t = Table::new(caption, &["name", "value"]);
    for (name, value) in pairs {
        t.push_with(|| vec![Cell::new(name), Cell::new(value)]);
    }
    t
}

/// An object's entries as name/value rows, in their order.
pub(super) fn key_values(caption: &str, v: &Value) -> Table {
    let pairs = v
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), Cell::new(text(v))))
                .collect()
        })
        .unwrap_or_default();
    Table::key_values(caption, pairs)
}

/// v1 file listings (`FileInfo`: a mode number, `mtime` a TimeInfo) or legacy ones (a mode
/// string, `mtime` in seconds).
pub(super) fn files(items: &[Value]) -> Table {
    Table::from_items(
        "files",
        &["mode", "nlink", "uid", "gid", "size", "mtime", "path"],
        items,
        |f| {
            if f.get("mode").is_some_and(Value::is_number)
                || f.get("mtime").is_some_and(Value::is_object)
            {
                let info: FileInfo = read_lenient(f).unwrap_or_default();
                let opt = |v: Option<String>| v.unwrap_or_default();
                return vec![
                    Cell::new(
                        info.mode
                            .map(|m| file_mode(&Value::from(m)))
                            .unwrap_or_default(),
                    ),
                    Cell::new(opt(info.nlink.map(|n| n.to_string()))),
                    Cell::new(opt(info.uid)),
                    Cell::new(opt(info.gid)),
                    Cell::new(opt(info.size.map(|n| n.to_string()))),
                    Cell::new(opt(info.mtime.map(|t| time(&Value::from(t.as_secs()))))),
                    Cell::new(info.path),
                ];
            }
            vec![
                Cell::new(f.get("mode").map(file_mode).unwrap_or_default()),
                Cell::new(field(f, "nlink")),
                Cell::new(field(f, "uid")),
                Cell::new(field(f, "gid")),
                Cell::new(field(f, "size")),
                Cell::new(f.get("mtime").map(time).unwrap_or_default()),
                Cell::new(field(f, "path")),
            ]
        },
    )
}
