//! What the master counts for its metrics: the calls and messages it handled, the tasks
//! that ended (by state, source and reason), the events each framework was sent, and the
//! timings of its allocator and registry. The metric tables (`metrics/`) read them.

use super::super::metrics::Timer;
use super::Master;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The scheduler API's event types, as the per-framework `events/<type>` metrics name them.
pub const EVENT_TYPES: &[&str] = &[
    "SUBSCRIBED",
    "OFFERS",
    "INVERSE_OFFERS",
    "RESCIND",
    "RESCIND_INVERSE_OFFER",
    "UPDATE",
    "UPDATE_OPERATION_STATUS",
    "MESSAGE",
    "FAILURE",
    "ERROR",
    "HEARTBEAT",
];

/// Events sent to one framework, by type: shared by the framework and its open stream
/// (heartbeats are written by the stream itself, outside the master's lock).
#[derive(Debug, Default)]
pub struct EventCounts([AtomicU64; 11]);

impl EventCounts {
    pub fn count(&self, event: &Value) {
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        self.count_kind(kind);
    }

    pub fn count_kind(&self, kind: &str) {
        self.count_kind_n(kind, 1);
    }

    pub fn count_kind_n(&self, kind: &str, n: u64) {
        if let Some(i) = EVENT_TYPES.iter().position(|t| *t == kind) {
            self.0[i].fetch_add(n, Ordering::Relaxed);
        }
    }

    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        EVENT_TYPES
            .iter()
            .zip(self.0.iter())
            .map(|(t, n)| (*t, n.load(Ordering::Relaxed)))
            .collect()
    }
}

/// Named counters (`master/messages_kill_task`, a framework's `offers/sent` ...).
#[derive(Debug, Clone, Default)]
pub struct Counts(BTreeMap<String, u64>);

impl Counts {
    pub fn bump(&mut self, name: &str) {
        self.add(name, 1);
    }

    pub fn add(&mut self, name: &str, n: u64) {
        *self.0.entry(name.to_string()).or_default() += n;
    }

    pub fn get(&self, name: &str) -> Option<u64> {
        self.0.get(name).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &u64)> {
        self.0.iter()
    }
}

/// Counters shown in `/metrics/snapshot` and GET_METRICS.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub tasks_finished: u64,
    pub tasks_failed: u64,
    pub tasks_killed: u64,
    pub tasks_lost: u64,
    pub tasks_error: u64,
    pub tasks_dropped: u64,
    pub offers_sent: u64,
    pub offers_declined: u64,
    pub offers_rescinded: u64,
    pub calls: u64,
    pub invalid_calls: u64,
    /// ACKNOWLEDGE calls for the update in flight, and for anything else (a duplicate, an
    /// unknown uuid): Mesos's `master/{valid,invalid}_status_update_acknowledgements`.
    pub valid_acknowledgements: u64,
    pub invalid_acknowledgements: u64,
    /// TASK_GONE comes from an agent that re-registers without a task; no agent of this
    /// cluster ever comes back, so it stays 0 (shown because Mesos shows it).
    pub tasks_gone: u64,
    pub tasks_gone_by_operator: u64,
    /// Agents removed (`master/slave_removals`); Mesos counts unreachable agents here, not
    /// agents marked gone.
    pub slave_removals: u64,
    pub slave_removals_reason_unhealthy: u64,
    pub slave_unreachable_scheduled: u64,
    pub slave_unreachable_completed: u64,
    /// `master/messages_*`, `master/valid_status_updates`, `master/slave_registrations` ...
    pub messages: Counts,
    /// `master/<state>/<source>/<reason>`: terminal updates, as Mesos's
    /// `Metrics::incrementTasksStates` counts them.
    pub task_states: BTreeMap<String, u64>,
    pub allocation_runs: u64,
    pub allocation_run: Timer,
    pub allocation_run_latency: Timer,
    pub registry_fetch: Timer,
    pub registry_store: Timer,
}

impl Counters {
    pub fn count(&mut self, name: &str) {
        self.messages.bump(name);
    }

    pub fn count_of(&self, name: &str) -> u64 {
        self.messages.get(name).unwrap_or(0)
    }

    /// A task ended: the counter of its state, and the one of its state, source and
    /// reason (an update without a reason has protobuf's first one, as in Mesos).
    pub fn task_ended(&mut self, status: &Value) {
        let field = |k: &str| status.get(k).and_then(Value::as_str);
        let state = field("state").unwrap_or("TASK_UNKNOWN");
        match state {
            "TASK_FINISHED" => self.tasks_finished += 1,
            "TASK_FAILED" => self.tasks_failed += 1,
            "TASK_KILLED" => self.tasks_killed += 1,
            "TASK_LOST" => self.tasks_lost += 1,
            "TASK_ERROR" => self.tasks_error += 1,
            "TASK_DROPPED" => self.tasks_dropped += 1,
            "TASK_GONE" => self.tasks_gone += 1,
            "TASK_GONE_BY_OPERATOR" => self.tasks_gone_by_operator += 1,
            _ => {}
        }
        let source = field("source").unwrap_or("SOURCE_MASTER");
        let reason = field("reason").unwrap_or("REASON_COMMAND_EXECUTOR_FAILED");
        let name = format!(
            "master/{}/{}/{}",
            state.to_ascii_lowercase(),
            source.to_ascii_lowercase(),
            reason.to_ascii_lowercase()
        );
        *self.task_states.entry(name).or_default() += 1;
    }
}

impl Master {
    /// A scheduler call of a subscribed framework: its `calls/<type>` counter, and the
    /// master's message counter the call moves (`Master::decline`, `Master::kill` ...).
    pub fn count_call(&mut self, framework_id: &str, kind: &str) {
        if let Some(f) = self.framework_mut(framework_id) {
            f.counts
                .bump(&format!("calls/{}", kind.to_ascii_lowercase()));
        }
        let message = match kind {
            "TEARDOWN" => "master/messages_unregister_framework",
            "DECLINE" => "master/messages_decline_offers",
            "REVIVE" => "master/messages_revive_offers",
            "SUPPRESS" => "master/messages_suppress_offers",
            "KILL" => "master/messages_kill_task",
            "ACKNOWLEDGE" => "master/messages_status_update_acknowledgement",
            "ACKNOWLEDGE_OPERATION_STATUS" => {
                "master/messages_operation_status_update_acknowledgement"
            }
            "RECONCILE" => "master/messages_reconcile_tasks",
            "RECONCILE_OPERATIONS" => "master/messages_reconcile_operations",
            "MESSAGE" => "master/messages_framework_to_executor",
            "REQUEST" => "master/messages_resource_request",
            _ => return,
        };
        self.counters.count(message);
    }

    /// MESSAGE to an executor: the master forwards it to a registered agent (else it is
    /// invalid); the agent delivers it to a running executor (else it is invalid there).
    pub fn framework_message(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        data: &Value,
    ) {
        let delivered = self.message_to_executor(framework_id, agent_id, executor_id, data);
        let running = delivered
            || self.framework(framework_id).is_some_and(|f| {
                f.tasks.iter().any(|t| {
                    t.agent_id == agent_id && t.executor_id == executor_id && !t.is_terminal()
                })
            });
        let Some(agent) = self.agents.iter_mut().find(|a| a.id == agent_id) else {
            self.counters
                .count("master/invalid_framework_to_executor_messages");
            return;
        };
        agent.counts.bump(if running {
            "slave/valid_framework_messages"
        } else {
            "slave/invalid_framework_messages"
        });
        self.counters
            .count("master/valid_framework_to_executor_messages");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_terminal_update_counts_by_state_source_and_reason() {
        let mut c = Counters::default();
        c.task_ended(&json!({"state": "TASK_FINISHED", "source": "SOURCE_EXECUTOR"}));
        c.task_ended(&json!({"state": "TASK_LOST", "source": "SOURCE_MASTER",
            "reason": "REASON_INVALID_OFFERS"}));
        assert_eq!(c.tasks_finished, 1);
        assert_eq!(c.tasks_lost, 1);
        assert_eq!(
            c.task_states.keys().collect::<Vec<_>>(),
            [
                "master/task_finished/source_executor/reason_command_executor_failed",
                "master/task_lost/source_master/reason_invalid_offers"
            ]
        );
        let e = EventCounts::default();
        e.count(&json!({"type": "OFFERS"}));
        e.count_kind("HEARTBEAT");
        e.count_kind("NOT_AN_EVENT");
        let n: u64 = e.snapshot().iter().map(|(_, n)| n).sum();
        assert_eq!(n, 2);
    }
}
