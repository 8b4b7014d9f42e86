//! Agent loss, as Mesos's master handles it: an agent that stops answering its health checks
//! becomes unreachable, and an operator's MARK_AGENT_GONE removes one for good. Either way
//! its tasks get a master-made update (no uuid, so never acknowledged), its offers are
//! rescinded, every connected framework gets a FAILURE event, and the agent leaves the
//! registered agents.

use super::{
    cap, id, now_secs, time_info, Agent, CallError, Effect, Master, StoredStatus, Task, Timer,
};
use serde_json::{json, Value};
use std::time::Instant;

/// The `message` of the updates and of the state change when an agent misses its health
/// checks, as Mesos words it.
pub const UNREACHABLE_MESSAGE: &str = "health check timed out";
/// The `message` of the updates of an agent marked gone.
pub const GONE_MESSAGE: &str = "Agent has been marked gone";

/// An agent that left the registered agents, with when it did (seconds since the epoch).
#[derive(Debug, Clone)]
pub struct LostAgent {
    pub agent: Agent,
    pub time: f64,
}

/// How the master's view of a task changed with a master-made status.
pub(super) struct Change {
    /// The status has a state the task's last status did not: operator subscribers hear it.
    pub(super) new_state: bool,
    /// The task went from running (or staging ...) to terminal or unreachable: the
    /// terminal counters move.
    pub(super) ended: bool,
}

/// Mesos's `updateTask` for a status made by the master: the state moves only while the
/// task is not terminal; a status repeating the last one's state replaces it.
pub(super) fn record(task: &mut Task, status: Value) -> Change {
    let state = status["state"].as_str().unwrap_or_default().to_string();
    let ended_before = task.is_terminal() || task.state == "TASK_UNREACHABLE";
    if !task.is_terminal() {
        task.state = state.clone();
    }
    let repeat = task
        .statuses
        .last()
        .is_some_and(|last| last.state().as_str() == state);
    if repeat {
        task.statuses.pop();
    }
    task.statuses.push(StoredStatus::new(&status));
    // The agent and its status update stream are gone, and so are its processes.
    task.pending.clear();
    if let Some(kill) = task.kill.take() {
        let _ = kill.send(true);
    }
    task.resources_recovered = true;
    Change {
        new_state: !repeat,
        ended: !ended_before,
    }
}

impl Master {
    /// Whether an agent is registered and answering (not crashed, not lost).
    pub fn answers(&self, agent_id: &str) -> bool {
        self.agent(agent_id)
            .is_some_and(|a| !a.crashed && !a.partitioned && !a.disconnected)
    }

    /// The agent a framework's active task runs on.
    pub(super) fn task_agent(&self, framework_id: &str, task_id: &str) -> Option<String> {
        self.framework(framework_id)
            .and_then(|f| f.task(task_id))
            .map(|t| t.agent_id.clone())
    }

    /// A lost agent, with its unreachable time when it is unreachable (`None`: gone).
    pub fn lost_agent(&self, agent_id: &str) -> Option<(&LostAgent, Option<f64>)> {
        if let Some(a) = self
            .unreachable_agents
            .iter()
            .find(|a| a.agent.id == agent_id)
        {
            return Some((a, Some(a.time)));
        }
        self.gone_agents
            .iter()
            .find(|a| a.agent.id == agent_id)
            .map(|a| (a, None))
    }

    /// The fault-injection hook: the agent stops answering, as a host that loses power.
    /// No connection closes, so the master learns of it only through missed health
    /// checks; its processes die with it and its HTTP server stops.
    pub fn crash_agent(&mut self, agent_id: &str, fx: &mut Vec<Effect>) -> Result<(), CallError> {
        let timeout = self.settings.agent_ping_timeout;
        let Some(agent) = self.agent_mut(agent_id) else {
            return Err(CallError::new(404, format!("Agent '{agent_id}' not found")));
        };
        if agent.crashed {
            return Ok(());
        }
        agent.crashed = true;
        agent.missed_pings = 0;
        tracing::info!(agent_id, "agent crashed (fault injection)");
        self.kill_processes_on(agent_id);
        fx.push(Effect::StopAgent(agent_id.to_string()));
        fx.push(Effect::Timer(
            Instant::now() + timeout,
            Timer::Ping {
                agent_id: agent_id.to_string(),
            },
        ));
        Ok(())
    }

    /// A health check of a crashed agent went unanswered (a healthy agent always answers,
    /// so only crashed agents are pinged).
    pub(super) fn ping(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        let max = self.settings.max_agent_ping_timeouts.max(1);
        let timeout = self.settings.agent_ping_timeout;
        let Some(agent) = self.agent_mut(agent_id) else {
            return; // marked gone in the meantime
        };
        if !agent.crashed && !agent.partitioned {
            agent.missed_pings = 0;
            return;
        }
        agent.missed_pings += 1;
        if agent.missed_pings < max {
            fx.push(Effect::Timer(
                Instant::now() + timeout,
                Timer::Ping {
                    agent_id: agent_id.to_string(),
                },
            ));
            return;
        }
        self.mark_unreachable(agent_id, fx);
    }

    /// The agent missed `max_agent_ping_timeouts` health checks in a row.
    fn mark_unreachable(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        tracing::info!(agent_id, "marking agent unreachable: {UNREACHABLE_MESSAGE}");
        self.counters.slave_unreachable_scheduled += 1;
        self.counters.slave_unreachable_completed += 1;
        self.counters.slave_removals += 1;
        self.counters.slave_removals_reason_unhealthy += 1;
        let time = now_secs();
        // Behind a partition the agent lives on: its processes and update streams stay.
        let partitioned = self.agent(agent_id).is_some_and(|a| a.partitioned);
        if partitioned {
            self.keep_for_heal(agent_id);
        }
        if let Some(agent) = self.remove_agent(agent_id, Some(time), UNREACHABLE_MESSAGE, fx) {
            self.unreachable_agents.push(LostAgent { agent, time });
        }
        if partitioned {
            fx.retain(|e| !matches!(e, Effect::StopAgent(a) if a == agent_id));
        }
    }

    /// MARK_AGENT_GONE: a registered agent is shut down and removed; an unreachable one's
    /// tasks are settled. Marking a gone agent again is accepted; an unknown one is 404.
    pub fn mark_gone(&mut self, agent_id: &str, fx: &mut Vec<Effect>) -> Result<(), CallError> {
        if self.gone_agents.iter().any(|a| a.agent.id == agent_id) {
            return Ok(());
        }
        let time = now_secs();
        if self.agent(agent_id).is_some() {
            tracing::info!(agent_id, "marking agent gone");
            // Mesos tells the agent to shut down: its executors are killed.
            self.kill_processes_on(agent_id);
            self.drop_held(agent_id);
            if let Some(agent) = self.remove_agent(agent_id, None, GONE_MESSAGE, fx) {
                self.gone_agents.push(LostAgent { agent, time });
            }
            return Ok(());
        }
        if let Some(pos) = self
            .unreachable_agents
            .iter()
            .position(|a| a.agent.id == agent_id)
        {
            tracing::info!(agent_id, "marking unreachable agent gone");
            let lost = self.unreachable_agents.remove(pos);
            self.settle_unreachable_tasks(agent_id);
            self.drop_held(agent_id);
            self.gone_agents.push(LostAgent {
                agent: lost.agent,
                time,
            });
            return Ok(());
        }
        Err(CallError::new(404, format!("Agent '{agent_id}' not found")))
    }

    pub(super) fn kill_processes_on(&self, agent_id: &str) {
        for f in &self.frameworks {
            for t in f.tasks.iter().filter(|t| t.agent_id == agent_id) {
                if let Some(kill) = &t.kill {
                    let _ = kill.send(true);
                }
            }
        }
        self.kill_executors_on(agent_id);
    }

    /// A master-made status for a task of a lost agent (no uuid: the master does not
    /// retry it and the framework must not acknowledge it).
    pub(super) fn lost_status(
        task: &Task,
        state: &str,
        reason: &str,
        message: &str,
        unreachable_time: Option<f64>,
    ) -> Value {
        let mut status = json!({
            "task_id": id(&task.task_id),
            "state": state,
            "source": "SOURCE_MASTER",
            "reason": reason,
            "message": message,
            "agent_id": id(&task.agent_id),
            "executor_id": id(&task.executor_id),
            "timestamp": now_secs()
        });
        if let Some(t) = unreachable_time {
            status["unreachable_time"] = time_info(t);
        }
        status
    }

    /// Mesos's `__removeSlave`: the agent's tasks get TASK_UNREACHABLE (unreachable) or
    /// TASK_GONE_BY_OPERATOR (gone) for partition-aware frameworks and TASK_LOST for the
    /// others; then its offers are rescinded and every connected framework hears FAILURE.
    fn remove_agent(
        &mut self,
        agent_id: &str,
        unreachable_time: Option<f64>,
        message: &str,
        fx: &mut Vec<Effect>,
    ) -> Option<Agent> {
        let kept = self.settings.flags.retention;
        let pos = self.agents.iter().position(|a| a.id == agent_id)?;
        let agent = self.agents.remove(pos);
        let mut published = Vec::new();
        for f in &mut self.frameworks {
            let (state, reason) = match (f.partition_aware(), unreachable_time) {
                (false, _) => ("TASK_LOST", "REASON_AGENT_REMOVED"),
                (true, Some(_)) => ("TASK_UNREACHABLE", "REASON_AGENT_REMOVED"),
                (true, None) => ("TASK_GONE_BY_OPERATOR", "REASON_AGENT_REMOVED_BY_OPERATOR"),
            };
            // A TASK_LOST task may come back with its agent, so Mesos keeps it with the
            // unreachable tasks even when the agent is gone.
            let keep_unreachable = state != "TASK_GONE_BY_OPERATOR";
            for mut task in f.tasks.take_where(|t| t.agent_id == agent_id) {
                let status = Self::lost_status(&task, state, reason, message, unreachable_time);
                let change = record(&mut task, status.clone());
                if change.ended && state != "TASK_UNREACHABLE" {
                    self.counters.task_ended(&status);
                    f.counts
                        .bump(&format!("tasks/terminal/{}", state.to_ascii_lowercase()));
                }
                if change.new_state {
                    published.push(super::task_updated_event(&f.id, &status, &task.state));
                }
                f.send_update(&status);
                if keep_unreachable {
                    f.unreachable_tasks.push(task);
                    cap(
                        &mut f.unreachable_tasks,
                        kept.unreachable_tasks_per_framework,
                    );
                } else {
                    f.completed_tasks
                        .push(task, kept.completed_tasks_per_framework);
                }
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
        fx.push(Effect::StopAgent(agent_id.to_string()));
        // The registrar records the agent's removal.
        let entry = json!({"id": id(agent_id), "time": time_info(now_secs())});
        self.store_registry(&entry);
        Some(agent)
    }

    /// Mesos's `markGone` for an agent already unreachable: its unreachable tasks become
    /// TASK_GONE_BY_OPERATOR (TASK_LOST for frameworks that are not partition-aware) and
    /// move to the completed tasks. The agent was removed already: no FAILURE again.
    fn settle_unreachable_tasks(&mut self, agent_id: &str) {
        let kept = self.settings.flags.retention;
        let mut published = Vec::new();
        for f in &mut self.frameworks {
            let (state, reason) = if f.partition_aware() {
                ("TASK_GONE_BY_OPERATOR", "REASON_AGENT_REMOVED_BY_OPERATOR")
            } else {
                ("TASK_LOST", "REASON_AGENT_REMOVED")
            };
            let mut i = 0;
            while i < f.unreachable_tasks.len() {
                if f.unreachable_tasks[i].agent_id != agent_id {
                    i += 1;
                    continue;
                }
                let mut task = f.unreachable_tasks.remove(i);
                let status = Self::lost_status(&task, state, reason, GONE_MESSAGE, None);
                // From unreachable to gone is no new end: Mesos's counters do not move.
                let change = record(&mut task, status.clone());
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
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{events, master, subscribed};
    use super::*;

    fn launched(
        m: &mut Master,
        fx: &mut Vec<Effect>,
    ) -> (String, crate::cluster::event_queue::Receiver) {
        let info = json!({"user": "u", "name": "n", "capabilities": [{"type": "PARTITION_AWARE"}]});
        let (fid, rx, offer) = subscribed(m, info, fx);
        let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
            "command": {"value": "sleep 60"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [task]}});
        let offer_id = offer["id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(m.accept(&fid, &[offer_id], &[op], 0.0, fx).is_ok());
        (fid, rx)
    }

    #[test]
    fn an_agent_is_unreachable_after_its_last_missed_health_check() {
        let mut m = master();
        let mut fx = Vec::new();
        let (fid, mut rx) = launched(&mut m, &mut fx);
        let agent_id = m.agents[0].id.clone();
        m.status_update(&fid, "t1", "TASK_RUNNING", None, None, &mut fx);
        events(&mut rx);

        let mut fx = Vec::new();
        assert!(m.crash_agent(&agent_id, &mut fx).is_ok());
        assert!(fx
            .iter()
            .any(|e| matches!(e, Effect::StopAgent(a) if a == &agent_id)));
        // A crashed agent's executors are not heard.
        m.status_update(&fid, "t1", "TASK_KILLED", None, None, &mut fx);
        assert_eq!(
            m.framework(&fid)
                .and_then(|f| f.task("t1"))
                .map(|t| t.state.as_str()),
            Some("TASK_RUNNING")
        );

        // Three health checks (the test master's maximum): two are missed quietly.
        for _ in 0..2 {
            m.fire(
                Timer::Ping {
                    agent_id: agent_id.clone(),
                },
                &mut fx,
            );
            assert_eq!(m.agents.len(), 1);
            assert!(events(&mut rx).iter().all(|e| e["type"] != "UPDATE"));
        }
        m.fire(
            Timer::Ping {
                agent_id: agent_id.clone(),
            },
            &mut fx,
        );
        assert!(m.agents.is_empty());
        assert_eq!(m.unreachable_agents.len(), 1);
        let ev = events(&mut rx);
        let kinds: Vec<&str> = ev.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(kinds.first(), Some(&"UPDATE"), "{ev:?}");
        assert_eq!(kinds.last(), Some(&"FAILURE"), "{ev:?}");
        assert_eq!(ev[0]["update"]["status"]["state"], "TASK_UNREACHABLE");
        let f = m.framework(&fid).map(|f| f.unreachable_tasks.len());
        assert_eq!(f, Some(1));
        // A late health check of a removed agent does nothing.
        m.fire(Timer::Ping { agent_id }, &mut fx);
        assert_eq!(m.unreachable_agents.len(), 1);
    }

    #[test]
    fn tasks_launched_on_a_crashed_agent_never_start() {
        let mut m = master();
        let agent_id = m.agents[0].id.clone();
        let mut fx = Vec::new();
        assert!(m.crash_agent(&agent_id, &mut fx).is_ok());
        // The master still offers the agent: it does not know yet.
        let mut fx = Vec::new();
        let (fid, _rx) = launched(&mut m, &mut fx);
        assert!(!fx.iter().any(|e| matches!(e, Effect::Launch(_))));
        let state = m
            .framework(&fid)
            .and_then(|f| f.task("t1"))
            .map(|t| t.state.clone());
        assert_eq!(state.as_deref(), Some("TASK_STAGING"));
        assert_eq!(
            m.mark_gone("nope", &mut fx),
            Err(CallError::new(404, "Agent 'nope' not found"))
        );
        assert!(m.mark_gone(&agent_id, &mut fx).is_ok());
        let f = m.framework(&fid);
        assert_eq!(
            f.and_then(|f| f.completed_tasks.summaries().next().map(|t| t.state)),
            Some("TASK_GONE_BY_OPERATOR")
        );
        assert_eq!(m.counters.tasks_gone_by_operator, 1);
    }
}
