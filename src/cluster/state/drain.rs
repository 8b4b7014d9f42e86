//! Agent draining and deactivation as Mesos 1.11 does them (`Master::Http::_drainAgent`,
//! `_deactivateAgent`, `_reactivateAgent` in `src/master/http.cpp`,
//! `Master::checkAndTransitionDrainingAgent` and `Master::deactivate` in
//! `src/master/master.cpp`, `Slave::drain` and the status decoration of `Slave::statusUpdate`
//! in `src/slave/slave.cpp`): a deactivated agent gets no offers and its outstanding ones
//! are rescinded; a draining one also has every task killed (with its kill policy, capped by
//! `max_grace_period`), and is DRAINED, or marked gone, once none is left.

use super::{time_info, CallError, Effect, Master};
use crate::mesos::v1::agent::{DrainConfig, DrainInfo, DrainState};
use crate::mesos::v1::DurationInfo;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What DRAIN_AGENT asked for and how far it got, and when the master told the agent.
#[derive(Debug, Clone)]
pub struct Drain {
    pub info: DrainInfo,
    /// `estimated_drain_start_time`, in seconds since the epoch.
    pub started: f64,
}

impl Drain {
    fn is(&self, state: DrainState) -> bool {
        self.info.state == state
    }

    fn max_grace(&self) -> Option<Duration> {
        self.info
            .config
            .max_grace_period
            .as_ref()
            .map(|d| d.to_duration().unwrap_or(Duration::ZERO))
    }
}

#[derive(Debug, Default)]
pub struct Drains {
    pub info: HashMap<String, Drain>,
    pub deactivated: HashSet<String>,
}

impl Drains {
    /// A removed agent's draining is over (Mesos's `_removeSlave` erases both).
    pub fn forget(&mut self, agent_id: &str) {
        self.info.remove(agent_id);
        self.deactivated.remove(agent_id);
    }

    pub fn is_deactivated(&self, agent_id: &str) -> bool {
        self.deactivated.contains(agent_id)
    }

    pub fn of(&self, agent_id: &str) -> Option<&Drain> {
        self.info.get(agent_id)
    }
}

/// The fields GET_AGENTS adds for an agent that is deactivated or draining.
pub fn agent_fields(m: &Master, agent_id: &str) -> (bool, Option<Value>, Option<Value>) {
    let deactivated = m.drains.is_deactivated(agent_id);
    match m.drains.of(agent_id) {
        Some(d) => (
            deactivated,
            serde_json::to_value(&d.info).ok(),
            Some(time_info(d.started)),
        ),
        None => (deactivated, None, None),
    }
}

/// The agent's own view of its drain (`Slave::drainConfig` and `estimatedDrainStartTime`,
/// in the agent's `/state` and GET_AGENT): the DrainConfig and when it began, in whole
/// seconds, while the agent still drains (it forgets both once no framework is left on it,
/// which here is when the master has it DRAINED).
pub fn agent_side(m: &Master, agent_id: &str) -> Option<(DrainConfig, i64)> {
    let d = m
        .drains
        .of(agent_id)
        .filter(|d| d.is(DrainState::Draining))?;
    Some((d.info.config.clone(), d.started.floor() as i64))
}

impl Master {
    /// Whether the agent is known: registered or unreachable (Mesos also counts agents
    /// recovered from its registry, which the in-memory registry never has).
    fn known_agent(&self, agent_id: &str) -> bool {
        self.agent(agent_id).is_some()
            || self
                .unreachable_agents
                .iter()
                .any(|a| a.agent.id == agent_id)
    }

    /// `Master::deactivate`: no more offers, and those out are rescinded with the inverse
    /// offers.
    fn deactivate(&mut self, agent_id: &str) {
        if let Some(a) = self.agent_mut(agent_id) {
            a.active = false;
        }
        self.log_info(&format!("Deactivating agent {agent_id}"));
        self.rescind_offers_of(agent_id);
        self.rescind_inverse_offers_of(agent_id);
    }

    /// DRAIN_AGENT.
    pub fn drain_agent(
        &mut self,
        agent_id: &str,
        max_grace: Option<DurationInfo>,
        mark_gone: bool,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        if let Some(a) = self.agent(agent_id) {
            let machine = self.machine_of(a);
            if self.scheduled(&machine) {
                let name = match (&machine.hostname, &machine.ip) {
                    (Some(h), Some(ip)) => format!("{h} ({ip})"),
                    (Some(h), None) => h.clone(),
                    (None, Some(ip)) => ip.clone(),
                    (None, None) => String::new(),
                };
                return Err(CallError::new(
                    400,
                    format!(
                        "Agent {agent_id} is part of a maintenance schedule under Machine {name}"
                    ),
                ));
            }
        }
        if !self.known_agent(agent_id) {
            return Err(CallError::new(400, "Unknown agent"));
        }
        let started = super::now_secs();
        self.drains.info.insert(
            agent_id.to_string(),
            Drain {
                info: DrainInfo {
                    state: DrainState::Draining,
                    config: DrainConfig {
                        max_grace_period: max_grace,
                        mark_gone: Some(mark_gone),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                started,
            },
        );
        self.drains.deactivated.insert(agent_id.to_string());
        if self.agent(agent_id).is_none() {
            return Ok(()); // unreachable: it drains when it comes back
        }
        let tasks: Vec<(String, String)> = self
            .frameworks
            .iter()
            .flat_map(|f| {
                f.tasks
                    .iter()
                    .filter(|t| t.agent_id == agent_id && !t.is_terminal())
                    .map(|t| (f.id.clone(), t.task_id.clone()))
            })
            .collect();
        self.log_info(&format!(
            "Transitioning agent {agent_id} to the DRAINING state; agent has {} tasks",
            tasks.len()
        ));
        self.deactivate(agent_id);
        let config = self
            .drains
            .of(agent_id)
            .and_then(|d| serde_json::to_string(&d.info.config).ok());
        self.log_agent(
            agent_id,
            &format!(
                "Initiating drain with DrainConfig {}; agent has {} launched tasks",
                config.unwrap_or_default(),
                tasks.len()
            ),
        );
        // The agent kills every task (`Slave::drain`).
        for (framework_id, task_id) in &tasks {
            self.kill(framework_id, task_id, fx);
        }
        self.check_drained(agent_id, fx);
        Ok(())
    }

    /// An agent registers again (a healed partition, a restart), as `__reregisterSlave` and
    /// `___reregisterSlave` see it: a deactivated one is deactivated again (no offers), and
    /// a draining one is sent its drain again, so the tasks it still has are killed.
    pub(super) fn reregistered(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        if !self.drains.is_deactivated(agent_id) {
            return;
        }
        self.deactivate(agent_id);
        if self.drains.of(agent_id).is_none() {
            return;
        }
        let tasks: Vec<(String, String)> = self
            .frameworks
            .iter()
            .flat_map(|f| {
                f.tasks
                    .iter()
                    .filter(|t| t.agent_id == agent_id && !t.is_terminal())
                    .map(|t| (f.id.clone(), t.task_id.clone()))
            })
            .collect();
        for (framework_id, task_id) in &tasks {
            self.kill(framework_id, task_id, fx);
        }
        self.check_drained(agent_id, fx);
    }

    /// `checkAndTransitionDrainingAgent`: a draining agent with no task left is DRAINED,
    /// or marked gone when DRAIN_AGENT said `mark_gone`.
    pub(super) fn check_drained(&mut self, agent_id: &str, fx: &mut Vec<Effect>) {
        let Some(d) = self.drains.of(agent_id) else {
            return;
        };
        if d.is(DrainState::Drained) {
            return;
        }
        // A task stays until its terminal update is acknowledged, as in Mesos's
        // `slave->tasks`: the agent is DRAINED once the frameworks have heard of every end.
        let busy = self
            .frameworks
            .iter()
            .any(|f| f.tasks.iter().any(|t| t.agent_id == agent_id));
        if busy {
            return;
        }
        if d.info.config.mark_gone() {
            self.log_info(&format!(
                "Marking agent {agent_id} in the DRAINED state as gone"
            ));
            let _ = self.mark_gone(agent_id, fx);
            self.drains.forget(agent_id);
        } else if let Some(d) = self.drains.info.get_mut(agent_id) {
            d.info.state = DrainState::Drained;
            self.log_info(&format!(
                "Transitioning agent {agent_id} to the DRAINED state"
            ));
            self.log_info(&format!("Agent {agent_id} successfully marked as DRAINED"));
            self.log_agent(agent_id, "Agent finished draining");
        }
    }

    /// What a draining agent writes in its tasks' kill updates (`Slave::statusUpdate`):
    /// TASK_KILLING and TASK_KILLED say `REASON_AGENT_DRAINING`, and a drain that marks the
    /// agent gone reports TASK_GONE_BY_OPERATOR to partition-aware frameworks.
    pub(super) fn drain_status<'a>(
        &self,
        agent_id: &str,
        framework_id: &str,
        state: &'a str,
        reason: Option<&'a str>,
    ) -> (&'a str, Option<&'a str>) {
        let Some(d) = self.drains.of(agent_id) else {
            return (state, reason);
        };
        if !d.is(DrainState::Draining) || !matches!(state, "TASK_KILLING" | "TASK_KILLED") {
            return (state, reason);
        }
        let aware = self
            .framework(framework_id)
            .is_some_and(|f| f.partition_aware());
        if d.info.config.mark_gone() && aware {
            ("TASK_GONE_BY_OPERATOR", Some("REASON_AGENT_DRAINING"))
        } else {
            (state, Some("REASON_AGENT_DRAINING"))
        }
    }

    /// How long a killed task has between SIGTERM and SIGKILL: its kill policy's grace
    /// period (else the cluster's), overridden on a draining agent by `max_grace_period`
    /// when that is shorter or the task has no policy (`calculateKillPolicy`).
    pub fn kill_grace_of(&self, framework_id: &str, task_id: &str, default: Duration) -> Duration {
        let Some(task) = self.framework(framework_id).and_then(|f| f.task(task_id)) else {
            return default;
        };
        let policy = task
            .info
            .pointer("/kill_policy/grace_period/nanoseconds")
            .as_ref()
            .and_then(Value::as_i64)
            .map(|ns| Duration::from_nanos(ns.max(0) as u64));
        let max = self
            .drains
            .of(&task.agent_id)
            .filter(|d| d.is(DrainState::Draining))
            .and_then(Drain::max_grace);
        match (policy, max) {
            (None, Some(max)) => max,
            (Some(p), Some(max)) if max < p => max,
            (Some(p), _) => p,
            (None, None) => default,
        }
    }

    /// DEACTIVATE_AGENT.
    pub fn deactivate_agent(&mut self, agent_id: &str) -> Result<(), CallError> {
        if !self.known_agent(agent_id) {
            return Err(CallError::new(400, "Unknown agent"));
        }
        self.drains.deactivated.insert(agent_id.to_string());
        if self.agent(agent_id).is_some() {
            self.deactivate(agent_id);
        }
        Ok(())
    }

    /// REACTIVATE_AGENT: offers again, and the drain (if DRAINED) is forgotten.
    pub fn reactivate_agent(
        &mut self,
        agent_id: &str,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        if !self.drains.is_deactivated(agent_id) {
            return Err(CallError::new(400, "Agent is not deactivated"));
        }
        if self
            .drains
            .of(agent_id)
            .is_some_and(|d| d.is(DrainState::Draining))
        {
            return Err(CallError::new(400, "Agent is still in the DRAINING state"));
        }
        self.drains.forget(agent_id);
        let Some(a) = self.agent_mut(agent_id) else {
            return Err(CallError::new(
                409,
                "Agent removed while processing the call",
            ));
        };
        a.active = true;
        self.log_info(&format!("Reactivating agent {agent_id}"));
        self.allocate(fx);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::master;
    use super::*;
    use serde_json::json;

    #[test]
    fn deactivation_rescinds_offers_and_reactivation_offers_again() {
        let mut m = master();
        let agent_id = m.agents[0].id.clone();
        assert_eq!(
            m.deactivate_agent("nope").unwrap_err(),
            CallError::new(400, "Unknown agent")
        );
        m.deactivate_agent(&agent_id).unwrap();
        assert!(!m.agents[0].active);
        assert!(agent_fields(&m, &agent_id).0);
        let mut fx = Vec::new();
        m.reactivate_agent(&agent_id, &mut fx).unwrap();
        assert!(m.agents[0].active);
        assert_eq!(
            m.reactivate_agent(&agent_id, &mut fx).unwrap_err(),
            CallError::new(400, "Agent is not deactivated")
        );
    }

    #[test]
    fn an_idle_agent_is_drained_at_once() {
        let mut m = master();
        let agent_id = m.agents[0].id.clone();
        let second = DurationInfo {
            nanoseconds: 1_000_000_000,
            ..Default::default()
        };
        m.drain_agent(&agent_id, Some(second), false, &mut Vec::new())
            .unwrap();
        let (deactivated, info, _) = agent_fields(&m, &agent_id);
        assert!(deactivated);
        assert_eq!(
            info,
            Some(json!({"state": "DRAINED", "config": {"mark_gone": false,
                "max_grace_period": {"nanoseconds": 1_000_000_000}}}))
        );
    }
}
