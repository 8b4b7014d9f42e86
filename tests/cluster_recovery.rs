//! Agents that come back, over HTTP only: a partition that heals (before and after the
//! agent is unreachable) and an agent restart with recovery, watched by a partition-aware
//! framework and one that is not. The updates each framework gets and the state the master
//! shows follow Mesos 1.11's master (`__reregisterSlave`, `exited`, `removeFramework(Slave*,
//! Framework*)`) and agent (`--recover=reconnect`).

mod cluster_support;

use cluster_support::*;
use mesos_kernel::cluster::Cluster;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

async fn cluster(ping: Duration) -> Cluster {
    start_with(|c| {
        c.agents = 1;
        c.agent_ping_timeout = ping;
        c.max_agent_ping_timeouts = 3;
    })
    .await
}

fn aware_info() -> Value {
    json!({"user": "tester", "name": "aware", "checkpoint": true,
        "capabilities": [{"type": "PARTITION_AWARE"}]})
}

fn legacy_info() -> Value {
    json!({"user": "tester", "name": "legacy"})
}

struct Scene {
    legacy: Framework,
    legacy_events: Events,
    aware: Framework,
    aware_events: Events,
    agent: Value,
}

fn launch_refusing(offer: &Value, task: Value, refuse_seconds: f64) -> Value {
    json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}],
        "filters": {"refuse_seconds": refuse_seconds}
    }})
}

/// Both frameworks run tasks on the one agent: `a1` (legacy) and each of `aware_tasks`.
async fn scene(c: &Cluster, aware_tasks: &[(&str, String)]) -> Scene {
    let m = c.master_url();
    let (legacy, mut legacy_events) = Framework::subscribe(&m, legacy_info()).await;
    let (aware, mut aware_events) = Framework::subscribe(&m, aware_info()).await;
    let first = legacy_events.offer().await;
    let agent = first["agent_id"].clone();
    let (code, body) = legacy
        .call(launch_refusing(
            &first,
            command_task("a1", &agent, "sleep 60"),
            3600.0,
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut legacy_events, &legacy, "a1", "TASK_RUNNING").await;
    for (task, cmd) in aware_tasks {
        let offer = aware_events.offer().await;
        let (code, body) = aware
            .call(launch_refusing(
                &offer,
                command_task(task, &agent, cmd),
                0.0,
            ))
            .await;
        assert_eq!(code, 202, "{body}");
        until_state(&mut aware_events, &aware, task, "TASK_RUNNING").await;
    }
    Scene {
        legacy,
        legacy_events,
        aware,
        aware_events,
        agent,
    }
}

async fn hook(c: &Cluster, agent: &Value, what: &str) -> (u16, Value) {
    let url = format!(
        "{}/__cluster/agents/{}/{what}",
        c.master_url(),
        agent["value"].as_str().unwrap_or_default()
    );
    let resp = client()
        .post(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The task ids of a GET_TASKS list.
fn task_ids(tasks: &Value, list: &str) -> Vec<String> {
    let mut ids: Vec<String> = tasks["get_tasks"][list]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|t| t["task_id"]["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn agent_count(agents: &Value) -> usize {
    agents["get_agents"]["agents"]
        .as_array()
        .map_or(0, Vec::len)
}

/// The next non-heartbeat event.
async fn next_event(events: &mut Events) -> Value {
    loop {
        match events.next().await {
            Some(e) if e["type"] == "HEARTBEAT" => continue,
            Some(e) => return e,
            None => panic!("stream ended"),
        }
    }
}

/// The next UPDATE of a task (OFFERS, RESCIND and FAILURE skipped).
async fn update_of(events: &mut Events, task: &str) -> Value {
    loop {
        let e = next_event(events).await;
        if e["type"] == "UPDATE" && e["update"]["status"]["task_id"]["value"] == task {
            return e["update"]["status"].clone();
        }
    }
}

async fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mk-recovery-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

#[tokio::test]
async fn a_partitioned_agent_is_unreachable_and_comes_back_when_healed() {
    let c = cluster(Duration::from_millis(100)).await;
    let m = c.master_url();
    let mut s = scene(&c, &[("b1", "sleep 60".into())]).await;
    let mut ops = Events::open(&format!("{m}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    ops.next_of("SUBSCRIBED").await;

    let (code, body) = hook(&c, &s.agent, "partition").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["partitioned"], true);
    let after = body["unreachable_after_secs"].as_f64().unwrap_or_default();
    assert!((after - 0.3).abs() < 1e-9, "{body}");
    // Mesos's updates once the health checks run out (as for a crash).
    let lost = update_of(&mut s.legacy_events, "a1").await;
    assert_eq!(lost["state"], "TASK_LOST");
    assert_eq!(lost["reason"], "REASON_AGENT_REMOVED");
    let unreachable = update_of(&mut s.aware_events, "b1").await;
    assert_eq!(unreachable["state"], "TASK_UNREACHABLE");
    assert_eq!(unreachable["message"], "health check timed out");
    assert_eq!(
        agent_count(&operator(&m, json!({"type": "GET_AGENTS"})).await),
        0
    );
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    assert_eq!(task_ids(&tasks, "unreachable_tasks"), vec!["a1", "b1"]);
    assert!(task_ids(&tasks, "tasks").is_empty(), "{tasks}");
    // Behind the partition the agent still answers others, with its tasks running.
    let agent_tasks = operator(&c.agent_urls()[0], json!({"type": "GET_TASKS"})).await;
    assert!(agent_tasks["get_tasks"].is_object(), "{agent_tasks}");
    // It has missed as many pings as the master: it knows it is not registered.
    let registered = |m: &Value| m["slave/registered"].clone();
    let agent_metrics = format!("{}/metrics/snapshot", c.agent_urls()[0]);
    assert_eq!(registered(&get_json(&agent_metrics).await), 0.0);

    let (code, body) = hook(&c, &s.agent, "heal").await;
    assert_eq!(
        (code, body["reregistered"].clone()),
        (200, json!(true)),
        "{body}"
    );
    // Both frameworks hear the task is running again: a master-made update, no uuid.
    for (events, task) in [(&mut s.legacy_events, "a1"), (&mut s.aware_events, "b1")] {
        let back = update_of(events, task).await;
        assert_eq!(back["state"], "TASK_RUNNING", "{back}");
        assert_eq!(back["source"], "SOURCE_MASTER");
        assert_eq!(back["reason"], "REASON_AGENT_REREGISTERED");
        assert_eq!(back["message"], "Unreachable agent re-reregistered");
        assert_eq!(back["agent_id"], s.agent);
        assert!(back.get("uuid").is_none(), "{back}");
    }
    assert_eq!(
        agent_count(&operator(&m, json!({"type": "GET_AGENTS"})).await),
        1
    );
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    assert_eq!(task_ids(&tasks, "tasks"), vec!["a1", "b1"]);
    assert!(task_ids(&tasks, "unreachable_tasks").is_empty(), "{tasks}");
    let state = get_json(&format!("{m}/master/state")).await;
    assert_eq!(state["unreachable_slaves"], 0, "{state}");
    assert_eq!(state["slaves"].as_array().map_or(0, Vec::len), 1);
    assert!(state["slaves"][0]["reregistered_time"].is_f64(), "{state}");
    // Re-admitted from unreachable (`__reregisterSlave`): counted as a re-registration.
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(metrics["master/slave_reregistrations"], 1.0, "{metrics}");
    assert_eq!(metrics["master/messages_reregister_slave"], 1.0);
    assert_eq!(metrics["master/slaves_unreachable"], 0.0);
    assert_eq!(registered(&get_json(&agent_metrics).await), 1.0);
    // Operator subscribers see the agent added again, then its tasks added back running
    // (`Master::addSlave`), with the agent's statuses and none of the master's.
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let e = tokio::time::timeout(Duration::from_secs(20), next_event(&mut ops))
            .await
            .unwrap_or_else(|_| panic!("the operator stream stopped at {kinds:?}"));
        if e["type"] == "AGENT_ADDED" || e["task_added"]["task"]["state"] == "TASK_RUNNING" {
            let statuses = e["task_added"]["task"]["statuses"].as_array().cloned();
            for s in statuses.into_iter().flatten() {
                assert_ne!(s["source"], "SOURCE_MASTER", "{e}");
            }
            kinds.push(e["type"].as_str().unwrap_or("").to_string());
        }
    }
    assert_eq!(kinds, ["AGENT_ADDED", "TASK_ADDED", "TASK_ADDED"]);
    // Its process lived through it: a kill ends it by signal.
    let (code, _) = s
        .aware
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "b1"}}}))
        .await;
    assert_eq!(code, 202);
    let killed = until_state(&mut s.aware_events, &s.aware, "b1", "TASK_KILLED").await;
    assert_eq!(
        killed["message"],
        "Command terminated with signal Terminated"
    );
    let _ = &s.legacy;
}

#[tokio::test]
async fn updates_wait_behind_a_partition_healed_in_time() {
    let c = cluster(Duration::from_secs(5)).await;
    let m = c.master_url();
    let dir = scratch("heal-early");
    let go = dir.join("go");
    let cmd = format!(
        "while [ ! -f {go} ]; do sleep 0.05; done; touch {done}",
        go = go.display(),
        done = dir.join("exited").display()
    );
    let mut s = scene(&c, &[("b1", cmd)]).await;
    let (code, _) = hook(&c, &s.agent, "partition").await;
    assert_eq!(code, 200);
    // Partitioning again is no error.
    assert_eq!(hook(&c, &s.agent, "partition").await.0, 200);
    let _ = std::fs::write(&go, "");
    wait_for_file(&dir.join("exited")).await;
    // The executor said TASK_FINISHED, but the master has not heard it.
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    let b1 = tasks["get_tasks"]["tasks"]
        .as_array()
        .and_then(|l| l.iter().find(|t| t["task_id"]["value"] == "b1").cloned())
        .unwrap_or_default();
    assert_eq!(b1["state"], "TASK_RUNNING", "{tasks}");
    // A kill sent now is lost on the way; the agent is still registered.
    assert_eq!(
        agent_count(&operator(&m, json!({"type": "GET_AGENTS"})).await),
        1
    );

    let (code, body) = hook(&c, &s.agent, "heal").await;
    assert_eq!(
        (code, body["reregistered"].clone()),
        (200, json!(false)),
        "{body}"
    );
    let finished = update_of(&mut s.aware_events, "b1").await;
    assert_eq!(finished["state"], "TASK_FINISHED", "{finished}");
    assert_eq!(finished["source"], "SOURCE_EXECUTOR");
    assert!(finished["uuid"].is_string());
    s.aware.ack(&finished).await;
    let (code, _) = hook(&c, &json!({"value": "no-such-agent"}), "heal").await;
    assert_eq!(code, 404);
    let _ = &s.legacy;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_restarted_agent_recovers_checkpointed_tasks_and_loses_the_others() {
    let c = cluster(Duration::from_secs(5)).await;
    let m = c.master_url();
    let dir = scratch("restart");
    let go = dir.join("go");
    let finishing = format!(
        "while [ ! -f {go} ]; do sleep 0.05; done; touch {done}",
        go = go.display(),
        done = dir.join("exited").display()
    );
    let mut s = scene(&c, &[("b1", "sleep 60".into()), ("b2", finishing)]).await;
    let agent_url = c.agent_urls()[0].clone();
    let restart_url = format!(
        "{m}/__cluster/agents/{}/restart?down=500ms",
        s.agent["value"].as_str().unwrap_or_default()
    );
    let restart = tokio::spawn(async move {
        let resp = client().post(&restart_url).send().await;
        resp.map(|r| r.status().as_u16()).unwrap_or(0)
    });
    // The framework that does not checkpoint loses its task at once.
    let lost = update_of(&mut s.legacy_events, "a1").await;
    assert_eq!(lost["state"], "TASK_LOST");
    assert_eq!(lost["reason"], "REASON_AGENT_DISCONNECTED");
    assert_eq!(lost["message"], "Agent 127.0.0.1 disconnected");
    assert_eq!(lost["source"], "SOURCE_MASTER");
    assert!(lost.get("uuid").is_none());
    // Down: registered, but disconnected and inactive until it re-registers.
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(metrics["master/slaves_disconnected"], 1.0, "{metrics}");
    assert_eq!(metrics["master/slaves_connected"], 0.0);
    assert_eq!(metrics["master/slaves_inactive"], 1.0);
    // While it is down, a checkpointed task finishes: its update waits for the agent.
    let _ = std::fs::write(&go, "");
    wait_for_file(&dir.join("exited")).await;
    assert_eq!(restart.await.unwrap_or(0), 200);
    let finished = update_of(&mut s.aware_events, "b2").await;
    assert_eq!(finished["state"], "TASK_FINISHED", "{finished}");
    assert!(finished["uuid"].is_string());
    s.aware.ack(&finished).await;
    // Same agent id, serving again; the legacy task is completed, b1 still runs.
    let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
    assert_eq!(
        agents["get_agents"]["agents"][0]["agent_info"]["id"],
        s.agent
    );
    assert!(
        agents["get_agents"]["agents"][0]["reregistered_time"]["nanoseconds"].is_i64(),
        "{agents}"
    );
    // A known agent re-registers (`_reregisterSlave`): no re-admission is counted.
    let metrics = get_json(&format!("{m}/metrics/snapshot")).await;
    assert_eq!(metrics["master/slaves_disconnected"], 0.0, "{metrics}");
    assert_eq!(metrics["master/slaves_connected"], 1.0);
    assert_eq!(metrics["master/messages_reregister_slave"], 1.0);
    assert_eq!(metrics["master/slave_reregistrations"], 0.0);
    // Its process is new: its uptime starts again.
    let agent_metrics = get_json(&format!("{agent_url}/metrics/snapshot")).await;
    let uptime = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    assert!(
        uptime(&agent_metrics, "slave/uptime_secs") + 0.2 < uptime(&metrics, "master/uptime_secs"),
        "{agent_metrics}"
    );
    let health = client()
        .get(format!("{agent_url}/health"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(health, 200);
    let tasks = operator(&m, json!({"type": "GET_TASKS"})).await;
    assert_eq!(task_ids(&tasks, "tasks"), vec!["b1"], "{tasks}");
    assert_eq!(task_ids(&tasks, "completed_tasks"), vec!["a1", "b2"]);
    let (code, _) = s
        .aware
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "b1"}}}))
        .await;
    assert_eq!(code, 202);
    let killed = until_state(&mut s.aware_events, &s.aware, "b1", "TASK_KILLED").await;
    assert_eq!(
        killed["message"],
        "Command terminated with signal Terminated"
    );
    // Restarting an unknown agent is 404.
    assert_eq!(hook(&c, &json!({"value": "nope"}), "restart").await.0, 404);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_update_acknowledged_while_the_agent_is_down_comes_again() {
    let c = cluster(Duration::from_secs(5)).await;
    let m = c.master_url();
    let (fw, mut events) = Framework::subscribe(&m, aware_info()).await;
    let offer = events.offer().await;
    let agent = offer["agent_id"].clone();
    let (code, _) = fw
        .call(launch(&offer, vec![command_task("t", &agent, "sleep 60")]))
        .await;
    assert_eq!(code, 202);
    // TASK_STARTING acknowledged; TASK_RUNNING arrives and is held back until the restart.
    let starting = events.update_for(&fw, "t").await;
    assert_eq!(starting["state"], "TASK_STARTING");
    let running = loop {
        let s = update_of(&mut events, "t").await;
        if s["state"] == "TASK_RUNNING" {
            break s;
        }
    };
    let restart_url = format!(
        "{m}/__cluster/agents/{}/restart?down=300ms",
        agent["value"].as_str().unwrap_or_default()
    );
    let restart = tokio::spawn(async move {
        client()
            .post(&restart_url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    });
    // Wait until the agent is down, then acknowledge: the master cannot pass it on.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let agents = operator(&m, json!({"type": "GET_AGENTS"})).await;
        if agents["get_agents"]["agents"][0]["active"] == false {
            break;
        }
        assert!(Instant::now() < deadline, "the agent never went down");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    fw.ack(&running).await;
    assert_eq!(restart.await.unwrap_or(0), 200);
    let again = update_of(&mut events, "t").await;
    assert_eq!(again["state"], "TASK_RUNNING");
    assert_eq!(
        again["uuid"], running["uuid"],
        "the same update, sent again"
    );
    fw.ack(&again).await;
}
