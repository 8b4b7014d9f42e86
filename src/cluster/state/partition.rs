//! Partitions that heal: `POST /__cluster/agents/<id>/partition` cuts an agent off from the
//! master (health checks go unanswered, nothing arrives either way, its processes run on)
//! and `.../heal` joins it again. Before its health checks run out, healing changes
//! nothing the frameworks can see but the updates that waited. After, the agent was
//! unreachable (`loss.rs`) and re-registers as Mesos 1.11's `Master::__reregisterSlave`
//! re-admits it: every task it still has comes back, each framework that is connected
//! hears a master-made update with the task's state, `Unreachable agent re-reregistered`,
//! `REASON_AGENT_REREGISTERED` (partition-aware or not: Mesos 1.11 no longer kills the
//! tasks of other frameworks), and the agent's unreachable tasks it does not have are
//! forgotten. The operator stream hears AGENT_ADDED, then TASK_ADDED for each task it
//! brings (`Master::addSlave` adds them to their frameworks again). The updates the agent
//! kept follow through its status update stream.

use super::{id, now_secs, CallError, Effect, Master, StoredStatus, Timer};
use crate::cluster::{containers, views};
use crate::mesos::v1::{Reason, Source};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;
use tokio::sync::watch;

pub const REREGISTERED_MESSAGE: &str = "Unreachable agent re-reregistered";

/// What agents cut off from the master keep until they can reach it again.
#[derive(Debug, Default)]
pub struct Held {
    /// Status updates executors sent while their agent could not reach the master.
    updates: Vec<HeldUpdate>,
    /// The running tasks of agents marked unreachable behind a partition, by
    /// (framework id, task id): their processes, their state and their update streams.
    kept: HashMap<(String, String), Kept>,
}

#[derive(Debug)]
struct HeldUpdate {
    agent_id: String,
    framework_id: String,
    task_id: String,
    state: String,
    message: Option<String>,
    reason: Option<String>,
}

#[derive(Debug)]
struct Kept {
    agent_id: String,
    kill: Option<watch::Sender<bool>>,
    /// The task's state as the agent knows it (what it re-registers with).
    state: String,
    /// Its state when the agent was cut off: the master's, until the kept updates arrive.
    since: String,
    pending: VecDeque<StoredStatus>,
}

impl Master {
    /// The agent as its own endpoints show it: registered, or unreachable behind a
    /// partition (alive, answering everyone but the master).
    pub fn agent_view(&self, agent_id: &str) -> Option<&super::Agent> {
        self.agent(agent_id).or_else(|| {
            self.unreachable_agents
                .iter()
                .find(|l| l.agent.id == agent_id && l.agent.partitioned)
                .map(|l| &l.agent)
        })
    }

    /// Whether an agent is alive but cannot reach the master (partitioned or restarting,
    /// still registered or already unreachable).
    fn cut_off(&self, agent_id: &str) -> bool {
        if let Some(a) = self.agent(agent_id) {
            return a.partitioned || a.disconnected;
        }
        self.unreachable_agents
            .iter()
            .any(|l| l.agent.id == agent_id && l.agent.partitioned)
    }

    /// Keeps an executor's update when its agent is cut off; true when it was kept.
    pub(super) fn hold_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: &Option<String>,
        reason: Option<&str>,
    ) -> bool {
        let agent_id = self.framework(framework_id).and_then(|f| {
            f.tasks
                .get(task_id)
                .or_else(|| f.unreachable_tasks.iter().find(|t| t.task_id == task_id))
                .map(|t| t.agent_id.clone())
        });
        let Some(agent_id) = agent_id else {
            return false;
        };
        if !self.cut_off(&agent_id) {
            return false;
        }
        if let Some(kept) = self
            .held
            .kept
            .get_mut(&(framework_id.to_string(), task_id.to_string()))
        {
            kept.state = state.to_string();
        }
        self.held.updates.push(HeldUpdate {
            agent_id,
            framework_id: framework_id.to_string(),
            task_id: task_id.to_string(),
            state: state.to_string(),
            message: message.clone(),
            reason: reason.map(str::to_string),
        });
        true
    }

    /// The agent is about to be marked unreachable behind a partition: its tasks' processes
    /// and update streams stay with the agent instead of dying with the master's view.
    pub(super) fn keep_for_heal(&mut self, agent_id: &str) {
        for f in &mut self.frameworks {
            for t in f.tasks.iter_mut().filter(|t| t.agent_id == agent_id) {
                // The agent knows what its executors said since it was cut off.
                let latest = self
                    .held
                    .updates
                    .iter()
                    .rev()
                    .find(|u| u.framework_id == f.id && u.task_id == t.task_id)
                    .map_or_else(|| t.state.clone(), |u| u.state.clone());
                self.held.kept.insert(
                    (f.id.clone(), t.task_id.clone()),
                    Kept {
                        agent_id: agent_id.to_string(),
                        kill: t.kill.take(),
                        state: latest,
                        since: t.state.clone(),
                        pending: std::mem::take(&mut t.pending),
                    },
                );
            }
        }
    }

    /// The agent is gone for good: what it kept dies with it.
    pub(super) fn drop_held(&mut self, agent_id: &str) {
        self.held.updates.retain(|u| u.agent_id != agent_id);
        self.held.kept.retain(|_, k| {
            if k.agent_id != agent_id {
                return true;
            }
            if let Some(kill) = &k.kill {
                let _ = kill.send(true);
            }
            false
        });
    }

    /// The partition hook: the agent stops reaching the master, and the master's health
    /// checks of it start failing. Its processes and HTTP server keep running.
    pub fn partition_agent(
        &mut self,
        agent_id: &str,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        let timeout = self.settings.agent_ping_timeout;
        let Some(agent) = self.agent_mut(agent_id) else {
            return Err(CallError::new(404, format!("Agent '{agent_id}' not found")));
        };
        if agent.crashed {
            return Err(CallError::new(
                409,
                format!("Agent '{agent_id}' has crashed"),
            ));
        }
        if agent.partitioned {
            return Ok(());
        }
        agent.partitioned = true;
        agent.missed_pings = 0;
        tracing::info!(
            agent_id,
            "agent partitioned from the master (fault injection)"
        );
        fx.push(Effect::Timer(
            Instant::now() + timeout,
            Timer::Ping {
                agent_id: agent_id.to_string(),
            },
        ));
        Ok(())
    }

    /// The heal hook. `Ok(true)` when the agent had been marked unreachable and
    /// re-registered; `Ok(false)` when it had not (or was not partitioned at all).
    pub fn heal_agent(&mut self, agent_id: &str, fx: &mut Vec<Effect>) -> Result<bool, CallError> {
        if let Some(agent) = self.agent_mut(agent_id) {
            if agent.partitioned {
                agent.partitioned = false;
                agent.missed_pings = 0;
                tracing::info!(
                    agent_id,
                    "partition healed before the agent was unreachable"
                );
                self.reconnected(agent_id, fx);
            }
            return Ok(false);
        }
        let Some(pos) = self
            .unreachable_agents
            .iter()
            .position(|l| l.agent.id == agent_id && l.agent.partitioned)
        else {
            return Err(CallError::new(404, format!("Agent '{agent_id}' not found")));
        };
        let lost = self.unreachable_agents.remove(pos);
        let mut agent = lost.agent;
        agent.partitioned = false;
        agent.missed_pings = 0;
        agent.active = true;
        agent.reregistered_time = Some(now_secs());
        tracing::info!(
            agent_id,
            "unreachable agent re-registers after the partition healed"
        );
        self.counters.count("master/messages_reregister_slave");
        self.counters.count("master/slave_reregistrations");
        self.agents.push(agent);
        if let Some(a) = self.agents.last() {
            let event = json!({"type": "AGENT_ADDED", "agent_added": {
                "agent": views::agent_v1(self, a)}});
            self.publish(&event);
        }
        self.readmit_tasks(agent_id);
        self.reregistered(agent_id, fx);
        self.reconnected(agent_id, fx);
        Ok(true)
    }

    /// `__reregisterSlave`: the agent's tasks come back with a master-made update; its
    /// unreachable tasks it does not have are forgotten.
    fn readmit_tasks(&mut self, agent_id: &str) {
        let mut published = Vec::new();
        for f in &mut self.frameworks {
            let mut i = 0;
            while i < f.unreachable_tasks.len() {
                if f.unreachable_tasks[i].agent_id != agent_id {
                    i += 1;
                    continue;
                }
                let mut task = f.unreachable_tasks.remove(i);
                let Some(kept) = self.held.kept.remove(&(f.id.clone(), task.task_id.clone()))
                else {
                    continue; // never reached the agent: Mesos drops it from its records
                };
                task.kill = kept.kill;
                task.pending = kept.pending;
                task.resources_recovered = false;
                task.state = kept.since;
                let status = json!({
                    "task_id": id(&task.task_id),
                    "state": kept.state,
                    "source": Source::Master.as_str(),
                    "reason": Reason::AgentReregistered.as_str(),
                    "message": REREGISTERED_MESSAGE,
                    "agent_id": id(agent_id),
                    "executor_id": id(&task.executor_id),
                    "container_status": last_container_status(&task),
                    "timestamp": now_secs()
                });
                // The task is the agent's again: its statuses are the agent's (the
                // master's own, TASK_UNREACHABLE among them, were never the agent's), and
                // the master-made update goes to the framework only (`forward`, not
                // `updateTask`): Mesos drops it for a framework that is not connected.
                task.statuses
                    .retain(|s| s.source() != Some(&Source::Master));
                f.send_update(&status);
                // `addSlave` adds the agent's tasks back: `Framework::addTask` tells the
                // operator stream (TASK_ADDED, with the task's statuses).
                published.push(super::task_added_event(&task));
                f.tasks.push(task);
            }
        }
        // Tasks of frameworks removed meanwhile: Mesos shuts those frameworks down there.
        let stale: Vec<(String, String)> = self
            .held
            .kept
            .iter()
            .filter(|(_, k)| k.agent_id == agent_id)
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(kill) = self.held.kept.remove(&key).and_then(|k| k.kill) {
                let _ = kill.send(true);
            }
        }
        for event in &published {
            self.publish(event);
        }
    }

    /// The agent reaches the master again (healed, or restarted and re-registered): its
    /// update streams resume (the update in flight is sent again, as Mesos's status update
    /// manager does on re-registration), then the updates it kept go out in order.
    pub(super) fn reconnected(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        let retry = self.settings.update_retry;
        for f in &self.frameworks {
            for t in f.tasks.iter().filter(|t| t.agent_id == agent_id) {
                let Some(head) = t.pending.front() else {
                    continue;
                };
                f.send_update(head);
                fx.push(Effect::Timer(
                    Instant::now() + retry,
                    Timer::Retry {
                        framework_id: f.id.clone(),
                        task_id: t.task_id.clone(),
                        uuid: head.uuid().unwrap_or("").to_string(),
                        backoff: retry,
                    },
                ));
            }
        }
        let (mine, rest): (Vec<HeldUpdate>, Vec<HeldUpdate>) =
            std::mem::take(&mut self.held.updates)
                .into_iter()
                .partition(|u| u.agent_id == agent_id);
        self.held.updates = rest;
        for u in mine {
            self.status_update(
                &u.framework_id,
                &u.task_id,
                &u.state,
                u.message,
                u.reason.as_deref(),
                fx,
            );
        }
        self.allocate(fx);
    }
}

/// Mesos's `getTaskContainerStatus`: the container status of the task's latest status.
fn last_container_status(task: &super::Task) -> Value {
    task.statuses
        .iter()
        .rev()
        .find_map(|s| s.get("container_status"))
        .unwrap_or_else(|| json!({"container_id": containers::container_id(task)}))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{events, master, subscribed};
    use super::*;

    #[test]
    fn a_healed_agent_brings_its_tasks_back_with_the_updates_it_kept() {
        let mut m = master();
        let agent_id = m.agents[0].id.clone();
        let mut fx = Vec::new();
        let (fid, mut rx, offer) =
            subscribed(&mut m, json!({"user": "u", "name": "legacy"}), &mut fx);
        let task = json!({"name": "t", "task_id": {"value": "t1"}, "agent_id": offer["agent_id"],
            "command": {"value": "sleep 60"},
            "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}}]});
        let op = json!({"type": "LAUNCH", "launch": {"task_infos": [task]}});
        let offer_id = offer["id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(m.accept(&fid, &[offer_id], &[op], 0.0, &mut fx).is_ok());
        m.status_update(&fid, "t1", "TASK_RUNNING", None, None, &mut fx);
        events(&mut rx);

        assert!(m.partition_agent(&agent_id, &mut fx).is_ok());
        // What the executor says now waits with the agent.
        m.status_update(&fid, "t1", "TASK_FINISHED", None, None, &mut fx);
        assert!(events(&mut rx).iter().all(|e| e["type"] != "UPDATE"));
        for _ in 0..3 {
            m.fire(
                Timer::Ping {
                    agent_id: agent_id.clone(),
                },
                &mut fx,
            );
        }
        let lost = events(&mut rx);
        assert_eq!(
            lost[0]["update"]["status"]["state"], "TASK_LOST",
            "{lost:?}"
        );
        assert_eq!(m.unreachable_agents.len(), 1);

        let (otx, mut orx) = crate::cluster::event_queue::channel(usize::MAX);
        m.operator_subscribe(otx);
        assert_eq!(m.heal_agent(&agent_id, &mut fx), Ok(true));
        // The operator stream: the agent, then its task as the agent has it (TASK_ADDED,
        // with the agent's statuses and none of the master's), then the update the agent
        // kept (TASK_UPDATED: TASK_FINISHED); the master-made update is the framework's only.
        let mut kinds = Vec::new();
        let mut added = Value::Null;
        while let Ok(bytes) = orx.try_recv() {
            let text = String::from_utf8_lossy(&bytes).to_string();
            let body = text.split_once('\n').map_or("", |(_, b)| b);
            let e: Value = serde_json::from_str(body).unwrap_or_default();
            if e["type"] == "TASK_ADDED" {
                added = e["task_added"]["task"].clone();
            }
            kinds.push(e["type"].as_str().unwrap_or_default().to_string());
        }
        let kinds: Vec<&str> = kinds.iter().map(String::as_str).skip(2).collect();
        assert_eq!(kinds, ["AGENT_ADDED", "TASK_ADDED", "TASK_UPDATED"]);
        let states: Vec<&Value> = added["statuses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| &s["state"])
            .collect();
        assert_eq!(states, [&json!("TASK_RUNNING")], "{added}");
        let ev: Vec<Value> = events(&mut rx)
            .into_iter()
            .filter(|e| e["type"] == "UPDATE")
            .collect();
        assert_eq!(ev.len(), 2, "{ev:?}");
        let back = &ev[0]["update"]["status"];
        assert_eq!(
            back["state"], "TASK_FINISHED",
            "the agent's view of the task"
        );
        assert_eq!(back["reason"], "REASON_AGENT_REREGISTERED");
        assert_eq!(back["message"], REREGISTERED_MESSAGE);
        assert!(back.get("uuid").is_none());
        // The update in flight before the partition (never acknowledged) comes again first;
        // the kept one follows its acknowledgement, through the agent's stream.
        let resent = &ev[1]["update"]["status"];
        assert_eq!(resent["state"], "TASK_RUNNING");
        let uuid = resent["uuid"].as_str().unwrap_or_default().to_string();
        m.acknowledge(&fid, "t1", &uuid, &mut fx);
        let next = events(&mut rx);
        let kept = &next[0]["update"]["status"];
        assert_eq!(kept["state"], "TASK_FINISHED", "{next:?}");
        assert!(kept["uuid"].is_string());
        assert_eq!(m.agents.len(), 1);
        assert!(m.unreachable_agents.is_empty());
        assert_eq!(m.counters.count_of("master/slave_reregistrations"), 1);
    }
}
