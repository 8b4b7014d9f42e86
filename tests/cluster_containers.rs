//! The agent's container calls over HTTP, against a running task's container, answered as
//! Mesos 1.11's agent answers them (`src/slave/http.cpp`, `src/slave/validation.cpp`, the
//! Mesos containerizer): the examples of Mesos's operator API docs for these calls, in our
//! own words, and their errors.

mod cluster_support;

use base64::Engine as _;
use cluster_support::*;
use mesos_kernel::mesos::recordio::{encode, Decoder};
use serde_json::{json, Value};

/// A cluster with one command task running; its agent's URL and its container id.
struct Running {
    _cluster: mesos_kernel::cluster::Cluster,
    agent: String,
    parent: Value,
    _events: Events,
}

async fn running_task() -> Running {
    let cluster = start().await;
    let m = cluster.master_url();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.offer().await;
    let task = command_task(
        "t1",
        &offer["agent_id"],
        "echo in-the-task > here.txt; sleep 60",
    );
    let (code, body) = fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let running = until_state(&mut events, &fw, "t1", "TASK_RUNNING").await;
    let parent = running["container_status"]["container_id"].clone();
    assert!(parent["value"].is_string(), "{running}");
    Running {
        agent: cluster.agent_urls()[0].clone(),
        _cluster: cluster,
        parent,
        _events: events,
    }
}

async fn call(agent: &str, body: Value) -> (u16, String) {
    post(&format!("{agent}/api/v1"), &body, None).await
}

fn nested(parent: &Value, value: &str) -> Value {
    json!({"value": value, "parent": parent})
}

/// Decodes a ProcessIO RecordIO body into (stdout, stderr).
fn process_io(body: &[u8]) -> (String, String) {
    let mut d = Decoder::new();
    d.push(body);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(Ok(record)) = d.next_record() {
        let v: Value = serde_json::from_slice(&record).unwrap_or(Value::Null);
        assert_eq!(v["type"], "DATA", "{v}");
        let data = base64::engine::general_purpose::STANDARD
            .decode(v["data"]["data"].as_str().unwrap_or(""))
            .unwrap_or_default();
        match v["data"]["type"].as_str() {
            Some("STDOUT") => out.extend(data),
            Some("STDERR") => err.extend(data),
            other => panic!("unexpected ProcessIO stream {other:?}"),
        }
    }
    (
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[tokio::test]
async fn nested_containers_launch_wait_kill_and_remove() {
    let r = running_task().await;
    let id = nested(&r.parent, "n1");
    // The docs' LAUNCH_NESTED_CONTAINER: an environment variable and `exit 0`.
    let launch = json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
        "container_id": id,
        "command": {"environment": {"variables": [{"name": "GREETING", "type": "VALUE", "value": "hello"}]},
                    "shell": true, "value": "echo $GREETING > greeting.txt; exit 0"}}});
    assert_eq!(call(&r.agent, launch.clone()).await, (200, String::new()));
    // WAIT_NESTED_CONTAINER answers once it ended, with the wait status.
    let (code, body) = call(
        &r.agent,
        json!({"type": "WAIT_NESTED_CONTAINER",
        "wait_nested_container": {"container_id": id}}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(
        v,
        json!({"type": "WAIT_NESTED_CONTAINER", "wait_nested_container": {"exit_status": 0}})
    );
    // Its own sandbox, under the parent's: containers/<id>.
    let tasks = operator(&r.agent, json!({"type": "GET_TASKS"})).await;
    let sandbox_of_parent = tasks["get_tasks"]["launched_tasks"][0]["statuses"][0]
        ["container_status"]["container_id"]["value"]
        .clone();
    assert_eq!(sandbox_of_parent, r.parent["value"]);
    let read = operator(&r.agent, json!({"type": "GET_STATE"})).await;
    assert!(read["get_state"].is_object());

    // A running one: listed with show_nested, killed with a signal, its status says so.
    let sleeper = nested(&r.parent, "n2");
    let launch2 = json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
        "container_id": sleeper, "command": {"value": "sleep 60"}}});
    assert_eq!(call(&r.agent, launch2.clone()).await.0, 200);
    // The same id again: already launched, 202.
    assert_eq!(call(&r.agent, launch2).await.0, 202);
    let listed = operator(
        &r.agent,
        json!({"type": "GET_CONTAINERS",
        "get_containers": {"show_nested": true, "show_standalone": false}}),
    )
    .await;
    let containers = listed["get_containers"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mine: Vec<&Value> = containers
        .iter()
        .filter(|c| c["container_id"]["value"] == "n2")
        .collect();
    assert_eq!(mine.len(), 1, "{listed}");
    assert_eq!(mine[0]["container_status"]["container_id"], sleeper);
    assert!(containers
        .iter()
        .any(|c| c["container_id"] == json!({"value": r.parent["value"]})));
    let plain = operator(&r.agent, json!({"type": "GET_CONTAINERS"})).await;
    assert!(!plain.to_string().contains("\"n2\""), "{plain}");

    let (code, body) = call(
        &r.agent,
        json!({"type": "REMOVE_NESTED_CONTAINER",
        "remove_nested_container": {"container_id": sleeper}}),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (500, "Nested container has not terminated yet")
    );
    let kill = json!({"type": "KILL_NESTED_CONTAINER", "kill_nested_container": {
        "container_id": sleeper, "signal": 15}});
    assert_eq!(call(&r.agent, kill.clone()).await, (200, String::new()));
    let (_, body) = call(
        &r.agent,
        json!({"type": "WAIT_NESTED_CONTAINER",
        "wait_nested_container": {"container_id": sleeper}}),
    )
    .await;
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!(v["wait_nested_container"]["exit_status"], 15, "{v}");
    let (code, body) = call(&r.agent, kill).await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        format!(
            "Container '{}.n2' cannot be found (or is already killed)",
            r.parent["value"].as_str().unwrap_or("")
        )
    );
    // REMOVE_NESTED_CONTAINER forgets it: WAIT no longer finds it.
    let remove = json!({"type": "REMOVE_NESTED_CONTAINER",
        "remove_nested_container": {"container_id": sleeper}});
    assert_eq!(call(&r.agent, remove).await, (200, String::new()));
    let (code, body) = call(
        &r.agent,
        json!({"type": "WAIT_NESTED_CONTAINER",
        "wait_nested_container": {"container_id": sleeper}}),
    )
    .await;
    assert_eq!(code, 404);
    assert_eq!(
        body,
        format!(
            "Container {}.n2 cannot be found",
            r.parent["value"].as_str().unwrap_or("")
        )
    );
}

#[tokio::test]
async fn container_calls_are_validated_as_mesos_validates_them() {
    let r = running_task().await;
    let cases = [
        (
            json!({"type": "LAUNCH_NESTED_CONTAINER"}),
            400,
            "Failed to validate agent::Call: Expecting 'launch_nested_container' to be present",
        ),
        (
            json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
                "container_id": {"value": "alone"}, "command": {"value": "true"}}}),
            400,
            "Failed to validate agent::Call: Expecting 'launch_nested_container.container_id.parent' to be present",
        ),
        (
            json!({"type": "KILL_NESTED_CONTAINER", "kill_nested_container": {
                "container_id": {"value": "a.b", "parent": r.parent}}}),
            400,
            "Failed to validate agent::Call: 'kill_nested_container.container_id' is invalid: 'ContainerID.value' 'a.b' contains invalid characters",
        ),
        (
            json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
                "container_id": {"value": "x", "parent": {"value": "no-such-parent"}},
                "command": {"value": "true"}}}),
            400,
            "Parent container no-such-parent does not exist",
        ),
        (
            json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
                "container_id": {"value": "d", "parent": r.parent},
                "container": {"type": "DOCKER", "docker": {"image": "alpine"}},
                "command": {"value": "true"}}}),
            400,
            "The provided ContainerInfo is not supported",
        ),
        (
            json!({"type": "WAIT_CONTAINER", "wait_container": {"container_id": {"value": "unknown"}}}),
            404,
            "Container unknown cannot be found",
        ),
        (
            json!({"type": "REMOVE_NESTED_CONTAINER", "remove_nested_container": {
                "container_id": {"value": "x", "parent": {"value": "no-root"}}}}),
            500,
            "Unknown root container",
        ),
    ];
    for (body, status, message) in cases {
        let (code, text) = call(&r.agent, body.clone()).await;
        assert_eq!((code, text.as_str()), (status, message), "{body}");
    }
    // A non-streaming call asked for a stream, and a stream header on a plain call.
    let resp = client()
        .post(format!("{}/api/v1", r.agent))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .body(json!({"type": "GET_CONTAINERS"}).to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 406);
    assert_eq!(
        resp.text().await.unwrap_or_default(),
        "Streaming response is not supported for GET_CONTAINERS call"
    );
}

#[tokio::test]
async fn a_session_streams_output_and_its_exit_status_is_kept() {
    let r = running_task().await;
    let id = nested(&r.parent, "s1");
    let resp = client()
        .post(format!("{}/api/v1", r.agent))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "application/json")
        .body(
            json!({"type": "LAUNCH_NESTED_CONTAINER_SESSION", "launch_nested_container_session": {
                "container_id": id,
                "command": {"shell": true, "value": "cat here.txt; echo oops >&2; exit 7"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header("content-type"), "application/recordio");
    assert_eq!(header("message-content-type"), "application/json");
    let body = resp.bytes().await.unwrap_or_default();
    // It works in the task's sandbox: the task's file is there.
    assert_eq!(process_io(&body), ("in-the-task\n".into(), "oops\n".into()));
    let (_, wait) = call(
        &r.agent,
        json!({"type": "WAIT_NESTED_CONTAINER",
        "wait_nested_container": {"container_id": id}}),
    )
    .await;
    let v: Value = serde_json::from_str(&wait).unwrap_or_default();
    assert_eq!(v["wait_nested_container"]["exit_status"], 7 << 8, "{v}");
}

#[tokio::test]
async fn input_reaches_a_session_and_output_can_be_attached() {
    let r = running_task().await;
    let id = nested(&r.parent, "cat");
    let session = client()
        .post(format!("{}/api/v1", r.agent))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "application/json")
        .body(
            json!({"type": "LAUNCH_NESTED_CONTAINER_SESSION", "launch_nested_container_session": {
                "container_id": id, "command": {"value": "cat"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(session.status().as_u16(), 200);
    // A second reader of its output.
    let attached = client()
        .post(format!("{}/api/v1", r.agent))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "application/json")
        .body(
            json!({"type": "ATTACH_CONTAINER_OUTPUT", "attach_container_output": {"container_id": id}})
                .to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(attached.status().as_u16(), 200);

    // The docs' ATTACH_CONTAINER_INPUT: the container id, data, a heartbeat, then EOF.
    let records = [
        json!({"type": "ATTACH_CONTAINER_INPUT", "attach_container_input": {
            "type": "CONTAINER_ID", "container_id": id}}),
        json!({"type": "ATTACH_CONTAINER_INPUT", "attach_container_input": {
            "type": "PROCESS_IO", "process_io": {"type": "DATA", "data": {"type": "STDIN",
            "data": base64::engine::general_purpose::STANDARD.encode("typed in\n")}}}}),
        json!({"type": "ATTACH_CONTAINER_INPUT", "attach_container_input": {
            "type": "PROCESS_IO", "process_io": {"type": "CONTROL", "control": {"type": "HEARTBEAT",
            "heartbeat": {"interval": {"nanoseconds": 30_000_000_000u64}}}}}}),
        json!({"type": "ATTACH_CONTAINER_INPUT", "attach_container_input": {
            "type": "PROCESS_IO", "process_io": {"type": "DATA", "data": {"type": "STDIN", "data": ""}}}}),
    ];
    let body: Vec<u8> = records
        .iter()
        .flat_map(|r| encode(r.to_string().as_bytes()))
        .collect();
    let input = client()
        .post(format!("{}/api/v1", r.agent))
        .header("Content-Type", "application/recordio")
        .header("Message-Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(input.status().as_u16(), 200);
    let out = session.bytes().await.unwrap_or_default();
    assert_eq!(process_io(&out).0, "typed in\n");
    let seen = attached.bytes().await.unwrap_or_default();
    assert_eq!(process_io(&seen).0, "typed in\n");

    // A container without an IO switchboard cannot be attached to.
    let plain = nested(&r.parent, "plain");
    let launch = json!({"type": "LAUNCH_NESTED_CONTAINER", "launch_nested_container": {
        "container_id": plain, "command": {"value": "sleep 30"}}});
    assert_eq!(call(&r.agent, launch).await.0, 200);
    let (code, text) = call(
        &r.agent,
        json!({"type": "ATTACH_CONTAINER_OUTPUT",
        "attach_container_output": {"container_id": plain}}),
    )
    .await;
    assert_eq!(
        (code, text.as_str()),
        (
            500,
            "I/O switchboard server was disabled for this container"
        )
    );
    // A container under no task: Mesos finds no executor for it.
    let (code, text) = call(
        &r.agent,
        json!({"type": "ATTACH_CONTAINER_OUTPUT",
        "attach_container_output": {"container_id": {"value": "stray"}}}),
    )
    .await;
    assert_eq!(
        (code, text.as_str()),
        (404, "Container stray cannot be found")
    );
}

#[tokio::test]
async fn standalone_containers_and_calls_without_providers_or_images() {
    let r = running_task().await;
    let launch = json!({"type": "LAUNCH_CONTAINER", "launch_container": {
        "container_id": {"value": "standalone-1"},
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "command": {"value": "sleep 30"}}});
    assert_eq!(call(&r.agent, launch).await, (200, String::new()));
    let listed = operator(
        &r.agent,
        json!({"type": "GET_CONTAINERS",
        "get_containers": {"show_nested": false, "show_standalone": true}}),
    )
    .await;
    assert!(listed.to_string().contains("standalone-1"), "{listed}");
    let kill = json!({"type": "KILL_CONTAINER", "kill_container": {
        "container_id": {"value": "standalone-1"}}});
    assert_eq!(call(&r.agent, kill).await.0, 200);

    let v = operator(&r.agent, json!({"type": "GET_RESOURCE_PROVIDERS"})).await;
    assert_eq!(
        v,
        json!({"type": "GET_RESOURCE_PROVIDERS", "get_resource_providers": {}})
    );
    let storage = json!({"type": "org.apache.mesos.rp.local.storage", "name": "test_slrp",
        "default_reservations": [{"type": "DYNAMIC", "role": "storage"}],
        "storage": {"plugin": {"type": "org.apache.mesos.csi.test", "name": "p", "containers": []}}});
    for kind in [
        "add_resource_provider_config",
        "update_resource_provider_config",
    ] {
        let (code, text) = call(
            &r.agent,
            json!({"type": kind.to_uppercase(), kind: {"info": storage}}),
        )
        .await;
        assert_eq!(
            (code, text.as_str()),
            (500, "Missing required flag --resource_provider_config_dir")
        );
    }
    let (code, text) = call(
        &r.agent,
        json!({"type": "ADD_RESOURCE_PROVIDER_CONFIG",
        "add_resource_provider_config": {"info": {"type": "org.example.other", "name": "x"}}}),
    )
    .await;
    assert_eq!(code, 400);
    assert_eq!(text, "Failed to validate resource provider config with type 'org.example.other' and name 'x': Unknown local resource provider type 'org.example.other'");
    let (code, text) = call(&r.agent, json!({"type": "REMOVE_RESOURCE_PROVIDER_CONFIG",
        "remove_resource_provider_config": {"type": "org.apache.mesos.rp.local.storage", "name": "test_slrp"}}))
    .await;
    assert_eq!(
        (code, text.as_str()),
        (500, "Missing required flag --resource_provider_config_dir")
    );
    let (code, text) = call(&r.agent, json!({"type": "PRUNE_IMAGES",
        "prune_images": {"excluded_images": [{"type": "DOCKER", "docker": {"name": "mysql:5.7"}}]}}))
    .await;
    assert_eq!((code, text.as_str()), (200, ""));
}

#[tokio::test]
async fn pod_tasks_run_in_nested_containers() {
    let cluster = start().await;
    let m = cluster.master_url();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.offer().await;
    let agent_id = offer["agent_id"].clone();
    let task = |id: &str, cmd: &str| {
        json!({"name": id, "task_id": {"value": id}, "agent_id": agent_id,
            "command": {"value": cmd}, "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]})
    };
    let accept = json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
            "executor": {"type": "DEFAULT", "executor_id": {"value": "default"},
                "framework_id": {"value": fw.id},
                "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]},
            "task_group": {"tasks": [task("p1", "echo one > mine.txt; sleep 60"), task("p2", "sleep 60")]}}}],
        "filters": {"refuse_seconds": 0}}});
    let (code, body) = fw.call(accept).await;
    assert_eq!(code, 202, "{body}");
    let s1 = until_state(&mut events, &fw, "p1", "TASK_RUNNING").await;
    let s2 = until_state(&mut events, &fw, "p2", "TASK_RUNNING").await;
    let c1 = s1["container_status"]["container_id"].clone();
    let c2 = s2["container_status"]["container_id"].clone();
    // Each task has its own nested container under the one executor container.
    assert!(c1["parent"]["value"].is_string(), "{s1}");
    assert_eq!(c1["parent"], c2["parent"]);
    assert_ne!(c1["value"], c2["value"]);
    let agent = cluster.agent_urls()[0].clone();
    let listed = operator(
        &agent,
        json!({"type": "GET_CONTAINERS",
        "get_containers": {"show_nested": true}}),
    )
    .await;
    // Each container once: the executor's (one for the pod, not one per task), then each
    // task's nested in it.
    let ids = |list: &Value| -> Vec<Value> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|e| e["container_status"]["container_id"].clone())
            .collect()
    };
    let executor = c1["parent"].clone();
    let with_nested = ids(&listed["get_containers"]["containers"]);
    assert_eq!(with_nested.len(), 3, "{listed}");
    for c in [&executor, &c1, &c2] {
        assert_eq!(
            with_nested.iter().filter(|e| *e == c).count(),
            1,
            "{c} in {listed}"
        );
    }
    let plain = operator(&agent, json!({"type": "GET_CONTAINERS"})).await;
    assert_eq!(
        ids(&plain["get_containers"]["containers"]),
        vec![executor.clone()],
        "{plain}"
    );
    // The legacy form names it by its value.
    let legacy = get_json(&format!("{agent}/containers")).await;
    let values: Vec<Value> = legacy
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["container_id"].clone())
        .collect();
    assert_eq!(values, vec![executor["value"].clone()], "{legacy}");
    let statistics = get_json(&format!("{agent}/monitor/statistics")).await;
    assert_eq!(statistics.as_array().map(Vec::len), Some(1), "{statistics}");
    // `mesos task exec` into a pod task: nested under the task's own container.
    let id = nested(&c1, "exec");
    let resp = client()
        .post(format!("{agent}/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "application/json")
        .body(
            json!({"type": "LAUNCH_NESTED_CONTAINER_SESSION", "launch_nested_container_session": {
                "container_id": id, "command": {"value": "cat mine.txt"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status().as_u16(), 200);
    let out = resp.bytes().await.unwrap_or_default();
    assert_eq!(process_io(&out).0, "one\n");
    // Killing a pod task's container ends that task only.
    let (code, _) = call(
        &agent,
        json!({"type": "KILL_NESTED_CONTAINER",
        "kill_nested_container": {"container_id": c2}}),
    )
    .await;
    assert_eq!(code, 200);
    let ended = events.update_for(&fw, "p2").await;
    assert_eq!(ended["state"], "TASK_FAILED", "{ended}");
    assert_eq!(ended["message"], "Command terminated with signal Killed");
}
