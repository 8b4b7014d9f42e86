//! The flags a Mesos 1.11 master and agent show (`/master/flags`, the agent's `/flags`,
//! `GET_FLAGS`, the `flags` of the `/state` answers): every flag Mesos has that has a value,
//! with Mesos's default or the value the embedded cluster really uses. A flag Mesos leaves
//! unset (`offer_timeout` without a timeout) is not written, as Mesos writes only flags that
//! stringify to a value (`src/master/readonly_handler.cpp`, `Http::state` of the agent).
//! One table per process kind: `master.rs`, `agent.rs`.

mod agent;
mod master;

pub use agent::agent;
pub use master::master;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What the tables need to know of the cluster.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub ip: IpAddr,
    pub master_port: u16,
    pub work_dir: PathBuf,
    pub offer_timeout: Option<Duration>,
    pub agent_ping_timeout: Duration,
    pub max_agent_ping_timeouts: u32,
    /// `zk://host:port/path`, as given.
    pub zk: Option<String>,
    pub zk_session_timeout: Duration,
    /// The credentials file, when HTTP authentication is on.
    pub credentials: Option<PathBuf>,
    /// The agents' `--resources` and `--attributes`, in Mesos's text forms.
    pub agent_resources: String,
    pub agent_attributes: String,
    /// Mesos's `--cluster`: a name for the cluster.
    pub cluster: Option<String>,
    /// Mesos's `--domain` of the master and every agent.
    pub domain: Option<Domain>,
    /// Mesos's `--weights`, as given.
    pub weights: Option<String>,
    /// Mesos's `--log_dir`: the master's logs in `<log_dir>/master`, each agent's in
    /// `<log_dir>/agent-<port>`.
    pub log_dir: Option<PathBuf>,
    /// What the master keeps of what is over (Mesos's `--max_completed_*` flags).
    pub retention: Retention,
    /// The agents' timeouts for frameworks' own executors.
    pub executors: ExecutorTimes,
}

/// Mesos's agent flags `--executor_registration_timeout` (how long a framework's executor
/// may take to subscribe before it is destroyed) and `--executor_shutdown_grace_period`
/// (from SHUTDOWN to the kill), with Mesos's defaults (`src/slave/constants.hpp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutorTimes {
    pub registration_timeout: Duration,
    pub shutdown_grace_period: Duration,
}

impl Default for ExecutorTimes {
    fn default() -> Self {
        ExecutorTimes {
            registration_timeout: Duration::from_secs(60),
            shutdown_grace_period: Duration::from_secs(5),
        }
    }
}

/// How much of what is over the master keeps: Mesos's `--max_completed_frameworks`,
/// `--max_completed_tasks_per_framework` and `--max_unreachable_tasks_per_framework`, with
/// Mesos's defaults (`src/master/constants.hpp`). Past them the oldest go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub completed_frameworks: usize,
    pub completed_tasks_per_framework: usize,
    pub unreachable_tasks_per_framework: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            completed_frameworks: 50,
            completed_tasks_per_framework: 1000,
            unreachable_tasks_per_framework: 1000,
        }
    }
}

/// A fault domain (Mesos's DomainInfo): the region and zone of a master or agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub region: String,
    pub zone: String,
}

impl Domain {
    /// Reads Mesos's `--domain` JSON: `{"fault_domain": {"region": {"name": ...},
    /// "zone": {"name": ...}}}`.
    pub fn parse(text: &str) -> Result<Domain, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("invalid --domain JSON: {e}"))?;
        let name = |k: &str| {
            v.pointer(&format!("/fault_domain/{k}/name"))
                .and_then(serde_json::Value::as_str)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("--domain needs fault_domain.{k}.name"))
        };
        Ok(Domain {
            region: name("region")?,
            zone: name("zone")?,
        })
    }

    /// The DomainInfo message.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"fault_domain": {
            "region": {"name": self.region},
            "zone": {"name": self.zone}
        }})
    }
}

impl Default for Inputs {
    /// A master on 127.0.0.1:5050 with the cluster's defaults (for tests).
    fn default() -> Self {
        Inputs {
            ip: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            master_port: 5050,
            work_dir: std::env::temp_dir(),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 3,
            zk: None,
            zk_session_timeout: Duration::from_secs(3),
            credentials: None,
            agent_resources: "cpus:2;mem:496;disk:4930;ports:[9000-10000]".into(),
            agent_attributes: String::new(),
            cluster: None,
            domain: None,
            weights: None,
            log_dir: None,
            retention: Retention::default(),
            executors: ExecutorTimes::default(),
        }
    }
}

/// Flags by name: Mesos keeps them in a sorted map and writes them in that order.
pub type Flags = BTreeMap<&'static str, String>;

/// A duration as stout writes one: the largest unit that keeps it whole (or a fraction of a
/// unit with nothing smaller to say it in): `15secs`, `10mins`, `1weeks`, `500ms`, `0ns`.
pub fn duration(d: Duration) -> String {
    const US: u128 = 1_000;
    const MS: u128 = 1_000_000;
    const SECS: u128 = 1_000_000_000;
    const MINS: u128 = 60 * SECS;
    const HRS: u128 = 60 * MINS;
    const DAYS: u128 = 24 * HRS;
    const WEEKS: u128 = 7 * DAYS;
    let ns = d.as_nanos();
    // (bucket limit, unit, unit name, the next smaller unit and its name)
    let buckets: [(u128, u128, &str, u128, &str); 7] = [
        (US, 1, "ns", 1, "ns"),
        (MS, US, "us", 1, "ns"),
        (SECS, MS, "ms", US, "us"),
        (MINS, SECS, "secs", MS, "ms"),
        (HRS, MINS, "mins", SECS, "secs"),
        (DAYS, HRS, "hrs", MINS, "mins"),
        (WEEKS, DAYS, "days", HRS, "hrs"),
    ];
    let (unit, name, smaller, smaller_name) = buckets
        .iter()
        .find(|(limit, ..)| ns < *limit)
        .map(|&(_, u, n, s, sn)| (u, n, s, sn))
        .unwrap_or((WEEKS, "weeks", DAYS, "days"));
    // A smaller unit when this one would need a fraction and the smaller one would not.
    if ns % unit != 0 && ns % smaller == 0 {
        return format!("{}{smaller_name}", ns / smaller);
    }
    let value = ns as f64 / unit as f64;
    format!("{}{name}", number(value))
}

/// A size as stout writes one: the largest unit that loses nothing (`4KB`, `2GB`, `0B`).
pub fn bytes(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;
    const TB: u64 = 1024 * GB;
    match n {
        0 => "0B".into(),
        n if n % KB != 0 => format!("{n}B"),
        n if n % MB != 0 => format!("{}KB", n / KB),
        n if n % GB != 0 => format!("{}MB", n / MB),
        n if n % TB != 0 => format!("{}GB", n / GB),
        n => format!("{}TB", n / TB),
    }
}

/// A double as C++ streams write one (`0.8`, `32`); Rust's shortest form agrees for the
/// values the flags hold.
pub fn number(v: f64) -> String {
    format!("{v}")
}

fn yes(b: bool) -> String {
    if b { "true" } else { "false" }.to_string()
}

/// The flags of `logging::Flags` (`src/logging/flags.cpp`) and stout's own `help`, which
/// both the master's and the agent's flags include.
fn common(flags: &mut Flags) {
    flags.insert("help", yes(false));
    flags.insert("initialize_driver_logging", yes(true));
    flags.insert("logbufsecs", "0".into());
    flags.insert("logging_level", "INFO".into());
    flags.insert("quiet", yes(false));
}

/// The `zk` URL without a password: Mesos writes the flag as given, but the embedded
/// cluster never shows a secret.
fn without_password(zk: &str) -> String {
    let Some(rest) = zk.strip_prefix("zk://") else {
        return zk.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, hosts)) if !userinfo.contains('/') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("zk://{user}:******@{hosts}")
        }
        _ => zk.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_as_stout_writes_them() {
        assert_eq!(duration(Duration::from_secs(15)), "15secs");
        assert_eq!(duration(Duration::from_secs(600)), "10mins");
        assert_eq!(duration(Duration::from_secs(90)), "90secs");
        assert_eq!(duration(Duration::from_secs(14 * 24 * 3600)), "2weeks");
        assert_eq!(duration(Duration::from_secs(6 * 3600)), "6hrs");
        assert_eq!(duration(Duration::from_millis(500)), "500ms");
        assert_eq!(duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration(Duration::from_secs(0)), "0ns");
        assert_eq!(duration(Duration::from_secs(7 * 24 * 3600)), "1weeks");
        assert_eq!(duration(Duration::from_secs(10 * 24 * 3600)), "10days");
        assert_eq!(duration(Duration::from_secs_f64(1.5 * 60.0)), "90secs");
        assert_eq!(bytes(4096), "4KB");
        assert_eq!(bytes(2 << 30), "2GB");
        assert_eq!(bytes(0), "0B");
        assert_eq!(number(0.8), "0.8");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(32.0), "32");
        assert_eq!(
            without_password("zk://ops:s3cret@zk1:2181/mesos"),
            "zk://ops:******@zk1:2181/mesos"
        );
        assert_eq!(
            without_password("zk://zk1:2181/mesos"),
            "zk://zk1:2181/mesos"
        );
    }
}
