//! An agent removed because its machine went DOWN for maintenance: Mesos's `removeSlave`
//! (`src/master/master.cpp`), which START_MAINTENANCE calls after telling the agent to shut
//! down. Unlike an unreachable or gone agent, every task is `TASK_LOST`
//! (`REASON_AGENT_REMOVED`, "Agent <host> removed: Operator initiated 'Machine DOWN'"),
//! whatever the framework's capabilities, and operator streams hear `AGENT_REMOVED`.

use super::loss::record;
use super::{id, now_secs, time_info, Agent, Effect, Master};
use serde_json::json;

/// Why START_MAINTENANCE removes an agent, as Mesos words it.
pub const MACHINE_DOWN: &str = "Operator initiated 'Machine DOWN'";

impl Master {
    pub(super) fn remove_for_maintenance(
        &mut self,
        agent_id: &str,
        fx: &mut Vec<Effect>,
    ) -> Option<Agent> {
        let kept = self.settings.flags.retention;
        let pos = self.agents.iter().position(|a| a.id == agent_id)?;
        // The agent is told to shut down: its executors and their tasks are killed.
        self.log_agent(
            agent_id,
            &format!(
                "Agent asked to shut down by {} because '{MACHINE_DOWN}'",
                self.pid()
            ),
        );
        self.kill_processes_on(agent_id);
        let agent = self.agents.remove(pos);
        self.log_info(&format!(
            "Removing agent {agent_id} ({}): {MACHINE_DOWN}",
            agent.hostname
        ));
        let message = format!("Agent {} removed: {MACHINE_DOWN}", agent.hostname);
        let mut published = Vec::new();
        for f in &mut self.frameworks {
            for mut task in f.tasks.take_where(|t| t.agent_id == agent_id) {
                let status =
                    Master::lost_status(&task, "TASK_LOST", "REASON_AGENT_REMOVED", &message, None);
                let change = record(&mut task, status.clone());
                if change.ended {
                    self.counters.task_ended(&status);
                    f.counts.bump("tasks/terminal/task_lost");
                }
                if change.new_state {
                    published.push(super::task_updated_event(&f.id, &status, &task.state));
                }
                f.send_update(&status);
                f.completed_tasks
                    .push(task, kept.completed_tasks_per_framework);
            }
        }
        for event in &published {
            self.publish(event);
        }
        self.rescind_offers_of(agent_id);
        let failure = json!({"type": "FAILURE", "failure": {"agent_id": id(agent_id)}});
        for f in &self.frameworks {
            f.send(&failure);
        }
        self.counters.slave_removals += 1;
        self.drains.forget(agent_id);
        self.publish(
            &json!({"type": "AGENT_REMOVED", "agent_removed": {"agent_id": id(agent_id)}}),
        );
        fx.push(Effect::StopAgent(agent_id.to_string()));
        let entry = json!({"id": id(agent_id), "time": time_info(now_secs())});
        self.store_registry(&entry);
        Some(agent)
    }
}
