//! Agent restart with recovery: `POST /__cluster/agents/<id>/restart` stops an agent's
//! process model and starts it again with its work dir, as a Mesos agent restarted with
//! `--recover=reconnect`. While it is down the master sees it disconnected (Mesos 1.11's
//! `Master::exited`): its offers are rescinded and the tasks of frameworks that do not
//! checkpoint are lost at once (`TASK_LOST`, `REASON_AGENT_DISCONNECTED`, `Agent <host>
//! disconnected`; their processes die as orphans when the agent recovers). Checkpointed
//! frameworks' tasks keep running; what their executors say while the agent is down waits,
//! and the agent re-registers with the same id, resending the updates not yet
//! acknowledged (`Slave::recover`, `___reregisterSlave`).

use super::{id, now_secs, CallError, Effect, Master, StoredStatus};
use crate::mesos::v1::{Reason, Source, TaskState};
use serde_json::json;

impl Master {
    /// The agent's process stops: it is disconnected until `restart_end`.
    pub fn restart_begin(&mut self, agent_id: &str, fx: &mut Vec<Effect>) -> Result<(), CallError> {
        let kept = self.settings.flags.retention;
        let Some(agent) = self.agent_mut(agent_id) else {
            return Err(CallError::new(404, format!("Agent '{agent_id}' not found")));
        };
        if agent.crashed || agent.partitioned {
            let what = if agent.crashed {
                "has crashed"
            } else {
                "is partitioned"
            };
            return Err(CallError::new(409, format!("Agent '{agent_id}' {what}")));
        }
        if agent.disconnected {
            return Err(CallError::new(
                409,
                format!("Agent '{agent_id}' is restarting"),
            ));
        }
        agent.disconnected = true;
        agent.active = false;
        let hostname = agent.hostname.clone();
        tracing::info!(agent_id, "agent restarting (fault injection)");
        // Mesos deactivates a disconnected agent: its offers are rescinded.
        self.rescind_offers_of(agent_id);
        let message = format!("Agent {hostname} disconnected");
        let mut published = Vec::new();
        let mut freed = super::Resources::default();
        let mut lost_statuses = Vec::new();
        for f in &mut self.frameworks {
            let checkpoint = f.info.get("checkpoint").and_then(|v| v.as_bool()) == Some(true);
            if checkpoint {
                continue;
            }
            for mut task in f
                .tasks
                .take_where(|t| t.agent_id == agent_id && !t.is_terminal())
            {
                let status = json!({
                    "task_id": id(&task.task_id),
                    "state": TaskState::Lost.as_str(),
                    "source": Source::Master.as_str(),
                    "reason": Reason::AgentDisconnected.as_str(),
                    "message": message,
                    "agent_id": id(agent_id),
                    "executor_id": id(&task.executor_id),
                    "timestamp": now_secs()
                });
                task.state = TaskState::Lost.as_str().into();
                task.statuses.push(StoredStatus::new(&status));
                task.pending.clear();
                // Not checkpointed: the restarted agent cannot recover the executor.
                if let Some(kill) = task.kill.take() {
                    let _ = kill.send(true);
                }
                if !task.resources_recovered {
                    task.resources_recovered = true;
                    freed = freed.plus(&task.resources);
                }
                lost_statuses.push(status.clone());
                f.counts.bump("tasks/terminal/task_lost");
                f.send_update(&status);
                published.push(super::task_updated_event(
                    &f.id,
                    &status,
                    TaskState::Lost.as_str(),
                ));
                f.completed_tasks
                    .push(task, kept.completed_tasks_per_framework);
            }
        }
        for status in &lost_statuses {
            self.counters.task_ended(status);
        }
        // Their own executors die with the agent too (their tasks are lost above).
        let not_checkpointed: Vec<String> = self
            .frameworks
            .iter()
            .filter(|f| f.info.get("checkpoint").and_then(|v| v.as_bool()) != Some(true))
            .map(|f| f.id.clone())
            .collect();
        self.kill_executors_of(agent_id, &not_checkpointed);
        if let Some(agent) = self.agent_mut(agent_id) {
            agent.used = agent.used.minus(&freed);
        }
        for event in &published {
            self.publish(event);
        }
        fx.push(Effect::StopAgent(agent_id.to_string()));
        Ok(())
    }

    /// The agent recovered and re-registered with the same id.
    pub fn restart_end(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        let Some(agent) = self.agent_mut(agent_id) else {
            return; // marked gone while it was down
        };
        agent.disconnected = false;
        agent.active = true;
        agent.missed_pings = 0;
        // Its process started again; `___reregisterSlave` notes the re-registration.
        let now = now_secs();
        agent.started_time = now;
        agent.reregistered_time = Some(now);
        tracing::info!(agent_id, "agent recovered and re-registered");
        // Known to the master all along: `_reregisterSlave`, not a re-admission.
        self.counters.count("master/messages_reregister_slave");
        self.reregistered(agent_id, fx);
        self.reconnected(agent_id, fx);
    }
}
