//! The master's flags: those of `src/master/flags.cpp` (Mesos 1.11) that have a value, with
//! Mesos's defaults (`src/master/constants.hpp`, `include/mesos/allocator/allocator.hpp`)
//! or what the embedded master really does. Flags that only exist in builds with optional
//! isolators (`max_executors_per_agent`) are not written, as in a default build.

use super::{bytes, common, duration, number, without_password, yes, Flags, Inputs};
use std::time::Duration;

const SECS: u64 = 1;
const MINS: u64 = 60;

/// The master's flags, sorted by name.
pub fn master(i: &Inputs) -> Flags {
    let auth = i.credentials.is_some();
    let mut f = Flags::new();
    common(&mut f);
    if let Some(dir) = &i.log_dir {
        f.insert(
            "log_dir",
            crate::cluster::logging::master_dir(dir)
                .display()
                .to_string(),
        );
    }
    f.insert("agent_ping_timeout", duration(i.agent_ping_timeout));
    f.insert(
        "agent_reregister_timeout",
        duration(crate::cluster::state::AGENT_REREGISTER_TIMEOUT),
    );
    // The embedded allocator runs on every change rather than in batches; the interval is
    // Mesos's default, which it never waits longer than.
    f.insert("allocation_interval", duration(secs(SECS)));
    f.insert("allocator", "hierarchical".into());
    f.insert("allocator_agent_recovery_factor", number(0.8));
    f.insert("allocator_recovery_timeout", duration(secs(10 * MINS)));
    // Frameworks and agents of the v0 (libprocess message) API cannot connect at all.
    f.insert("authenticate_agents", yes(false));
    f.insert("authenticate_frameworks", yes(false));
    // `--credentials` puts every endpoint behind HTTP basic authentication.
    f.insert("authenticate_http_frameworks", yes(auth));
    f.insert("authenticate_http_readonly", yes(auth));
    f.insert("authenticate_http_readwrite", yes(auth));
    f.insert("authentication_v0_timeout", duration(secs(15)));
    f.insert("authenticators", "crammd5".into());
    f.insert("authorizers", "local".into());
    if let Some(name) = &i.cluster {
        f.insert("cluster", name.clone());
    }
    if let Some(domain) = &i.domain {
        f.insert("domain", domain.to_json().to_string());
    }
    if let Some(path) = &i.credentials {
        f.insert("credentials", path.display().to_string());
        // Mesos refuses `--authenticate_http_frameworks` without an authenticator.
        f.insert("http_framework_authenticators", "basic".into());
    }
    f.insert("filter_gpu_resources", yes(true));
    f.insert("framework_sorter", "drf".into());
    // The hostname is the IP, as `--no-hostname_lookup` makes it when none is given.
    f.insert("hostname_lookup", yes(false));
    f.insert("http_authenticators", "basic".into());
    f.insert("ip", i.ip.to_string());
    f.insert("log_auto_initialize", yes(true));
    f.insert(
        "max_agent_ping_timeouts",
        i.max_agent_ping_timeouts.to_string(),
    );
    let kept = &i.retention;
    f.insert(
        "max_completed_frameworks",
        kept.completed_frameworks.to_string(),
    );
    f.insert(
        "max_completed_tasks_per_framework",
        kept.completed_tasks_per_framework.to_string(),
    );
    f.insert("max_operator_event_stream_subscribers", "1000".into());
    f.insert(
        "max_unreachable_tasks_per_framework",
        kept.unreachable_tasks_per_framework.to_string(),
    );
    f.insert("memory_profiling", yes(false));
    f.insert("min_allocatable_resources", "cpus:0.01|mem:32".into());
    f.insert("offer_constraints_re2_max_mem", bytes(4096));
    f.insert("offer_constraints_re2_max_program_size", "100".into());
    if let Some(timeout) = i.offer_timeout {
        f.insert("offer_timeout", duration(timeout));
    }
    f.insert("port", i.master_port.to_string());
    if let Some(weights) = &i.weights {
        f.insert("weights", weights.clone());
    }
    f.insert("publish_per_framework_metrics", yes(true));
    f.insert("recovery_agent_removal_limit", "100%".into());
    // Nothing of the master's state outlives it: Mesos's `in_memory` registry.
    f.insert("registry", "in_memory".into());
    f.insert("registry_fetch_timeout", duration(secs(MINS)));
    f.insert("registry_gc_interval", duration(secs(15 * MINS)));
    f.insert(
        "registry_max_agent_age",
        duration(secs(14 * 24 * 60 * MINS)),
    );
    f.insert("registry_max_agent_count", (100 * 1024).to_string());
    f.insert("registry_store_timeout", duration(secs(20)));
    f.insert("registry_strict", yes(false));
    f.insert("require_agent_domain", yes(false));
    f.insert("role_sorter", "drf".into());
    f.insert("root_submissions", yes(true));
    f.insert("version", yes(false));
    f.insert("webui_dir", "/usr/local/share/mesos/webui".into());
    f.insert("work_dir", i.work_dir.display().to_string());
    if let Some(zk) = &i.zk {
        f.insert("zk", without_password(zk));
    }
    f.insert("zk_session_timeout", duration(i.zk_session_timeout));
    f
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn inputs() -> Inputs {
        Inputs {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            master_port: 5050,
            work_dir: "/tmp/w".into(),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 3,
            zk: None,
            zk_session_timeout: Duration::from_secs(3),
            credentials: None,
            agent_resources: "cpus:2".into(),
            agent_attributes: String::new(),
            cluster: None,
            domain: None,
            weights: None,
            log_dir: Some("/tmp/w/log".into()),
            retention: Default::default(),
            executors: Default::default(),
        }
    }

    #[test]
    fn only_mesos_flags_with_values() {
        let f = master(&inputs());
        // Not master flags of Mesos, or unset ones.
        for absent in [
            "agents",
            "resources",
            "attributes",
            "heartbeat_interval",
            "executor_shutdown_grace_period",
            "offer_timeout",
            "credentials",
            "zk",
            "hostname",
        ] {
            assert!(!f.contains_key(absent), "{absent}");
        }
        assert_eq!(f["agent_ping_timeout"], "1secs");
        assert_eq!(f["registry_max_agent_age"], "2weeks");
        assert_eq!(f["agent_reregister_timeout"], "10mins");
        assert_eq!(f["offer_constraints_re2_max_mem"], "4KB");
        assert_eq!(f["allocator_agent_recovery_factor"], "0.8");
        let mut i = inputs();
        i.offer_timeout = Some(Duration::from_secs(30));
        i.credentials = Some("/etc/creds".into());
        let f = master(&i);
        assert_eq!(f["offer_timeout"], "30secs");
        assert_eq!(f["credentials"], "/etc/creds");
        assert_eq!(f["authenticate_http_readwrite"], "true");
    }
}
