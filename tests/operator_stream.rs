//! The operator event stream in cells, against the embedded cluster: `operator SUBSCRIBE`
//! beside a framework session, `$operator` and its live view following a task from
//! TASK_STAGING to TASK_RUNNING and agents marked gone, WAIT on it, one stream however
//! often it is asked for, UNSUBSCRIBE.

mod common;

use common::{stdout, Harness, Published};
use serde_json::Value;
use std::time::Duration;

const WITHIN: Duration = Duration::from_secs(20);

/// The display id of the first display_data a cell published.
fn display_id(published: &Published) -> String {
    published
        .iter()
        .find(|(t, _)| t == "display_data")
        .and_then(|(_, c)| c["transient"]["display_id"].as_str())
        .unwrap_or_else(|| panic!("no display with an id in {published:?}"))
        .to_string()
}

fn task_of<'a>(op: &'a Value, id: &str) -> Option<&'a Value> {
    op["tasks"]
        .as_array()?
        .iter()
        .find(|t| t["task_id"]["value"] == id)
}

fn agent_ids(op: &Value) -> Vec<String> {
    op["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent_info"]["id"]["value"].as_str().unwrap().to_string())
        .collect()
}

/// The metric the master keeps of its operator streams.
async fn subscribers(h: &mut Harness) -> f64 {
    h.ok("m = GET /metrics/snapshot").await;
    h.var("m").unwrap()["master/operator_event_stream_subscribers"]
        .as_f64()
        .expect("the metric")
}

#[tokio::test]
async fn a_live_stream_sees_a_task_start_and_agents_marked_gone() {
    let mut h = Harness::new();
    let (result, first) = h.run("operator SUBSCRIBE").await;
    assert!(result.is_ok(), "{result:?}");
    let view = display_id(&first);
    assert!(view.starts_with("mesos-kernel-operator-"), "{view}");
    let op = h.var("operator").unwrap();
    assert_eq!(op["status"], "connected", "{op}");
    assert_eq!(agent_ids(&op).len(), 2, "{op}");
    assert!(op["master"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    // A framework session beside it; its tasks reach the operator stream too.
    h.ok("SUBSCRIBE name=ops user=root\nOFFERS wait=20s min=2")
        .await;
    h.ok("LAUNCH name=one cmd=\"sleep 30\" offer=$offers[0]")
        .await;
    let (result, mut live) = h
        .run_live(
            "WAIT ($operator.tasks | map(select(.task_id.value == \"one\" and .state == \"TASK_RUNNING\")) | length) == 1 timeout=20s",
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    let op = h.var("operator").unwrap();
    // TASK_ADDED in TASK_STAGING first, then updates up to TASK_RUNNING, in that order.
    let events: Vec<(String, String)> = op["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| match e["type"].as_str()? {
            "TASK_ADDED" if e["task_added"]["task"]["task_id"]["value"] == "one" => Some((
                "TASK_ADDED".into(),
                e["task_added"]["task"]["state"].as_str()?.into(),
            )),
            "TASK_UPDATED" if e["task_updated"]["status"]["task_id"]["value"] == "one" => Some((
                "TASK_UPDATED".into(),
                e["task_updated"]["state"].as_str()?.into(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        events.first(),
        Some(&("TASK_ADDED".into(), "TASK_STAGING".into())),
        "{events:?}"
    );
    assert_eq!(
        events.last(),
        Some(&("TASK_UPDATED".into(), "TASK_RUNNING".into())),
        "{events:?}"
    );
    let one = task_of(&op, "one").unwrap();
    assert_eq!(one["state"], "TASK_RUNNING");
    assert!(one["statuses"].as_array().unwrap().len() >= 2, "{one}");
    // The view is redrawn in place (same display id) and comes to show the task running.
    live.until(WITHIN, "a redraw with the task running", |t, c| {
        t == "update_display_data"
            && c["transient"]["display_id"] == view.as_str()
            && c["data"]["text/plain"].as_str().is_some_and(|p| {
                p.lines()
                    .any(|l| l.starts_with("one ") && l.contains("TASK_RUNNING"))
            })
    })
    .await;
    let framework = h.var("framework_id").unwrap();
    let frameworks = op["frameworks"].as_array().unwrap();
    assert!(
        frameworks
            .iter()
            .any(|f| f["framework_info"]["id"] == framework),
        "{frameworks:?}"
    );

    // MARK_AGENT_GONE from a cell, for the agent without a task: Mesos tells operator
    // subscribers nothing of it, and the kernel takes it out of the view itself.
    let busy = one["agent_id"]["value"].as_str().unwrap().to_string();
    let idle = agent_ids(&op).into_iter().find(|a| *a != busy).unwrap();
    h.ok(&format!(
        "MARK_AGENT_GONE agent_id={idle}\nASSERT ($operator.agents | map(.agent_info.id.value)) == [\"{busy}\"]"
    ))
    .await;
    // Marked gone by someone else (raw HTTP here), under a task: the task's master-made
    // update, whose reason says the agent was removed, takes the agent out of the view.
    h.ok(&format!(
        "POST /api/v1\nContent-Type: application/json\n\n{{\"type\": \"MARK_AGENT_GONE\", \"mark_agent_gone\": {{\"agent_id\": {{\"value\": \"{busy}\"}}}}}}"
    ))
    .await;
    h.ok("WAIT ($operator.agents | length) == 0 timeout=20s")
        .await;
    let op = h.var("operator").unwrap();
    let one = task_of(&op, "one").unwrap();
    assert_eq!(one["state"], "TASK_LOST", "{one}");
    let reason = one["statuses"].as_array().unwrap().last().unwrap()["reason"].clone();
    // Not partition-aware: TASK_LOST with REASON_AGENT_REMOVED, as Mesos's master makes it.
    assert_eq!(reason, "REASON_AGENT_REMOVED");
    // The framework session went on beside it.
    assert_eq!(h.var("framework_id").unwrap(), framework);
    h.ok("TEARDOWN").await;
}

#[tokio::test]
async fn one_stream_however_often_it_is_asked_for() {
    let mut h = Harness::new();
    // The JSON form without a framework_info is the operator's SUBSCRIBE.
    let (result, first) = h.run("{\"type\": \"SUBSCRIBE\"}").await;
    assert!(result.is_ok(), "{result:?}");
    let view = display_id(&first);
    assert_eq!(h.var("operator").unwrap()["status"], "connected");
    assert_eq!(subscribers(&mut h).await, 1.0);

    // The issue's case: a framework session, then the JSON SUBSCRIBE, then TEARDOWN.
    h.ok("SUBSCRIBE name=x user=root").await;
    let fid = h.var("framework_id").unwrap();
    for again in ["{\"type\": \"SUBSCRIBE\"}", "operator SUBSCRIBE"] {
        let (result, published) = h.run(again).await;
        assert!(result.is_ok(), "{again}: {result:?}");
        assert!(stdout(&published).contains("already open"), "{published:?}");
        // The same view again (its redraws update both places).
        assert_eq!(display_id(&published), view);
    }
    assert_eq!(subscribers(&mut h).await, 1.0);
    assert_eq!(h.var("framework_id").unwrap(), fid);

    let e = h.err("operator SUBSCRIBE heartbeat=1s").await;
    assert_eq!(e.ename, "InvalidCall", "{}", e.evalue);
    let (result, published) = h.run_live("operator UNSUBSCRIBE").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(h.var("operator").unwrap()["status"], "closed");
    let mut published = published;
    published
        .until(WITHIN, "the view drawn closed", |t, c| {
            t == "update_display_data"
                && c["transient"]["display_id"] == view.as_str()
                && c["data"]["text/plain"]
                    .as_str()
                    .is_some_and(|p| p.contains("closed"))
        })
        .await;
    let deadline = tokio::time::Instant::now() + WITHIN;
    while subscribers(&mut h).await != 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the master still counts the stream"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = h.err("operator UNSUBSCRIBE").await;
    assert!(
        e.evalue.contains("no operator event stream"),
        "{}",
        e.evalue
    );
    // The framework session is untouched by all of it, and ends as asked.
    assert_eq!(h.var("framework_id").unwrap(), fid);
    h.ok("TEARDOWN").await;
    // A new stream after UNSUBSCRIBE, with a view of its own.
    let (result, again) = h.run("operator SUBSCRIBE").await;
    assert!(result.is_ok(), "{result:?}");
    assert_ne!(display_id(&again), view);
}

#[tokio::test]
async fn a_flood_of_events_is_drawn_at_most_ten_times_a_second_and_the_last_state_always() {
    let mut h = Harness::new();
    let (result, first) = h.run("operator SUBSCRIBE").await;
    assert!(result.is_ok(), "{result:?}");
    let view = display_id(&first);
    h.ok("SUBSCRIBE name=flood user=root\nOFFERS wait=20s")
        .await;
    // Thirty short tasks in one ACCEPT: about 120 events in a burst.
    h.ok(r#"{"type": "ACCEPT", "accept": {"offer_ids": [$offers[0].id], "operations": [{"type": "LAUNCH", "launch": {"task_infos": [range(30) as $i | {
        "name": "f\($i)", "task_id": {"value": "f\($i)"}, "agent_id": $offers[0].agent_id,
        "command": {"value": "true"},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.05}},
                      {"name": "mem", "type": "SCALAR", "scalar": {"value": 8}}]}]}}]}}"#)
        .await;
    let (result, mut live) = h
        .run_live("WAIT ($operator.tasks | map(select(.state == \"TASK_FINISHED\")) | length) == 30 timeout=30s")
        .await;
    assert!(result.is_ok(), "{result:?}");
    // The last state is drawn, after the cell that waited for it ended.
    live.until(WITHIN, "a redraw with all thirty finished", |t, c| {
        t == "update_display_data"
            && c["transient"]["display_id"] == view.as_str()
            && c["data"]["text/plain"].as_str().is_some_and(|p| {
                p.lines()
                    .any(|l| l.starts_with("tasks TASK_FINISHED") && l.ends_with(" 30"))
            })
    })
    .await;
    // When the kernel made each redraw: never two within a tenth of a second.
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = live
        .seen
        .iter()
        .zip(&live.dates)
        .filter(|((t, c), _)| {
            t == "update_display_data" && c["transient"]["display_id"] == view.as_str()
        })
        .map(|(_, d)| chrono::DateTime::parse_from_rfc3339(d).unwrap())
        .collect();
    let gaps: Vec<i64> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).num_milliseconds())
        .collect();
    assert!(gaps.iter().all(|g| *g >= 99), "redraws too close: {gaps:?}");
    let events = h.var("operator").unwrap()["events_received"]
        .as_u64()
        .unwrap();
    println!("{} redraws for {events} events; gaps {gaps:?}", times.len());
    assert!(
        (times.len() as u64) < events / 2,
        "{} redraws for {events} events: not coalesced",
        times.len()
    );
    h.ok("TEARDOWN").await;
}
