//! Faults the session must live through: the master of a standalone `mesos-kernel cluster`
//! process killed mid-stream and brought back (the session says so, reconnects,
//! re-subscribes with its framework id, and acknowledges no update twice), and an agent of
//! the embedded cluster lost under a running task (TASK_LOST arrives once, unacknowledged).

mod common;

use common::Harness;
use serde_json::Value;
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

/// The metric of the embedded cluster, read from a cell.
async fn metric(h: &mut Harness, name: &str) -> f64 {
    h.ok("m = GET /metrics/snapshot").await;
    h.var("m").and_then(|m| m[name].as_f64()).unwrap_or(-1.0)
}

/// Statuses the session received for a task, as the UPDATE events of `$events` show them.
async fn updates_of(h: &mut Harness, task: &str) -> Vec<Value> {
    h.ok("u = EVENTS type=UPDATE").await;
    h.var("u")
        .and_then(|u| u.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .map(|e| e["update"]["status"].clone())
        .filter(|s| s["task_id"]["value"] == task)
        .collect()
}

#[tokio::test]
async fn an_agent_lost_under_a_running_task_is_seen_once_as_task_lost() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=doomed user=root\nOFFERS wait=20s")
        .await;
    h.ok("LAUNCH name=doomed cmd=\"sleep 60\" wait=RUNNING")
        .await;
    let agent = h
        .var("tasks")
        .and_then(|t| {
            t.as_array()?
                .iter()
                .find(|s| s["task_id"]["value"] == "doomed")
                .and_then(|s| s["agent_id"]["value"].as_str().map(str::to_string))
        })
        .expect("the task's agent");
    // STARTING and RUNNING carried a uuid and are acknowledged (in the background).
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&mut h, "master/valid_status_update_acknowledgements").await < 2.0 {
        assert!(
            Instant::now() < deadline,
            "STARTING and RUNNING not acknowledged"
        );
    }

    // One cell: watch the tasks, crash the agent, wait for the master to give up on it.
    let (result, published) = h
        .run(&format!(
            "TASKS watch\n\
             POST /__cluster/agents/{agent}/crash\n\
             WAIT ($tasks | map(select(.task_id.value == \"doomed\" and .state == \"TASK_LOST\")) | length) == 1 timeout=20s\n\
             WAIT ($events | map(select(.type == \"FAILURE\")) | length) == 1 timeout=10s"
        ))
        .await;
    assert!(result.is_ok(), "{result:?}");
    let watched = published.iter().any(|(t, c)| {
        t == "update_display_data"
            && c["data"]["text/plain"]
                .as_str()
                .is_some_and(|s| s.contains("doomed") && s.contains("TASK_LOST"))
    });
    assert!(
        watched,
        "the TASKS watch never showed TASK_LOST: {published:?}"
    );
    let mut said = stderr(&published);

    // A heartbeat after the FAILURE: anything sent with the loss has arrived by now.
    let (result, published) = h
        .run("hb = $last_heartbeat\nWAIT $last_heartbeat != $hb timeout=10s")
        .await;
    assert!(result.is_ok(), "{result:?}");
    said.push_str(&stderr(&published));
    let (_, published) = h.run("TASKS").await;
    said.push_str(&stderr(&published));
    assert_eq!(
        said.matches(&format!("The master lost agent {agent} (FAILURE event)."))
            .count(),
        1,
        "the kernel said: {said}"
    );
    let shown = published
        .iter()
        .find(|(t, _)| t == "execute_result")
        .and_then(|(_, c)| c["data"]["text/plain"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(shown.contains("TASK_LOST"), "{shown}");

    let lost: Vec<Value> = updates_of(&mut h, "doomed")
        .await
        .into_iter()
        .filter(|s| s["state"] == "TASK_LOST")
        .collect();
    assert_eq!(lost.len(), 1, "TASK_LOST received {} times", lost.len());
    let status = &lost[0];
    assert_eq!(status["reason"], "REASON_AGENT_REMOVED");
    assert_eq!(status["source"], "SOURCE_MASTER");
    assert_eq!(status["agent_id"]["value"], agent.as_str());
    assert!(status.get("uuid").is_none(), "{status}");
    // The master-made update has no uuid, so the session must not acknowledge it: the
    // cluster counted the two acknowledgements of before, and no invalid one.
    assert_eq!(
        metric(&mut h, "master/valid_status_update_acknowledgements").await,
        2.0
    );
    assert_eq!(
        metric(&mut h, "master/invalid_status_update_acknowledgements").await,
        0.0
    );
    assert_eq!(metric(&mut h, "master/tasks_lost").await, 1.0);
    assert_eq!(metric(&mut h, "master/slaves_unreachable").await, 1.0);
}

fn stderr(published: &[(String, Value)]) -> String {
    published
        .iter()
        .filter(|(t, c)| t == "stream" && c["name"] == "stderr")
        .map(|(_, c)| c["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn mark_agent_gone_by_name_from_a_cell() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=gone user=root\nOFFERS wait=20s").await;
    h.ok("LAUNCH name=g1 cmd=\"sleep 60\" wait=RUNNING").await;
    h.ok("a = $tasks | map(select(.task_id.value == \"g1\")) | .[0].agent_id.value")
        .await;
    h.ok("MARK_AGENT_GONE agent_id=$a").await;
    h.ok("WAIT ($tasks | map(select(.task_id.value == \"g1\" and .state == \"TASK_LOST\")) | length) == 1 timeout=10s")
        .await;
    h.ok("t = GET_TASKS | .get_tasks").await;
    let t = h.var("t").unwrap();
    assert_eq!(t["unreachable_tasks"][0]["task_id"]["value"], "g1", "{t}");
    assert_eq!(t["unreachable_tasks"][0]["state"], "TASK_LOST", "{t}");
    let e = h.err("MARK_AGENT_GONE agent_id=nope").await;
    assert!(e.evalue.contains("404"), "{}", e.evalue);
    assert!(e.evalue.contains("Agent 'nope' not found"), "{}", e.evalue);
}

#[tokio::test]
async fn the_operator_stream_says_it_was_lost_and_reconnects_to_a_restarted_master() {
    let port = free_port();
    let mut cluster = ClusterProcess::start(port);
    let mut h = Harness::new();
    h.ok(&format!(
        "%master http://127.0.0.1:{}\noperator SUBSCRIBE",
        cluster.port
    ))
    .await;
    let before = h.var("operator").unwrap();
    assert_eq!(before["status"], "connected");
    assert_eq!(before["subscriptions"], 1);

    cluster.kill();
    let (result, published) = h
        .run("WAIT $operator.status == \"reconnecting\" timeout=10s\nPRINT $operator.problem")
        .await;
    assert!(result.is_ok(), "{result:?}");
    let mut said = stderr(&published);
    let _cluster = ClusterProcess::start(port);

    // A visible message, then the stream is open again with the new master's state.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (result, published) = h
            .run("WAIT $operator.status == \"connected\" and $operator.subscriptions == 2 timeout=2s")
            .await;
        said.push_str(&stderr(&published));
        if result.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the operator stream never came back; the kernel said: {said}"
        );
    }
    assert!(
        said.contains("The operator event stream was lost"),
        "the loss was not shown: {said}"
    );
    assert!(
        said.contains("The operator event stream is open again"),
        "{said}"
    );
    let after = h.var("operator").unwrap();
    assert_eq!(after["agents"].as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after["problem"], Value::Null);
    let subscribed = after["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "SUBSCRIBED")
        .count();
    assert_eq!(subscribed, 2);
    // The restarted master counts one operator stream: the kernel opened no second one.
    assert_eq!(
        metric(&mut h, "master/operator_event_stream_subscribers").await,
        1.0
    );
}
