//! Leader election through ZooKeeper, as Mesos masters run it: each master creates an
//! ephemeral sequential znode `json.info_<seq>` under the `--zk` path holding its MasterInfo
//! JSON, and the lowest sequence leads. A master whose ZooKeeper session dies loses its znode,
//! so a killed leader is replaced once its session times out.
//!
//! This file owns the master's role (leading or standby) and the task that keeps it true.
//! The `zk://` URL and the znode layout are Mesos's, shared with the kernel (`mesos::zk`).

use crate::mesos::v1::master::{MasterInfo, Prefer};
use crate::mesos::v1::message::read_lenient;
use crate::mesos::zk::INFO_PREFIX as PREFIX;
pub use crate::mesos::zk::{leader_child, ZkUrl as ZkTarget};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use zookeeper_client::{Acls, Client, CreateMode, Error as ZkError};

#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    #[error("invalid --zk URL '{0}': expected zk://host:port[,host:port]/path")]
    Url(String),
    #[error("cannot reach ZooKeeper at {hosts}: {detail}")]
    Connect { hosts: String, detail: String },
    #[error("cannot register in ZooKeeper under {path}: {source}")]
    Register { path: String, source: ZkError },
}

/// Reads the `--zk` URL: a `zk://` URL naming a folder for the masters' znodes.
pub fn parse_zk(url: &str) -> Result<ZkTarget, ElectionError> {
    match ZkTarget::parse(url) {
        Ok(zk) if zk.path != "/" => Ok(zk),
        _ => Err(ElectionError::Url(url.to_string())),
    }
}

/// Where this master stands in the election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// It leads (always so without `--zk`).
    Leading,
    /// Another master leads, at `(hostname, port)`; `None` while no leader is known.
    Standby(Option<(String, u16)>),
}

/// The role, shared between the election task and the HTTP layer.
#[derive(Debug)]
pub struct RoleCell(Mutex<Role>);

impl RoleCell {
    pub fn new(role: Role) -> RoleCell {
        RoleCell(Mutex::new(role))
    }

    pub fn get(&self) -> Role {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the role; true when it changed.
    pub(super) fn set(&self, role: Role) -> bool {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *r != role;
        *r = role;
        changed
    }
}

/// `(hostname, port)` of a MasterInfo, as Mesos's redirects name the leader.
fn leader_address(info: &Value) -> Option<(String, u16)> {
    read_lenient::<MasterInfo>(info)?.host_port(Prefer::Hostname)
}

/// How long connecting to ZooKeeper keeps trying (at least three session timeouts).
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);
const CONNECT_RETRY: Duration = Duration::from_millis(200);

pub(super) async fn connect(
    zk: &ZkTarget,
    session_timeout: Duration,
) -> Result<Client, ElectionError> {
    // One attempt lasts at most the session timeout; a busy ZooKeeper (a JVM on a loaded
    // machine) can miss that, so attempts go on for a while, as Mesos keeps retrying.
    let deadline = tokio::time::Instant::now() + CONNECT_PATIENCE.max(session_timeout * 3);
    loop {
        let mut connector = Client::connector()
            .with_connection_timeout(Duration::from_secs(10))
            .with_session_timeout(session_timeout);
        if let Some(cred) = zk.credentials() {
            connector = connector.with_auth("digest", cred.as_bytes());
        }
        match connector.connect(&zk.hosts).await {
            Ok(client) => return Ok(client),
            Err(e) if tokio::time::Instant::now() + CONNECT_RETRY < deadline => {
                tracing::warn!(
                    "ZooKeeper at {} did not take a session ({e}); trying again",
                    zk.hosts
                );
                tokio::time::sleep(CONNECT_RETRY).await;
            }
            Err(e) => {
                return Err(ElectionError::Connect {
                    hosts: zk.hosts.clone(),
                    detail: e.to_string(),
                })
            }
        }
    }
}

/// Creates every missing component of `path` (persistent, open ACL, as Mesos's path is).
async fn ensure_path(client: &Client, path: &str) -> Result<(), ZkError> {
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let mut prefix = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        prefix.push('/');
        prefix.push_str(part);
        match client.create(&prefix, b"", &persistent).await {
            Ok(_) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Registers this master's znode; returns its child name (`json.info_0000000007`).
async fn register(client: &Client, zk: &ZkTarget, info: &[u8]) -> Result<String, ElectionError> {
    let failed = |source| ElectionError::Register {
        path: zk.path.clone(),
        source,
    };
    ensure_path(client, &zk.path).await.map_err(failed)?;
    let ephemeral = CreateMode::EphemeralSequential.with_acls(Acls::anyone_all());
    let node = format!("{}/{PREFIX}", zk.path);
    let (_, seq) = client
        .create(&node, info, &ephemeral)
        .await
        .map_err(failed)?;
    Ok(format!("{PREFIX}{seq}"))
}

/// A running election: `leave` deletes the znode at once, so a clean shutdown hands over
/// without waiting for the session timeout.
pub struct Election {
    task: Option<JoinHandle<()>>,
    stop: CancellationToken,
}

impl Election {
    /// Connects, registers `master_info` and starts following the election; `role` is kept
    /// up to date from then on. Fails when ZooKeeper cannot be reached or written.
    pub async fn join(
        zk: ZkTarget,
        session_timeout: Duration,
        master_info: Value,
        role: Arc<RoleCell>,
    ) -> Result<Election, ElectionError> {
        let data = master_info.to_string().into_bytes();
        let client = connect(&zk, session_timeout).await?;
        let me = register(&client, &zk, &data).await?;
        // ZooKeeper bounds the session timeout to [2, 20] ticks; the negotiated one is how
        // long a killed leader keeps its place.
        info!(znode = %me, path = %zk.path, session_timeout = ?client.session_timeout(), "registered in ZooKeeper ({zk:?})");
        let stop = CancellationToken::new();
        let task = tokio::spawn(follow(
            client,
            zk,
            session_timeout,
            data,
            me,
            role,
            stop.clone(),
        ));
        Ok(Election {
            task: Some(task),
            stop,
        })
    }

    pub async fn leave(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Watches the children until stopped. A lost session (its znode is gone) makes this master a
/// standby; it connects again and registers anew, behind the masters already there.
async fn follow(
    mut client: Client,
    zk: ZkTarget,
    session_timeout: Duration,
    data: Vec<u8>,
    mut me: String,
    role: Arc<RoleCell>,
    stop: CancellationToken,
) {
    loop {
        let mut session = client.state_watcher();
        match client.get_and_watch_children(&zk.path).await {
            Ok((children, _, watcher)) => {
                let next = decide(&client, &zk, &me, &children).await;
                if role.set(next.clone()) {
                    match &next {
                        Role::Leading => info!(znode = %me, "elected the leading master"),
                        Role::Standby(Some((h, p))) => {
                            info!(leader = %format!("{h}:{p}"), "standby; another master leads")
                        }
                        Role::Standby(None) => info!("standby; no leader elected"),
                    }
                }
                tokio::select! {
                    _ = watcher.changed() => continue,
                    s = session.changed() => {
                        if !s.is_terminated() {
                            continue;
                        }
                        warn!("ZooKeeper session ended ({s:?}); standing by and registering again");
                    }
                    _ = stop.cancelled() => {
                        let _ = client.delete(&format!("{}/{me}", zk.path), None).await;
                        return;
                    }
                }
            }
            Err(e) => warn!("watching {} failed: {e}", zk.path),
        }
        // The session is gone or broken: this master cannot know it still leads.
        role.set(Role::Standby(None));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.cancelled() => return,
            }
            if client.state().is_terminated() {
                match connect(&zk, session_timeout).await {
                    Ok(c) => client = c,
                    Err(e) => {
                        warn!("{e}");
                        continue;
                    }
                }
                match register(&client, &zk, &data).await {
                    Ok(name) => {
                        info!(znode = %name, "registered in ZooKeeper again");
                        me = name;
                    }
                    Err(e) => {
                        warn!("{e}");
                        continue;
                    }
                }
            }
            break;
        }
    }
}

/// The role the children imply: leading when ours is the lowest, else the lowest's address.
async fn decide(client: &Client, zk: &ZkTarget, me: &str, children: &[String]) -> Role {
    let Some(leader) = leader_child(children) else {
        return Role::Standby(None);
    };
    if leader == me {
        return Role::Leading;
    }
    match client.get_data(&format!("{}/{leader}", zk.path)).await {
        Ok((data, _)) => {
            let address = serde_json::from_slice::<Value>(&data)
                .ok()
                .as_ref()
                .and_then(leader_address);
            if address.is_none() {
                warn!(znode = %leader, "the leader's znode holds no MasterInfo address");
            }
            Role::Standby(address)
        }
        // It vanished between the listing and the read; the watch fires again.
        Err(_) => Role::Standby(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_zk_flag_names_a_folder() {
        let z = parse_zk("zk://u:secret@h1:2181,h2:2181/a/b/").unwrap();
        assert_eq!(z.path, "/a/b");
        assert!(!format!("{z:?}").contains("secret"));
        assert_eq!(parse_zk("zk://h:1").unwrap().path, "/mesos");
        assert!(parse_zk("http://h:1/mesos").is_err());
        assert!(parse_zk("zk:///mesos").is_err());
        assert!(parse_zk("zk://h:1/").is_err());
    }

    #[test]
    fn the_leader_is_named_by_its_hostname() {
        let info = json!({"address": {"hostname": "m1", "ip": "10.0.0.5", "port": 5050}});
        assert_eq!(
            leader_address(&json!({"hostname": "h", "port": 5})),
            Some(("h".into(), 5))
        );
        assert_eq!(leader_address(&info), Some(("m1".into(), 5050)));
    }
}
