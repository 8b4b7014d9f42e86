//! Leader detection through ZooKeeper, as Mesos clients do it: under the path of a
//! `zk://host:port[,host:port]/path` URL, the child `json.info_<sequence>` with the lowest
//! sequence holds the leading master's MasterInfo as JSON. A watch follows the election.

use crate::mesos::error::MesosError;
use crate::mesos::v1::master::{MasterInfo, Prefer};
use crate::mesos::v1::message::read_lenient;
use crate::mesos::zk::ZkUrlError;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

pub use crate::mesos::zk::{leader_child, ZkUrl};

/// Reads a `zk://` URL, with the kernel's error for a bad one (never showing credentials).
pub fn parse_zk(url: &str) -> Result<ZkUrl, MesosError> {
    ZkUrl::parse(url).map_err(|e| {
        MesosError::InvalidRequest(match e {
            ZkUrlError::Scheme => format!("{url}: {e}"),
            ZkUrlError::Credentials => e.to_string(),
            ZkUrlError::Hosts => {
                let rest = url.trim().trim_start_matches("zk://");
                let shown = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
                format!("zk://{shown}: {e}")
            }
        })
    })
}

/// The base URL of a master from its MasterInfo JSON (by IP when it has one).
pub fn master_url(info: &Value) -> Option<String> {
    let info: MasterInfo = read_lenient(info)?;
    let (host, port) = info.host_port(Prefer::Ip)?;
    Some(format!("http://{host}:{port}"))
}

async fn connect(zk: &ZkUrl, timeout: Duration) -> Result<zookeeper_client::Client, MesosError> {
    let mut connector = zookeeper_client::Client::connector()
        .with_connection_timeout(timeout.min(Duration::from_secs(10)))
        .with_session_timeout(Duration::from_secs(10));
    if let Some(cred) = zk.credentials() {
        connector = connector.with_auth("digest", cred.as_bytes());
    }
    let fut = connector.connect(&zk.hosts);
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(MesosError::Connection {
            url: zk.to_string(),
            detail: format!("cannot reach ZooKeeper at {}: {e}", zk.hosts),
        }),
        Err(_) => Err(MesosError::Connection {
            url: zk.to_string(),
            detail: format!(
                "no ZooKeeper server at {} answered within {timeout:?}",
                zk.hosts
            ),
        }),
    }
}

async fn read_leader(
    client: &zookeeper_client::Client,
    zk: &ZkUrl,
) -> Result<(String, Value), MesosError> {
    let children = client
        .list_children(&zk.path)
        .await
        .map_err(|e| MesosError::Connection {
            url: zk.to_string(),
            detail: match e {
                zookeeper_client::Error::NoNode => format!(
                    "no master registered under {} (the path does not exist)",
                    zk.path
                ),
                other => format!("cannot list {}: {other}", zk.path),
            },
        })?;
    let Some(child) = leader_child(&children) else {
        return Err(MesosError::Connection {
            url: zk.to_string(),
            detail: format!("no master registered under {}", zk.path),
        });
    };
    let node = format!("{}/{child}", zk.path.trim_end_matches('/'));
    let (data, _) = client
        .get_data(&node)
        .await
        .map_err(|e| MesosError::Connection {
            url: zk.to_string(),
            detail: format!("cannot read {node}: {e}"),
        })?;
    let info: Value = serde_json::from_slice(&data).map_err(|e| MesosError::BadResponse {
        url: zk.to_string(),
        detail: format!("{node} is not MasterInfo JSON: {e}"),
    })?;
    let url = master_url(&info).ok_or_else(|| MesosError::BadResponse {
        url: zk.to_string(),
        detail: format!("{node} names no address and port"),
    })?;
    Ok((url, info))
}

/// Follows the election: `current()` is always the latest leader's URL.
pub struct LeaderWatch {
    current: Arc<Mutex<String>>,
    changes: watch::Receiver<String>,
    stop: CancellationToken,
    pub zk: ZkUrl,
}

impl LeaderWatch {
    pub async fn start(zk: ZkUrl, timeout: Duration) -> Result<LeaderWatch, MesosError> {
        let client = connect(&zk, timeout).await?;
        let (url, _) = read_leader(&client, &zk).await?;
        info!(leader = %url, "leading master found in {zk}");
        let current = Arc::new(Mutex::new(url.clone()));
        let (tx, rx) = watch::channel(url);
        let stop = CancellationToken::new();
        tokio::spawn(follow(
            client,
            zk.clone(),
            current.clone(),
            tx,
            stop.clone(),
        ));
        Ok(LeaderWatch {
            current,
            changes: rx,
            stop,
            zk,
        })
    }

    pub fn current(&self) -> String {
        self.current.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// A shared handle other tasks (the scheduler stream) read the leader from.
    pub fn handle(&self) -> Arc<Mutex<String>> {
        self.current.clone()
    }

    pub fn changes(&self) -> watch::Receiver<String> {
        self.changes.clone()
    }
}

impl Drop for LeaderWatch {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn follow(
    client: zookeeper_client::Client,
    zk: ZkUrl,
    current: Arc<Mutex<String>>,
    tx: watch::Sender<String>,
    stop: CancellationToken,
) {
    let mut client = client;
    loop {
        let watched = client.get_and_watch_children(&zk.path).await;
        let watcher = match watched {
            Ok((_, _, w)) => Some(w),
            Err(e) => {
                warn!("watching {} failed: {e}", zk.path);
                None
            }
        };
        if let Ok((url, _)) = read_leader(&client, &zk).await {
            let changed = current.lock().map(|mut c| {
                let changed = *c != url;
                *c = url.clone();
                changed
            });
            if changed.unwrap_or(false) {
                info!(leader = %url, "the leading master changed");
                let _ = tx.send(url);
            }
        }
        match watcher {
            Some(w) => {
                tokio::select! {
                    _ = w.changed() => {}
                    _ = stop.cancelled() => return,
                }
            }
            None => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.cancelled() => return,
                }
                // The session may be gone; connect again.
                if let Ok(c) = connect(&zk, Duration::from_secs(10)).await {
                    client = c;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_zk_urls_say_what_is_wrong() {
        let err = |u: &str| parse_zk(u).unwrap_err().to_string();
        assert!(err("http://x").contains("a ZooKeeper URL starts with zk://"));
        assert!(err("zk:///mesos").contains("no ZooKeeper hosts"));
        assert!(!err("zk://u@h/m").contains("u@"));
        assert!(!err("zk://u:secret@/m").contains("secret"));
        assert!(parse_zk("zk://h:1/mesos").is_ok());
    }

    #[test]
    fn master_urls_from_master_info() {
        let info = json!({"address": {"hostname": "m1", "ip": "10.0.0.5", "port": 5050}, "hostname": "m1", "port": 5050});
        assert_eq!(master_url(&info).unwrap(), "http://10.0.0.5:5050");
        assert_eq!(
            master_url(&json!({"hostname": "m", "port": 1})).unwrap(),
            "http://m:1"
        );
        assert_eq!(master_url(&json!({})), None);
    }
}
