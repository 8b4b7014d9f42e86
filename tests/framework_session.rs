//! The framework session against the embedded cluster: SUBSCRIBE, offers, launches with
//! live waits, logs, kills, acknowledgements, teardown.

mod common;

use common::{stdout, Harness};
use serde_json::Value;

async fn subscribed() -> Harness {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=test user=root").await;
    h.ok("OFFERS wait=20s min=2").await;
    h
}

fn task_state(h: &Harness, id: &str) -> String {
    h.var("tasks")
        .and_then(|t| {
            t.as_array()?
                .iter()
                .find(|s| s["task_id"]["value"] == id)
                .map(|s| s["state"].as_str().unwrap_or("").to_string())
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn subscribe_fills_the_session_variables() {
    let mut h = Harness::new();
    let data = h.ok("SUBSCRIBE name=\"Demo\" user=root").await;
    assert!(data["text/html"].as_str().unwrap().contains("framework id"));
    let fid = h.var("framework_id").unwrap();
    assert!(fid["value"].as_str().unwrap().ends_with("-0000"), "{fid}");
    assert!(h.var("stream_id").unwrap().is_string());
    h.ok("OFFERS wait=20s").await;
    let offers = h.var("offers").unwrap();
    assert!(!offers.as_array().unwrap().is_empty());
    // The first heartbeat follows SUBSCRIBED at once.
    h.ok("WAIT $last_heartbeat != null timeout=10s").await;
}

#[tokio::test]
async fn a_command_task_runs_to_finished_and_its_stdout_is_readable() {
    let mut h = subscribed().await;
    h.ok("LAUNCH name=hello cmd=\"echo hello from the sandbox\" wait=FINISHED")
        .await;
    assert_eq!(task_state(&h, "hello"), "TASK_FINISHED");
    let (result, published) = h.run("LOGS task=hello").await;
    assert!(result.is_ok(), "{result:?}");
    assert!(stdout(&published).contains("hello from the sandbox"));
    // Every update with a uuid was acknowledged: the master moves a terminal task to its
    // completed tasks only once its terminal update is acknowledged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        h.ok("t = GET /master/tasks").await;
        let tasks = h.var("t").unwrap();
        let done = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "hello" && t["state"] == "TASK_FINISHED");
        if done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "hello never completed at the master: {tasks}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn failures_are_errors_with_the_message() {
    let mut h = subscribed().await;
    let e = h.err("LAUNCH name=bad cmd=\"exit 3\" wait=FINISHED").await;
    assert_eq!(e.ename, "TaskFailed");
    assert!(e.evalue.contains("TASK_FAILED"), "{}", e.evalue);
    assert!(e.evalue.contains('3'), "{}", e.evalue);
}

#[tokio::test]
async fn kill_fills_the_agent_and_docker_is_simulated() {
    let mut h = subscribed().await;
    h.ok("LAUNCH name=web docker=nginx:1.10-alpine wait=RUNNING")
        .await;
    let (_, published) = h.run("LOGS task=web").await;
    assert!(stdout(&published).contains("simulated"), "{published:?}");
    h.ok("KILL task_id=web").await;
    h.ok("WAIT ($tasks | map(select(.task_id.value == \"web\" and .state == \"TASK_KILLED\")) | length) == 1 timeout=15s")
        .await;
    let e = h.err("KILL task_id=nobody").await;
    assert!(e.evalue.contains("no task 'nobody'"), "{}", e.evalue);
}

#[tokio::test]
async fn json_scheduler_calls_get_the_chores_done() {
    let mut h = subscribed().await;
    h.ok(r#"{"type": "ACCEPT",
 "accept": {"offer_ids": [$offers[0].id],
  "operations": [{"type": "LAUNCH", "launch": {"task_infos": [{
     "name": "j", "task_id": {"value": "json-1"}, "agent_id": $offers[0].agent_id,
     "command": {"value": "sleep 30"},
     "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                   {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}]}]}}]}}"#)
        .await;
    h.ok("WAIT ($tasks | map(select(.task_id.value == \"json-1\" and .state == \"TASK_RUNNING\")) | length) == 1 timeout=15s")
        .await;
    h.ok("RECONCILE").await;
    // Calls the kernel fills nothing in go as jq wrote them, with the framework id added
    // (the master refuses a call without one).
    let revived = h.ok(r#"{"type": "REVIVE"}"#).await;
    assert!(revived.to_string().contains("202 Accepted"), "{revived}");
    h.ok(
        r#"{"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "json-1"}},
        {"task_id": {"value": "nope-\(1 + 1)"}}]}}"#,
    )
    .await;
    h.ok(r#"WAIT any($events[]; .update.status.task_id.value == "nope-2" and .update.status.state == "TASK_LOST") timeout=15s"#)
        .await;
    h.ok(r#"WAIT any($events[]; .update.status.task_id.value == "json-1" and .update.status.message == "Reconciliation: Latest task state") timeout=15s"#)
        .await;
    h.ok("TEARDOWN").await;
    let e = h.err("KILL task_id=json-1").await;
    assert!(
        e.evalue.contains("no framework is subscribed"),
        "{}",
        e.evalue
    );
}

#[tokio::test]
async fn manual_acknowledgements() {
    let mut h = Harness::new();
    h.ok("%ack manual\nSUBSCRIBE name=acks user=root\nOFFERS wait=20s")
        .await;
    h.ok("LAUNCH name=once cmd=\"true\" wait=STARTING").await;
    // The agent holds later updates until the current one is acknowledged.
    h.ok("ACKNOWLEDGE task_id=once").await;
    h.ok("WAIT ($tasks | map(select(.task_id.value == \"once\" and .state != \"TASK_STARTING\")) | length) == 1 timeout=15s")
        .await;
    let e = h.err("%ack auto\nACKNOWLEDGE").await;
    assert_eq!(e.ename, "InvalidCall");
}

#[tokio::test]
async fn scheduler_calls_need_a_subscription() {
    let mut h = Harness::new();
    for code in ["KILL task_id=x", "OFFERS", "TASKS", "DECLINE", "TEARDOWN"] {
        let e = h.err(code).await;
        assert!(e.evalue.contains("SUBSCRIBE"), "{code}: {}", e.evalue);
    }
}

#[tokio::test]
async fn events_are_logged_and_filtered() {
    let mut h = subscribed().await;
    h.ok("EVENTS type=SUBSCRIBED").await;
    let events = h.var("_").unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["type"], Value::from("SUBSCRIBED"));
    h.ok("EVENTS last=2").await;
    assert!(h.var("_").unwrap().as_array().unwrap().len() <= 2);
}

#[tokio::test]
async fn launch_arguments_never_pass_through_a_shell() {
    let mut h = subscribed().await;
    let marker = std::env::temp_dir().join(format!("mesos-kernel-shell-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let m = marker.display();
    // Every shell construct here would create the marker if a shell saw it.
    let hostile = format!("$(touch {m}) `touch {m}`; touch {m} | touch {m} && touch {m}");
    h.ok(&format!(
        "LAUNCH name=literal cmd=/bin/echo args=[\"echo\", {hostile:?}, \"*\"] wait=FINISHED"
    ))
    .await;
    assert_eq!(task_state(&h, "literal"), "TASK_FINISHED");
    let (result, published) = h.run("LOGS task=literal").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stdout(&published).trim_end(), format!("{hostile} *"));
    assert!(!marker.exists(), "a shell ran the arguments");
    // Only cmd= alone is a command line for sh -c, as the user wrote it.
    h.ok(&format!(
        "LAUNCH name=shelled cmd=\"touch {m}\" wait=FINISHED"
    ))
    .await;
    assert!(marker.exists(), "cmd= alone runs through sh -c");
    let _ = std::fs::remove_file(&marker);
    // Arguments are strings, nothing else.
    let e = h
        .err("LAUNCH name=bad cmd=/bin/echo args=[\"echo\", 1]")
        .await;
    assert_eq!(e.ename, "InvalidCall", "{}", e.evalue);
}

/// When a cell with a `TASKS watch` ends, its display shows the tasks as they are then,
/// although the watch's paced redraw (ten a second) was not due yet: a notebook run
/// headless keeps what a cell showed by its end (the Demo-API replay compared them).
#[tokio::test]
async fn a_tasks_watch_shows_the_tasks_as_they_are_when_its_cell_ends() {
    let mut h = subscribed().await;
    let (result, published) = h
        .run(concat!("TASKS watch\n", r#"{"type": "ACCEPT", "accept": {"offer_ids": [$offers[0].id], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [range(3) as $i | {
        "name": "e\($i)", "task_id": {"value": "e\($i)"}, "agent_id": $offers[0].agent_id,
        "command": {"value": "true"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.05}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}}]}]}}]}}"#,
            "\nWAIT ($tasks | map(select(.state == \"TASK_FINISHED\")) | length) == 3 timeout=30s"))
        .await;
    assert!(result.is_ok(), "{result:?}");
    let last = published
        .iter()
        .rev()
        .find(|(t, _)| t == "update_display_data" || t == "display_data")
        .and_then(|(_, c)| c["data"]["text/plain"].as_str())
        .unwrap_or_default();
    assert_eq!(last.matches("TASK_FINISHED").count(), 3, "{last}");
    h.ok("TEARDOWN").await;
}

/// A burst of updates redraws `TASKS watch` at most ten times a second, and the last
/// state is always drawn, also after the cell that caused it ended.
#[tokio::test]
async fn a_tasks_watch_is_redrawn_at_most_ten_times_a_second_and_last_as_it_is() {
    let mut h = subscribed().await;
    // The watch, then thirty short tasks in one ACCEPT: about 90 updates in a burst.
    let (result, mut live) = h
        .run_live(concat!("TASKS watch\n", r#"{"type": "ACCEPT", "accept": {"offer_ids": [$offers[0].id], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [range(30) as $i | {
        "name": "w\($i)", "task_id": {"value": "w\($i)"}, "agent_id": $offers[0].agent_id,
        "command": {"value": "true"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.05}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}}]}]}}]}}"#))
        .await;
    assert!(result.is_ok(), "{result:?}");
    let finished_all = |c: &Value| {
        c["data"]["text/plain"]
            .as_str()
            .is_some_and(|p| p.matches("TASK_FINISHED").count() == 30)
    };
    live.until(
        std::time::Duration::from_secs(30),
        "a redraw with all thirty finished",
        |t, c| t == "update_display_data" && finished_all(c),
    )
    .await;
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = live
        .seen
        .iter()
        .zip(&live.dates)
        .filter(|((t, _), _)| t == "update_display_data")
        .map(|(_, d)| chrono::DateTime::parse_from_rfc3339(d).unwrap())
        .collect();
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    assert!(gaps.iter().all(|g| *g >= 99), "redraws too close: {gaps:?}");
    h.ok("TEARDOWN").await;
}
