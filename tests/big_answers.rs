//! A big answer (a megabyte and more) shown as tables is kept as its JSON text: the tables
//! come from its projection, the jq worker is sent the text itself, and the kernel builds
//! the value only when something of its own needs it. What the user sees is the same as
//! for a small answer.

mod common;

use common::Harness;
use mesos_kernel::jupyter::Interpreter;
use serde_json::{json, Value};

const TASKS: usize = 3000;

fn state() -> Value {
    let states = ["TASK_RUNNING", "TASK_FINISHED", "TASK_FAILED"];
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| {
            json!({
                "name": format!("task-{i}"),
                "task_id": {"value": format!("task-{i}")},
                "framework_id": {"value": "fw-1"},
                "agent_id": {"value": format!("agent-{}", i % 10)},
                "state": states[i % 3],
                "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5}}],
                "statuses": [{"task_id": {"value": format!("task-{i}")}, "state": states[i % 3],
                              "timestamp": 1_800_000_000.0 + i as f64,
                              "message": "x".repeat(300)}]
            })
        })
        .collect();
    json!({"type": "GET_STATE", "get_state": {
        "get_tasks": {"tasks": tasks},
        "get_executors": {},
        "get_frameworks": {"frameworks": [{"framework_info": {"id": {"value": "fw-1"},
            "name": "big", "user": "u"}, "active": true, "connected": true}]},
        "get_agents": {"agents": (0..10).map(|i| json!({"agent_info": {
            "hostname": format!("h{i}"), "id": {"value": format!("agent-{i}")}}, "active": true}))
            .collect::<Vec<_>>()}
    }})
}

/// A master answering GET_STATE with `state()`, GET_MASTER with a big object no table
/// shows, and GET_AGENTS with a megabyte cut short.
async fn big_master() -> (String, usize) {
    use axum::http::header;
    use axum::routing::post;
    let state = serde_json::to_string(&state()).unwrap();
    let len = state.len();
    assert!(len > 1 << 20, "the state is {len} bytes");
    let master = json!({"type": "GET_MASTER", "get_master": {"master_info": {
        "version": "1.11.0", "hostname": "h".repeat(1 << 20)}}})
    .to_string();
    let app = axum::Router::new().route(
        "/api/v1",
        post(move |body: String| {
            let (state, master) = (state.clone(), master.clone());
            async move {
                let answer = if body.contains("GET_STATE") {
                    state
                } else if body.contains("GET_MASTER") {
                    master
                } else {
                    state[..state.len() - 10].to_string()
                };
                ([(header::CONTENT_TYPE, "application/json")], answer)
            }
        }),
    );
    (common::serve(app).await, len)
}

/// A session whose master is `big_master()`, and the length of its GET_STATE.
async fn connected() -> (Harness, usize) {
    let (base, len) = big_master().await;
    let mut h = Harness::new();
    h.ok(&format!("%master {base}")).await;
    (h, len)
}

fn held_as_text(h: &Harness, name: &str) -> bool {
    h.engine
        .variables()
        .bound(name)
        .is_some_and(|b| b.text().is_some())
}

#[tokio::test]
async fn a_big_answer_is_shown_from_its_projection_and_queried_as_it_came() {
    let (mut h, len) = connected().await;

    let shown = h.ok("GET_STATE").await;
    let text = shown["text/plain"].as_str().unwrap();
    assert!(shown.get("text/html").is_some(), "{shown}");
    assert!(
        text.contains("TASK_RUNNING") && text.contains("1000"),
        "{text}"
    );
    assert!(text.contains(&format!("{TASKS}")), "{text}");
    assert!(held_as_text(&h, "_"));

    // The worker is sent the text as it came, once, and answers from it.
    let before = h.engine.jq_worker().sent_bytes();
    let running = h
        .ok("$_.get_state.get_tasks.tasks | map(select(.state == \"TASK_RUNNING\")) | length")
        .await;
    assert_eq!(running["text/plain"], "1000");
    assert!(h.engine.jq_worker().sent_bytes() - before >= len as u64);
    assert!(held_as_text(&h, "_") || h.var("_") == Some(json!(1000)));

    // A bound name too; the kernel's own reading of it (%vars) parses it once.
    h.ok("s = GET_STATE").await;
    assert!(held_as_text(&h, "s"));
    assert_eq!(
        h.ok("$s.get_state.get_tasks.tasks[2999].name").await["text/plain"],
        "\"task-2999\""
    );
    let (result, published) = h.run("%vars").await;
    result.unwrap();
    assert!(format!("{published:?}").contains("object with 2 keys: type, get_state"));
    assert_eq!(h.var("s"), Some(state()));

    // Asked for as JSON, it is the JSON tree (capped for the front end, as any).
    let tree = h.ok("GET_STATE | json").await;
    assert_eq!(tree["application/json"]["type"], "GET_STATE");
    assert_eq!(
        tree["application/json"]["get_state"]["get_tasks"]["tasks"][0],
        state()["get_state"]["get_tasks"]["tasks"][0]
    );
    // The ids of tasks past the shown rows are known for completion too (up to the
    // completion's own cap of 2,000 per kind).
    h.ok("GET_STATE").await;
    let code = "KILL task_id=task-19";
    let c = h.engine.complete(code, code.len());
    assert!(
        c.matches.iter().any(|m| m == "task-1999"),
        "{:?}",
        c.matches
    );
}

#[tokio::test]
async fn a_big_answer_that_is_no_table_or_not_json_is_as_a_small_one() {
    let (mut h, _) = connected().await;
    let shown = h.ok("GET_MASTER").await;
    assert!(shown.get("application/json").is_some(), "{shown}");
    assert!(!held_as_text(&h, "_"));
    let e = h.err("GET_AGENTS").await;
    assert_eq!(e.ename, "MesosHttpError");
    assert!(e.evalue.contains("is not JSON"), "{}", e.evalue);
    // The session goes on, `$_` still the answer before.
    assert_eq!(
        h.ok("$_.get_master.master_info.version").await["text/plain"],
        "\"1.11.0\""
    );
}
