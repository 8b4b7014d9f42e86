//! Agent loss against the embedded cluster, over HTTP only: an agent that crashes (the
//! cluster's fault-injection hook) and misses its health checks, and an agent the operator
//! marks gone. Two frameworks watch it happen, one PARTITION_AWARE and one not; each must
//! see exactly Mesos's updates, the rescinded offers and the FAILURE event, and the state,
//! metrics and offers must forget the agent.

mod cluster_support;

use cluster_support::*;
use mesos_kernel::cluster::Cluster;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PING: Duration = Duration::from_millis(100);

async fn cluster(ping: Duration) -> Cluster {
    start_with(|c| {
        c.agents = 2;
        c.agent_ping_timeout = ping;
        c.max_agent_ping_timeouts = 3;
    })
    .await
}

fn aware_info() -> Value {
    json!({"user": "tester", "name": "aware", "capabilities": [{"type": "PARTITION_AWARE"}]})
}

/// Two frameworks with a running task each on one agent (the one to lose), an offer of
/// that agent outstanding with the partition-aware one, and an operator stream.
struct Scene {
    ops: Events,
    legacy: Framework,
    legacy_events: Events,
    aware: Framework,
    aware_events: Events,
    /// The agent to lose, `{"value": ...}`.
    lost: Value,
    lost_url: String,
    /// The other agent.
    other: Value,
    /// The partition-aware framework's outstanding offer on the agent to lose.
    spare_offer: Value,
}

fn launch_refusing(offer: &Value, task: Value, refuse_seconds: f64) -> Value {
    json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": refuse_seconds}
    }})
}

/// The next offer of this framework on `agent` (others stay outstanding at the master).
async fn offer_on(events: &mut Events, agent: &Value) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < deadline, "no offer on {agent}");
        let offer = events.offer().await;
        if &offer["agent_id"] == agent {
            return offer;
        }
    }
}

async fn scene(c: &Cluster) -> Scene {
    let m = c.master_url();
    let mut ops = Events::open(&format!("{m}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    ops.next_of("SUBSCRIBED").await;
    let (legacy, mut legacy_events) =
        Framework::subscribe(&m, json!({"user": "tester", "name": "legacy"})).await;
    let (aware, mut aware_events) = Framework::subscribe(&m, aware_info()).await;

    // The first framework holds both agents' offers; it launches on one and refuses the
    // rest of that agent for an hour, so the rest goes to the partition-aware framework.
    let first = legacy_events.offer().await;
    let lost = first["agent_id"].clone();
    let (code, body) = legacy
        .call(launch_refusing(
            &first,
            command_task("a1", &lost, "sleep 60"),
            3600.0,
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut legacy_events, &legacy, "a1", "TASK_RUNNING").await;

    let offer = offer_on(&mut aware_events, &lost).await;
    let (code, body) = aware
        .call(launch_refusing(
            &offer,
            command_task("b1", &lost, "sleep 60"),
            0.0,
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    // What is left of the agent comes back to it as a new offer, and stays outstanding.
    let spare_offer = offer_on(&mut aware_events, &lost).await;
    until_state(&mut aware_events, &aware, "b1", "TASK_RUNNING").await;

    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    let list = agents["get_agents"]["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 2, "{agents}");
    let lost_port = list
        .iter()
        .find(|a| a["agent_info"]["id"] == lost)
        .map(|a| a["agent_info"]["port"].clone())
        .unwrap_or_default();
    let other = list
        .iter()
        .map(|a| a["agent_info"]["id"].clone())
        .find(|id| id != &lost)
        .unwrap_or_default();
    Scene {
        ops,
        legacy,
        legacy_events,
        aware,
        aware_events,
        lost,
        lost_url: format!("http://127.0.0.1:{lost_port}"),
        other,
        spare_offer,
    }
}

/// The next event that is not a HEARTBEAT.
async fn next_event(events: &mut Events) -> Value {
    loop {
        match events.next().await {
            Some(e) if e["type"] == "HEARTBEAT" => continue,
            Some(e) => return e,
            None => panic!("the stream ended"),
        }
    }
}

/// Checks a master-made update for a task of a lost agent.
fn assert_lost_update(event: &Value, task: &str, state: &str, reason: &str, scene: &Scene) {
    assert_eq!(event["type"], "UPDATE", "{event}");
    let s = &event["update"]["status"];
    assert_eq!(s["task_id"]["value"], task, "{s}");
    assert_eq!(s["state"], state, "{s}");
    assert_eq!(s["reason"], reason, "{s}");
    assert_eq!(s["source"], "SOURCE_MASTER", "{s}");
    assert_eq!(s["agent_id"], scene.lost, "{s}");
    assert_eq!(s["executor_id"]["value"], task, "{s}");
    // Master-made updates carry no uuid: nothing to acknowledge.
    assert!(s.get("uuid").is_none(), "{s}");
}

fn assert_failure(event: &Value, agent: &Value) {
    assert_eq!(event["type"], "FAILURE", "{event}");
    assert_eq!(event["failure"], json!({"agent_id": agent}), "{event}");
}

/// The operator stream's events up to a sentinel (a new framework's FRAMEWORK_ADDED), so
/// that an event that should not come can be shown not to have come.
async fn operator_events_until_sentinel(c: &Cluster, ops: &mut Events) -> Vec<Value> {
    let (_sentinel, _stream) = Framework::subscribe(
        &c.master_url(),
        json!({"user": "tester", "name": "sentinel"}),
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let e = next_event(ops).await;
        let done = e["type"] == "FRAMEWORK_ADDED"
            && e["framework_added"]["framework"]["framework_info"]["name"] == "sentinel";
        if done {
            return seen;
        }
        seen.push(e);
    }
}

/// The state of `task`'s last TASK_UPDATED operator event.
fn last_task_state(events: &[Value], task: &str) -> Option<Value> {
    events
        .iter()
        .rfind(|e| {
            e["type"] == "TASK_UPDATED" && e["task_updated"]["status"]["task_id"]["value"] == task
        })
        .map(|e| e["task_updated"]["state"].clone())
}

async fn metrics(c: &Cluster) -> Value {
    get_json(&format!("{}/metrics/snapshot", c.master_url())).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|t| {
                    format!(
                        "{}:{}",
                        t["task_id"]["value"].as_str().unwrap_or(""),
                        t["state"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The agent's own server stops answering (polling, with a deadline).
async fn until_silent(url: &str) {
    let deadline = Instant::now() + DEADLINE;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_else(|e| panic!("client: {e}"));
    while client.get(format!("{url}/health")).send().await.is_ok() {
        assert!(Instant::now() < deadline, "{url} still answers");
        tokio::task::yield_now().await;
    }
}

/// After the loss, offers come from the other agent only.
async fn offers_skip(scene: &mut Scene) {
    // The legacy framework steps aside, so the other agent goes to the aware one.
    let (code, body) = scene.legacy.call(json!({"type": "SUPPRESS"})).await;
    assert_eq!(code, 202, "{body}");
    let held = offer_on(&mut scene.legacy_events, &scene.other).await;
    let (code, body) = scene
        .legacy
        .call(json!({"type": "DECLINE", "decline": {"offer_ids": [held["id"]]}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let e = scene.aware_events.next_of("OFFERS").await;
    let offers = e["offers"]["offers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!offers.is_empty(), "{e}");
    for o in &offers {
        assert_eq!(o["agent_id"], scene.other, "an offer of a lost agent: {o}");
    }
}

#[tokio::test]
async fn a_crashed_agent_is_unreachable_after_missed_health_checks() {
    let c = cluster(PING).await;
    let m = c.master_url();
    let mut s = scene(&c).await;
    let flags = operator(&m, json!({"type": "GET_FLAGS"})).await;
    let flag = |name: &str| {
        flags["get_flags"]["flags"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["name"] == name))
            .map(|f| f["value"].clone())
            .unwrap_or_default()
    };
    assert_eq!(flag("agent_ping_timeout"), "100ms");
    assert_eq!(flag("max_agent_ping_timeouts"), "3");

    let lost_id = s.lost["value"].as_str().unwrap_or_default().to_string();
    let (code, body) = post(
        &format!("{m}/__cluster/agents/{lost_id}/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(answer["agent_id"], s.lost);
    assert!((answer["unreachable_after_secs"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-9);

    // The framework that is not partition-aware: TASK_LOST, then FAILURE.
    let e = next_event(&mut s.legacy_events).await;
    assert_lost_update(&e, "a1", "TASK_LOST", "REASON_AGENT_REMOVED", &s);
    assert_eq!(e["update"]["status"]["message"], "health check timed out");
    assert!(e["update"]["status"]["unreachable_time"]["nanoseconds"].as_i64() > Some(0));
    assert_failure(&next_event(&mut s.legacy_events).await, &s.lost);

    // The partition-aware one: TASK_UNREACHABLE, its offer rescinded, then FAILURE.
    let e = next_event(&mut s.aware_events).await;
    assert_lost_update(&e, "b1", "TASK_UNREACHABLE", "REASON_AGENT_REMOVED", &s);
    assert_eq!(e["update"]["status"]["message"], "health check timed out");
    let e = next_event(&mut s.aware_events).await;
    assert_eq!(e["type"], "RESCIND", "{e}");
    assert_eq!(e["rescind"]["offer_id"], s.spare_offer["id"]);
    assert_failure(&next_event(&mut s.aware_events).await, &s.lost);

    // Operator subscribers hear each task's new state; Mesos sends AGENT_REMOVED only
    // when an agent unregisters, not when it becomes unreachable.
    let ops = operator_events_until_sentinel(&c, &mut s.ops).await;
    let a1_last = last_task_state(&ops, "a1");
    assert_eq!(a1_last, Some(json!("TASK_LOST")), "{ops:?}");
    let b1_last = last_task_state(&ops, "b1");
    assert_eq!(b1_last, Some(json!("TASK_UNREACHABLE")), "{ops:?}");
    assert!(!ops.iter().any(|e| e["type"] == "AGENT_REMOVED"), "{ops:?}");

    // State: the agent left the registered agents; its tasks are unreachable tasks.
    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    let listed: Vec<Value> = agents["get_agents"]["agents"]
        .as_array()
        .map(|l| l.iter().map(|a| a["agent_info"]["id"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(listed, vec![s.other.clone()]);
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let t = &tasks["get_tasks"];
    assert!(t.get("tasks").is_none(), "{t}");
    assert_eq!(
        ids(&t["unreachable_tasks"]),
        vec!["a1:TASK_LOST", "b1:TASK_UNREACHABLE"]
    );
    let state = get_json(&format!("{m}/master/state")).await;
    assert_eq!(state["unreachable_slaves"], 1);
    assert_eq!(state["activated_slaves"], 1);
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1));
    let aware_state = state["frameworks"]
        .as_array()
        .and_then(|l| l.iter().find(|f| f["id"] == s.aware.id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(aware_state["unreachable_tasks"][0]["id"], "b1");
    assert_eq!(aware_state["tasks"], json!([]));
    let slaves = get_json(&format!("{m}/master/slaves")).await;
    assert_eq!(slaves["slaves"].as_array().map(Vec::len), Some(1));

    let x = metrics(&c).await;
    assert_eq!(x["master/slaves_unreachable"], 1.0, "{x}");
    assert_eq!(x["master/slaves_active"], 1.0);
    assert_eq!(x["master/slave_removals"], 1.0);
    assert_eq!(x["master/slave_removals/reason_unhealthy"], 1.0);
    assert_eq!(x["master/slave_unreachable_scheduled"], 1.0);
    assert_eq!(x["master/slave_unreachable_completed"], 1.0);
    assert_eq!(x["master/tasks_lost"], 1.0);
    assert_eq!(x["master/tasks_unreachable"], 1.0);
    assert_eq!(x["master/tasks_running"], 0.0);
    assert_eq!(x["master/cpus_total"], 2.0);
    // The master-made updates needed no acknowledgement, and got none.
    assert_eq!(x["master/invalid_status_update_acknowledgements"], 0.0);
    assert_eq!(x["master/valid_status_update_acknowledgements"], 4.0);

    until_silent(&s.lost_url).await;

    // Reconciliation answers from the master's record of the unreachable agent.
    let reconcile = |task: &str| {
        json!({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": task}, "agent_id": s.lost.clone()}]}})
    };
    let (code, _) = s.aware.call(reconcile("b1")).await;
    assert_eq!(code, 202);
    let r = s.aware_events.update_for(&s.aware, "b1").await;
    assert_eq!(r["state"], "TASK_UNREACHABLE", "{r}");
    assert_eq!(r["reason"], "REASON_RECONCILIATION");
    assert_eq!(r["message"], "Reconciliation: Task is unreachable");
    assert!(r["unreachable_time"]["nanoseconds"].as_i64() > Some(0));
    let (code, _) = s.legacy.call(reconcile("a1")).await;
    assert_eq!(code, 202);
    let r = s.legacy_events.update_for(&s.legacy, "a1").await;
    assert_eq!(r["state"], "TASK_LOST", "{r}");
    assert_eq!(r["message"], "Reconciliation: Task is unreachable");

    offers_skip(&mut s).await;
    c.shutdown().await;
}

#[tokio::test]
async fn mark_agent_gone_removes_a_registered_agent_for_good() {
    let c = cluster(PING).await;
    let m = c.master_url();
    let mut s = scene(&c).await;
    let call = json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": s.lost}});
    let (code, body) = post(&format!("{m}/api/v1"), &call, None).await;
    assert_eq!((code, body.as_str()), (200, ""));

    let e = next_event(&mut s.legacy_events).await;
    assert_lost_update(&e, "a1", "TASK_LOST", "REASON_AGENT_REMOVED", &s);
    assert_eq!(
        e["update"]["status"]["message"],
        "Agent has been marked gone"
    );
    assert!(e["update"]["status"].get("unreachable_time").is_none());
    assert_failure(&next_event(&mut s.legacy_events).await, &s.lost);

    let e = next_event(&mut s.aware_events).await;
    assert_lost_update(
        &e,
        "b1",
        "TASK_GONE_BY_OPERATOR",
        "REASON_AGENT_REMOVED_BY_OPERATOR",
        &s,
    );
    assert_eq!(
        e["update"]["status"]["message"],
        "Agent has been marked gone"
    );
    let e = next_event(&mut s.aware_events).await;
    assert_eq!(e["type"], "RESCIND", "{e}");
    assert_eq!(e["rescind"]["offer_id"], s.spare_offer["id"]);
    assert_failure(&next_event(&mut s.aware_events).await, &s.lost);

    let ops = operator_events_until_sentinel(&c, &mut s.ops).await;
    let b1_last = last_task_state(&ops, "b1");
    assert_eq!(b1_last, Some(json!("TASK_GONE_BY_OPERATOR")), "{ops:?}");
    let a1_last = last_task_state(&ops, "a1");
    assert_eq!(a1_last, Some(json!("TASK_LOST")), "{ops:?}");
    assert!(!ops.iter().any(|e| e["type"] == "AGENT_REMOVED"), "{ops:?}");

    // The gone task is completed; the TASK_LOST one stays with the unreachable tasks, as
    // Mesos keeps it (a task reported lost might come back with its agent).
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let t = &tasks["get_tasks"];
    assert_eq!(ids(&t["completed_tasks"]), vec!["b1:TASK_GONE_BY_OPERATOR"]);
    assert_eq!(ids(&t["unreachable_tasks"]), vec!["a1:TASK_LOST"]);
    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    assert_eq!(
        agents["get_agents"]["agents"].as_array().map(Vec::len),
        Some(1)
    );
    let state = get_json(&format!("{m}/master/state")).await;
    assert_eq!(state["unreachable_slaves"], 0);
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(1));
    let x = metrics(&c).await;
    assert_eq!(x["master/tasks_gone_by_operator"], 1.0, "{x}");
    assert_eq!(x["master/tasks_lost"], 1.0);
    assert_eq!(x["master/tasks_unreachable"], 0.0);
    assert_eq!(x["master/slaves_unreachable"], 0.0);
    // Mesos counts removals of unhealthy or unregistered agents, not of gone ones.
    assert_eq!(x["master/slave_removals"], 0.0);
    assert_eq!(x["master/slaves_active"], 1.0);

    until_silent(&s.lost_url).await;

    let (code, _) = s
        .aware
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": "b1"}, "agent_id": s.lost.clone()}]}}))
        .await;
    assert_eq!(code, 202);
    let r = s.aware_events.update_for(&s.aware, "b1").await;
    assert_eq!(r["state"], "TASK_GONE_BY_OPERATOR", "{r}");
    assert_eq!(r["message"], "Reconciliation: Task is gone");

    // Marking it again is fine; an unknown agent, or no agent, is an error.
    let (code, body) = post(&format!("{m}/api/v1"), &call, None).await;
    assert_eq!((code, body.as_str()), (200, ""));
    let nope =
        json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": {"value": "nope"}}});
    let (code, body) = post(&format!("{m}/api/v1"), &nope, None).await;
    assert_eq!((code, body.as_str()), (404, "Agent 'nope' not found"));
    let (code, body) = post(
        &format!("{m}/api/v1"),
        &json!({"type": "MARK_AGENT_GONE"}),
        None,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'mark_agent_gone' to be present"
        )
    );
    let (code, body) = post(
        &format!("{m}/api/v1"),
        &json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {}}),
        None,
    )
    .await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("mark_agent_gone.agent_id"), "{body}");
    // A gone agent cannot crash.
    let lost_id = s.lost["value"].as_str().unwrap_or_default().to_string();
    let (code, _) = post(
        &format!("{m}/__cluster/agents/{lost_id}/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 404);

    offers_skip(&mut s).await;
    c.shutdown().await;
}

#[tokio::test]
async fn marking_an_unreachable_agent_gone_settles_its_tasks() {
    let c = cluster(PING).await;
    let m = c.master_url();
    let mut s = scene(&c).await;
    let lost_id = s.lost["value"].as_str().unwrap_or_default().to_string();
    let (code, _) = post(
        &format!("{m}/__cluster/agents/{lost_id}/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200);
    let s1 = s.aware_events.update_for(&s.aware, "b1").await;
    assert_eq!(s1["state"], "TASK_UNREACHABLE");
    let s1 = s.legacy_events.update_for(&s.legacy, "a1").await;
    assert_eq!(s1["state"], "TASK_LOST");

    let call = json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {"agent_id": s.lost}});
    let (code, body) = post(&format!("{m}/api/v1"), &call, None).await;
    assert_eq!((code, body.as_str()), (200, ""));
    let e = s.aware_events.next_of("UPDATE").await;
    assert_lost_update(
        &e,
        "b1",
        "TASK_GONE_BY_OPERATOR",
        "REASON_AGENT_REMOVED_BY_OPERATOR",
        &s,
    );
    assert_eq!(
        e["update"]["status"]["message"],
        "Agent has been marked gone"
    );
    let e = s.legacy_events.next_of("UPDATE").await;
    assert_lost_update(&e, "a1", "TASK_LOST", "REASON_AGENT_REMOVED", &s);
    assert_eq!(
        e["update"]["status"]["message"],
        "Agent has been marked gone"
    );

    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let t = &tasks["get_tasks"];
    assert!(t.get("unreachable_tasks").is_none(), "{t}");
    assert_eq!(
        ids(&t["completed_tasks"]),
        vec!["a1:TASK_LOST", "b1:TASK_GONE_BY_OPERATOR"]
    );
    let x = metrics(&c).await;
    assert_eq!(x["master/slaves_unreachable"], 0.0, "{x}");
    assert_eq!(x["master/tasks_unreachable"], 0.0);
    assert_eq!(x["master/slave_removals"], 1.0);
    assert_eq!(x["master/tasks_lost"], 1.0);
    // From unreachable to gone is no new end of a task: Mesos's counter does not move.
    assert_eq!(x["master/tasks_gone_by_operator"], 0.0);
    let state = get_json(&format!("{m}/master/state")).await;
    assert_eq!(state["unreachable_slaves"], 0);
    c.shutdown().await;
}

#[tokio::test]
async fn a_crashed_agent_stays_registered_until_its_health_checks_run_out() {
    // Health checks a minute apart: the crash is silent for the whole test.
    let c = cluster(Duration::from_secs(60)).await;
    let m = c.master_url();
    let mut s = scene(&c).await;
    let lost_id = s.lost["value"].as_str().unwrap_or_default().to_string();
    let (code, body) = post(
        &format!("{m}/__cluster/agents/{lost_id}/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    until_silent(&s.lost_url).await;
    // Crashing it again changes nothing; an unknown agent cannot crash.
    let (code, _) = post(
        &format!("{m}/__cluster/agents/{lost_id}/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200);
    let (code, body) = post(
        &format!("{m}/__cluster/agents/nope/crash"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (404, "Agent 'nope' not found"));

    // The master does not know yet: the agent is registered, its tasks still running
    // (their processes died with the agent, but nothing the agent says reaches anyone).
    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    assert_eq!(
        agents["get_agents"]["agents"].as_array().map(Vec::len),
        Some(2)
    );
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    assert_eq!(
        ids(&tasks["get_tasks"]["tasks"]),
        vec!["a1:TASK_RUNNING", "b1:TASK_RUNNING"]
    );
    let x = metrics(&c).await;
    assert_eq!(x["master/slaves_unreachable"], 0.0);
    assert_eq!(x["master/tasks_running"], 2.0);
    // No update came: the next event of the aware framework is a heartbeat.
    let e = s.aware_events.next().await.unwrap_or_default();
    assert_eq!(e["type"], "HEARTBEAT", "{e}");
    c.shutdown().await;
}
