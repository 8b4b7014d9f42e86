//! An agent's flags: those of `src/slave/flags.cpp` (Mesos 1.11) that have a value, with
//! Mesos's defaults (`src/slave/constants.hpp`) or what the embedded agent really does.
//! The Linux-only flags are written on Linux, as a Linux agent writes them; flags of
//! optional isolators (port mapping, network ports, XFS, seccomp) are not, as in a default
//! build. The agents are built as Mesos is with SSL (the cluster serves HTTPS), hence
//! `authenticate_http_executors`.

use super::{bytes, common, duration, number, yes, Flags, Inputs};
use std::path::{Path, PathBuf};
use std::time::Duration;

const MINS: u64 = 60;
const HRS: u64 = 60 * MINS;

/// The flags of the agent listening on `port`, sorted by name.
pub fn agent(i: &Inputs, port: u16) -> Flags {
    let auth = i.credentials.is_some();
    let tmp = std::env::temp_dir();
    let in_tmp = |parts: &[&str]| {
        let mut p: PathBuf = tmp.clone();
        p.extend(parts);
        p.display().to_string()
    };
    let mut f = Flags::new();
    common(&mut f);
    if let Some(dir) = &i.log_dir {
        let dir = crate::cluster::logging::agent_dir(dir, port);
        f.insert("log_dir", dir.display().to_string());
    }
    f.insert("appc_simple_discovery_uri_prefix", "http://".into());
    f.insert("appc_store_dir", in_tmp(&["mesos", "store", "appc"]));
    f.insert("attributes", i.agent_attributes.clone());
    f.insert("authenticate_http_executors", yes(false));
    // `--credentials` puts every endpoint of the agents behind HTTP basic authentication.
    f.insert("authenticate_http_readonly", yes(auth));
    f.insert("authenticate_http_readwrite", yes(auth));
    if let Some(path) = &i.credentials {
        f.insert("http_credentials", path.display().to_string());
        // The authenticator the agents use for them (Mesos's default, named).
        f.insert("http_authenticators", "basic".into());
    }
    f.insert("authenticatee", "crammd5".into());
    f.insert("authentication_backoff_factor", duration(secs(1)));
    f.insert("authentication_timeout_max", duration(secs(MINS)));
    f.insert("authentication_timeout_min", duration(secs(5)));
    f.insert("authorizer", "local".into());
    f.insert("container_disk_watch_interval", duration(secs(15)));
    // Command tasks run as processes, Docker tasks in a simulated Docker: both kinds of
    // ContainerInfo are accepted, as with these two containerizers.
    f.insert("containerizers", "docker,mesos".into());
    f.insert("default_role", "*".into());
    f.insert("disk_watch_interval", duration(secs(MINS)));
    if let Some(domain) = &i.domain {
        f.insert("domain", domain.to_json().to_string());
    }
    f.insert("docker", "docker".into());
    f.insert("docker_ignore_runtime", yes(false));
    f.insert("docker_kill_orphans", yes(true));
    f.insert("docker_registry", "https://registry-1.docker.io".into());
    f.insert("docker_remove_delay", duration(secs(6 * HRS)));
    f.insert("docker_socket", "/var/run/docker.sock".into());
    f.insert("docker_stop_timeout", duration(Duration::ZERO));
    f.insert("docker_store_dir", in_tmp(&["mesos", "store", "docker"]));
    f.insert(
        "docker_volume_checkpoint_dir",
        "/var/run/mesos/isolators/docker/volume".into(),
    );
    f.insert("docker_volume_chown", yes(false));
    f.insert("enforce_container_disk_quota", yes(false));
    f.insert(
        "executor_registration_timeout",
        duration(i.executors.registration_timeout),
    );
    f.insert("executor_reregistration_timeout", duration(secs(2)));
    f.insert(
        "executor_shutdown_grace_period",
        duration(i.executors.shutdown_grace_period),
    );
    f.insert("fetcher_cache_dir", in_tmp(&["mesos", "fetch"]));
    f.insert("fetcher_cache_size", bytes(2 << 30));
    f.insert("fetcher_stall_timeout", duration(secs(MINS)));
    f.insert("frameworks_home", String::new());
    f.insert("gc_delay", duration(secs(7 * 24 * HRS)));
    f.insert("gc_disk_headroom", number(0.1));
    f.insert("gc_non_executor_container_sandboxes", yes(false));
    // The hostname is the IP, as `--no-hostname_lookup` makes it when none is given.
    f.insert("hostname_lookup", yes(false));
    f.insert("http_command_executor", yes(false));
    f.insert("http_executor_domain_sockets", yes(false));
    f.insert("http_heartbeat_interval", duration(secs(30)));
    f.insert("ip", i.ip.to_string());
    f.insert("isolation", "posix/cpu,posix/mem".into());
    // Tasks run in process groups of their own, not in cgroups.
    f.insert("launcher", "posix".into());
    f.insert("launcher_dir", "/usr/local/libexec/mesos".into());
    f.insert("master", format!("{}:{}", host(i), i.master_port));
    f.insert("max_completed_executors_per_framework", "150".into());
    f.insert("memory_profiling", yes(false));
    f.insert("network_cni_metrics", yes(true));
    f.insert("network_cni_root_dir_persist", yes(false));
    f.insert("oversubscribed_resources_interval", duration(secs(15)));
    f.insert("port", port.to_string());
    f.insert("qos_correction_interval_min", duration(Duration::ZERO));
    f.insert("reconfiguration_policy", "equal".into());
    f.insert("recover", "reconnect".into());
    f.insert("recovery_timeout", duration(secs(15 * MINS)));
    f.insert("registration_backoff_factor", duration(secs(1)));
    f.insert("resources", i.agent_resources.clone());
    f.insert("runtime_dir", runtime_dir(&tmp));
    f.insert("sandbox_directory", "/mnt/mesos/sandbox".into());
    f.insert("strict", yes(true));
    // Tasks run as the user the cluster runs as.
    f.insert("switch_user", yes(false));
    f.insert("version", yes(false));
    // Sandboxes are `<work_dir>/slaves/<agent id>/frameworks/...`, as on a Mesos agent.
    f.insert("work_dir", i.work_dir.display().to_string());
    f.insert("zk_session_timeout", duration(secs(10)));
    linux(&mut f);
    f
}

/// The flags a Linux agent has and others do not (`#ifdef __linux__`).
#[cfg(target_os = "linux")]
fn linux(f: &mut Flags) {
    f.insert("cgroups_cpu_enable_pids_and_tids_count", yes(false));
    f.insert("cgroups_destroy_timeout", duration(secs(MINS)));
    f.insert("cgroups_enable_cfs", yes(false));
    f.insert("cgroups_hierarchy", "/sys/fs/cgroup".into());
    f.insert("cgroups_limit_swap", yes(false));
    f.insert("cgroups_root", "mesos".into());
    f.insert("disallow_sharing_agent_ipc_namespace", yes(false));
    f.insert("disallow_sharing_agent_pid_namespace", yes(false));
    f.insert("perf_duration", duration(secs(10)));
    f.insert("perf_interval", duration(secs(MINS)));
    f.insert("revocable_cpu_low_priority", yes(true));
    // Executors are not put in systemd slices.
    f.insert("systemd_enable_support", yes(false));
    f.insert("systemd_runtime_directory", "/run/systemd/system".into());
}

#[cfg(not(target_os = "linux"))]
fn linux(_: &mut Flags) {}

/// The agent's address as the `master` flag names it (IPv6 in brackets).
fn host(i: &Inputs) -> String {
    match i.ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

/// Mesos's default `runtime_dir`: `/var/run/mesos` when this process may write to
/// `/var/run` (what `os::access` asks), else `<tmp>/mesos/runtime`.
fn runtime_dir(tmp: &Path) -> String {
    let path = std::ffi::CString::new("/var/run").unwrap_or_default();
    // SAFETY: access(2) reads the NUL-terminated path and touches nothing else.
    let writable = unsafe { libc::access(path.as_ptr(), libc::R_OK | libc::W_OK) } == 0;
    if writable {
        "/var/run/mesos".into()
    } else {
        tmp.join("mesos").join("runtime").display().to_string()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn the_agent_names_its_master_resources_and_port() {
        let i = Inputs {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            master_port: 5050,
            work_dir: "/tmp/w".into(),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(1),
            max_agent_ping_timeouts: 3,
            zk: None,
            zk_session_timeout: Duration::from_secs(3),
            credentials: None,
            agent_resources: "cpus:2;mem:496;disk:4930;ports:[9000-10000]".into(),
            agent_attributes: "rack:r2d2".into(),
            cluster: None,
            domain: None,
            weights: None,
            log_dir: Some("/tmp/w/log".into()),
            retention: Default::default(),
            executors: Default::default(),
        };
        let f = agent(&i, 5051);
        assert_eq!(f["master"], "127.0.0.1:5050");
        assert_eq!(f["port"], "5051");
        assert_eq!(
            f["resources"],
            "cpus:2;mem:496;disk:4930;ports:[9000-10000]"
        );
        assert_eq!(f["executor_shutdown_grace_period"], "5secs");
        assert_eq!(f["gc_delay"], "1weeks");
        assert_eq!(f["fetcher_cache_size"], "2GB");
        assert_eq!(f["docker_stop_timeout"], "0ns");
        assert!(!f.contains_key("http_credentials"));
        assert!(!f.contains_key("agent_ping_timeout"));
    }
}
