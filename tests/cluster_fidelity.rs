//! What the embedded cluster does as Mesos 1.11 does it, over real HTTP: libprocess's
//! routing, the agent API's media types, uuids decoded as the JSON-to-protobuf conversion
//! decodes bytes, suppressed roles and offer constraints, every role in GET_ROLES, the
//! legacy JSON's labels, Mesos's own flags and metrics, and containers' statistics.

mod cluster_support;

use base64::Engine as _;
use cluster_support::*;
use serde_json::{json, Value};

/// The events up to the second HEARTBEAT after SUBSCRIBED. The allocator runs when a
/// framework subscribes, so offers it makes then are queued before the stream's own
/// first heartbeat: none among these events means none were made.
async fn until_second_heartbeat(events: &mut Events) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut heartbeats = 0;
    while heartbeats < 2 {
        let e = events.next().await.unwrap_or_default();
        heartbeats += usize::from(e["type"] == "HEARTBEAT");
        seen.push(e);
    }
    seen
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

async fn get(url: &str) -> (u16, String) {
    let resp = client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn paths_route_as_libprocess_routes_them() {
    let c = start().await;
    let (m, a) = (c.master_url(), c.agent_urls()[0].clone());
    let plain = get_json(&format!("{m}/master/frameworks")).await;
    for path in [
        "/master/frameworks/",
        "/frameworks/",
        "/master/frameworks//",
    ] {
        assert_eq!(get_json(&format!("{m}{path}")).await, plain, "{path}");
    }
    // The longest route a path extends answers it.
    let state = get_json(&format!("{m}/master/state/anything/below")).await;
    assert_eq!(state["version"], "1.11.0");
    assert_eq!(get(&format!("{m}/master/")).await.0, 404);
    assert_eq!(get(&format!("{m}/nothing")).await.0, 404);
    // Agents: /containers, /flags, and every route under /slave(1)/ too.
    assert_eq!(get_json(&format!("{a}/containers")).await, json!([]));
    assert_eq!(
        get_json(&format!("{a}/slave(1)/containers/")).await,
        json!([])
    );
    let flags = get_json(&format!("{a}/slave(1)/flags")).await;
    assert_eq!(
        flags["flags"]["port"],
        a.rsplit(':').next().unwrap_or_default()
    );
    assert!(get_json(&format!("{a}/state/")).await["id"].is_string());
    c.shutdown().await;
}

/// POST to an agent's `/api/v1` with these headers; status and body.
async fn agent_call(agent: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
    let mut req = client().post(format!("{agent}/api/v1")).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("POST: {e}"));
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_agent_api_takes_streaming_media_types_as_mesos_does() {
    let c = start().await;
    let a = c.agent_urls()[0].clone();
    let state = br#"{"type": "GET_STATE"}"#.to_vec();
    let json_ct = ("Content-Type", "application/json");
    // A streamed answer is accepted for the calls that stream, refused for the others.
    let (code, body) = agent_call(
        &a,
        &[
            json_ct,
            ("Accept", "application/recordio"),
            ("Message-Accept", "application/json"),
        ],
        state.clone(),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            406,
            "Streaming response is not supported for GET_STATE call"
        )
    );
    let output = br#"{"type": "ATTACH_CONTAINER_OUTPUT", "attach_container_output": {"container_id": {"value": "c"}}}"#;
    let (code, body) = agent_call(
        &a,
        &[
            json_ct,
            ("Accept", "application/recordio"),
            ("Message-Accept", "application/json"),
        ],
        output.to_vec(),
    )
    .await;
    // Past the media checks: the container is unknown, as Mesos's agent says it.
    assert_eq!((code, body.as_str()), (404, "Container c cannot be found"));
    let (code, body) = agent_call(
        &a,
        &[
            json_ct,
            ("Accept", "application/json"),
            ("Message-Accept", "application/json"),
        ],
        state.clone(),
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            406,
            "Expecting 'Message-Accept' to be not set for non-streaming responses"
        )
    );
    let (code, body) = agent_call(&a, &[json_ct, ("Accept", "text/html")], state.clone()).await;
    assert_eq!(
        (code, body.as_str()),
        (406, "Expecting 'Accept' to allow application/json or application/x-protobuf or application/recordio")
    );
    // A streamed request needs its records' type, and only ATTACH_CONTAINER_INPUT is one.
    let recordio = ("Content-Type", "application/recordio");
    let (code, body) = agent_call(&a, &[recordio], state.clone()).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Expecting 'Message-Content-Type' to be set for streaming requests"
        )
    );
    let framed = mesos_kernel::mesos::recordio::encode(&state);
    let (code, body) = agent_call(
        &a,
        &[recordio, ("Message-Content-Type", "application/json")],
        framed,
    )
    .await;
    assert_eq!(
        (code, body.as_str()),
        (
            415,
            "Streaming 'Content-Type' application/recordio is not supported for GET_STATE call"
        )
    );
    // And the plain call still works.
    let (code, body) = agent_call(&a, &[json_ct], state).await;
    assert_eq!(code, 200, "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn acknowledgements_decode_uuids_padded_or_not() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.offer().await;
    let (code, body) = fw
        .call(launch(
            &offer,
            vec![command_task("t", &offer["agent_id"], "sleep 60")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    let starting = events.next_of("UPDATE").await["update"]["status"].clone();
    assert_eq!(starting["state"], "TASK_STARTING");
    let uuid = starting["uuid"].as_str().unwrap_or_default();
    assert!(uuid.ends_with("=="), "Mesos's uuids are padded: {uuid}");
    let ack = |uuid: &str| {
        json!({"type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": starting["agent_id"], "task_id": starting["task_id"], "uuid": uuid}})
    };
    let (code, body) = fw.call(ack("ab!c")).await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to convert JSON into Call protobuf: Failed to base64 decode bytes field 'uuid': Invalid character '!'")
    );
    // Unpadded, it is the same uuid: the update stream moves on.
    let (code, body) = fw.call(ack(uuid.trim_end_matches('='))).await;
    assert_eq!(code, 202, "{body}");
    let running = events.next_of("UPDATE").await["update"]["status"].clone();
    assert_eq!(running["state"], "TASK_RUNNING");
    let metrics = get_json(&format!("{}/metrics/snapshot", c.master_url())).await;
    assert_eq!(metrics["master/valid_status_update_acknowledgements"], 1.0);
    c.shutdown().await;
}

fn multi_role(roles: &[&str]) -> Value {
    json!({"user": "u", "name": "roles test", "roles": roles,
           "capabilities": [{"type": "MULTI_ROLE"}]})
}

async fn subscribe_call(master: &str, subscribe: Value) -> (Framework, Events) {
    let call = json!({"type": "SUBSCRIBE", "subscribe": subscribe});
    let mut events = Events::open(&format!("{master}/api/v1/scheduler"), &call).await;
    let subscribed = events.next_of("SUBSCRIBED").await;
    let id = subscribed["subscribed"]["framework_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let stream_id = events.stream_id.clone().unwrap_or_default();
    (
        Framework {
            master: master.to_string(),
            id,
            stream_id,
        },
        events,
    )
}

#[tokio::test]
async fn suppressed_roles_get_no_offers_until_revived() {
    let c = start().await;
    let m = c.master_url();
    let (fw, mut events) = subscribe_call(
        &m,
        json!({"framework_info": multi_role(&["analytics"]), "suppressed_roles": ["analytics"]}),
    )
    .await;
    let seen = until_second_heartbeat(&mut events).await;
    assert!(!kinds(&seen).contains(&"OFFERS"), "{seen:?}");
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    let suppressed = format!(
        "master/frameworks/roles%20test/{}/roles/analytics/suppressed",
        fw.id
    );
    assert_eq!(metrics[&suppressed], 1.0);
    let (code, body) = fw
        .call(json!({"type": "REVIVE", "revive": {"roles": ["analytics"]}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let offer = events.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "analytics");
    assert_eq!(
        offer["resources"][0]["allocation_info"]["role"],
        "analytics"
    );
    // A suppressed role the framework does not have refuses the subscription.
    let call = json!({"type": "SUBSCRIBE", "subscribe": {
        "framework_info": multi_role(&["a"]), "suppressed_roles": ["b"]}});
    let mut refused = Events::open(&format!("{m}/api/v1/scheduler"), &call).await;
    let error = refused.next_of("ERROR").await;
    assert_eq!(
        error["error"]["message"],
        "Suppressed role 'b' is not contained in the list of roles"
    );
    c.shutdown().await;
}

fn constraint(attribute: &str, predicate: Value) -> Value {
    json!({"role_constraints": {"*": {"groups": [{"attribute_constraints": [
        {"selector": {"attribute_name": attribute}, "predicate": predicate}]}]}}})
}

#[tokio::test]
async fn offer_constraints_keep_agents_out() {
    let c = start().await;
    let m = c.master_url();
    // The agents have `rack:r2d2`: a framework that wants another rack gets nothing.
    let (_elsewhere, mut events) = subscribe_call(
        &m,
        json!({"framework_info": info(),
               "offer_constraints": constraint("rack", json!({"text_equals": {"value": "r1"}}))}),
    )
    .await;
    let seen = until_second_heartbeat(&mut events).await;
    assert!(!kinds(&seen).contains(&"OFFERS"), "{seen:?}");
    // One that wants racks matching `r2.*` (the whole value, as RE2's FullMatch) does.
    let (_here, mut events) = subscribe_call(
        &m,
        json!({"framework_info": info(),
               "offer_constraints": constraint("rack", json!({"text_matches": {"regex": "r2.*"}}))}),
    )
    .await;
    let offer = events.offer().await;
    assert!(offer["agent_id"]["value"].is_string());
    // The state shows them as given.
    let state = get_json(&format!("{m}/master/state")).await;
    assert_eq!(
        state["frameworks"][0]["offer_constraints"]["role_constraints"]["*"]["groups"][0]
            ["attribute_constraints"][0]["selector"]["attribute_name"],
        "rack"
    );
    // Constraints Mesos cannot build refuse the subscription with its message.
    let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info(),
        "offer_constraints": constraint("rack", json!({"text_matches": {"regex": "("}}))}});
    let mut refused = Events::open(&format!("{m}/api/v1/scheduler"), &call).await;
    let error = refused.next_of("ERROR").await;
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("A role * has an invalid 'AttributeConstraint': Failed to construct regex from pattern '('"),
        "{message}"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn every_role_of_every_framework_is_known() {
    let c = start().await;
    let m = c.master_url();
    let (multi, _events) = Framework::subscribe(&m, multi_role(&["web", "ops/team"])).await;
    let (single, _more) = Framework::subscribe(&m, info()).await;
    let v = operator(&m, json!({"type": "GET_ROLES"})).await;
    let roles = v["get_roles"]["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = roles.iter().filter_map(|r| r["name"].as_str()).collect();
    // Sorted, with the ancestors of hierarchical roles, and the default role.
    assert_eq!(names, ["*", "ops", "ops/team", "web"]);
    let frameworks = |name: &str| {
        roles
            .iter()
            .find(|r| r["name"] == name)
            .map(|r| r["frameworks"].clone())
            .unwrap_or_default()
    };
    assert_eq!(frameworks("web"), json!([{"value": multi.id}]));
    assert_eq!(frameworks("ops/team"), json!([{"value": multi.id}]));
    assert_eq!(frameworks("*"), json!([{"value": single.id}]));
    let legacy = get_json(&format!("{m}/master/roles")).await;
    let legacy_names: Vec<&str> = legacy["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(legacy_names, names);
    c.shutdown().await;
}

#[tokio::test]
async fn legacy_views_write_labels_as_arrays() {
    let c = start().await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.offer().await;
    let mut task = command_task("labelled", &offer["agent_id"], "sleep 60");
    task["labels"] = json!({"labels": [{"key": "team", "value": "core"}]});
    fw.call(launch(&offer, vec![task])).await;
    until_state(&mut events, &fw, "labelled", "TASK_RUNNING").await;
    let want = json!([{"key": "team", "value": "core"}]);
    let tasks = get_json(&format!("{m}/master/tasks?task_id=labelled")).await;
    assert_eq!(tasks["tasks"][0]["labels"], want);
    let state = get_json(&format!("{}/state", c.agent_urls()[0])).await;
    let executor = &state["frameworks"][0]["executors"][0];
    assert_eq!(executor["tasks"][0]["labels"], want);
    // The command executor carries the task's labels too (`Slave::getExecutorInfo`).
    assert_eq!(executor["labels"], want);
    // The v1 API keeps the Labels message.
    let v = operator(&m, json!({"type": "GET_TASKS"})).await;
    assert_eq!(v["get_tasks"]["tasks"][0]["labels"]["labels"], want);
    c.shutdown().await;
}

#[tokio::test]
async fn flags_are_mesos_flags_with_values() {
    let c = start_with(|cfg| cfg.offer_timeout = None).await;
    let (m, a) = (c.master_url(), c.agent_urls()[0].clone());
    let flags = get_json(&format!("{m}/master/flags")).await["flags"].clone();
    for absent in [
        "agents",
        "resources",
        "attributes",
        "heartbeat_interval",
        "executor_shutdown_grace_period",
        "offer_timeout",
    ] {
        assert!(flags.get(absent).is_none(), "master flag {absent}: {flags}");
    }
    assert_eq!(flags["registry"], "in_memory");
    assert_eq!(flags["agent_ping_timeout"], "1secs");
    assert_eq!(flags["zk_session_timeout"], "3secs");
    let v = operator(&m, json!({"type": "GET_FLAGS"})).await;
    let listed: Vec<&str> = v["get_flags"]["flags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    let keys: Vec<&str> = flags
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        listed, keys,
        "GET_FLAGS and /master/flags list the same flags"
    );
    let agent = get_json(&format!("{a}/flags")).await["flags"].clone();
    assert_eq!(
        agent["resources"],
        "cpus:2;mem:496;disk:4930;ports:[9000-10000]"
    );
    assert_eq!(agent["attributes"], "rack:r2d2;pod:demo,dev");
    assert_eq!(agent["master"], m.trim_start_matches("http://"));
    assert_eq!(agent["executor_shutdown_grace_period"], "5secs");
    let state = get_json(&format!("{a}/state")).await;
    assert_eq!(state["flags"], agent);
    c.shutdown().await;
}

#[tokio::test]
async fn metrics_have_mesos_names_and_the_clusters_values() {
    let c = start().await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, info()).await;
    let offer = events.offer().await;
    fw.call(launch(
        &offer,
        vec![command_task("busy", &offer["agent_id"], "sleep 60")],
    ))
    .await;
    until_state(&mut events, &fw, "busy", "TASK_RUNNING").await;
    let x = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(x["master/tasks_running"], 1.0);
    assert_eq!(x["master/cpus_used"], 0.1);
    assert_eq!(x["master/cpus_percent"], 0.1 / 2.0);
    assert_eq!(x["master/messages_launch_tasks"], 1.0);
    assert_eq!(x["master/messages_register_framework"], 1.0);
    assert_eq!(x["master/slave_registrations"], 1.0);
    assert!(x["system/cpus_total"].as_f64().unwrap_or(0.0) >= 1.0);
    assert!(x["system/mem_total_bytes"].as_f64().unwrap_or(0.0) > 0.0);
    assert_eq!(x["allocator/mesos/resources/cpus/total"], 2.0);
    assert!(x["registrar/registry_size_bytes"].as_f64().unwrap_or(0.0) > 0.0);
    let prefix = format!("master/frameworks/cluster%20tests/{}/", fw.id);
    assert_eq!(x[format!("{prefix}calls/accept")], 1.0);
    assert_eq!(x[format!("{prefix}offers/accepted")], 1.0);
    assert_eq!(x[format!("{prefix}tasks/active/task_running")], 1.0);
    assert!(x[format!("{prefix}events/update")].as_f64().unwrap_or(0.0) >= 2.0);
    // GET_METRICS is the same registry.
    let v = operator(&m, json!({"type": "GET_METRICS", "get_metrics": {}})).await;
    let names: Vec<&str> = v["get_metrics"]["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert!(names.contains(&"master/event_queue_dispatches"));
    assert!(names.contains(&"allocator/mesos/allocation_runs"));
    let agent = get_json(&format!("{}/metrics/snapshot", c.agent_urls()[0])).await;
    assert_eq!(agent["slave/tasks_running"], 1.0);
    assert_eq!(agent["slave/executors_running"], 1.0);
    assert!(agent["slave/valid_status_updates"].as_f64().unwrap_or(0.0) >= 2.0);
    assert!(agent.get("system/load_1min").is_some());
    c.shutdown().await;
}

#[tokio::test]
async fn containers_report_their_status_and_their_processes_use() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.offer().await;
    // A task that holds a few MB until killed.
    let cmd = "x=$(head -c 4000000 /dev/zero | tr '\\0' a); sleep 60; exit 0";
    fw.call(launch(
        &offer,
        vec![command_task("holder", &offer["agent_id"], cmd)],
    ))
    .await;
    let running = until_state(&mut events, &fw, "holder", "TASK_RUNNING").await;
    let pid = running["container_status"]["executor_pid"]
        .as_u64()
        .unwrap_or(0);
    assert!(pid > 0, "{running}");
    let a = c.agent_urls()[0].clone();
    let containers = get_json(&format!("{a}/containers")).await;
    let container = &containers[0];
    assert_eq!(container["executor_id"], "holder");
    assert_eq!(container["source"], "holder");
    assert_eq!(container["status"]["executor_pid"], pid);
    assert_eq!(
        container["container_id"],
        running["container_status"]["container_id"]["value"]
    );
    let stats = get_json(&format!("{a}/monitor/statistics")).await;
    let s = &stats[0]["statistics"];
    assert_eq!(s["cpus_limit"], 0.2);
    assert_eq!(s["mem_limit_bytes"], 64 * 1024 * 1024);
    for key in [
        "cpus_user_time_secs",
        "cpus_system_time_secs",
        "mem_rss_bytes",
    ] {
        assert!(s[key].is_number(), "{key}: {s}");
    }
    #[cfg(target_os = "linux")]
    {
        // The shell holds its 4 MB: read from /proc, so it shows (polled: the shell fills
        // its variable while we look).
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            let stats = get_json(&format!("{a}/monitor/statistics")).await;
            let rss = stats[0]["statistics"]["mem_rss_bytes"]
                .as_u64()
                .unwrap_or(0);
            if rss > 4_000_000 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "rss stayed {rss}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    c.shutdown().await;
}

#[tokio::test]
async fn docker_and_group_tasks_carry_what_mesos_adds() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.offer().await;
    let agent = offer["agent_id"].clone();
    let mut web = command_task("web", &agent, "unused");
    web["command"] = json!({"shell": false});
    web["container"] = json!({"type": "DOCKER", "docker": {"image": "nginx:1.25"}});
    fw.call(launch(&offer, vec![web])).await;
    let running = until_state(&mut events, &fw, "web", "TASK_RUNNING").await;
    let data = base64::engine::general_purpose::STANDARD
        .decode(running["data"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let inspect: Value = serde_json::from_slice(&data).unwrap_or_default();
    assert_eq!(inspect[0]["Config"]["Image"], "nginx:1.25");
    // Mesos writes the defaults of what was sent, and keeps no data in its own copy.
    let v = operator(&c.master_url(), json!({"type": "GET_TASKS"})).await;
    let task = &v["get_tasks"]["tasks"][0];
    assert_eq!(task["container"]["docker"]["network"], "HOST");
    assert_eq!(task["container"]["docker"]["privileged"], false);
    assert!(task["statuses"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|s| s.get("data").is_none()));
    assert!(
        task.get("executor_id").is_none(),
        "a command task names no executor"
    );

    let offer = events.offer().await;
    let group = json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [{
        "type": "LAUNCH_GROUP", "launch_group": {
            "executor": {"executor_id": {"value": "pod"}, "type": "DEFAULT", "framework_id": {"value": fw.id},
                         "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]},
            "task_group": {"tasks": [command_task("member", &offer["agent_id"], "sleep 60")]}}}]}});
    let (code, body) = fw.call(group).await;
    assert_eq!(code, 202, "{body}");
    let member = until_state(&mut events, &fw, "member", "TASK_RUNNING").await;
    let container = &member["container_status"]["container_id"];
    let parent = container["parent"]["value"].as_str().unwrap_or_default();
    assert!(
        !parent.is_empty() && container["value"] != parent,
        "{member}"
    );
    // The master knows the group's executor (and only it).
    let v = operator(&c.master_url(), json!({"type": "GET_EXECUTORS"})).await;
    let executors = v["get_executors"]["executors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(executors.len(), 1, "{v}");
    assert_eq!(executors[0]["executor_info"]["executor_id"]["value"], "pod");
    assert_eq!(
        executors[0]["executor_info"]["resources"][0]["allocation_info"]["role"],
        "*"
    );
    c.shutdown().await;
}
