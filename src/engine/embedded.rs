//! The embedded Mesos-compatible cluster, started in-process when no master is configured.
//! The kernel reaches it only over HTTP, exactly as it reaches a real master.

use crate::cluster::{self, Cluster, ClusterConfig};
use std::time::Duration;

/// The embedded cluster's shape: two agents (so a tour has an offer left after the first
/// launch) with hostnames of their own, `agent1` and `agent2` (Mesos's agent `--hostname`:
/// each is then a machine of its own, so one can go into maintenance while the other
/// runs), a short heartbeat (so a lost stream is noticed within seconds), a fixed seed (so
/// ids repeat run to run).
pub fn default_config() -> ClusterConfig {
    ClusterConfig {
        agents: 2,
        agent_hostnames: vec!["agent1".into(), "agent2".into()],
        heartbeat_interval: Duration::from_secs(2),
        seed: Some(2016),
        kill_grace: Duration::from_secs(2),
        ..ClusterConfig::default()
    }
}

pub struct Embedded {
    cluster: Cluster,
    agents: usize,
}

impl Embedded {
    pub async fn start() -> Result<Embedded, String> {
        let config = default_config();
        let agents = config.agents;
        let cluster = cluster::start(config).await.map_err(|e| e.to_string())?;
        Ok(Embedded { cluster, agents })
    }

    pub fn master_url(&self) -> String {
        self.cluster.master_url()
    }

    pub fn announcement(&self) -> String {
        format!(
            "Started the embedded Mesos cluster: master {} with {} agents (use %master URL or MESOS_MASTER for a real cluster)",
            self.cluster.master_url(),
            self.agents
        )
    }

    pub async fn shutdown(self) {
        self.cluster.shutdown().await;
    }
}
