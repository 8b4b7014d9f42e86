//! With `--zk`, the registry's admitted agents are kept in ZooKeeper, in the znode
//! `registry` beside the masters' `json.info_` znodes (the embedded cluster's stand-in for
//! Mesos's replicated log, whose replicas Mesos also finds under that path). The leader
//! writes the AgentInfo of every agent it admitted whenever that list changes; a newly
//! elected master reads it before writing and lists the agents that have not
//! re-registered with it yet as recovered (`state/registry.rs`), as a Mesos master
//! recovers `slaves.recovered` from its registry after a failover.

use super::election::{self, Role, ZkTarget};
use super::runtime::Shared;
use super::state::registry_parse;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

/// The znode's name under the `--zk` path.
pub const ZNODE: &str = "registry";

/// How often the leader looks for a change to write (as often as agents follow leaders).
const TICK: Duration = Duration::from_millis(100);

/// Keeps the registry in ZooKeeper while this master leads; recovers it when elected.
pub fn spawn(shared: Arc<Shared>, zk: ZkTarget, session_timeout: Duration) {
    tokio::spawn(async move {
        let node = format!("{}/{ZNODE}", zk.path);
        let mut client: Option<Client> = None;
        // Read once per term, before anything is written.
        let mut recovered = false;
        let mut written: Option<Vec<u8>> = None;
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = shared.stopping.cancelled() => return,
                _ = tick.tick() => {}
            }
            if shared.role.get() != Role::Leading {
                recovered = false;
                shared.registry_recovered.store(false, Ordering::SeqCst);
                written = None;
                continue;
            }
            if client.as_ref().is_none_or(|c| c.state().is_terminated()) {
                match election::connect(&zk, session_timeout).await {
                    Ok(c) => client = Some(c),
                    Err(e) => {
                        tracing::warn!("the registry cannot reach ZooKeeper: {e}");
                        continue;
                    }
                }
            }
            let Some(c) = client.as_ref() else { continue };
            if !recovered {
                match read(c, &node).await {
                    Ok(admitted) => {
                        shared.with(|m, fx| m.recover_agents(admitted, fx));
                        recovered = true;
                        shared.registry_recovered.store(true, Ordering::SeqCst);
                    }
                    Err(e) => {
                        tracing::warn!("cannot read the registry at {node}: {e}");
                        continue;
                    }
                }
            }
            let snapshot = shared.lock().registry_agents().to_string().into_bytes();
            if written.as_ref() == Some(&snapshot) {
                continue;
            }
            match write(c, &node, &snapshot).await {
                Ok(()) => written = Some(snapshot),
                Err(e) => tracing::warn!("cannot write the registry at {node}: {e}"),
            }
        }
    });
}

/// The admitted agents the registry holds (none before any leader wrote it).
async fn read(
    client: &Client,
    node: &str,
) -> Result<Vec<crate::mesos::v1::agent::AgentInfo>, String> {
    match client.get_data(node).await {
        Ok((data, _)) => registry_parse(&data).map_err(|e| format!("not a registry: {e}")),
        Err(ZkError::NoNode) => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

async fn write(client: &Client, node: &str, data: &[u8]) -> Result<(), ZkError> {
    match client.set_data(node, data, None).await {
        Ok(_) => Ok(()),
        Err(ZkError::NoNode) => {
            let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
            match client.create(node, data, &persistent).await {
                Ok(_) => Ok(()),
                // Another master created it meanwhile: the next tick sets it.
                Err(ZkError::NodeExists) => Err(ZkError::NodeExists),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
