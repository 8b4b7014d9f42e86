//! Master failover that keeps tasks, with ZooKeeper and two `mesos-kernel cluster`
//! processes: the standby's agent registers with the leader and runs a task for it; the
//! leader is killed; the new leader adopts what its agent runs, lists the task in GET_TASKS,
//! the framework re-subscribes and finds it (reconciliation answers from the agent's
//! report) and kills it through the new leader. Skipped without `MESOS_KERNEL_ZK`.

mod cluster_support;

use cluster_support::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Process {
    child: Child,
    master: String,
    agents: Vec<String>,
}

impl Process {
    fn start(dir: &Path, name: &str, zk: &str) -> Process {
        let stderr = dir.join(format!("{name}.stderr"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-kernel"))
            .args(["cluster", "--port", "0", "--agents", "1", "--zk", zk])
            .args([
                "--zk-session-timeout",
                "2secs",
                "--heartbeat-interval",
                "500ms",
            ])
            .args(["--kill-grace", "200ms"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start the cluster");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut master, mut agents) = (String::new(), Vec::new());
        for line in lines.by_ref() {
            let line = line.expect("cluster stdout");
            if let Some(url) = line.strip_prefix("mesos-kernel cluster: master ") {
                master = url.to_string();
            } else if let Some(rest) = line.strip_prefix("mesos-kernel cluster: agent ") {
                agents.push(rest.split(' ').nth(1).unwrap_or("").to_string());
            } else if line.starts_with("mesos-kernel cluster: work dir") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        assert!(
            !master.is_empty(),
            "no master URL: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        Process {
            child,
            master,
            agents,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_of(url: &str) -> u64 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mk-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[tokio::test]
async fn a_task_on_a_surviving_agent_outlives_the_leader() {
    let Ok(zk) = std::env::var("MESOS_KERNEL_ZK") else {
        eprintln!("skipped: set MESOS_KERNEL_ZK=127.0.0.1:PORT to run against a real ZooKeeper (.ci/run does)");
        return;
    };
    let dir = temp_dir("failover");
    let url = format!(
        "zk://{zk}/mesos-kernel-failover-{}/mesos",
        uuid::Uuid::new_v4()
    );
    let mut first = Process::start(&dir, "first", &url);
    let a = first.master.clone();
    until("the first master leads", Duration::from_secs(20), || {
        let a = a.clone();
        async move { elected(&a).await == Some(true) }
    })
    .await;
    let second = Process::start(&dir, "second", &url);
    let b = second.master.clone();
    // The standby's agent follows the leader: the leader offers both agents.
    until(
        "both agents are registered with the leader",
        Duration::from_secs(20),
        || {
            let a = a.clone();
            async move {
                let r = post(&format!("{a}/api/v1"), &json!({"type": "GET_AGENTS"}), None).await;
                let v: Value = serde_json::from_str(&r.1).unwrap_or_default();
                v["get_agents"]["agents"].as_array().map_or(0, Vec::len) == 2
            }
        },
    )
    .await;
    assert_eq!(elected(&b).await, Some(false));
    let survivor_port = port_of(&second.agents[0]);

    let info = json!({"user": "tester", "name": "failover", "checkpoint": true,
        "failover_timeout": 300.0, "capabilities": [{"type": "PARTITION_AWARE"}]});
    let (fw, mut events) = Framework::subscribe(&a, info.clone()).await;
    let agents = operator(&a, json!({"type": "GET_AGENTS"})).await;
    let survivor = agents["get_agents"]["agents"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["agent_info"]["port"] == survivor_port))
        .map(|x| x["agent_info"]["id"].clone())
        .unwrap_or_default();
    let lost = agents["get_agents"]["agents"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["agent_info"]["id"] != survivor))
        .map(|x| x["agent_info"]["id"].clone())
        .unwrap_or_default();
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == survivor {
            break o;
        }
    };
    let (code, body) = fw
        .call(launch(
            &offer,
            vec![command_task("kept", &survivor, "sleep 60")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "kept", "TASK_RUNNING").await;
    drop(events);

    // The leader dies with its own agent.
    let _ = first.child.kill();
    let _ = first.child.wait();
    until("the standby leads", Duration::from_secs(30), || {
        let b = b.clone();
        async move { elected(&b).await == Some(true) }
    })
    .await;
    // The new leader knows the task from its agent, before the framework is back.
    let deadline = Instant::now() + DEADLINE;
    let task = loop {
        let tasks = operator(&b, json!({"type": "GET_TASKS"})).await;
        let found = tasks["get_tasks"]["tasks"]
            .as_array()
            .and_then(|l| l.iter().find(|t| t["task_id"]["value"] == "kept").cloned());
        if let Some(t) = found {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "the new leader never listed the task: {tasks}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(task["state"], "TASK_RUNNING", "{task}");
    assert_eq!(task["agent_id"], survivor);
    // The registry (kept in ZooKeeper) admitted the dead leader's agent: the new leader
    // lists it as recovered, not registered, as `Master::_recover` does until it returns.
    let agents = operator(&b, json!({"type": "GET_AGENTS"})).await;
    let ids = |key: &str, id: &str| -> Vec<Value> {
        agents["get_agents"][key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                if id.is_empty() {
                    x["id"].clone()
                } else {
                    x[id]["id"].clone()
                }
            })
            .collect()
    };
    assert_eq!(
        ids("agents", "agent_info"),
        vec![survivor.clone()],
        "{agents}"
    );
    assert_eq!(ids("recovered_agents", ""), vec![lost.clone()], "{agents}");
    assert!(agents["get_agents"]["recovered_agents"][0]["hostname"].is_string());
    let slaves = get_json(&format!("{b}/master/slaves")).await;
    assert_eq!(
        slaves["recovered_slaves"][0]["id"], lost["value"],
        "{slaves}"
    );
    assert_eq!(slaves["slaves"].as_array().map(Vec::len), Some(1));
    assert_eq!(task["framework_id"]["value"], fw.id);

    // The framework re-subscribes with its id and finds its task.
    let mut again = info;
    again["id"] = json!({"value": fw.id});
    let (fw, mut events) = Framework::subscribe(&b, again).await;
    let (code, _) = fw
        .call(
            json!({"type": "RECONCILE", "reconcile": {"tasks": [{"task_id": {"value": "kept"}}]}}),
        )
        .await;
    assert_eq!(code, 202);
    let answer = events.update_for(&fw, "kept").await;
    assert_eq!(answer["state"], "TASK_RUNNING", "{answer}");
    assert_eq!(answer["reason"], "REASON_RECONCILIATION");
    assert_eq!(answer["message"], "Reconciliation: Latest task state");
    // And kills it through the new leader.
    let (code, body) = fw
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "kept"}}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let killed = until_state(&mut events, &fw, "kept", "TASK_KILLED").await;
    assert_eq!(
        killed["message"],
        "Command terminated with signal Terminated"
    );
    drop(second);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_leader_notices_when_a_standby_process_and_its_agent_die() {
    let Ok(zk) = std::env::var("MESOS_KERNEL_ZK") else {
        eprintln!("skipped: set MESOS_KERNEL_ZK=127.0.0.1:PORT to run against a real ZooKeeper (.ci/run does)");
        return;
    };
    let dir = temp_dir("standby-dies");
    let url = format!(
        "zk://{zk}/mesos-kernel-failover-{}/mesos",
        uuid::Uuid::new_v4()
    );
    let first = Process::start(&dir, "first", &url);
    let a = first.master.clone();
    until("the first master leads", Duration::from_secs(20), || {
        let a = a.clone();
        async move { elected(&a).await == Some(true) }
    })
    .await;
    let mut second = Process::start(&dir, "second", &url);
    until(
        "both agents are registered with the leader",
        Duration::from_secs(20),
        || {
            let a = a.clone();
            async move {
                let r = post(&format!("{a}/api/v1"), &json!({"type": "GET_AGENTS"}), None).await;
                let v: Value = serde_json::from_str(&r.1).unwrap_or_default();
                v["get_agents"]["agents"].as_array().map_or(0, Vec::len) == 2
            }
        },
    )
    .await;
    let survivor_port = port_of(&second.agents[0]);
    let info = json!({"user": "tester", "name": "aware",
        "capabilities": [{"type": "PARTITION_AWARE"}]});
    let (fw, mut events) = Framework::subscribe(&a, info).await;
    let agents = operator(&a, json!({"type": "GET_AGENTS"})).await;
    let doomed = agents["get_agents"]["agents"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["agent_info"]["port"] == survivor_port))
        .map(|x| x["agent_info"]["id"].clone())
        .unwrap_or_default();
    let offer = loop {
        let o = events.offer().await;
        if o["agent_id"] == doomed {
            break o;
        }
    };
    let (code, body) = fw
        .call(launch(
            &offer,
            vec![command_task("doomed", &doomed, "sleep 60")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    until_state(&mut events, &fw, "doomed", "TASK_RUNNING").await;
    // The standby process dies with its agent; the leader's health checks notice.
    let _ = second.child.kill();
    let _ = second.child.wait();
    let lost = events.update_for(&fw, "doomed").await;
    assert_eq!(lost["state"], "TASK_UNREACHABLE", "{lost}");
    assert_eq!(lost["message"], "health check timed out");
    let agents = operator(&a, json!({"type": "GET_AGENTS"})).await;
    assert_eq!(
        agents["get_agents"]["agents"]
            .as_array()
            .map_or(0, Vec::len),
        1,
        "{agents}"
    );
    drop(first);
    let _ = std::fs::remove_dir_all(dir);
}
