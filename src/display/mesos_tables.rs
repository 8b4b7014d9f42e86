//! Which Mesos shape a result has, and its tables: agents, frameworks, tasks, executors,
//! offers, roles, state summaries, metrics, flags, version, health and file listings, from
//! v1 operator responses (which name themselves by "type"), legacy endpoints, and the
//! kernel's own TASKS / OFFERS helper results.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

pub use super::mesos_rows::{agent_summary, AgentSummary};
pub(crate) use super::mesos_rows::{agents, frameworks, tasks};
use super::mesos_rows::{
    executor_row, files, flag_values, key_values, metric_values, metrics, object_values, offers,
    roles, task_statuses, v1_executors, EXECUTOR_COLUMNS,
};
use super::resources::{
    attributes, field, flag, format_number, format_opt, number, text, Resources,
};
use super::table::{Cell, Table, Tone};
use crate::mesos::v1::operator::GetHealth;
use crate::mesos::v1::TaskState;
use serde::Deserialize;

static NULL: Value = Value::Null;

/// The tables of a result whose shape is known, or None.
pub fn tables(value: &Value, hint: Option<&str>) -> Option<Vec<Table>> {
    // v1 responses and events name themselves: {"type": "GET_AGENTS", "get_agents": {...}}.
    if let Some(kind) = value.get("type").and_then(Value::as_str) {
        let payload = value.get(kind.to_ascii_lowercase()).unwrap_or(&NULL);
        if let Some(tables) = v1_tables(kind, payload, true) {
            return Some(tables);
        }
    }
    if let Some(tables) = hint.and_then(|h| hinted_tables(value, &normalize_hint(h))) {
        return Some(tables);
    }
    // No hint, or one that does not fit the value: the shape may still say what it is.
    hinted_tables(value, detect(value)?)
}

fn hinted_tables(value: &Value, hint: &str) -> Option<Vec<Table>> {
    if hint.starts_with('/') {
        return legacy_tables(hint, value);
    }
    match hint {
        "TASKS" => Some(vec![task_statuses(value.as_array()?)]),
        "OFFERS" => Some(vec![offers(value.as_array()?.iter())]),
        // Lists picked out of a state, e.g. `$state.slaves` or `.get_agents.agents`.
        "AGENTS" => Some(vec![agents(value.as_array()?.iter())]),
        "FRAMEWORKS" => Some(vec![frameworks(
            "frameworks",
            value.as_array()?.iter(),
            None,
        )]),
        "TASK_LIST" => Some(vec![tasks(value.as_array()?.iter())]),
        call => {
            // A v1 call's hint on a value without "type": the payload, or the whole value.
            let payload = value.get(call.to_ascii_lowercase()).unwrap_or(value);
            v1_tables(call, payload, false)
        }
    }
}

/// Call names in capitals; paths reduced to their endpoint: "http://m:5050/master/state.json?x"
/// -> "/state", "/slave(1)/flags/" -> "/flags".
pub fn normalize_hint(hint: &str) -> String {
    let h = hint.trim();
    let path = match h.find("://") {
        Some(i) => match h[i + 3..].find('/') {
            Some(j) => &h[i + 3 + j..],
            None => "/",
        },
        None if h.starts_with('/') => h,
        None => return h.to_ascii_uppercase(),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let path = path.strip_suffix(".json").unwrap_or(path);
    for prefix in ["/master", "/slave(1)", "/agent"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            if rest.starts_with('/') {
                return rest.to_string();
            }
        }
    }
    path.to_string()
}

/// Recognises legacy shapes when nothing says what produced the value.
fn detect(value: &Value) -> Option<&'static str> {
    match value {
        Value::Object(map) => {
            let has = |k: &str| map.get(k).is_some_and(Value::is_array);
            if has("slaves") && map.contains_key("cluster") && !map.contains_key("version") {
                Some("/state-summary")
            } else if (has("slaves") && has("frameworks"))
                || (has("frameworks") && map.contains_key("master_hostname"))
            {
                Some("/state")
            } else {
                None
            }
        }
        Value::Array(items) => {
            let first = items.first()?.as_object()?;
            let has = |k: &str| first.contains_key(k);
            let task_like = (has("task_id") || has("slave_id")) && has("state");
            if has("path") && has("mode") && has("size") {
                Some("/files/browse")
            } else if has("agent_info") || (has("used_resources") && has("attributes")) {
                // Legacy slaves always carry attributes (maybe {}); frameworks never do.
                Some("AGENTS")
            } else if has("framework_info")
                || (has("used_resources") && (has("user") || has("slave_ids")))
            {
                Some("FRAMEWORKS")
            } else if task_like && (has("resources") || has("statuses")) {
                Some("TASK_LIST")
            } else if task_like {
                Some("TASKS")
            } else if has("id") && has("agent_id") && has("resources") && has("framework_id") {
                Some("OFFERS")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The array at `key`; a missing or null one counts as empty only when `lenient` (a v1
/// response that named itself omits empty lists).
fn list<'a>(payload: &'a Value, key: &str, lenient: bool) -> Option<&'a [Value]> {
    match payload.get(key) {
        Some(Value::Array(items)) => Some(items),
        Some(Value::Null) | None if lenient => Some(&[]),
        _ => None,
    }
}

/// Like `list`, but missing is always empty: for the secondary lists of a known shape.
fn extra<'a>(payload: &'a Value, key: &str) -> &'a [Value] {
    payload
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn v1_tables(kind: &str, p: &Value, lenient: bool) -> Option<Vec<Table>> {
    let tables = match kind {
        "GET_AGENTS" => {
            let list = list(p, "agents", lenient)?;
            let mut t = vec![agents(list.iter())];
            t.extend(super::tenancy_tables::reservations(list));
            t
        }
        "GET_WEIGHTS" => vec![super::tenancy_tables::weights(list(
            p,
            "weight_infos",
            true,
        )?)],
        "GET_QUOTA" => vec![super::tenancy_tables::quota(p.get("status")?)],
        "GET_OPERATIONS" => vec![super::tenancy_tables::operations(list(
            p,
            "operations",
            true,
        )?)],
        "GET_FRAMEWORKS" => frameworks_and_completed(p, lenient)?,
        "GET_TASKS" => {
            if !lenient
                && !["tasks", "launched_tasks"]
                    .iter()
                    .any(|k| list(p, k, false).is_some())
            {
                return None;
            }
            vec![tasks(v1_task_lists(p))]
        }
        "GET_EXECUTORS" => {
            let all = list(p, "executors", lenient)?
                .iter()
                .chain(extra(p, "orphan_executors"))
                .chain(extra(p, "completed_executors"));
            vec![v1_executors(all)]
        }
        "GET_STATE" => {
            if !p.is_object() && !lenient {
                return None;
            }
            v1_state(p)
        }
        "GET_ROLES" => vec![roles(list(p, "roles", lenient)?)],
        "GET_METRICS" => vec![metrics(
            metric_values(list(p, "metrics", lenient)?),
            "metrics",
        )],
        "GET_FLAGS" => vec![metrics(flag_values(list(p, "flags", lenient)?), "flags")],
        "GET_VERSION" => vec![key_values("version", p.get("version_info")?)],
        "GET_HEALTH" => {
            let healthy = GetHealth::deserialize(p).ok().map(|h| h.healthy);
            if healthy.is_none() && !lenient {
                return None;
            }
            vec![health(healthy.or(Some(false)))]
        }
        "LIST_FILES" => vec![files(list(p, "file_infos", lenient)?)],
        // The scheduler event {"type": "OFFERS", "offers": {"offers": [...]}}.
        "OFFERS" => vec![offers(list(p, "offers", lenient)?.iter())],
        _ => return None,
    };
    Some(tables)
}

fn legacy_tables(path: &str, v: &Value) -> Option<Vec<Table>> {
    let tables = match path {
        "/state" if v.get("slaves").is_some_and(Value::is_array) => legacy_master_state(v),
        "/state" if v.get("frameworks").is_some_and(Value::is_array) => legacy_agent_state(v),
        "/slaves" => vec![agents(list(v, "slaves", false)?.iter())],
        "/frameworks" => frameworks_and_completed(v, false)?,
        "/tasks" => vec![tasks(list(v, "tasks", false)?.iter())],
        "/state-summary" if v.get("slaves").is_some_and(Value::is_array) => legacy_summary(v),
        "/metrics/snapshot" => vec![metrics(object_values(v)?, "metrics")],
        "/flags" => vec![metrics(object_values(v.get("flags")?)?, "flags")],
        "/version" if v.is_object() => vec![key_values("version", v)],
        // `/health` answers 200 with an empty body: reaching here means healthy.
        "/health" => match v {
            Value::Object(_) => vec![key_values("health", v)],
            Value::Null => vec![health(Some(true))],
            Value::String(s) if s.trim().is_empty() => vec![health(Some(true))],
            _ => return None,
        },
        "/files/browse" => vec![files(v.as_array()?)],
        "/roles" => vec![roles(list(v, "roles", false)?)],
        "/weights" if v.is_array() => vec![super::tenancy_tables::weights(v.as_array()?)],
        "/quota" if v.is_object() => vec![super::tenancy_tables::quota(v)],
        _ => return None,
    };
    Some(tables)
}

fn health(healthy: Option<bool>) -> Table {
    Table::key_values("health", vec![("healthy".into(), Cell::flag(healthy))])
}

/// `frameworks`, and `completed_frameworks` below when there are any.
fn frameworks_and_completed(p: &Value, lenient: bool) -> Option<Vec<Table>> {
    let mut t = vec![frameworks(
        "frameworks",
        list(p, "frameworks", lenient)?.iter(),
        None,
    )];
    let completed = extra(p, "completed_frameworks");
    if !completed.is_empty() {
        t.push(frameworks("completed frameworks", completed.iter(), None));
    }
    Some(t)
}

// ---------------------------------------------------------------- agents

/// The agents of a GET_AGENTS or GET_STATE response, of a legacy master state, or a list
/// of agents itself (`$agents`).
pub fn agents_of(value: &Value) -> Option<&[Value]> {
    if let Value::Array(items) = value {
        return Some(items);
    }
    let p = match value.get("type").and_then(Value::as_str) {
        Some("GET_AGENTS") => value.get("get_agents").unwrap_or(&NULL),
        Some("GET_STATE") => value
            .get("get_state")
            .and_then(|s| s.get("get_agents"))
            .unwrap_or(&NULL),
        _ => {
            if let Some(slaves) = value.get("slaves").and_then(Value::as_array) {
                return Some(slaves);
            }
            return value
                .get("agents")
                .and_then(Value::as_array)
                .map(Vec::as_slice);
        }
    };
    list(p, "agents", true)
}

// ---------------------------------------------------------------- tasks

fn v1_task_lists(p: &Value) -> impl Iterator<Item = &Value> {
    // The master's lists, then the agent's (queued, launched, terminated).
    [
        "pending_tasks",
        "tasks",
        "unreachable_tasks",
        "orphan_tasks",
        "queued_tasks",
        "launched_tasks",
        "terminated_tasks",
        "completed_tasks",
    ]
    .into_iter()
    .flat_map(move |k| extra(p, k).iter())
}

fn first_field(v: &Value, keys: &[&str]) -> String {
    keys.iter()
        .find_map(|k| v.get(*k).filter(|x| !x.is_null()).map(text))
        .unwrap_or_default()
}

/// Counts by state, in the order Mesos lists the states, as key/value rows.
pub(crate) fn state_rows(counts: HashMap<String, f64>) -> Vec<(String, Cell)> {
    let mut ordered: BTreeMap<(usize, String), f64> = BTreeMap::new();
    for (state, n) in counts {
        let known = TaskState::from_name(&state);
        let rank = TaskState::ALL
            .iter()
            .position(|s| *s == known)
            .unwrap_or(TaskState::ALL.len());
        ordered.insert((rank, state), n);
    }
    ordered
        .into_iter()
        .map(|((_, state), n)| {
            let tone = Tone::of_state(&state);
            (
                format!("tasks {state}"),
                Cell::toned(format_number(n), tone),
            )
        })
        .collect()
}

pub(crate) fn count_states<'a>(tasks: impl Iterator<Item = &'a Value>) -> HashMap<String, f64> {
    let mut counts = HashMap::new();
    for t in tasks {
        let state = t.get("state").and_then(Value::as_str).unwrap_or("unknown");
        *counts.entry(state.to_string()).or_insert(0.0) += 1.0;
    }
    counts
}

// ---------------------------------------------------------------- whole states

fn count_cell(items: &[Value], key: &str) -> String {
    let n = items.len();
    let on = items.iter().filter(|i| flag(i, key) == Some(true)).count();
    format!("{n} ({on} {key})")
}

/// v1 GET_STATE: a summary, then agents, frameworks (with their live task counts) and
/// tasks. An agent's GET_STATE has no `get_agents`: its executors are shown instead.
fn v1_state(p: &Value) -> Vec<Table> {
    let get_tasks = p.get("get_tasks").unwrap_or(&NULL);
    let get_agents = p.get("get_agents");
    let get_frameworks = p.get("get_frameworks").unwrap_or(&NULL);
    let framework_list = extra(get_frameworks, "frameworks");

    let mut per_framework: HashMap<String, usize> = HashMap::new();
    for t in ["tasks", "pending_tasks", "queued_tasks", "launched_tasks"]
        .iter()
        .flat_map(|k| extra(get_tasks, k))
    {
        *per_framework.entry(field(t, "framework_id")).or_insert(0) += 1;
    }
    let mut summary = Vec::new();
    if let Some(a) = get_agents {
        let agent_list = extra(a, "agents");
        summary.push((
            "agents".to_string(),
            Cell::new(count_cell(agent_list, "active")),
        ));
    }
    summary.push((
        "frameworks".to_string(),
        Cell::new(count_cell(framework_list, "connected")),
    ));
    let completed = extra(get_frameworks, "completed_frameworks").len();
    summary.push((
        "completed frameworks".to_string(),
        Cell::new(completed.to_string()),
    ));
    summary.extend(state_rows(count_states(v1_task_lists(get_tasks))));

    let mut out = vec![Table::key_values("cluster state", summary)];
    match get_agents {
        Some(a) => out.push(agents(extra(a, "agents").iter())),
        None => {
            let e = p.get("get_executors").unwrap_or(&NULL);
            if e.is_object() {
                out[0].caption = "agent state".to_string();
                let all = extra(e, "executors")
                    .iter()
                    .chain(extra(e, "completed_executors"));
                out.push(v1_executors(all));
            }
        }
    }
    out.push(frameworks(
        "frameworks",
        framework_list.iter(),
        Some(&per_framework),
    ));
    out.push(tasks(v1_task_lists(get_tasks)));
    out
}

fn legacy_master_tasks(v: &Value) -> impl Iterator<Item = &Value> {
    extra(v, "frameworks")
        .iter()
        .flat_map(|f| extra(f, "tasks").iter().chain(extra(f, "completed_tasks")))
        .chain(extra(v, "orphan_tasks"))
}

/// Legacy `/master/state`: a summary, then agents, frameworks and tasks.
fn legacy_master_state(v: &Value) -> Vec<Table> {
    let slaves = extra(v, "slaves");
    let fws = extra(v, "frameworks");
    let mut summary: Vec<(String, Cell)> = Vec::new();
    for (label, key) in [("version", "version"), ("hostname", "hostname")] {
        summary.push((label.into(), Cell::new(field(v, key))));
    }
    summary.push((
        "leader".into(),
        Cell::new(first_field(v, &["leader", "pid"])),
    ));
    if let Some(c) = v.get("cluster") {
        summary.push(("cluster".into(), Cell::new(text(c))));
    }
    let active = match v.get("activated_slaves").and_then(number) {
        Some(n) => format_number(n),
        None => slaves
            .iter()
            .filter(|s| flag(s, "active") == Some(true))
            .count()
            .to_string(),
    };
    summary.push(("agents active".into(), Cell::new(active)));
    summary.push(("agents".into(), Cell::new(slaves.len().to_string())));
    summary.push(("frameworks".into(), Cell::new(count_cell(fws, "connected"))));
    summary.extend(state_rows(count_states(legacy_master_tasks(v))));
    vec![
        Table::key_values("cluster state", summary),
        agents(slaves.iter()),
        frameworks("frameworks", fws.iter(), None),
        tasks(legacy_master_tasks(v)),
    ]
}

/// Legacy `/master/state-summary`: counts by state live on agents and frameworks.
fn legacy_summary(v: &Value) -> Vec<Table> {
    let slaves = extra(v, "slaves");
    let fws = extra(v, "frameworks");
    let mut counts: HashMap<String, f64> = HashMap::new();
    for f in fws {
        if let Some(map) = f.as_object() {
            for (k, n) in map {
                if let (true, Some(n)) = (TaskState::from_name(k).is_known(), number(n)) {
                    *counts.entry(k.clone()).or_insert(0.0) += n;
                }
            }
        }
    }
    counts.retain(|_, n| *n > 0.0);
    let mut summary = vec![
        ("hostname".to_string(), Cell::new(field(v, "hostname"))),
        ("cluster".to_string(), Cell::new(field(v, "cluster"))),
        (
            "agents".to_string(),
            Cell::new(count_cell(slaves, "active")),
        ),
        (
            "frameworks".to_string(),
            Cell::new(count_cell(fws, "active")),
        ),
    ];
    summary.extend(state_rows(counts));
    vec![
        Table::key_values("cluster summary", summary),
        agents(slaves.iter()),
        frameworks("frameworks", fws.iter(), None),
    ]
}

/// An agent's legacy `/state`: a summary, its frameworks and their executors.
fn legacy_agent_state(v: &Value) -> Vec<Table> {
    let fws = extra(v, "frameworks");
    let res = Resources::parse(v.get("resources").unwrap_or(&NULL));
    let executor_count: usize = fws.iter().map(|f| extra(f, "executors").len()).sum();
    let summary = vec![
        ("version".to_string(), Cell::new(field(v, "version"))),
        ("id".to_string(), Cell::new(field(v, "id"))),
        ("hostname".to_string(), Cell::new(field(v, "hostname"))),
        ("master".to_string(), Cell::new(field(v, "master_hostname"))),
        ("cpus".to_string(), Cell::new(format_opt(res.cpus))),
        ("mem MB".to_string(), Cell::new(format_opt(res.mem))),
        ("disk MB".to_string(), Cell::new(format_opt(res.disk))),
        (
            "ports".to_string(),
            Cell::new(res.ports.unwrap_or_default()),
        ),
        (
            "attributes".to_string(),
            Cell::new(attributes(v.get("attributes").unwrap_or(&NULL))),
        ),
        ("frameworks".to_string(), Cell::new(fws.len().to_string())),
        (
            "executors".to_string(),
            Cell::new(executor_count.to_string()),
        ),
    ];
    let agent_id = field(v, "id");
    let mut executors = Table::new("executors", &EXECUTOR_COLUMNS);
    for f in fws {
        let fid = field(f, "id");
        for e in extra(f, "executors") {
            executors.push_with(|| executor_row(e, Some(&fid), Some(&agent_id)));
        }
    }
    vec![
        Table::key_values("agent state", summary),
        frameworks("frameworks", fws.iter(), None),
        executors,
    ]
}
