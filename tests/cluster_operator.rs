//! The v1 operator API of the embedded master and agents over real HTTP, including operator
//! SUBSCRIBE events, LIST_FILES / READ_FILE, and the 501 for calls it does not implement.

mod cluster_support;

use base64::Engine as _;
use cluster_support::*;
use serde_json::json;

#[tokio::test]
async fn master_get_calls_answer_with_mesos_shapes() {
    let c = start().await;
    let m = c.master_url();
    let v = operator(&m, json!({"type": "GET_HEALTH"})).await;
    assert_eq!(
        v,
        json!({"type": "GET_HEALTH", "get_health": {"healthy": true}})
    );
    let v = operator(&m, json!({"type": "GET_VERSION"})).await;
    assert_eq!(v["get_version"]["version_info"]["version"], "1.11.0");
    let v = operator(&m, json!({"type": "GET_FLAGS"})).await;
    let flags = v["get_flags"]["flags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(flags.iter().any(|f| f["name"] == "work_dir"));
    let v = operator(&m, json!({"type": "GET_METRICS", "get_metrics": {}})).await;
    let metrics = v["get_metrics"]["metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(metrics
        .iter()
        .any(|x| x["name"] == "master/slaves_active" && x["value"] == 1.0));
    let v = operator(&m, json!({"type": "GET_LOGGING_LEVEL"})).await;
    assert!(v["get_logging_level"]["level"].is_number());
    let v = operator(&m, json!({"type": "GET_MASTER"})).await;
    assert_eq!(v["get_master"]["master_info"]["id"], c.master_id());
    let v = operator(&m, json!({"type": "GET_AGENTS"})).await;
    let agent = &v["get_agents"]["agents"][0];
    assert_eq!(
        agent["pid"],
        format!(
            "slave(1)@{}",
            c.agent_urls()[0].trim_start_matches("http://")
        )
    );
    assert_eq!(agent["agent_info"]["attributes"][0]["name"], "rack");
    let v = operator(&m, json!({"type": "GET_STATE"})).await;
    assert_eq!(v["type"], "GET_STATE");
    assert!(v["get_state"]["get_agents"]["agents"].is_array());
    for call in ["GET_FRAMEWORKS", "GET_EXECUTORS", "GET_TASKS", "GET_ROLES"] {
        let v = operator(&m, json!({ "type": call })).await;
        assert!(v[call.to_ascii_lowercase()].is_object(), "{call}: {v}");
    }
    c.shutdown().await;
}

#[tokio::test]
async fn operator_errors_and_unimplemented_calls() {
    let c = start().await;
    let u = format!("{}/api/v1", c.master_url());
    // Every call of Mesos 1.11's master API is answered now (maintenance, quota, weights,
    // reservations, volumes, operations).
    let (code, body) = post(&u, &json!({"type": "GET_METRICS"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'get_metrics' to be present"
        )
    );
    let (code, body) = post(&u, &json!({}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate master::Call: Expecting 'type' to be present"
        )
    );
    let (code, body) = post(
        &u,
        &json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}}),
        None,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "No framework found with specified ID")
    );
    let r = client()
        .get(&u)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 405);
    let a = format!("{}/api/v1", c.agent_urls()[0]);
    // Container calls are answered now (tests/cluster_containers.rs); a call Mesos knows
    // and this cluster does not still names itself in a 501.
    let (code, body) = post(&a, &json!({"type": "LAUNCH_NESTED_CONTAINER"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate agent::Call: Expecting 'launch_nested_container' to be present"
        )
    );
    // The agent answers every call of Mesos 1.11's agent API too (SET_LOGGING_LEVEL and
    // GET_OPERATIONS were the last).
    c.shutdown().await;
}

#[tokio::test]
async fn operator_subscribe_streams_state_and_changes() {
    let c = start().await;
    let m = c.master_url();
    let mut ops = Events::open(&format!("{m}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    let first = ops.next().await.unwrap_or_default();
    assert_eq!(first["type"], "SUBSCRIBED");
    assert!(first["subscribed"]["get_state"]["get_agents"]["agents"].is_array());
    assert_eq!(first["subscribed"]["heartbeat_interval_seconds"], 0.3);
    ops.next_of("HEARTBEAT").await;

    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let added = ops.next_of("FRAMEWORK_ADDED").await;
    assert_eq!(
        added["framework_added"]["framework"]["framework_info"]["id"]["value"],
        fw.id
    );
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("op", &offer["agent_id"], "true")],
    ))
    .await;
    let task = ops.next_of("TASK_ADDED").await;
    assert_eq!(task["task_added"]["task"]["task_id"]["value"], "op");
    assert_eq!(task["task_added"]["task"]["state"], "TASK_STAGING");
    let updated = ops.next_of("TASK_UPDATED").await;
    assert_eq!(updated["task_updated"]["state"], "TASK_STARTING");
    assert_eq!(updated["task_updated"]["framework_id"]["value"], fw.id);
    until_state(&mut events, &fw, "op", "TASK_FINISHED").await;
    fw.call(json!({"type": "TEARDOWN"})).await;
    let removed = ops.next_of("FRAMEWORK_REMOVED").await;
    assert_eq!(
        removed["framework_removed"]["framework_info"]["id"]["value"],
        fw.id
    );
    c.shutdown().await;
}

#[tokio::test]
async fn operator_teardown_removes_a_framework() {
    let c = start().await;
    let m = c.master_url();
    let (fw, _events) = Framework::subscribe(&m, info()).await;
    let (code, body) = post(
        &format!("{m}/api/v1"),
        &json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": fw.id}}}),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let v = operator(&m, json!({"type": "GET_FRAMEWORKS"})).await;
    assert_eq!(
        v["get_frameworks"]["completed_frameworks"][0]["framework_info"]["id"]["value"],
        fw.id
    );
    c.shutdown().await;
}

#[tokio::test]
async fn agent_calls_and_sandbox_files() {
    let c = start().await;
    let m = c.master_url();
    let agent = c.agent_urls()[0].clone();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task(
            "files",
            &offer["agent_id"],
            "printf 'line one\\nline two\\n'; sleep 30",
        )],
    ))
    .await;
    until_state(&mut events, &fw, "files", "TASK_RUNNING").await;

    let v = operator(&agent, json!({"type": "GET_AGENT"})).await;
    assert_eq!(v["get_agent"]["agent_info"]["id"], offer["agent_id"]);
    let v = operator(&agent, json!({"type": "GET_HEALTH"})).await;
    assert_eq!(v["get_health"]["healthy"], true);
    for call in [
        "GET_FLAGS",
        "GET_VERSION",
        "GET_STATE",
        "GET_FRAMEWORKS",
        "GET_EXECUTORS",
        "GET_TASKS",
        "GET_CONTAINERS",
    ] {
        let v = operator(&agent, json!({ "type": call })).await;
        assert!(v[call.to_ascii_lowercase()].is_object(), "{call}: {v}");
    }
    let v = operator(&agent, json!({"type": "GET_METRICS", "get_metrics": {}})).await;
    assert!(v["get_metrics"]["metrics"].is_array());
    let v = operator(&agent, json!({"type": "GET_TASKS"})).await;
    assert_eq!(
        v["get_tasks"]["launched_tasks"][0]["task_id"]["value"],
        "files"
    );
    let v = operator(&agent, json!({"type": "GET_CONTAINERS"})).await;
    assert_eq!(
        v["get_containers"]["containers"][0]["executor_id"]["value"],
        "files"
    );
    let v = operator(&agent, json!({"type": "GET_EXECUTORS"})).await;
    assert!(v["get_executors"]["executors"][0]["executor_info"]["name"]
        .as_str()
        .unwrap_or("")
        .starts_with("Command Executor (Task: files) (Command: sh -c '"));

    let sandbox = format!("/frameworks/{}/executors/files/runs/latest", fw.id);
    // Wait (with a deadline) for the command's output to land.
    let deadline = std::time::Instant::now() + DEADLINE;
    let data = loop {
        let v = operator(&agent, json!({"type": "READ_FILE", "read_file": {"path": format!("{sandbox}/stdout"), "offset": 0}})).await;
        let data = base64::engine::general_purpose::STANDARD
            .decode(v["read_file"]["data"].as_str().unwrap_or(""))
            .unwrap_or_default();
        if data.len() >= 18 || std::time::Instant::now() > deadline {
            assert_eq!(v["read_file"]["size"], 18);
            break data;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(data, b"line one\nline two\n");
    let v = operator(&agent, json!({"type": "READ_FILE", "read_file": {"path": format!("{sandbox}/stdout"), "offset": 5, "length": 3}})).await;
    assert_eq!(
        v["read_file"]["data"],
        base64::engine::general_purpose::STANDARD.encode("one")
    );
    let v = operator(
        &agent,
        json!({"type": "LIST_FILES", "list_files": {"path": sandbox.clone()}}),
    )
    .await;
    let names: Vec<String> = v["list_files"]["file_infos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        names.contains(&format!("{sandbox}/stdout"))
            && names.contains(&format!("{sandbox}/stderr")),
        "{names:?}"
    );
    // The master reads the same sandboxes.
    let v = operator(
        &m,
        json!({"type": "LIST_FILES", "list_files": {"path": sandbox.clone()}}),
    )
    .await;
    assert!(v["list_files"]["file_infos"].is_array());
    let (code, _) = post(
        &format!("{agent}/api/v1"),
        &json!({"type": "READ_FILE", "read_file": {"path": "/nope", "offset": 0}}),
        None,
    )
    .await;
    assert_eq!(code, 404);
    c.shutdown().await;
}

/// The master never waits for a reader: a subscriber that stops reading has its stream
/// closed once it falls `--subscriber-backlog` behind, while one that reads stays open.
#[tokio::test]
async fn an_operator_subscriber_that_stops_reading_is_closed_and_one_that_reads_is_not() {
    let c = start_with(|c| c.subscriber_backlog = 256 << 10).await;
    let m = c.master_url();
    let subscribers = || async {
        get_json(&format!("{m}/metrics/snapshot")).await["master/operator_event_stream_subscribers"]
            .as_f64()
            .unwrap_or(-1.0)
    };
    let mut slow = Events::open(&format!("{m}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    let mut reader = Events::open(&format!("{m}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    assert_eq!(
        reader.next().await.unwrap_or_default()["type"],
        "SUBSCRIBED"
    );
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let reading = tokio::spawn(async move {
        let mut seen = 0usize;
        loop {
            tokio::select! {
                _ = &mut stopped => return Some(seen),
                e = reader.next() => match e {
                    Some(_) => seen += 1,
                    None => return None,
                },
            }
        }
    });
    assert_eq!(subscribers().await, 2.0);
    // Each framework that comes and goes is three events carrying its 64 KB of labels.
    let mut info = info();
    info["labels"] = json!({"labels": [{"key": "pad", "value": "x".repeat(64 << 10)}]});
    let mut frameworks = 0;
    while subscribers().await != 1.0 {
        assert!(frameworks < 1000, "the slow subscriber was never closed");
        let (_fw, events) = Framework::subscribe(&m, info.clone()).await;
        drop(events);
        frameworks += 1;
    }
    // The slow stream ends, after what was already on its way; what was queued is gone.
    let mut removed = 0usize;
    while let Some(e) = slow.next().await {
        removed += usize::from(e["type"] == "FRAMEWORK_REMOVED");
    }
    assert!(
        removed < frameworks,
        "{removed} of {frameworks} removals read"
    );
    let _ = stop.send(());
    let seen = reading.await.unwrap_or_default();
    assert!(
        seen.is_some_and(|n| n >= frameworks),
        "the reader's stream: {seen:?}"
    );
    c.shutdown().await;
}
