//! What a newly elected master recovers from the registry (with `--zk`, the copy the
//! leader keeps in ZooKeeper: `replica.rs`): the agents it admitted. As Mesos 1.11's
//! `Master::_recover` fills `slaves.recovered`, those that have not re-registered with this
//! master yet are listed as recovered (GET_AGENTS's `recovered_agents`, `/master/state`'s
//! and `/master/slaves`'s `recovered_slaves`) until they do (`__reregisterSlave` takes
//! them out) or `--agent_reregister_timeout` passes (`recoveredSlavesTimeout`, counted in
//! `master/recovery_slave_removals`).

use super::{Effect, Master, Timer};
use crate::cluster::views;
use crate::mesos::v1::agent::AgentInfo;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Mesos's `--agent_reregister_timeout` default (the cluster's GET_FLAGS says so too).
pub const AGENT_REREGISTER_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// An agent the registry admitted that has not re-registered with this master yet.
#[derive(Debug, Clone)]
pub struct RecoveredAgent {
    pub info: AgentInfo,
    pub since: Instant,
}

impl RecoveredAgent {
    pub fn id(&self) -> &str {
        self.info.id.as_ref().map_or("", |i| i.as_str())
    }
}

/// The registry's admitted agents as the leader keeps them: `{"agents": [AgentInfo...]}`.
pub fn parse(bytes: &[u8]) -> Result<Vec<AgentInfo>, serde_json::Error> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(serde::Deserialize)]
    struct Registry {
        #[serde(default)]
        agents: Vec<AgentInfo>,
    }
    Ok(serde_json::from_slice::<Registry>(bytes)?.agents)
}

impl Master {
    /// The registry's admitted agents: the registered ones and those still recovered.
    pub fn registry_agents(&self) -> Value {
        let mut agents: Vec<Value> = self
            .agents
            .iter()
            .map(|a| views::agent_info_v1(self, a))
            .collect();
        agents.extend(
            self.recovered_agents
                .iter()
                .map(|r| serde_json::to_value(&r.info).unwrap_or(Value::Null)),
        );
        json!({ "agents": agents })
    }

    /// Elected: the admitted agents this master does not know yet are recovered.
    pub fn recover_agents(&mut self, admitted: Vec<AgentInfo>, fx: &mut Vec<Effect>) {
        let known: HashSet<&str> = self
            .agents
            .iter()
            .map(|a| a.id.as_str())
            .chain(self.unreachable_agents.iter().map(|l| l.agent.id.as_str()))
            .chain(self.gone_agents.iter().map(|l| l.agent.id.as_str()))
            .collect();
        let now = Instant::now();
        let recovered: Vec<RecoveredAgent> = admitted
            .into_iter()
            .filter(|info| {
                info.id
                    .as_ref()
                    .is_some_and(|id| !known.contains(id.as_str()))
            })
            .map(|info| RecoveredAgent { info, since: now })
            .collect();
        self.recovered_agents = recovered;
        if self.recovered_agents.is_empty() {
            return;
        }
        tracing::info!(
            agents = self.recovered_agents.len(),
            "recovered agents from the registry; waiting for them to re-register"
        );
        fx.push(Effect::Timer(
            now + AGENT_REREGISTER_TIMEOUT,
            Timer::RecoveredAgents,
        ));
    }

    /// An agent (re-)registered: no longer only recovered.
    pub(super) fn forget_recovered(&mut self, agent_id: &str) {
        self.recovered_agents.retain(|r| r.id() != agent_id);
    }

    /// `recoveredSlavesTimeout`: the recovered agents that did not re-register in time are
    /// removed from the registry.
    pub(super) fn recovered_timeout(&mut self) {
        let now = Instant::now();
        let before = self.recovered_agents.len();
        self.recovered_agents
            .retain(|r| r.since + AGENT_REREGISTER_TIMEOUT > now);
        for _ in self.recovered_agents.len()..before {
            self.counters.count("master/recovery_slave_removals");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::master;
    use super::*;

    #[test]
    fn admitted_agents_that_have_not_reregistered_are_recovered() {
        let mut m = master();
        let mut fx = Vec::new();
        let own = m.agents[0].id.clone();
        let registry = json!({"agents": [
            {"id": {"value": own}, "hostname": "h", "port": 5051},
            {"id": {"value": "elsewhere"}, "hostname": "h2", "port": 5052,
             "attributes": [{"name": "rack", "type": "TEXT", "text": {"value": "r1"}}]}
        ]});
        let admitted = parse(registry.to_string().as_bytes()).unwrap();
        m.recover_agents(admitted, &mut fx);
        let ids: Vec<&str> = m.recovered_agents.iter().map(RecoveredAgent::id).collect();
        assert_eq!(ids, vec!["elsewhere"]);
        assert!(matches!(
            fx.last(),
            Some(Effect::Timer(_, Timer::RecoveredAgents))
        ));
        // The registry still admits it, beside the registered agent.
        let agents = m.registry_agents();
        assert_eq!(
            agents["agents"].as_array().map(Vec::len),
            Some(2),
            "{agents}"
        );
        // Before the timeout it stays; after, it is removed and counted.
        m.fire(Timer::RecoveredAgents, &mut fx);
        assert_eq!(m.recovered_agents.len(), 1);
        if let Some(past) = Instant::now().checked_sub(AGENT_REREGISTER_TIMEOUT) {
            m.recovered_agents[0].since = past;
            m.fire(Timer::RecoveredAgents, &mut fx);
            assert!(m.recovered_agents.is_empty());
            assert_eq!(m.counters.count_of("master/recovery_slave_removals"), 1);
        }
        // Re-registering takes one out; being elected again with nothing to recover clears.
        m.recover_agents(parse(registry.to_string().as_bytes()).unwrap(), &mut fx);
        m.forget_recovered("elsewhere");
        assert!(m.recovered_agents.is_empty());
        m.recover_agents(parse(registry.to_string().as_bytes()).unwrap(), &mut fx);
        m.recover_agents(Vec::new(), &mut fx);
        assert!(m.recovered_agents.is_empty());
        assert!(parse(b"").unwrap().is_empty());
        assert!(parse(b"{").is_err());
    }
}
