//! Health checks and checks from a notebook: LAUNCH's `health=` and `check=` against the
//! embedded cluster, which runs them beside the task as Mesos's command executor does.

mod common;

use common::Harness;
use serde_json::Value;

fn status(h: &Harness, id: &str) -> Value {
    h.var("tasks")
        .and_then(|t| {
            t.as_array()?
                .iter()
                .find(|s| s["task_id"]["value"] == id)
                .cloned()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn health_checks_report_kill_and_show_in_tasks() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=health user=root").await;
    h.ok("OFFERS wait=20s min=2").await;

    // Healthy once the file it looks for is there.
    h.ok(r#"LAUNCH name=web cmd="touch ready; sleep 60" health={"type": "COMMAND", "command": {"value": "test -f ready"}, "delay_seconds": 0, "interval_seconds": 0.2} wait=RUNNING"#)
        .await;
    h.ok(
        r#"WAIT $tasks | map(select(.task_id.value == "web")) | .[0].healthy == true timeout=20s"#,
    )
    .await;
    let web = status(&h, "web");
    assert_eq!(
        web["reason"], "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        "{web}"
    );
    assert_eq!(web["state"], "TASK_RUNNING");
    let table = h.ok("TASKS").await;
    let text = table["text/plain"].as_str().unwrap_or_default();
    assert!(text.contains("healthy"), "{text}");

    // Unhealthy from the first probe, no grace period: killed after two failures.
    h.ok(r#"LAUNCH name=sick cmd="sleep 60" health={"type": "COMMAND", "command": {"value": "exit 1"}, "delay_seconds": 0, "interval_seconds": 0.1, "grace_period_seconds": 0, "consecutive_failures": 2}"#)
        .await;
    h.ok(r#"WAIT $tasks | map(select(.task_id.value == "sick")) | .[0].state == "TASK_KILLED" timeout=20s"#)
        .await;
    let sick = status(&h, "sick");
    assert_eq!(sick["healthy"], false, "{sick}");

    // A check reports its result and never kills; a command line is a COMMAND check. Its
    // offer is what the launches above left, offered again: wait for it, do not race it.
    h.ok("OFFERS wait=20s min=1").await;
    h.ok(r#"LAUNCH name=checked cmd="sleep 60" check="exit 4" wait=RUNNING"#)
        .await;
    let checked = status(&h, "checked");
    assert_eq!(
        checked["check_status"],
        serde_json::json!({"type": "COMMAND", "command": {}}),
        "before its first result (Mesos's delay is 15 s): {checked}"
    );

    // Refused by the master with Mesos's message.
    h.ok("OFFERS wait=20s min=1").await;
    h.ok(r#"LAUNCH name=bad cmd="sleep 60" health={"type": "HTTP"}"#)
        .await;
    h.ok(r#"WAIT $tasks | map(select(.task_id.value == "bad")) | .[0].state == "TASK_ERROR" timeout=20s"#)
        .await;
    let bad = status(&h, "bad");
    assert_eq!(
        bad["message"],
        "Task uses invalid health check: Expecting 'http' to be set for HTTP health check"
    );
    let e = h.err(r#"LAUNCH name=worse cmd="sleep 60" health=3"#).await;
    assert!(e.evalue.contains("health=3"), "{}", e.evalue);
    h.ok("KILL task_id=web").await;
    h.ok("KILL task_id=checked").await;
}

#[tokio::test]
async fn a_check_reports_each_new_result() {
    let mut h = Harness::new();
    h.ok("SUBSCRIBE name=checks user=root").await;
    h.ok("OFFERS wait=20s min=1").await;
    h.ok(r#"LAUNCH name=c cmd="sleep 60" check={"type": "COMMAND", "command": {"command": {"value": "exit 4"}}, "delay_seconds": 0, "interval_seconds": 0.2} wait=RUNNING"#)
        .await;
    h.ok(r#"WAIT $tasks | map(select(.task_id.value == "c")) | .[0].check_status.command.exit_code == 4 timeout=20s"#)
        .await;
    let c = status(&h, "c");
    assert_eq!(c["reason"], "REASON_TASK_CHECK_STATUS_UPDATED", "{c}");
    assert_eq!(c["state"], "TASK_RUNNING");
    h.ok("KILL task_id=c").await;
    h.ok(r#"WAIT $tasks | map(select(.task_id.value == "c")) | .[0].state == "TASK_KILLED" timeout=20s"#)
        .await;
    // From scratch: an empty check status, as Mesos's executor makes it.
    let c = status(&h, "c");
    assert_eq!(
        c["check_status"],
        serde_json::json!({"type": "COMMAND", "command": {}}),
        "{c}"
    );
}
