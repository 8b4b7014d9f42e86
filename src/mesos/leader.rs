//! Leader detection through ZooKeeper, as Mesos clients do it: under the path of a
//! `zk://host:port[,host:port]/path` URL, the child `json.info_<sequence>` with the lowest
//! sequence holds the leading master's MasterInfo as JSON. A watch follows the election.

use crate::mesos::error::MesosError;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// A parsed `zk://` URL. The credentials stay out of `Debug` and `Display`.
#[derive(Clone, PartialEq)]
pub struct ZkUrl {
    pub hosts: String,
    pub path: String,
    credentials: Option<String>,
}

impl std::fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = if self.credentials.is_some() {
            "***@"
        } else {
            ""
        };
        write!(f, "zk://{auth}{}{}", self.hosts, self.path)
    }
}

impl ZkUrl {
    pub fn parse(url: &str) -> Result<ZkUrl, MesosError> {
        let rest = url.trim().strip_prefix("zk://").ok_or_else(|| {
            MesosError::InvalidRequest(format!("{url}: a ZooKeeper URL starts with zk://"))
        })?;
        let (credentials, rest) = match rest.rsplit_once('@') {
            Some((cred, hosts)) => {
                if !cred.contains(':') {
                    return Err(MesosError::InvalidRequest(
                        "zk:// credentials are user:password@".into(),
                    ));
                }
                (Some(cred.to_string()), hosts)
            }
            None => (None, rest),
        };
        let (hosts, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/mesos"),
        };
        let path = path.trim_end_matches('/');
        if hosts.is_empty() || hosts.split(',').any(|h| h.trim().is_empty()) {
            return Err(MesosError::InvalidRequest(format!(
                "zk://{hosts}{path}: no ZooKeeper hosts"
            )));
        }
        Ok(ZkUrl {
            hosts: hosts.to_string(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_string()
            },
            credentials,
        })
    }
}

/// The base URL of a master from its MasterInfo JSON.
pub fn master_url(info: &Value) -> Option<String> {
    let host = info
        .pointer("/address/ip")
        .and_then(Value::as_str)
        .or_else(|| info.pointer("/address/hostname").and_then(Value::as_str))
        .or_else(|| info.get("hostname").and_then(Value::as_str))?;
    let port = info
        .pointer("/address/port")
        .and_then(Value::as_u64)
        .or_else(|| info.get("port").and_then(Value::as_u64))?;
    Some(format!("http://{host}:{port}"))
}

/// The lowest `json.info_` child: Mesos's election order.
pub fn leader_child(children: &[String]) -> Option<&String> {
    children
        .iter()
        .filter(|c| c.starts_with("json.info_"))
        .min_by_key(|c| c["json.info_".len()..].parse::<u64>().unwrap_or(u64::MAX))
}

async fn connect(zk: &ZkUrl, timeout: Duration) -> Result<zookeeper_client::Client, MesosError> {
    let mut connector = zookeeper_client::Client::connector()
        .with_connection_timeout(timeout.min(Duration::from_secs(10)))
        .with_session_timeout(Duration::from_secs(10));
    if let Some(cred) = &zk.credentials {
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
    fn parses_zk_urls() {
        let z = ZkUrl::parse("zk://h1:2181,h2:2181/mesos").unwrap();
        assert_eq!(z.hosts, "h1:2181,h2:2181");
        assert_eq!(z.path, "/mesos");
        let z = ZkUrl::parse("zk://user:secret@h1:2181/a/b/").unwrap();
        assert_eq!(z.path, "/a/b");
        assert!(!format!("{z} {z:?}").contains("secret"));
        assert!(ZkUrl::parse("http://x").is_err());
        assert!(ZkUrl::parse("zk:///mesos").is_err());
    }

    #[test]
    fn the_lowest_sequence_leads() {
        let children: Vec<String> = [
            "log_replicas",
            "json.info_0000000012",
            "json.info_0000000003",
            "info_0000000001",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(leader_child(&children).unwrap(), "json.info_0000000003");
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
