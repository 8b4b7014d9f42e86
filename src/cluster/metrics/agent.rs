//! An agent's metrics: those of `src/slave/metrics.cpp` (Mesos 1.11), of the fetcher,
//! the Mesos containerizer and its provisioner, and the sandbox garbage collector that an
//! agent with the cluster's flags creates, and libprocess's `system/*`.

use super::{share, system, Metrics};
use crate::cluster::state::{now_secs, Agent, Master, Task};
use std::collections::HashSet;

/// Counters of the agent, zero until counted (`Agent::count`).
const COUNTERS: &[&str] = &[
    "containerizer/fetcher/task_fetches_failed",
    "containerizer/fetcher/task_fetches_succeeded",
    "containerizer/mesos/container_destroy_errors",
    "containerizer/mesos/provisioner/remove_container_errors",
    "gc/path_removals_failed",
    "gc/path_removals_succeeded",
    "slave/container_launch_errors",
    "slave/executors_preempted",
    "slave/executors_terminated",
    "slave/invalid_framework_messages",
    "slave/invalid_status_updates",
    "slave/recovery_errors",
    "slave/tasks_failed",
    "slave/tasks_finished",
    "slave/tasks_gone",
    "slave/tasks_killed",
    "slave/tasks_lost",
    "slave/valid_framework_messages",
    "slave/valid_status_updates",
];

pub fn agent(m: &Master, a: &Agent) -> Metrics {
    let mut out = Metrics::new();
    let mut put = |k: &str, v: f64| {
        out.insert(k.to_string(), v);
    };
    put("slave/uptime_secs", (now_secs() - a.started_time).max(0.0));
    // An agent behind a partition answers its own endpoints; once the master has marked it
    // unreachable it has missed as many pings and is not registered either.
    put(
        "slave/registered",
        f64::from(u8::from(m.agent(&a.id).is_some())),
    );
    // It recovers (what it checkpointed, after a restart) as soon as its process starts.
    put("slave/recovery_time_secs", 0.0);
    // Completed frameworks' tasks are all over: those held are all this counts.
    let tasks: Vec<&Task> = m.held_tasks().filter(|t| t.agent_id == a.id).collect();
    let live = |state: &str| tasks.iter().filter(|t| t.state == state).count() as f64;
    for state in [
        "TASK_STAGING",
        "TASK_STARTING",
        "TASK_RUNNING",
        "TASK_KILLING",
    ] {
        let name = state.trim_start_matches("TASK_").to_ascii_lowercase();
        put(&format!("slave/tasks_{name}"), live(state));
    }
    // Executors: one per run whose tasks are not all over.
    let running: HashSet<(&str, &str, &str)> = tasks
        .iter()
        .filter(|t| !t.is_terminal())
        .map(|t| {
            (
                t.framework_id.as_str(),
                t.executor_id.as_str(),
                t.container_id.as_str(),
            )
        })
        .collect();
    put("slave/executors_registering", 0.0);
    put("slave/executors_running", running.len() as f64);
    put("slave/executors_terminating", 0.0);
    let frameworks: HashSet<&str> = running.iter().map(|(f, _, _)| *f).collect();
    put("slave/frameworks_active", frameworks.len() as f64);
    for name in COUNTERS {
        put(name, a.count_of(name) as f64);
    }
    // Sandboxes are kept until the agent stops; Mesos's gauge is what `--gc_delay` allows
    // at the current disk usage (all of it, with the disk nearly empty).
    put(
        "slave/executor_directory_max_allowed_age_secs",
        7.0 * 24.0 * 3600.0,
    );
    put("gc/path_removals_pending", 0.0);
    // The fetcher cache is not used (the fetcher copies straight into the sandbox).
    put(
        "containerizer/fetcher/cache_size_total_bytes",
        (2u64 << 30) as f64,
    );
    put("containerizer/fetcher/cache_size_used_bytes", 0.0);
    for (name, total, used) in [
        ("cpus", a.total.cpus(), a.used.cpus()),
        ("gpus", a.total.gpus(), a.used.gpus()),
        ("mem", a.total.mem(), a.used.mem()),
        ("disk", a.total.disk(), a.used.disk()),
    ] {
        put(&format!("slave/{name}_total"), total);
        put(&format!("slave/{name}_used"), used);
        put(&format!("slave/{name}_percent"), share(used, total));
        put(&format!("slave/{name}_revocable_total"), 0.0);
        put(&format!("slave/{name}_revocable_used"), 0.0);
        put(&format!("slave/{name}_revocable_percent"), 0.0);
    }
    system(&mut out);
    out
}
