//! Mesos's ZooKeeper layout, shared by the kernel's leader detection and the cluster's
//! election: the `zk://[user:password@]host:port[,host:port]/path` URL, and the
//! `json.info_<sequence>` znodes under the path, of which the lowest sequence leads and
//! holds the leading master's MasterInfo as JSON.

use std::fmt;

/// The prefix of the masters' znodes.
pub const INFO_PREFIX: &str = "json.info_";

/// Why a `zk://` URL does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZkUrlError {
    #[error("a ZooKeeper URL starts with zk://")]
    Scheme,
    #[error("zk:// credentials are user:password@")]
    Credentials,
    #[error("no ZooKeeper hosts")]
    Hosts,
}

/// A parsed `zk://` URL. The credentials stay out of `Debug` and `Display`, so they never
/// reach a log line or an output.
#[derive(Clone, PartialEq)]
pub struct ZkUrl {
    /// `host:port[,host:port]`, as the ZooKeeper client takes them.
    pub hosts: String,
    /// The folder of the masters' znodes: `/mesos` when the URL names none, without a
    /// trailing slash, `/` for the root.
    pub path: String,
    credentials: Option<String>,
}

impl ZkUrl {
    pub fn parse(url: &str) -> Result<ZkUrl, ZkUrlError> {
        let rest = url.trim().strip_prefix("zk://").ok_or(ZkUrlError::Scheme)?;
        let (credentials, rest) = match rest.rsplit_once('@') {
            Some((cred, hosts)) if cred.contains(':') => (Some(cred.to_string()), hosts),
            Some(_) => return Err(ZkUrlError::Credentials),
            None => (None, rest),
        };
        let (hosts, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, "/mesos"),
        };
        if hosts.is_empty() || hosts.split(',').any(|h| h.trim().is_empty()) {
            return Err(ZkUrlError::Hosts);
        }
        Ok(ZkUrl {
            hosts: hosts.to_string(),
            path: if path.is_empty() { "/" } else { path }.to_string(),
            credentials,
        })
    }

    /// `user:password`, for ZooKeeper's digest authentication.
    pub fn credentials(&self) -> Option<&str> {
        self.credentials.as_deref()
    }
}

impl fmt::Display for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = if self.credentials.is_some() {
            "***@"
        } else {
            ""
        };
        write!(f, "zk://{auth}{}{}", self.hosts, self.path)
    }
}

impl fmt::Debug for ZkUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The lowest `json.info_` child: Mesos's election order.
pub fn leader_child(children: &[String]) -> Option<&String> {
    children
        .iter()
        .filter(|c| c.starts_with(INFO_PREFIX))
        .min_by_key(|c| c[INFO_PREFIX.len()..].parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zk_urls_without_showing_credentials() {
        let z = ZkUrl::parse("zk://h1:2181,h2:2181/mesos").unwrap();
        assert_eq!(
            (z.hosts.as_str(), z.path.as_str()),
            ("h1:2181,h2:2181", "/mesos")
        );
        assert_eq!(z.credentials(), None);
        let z = ZkUrl::parse(" zk://user:secret@h1:2181/a/b/ ").unwrap();
        assert_eq!(z.path, "/a/b");
        assert_eq!(z.credentials(), Some("user:secret"));
        assert!(!format!("{z} {z:?}").contains("secret"));
        assert_eq!(z.to_string(), "zk://***@h1:2181/a/b");
        assert_eq!(ZkUrl::parse("zk://h:1").unwrap().path, "/mesos");
        assert_eq!(ZkUrl::parse("zk://h:1/").unwrap().path, "/");
        assert_eq!(ZkUrl::parse("http://x"), Err(ZkUrlError::Scheme));
        assert_eq!(ZkUrl::parse("zk:///mesos"), Err(ZkUrlError::Hosts));
        assert_eq!(ZkUrl::parse("zk://h1,,h2/m"), Err(ZkUrlError::Hosts));
        assert_eq!(
            ZkUrl::parse("zk://nocolon@h/m"),
            Err(ZkUrlError::Credentials)
        );
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
        assert_eq!(leader_child(&[]), None);
    }
}
