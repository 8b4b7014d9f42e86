//! Maintenance, draining and logging on the embedded cluster, over HTTP only, with the
//! statuses and answers Mesos 1.11's master gives (its sources decide where its docs
//! differ: the docs' `202 Accepted` for UPDATE_MAINTENANCE_SCHEDULE, START_MAINTENANCE,
//! STOP_MAINTENANCE and SET_LOGGING_LEVEL is a `200` with an empty body in
//! `src/master/http.cpp`). The request examples of `docs/operator-http-api.md` and
//! `docs/maintenance.md` are here as cases of our own in their shapes.

mod cluster_support;

use cluster_support::*;
use mesos_kernel::cluster::Cluster;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn two_machines() -> Cluster {
    start_with(|c| {
        c.agents = 2;
        c.agent_hostnames = vec!["agent1".into(), "agent2".into()];
    })
    .await
}

async fn call(c: &Cluster, body: Value) -> (u16, String) {
    post(&format!("{}/api/v1", c.master_url()), &body, None).await
}

async fn agents(c: &Cluster) -> Vec<Value> {
    operator(&c.master_url(), json!({"type": "GET_AGENTS"})).await["get_agents"]["agents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn agent_named(c: &Cluster, host: &str) -> Value {
    agents(c)
        .await
        .into_iter()
        .find(|a| a["agent_info"]["hostname"] == host)
        .unwrap_or_else(|| panic!("no agent {host}"))
}

/// Polls a condition on the master until it holds (never a fixed sleep).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_operator_api_examples_answer_as_mesos_does() {
    let c = start().await;
    // UPDATE_MAINTENANCE_SCHEDULE with a machine named by hostname and one by IP.
    let schedule = json!({"windows": [{
        "machine_ids": [{"hostname": "web-7"}, {"ip": "10.1.2.3"}],
        "unavailability": {"start": {"nanoseconds": 1_700_000_000_000_000_000i64}}
    }]});
    assert_eq!(
        call(
            &c,
            json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
            "update_maintenance_schedule": {"schedule": schedule}})
        )
        .await,
        (200, String::new())
    );
    let got = operator(&c.master_url(), json!({"type": "GET_MAINTENANCE_SCHEDULE"})).await;
    assert_eq!(
        got,
        json!({"type": "GET_MAINTENANCE_SCHEDULE", "get_maintenance_schedule": {"schedule": schedule}})
    );
    let status = operator(&c.master_url(), json!({"type": "GET_MAINTENANCE_STATUS"})).await;
    assert_eq!(
        status,
        json!({"type": "GET_MAINTENANCE_STATUS", "get_maintenance_status": {"status": {
            "draining_machines": [{"id": {"hostname": "web-7"}}, {"id": {"ip": "10.1.2.3"}}]}}})
    );
    // START_ and STOP_MAINTENANCE of a machine no schedule names.
    let machine = json!([{"hostname": "db-2", "ip": "10.1.2.4"}]);
    assert_eq!(
        call(&c, json!({"type": "START_MAINTENANCE", "start_maintenance": {"machines": machine}}))
            .await,
        (
            400,
            r#"Machine '{"hostname":"db-2","ip":"10.1.2.4"}' is not part of a maintenance schedule"#
                .into()
        )
    );
    assert_eq!(
        call(&c, json!({"type": "STOP_MAINTENANCE", "stop_maintenance": {"machines": machine}}))
            .await,
        (
            400,
            r#"Machine '{"hostname":"db-2","ip":"10.1.2.4"}' is not part of a maintenance schedule"#
                .into()
        )
    );
    // The master knows every agent's machine (UP): it is not DRAINING, rather than unknown.
    let agents_machine = json!([{"hostname": "127.0.0.1", "ip": "127.0.0.1"}]);
    assert_eq!(
        call(&c, json!({"type": "START_MAINTENANCE", "start_maintenance": {"machines": agents_machine}}))
            .await,
        (
            400,
            r#"Machine '{"hostname":"127.0.0.1","ip":"127.0.0.1"}' is not in DRAINING mode and cannot be brought down"#
                .into()
        )
    );
    // A scheduled machine goes down, then is not DRAINING any more.
    let web = json!([{"hostname": "web-7"}]);
    assert_eq!(
        call(
            &c,
            json!({"type": "START_MAINTENANCE", "start_maintenance": {"machines": web}})
        )
        .await,
        (200, String::new())
    );
    assert_eq!(
        call(
            &c,
            json!({"type": "START_MAINTENANCE", "start_maintenance": {"machines": web}})
        )
        .await,
        (
            400,
            r#"Machine '{"hostname":"web-7"}' is not in DRAINING mode and cannot be brought down"#
                .into()
        )
    );
    // DRAIN_AGENT as the operator API's docs write it (`max_grace_period` is a
    // google.protobuf.Duration): of an agent the master does not know.
    let unknown = json!({"value": "3192b9d1-0000-4699-ae25-e28dfbf42de1"});
    assert_eq!(
        call(
            &c,
            json!({"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": unknown, "max_grace_period": {"seconds": 600}, "mark_gone": false}})
        )
        .await,
        (400, "Unknown agent".into())
    );
    // ... and as docs/maintenance.md writes it, with a duration string.
    assert_eq!(
        call(&c, json!({"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": unknown, "max_grace_period": "10mins"}}))
        .await,
        (
            400,
            "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'max_grace_period'".into()
        )
    );
    let drain = json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": unknown}});
    assert_eq!(call(&c, drain).await, (400, "Unknown agent".into()));
    assert_eq!(
        call(
            &c,
            json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": unknown}})
        )
        .await,
        (400, "Unknown agent".into())
    );
    assert_eq!(
        call(
            &c,
            json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": unknown}})
        )
        .await,
        (400, "Agent is not deactivated".into())
    );
    assert_eq!(
        call(&c, json!({"type": "DRAIN_AGENT"})).await,
        (
            400,
            "Failed to validate master::Call: Expecting 'drain_agent' to be present".into()
        )
    );
    // SET_LOGGING_LEVEL as the docs write it.
    assert_eq!(
        call(
            &c,
            json!({"type": "SET_LOGGING_LEVEL", "set_logging_level": {
            "duration": {"nanoseconds": 60_000_000_000i64}, "level": 1}})
        )
        .await,
        (200, String::new())
    );
    assert_eq!(
        operator(&c.master_url(), json!({"type": "GET_LOGGING_LEVEL"})).await,
        json!({"type": "GET_LOGGING_LEVEL", "get_logging_level": {"level": 1}})
    );
    assert_eq!(
        call(&c, json!({"type": "SET_LOGGING_LEVEL", "set_logging_level": {"level": 1}})).await,
        (
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: set_logging_level.duration".into()
        )
    );
    c.shutdown().await;
}

#[tokio::test]
async fn the_schedules_rules_and_the_legacy_endpoints() {
    let c = start().await;
    let master = c.master_url();
    let http = client();
    // docs/maintenance.md's shape: two windows, machines named by hostname and IP.
    let schedule = json!({"windows": [
        {"machine_ids": [{"hostname": "rack1-a", "ip": "10.9.0.1"}, {"hostname": "rack1-b", "ip": "10.9.0.2"}],
         "unavailability": {"start": {"nanoseconds": 1_800_000_000_000_000_000i64},
                            "duration": {"nanoseconds": 3_600_000_000_000i64}}},
        {"machine_ids": [{"hostname": "rack2-a", "ip": "10.9.0.3"}],
         "unavailability": {"start": {"nanoseconds": 1_800_003_600_000_000_000i64},
                            "duration": {"nanoseconds": 3_600_000_000_000i64}}}
    ]});
    let (code, body) = post(&format!("{master}/maintenance/schedule"), &schedule, None).await;
    assert_eq!((code, body.as_str()), (200, ""));
    assert_eq!(
        get_json(&format!("{master}/master/maintenance/schedule")).await,
        schedule
    );
    // The rules: a machine once, a window not empty, a hostname or an IP, a valid IP.
    let twice = json!({"windows": [{"machine_ids": [{"hostname": "x"}, {"hostname": "X"}],
        "unavailability": {"start": {"nanoseconds": 0}}}]});
    assert_eq!(
        post(&format!("{master}/maintenance/schedule"), &twice, None).await,
        (
            400,
            r#"Machine '{"hostname":"X"}' appears more than once in the schedule"#.into()
        )
    );
    let nameless = json!({"windows": [{"machine_ids": [{}], "unavailability": {"start": {"nanoseconds": 0}}}]});
    assert_eq!(
        post(&format!("{master}/maintenance/schedule"), &nameless, None).await,
        (
            400,
            "Both 'hostname' and 'ip' for a machine are empty".into()
        )
    );
    let negative = json!({"windows": [{"machine_ids": [{"hostname": "x"}],
        "unavailability": {"start": {"nanoseconds": 0}, "duration": {"nanoseconds": -1}}}]});
    assert_eq!(
        post(&format!("{master}/maintenance/schedule"), &negative, None).await,
        (400, "Unavailability 'duration' is negative".into())
    );
    // /machine/down with the docs' machines.json shape, then the status.
    let down = json!([{"hostname": "rack1-a", "ip": "10.9.0.1"}, {"hostname": "rack1-b", "ip": "10.9.0.2"}]);
    assert_eq!(
        post(&format!("{master}/machine/down"), &down, None).await,
        (200, String::new())
    );
    let status = get_json(&format!("{master}/maintenance/status")).await;
    assert_eq!(status["down_machines"], down);
    assert_eq!(
        status["draining_machines"],
        json!([{"id": {"hostname": "rack2-a", "ip": "10.9.0.3"}}])
    );
    // A DOWN machine cannot leave the schedule; /machine/up takes it out.
    let (code, body) = post(&format!("{master}/maintenance/schedule"), &json!({}), None).await;
    assert_eq!(code, 400);
    assert_eq!(
        body,
        r#"Machine '{"hostname":"rack1-a","ip":"10.9.0.1"}' is deactivated and cannot be removed from the schedule"#
    );
    assert_eq!(
        post(&format!("{master}/machine/up"), &down, None).await,
        (200, String::new())
    );
    assert_eq!(
        get_json(&format!("{master}/maintenance/schedule")).await,
        json!({"windows": [schedule["windows"][1]]})
    );
    // Methods and bodies.
    let put = http
        .put(format!("{master}/machine/up"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT: {e}"));
    assert_eq!(put.status().as_u16(), 405);
    assert_eq!(
        put.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    assert_eq!(
        post(
            &format!("{master}/machine/down"),
            &json!({"hostname": "x"}),
            None
        )
        .await,
        (400, "Unexpected JSON type parsed".into()),
        "a machine list is a JSON array"
    );
    assert_eq!(
        post(&format!("{master}/maintenance/schedule"), &json!([]), None).await,
        (400, "Unexpected JSON type parsed".into()),
        "a schedule is a JSON object"
    );
    c.shutdown().await;
}

/// A framework with a task on agent1, and the operator's maintenance window for agent1's
/// machine: inverse offers, the framework's answer in the status, the machine brought down
/// (the task lost) and up again (the agent registers anew on its port).
#[tokio::test]
async fn inverse_offers_and_a_machine_brought_down_and_up() {
    let c = two_machines().await;
    let master = c.master_url();
    let agent1 = agent_named(&c, "agent1").await;
    let agent1_id = agent1["agent_info"]["id"].clone();
    let agent1_port = agent1["agent_info"]["port"].as_u64().unwrap_or(0);
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == agent1_id {
            break o;
        }
    };
    let (code, body) = fw
        .call(launch(
            &offer,
            vec![command_task("web", &agent1_id, "sleep 60")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "web", "TASK_RUNNING").await;
    // An operator watching the master's event stream.
    let mut ops = Events::open(&format!("{master}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    ops.next_of("SUBSCRIBED").await;
    let machine = json!({"hostname": "agent1", "ip": "127.0.0.1"});
    let start_ns = 1_900_000_000_000_000_000i64;
    let (code, body) = call(
        &c,
        json!({"type": "UPDATE_MAINTENANCE_SCHEDULE", "update_maintenance_schedule": {"schedule": {
            "windows": [{"machine_ids": [machine], "unavailability": {
                "start": {"nanoseconds": start_ns}, "duration": {"nanoseconds": 3_600_000_000_000i64}}}]}}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let inverse =
        events.next_of("INVERSE_OFFERS").await["inverse_offers"]["inverse_offers"][0].clone();
    assert_eq!(inverse["agent_id"], agent1_id);
    assert_eq!(inverse["framework_id"]["value"], fw.id);
    assert_eq!(inverse["unavailability"]["start"]["nanoseconds"], start_ns);
    assert_eq!(inverse["url"]["address"]["hostname"], "agent1");
    // Offers of the draining machine carry its unavailability; the other's do not. The
    // framework's outstanding inverse offer is in GET_FRAMEWORKS.
    let state = operator(&master, json!({"type": "GET_FRAMEWORKS"})).await;
    assert_eq!(
        state["get_frameworks"]["frameworks"][0]["inverse_offers"],
        json!([inverse])
    );
    for o in state["get_frameworks"]["frameworks"][0]["offers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(
            o.get("unavailability").is_some(),
            o["agent_id"] == agent1_id,
            "{o}"
        );
    }
    let (code, body) = fw
        .call(
            json!({"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {
            "inverse_offer_ids": [inverse["id"]], "filters": {"refuse_seconds": 3600}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let deadline = Instant::now() + DEADLINE;
    let answered = loop {
        let s = operator(&master, json!({"type": "GET_MAINTENANCE_STATUS"})).await;
        let machine = s["get_maintenance_status"]["status"]["draining_machines"][0].clone();
        if machine.get("statuses").is_some() {
            break machine;
        }
        assert!(Instant::now() < deadline, "no answer in the status: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(answered["id"], machine);
    assert_eq!(answered["statuses"][0]["status"], "ACCEPT");
    assert_eq!(answered["statuses"][0]["framework_id"]["value"], fw.id);
    // DRAIN_AGENT refuses an agent of a scheduled machine.
    assert_eq!(
        call(
            &c,
            json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": agent1_id}})
        )
        .await,
        (
            400,
            format!(
                "Agent {} is part of a maintenance schedule under Machine agent1 (127.0.0.1)",
                agent1_id["value"].as_str().unwrap_or_default()
            )
        )
    );
    // The machine goes down: the agent is removed, its task lost.
    let (code, body) = call(
        &c,
        json!({"type": "START_MAINTENANCE", "start_maintenance": {"machines": [machine]}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let lost = until_state(&mut events, &fw, "web", "TASK_LOST").await;
    assert_eq!(lost["reason"], "REASON_AGENT_REMOVED");
    assert_eq!(lost["source"], "SOURCE_MASTER");
    assert_eq!(
        lost["message"],
        "Agent agent1 removed: Operator initiated 'Machine DOWN'"
    );
    assert!(lost.get("uuid").is_none());
    assert_eq!(agents(&c).await.len(), 1);
    // The operator hears the task lost, then the agent removed (`_removeSlave`'s order).
    let updated = ops.next_of("TASK_UPDATED").await;
    assert_eq!(updated["task_updated"]["state"], "TASK_LOST");
    let removed = ops.next_of("AGENT_REMOVED").await;
    assert_eq!(removed["agent_removed"]["agent_id"], agent1_id);
    let status = operator(&master, json!({"type": "GET_MAINTENANCE_STATUS"})).await;
    assert_eq!(
        status["get_maintenance_status"]["status"],
        json!({"down_machines": [machine]})
    );
    // Up again: a new agent on the same port.
    let (code, body) = call(
        &c,
        json!({"type": "STOP_MAINTENANCE", "stop_maintenance": {"machines": [machine]}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let back = agent_named(&c, "agent1").await;
    assert_ne!(back["agent_info"]["id"], agent1_id);
    let added = ops.next_of("AGENT_ADDED").await;
    assert_eq!(
        added["agent_added"]["agent"]["agent_info"]["id"],
        back["agent_info"]["id"]
    );
    assert_eq!(back["agent_info"]["port"], agent1_port);
    let health = format!("http://127.0.0.1:{agent1_port}/health");
    eventually("the agent answering on its port again", || {
        let health = health.clone();
        async move {
            client()
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    })
    .await;
    assert_eq!(
        operator(&master, json!({"type": "GET_MAINTENANCE_SCHEDULE"})).await
            ["get_maintenance_schedule"],
        json!({"schedule": {}})
    );
    c.shutdown().await;
}

async fn running_task(
    c: &Cluster,
    info: Value,
    host: &str,
    task: Value,
) -> (Framework, Events, Value) {
    let agent = agent_named(c, host).await["agent_info"]["id"].clone();
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info).await;
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == agent {
            break o;
        }
    };
    let task_id = task["task_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (code, body) = fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, &task_id, "TASK_RUNNING").await;
    (fw, events, agent)
}

#[tokio::test]
async fn a_drained_agent_is_deactivated_until_reactivated() {
    let c = two_machines().await;
    let master = c.master_url();
    let agent1 = agent_named(&c, "agent1").await["agent_info"]["id"].clone();
    // A task whose kill policy gives it 60 s; the drain caps it at 100 ms, and the task
    // ignores SIGTERM, so only the cap ends it in time.
    let mut task = command_task("stubborn", &agent1, "trap '' TERM; sleep 60");
    task["kill_policy"] = json!({"grace_period": {"nanoseconds": 60_000_000_000i64}});
    let (fw, mut events, _) = running_task(&c, info(), "agent1", task).await;
    let started = Instant::now();
    let (code, body) = call(
        &c,
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": agent1,
            "max_grace_period": {"nanos": 100_000_000}}}),
    )
    .await;
    assert_eq!((code, body.as_str()), (200, ""));
    let killed = until_state(&mut events, &fw, "stubborn", "TASK_KILLED").await;
    assert_eq!(killed["reason"], "REASON_AGENT_DRAINING");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the grace period was not capped"
    );
    eventually("the agent DRAINED", || {
        let c = &c;
        async move {
            let a = agent_named(c, "agent1").await;
            a["drain_info"]["state"] == "DRAINED"
        }
    })
    .await;
    let a = agent_named(&c, "agent1").await;
    assert_eq!(a["active"], false);
    assert_eq!(a["deactivated"], true);
    assert_eq!(
        a["drain_info"]["config"],
        json!({"mark_gone": false, "max_grace_period": {"nanoseconds": 100_000_000}})
    );
    assert!(a.get("estimated_drain_start_time").is_some());
    let slaves = get_json(&format!("{master}/master/slaves")).await;
    let legacy = slaves["slaves"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["hostname"] == "agent1").cloned())
        .unwrap_or_default();
    assert_eq!(legacy["deactivated"], true);
    assert_eq!(legacy["drain_info"]["state"], "DRAINED");
    assert!(legacy["estimated_drain_start_time_seconds"].is_number());
    // No offer of the drained agent is outstanding.
    let frameworks = operator(&master, json!({"type": "GET_FRAMEWORKS"})).await;
    let offers = frameworks["get_frameworks"]["frameworks"][0]["offers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(offers.iter().all(|o| o["agent_id"] != agent1), "{offers:?}");
    // Reactivated, it offers again.
    let (code, _) = call(
        &c,
        json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": agent1}}),
    )
    .await;
    assert_eq!(code, 200);
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == agent1 {
            break o;
        }
    };
    assert!(offer.get("unavailability").is_none());
    let a = agent_named(&c, "agent1").await;
    assert_eq!(
        (a["active"].clone(), a["deactivated"].clone()),
        (json!(true), json!(false))
    );
    assert!(a.get("drain_info").is_none());
    c.shutdown().await;
}

#[tokio::test]
async fn a_drain_that_marks_the_agent_gone() {
    let c = two_machines().await;
    let aware =
        json!({"user": "tester", "name": "aware", "capabilities": [{"type": "PARTITION_AWARE"}]});
    let agent1 = agent_named(&c, "agent1").await["agent_info"]["id"].clone();
    let task = command_task("doomed", &agent1, "sleep 60");
    let (fw, mut events, _) = running_task(&c, aware, "agent1", task).await;
    let (code, _) = call(
        &c,
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": agent1, "mark_gone": true}}),
    )
    .await;
    assert_eq!(code, 200);
    let gone = until_state(&mut events, &fw, "doomed", "TASK_GONE_BY_OPERATOR").await;
    assert_eq!(gone["reason"], "REASON_AGENT_DRAINING");
    assert_eq!(gone["source"], "SOURCE_EXECUTOR");
    eventually("the agent gone", || {
        let c = &c;
        async move { agents(c).await.len() == 1 }
    })
    .await;
    let failure = events.next_of("FAILURE").await;
    assert_eq!(failure["failure"]["agent_id"], agent1);
    c.shutdown().await;
}

#[tokio::test]
async fn a_deactivated_agent_gets_its_offers_rescinded() {
    let c = two_machines().await;
    let agent2 = agent_named(&c, "agent2").await["agent_info"]["id"].clone();
    let (fw, mut events) = Framework::subscribe(&c.master_url(), info()).await;
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == agent2 {
            break o;
        }
    };
    let (code, _) = call(
        &c,
        json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": agent2}}),
    )
    .await;
    assert_eq!(code, 200);
    let rescind = events.next_of("RESCIND").await;
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    let a = agent_named(&c, "agent2").await;
    assert_eq!(
        (a["active"].clone(), a["deactivated"].clone()),
        (json!(false), json!(true))
    );
    assert!(a.get("drain_info").is_none());
    // Deactivating twice is fine; reactivating brings offers back.
    let (code, _) = call(
        &c,
        json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": agent2}}),
    )
    .await;
    assert_eq!(code, 200);
    let (code, _) = call(
        &c,
        json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {"agent_id": agent2}}),
    )
    .await;
    assert_eq!(code, 200);
    loop {
        let o = events.offer().await;
        if o["agent_id"] == agent2 {
            break;
        }
    }
    drop(fw);
    c.shutdown().await;
}

#[tokio::test]
async fn the_logging_level_reverts_when_its_duration_ends() {
    let c = start().await;
    let master = c.master_url();
    let agent = c.agent_urls()[0].clone();
    for url in [&master, &agent] {
        let (code, body) = post(
            &format!("{url}/api/v1"),
            &json!({"type": "SET_LOGGING_LEVEL", "set_logging_level": {
                "level": 3, "duration": {"nanoseconds": 300_000_000}}}),
            None,
        )
        .await;
        assert_eq!((code, body.as_str()), (200, ""), "{url}");
        let level = operator(url, json!({"type": "GET_LOGGING_LEVEL"})).await;
        assert_eq!(level["get_logging_level"]["level"], 3, "{url}");
    }
    for url in [&master, &agent] {
        eventually("the level back at 0", || {
            let url = url.clone();
            async move {
                operator(&url, json!({"type": "GET_LOGGING_LEVEL"})).await["get_logging_level"]
                    ["level"]
                    == 0
            }
        })
        .await;
    }
    let log = read_all(&master, "/master/log").await;
    assert!(log.contains("Setting verbose logging level to 3"), "{log}");
    assert!(log.contains("Setting verbose logging level to 0"), "{log}");
    c.shutdown().await;
}

/// A whole file through `/files/read`, page by page.
async fn read_all(base: &str, path: &str) -> String {
    let mut out = String::new();
    loop {
        let page = get_json(&format!(
            "{base}/files/read?path={path}&offset={}&length=65536",
            out.len()
        ))
        .await;
        let data = page["data"].as_str().unwrap_or_default();
        if data.is_empty() {
            return out;
        }
        out.push_str(data);
    }
}

#[tokio::test]
async fn the_master_and_agent_logs_are_files_to_read() {
    let c = start().await;
    let master = c.master_url();
    let agent = c.agent_urls()[0].clone();
    let (fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = events.offer().await;
    let (code, _) = fw
        .call(launch(
            &offer,
            vec![command_task("hello", &offer["agent_id"], "true")],
        ))
        .await;
    assert_eq!(code, 202);
    until_state(&mut events, &fw, "hello", "TASK_FINISHED").await;
    let browse = get_json(&format!("{master}/files/browse?path=/master/log")).await;
    assert_eq!(browse[0]["path"], "/master/log");
    let log = read_all(&master, "/master/log").await;
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("Log file created at: "));
    // glog's line format: severity, date, time, thread, file:line] message.
    let glog = regex::Regex::new(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.]+:\d+\] ").unwrap();
    assert!(lines[3..].iter().all(|l| glog.is_match(l)), "{log}");
    assert!(log.contains("] Registered agent "), "{log}");
    assert!(log.contains("] Added framework "), "{log}");
    assert!(
        log.contains("Status update TASK_FINISHED for task hello"),
        "{log}"
    );
    // The same through the operator API, and the agent's own log on the agent.
    let listed = operator(
        &master,
        json!({"type": "LIST_FILES", "list_files": {"path": "/master/log"}}),
    )
    .await;
    assert_eq!(listed["list_files"]["file_infos"][0]["path"], "/master/log");
    let read = operator(
        &master,
        json!({"type": "READ_FILE", "read_file": {"path": "/master/log", "offset": 0}}),
    )
    .await;
    assert!(read["read_file"]["size"].as_u64().unwrap_or(0) > 0);
    let agent_log = read_all(&agent, "/slave/log").await;
    assert!(agent_log.contains("Launching task 'hello'"), "{agent_log}");
    assert!(
        agent_log.contains("Handling status update TASK_FINISHED"),
        "{agent_log}"
    );
    // `--log_dir` shows in the flags.
    let flags = get_json(&format!("{master}/master/flags")).await;
    let dir = flags["flags"]["log_dir"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        std::path::Path::new(&dir)
            .join("mesos-master.INFO")
            .exists(),
        "{dir}"
    );
    let agent_flags = get_json(&format!("{agent}/flags")).await;
    assert!(agent_flags["flags"]["log_dir"].is_string());
    c.shutdown().await;
}

fn window_for(machine: &Value, start_ns: i64) -> Value {
    json!({"type": "UPDATE_MAINTENANCE_SCHEDULE", "update_maintenance_schedule": {"schedule": {
        "windows": [{"machine_ids": [machine], "unavailability": {"start": {"nanoseconds": start_ns}}}]}}})
}

async fn draining_status(c: &Cluster) -> Value {
    operator(&c.master_url(), json!({"type": "GET_MAINTENANCE_STATUS"})).await
        ["get_maintenance_status"]["status"]["draining_machines"][0]
        .clone()
}

/// A declined inverse offer, then new windows for the same machine: each new unavailability
/// clears the answers and filters and rescinds what is out, and frameworks hear of it anew.
#[tokio::test]
async fn a_declined_inverse_offer_and_the_window_moved() {
    let c = two_machines().await;
    let agent1 = agent_named(&c, "agent1").await["agent_info"]["id"].clone();
    let task = command_task("db", &agent1, "sleep 60");
    let (fw, mut events, _) = running_task(&c, info(), "agent1", task).await;
    let machine = json!({"hostname": "AGENT1", "ip": "127.0.0.1"});
    assert_eq!(
        call(&c, window_for(&machine, 1_000)).await,
        (200, String::new())
    );
    let first =
        events.next_of("INVERSE_OFFERS").await["inverse_offers"]["inverse_offers"][0].clone();
    assert_eq!(
        first["agent_id"], agent1,
        "the hostname matches in any case"
    );
    let (code, body) = fw
        .call(
            json!({"type": "DECLINE_INVERSE_OFFERS", "decline_inverse_offers": {
            "inverse_offer_ids": [first["id"]], "filters": {"refuse_seconds": 3600}}}),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let deadline = Instant::now() + DEADLINE;
    let declined = loop {
        let m = draining_status(&c).await;
        if m.get("statuses").is_some() {
            break m;
        }
        assert!(Instant::now() < deadline, "no answer in the status");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(declined["statuses"][0]["status"], "DECLINE");
    assert!(declined["statuses"][0]["timestamp"]["nanoseconds"].is_number());
    // A new window: the answer and the framework's filter are gone, a new inverse offer
    // comes with the new start.
    assert_eq!(
        call(&c, window_for(&machine, 2_000)).await,
        (200, String::new())
    );
    assert!(draining_status(&c).await.get("statuses").is_none());
    let second =
        events.next_of("INVERSE_OFFERS").await["inverse_offers"]["inverse_offers"][0].clone();
    assert_eq!(second["unavailability"]["start"]["nanoseconds"], 2_000);
    assert_ne!(second["id"], first["id"]);
    // Moved again while that one is out: it is rescinded, and a third comes.
    assert_eq!(
        call(&c, window_for(&machine, 3_000)).await,
        (200, String::new())
    );
    let rescinded = events.next_of("RESCIND_INVERSE_OFFER").await;
    assert_eq!(
        rescinded["rescind_inverse_offer"]["inverse_offer_id"],
        second["id"]
    );
    let third =
        events.next_of("INVERSE_OFFERS").await["inverse_offers"]["inverse_offers"][0].clone();
    assert_eq!(third["unavailability"]["start"]["nanoseconds"], 3_000);
    // Answering the rescinded one is accepted (202) and changes nothing, as in Mesos.
    let (code, _) = fw
        .call(
            json!({"type": "ACCEPT_INVERSE_OFFERS", "accept_inverse_offers": {
            "inverse_offer_ids": [second["id"]]}}),
        )
        .await;
    assert_eq!(code, 202);
    assert!(draining_status(&c).await.get("statuses").is_none());
    c.shutdown().await;
}

async fn drain_state(c: &Cluster, host: &str) -> Value {
    agent_named(c, host).await["drain_info"]["state"].clone()
}

/// A drain ends when the frameworks have heard of every task's end: an agent whose last
/// update is not acknowledged stays DRAINING (Mesos keeps the task in `slave->tasks` until
/// then); the framework's removal ends it too.
#[tokio::test]
async fn a_drain_waits_for_the_last_acknowledgement() {
    let c = two_machines().await;
    let agent1 = agent_named(&c, "agent1").await["agent_info"]["id"].clone();
    let task = command_task("slow", &agent1, "sleep 60");
    let (fw, mut events, _) = running_task(&c, info(), "agent1", task).await;
    let (code, _) = call(
        &c,
        json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": agent1}}),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(drain_state(&c, "agent1").await, "DRAINING");
    // The kill's update arrives; this scheduler does not acknowledge it.
    let killed = loop {
        let s = events.next_of("UPDATE").await["update"]["status"].clone();
        if s["state"] == "TASK_KILLED" {
            break s;
        }
    };
    assert_eq!(killed["reason"], "REASON_AGENT_DRAINING");
    assert!(killed.get("uuid").is_some());
    assert_eq!(drain_state(&c, "agent1").await, "DRAINING");
    // The agent itself says it drains, in its /state and GET_AGENT.
    let agent_url = c.agent_urls()[0].clone();
    let state = get_json(&format!("{agent_url}/state")).await;
    assert_eq!(state["id"], agent1["value"]);
    assert_eq!(state["drain_config"], json!({"mark_gone": false}));
    assert!(state["estimated_drain_start_time_seconds"].is_i64());
    let got = operator(&agent_url, json!({"type": "GET_AGENT"})).await;
    assert_eq!(
        got["get_agent"]["drain_config"],
        json!({"mark_gone": false})
    );
    assert!(got["get_agent"]["estimated_drain_start_time"]["nanoseconds"].is_i64());
    // The framework goes away: nothing is left to wait for.
    let (code, body) = fw.call(json!({"type": "TEARDOWN"})).await;
    assert_eq!(code, 202, "{body}");
    eventually("the agent DRAINED", || {
        let c = &c;
        async move { drain_state(c, "agent1").await == "DRAINED" }
    })
    .await;
    // Drained, the agent has forgotten its drain (no framework is left on it).
    let state = get_json(&format!("{agent_url}/state")).await;
    assert!(state.get("drain_config").is_none(), "{state}");
    c.shutdown().await;
}

async fn get_text(url: &str) -> (u16, String) {
    let r = client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let code = r.status().as_u16();
    (code, r.text().await.unwrap_or_default())
}

/// libprocess's `/logging/toggle` on the master and an agent, with libprocess's answers.
#[tokio::test]
async fn logging_toggle_as_libprocess_answers_it() {
    let c = start().await;
    let master = c.master_url();
    let agent = c.agent_urls()[0].clone();
    for url in [&master, &agent] {
        let toggle = format!("{url}/logging/toggle");
        assert_eq!(get_text(&toggle).await, (200, "0\n".into()), "{url}");
        assert_eq!(
            get_text(&format!("{toggle}?level=2")).await,
            (400, "Expecting 'duration=value' in query.\n".into())
        );
        assert_eq!(
            get_text(&format!("{toggle}?duration=1mins")).await,
            (400, "Expecting 'level=value' in query.\n".into())
        );
        assert_eq!(
            get_text(&format!("{toggle}?level=-1&duration=1mins")).await,
            (400, "Invalid level '-1'.\n".into())
        );
        assert_eq!(
            get_text(&format!("{toggle}?level=2&duration=1mins")).await,
            (200, String::new())
        );
        let level = operator(url, json!({"type": "GET_LOGGING_LEVEL"})).await;
        assert_eq!(level["get_logging_level"]["level"], 2, "{url}");
        assert_eq!(get_text(&toggle).await, (200, "2\n".into()));
    }
    c.shutdown().await;
}

/// A deactivated agent that restarts stays deactivated when it re-registers (Mesos
/// deactivates it again in `__reregisterSlave`): it is not offered.
#[tokio::test]
async fn a_deactivated_agent_stays_so_through_a_restart() {
    let c = two_machines().await;
    let master = c.master_url();
    let agent1 = agent_named(&c, "agent1").await["agent_info"]["id"].clone();
    let id1 = agent1["value"].as_str().unwrap_or_default().to_string();
    let (code, _) = call(
        &c,
        json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {"agent_id": agent1}}),
    )
    .await;
    assert_eq!(code, 200);
    let (code, body) = post(
        &format!("{master}/__cluster/agents/{id1}/restart?down=100ms"),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    eventually("agent1 re-registered", || {
        let c = &c;
        async move {
            agent_named(c, "agent1")
                .await
                .get("reregistered_time")
                .is_some()
        }
    })
    .await;
    let a = agent_named(&c, "agent1").await;
    assert_eq!(
        (a["active"].clone(), a["deactivated"].clone()),
        (json!(false), json!(true)),
        "{a}"
    );
    // A framework now is offered only the other agent.
    let (_fw, mut events) = Framework::subscribe(&master, info()).await;
    let offer = events.offer().await;
    assert_ne!(offer["agent_id"], agent1);
    let frameworks = operator(&master, json!({"type": "GET_FRAMEWORKS"})).await;
    let offers = frameworks["get_frameworks"]["frameworks"][0]["offers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(offers.iter().all(|o| o["agent_id"] != agent1), "{offers:?}");
    c.shutdown().await;
}
