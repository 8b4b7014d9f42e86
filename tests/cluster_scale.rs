//! Regressions found at scale: running simulated containers must not hold file descriptors
//! (10,000 of them exhausted a 20,000 limit and the cluster stopped accepting connections).

mod common;

use common::Harness;

/// Open descriptors other than sockets. The engine and its embedded cluster share this
/// process, so each HTTP connection (up to 8 acknowledgements go out at once) counts twice
/// and their number varies from run to run; a container's stdout and stderr are files.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .map(|l| !l.to_string_lossy().starts_with("socket:"))
                        .unwrap_or(false)
                })
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn running_simulated_containers_hold_no_files() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=scale user=root\nOFFERS wait=20s")
        .await;
    // The jq worker's pipes are the engine's, not the containers': start it first.
    h.ok("1 + 1").await;
    let before = open_fds();
    let tasks: Vec<String> = (0..60)
        .map(|i| {
            format!(
                r#"{{"name": "c{i}", "task_id": {{"value": "c{i}"}}, "agent_id": $offers[0].agent_id,
                 "container": {{"type": "DOCKER", "docker": {{"image": "x:1", "network": "HOST"}}}},
                 "command": {{"shell": false}},
                 "resources": [{{"name": "cpus", "type": "SCALAR", "scalar": {{"value": 0.01}}}},
                               {{"name": "mem", "type": "SCALAR", "scalar": {{"value": 1}}}}]}}"#
            )
        })
        .collect();
    let accept = format!(
        r#"{{"type": "ACCEPT", "accept": {{"offer_ids": [$offers[0].id],
          "operations": [{{"type": "LAUNCH", "launch": {{"task_infos": [{}]}}}}]}}}}"#,
        tasks.join(",")
    );
    h.ok(&accept).await;
    h.ok("WAIT ($tasks | map(select(.state == \"TASK_RUNNING\")) | length) == 60 timeout=30s")
        .await;
    let after = open_fds();
    assert!(
        after < before + 20,
        "60 running simulated containers hold {} descriptors",
        after.saturating_sub(before)
    );
}
