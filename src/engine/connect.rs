//! Where calls go: the master (from `%master`, else `MESOS_MASTER`, else an embedded
//! cluster started in-process on first use) and the default agent (from `%agent`, else the
//! first agent in the master's state).

use crate::engine::embedded::Embedded;
use crate::engine::errors::Kind;
use crate::jupyter::publisher::Publisher;
use crate::jupyter::CellError;
use crate::mesos::leader::{parse_zk, LeaderWatch, ZkUrl};
use crate::mesos::{Client, MesosError};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Default)]
pub struct Connection {
    master: Option<String>,
    /// Shared with the scheduler stream, so it follows a new leader.
    master_handle: Arc<Mutex<String>>,
    /// `%master zk://...`: the election is followed here.
    zk: Option<ZkUrl>,
    leader: Option<LeaderWatch>,
    /// Set by `%master embedded`, or when nothing else is configured.
    want_embedded: bool,
    agent: Option<String>,
    embedded: Option<Embedded>,
    /// `%replay`: the cassette's master. Whatever would need the network to find a master
    /// (the embedded cluster, ZooKeeper, `MESOS_MASTER`) gives this one instead.
    pinned: Option<String>,
}

/// Normalizes `host:port`, `http://host:port/`, `https://...` to a base URL without a
/// trailing slash.
pub fn base_url(spec: &str) -> Result<String, CellError> {
    let spec = spec.trim().trim_end_matches('/');
    if spec.is_empty() {
        return Err(CellError::new(Kind::InvalidCall.name(), "an empty address"));
    }
    let url = if spec.starts_with("http://") || spec.starts_with("https://") {
        spec.to_string()
    } else if spec.contains("://") {
        return Err(CellError::new(
            Kind::InvalidCall.name(),
            format!("{spec}: only http://, https:// and embedded are supported here"),
        ));
    } else {
        format!("http://{spec}")
    };
    reqwest::Url::parse(&url).map_err(|e| {
        CellError::new(
            Kind::InvalidCall.name(),
            format!("{spec} is not an address: {e}"),
        )
    })?;
    Ok(url)
}

impl Connection {
    /// `%master URL | zk://... | embedded`.
    pub fn set_master(&mut self, spec: &str) -> Result<(), CellError> {
        self.agent = None;
        self.leader = None;
        self.zk = None;
        let spec = spec.trim();
        if let Some(pinned) = self.pinned.clone() {
            if spec == "embedded" || spec.starts_with("zk://") {
                self.remember(&pinned);
                return Ok(());
            }
        }
        if spec == "embedded" {
            self.master = self.embedded.as_ref().map(|e| e.master_url());
            self.want_embedded = true;
            return Ok(());
        }
        self.want_embedded = false;
        if spec.starts_with("zk://") {
            self.zk = Some(parse_zk(spec).map_err(|e| mesos_error(&e))?);
            self.master = None;
            return Ok(());
        }
        self.master = Some(base_url(spec)?);
        Ok(())
    }

    /// The master URL as the scheduler stream reads it (moved by the leader watch).
    pub fn master_handle(&self) -> Arc<Mutex<String>> {
        match &self.leader {
            Some(l) => l.handle(),
            None => self.master_handle.clone(),
        }
    }

    fn remember(&mut self, url: &str) {
        self.master = Some(url.to_string());
        if let Ok(mut h) = self.master_handle.lock() {
            *h = url.to_string();
        }
    }

    /// `%replay PATH` pins the cassette's master; `%replay off` (None) unpins it.
    pub fn pin(&mut self, master: Option<String>) {
        self.agent = None;
        self.leader = None;
        self.zk = None;
        self.want_embedded = false;
        self.master = None;
        self.pinned = master.clone();
        if let Some(m) = master {
            self.remember(&m);
        }
    }

    pub fn set_agent(&mut self, url: String) {
        self.agent = Some(url);
    }

    pub fn current_master(&self) -> Option<&str> {
        self.master.as_deref()
    }

    pub fn current_agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// The master's base URL, connecting on first use.
    pub async fn master(
        &mut self,
        publisher: &Publisher,
        timeout: Duration,
    ) -> Result<String, CellError> {
        if let Some(leader) = &self.leader {
            let url = leader.current();
            self.master = Some(url.clone());
            return Ok(url);
        }
        if let Some(pinned) = &self.pinned {
            let url = self.master.clone().unwrap_or_else(|| pinned.clone());
            self.remember(&url);
            return Ok(url);
        }
        if self.zk.is_none() && self.master.is_none() && !self.want_embedded {
            if let Ok(env) = std::env::var("MESOS_MASTER") {
                let env = env.trim().to_string();
                if env.starts_with("zk://") {
                    self.zk = Some(parse_zk(&env).map_err(|e| mesos_error(&e))?);
                } else if !env.is_empty() {
                    let url = base_url(&env)?;
                    publisher.stream(
                        "stdout",
                        &format!("Using the master at {url} (from MESOS_MASTER)\n"),
                    );
                    self.remember(&url);
                    return Ok(url);
                }
            }
        }
        if let Some(zk) = self.zk.clone() {
            let watch = LeaderWatch::start(zk.clone(), timeout)
                .await
                .map_err(|e| mesos_error(&e))?;
            let url = watch.current();
            publisher.stream("stdout", &format!("The leading master in {zk} is {url}\n"));
            self.leader = Some(watch);
            self.master = Some(url.clone());
            return Ok(url);
        }
        if let Some(m) = self.master.clone() {
            self.remember(&m);
            return Ok(m);
        }
        let embedded = Embedded::start().await.map_err(|e| {
            CellError::new(
                Kind::ConnectionError.name(),
                format!("cannot start the embedded cluster: {e}"),
            )
        })?;
        let url = embedded.master_url();
        publisher.stream("stdout", &format!("{}\n", embedded.announcement()));
        self.embedded = Some(embedded);
        self.remember(&url);
        Ok(url)
    }

    /// The base URL of an agent: `which` may be a URL, an agent id, or the end of one
    /// (`S1`); none means the `%agent` choice, else the master's first agent.
    pub async fn agent(
        &mut self,
        which: Option<&str>,
        publisher: &Publisher,
        client: &Client,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<String, CellError> {
        if let Some(w) = which {
            if w.starts_with("http://") || w.starts_with("https://") || w.contains(':') {
                return base_url(w);
            }
        } else if let Some(a) = &self.agent {
            return Ok(a.clone());
        }
        let master = self.master(publisher, timeout).await?;
        let state = client
            .get_json(&format!("{master}/master/state"), timeout, cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let slaves = state
            .get("slaves")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let found = match which {
            None => slaves.first(),
            Some(w) => slaves.iter().find(|s| {
                let id = s.get("id").and_then(Value::as_str).unwrap_or("");
                id == w
                    || id.ends_with(&format!("-{w}"))
                    || s.get("hostname").and_then(Value::as_str) == Some(w)
            }),
        };
        let Some(slave) = found else {
            let ids: Vec<&str> = slaves
                .iter()
                .filter_map(|s| s.get("id").and_then(Value::as_str))
                .collect();
            return Err(CellError::new(
                Kind::InvalidCall.name(),
                match which {
                    None => format!("the master at {master} has no agents"),
                    Some(w) => format!("no agent '{w}' at {master}; agents: {}", ids.join(", ")),
                },
            ));
        };
        let url = agent_url(slave, scheme_of(&master)).ok_or_else(|| {
            CellError::new(
                Kind::MesosHttpError.name(),
                "the master's state gives this agent no pid (slave(1)@IP:PORT)",
            )
        })?;
        if which.is_none() {
            self.agent = Some(url.clone());
        }
        Ok(url)
    }

    pub async fn shutdown(&mut self) {
        if let Some(e) = self.embedded.take() {
            e.shutdown().await;
        }
    }
}

/// The scheme of a master's URL. TLS is cluster-wide in Mesos (libprocess SSL), so agents
/// speak the scheme their master speaks.
pub fn scheme_of(master: &str) -> &'static str {
    if master.starts_with("https://") {
        "https"
    } else {
        "http"
    }
}

/// `slave(1)@10.0.0.1:5051` in the agent's `pid` gives `http://10.0.0.1:5051` (or https).
pub fn agent_url(slave: &Value, scheme: &str) -> Option<String> {
    let pid = slave.get("pid").and_then(Value::as_str)?;
    let addr = pid.split_once('@')?.1;
    Some(format!("{scheme}://{addr}"))
}

pub fn mesos_error(e: &MesosError) -> CellError {
    match e {
        MesosError::Interrupted => crate::engine::errors::interrupted(),
        other => CellError::new(other.kind(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_urls() {
        assert_eq!(base_url("127.0.0.1:5050").unwrap(), "http://127.0.0.1:5050");
        assert_eq!(base_url("https://m:5050/").unwrap(), "https://m:5050");
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("").is_err());
    }

    #[test]
    fn agent_urls_from_pids() {
        assert_eq!(
            agent_url(&json!({"pid": "slave(1)@10.0.0.1:5051"}), "http").as_deref(),
            Some("http://10.0.0.1:5051")
        );
        assert_eq!(
            agent_url(&json!({"pid": "slave(1)@10.0.0.1:5051"}), "https").as_deref(),
            Some("https://10.0.0.1:5051")
        );
        assert_eq!(agent_url(&json!({"pid": 3}), "http"), None);
    }
}
