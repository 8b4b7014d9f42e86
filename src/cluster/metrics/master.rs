//! The master's metrics: those of `src/master/metrics.cpp` (Mesos 1.11), of its allocator
//! (`src/master/allocator/mesos/metrics.cpp`, the DRF role sorter's dominant shares), of
//! its registrar (`src/master/registrar.cpp`) and of libprocess (`system/*`), by name.
//! Per-framework metrics are Mesos's `master/frameworks/<name>/<id>/...`
//! (`--publish_per_framework_metrics` is on by default).

use super::{encode, share, system, Metrics};
use crate::cluster::resources::Resources;
use crate::cluster::state::{now_secs, Framework, Master, Task};
use crate::mesos::v1::offer::OperationType;
use crate::mesos::v1::scheduler::CallType;
use crate::mesos::v1::TaskState;
use std::collections::BTreeMap;

/// Task states, terminal or not (the metrics name them in lower case).
fn task_states(terminal: bool) -> impl Iterator<Item = &'static str> {
    TaskState::ALL
        .iter()
        .filter(move |s| s.is_terminal() == terminal)
        .map(TaskState::as_str)
}

/// Scheduler calls, for the per-framework counters.
fn call_types() -> impl Iterator<Item = &'static str> {
    CallType::ALL
        .iter()
        .filter(|c| **c != CallType::Unknown)
        .map(CallType::as_str)
}

/// Offer operations, for the counters by operation.
pub fn operation_types() -> impl Iterator<Item = &'static str> {
    OperationType::ALL
        .iter()
        .filter(|o| **o != OperationType::Unknown)
        .map(OperationType::as_str)
}

/// Counters of messages the master handles, and of agents coming and going: zero until
/// counted (`Counters::count`).
const COUNTERS: &[&str] = &[
    "master/dropped_messages",
    "master/http_cache_hits",
    "master/invalid_executor_to_framework_messages",
    "master/invalid_framework_to_executor_messages",
    "master/invalid_operation_status_update_acknowledgements",
    "master/invalid_operation_status_updates",
    "master/invalid_status_updates",
    "master/messages_authenticate",
    "master/messages_deactivate_framework",
    "master/messages_decline_offers",
    "master/messages_executor_to_framework",
    "master/messages_exited_executor",
    "master/messages_framework_to_executor",
    "master/messages_kill_task",
    "master/messages_launch_tasks",
    "master/messages_operation_status_update",
    "master/messages_operation_status_update_acknowledgement",
    "master/messages_reconcile_operations",
    "master/messages_reconcile_tasks",
    "master/messages_register_framework",
    "master/messages_register_slave",
    "master/messages_reregister_framework",
    "master/messages_reregister_slave",
    "master/messages_resource_request",
    "master/messages_revive_offers",
    "master/messages_status_update",
    "master/messages_status_update_acknowledgement",
    "master/messages_suppress_offers",
    "master/messages_unregister_framework",
    "master/messages_unregister_slave",
    "master/messages_update_slave",
    "master/recovery_slave_removals",
    "master/slave_registrations",
    "master/slave_removals/reason_registered",
    "master/slave_removals/reason_unregistered",
    "master/slave_reregistrations",
    "master/slave_shutdowns_canceled",
    "master/slave_shutdowns_completed",
    "master/slave_shutdowns_scheduled",
    "master/slave_unreachable_canceled",
    "master/valid_executor_to_framework_messages",
    "master/valid_framework_to_executor_messages",
    "master/valid_operation_status_update_acknowledgements",
    "master/valid_operation_status_updates",
    "master/valid_status_updates",
];

/// The master's metrics; `elected` is false on a standby.
pub fn master(m: &Master, elected: bool) -> Metrics {
    let mut out = Metrics::new();
    let c = &m.counters;
    let put = |out: &mut Metrics, k: &str, v: f64| {
        out.insert(k.to_string(), v);
    };
    put(
        &mut out,
        "master/uptime_secs",
        (now_secs() - m.settings.start_time).max(0.0),
    );
    put(&mut out, "master/elected", f64::from(u8::from(elected)));

    // Agents.
    // A crashed or partitioned agent keeps its connection (it stops answering): connected
    // until removed; a restarting one is disconnected until it re-registers.
    let disconnected = m.agents.iter().filter(|a| a.disconnected).count();
    put(
        &mut out,
        "master/slaves_connected",
        (m.agents.len() - disconnected) as f64,
    );
    put(&mut out, "master/slaves_disconnected", disconnected as f64);
    put(
        &mut out,
        "master/slaves_active",
        m.agents.iter().filter(|a| a.active).count() as f64,
    );
    put(
        &mut out,
        "master/slaves_inactive",
        m.agents.iter().filter(|a| !a.active).count() as f64,
    );
    put(
        &mut out,
        "master/slaves_unreachable",
        m.unreachable_agents.len() as f64,
    );

    // Frameworks.
    let fws = &m.frameworks;
    put(
        &mut out,
        "master/frameworks_connected",
        fws.iter().filter(|f| f.connected()).count() as f64,
    );
    put(
        &mut out,
        "master/frameworks_disconnected",
        fws.iter().filter(|f| !f.connected()).count() as f64,
    );
    put(
        &mut out,
        "master/frameworks_active",
        fws.iter().filter(|f| f.active).count() as f64,
    );
    put(
        &mut out,
        "master/frameworks_inactive",
        fws.iter().filter(|f| !f.active).count() as f64,
    );
    put(&mut out, "master/outstanding_offers", m.offers.len() as f64);
    put(
        &mut out,
        "master/operator_event_stream_subscribers",
        m.operator_subscribers() as f64,
    );

    // Tasks: gauges of the live states, counters of the terminal ones.
    let live = |state: &str| {
        m.frameworks
            .iter()
            .flat_map(|f| f.tasks.iter().chain(f.unreachable_tasks.iter()))
            .filter(|t| t.state == state)
            .count() as f64
    };
    for state in [
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_KILLING",
        "TASK_UNREACHABLE",
    ] {
        put(
            &mut out,
            &format!("master/{}", lower_task(state)),
            live(state),
        );
    }
    put(&mut out, "master/tasks_finished", c.tasks_finished as f64);
    put(&mut out, "master/tasks_failed", c.tasks_failed as f64);
    put(&mut out, "master/tasks_killed", c.tasks_killed as f64);
    put(&mut out, "master/tasks_lost", c.tasks_lost as f64);
    put(&mut out, "master/tasks_error", c.tasks_error as f64);
    put(&mut out, "master/tasks_dropped", c.tasks_dropped as f64);
    put(&mut out, "master/tasks_gone", c.tasks_gone as f64);
    put(
        &mut out,
        "master/tasks_gone_by_operator",
        c.tasks_gone_by_operator as f64,
    );
    // `master/<state>/<source>/<reason>`, one per terminal update seen.
    for (name, n) in &c.task_states {
        put(&mut out, name, *n as f64);
    }

    // Messages and agent lifecycle counters.
    for name in COUNTERS {
        put(&mut out, name, c.count_of(name) as f64);
    }
    put(&mut out, "master/slave_removals", c.slave_removals as f64);
    put(
        &mut out,
        "master/slave_removals/reason_unhealthy",
        c.slave_removals_reason_unhealthy as f64,
    );
    put(
        &mut out,
        "master/slave_unreachable_scheduled",
        c.slave_unreachable_scheduled as f64,
    );
    put(
        &mut out,
        "master/slave_unreachable_completed",
        c.slave_unreachable_completed as f64,
    );
    put(
        &mut out,
        "master/valid_status_update_acknowledgements",
        c.valid_acknowledgements as f64,
    );
    put(
        &mut out,
        "master/invalid_status_update_acknowledgements",
        c.invalid_acknowledgements as f64,
    );
    // Every call is handled as it arrives: the master's event queue is always empty.
    put(&mut out, "master/event_queue_dispatches", 0.0);
    put(&mut out, "master/event_queue_http_requests", 0.0);
    put(&mut out, "master/event_queue_messages", 0.0);

    // Resources (revocable resources do not exist here).
    let total = m
        .agents
        .iter()
        .fold(Resources::default(), |acc, a| acc.plus(&a.total));
    let used = m
        .agents
        .iter()
        .fold(Resources::default(), |acc, a| acc.plus(&a.used));
    let offered = m
        .offers
        .iter()
        .fold(Resources::default(), |acc, o| acc.plus(&o.resources));
    for (name, t, u) in [
        ("cpus", total.cpus(), used.cpus()),
        ("gpus", total.gpus(), used.gpus()),
        ("mem", total.mem(), used.mem()),
        ("disk", total.disk(), used.disk()),
    ] {
        put(&mut out, &format!("master/{name}_total"), t);
        put(&mut out, &format!("master/{name}_used"), u);
        put(&mut out, &format!("master/{name}_percent"), share(u, t));
        put(&mut out, &format!("master/{name}_revocable_total"), 0.0);
        put(&mut out, &format!("master/{name}_revocable_used"), 0.0);
        put(&mut out, &format!("master/{name}_revocable_percent"), 0.0);
    }

    // Offer operations by state (LAUNCH and LAUNCH_GROUP are not counted as operations
    // in Mesos): those finished or dropped with an error, counted as they happen
    // (`state/operations.rs`); `total` is the operations the master keeps.
    for prefix in std::iter::once(String::new()).chain(
        operation_types()
            .filter(|t| !t.starts_with("LAUNCH"))
            .map(|t| format!("{}/", t.to_ascii_lowercase())),
    ) {
        for state in [
            "total",
            "pending",
            "recovering",
            "unreachable",
            "finished",
            "failed",
            "error",
            "dropped",
            "gone_by_operator",
        ] {
            let name = format!("master/operations/{prefix}{state}");
            let value = if prefix.is_empty() && state == "total" {
                m.operations.len() as f64
            } else {
                m.counters.count_of(&name) as f64
            };
            put(&mut out, &name, value);
        }
    }

    allocator(m, &total, &used, &offered, &mut out);
    registrar(m, &mut out);
    for f in &m.frameworks {
        framework(f, &mut out);
    }
    system(&mut out);
    out
}

/// `TASK_STAGING` -> `tasks_staging`.
fn lower_task(state: &str) -> String {
    format!(
        "tasks_{}",
        state.trim_start_matches("TASK_").to_ascii_lowercase()
    )
}

/// The allocator's metrics: its runs, what it manages, each role's dominant share and
/// active offer filters.
fn allocator(
    m: &Master,
    total: &Resources,
    used: &Resources,
    offered: &Resources,
    out: &mut Metrics,
) {
    let c = &m.counters;
    out.insert("allocator/event_queue_dispatches".into(), 0.0);
    out.insert("allocator/mesos/event_queue_dispatches".into(), 0.0);
    out.insert(
        "allocator/mesos/allocation_runs".into(),
        c.allocation_runs as f64,
    );
    c.allocation_run
        .write("allocator/mesos/allocation_run", out);
    c.allocation_run_latency
        .write("allocator/mesos/allocation_run_latency", out);
    let held = used.plus(offered);
    for (name, t, h) in [
        ("cpus", total.cpus(), held.cpus()),
        ("mem", total.mem(), held.mem()),
        ("disk", total.disk(), held.disk()),
    ] {
        out.insert(format!("allocator/mesos/resources/{name}/total"), t);
        out.insert(
            format!("allocator/mesos/resources/{name}/offered_or_allocated"),
            h,
        );
    }
    // Roles with frameworks: what their frameworks hold, over the cluster's total, in the
    // resource where that share is largest (DRF's dominant share).
    let mut roles: BTreeMap<String, (Resources, usize)> = BTreeMap::new();
    for f in &m.frameworks {
        for role in f.roles() {
            let entry = roles.entry(role).or_default();
            entry.1 += f.active_filters();
        }
        // A framework's resources count for the role they were allocated to.
        let role = f.roles().into_iter().next().unwrap_or_else(|| "*".into());
        let entry = roles.entry(role).or_default();
        entry.0 = entry.0.plus(&f.used_resources()).plus(&m.offered_to(&f.id));
    }
    for (role, (held, filters)) in roles {
        let dominant = [
            share(held.cpus(), total.cpus()),
            share(held.mem(), total.mem()),
            share(held.disk(), total.disk()),
            share(held.gpus(), total.gpus()),
        ]
        .into_iter()
        .fold(0.0, f64::max);
        out.insert(
            format!("allocator/mesos/roles/{role}/shares/dominant"),
            dominant,
        );
        out.insert(
            format!("allocator/mesos/offer_filters/roles/{role}/active"),
            filters as f64,
        );
    }
}

/// The registrar's metrics: its in-memory registry's size and the time its operations took.
fn registrar(m: &Master, out: &mut Metrics) {
    let c = &m.counters;
    out.insert("registrar/queued_operations".into(), 0.0);
    out.insert(
        "registrar/registry_size_bytes".into(),
        m.registry_size() as f64,
    );
    c.registry_fetch.write("registrar/state_fetch", out);
    c.registry_store.write("registrar/state_store", out);
}

/// `master/frameworks/<name>/<id>/...` of one framework.
fn framework(f: &Framework, out: &mut Metrics) {
    let name = f
        .info
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    let prefix = format!("master/frameworks/{}/{}/", encode(name), f.id);
    let mut put = |k: &str, v: f64| {
        out.insert(format!("{prefix}{k}"), v);
    };
    put("subscribed", f64::from(u8::from(f.connected())));
    let count = |k: &str| f.counts.get(k).unwrap_or(0) as f64;
    let calls: f64 = call_types()
        .map(|t| count(&format!("calls/{}", t.to_ascii_lowercase())))
        .sum();
    put("calls", calls);
    for t in call_types() {
        let k = format!("calls/{}", t.to_ascii_lowercase());
        put(&k, count(&k));
    }
    let events = f.events.snapshot();
    put("events", events.iter().map(|(_, n)| *n as f64).sum());
    for (t, n) in events {
        put(&format!("events/{}", t.to_ascii_lowercase()), n as f64);
    }
    for k in [
        "offers/sent",
        "offers/accepted",
        "offers/declined",
        "offers/rescinded",
    ] {
        put(k, count(k));
    }
    // The live states only: its completed tasks are all over.
    let all: Vec<&Task> = f.tasks.iter().chain(f.unreachable_tasks.iter()).collect();
    for state in task_states(false) {
        let n = all.iter().filter(|t| t.state == state).count();
        put(
            &format!("tasks/active/{}", state.to_ascii_lowercase()),
            n as f64,
        );
    }
    for state in task_states(true) {
        let k = format!("tasks/terminal/{}", state.to_ascii_lowercase());
        put(&k, count(&k));
    }
    let operations: f64 = operation_types()
        .map(|t| count(&format!("operations/{}", t.to_ascii_lowercase())))
        .sum();
    put("operations", operations);
    for t in operation_types() {
        let k = format!("operations/{}", t.to_ascii_lowercase());
        put(&k, count(&k));
    }
    // The allocator's per-role gauge of each role the framework subscribed to.
    for role in f.roles() {
        put(
            &format!("roles/{role}/suppressed"),
            f64::from(u8::from(f.is_suppressed(&role))),
        );
    }
}
