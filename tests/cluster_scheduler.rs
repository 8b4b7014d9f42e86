//! The v1 scheduler API of the embedded cluster over real HTTP: SUBSCRIBE and its events,
//! Mesos's request checks and messages, task life cycles, offers, failover and teardown.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn url(c: &mesos_kernel::cluster::Cluster) -> String {
    format!("{}/api/v1/scheduler", c.master_url())
}

#[tokio::test]
async fn subscribe_gives_subscribed_offers_and_heartbeats() {
    let c = start().await;
    let mut events = Events::open(
        &url(&c),
        &json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}),
    )
    .await;
    let stream_id = events.stream_id.clone().unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(&stream_id).is_ok(),
        "stream id {stream_id}"
    );
    let subscribed = events.next().await.unwrap_or_default();
    assert_eq!(subscribed["type"], "SUBSCRIBED");
    let s = &subscribed["subscribed"];
    let master_id = c.master_id();
    assert_eq!(s["framework_id"]["value"], format!("{master_id}-0000"));
    assert_eq!(s["heartbeat_interval_seconds"], 0.3);
    assert_eq!(s["master_info"]["ip"], 16777343);
    assert_eq!(s["master_info"]["address"]["ip"], "127.0.0.1");
    let offers = events.next_of("OFFERS").await;
    let offer = &offers["offers"]["offers"][0];
    assert_eq!(offer["id"]["value"], format!("{master_id}-O0"));
    assert_eq!(offer["agent_id"]["value"], format!("{master_id}-S0"));
    assert_eq!(offer["url"]["path"], "/slave(1)");
    let resources = offer["resources"].as_array().cloned().unwrap_or_default();
    let cpus = resources
        .iter()
        .find(|r| r["name"] == "cpus")
        .cloned()
        .unwrap_or_default();
    assert_eq!(cpus["scalar"]["value"], 2.0);
    let ports = resources
        .iter()
        .find(|r| r["name"] == "ports")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        ports["ranges"]["range"][0],
        json!({"begin": 9000, "end": 10000})
    );
    assert_eq!(
        offer["attributes"][0],
        json!({"name": "rack", "type": "TEXT", "text": {"value": "r2d2"}})
    );
    assert_eq!(offer["attributes"][1]["text"]["value"], "demo,dev");
    events.next_of("HEARTBEAT").await;
    events.next_of("HEARTBEAT").await;
    c.shutdown().await;
}

#[tokio::test]
async fn request_checks_answer_mesos_codes_and_messages() {
    let c = start().await;
    let u = url(&c);
    let http = client();

    let r = http.get(&u).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(
        r.headers().get("Allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "405 Method Not Allowed. Expecting one of { 'POST' }, but received 'GET'."
    );

    let r = http
        .post(&u)
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "Expecting 'Content-Type' to be present"
    );

    for ct in ["text/plain", "application/json; charset=utf-8"] {
        let r = http
            .post(&u)
            .header("Content-Type", ct)
            .body("{}")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 415);
        assert_eq!(
            r.text().await.unwrap_or_default(),
            "Expecting 'Content-Type' of application/json or application/x-protobuf"
        );
    }
    let r = http
        .post(&u)
        .header("Content-Type", "application/x-protobuf")
        .body("x")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 415);

    let r = http
        .post(&u)
        .header("Content-Type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap_or_default()
        .starts_with("Failed to parse body into JSON: "));

    let (code, body) = post(
        &u,
        &json!({"type": "KILL", "framework_id": {"value": "f"}, "kill": {"task_id": "x"}}),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (400, "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'task_id'"));
    let (code, body) = post(
        &u,
        &json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "n"}}}),
        None,
    )
    .await;
    assert_eq!((code, body.as_str()), (400, "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info.user"));
    let (code, body) = post(&u, &json!({"type": "LAUNCH_ROCKET"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'type' to be present"
        )
    );
    let (code, body) = post(&u, &json!({"type": "REVIVE"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
        )
    );
    let (code, body) = post(&u, &json!({"type": "SUBSCRIBE"}), None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'subscribe' to be present"
        )
    );
    let resubscribe = json!({"type": "SUBSCRIBE",
        "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": "x"}}}});
    let (code, body) = post(&u, &resubscribe, None).await;
    assert_eq!(code, 400);
    assert_eq!(
        body,
        "Failed to validate scheduler::Call: 'framework_id' differs from 'subscribe.framework_info.id'"
    );
    let (code, _) = post(
        &u,
        &json!({"type": "UNKNOWN", "framework_id": {"value": "f"}}),
        None,
    )
    .await;
    assert_eq!(code, 501);

    let subscribe = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": info()}});
    let (code, body) = post(&u, &subscribe, Some("abc")).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Subscribe calls should not include the 'Mesos-Stream-Id' header"
        )
    );
    let r = http
        .post(&u)
        .header("Content-Type", "application/json")
        .header("Accept", "text/html")
        .body(subscribe.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 406);
    assert_eq!(
        r.text().await.unwrap_or_default(),
        "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"
    );

    let (code, body) = post(
        &u,
        &json!({"type": "REVIVE", "framework_id": {"value": "nope"}}),
        Some("x"),
    )
    .await;
    assert_eq!((code, body.as_str()), (400, "Framework cannot be found"));

    let (fw, _events) = Framework::subscribe(&c.master_url(), info()).await;
    let revive = json!({"type": "REVIVE", "framework_id": {"value": fw.id}});
    let (code, body) = post(&u, &revive, None).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "All non-subscribe calls should include the 'Mesos-Stream-Id' header"
        )
    );
    let (code, body) = post(&u, &revive, Some("wrong")).await;
    assert_eq!(code, 400);
    assert_eq!(
        body,
        format!(
            "The stream ID 'wrong' included in this request didn't match the stream ID currently associated with framework ID {}",
            fw.id
        )
    );
    let (code, body) = post(&u, &revive, Some(&fw.stream_id)).await;
    assert_eq!((code, body.as_str()), (202, ""));
    let (code, body) = fw.call(json!({"type": "ACCEPT"})).await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to validate scheduler::Call: Expecting 'accept' to be present"
        )
    );
    let (code, body) = fw
        .call(json!({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "aGVsbG8="}}))
        .await;
    assert_eq!(
        (code, body.as_str()),
        (400, "Failed to validate scheduler::Call: Not a valid UUID")
    );
    let (code, body) = fw
        .call(json!({"type": "ACKNOWLEDGE", "acknowledge": {"agent_id": {"value": "a"}, "task_id": {"value": "t"}}}))
        .await;
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: acknowledge.uuid"
        )
    );
    c.shutdown().await;
}

/// Reads a sandbox file of a task through the agent's `/files/read`.
async fn sandbox_file(agent: &str, framework_id: &str, task_id: &str, file: &str) -> String {
    let path = format!("/frameworks/{framework_id}/executors/{task_id}/runs/latest/{file}");
    let v = get_json(&format!("{agent}/files/read?path={path}&offset=0")).await;
    v["data"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn command_task_runs_to_finished_and_its_output_is_readable() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offers = events.next_of("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let task = command_task(
        "hello",
        &offer["agent_id"],
        "echo \"hi from $MESOS_TASK_ID in $MESOS_SANDBOX\"; echo oops >&2",
    );
    let (code, body) = fw.call(launch(&offer, vec![task])).await;
    assert_eq!((code, body.as_str()), (202, ""));

    let starting = events.update_for(&fw, "hello").await;
    assert_eq!(starting["state"], "TASK_STARTING");
    assert_eq!(starting["source"], "SOURCE_EXECUTOR");
    assert!(starting["uuid"].is_string());
    assert!(starting["timestamp"].is_f64());
    assert_eq!(
        events.update_for(&fw, "hello").await["state"],
        "TASK_RUNNING"
    );
    let finished = events.update_for(&fw, "hello").await;
    assert_eq!(finished["state"], "TASK_FINISHED");
    assert_eq!(finished["message"], "Command exited with status 0");

    let agent = &c.agent_urls()[0];
    let out = sandbox_file(agent, &fw.id, "hello", "stdout").await;
    assert!(out.starts_with("hi from hello in /"), "{out}");
    assert!(
        out.contains(&format!("/frameworks/{}/executors/hello/runs/", fw.id)),
        "{out}"
    );
    assert_eq!(
        sandbox_file(agent, &fw.id, "hello", "stderr").await,
        "oops\n"
    );

    // The agent's state names the sandbox, as Mesos's does.
    let state = get_json(&format!("{agent}/slave(1)/state")).await;
    let executor = &state["completed_frameworks"][0]["completed_executors"][0];
    let executor = if executor.is_null() {
        &state["frameworks"][0]["completed_executors"][0]
    } else {
        executor
    };
    let dir = executor["directory"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        dir.contains("/slaves/") && dir.contains("/runs/"),
        "{state}"
    );
    let v = get_json(&format!(
        "{agent}/files/read?path={dir}/stdout&offset=0&length=2"
    ))
    .await;
    assert_eq!(v, json!({"data": "hi", "offset": 0}));

    // The task's resources came back, offered again beside the rest of the agent.
    // (The executor's terminal update freed them at once; the framework hears of it after
    // acknowledging RUNNING, so the new offer came before FINISHED.)
    let state = get_json(&format!("{}/master/state", c.master_url())).await;
    assert_eq!(state["slaves"][0]["offered_resources"]["cpus"], 2.0);
    let tasks = get_json(&format!("{}/master/tasks", c.master_url())).await;
    assert_eq!(tasks["tasks"][0]["state"], "TASK_FINISHED");
    c.shutdown().await;
}

#[tokio::test]
async fn failing_command_reports_its_exit_status() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("bad", &offer["agent_id"], "exit 3")],
    ))
    .await;
    let failed = until_state(&mut events, &fw, "bad", "TASK_FAILED").await;
    assert_eq!(failed["message"], "Command exited with status 3");
    c.shutdown().await;
}

#[tokio::test]
async fn kill_sends_sigterm_then_sigkill_after_the_grace_period() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    let polite = command_task("polite", &offer["agent_id"], "sleep 30");
    let stubborn = command_task(
        "stubborn",
        &offer["agent_id"],
        "trap '' TERM; echo ready; while true; do sleep 0.05; done",
    );
    fw.call(launch(&offer, vec![polite, stubborn])).await;
    // Updates of the two tasks interleave: count RUNNINGs.
    let mut running = 0;
    while running < 2 {
        let e = events.next_of("UPDATE").await;
        let s = e["update"]["status"].clone();
        fw.ack(&s).await;
        if s["state"] == "TASK_RUNNING" {
            running += 1;
        }
    }
    let started = Instant::now();
    for t in ["polite", "stubborn"] {
        let (code, _) = fw.call(json!({"type": "KILL", "kill": {"task_id": {"value": t}, "agent_id": offer["agent_id"]}})).await;
        assert_eq!(code, 202);
    }
    let mut killed = Vec::new();
    while killed.len() < 2 {
        let e = events.next_of("UPDATE").await;
        let s = e["update"]["status"].clone();
        fw.ack(&s).await;
        if s["state"] == "TASK_KILLED" {
            killed.push((
                s["task_id"]["value"].as_str().unwrap_or("").to_string(),
                s["message"].clone(),
            ));
        }
    }
    killed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        killed[0],
        (
            "polite".into(),
            json!("Command terminated with signal Terminated")
        )
    );
    assert_eq!(
        killed[1],
        (
            "stubborn".into(),
            json!("Command terminated with signal Killed")
        )
    );
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Killing an unknown task answers with reconciliation.
    fw.call(json!({"type": "KILL", "kill": {"task_id": {"value": "ghost"}}}))
        .await;
    let s = events.update_for(&fw, "ghost").await;
    assert_eq!(s["state"], "TASK_LOST");
    assert_eq!(s["message"], "Reconciliation: Task is unknown");
    c.shutdown().await;
}

#[tokio::test]
async fn docker_tasks_are_simulated_until_killed() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    let nginx = json!({
        "name": "nginx", "task_id": {"value": "nginx-1"}, "agent_id": offer["agent_id"],
        "container": {"type": "DOCKER", "docker": {"image": "nginx:1.10-alpine", "network": "HOST"}},
        "command": {"shell": false},
        "resources": [scalar("cpus", 0.2), scalar("mem", 100.0)]
    });
    fw.call(launch(&offer, vec![nginx])).await;
    until_state(&mut events, &fw, "nginx-1", "TASK_RUNNING").await;
    let out = sandbox_file(&c.agent_urls()[0], &fw.id, "nginx-1", "stdout").await;
    assert!(
        out.contains("nginx:1.10-alpine") && out.contains("simulated"),
        "{out}"
    );
    fw.call(json!({"type": "KILL", "kill": {"task_id": {"value": "nginx-1"}}}))
        .await;
    until_state(&mut events, &fw, "nginx-1", "TASK_KILLED").await;
    c.shutdown().await;
}

#[tokio::test]
async fn invalid_launches_get_the_updates_mesos_gives() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    let agent = offer["agent_id"].clone();
    let mut big = command_task("big", &agent, "true");
    big["resources"] = json!([scalar("cpus", 3.0)]);
    let mut elsewhere = command_task("elsewhere", &agent, "true");
    elsewhere["agent_id"] = json!({"value": "other-S9"});
    let ok = command_task("ok", &agent, "sleep 30");
    let dup = command_task("ok", &agent, "true");
    fw.call(launch(&offer, vec![big, elsewhere, ok, dup])).await;
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 3 {
        let e = events.next_of("UPDATE").await;
        let s = e["update"]["status"].clone();
        if s["source"] == "SOURCE_MASTER" {
            assert!(s.get("uuid").is_none());
            assert_eq!(s["state"], "TASK_ERROR");
            assert_eq!(s["reason"], "REASON_TASK_INVALID");
            let key = format!(
                "{}:{}",
                s["task_id"]["value"].as_str().unwrap_or(""),
                seen.len()
            );
            seen.insert(key, s["message"].as_str().unwrap_or("").to_string());
        } else {
            fw.ack(&s).await;
        }
    }
    let messages: Vec<&String> = seen.values().collect();
    assert!(messages.iter().any(|m| m.starts_with("Total resources cpus(allocated: *):3 required by task and its executor is more than available cpus(allocated: *):2; mem(allocated: *):496")), "{messages:?}");
    assert!(
        messages.iter().any(
            |m| m.starts_with("Task uses invalid agent other-S9 while agent ")
                && m.ends_with(" is expected")
        ),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| *m == "Task has duplicate ID: ok"),
        "{messages:?}"
    );

    // The offer is spent now.
    let (code, _) = fw
        .call(launch(&offer, vec![command_task("late", &agent, "true")]))
        .await;
    assert_eq!(code, 202);
    let s = events.update_for(&fw, "late").await;
    assert_eq!(s["state"], "TASK_LOST");
    assert_eq!(s["reason"], "REASON_INVALID_OFFERS");
    assert_eq!(
        s["message"],
        format!(
            "Task launched with invalid offers: Offer {} is no longer valid",
            offer["id"]["value"].as_str().unwrap_or("")
        )
    );

    // Operations on resource providers' disks are refused, clearly.
    let state = get_json(&format!("{}/master/state", c.master_url())).await;
    let offer_id = state["frameworks"][0]["offers"][0]["id"].clone();
    assert!(offer_id.is_string(), "{state}");
    let (code, body) = fw
        .call(json!({"type": "ACCEPT", "accept": {"offer_ids": [{"value": offer_id}], "operations": [{"type": "CREATE_DISK", "create_disk": {"source": {}}}]}}))
        .await;
    assert_eq!(code, 501);
    assert!(body.contains("CREATE_DISK"), "{body}");
    c.shutdown().await;
}

#[tokio::test]
async fn launch_group_runs_every_task_of_the_group() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    let agent = offer["agent_id"].clone();
    let accept = json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [{
        "type": "LAUNCH_GROUP", "launch_group": {
            "executor": {"executor_id": {"value": "group-exec"}, "type": "DEFAULT", "framework_id": {"value": fw.id},
                         "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]},
            "task_group": {"tasks": [command_task("g1", &agent, "echo one"), command_task("g2", &agent, "echo two")]}}}]}});
    let (code, body) = fw.call(accept).await;
    assert_eq!((code, body.as_str()), (202, ""));
    let mut finished = 0;
    let mut failure = Value::Null;
    while finished < 2 || failure.is_null() {
        let e = events.next().await.unwrap_or_default();
        if e["type"] == "FAILURE" {
            // The default executor exits with its last task.
            failure = e;
            continue;
        }
        if e["type"] != "UPDATE" {
            continue;
        }
        let s = e["update"]["status"].clone();
        assert_ne!(s["state"], "TASK_FAILED", "{s}");
        assert_eq!(s["executor_id"]["value"], "group-exec");
        fw.ack(&s).await;
        if s["state"] == "TASK_FINISHED" {
            finished += 1;
        }
    }
    assert_eq!(failure["failure"]["executor_id"]["value"], "group-exec");
    assert_eq!(failure["failure"]["status"], 0);
    let state = get_json(&format!("{}/master/state", c.master_url())).await;
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
    // One executor run holds both tasks, each in its own directory of the sandbox. With
    // no executor left on the agent, the framework is one of the agent's completed ones
    // (Mesos's agent removes an idle framework).
    let state = get_json(&format!("{}/state", c.agent_urls()[0])).await;
    assert_eq!(state["frameworks"], json!([]), "{state}");
    let executors = state["completed_frameworks"][0]["completed_executors"].clone();
    assert_eq!(executors.as_array().map(Vec::len), Some(1), "{state}");
    assert_eq!(executors[0]["id"], "group-exec");
    assert_eq!(
        executors[0]["completed_tasks"].as_array().map(Vec::len),
        Some(2)
    );
    let out = sandbox_file(&c.agent_urls()[0], &fw.id, "group-exec", "tasks/g2/stdout").await;
    assert_eq!(out, "two\n");
    c.shutdown().await;
}

#[tokio::test]
async fn decline_suppress_revive_and_refuse_filters() {
    let c = start().await;
    let master = c.master_url();
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    // Refused for 0.2 s, then offered again.
    let (code, _) = fw.call(json!({"type": "DECLINE", "decline": {"offer_ids": [offer["id"]], "filters": {"refuse_seconds": 0.2}}})).await;
    assert_eq!(code, 202);
    let declined_at = Instant::now();
    let again = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    assert!(declined_at.elapsed() >= Duration::from_millis(150));
    assert_ne!(again["id"], offer["id"]);

    // Suppressed: a decline with no filter gives nothing back until REVIVE.
    assert_eq!(
        fw.call(json!({"type": "SUPPRESS", "suppress": {}})).await.0,
        202
    );
    fw.call(json!({"type": "DECLINE", "decline": {"offer_ids": [again["id"]], "filters": {"refuse_seconds": 0}}})).await;
    let state = get_json(&format!("{master}/master/state")).await;
    assert_eq!(state["frameworks"][0]["offers"], json!([]));
    assert_eq!(fw.call(json!({"type": "REVIVE"})).await.0, 202);
    let revived = events.next_of("OFFERS").await;
    assert_eq!(
        revived["offers"]["offers"].as_array().map(Vec::len),
        Some(1)
    );
    c.shutdown().await;
}

#[tokio::test]
async fn offers_are_rescinded_after_the_offer_timeout() {
    let c = start_with(|cfg| cfg.offer_timeout = Some(Duration::from_millis(200))).await;
    let (_fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    let rescind = events.next_of("RESCIND").await;
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    let next = events.next_of("OFFERS").await;
    assert_ne!(next["offers"]["offers"][0]["id"], offer["id"]);
    c.shutdown().await;
}

#[tokio::test]
async fn reconcile_answers_latest_states_without_uuid() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("long", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    until_state(&mut events, &fw, "long", "TASK_RUNNING").await;
    assert_eq!(
        fw.call(json!({"type": "RECONCILE", "reconcile": {"tasks": []}}))
            .await
            .0,
        202
    );
    let s = events.update_for(&fw, "long").await;
    assert_eq!(s["state"], "TASK_RUNNING");
    assert_eq!(s["reason"], "REASON_RECONCILIATION");
    assert_eq!(s["message"], "Reconciliation: Latest task state");
    assert!(s.get("uuid").is_none());
    fw.call(
        json!({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "nobody"}}]}}),
    )
    .await;
    let s = events.update_for(&fw, "nobody").await;
    assert_eq!(s["state"], "TASK_LOST");
    assert_eq!(s["message"], "Reconciliation: Task is unknown");
    // MESSAGE and REQUEST are accepted (and have nothing to act on).
    let (code, _) = fw
        .call(json!({"type": "MESSAGE", "message": {"agent_id": offer["agent_id"], "executor_id": {"value": "long"}, "data": "aGk="}}))
        .await;
    assert_eq!(code, 202);
    assert_eq!(
        fw.call(json!({"type": "REQUEST", "request": {"requests": []}}))
            .await
            .0,
        202
    );
    c.shutdown().await;
}

async fn poll_state(master: &str, what: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let state = get_json(&format!("{master}/master/state")).await;
        if what(&state) {
            return state;
        }
        assert!(Instant::now() < deadline, "state never matched: {state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn teardown_kills_tasks_and_the_framework_cannot_come_back() {
    let c = start().await;
    let master = c.master_url();
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("doomed", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    until_state(&mut events, &fw, "doomed", "TASK_RUNNING").await;
    let (code, _) = fw.call(json!({"type": "TEARDOWN"})).await;
    assert_eq!(code, 202);
    // The stream closes.
    while events.next().await.is_some() {}
    let state = get_json(&format!("{master}/master/state")).await;
    assert_eq!(state["frameworks"], json!([]));
    assert_eq!(state["completed_frameworks"][0]["id"], fw.id);
    assert_eq!(
        state["completed_frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_KILLED"
    );
    // Calls now find no framework.
    let (code, body) = fw.call(json!({"type": "REVIVE"})).await;
    assert_eq!((code, body.as_str()), (400, "Framework cannot be found"));
    // Re-subscribing with its id: 200, one ERROR, end of stream.
    let mut back = Events::open(
        &format!("{master}/api/v1/scheduler"),
        &json!({"type": "SUBSCRIBE", "framework_id": {"value": fw.id},
                "subscribe": {"framework_info": {"user": "u", "name": "n", "id": {"value": fw.id}}}}),
    )
    .await;
    let e = back.next().await.unwrap_or_default();
    assert_eq!(
        e,
        json!({"type": "ERROR", "error": {"message": "Framework has been removed"}})
    );
    assert!(back.next().await.is_none());
    c.shutdown().await;
}

#[tokio::test]
async fn failover_keeps_tasks_and_resends_unacknowledged_updates() {
    let c = start().await;
    let master = c.master_url();
    let mut info = info();
    info["failover_timeout"] = json!(60.0);
    let (fw, mut events) = Framework::subscribe(&master, info.clone()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("keeper", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    // Take TASK_STARTING without acknowledging it, then go away.
    let e = events.next_of("UPDATE").await;
    let unacked = e["update"]["status"].clone();
    assert_eq!(unacked["state"], "TASK_STARTING");
    drop(events);
    poll_state(&master, |s| s["frameworks"][0]["connected"] == false).await;
    let state = get_json(&format!("{master}/master/state")).await;
    assert_eq!(state["frameworks"][0]["active"], false);
    // Calls from the disconnected framework are refused.
    let (code, body) = fw.call(json!({"type": "REVIVE"})).await;
    assert_eq!((code, body.as_str()), (403, "Framework is not subscribed"));

    info["id"] = json!({"value": fw.id});
    let (fw2, mut events) = Framework::subscribe(&master, info).await;
    assert_eq!(fw2.id, fw.id);
    assert_ne!(fw2.stream_id, fw.stream_id);
    let resent = events.next_of("UPDATE").await["update"]["status"].clone();
    assert_eq!(resent["uuid"], unacked["uuid"]);
    fw2.ack(&resent).await;
    let running = events.update_for(&fw2, "keeper").await;
    assert_eq!(running["state"], "TASK_RUNNING");

    // A second SUBSCRIBE replaces the stream: the old one hears "Framework failed over".
    let mut info3 = self::info();
    info3["id"] = json!({"value": fw.id});
    let (_fw3, _events3) = Framework::subscribe(&master, info3).await;
    let e = events.next_of("ERROR").await;
    assert_eq!(e["error"]["message"], "Framework failed over");
    // ... and then the master closes it, as Mesos closes the old connection.
    assert!(events.next().await.is_none(), "the old stream stayed open");
    c.shutdown().await;
}

#[tokio::test]
async fn an_expired_failover_timeout_removes_the_framework_and_kills_its_tasks() {
    let c = start().await;
    let master = c.master_url();
    let mut info = info();
    info["failover_timeout"] = json!(0.2);
    let (fw, mut events) = Framework::subscribe(&master, info).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("orphan", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    until_state(&mut events, &fw, "orphan", "TASK_RUNNING").await;
    drop(events);
    let state = poll_state(&master, |s| {
        s["completed_frameworks"][0]["id"] == fw.id.as_str()
    })
    .await;
    assert_eq!(state["frameworks"], json!([]));
    assert_eq!(
        state["completed_frameworks"][0]["completed_tasks"][0]["state"],
        "TASK_KILLED"
    );
    // The agent's resources are free again.
    assert_eq!(state["slaves"][0]["used_resources"]["cpus"], 0.0);
    c.shutdown().await;
}

#[tokio::test]
async fn seeded_clusters_repeat_their_ids() {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let c = start_with(|cfg| cfg.seed = Some(7)).await;
        let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
        let offer = events.next_of("OFFERS").await["offers"]["offers"][0]["id"].clone();
        seen.push((c.master_id(), fw.id.clone(), offer));
        c.shutdown().await;
    }
    assert_eq!(seen[0], seen[1]);
}

#[tokio::test]
async fn shutdown_kills_running_tasks() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    // The shell records the pid of the process it becomes.
    fw.call(launch(
        &offer,
        vec![command_task(
            "survivor",
            &offer["agent_id"],
            "echo $$ > pid; exec sleep 30",
        )],
    ))
    .await;
    until_state(&mut events, &fw, "survivor", "TASK_RUNNING").await;
    let deadline = Instant::now() + DEADLINE;
    let pid: i32 = loop {
        // The file may not exist yet (404) or be empty.
        let url = format!(
            "{}/files/read?path=/frameworks/{}/executors/survivor/runs/latest/pid&offset=0",
            c.agent_urls()[0],
            fw.id
        );
        let r = client()
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let v: Value = r.json().await.unwrap_or_default();
        if let Ok(pid) = v["data"].as_str().unwrap_or("").trim().parse() {
            break pid;
        }
        assert!(Instant::now() < deadline, "no pid file");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let alive = |pid: i32| {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ")
    };
    assert!(alive(pid));
    c.shutdown().await;
    assert!(!alive(pid), "task process {pid} outlived the cluster");
}

#[tokio::test]
async fn unacknowledged_updates_are_resent_and_hold_later_ones() {
    let c = start_with(|cfg| cfg.status_update_retry = Duration::from_millis(200)).await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.next_of("OFFERS").await["offers"]["offers"][0].clone();
    fw.call(launch(
        &offer,
        vec![command_task("quick", &offer["agent_id"], "true")],
    ))
    .await;
    let first = events.next_of("UPDATE").await["update"]["status"].clone();
    assert_eq!(first["state"], "TASK_STARTING");
    // Not acknowledged: the same update comes again, and nothing after it.
    let again = events.next_of("UPDATE").await["update"]["status"].clone();
    assert_eq!(again["uuid"], first["uuid"]);
    assert_eq!(again["state"], "TASK_STARTING");
    // Meanwhile the master learns the task finished (it does not wait for the framework).
    poll_state(&c.master_url(), |state| {
        state["frameworks"][0]["tasks"][0]["state"] == "TASK_FINISHED"
    })
    .await;
    fw.ack(&again).await;
    // Resends of the first update sent before the acknowledgement may still be on their
    // way; the next update comes after them.
    let mut next = events.update_for(&fw, "quick").await;
    while next["uuid"] == first["uuid"] {
        next = events.update_for(&fw, "quick").await;
    }
    assert_eq!(next["state"], "TASK_RUNNING");
    assert_eq!(
        events.update_for(&fw, "quick").await["state"],
        "TASK_FINISHED"
    );
    // The acknowledged terminal update retires the task.
    let state = get_json(&format!("{}/master/state", c.master_url())).await;
    assert_eq!(state["frameworks"][0]["tasks"], json!([]));
    assert_eq!(state["frameworks"][0]["completed_tasks"][0]["id"], "quick");
    c.shutdown().await;
}

#[tokio::test]
async fn uris_are_fetched_into_the_sandbox() {
    let c = start().await;
    let dir = std::env::temp_dir().join(format!("mk-uris-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("pkg/inside.txt"), "from the archive\n")
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("plain.txt"), "a local file\n").unwrap_or_else(|e| panic!("{e}"));
    let tar = std::process::Command::new("tar")
        .args(["-czf", "bundle.tar.gz", "pkg"])
        .current_dir(&dir)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(tar.success());
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.offer().await;
    let mut task = command_task(
        "fetcher",
        &offer["agent_id"],
        "cat plain.txt pkg/inside.txt",
    );
    task["command"]["uris"] = json!([
        {"value": dir.join("plain.txt").display().to_string()},
        {"value": format!("file://{}", dir.join("bundle.tar.gz").display()), "extract": true}
    ]);
    fw.call(launch(&offer, vec![task])).await;
    until_state(&mut events, &fw, "fetcher", "TASK_FINISHED").await;
    let agent = &c.agent_urls()[0];
    let out = sandbox_file(agent, &fw.id, "fetcher", "stdout").await;
    assert_eq!(out, "a local file\nfrom the archive\n");

    // Over loopback HTTP: the first task's stdout, served by the agent itself.
    let offer = events.offer().await;
    let url = format!(
        "{agent}/files/download?path=/frameworks/{}/executors/fetcher/runs/latest/stdout",
        fw.id
    );
    let mut task = command_task("http-fetcher", &offer["agent_id"], "cat fetched.txt");
    task["command"]["uris"] = json!([{"value": url, "output_file": "fetched.txt"}]);
    fw.call(launch(&offer, vec![task])).await;
    until_state(&mut events, &fw, "http-fetcher", "TASK_FINISHED").await;
    let out = sandbox_file(agent, &fw.id, "http-fetcher", "stdout").await;
    assert_eq!(out, "a local file\nfrom the archive\n");
    // A URI that cannot be fetched fails the task before it starts.
    let offer = events.offer().await;
    let mut task = command_task("no-fetch", &offer["agent_id"], "true");
    task["command"]["uris"] = json!([{"value": "/nonexistent/file.txt"}]);
    fw.call(launch(&offer, vec![task])).await;
    let failed = events.update_for(&fw, "no-fetch").await;
    assert_eq!(failed["state"], "TASK_FAILED");
    assert_eq!(failed["reason"], "REASON_CONTAINER_LAUNCH_FAILED");
    let _ = std::fs::remove_dir_all(&dir);
    c.shutdown().await;
}

#[tokio::test]
async fn shutdown_call_kills_the_executor_tasks() {
    let c = start().await;
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = events.offer().await;
    fw.call(launch(
        &offer,
        vec![command_task("exec-1", &offer["agent_id"], "sleep 30")],
    ))
    .await;
    until_state(&mut events, &fw, "exec-1", "TASK_RUNNING").await;
    // The command executor's id is the task's id.
    let (code, body) = fw
        .call(json!({"type": "SHUTDOWN", "shutdown": {"executor_id": {"value": "exec-1"}, "agent_id": offer["agent_id"]}}))
        .await;
    assert_eq!((code, body.as_str()), (202, ""));
    let killed = until_state(&mut events, &fw, "exec-1", "TASK_KILLED").await;
    assert_eq!(killed["executor_id"]["value"], "exec-1");
    c.shutdown().await;
}

#[tokio::test]
async fn a_framework_recovering_after_a_master_restart_keeps_its_id() {
    let c = start().await;
    let master = c.master_url();
    // As after a restart of a seeded master: the id this master would hand out next.
    let recovered_id = format!("{}-0000", c.master_id());
    let mut info = info();
    info["id"] = json!({ "value": recovered_id });
    let (old, _old_events) = Framework::subscribe(&master, info).await;
    assert_eq!(old.id, recovered_id);
    let (new, _new_events) = Framework::subscribe(&master, self::info()).await;
    assert_eq!(new.id, format!("{}-0001", c.master_id()));
    c.shutdown().await;
}

#[tokio::test]
async fn the_master_keeps_as_many_completed_tasks_as_its_flag_says() {
    let c = start_with(|c| c.retention.completed_tasks_per_framework = 2).await;
    let master = c.master_url();
    let flags = get_json(&format!("{master}/master/flags")).await;
    assert_eq!(flags["flags"]["max_completed_tasks_per_framework"], "2");
    assert_eq!(flags["flags"]["max_completed_frameworks"], "50");
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = events.offer().await;
    let tasks = (1..=5)
        .map(|i| command_task(&format!("t{i}"), &offer["agent_id"], "true"))
        .collect();
    let (code, body) = fw.call(launch(&offer, tasks)).await;
    assert_eq!(code, 202, "{body}");
    // Every update acknowledged as it arrives, as a scheduler does.
    let mut finished = std::collections::HashSet::new();
    while finished.len() < 5 {
        let status = events.next_of("UPDATE").await["update"]["status"].clone();
        if status.get("uuid").is_some() {
            fw.ack(&status).await;
        }
        assert!(
            matches!(
                status["state"].as_str(),
                Some("TASK_STARTING" | "TASK_RUNNING" | "TASK_FINISHED")
            ),
            "{status}"
        );
        if status["state"] == "TASK_FINISHED" {
            finished.insert(status["task_id"]["value"].to_string());
        }
    }
    let completed = || async {
        let tasks = operator(&master, json!({"type": "GET_TASKS"})).await;
        let completed = tasks["get_tasks"]["completed_tasks"]
            .as_array()
            .map_or(0, Vec::len);
        tasks["get_tasks"]["tasks"].as_array().map_or(0, Vec::len) == 0 && completed == 2
    };
    until(
        "the last two completed tasks are all that is kept",
        Duration::from_secs(10),
        completed,
    )
    .await;
}

/// Mesos's HTTP server takes big calls: a RECONCILE of 60,000 tasks (3 MB) was refused
/// with 413 by the web framework's 2 MB default.
#[tokio::test]
async fn a_reconcile_of_sixty_thousand_tasks_is_taken() {
    let c = start().await;
    let master = c.master_url();
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let tasks: Vec<Value> = (0..60_000)
        .map(|i| json!({"task_id": {"value": format!("unknown-task-{i:05}")}}))
        .collect();
    let call = json!({"type": "RECONCILE", "reconcile": {"tasks": tasks}});
    assert!(call.to_string().len() > 2 << 20);
    let (code, body) = fw.call(call).await;
    assert_eq!(code, 202, "{body}");
    let update = events.next_of("UPDATE").await;
    assert_eq!(update["update"]["status"]["state"], "TASK_LOST", "{update}");
}
