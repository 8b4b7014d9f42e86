//! Faults against a standalone `mesos-kernel cluster` process: the master killed mid-stream
//! and brought back. The session says so, reconnects, re-subscribes with its framework id,
//! and acknowledges no update twice.

mod common;

use common::Harness;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct ClusterProcess {
    child: Child,
    port: u16,
}

impl ClusterProcess {
    fn start(port: u16) -> ClusterProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_mesos-kernel"))
            .args([
                "cluster",
                "--port",
                &port.to_string(),
                "--agents",
                "1",
                "--heartbeat-interval",
                "200ms",
                "--seed",
                "7",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cluster");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the cluster did not listen on {port}"
            );
            std::thread::yield_now();
        }
        ClusterProcess { child, port }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ClusterProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_master_killed_mid_stream_is_noticed_and_the_framework_resubscribes() {
    let port = free_port();
    let mut cluster = ClusterProcess::start(port);
    let mut h = Harness::new();
    h.ok(&format!(
        "%master http://127.0.0.1:{}\nSUBSCRIBE name=survivor user=root\nOFFERS wait=20s",
        cluster.port
    ))
    .await;
    let fid = h.var("framework_id").unwrap();

    cluster.kill();
    let _cluster = ClusterProcess::start(port);

    // The next statements show the loss and the re-subscription, then offers come again.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut said = String::new();
    loop {
        let (result, published) = h.run("WAIT ($offers | length) > 0 timeout=2s").await;
        for (t, c) in &published {
            if t == "stream" {
                said.push_str(c["text"].as_str().unwrap_or(""));
            }
        }
        if result.is_ok() && said.contains("Re-subscribed") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no re-subscription; the kernel said: {said}"
        );
    }
    assert!(said.contains("lost"), "the loss was not shown: {said}");
    assert_eq!(
        h.var("framework_id").unwrap(),
        fid,
        "re-subscribed under another id"
    );
    h.ok("LAUNCH name=after cmd=true wait=FINISHED").await;
    // No update was acknowledged twice or out of turn at the new master.
    h.ok("m = GET /metrics/snapshot").await;
    assert_eq!(
        h.var("m").unwrap()["master/invalid_status_update_acknowledgements"],
        0.0
    );
}
