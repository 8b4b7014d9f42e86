//! Frameworks' own executors on the cluster's agents, end to end over HTTP: the agent
//! starts an ExecutorInfo's command with Mesos's executor environment, the executor
//! (`tests/executors/http_executor.py`, which reports what it sees to its scheduler as
//! MESSAGE calls) subscribes to `/api/v1/executor`, and its updates, messages, kills and
//! end reach the scheduler as on a Mesos 1.11 agent (`src/slave/slave.cpp`,
//! `src/slave/http.cpp`, `src/common/validation.cpp`).

mod cluster_support;

use base64::Engine as _;
use cluster_support::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn unb64(data: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_str().unwrap_or(""))
        .unwrap_or_else(|e| panic!("MESSAGE data {data} is not base64: {e}"));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn executor_script() -> String {
    format!(
        "python3 {}/tests/executors/http_executor.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A task for the framework's executor `executor_id` running `command`.
fn executor_task(id: &str, agent_id: &Value, executor_id: &str, command: &str) -> Value {
    json!({
        "name": id, "task_id": {"value": id}, "agent_id": agent_id,
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "executor": {
            "executor_id": {"value": executor_id},
            "name": "test executor",
            "command": {"value": command, "shell": true},
            "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]
        }
    })
}

/// The scheduler's side: every UPDATE is acknowledged as it arrives (as a real scheduler
/// does), and what came is kept for the test to wait on.
struct Scheduler {
    fw: Framework,
    events: Events,
    updates: Vec<Value>,
    /// MESSAGE events: their decoded data and the event.
    messages: Vec<(String, Value)>,
    failures: Vec<Value>,
}

impl Scheduler {
    async fn subscribe(master: &str) -> Scheduler {
        let (fw, events) = Framework::subscribe(master, info()).await;
        Scheduler {
            fw,
            events,
            updates: Vec::new(),
            messages: Vec::new(),
            failures: Vec::new(),
        }
    }

    /// Reads events until `found` finds something in what came, failing at the deadline.
    async fn until<T>(&mut self, what: &str, found: impl Fn(&Scheduler) -> Option<T>) -> T {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(t) = found(self) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; updates {:?}, messages {:?}",
                self.updates,
                self.messages
            );
            let Some(e) = self.events.next().await else {
                panic!("the scheduler's stream ended while waiting for {what}");
            };
            match e["type"].as_str() {
                Some("UPDATE") => {
                    let status = e["update"]["status"].clone();
                    if status.get("uuid").is_some() {
                        self.fw.ack(&status).await;
                    }
                    self.updates.push(status);
                }
                Some("MESSAGE") => self.messages.push((unb64(&e["message"]["data"]), e)),
                Some("FAILURE") => self.failures.push(e["failure"].clone()),
                _ => {}
            }
        }
    }

    async fn update(&mut self, task_id: &str, state: &str) -> Value {
        let what = format!("{task_id} in {state}");
        self.until(&what, |s| {
            s.updates
                .iter()
                .find(|u| u["task_id"]["value"] == task_id && u["state"] == state)
                .cloned()
        })
        .await
    }

    /// The first message from the executor starting with `prefix`: its rest.
    async fn message(&mut self, prefix: &str) -> String {
        self.until(&format!("a message {prefix}..."), |s| {
            s.messages
                .iter()
                .find_map(|(text, _)| text.strip_prefix(prefix).map(str::to_string))
        })
        .await
    }
}

/// A cluster, a subscribed scheduler and one task launched for the test executor.
async fn launched(tune: impl FnOnce(&mut mesos_kernel::cluster::ClusterConfig)) -> Launched {
    launched_with(tune, &executor_script()).await
}

struct Launched {
    cluster: mesos_kernel::cluster::Cluster,
    s: Scheduler,
    agent_id: Value,
}

async fn launched_with(
    tune: impl FnOnce(&mut mesos_kernel::cluster::ClusterConfig),
    command: &str,
) -> Launched {
    let cluster = start_with(tune).await;
    let mut s = Scheduler::subscribe(&cluster.master_url()).await;
    let offer = s.events.offer().await;
    let agent_id = offer["agent_id"].clone();
    let task = executor_task("t1", &agent_id, "e1", command);
    let (code, body) = s.fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    Launched {
        cluster,
        s,
        agent_id,
    }
}

#[tokio::test]
async fn executor_subscribes_with_mesos_environment_and_runs_its_task() {
    let Launched {
        cluster,
        mut s,
        agent_id,
    } = launched(|_| {}).await;
    let agent_url = cluster.agent_urls()[0].clone();

    // The environment of `executorEnvironment` in `src/slave/slave.cpp`.
    let env: Value = serde_json::from_str(&s.message("env:").await).unwrap_or(Value::Null);
    assert_eq!(env["MESOS_FRAMEWORK_ID"], s.fw.id.as_str(), "{env}");
    assert_eq!(env["MESOS_EXECUTOR_ID"], "e1", "{env}");
    assert_eq!(env["MESOS_SLAVE_ID"], agent_id["value"], "{env}");
    let endpoint = agent_url.trim_start_matches("http://");
    assert_eq!(env["MESOS_AGENT_ENDPOINT"], endpoint, "{env}");
    assert_eq!(
        env["MESOS_SLAVE_PID"],
        format!("slave(1)@{endpoint}").as_str(),
        "{env}"
    );
    assert_eq!(env["MESOS_CHECKPOINT"], "0", "{env}");
    assert_eq!(env["MESOS_HTTP_COMMAND_EXECUTOR"], "0", "{env}");
    assert_eq!(
        env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "5secs",
        "{env}"
    );
    assert_eq!(env["LIBPROCESS_PORT"], "0", "{env}");
    // Only a checkpointing framework's executors get these.
    assert!(env.get("MESOS_RECOVERY_TIMEOUT").is_none(), "{env}");
    let dir = env["MESOS_DIRECTORY"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(env["MESOS_SANDBOX"], dir.as_str(), "{env}");
    assert!(
        dir.contains("/executors/e1/runs/") && std::path::Path::new(&dir).is_dir(),
        "{dir}"
    );

    let subscribed: Value =
        serde_json::from_str(&s.message("event:SUBSCRIBED:").await).unwrap_or(Value::Null);
    assert_eq!(subscribed["executor_id"], "e1", "{subscribed}");
    assert_eq!(subscribed["framework_id"], s.fw.id.as_str(), "{subscribed}");
    assert_eq!(subscribed["agent_id"], agent_id["value"], "{subscribed}");
    assert!(dir.ends_with(subscribed["container_id"].as_str().unwrap_or("?")));

    assert_eq!(s.message("event:LAUNCH:").await, "t1");
    let running = s.update("t1", "TASK_RUNNING").await;
    assert_eq!(running["source"], "SOURCE_EXECUTOR", "{running}");
    assert_eq!(running["executor_id"]["value"], "e1", "{running}");
    assert_eq!(running["agent_id"], agent_id, "{running}");
    // The executor hears ACKNOWLEDGED for the very update the scheduler got.
    let uuid = running["uuid"].as_str().unwrap_or_default().to_string();
    let acked = s.message("event:ACKNOWLEDGED:").await;
    assert_eq!(acked, format!("t1:{uuid}"));

    // The operator API and the legacy `/state` show the executor with its command.
    let command = executor_script();
    let agent_executors = operator(&agent_url, json!({"type": "GET_EXECUTORS"})).await;
    let listed = &agent_executors["get_executors"]["executors"][0]["executor_info"];
    assert_eq!(listed["executor_id"]["value"], "e1", "{agent_executors}");
    assert_eq!(listed["command"]["value"], command.as_str(), "{listed}");
    let master = cluster.master_url();
    let master_executors = operator(&master, json!({"type": "GET_EXECUTORS"})).await;
    let listed = &master_executors["get_executors"]["executors"][0];
    assert_eq!(
        listed["executor_info"]["command"]["value"],
        command.as_str()
    );
    assert_eq!(listed["agent_id"], agent_id, "{listed}");
    let state = operator(&master, json!({"type": "GET_STATE"})).await;
    let listed = &state["get_state"]["get_executors"]["executors"][0]["executor_info"];
    assert_eq!(listed["command"]["value"], command.as_str(), "{state}");
    let legacy = get_json(&format!("{agent_url}/state")).await;
    let legacy_executor = &legacy["frameworks"][0]["executors"][0];
    assert_eq!(legacy_executor["id"], "e1", "{legacy}");
    assert_eq!(legacy_executor["tasks"][0]["id"], "t1", "{legacy_executor}");

    // MESSAGE both ways: the scheduler's reaches the executor, which echoes it back.
    let (code, body) =
        s.fw.call(json!({"type": "MESSAGE", "message": {
            "agent_id": agent_id, "executor_id": {"value": "e1"}, "data": b64("hello")}}))
            .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(s.message("echo:").await, "hello");
    let echo = s
        .messages
        .iter()
        .find(|(t, _)| t == "echo:hello")
        .map(|(_, e)| e.clone())
        .unwrap_or_default();
    assert_eq!(echo["message"]["agent_id"], agent_id, "{echo}");
    assert_eq!(echo["message"]["executor_id"]["value"], "e1", "{echo}");

    // KILL goes to the executor, which ends the task.
    let (code, body) = s
        .fw
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}, "agent_id": agent_id}}))
        .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(s.message("event:KILL:").await, "t1");
    let killed = s.update("t1", "TASK_KILLED").await;
    assert_eq!(killed["source"], "SOURCE_EXECUTOR", "{killed}");

    // SHUTDOWN of the executor: it exits on its own, and the framework hears FAILURE.
    let (code, body) =
        s.fw.call(json!({"type": "SHUTDOWN", "shutdown": {
            "executor_id": {"value": "e1"}, "agent_id": agent_id}}))
            .await;
    assert_eq!(code, 202, "{body}");
    let failure = s
        .until("the executor's FAILURE", |s| s.failures.first().cloned())
        .await;
    assert_eq!(failure["executor_id"]["value"], "e1", "{failure}");
    assert_eq!(failure["status"], 0, "{failure}");
}

#[tokio::test]
async fn executor_exit_fails_its_running_tasks() {
    let Launched {
        cluster: _cluster,
        mut s,
        agent_id,
    } = launched(|_| {}).await;
    s.update("t1", "TASK_RUNNING").await;
    let (code, body) =
        s.fw.call(json!({"type": "MESSAGE", "message": {
            "agent_id": agent_id, "executor_id": {"value": "e1"}, "data": b64("exit:3")}}))
            .await;
    assert_eq!(code, 202, "{body}");
    // `Slave::sendExecutorTerminatedStatusUpdate` without a pending termination.
    let failed = s.update("t1", "TASK_FAILED").await;
    assert_eq!(failed["source"], "SOURCE_AGENT", "{failed}");
    assert_eq!(failed["reason"], "REASON_EXECUTOR_TERMINATED", "{failed}");
    assert_eq!(failed["message"], "Executor terminated", "{failed}");
    let failure = s
        .until("the executor's FAILURE", |s| s.failures.first().cloned())
        .await;
    assert_eq!(failure["executor_id"]["value"], "e1", "{failure}");
    // The wait status of `exit 3`.
    assert_eq!(failure["status"], 3 << 8, "{failure}");
}

#[tokio::test]
async fn executor_that_ignores_shutdown_is_killed_after_its_grace_period() {
    let cluster = start_with(|c| c.executors.shutdown_grace_period = Duration::from_secs(1)).await;
    let mut s = Scheduler::subscribe(&cluster.master_url()).await;
    let offer = s.events.offer().await;
    let agent_id = offer["agent_id"].clone();
    let mut task = executor_task("t1", &agent_id, "e1", &executor_script());
    task["executor"]["command"]["environment"] = json!({"variables": [
        {"name": "HTTP_EXECUTOR_IGNORE_SHUTDOWN", "value": "1"}]});
    let (code, body) = s.fw.call(launch(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let env: Value = serde_json::from_str(&s.message("env:").await).unwrap_or(Value::Null);
    assert_eq!(
        env["MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"], "1secs",
        "{env}"
    );
    s.update("t1", "TASK_RUNNING").await;

    let asked = Instant::now();
    let (code, body) =
        s.fw.call(json!({"type": "SHUTDOWN", "shutdown": {
            "executor_id": {"value": "e1"}, "agent_id": agent_id}}))
            .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(s.message("event:SHUTDOWN").await, "");
    let failure = s
        .until("the executor's FAILURE", |s| s.failures.first().cloned())
        .await;
    assert!(
        asked.elapsed() >= Duration::from_secs(1),
        "killed after {:?}, before its grace period",
        asked.elapsed()
    );
    // Killed: the wait status of SIGKILL.
    assert_eq!(failure["status"], 9, "{failure}");
    let failed = s.update("t1", "TASK_FAILED").await;
    assert_eq!(failed["reason"], "REASON_EXECUTOR_TERMINATED", "{failed}");
}

#[tokio::test]
async fn executor_whose_tasks_were_all_killed_before_delivery_is_shut_down() {
    // The executor waits a second before it subscribes, so the KILL below finds its task
    // still queued on the agent.
    let command = format!("sleep 1; exec {}", executor_script());
    let Launched {
        cluster: _cluster,
        mut s,
        agent_id,
    } = launched_with(|_| {}, &command).await;
    let (code, body) = s
        .fw
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}, "agent_id": agent_id}}))
        .await;
    assert_eq!(code, 202, "{body}");
    // `Slave::killTask` for a task not yet sent to its executor.
    let killed = s.update("t1", "TASK_KILLED").await;
    assert_eq!(killed["source"], "SOURCE_AGENT", "{killed}");
    assert_eq!(
        killed["reason"], "REASON_TASK_KILLED_DURING_LAUNCH",
        "{killed}"
    );
    assert_eq!(
        killed["message"], "Killed before delivery to the executor",
        "{killed}"
    );
    // MESOS-8411: its SUBSCRIBE is answered with SHUTDOWN, and it exits on its own (a
    // kill after the 5 s grace period would be SIGKILL's status, 9).
    let failure = s
        .until("the executor's FAILURE", |s| s.failures.first().cloned())
        .await;
    assert_eq!(failure["status"], 0, "{failure}");
    assert!(
        s.messages.is_empty(),
        "it was never SUBSCRIBED: {:?}",
        s.messages
    );
}

/// An agent hook (`crash`, `restart?...`) on the test executor's agent; the executor's
/// process must be gone after it, and the master's update of its task (from
/// SOURCE_MASTER) is answered, with no FAILURE of the executor from the agent.
#[cfg(target_os = "linux")]
async fn executor_dies_with_its_agent(hook: &str) -> Value {
    let Launched {
        cluster,
        mut s,
        agent_id,
    } = launched(|_| {}).await;
    let pid = s.message("pid:").await;
    s.update("t1", "TASK_RUNNING").await;
    let proc_dir = format!("/proc/{pid}");
    assert!(std::path::Path::new(&proc_dir).exists(), "{proc_dir}");
    let agent = agent_id["value"].as_str().unwrap_or_default();
    let (code, body) = post(
        &format!("{}/__cluster/agents/{agent}/{hook}", cluster.master_url()),
        &json!({}),
        None,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    until("the executor's process is gone", DEADLINE, || {
        let gone = !std::path::Path::new(&proc_dir).exists();
        async move { gone }
    })
    .await;
    let lost = s
        .until("t1 lost", |s| {
            s.updates
                .iter()
                .find(|u| u["task_id"]["value"] == "t1" && u["source"] == "SOURCE_MASTER")
                .cloned()
        })
        .await;
    assert!(
        s.failures.iter().all(|f| f.get("executor_id").is_none()),
        "{:?}",
        s.failures
    );
    lost
}

/// An agent that crashes takes its frameworks' executors with it; the master loses the
/// task once the agent misses its health checks.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_crashed_agent_kills_its_executors() {
    let lost = executor_dies_with_its_agent("crash").await;
    assert_eq!(lost["state"], "TASK_LOST", "{lost}");
}

/// A restarted agent cannot recover the executors of a framework that does not
/// checkpoint: they are killed, and the master loses their tasks at the disconnection.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_restarted_agent_kills_executors_of_frameworks_that_do_not_checkpoint() {
    let lost = executor_dies_with_its_agent("restart?down=100ms").await;
    assert_eq!(lost["state"], "TASK_LOST", "{lost}");
    assert_eq!(lost["reason"], "REASON_AGENT_DISCONNECTED", "{lost}");
}

#[tokio::test]
async fn executor_that_never_subscribes_is_destroyed_and_its_task_fails() {
    let Launched {
        cluster: _cluster,
        mut s,
        ..
    } = launched_with(
        |c| c.executors.registration_timeout = Duration::from_secs(1),
        "sleep 100",
    )
    .await;
    // `Slave::registerExecutorTimeout`: the container is destroyed with this termination.
    let failed = s.update("t1", "TASK_FAILED").await;
    assert_eq!(failed["source"], "SOURCE_AGENT", "{failed}");
    assert_eq!(
        failed["reason"], "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        "{failed}"
    );
    assert_eq!(
        failed["message"], "Executor did not register within 1secs",
        "{failed}"
    );
    assert!(
        s.updates.iter().all(|u| u["state"] != "TASK_RUNNING"),
        "{:?}",
        s.updates
    );
    let failure = s
        .until("the executor's FAILURE", |s| s.failures.first().cloned())
        .await;
    assert_eq!(failure["executor_id"]["value"], "e1", "{failure}");
}

/// A raw call to the agent's executor API: status and body.
async fn executor_call(agent: &str, content_type: Option<&str>, body: &str) -> (u16, String) {
    let mut req = client().post(format!("{agent}/api/v1/executor"));
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    let resp = req
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /api/v1/executor: {e}"));
    let code = resp.status().as_u16();
    (code, resp.text().await.unwrap_or_default())
}

#[tokio::test]
async fn bad_executor_calls_get_mesos_answers() {
    // An executor that never subscribes: it stays REGISTERING for the whole test.
    let Launched {
        cluster,
        s,
        agent_id: _,
    } = launched_with(|_| {}, "sleep 100").await;
    let agent = cluster.agent_urls()[0].clone();
    let fid = s.fw.id.clone();
    let json_ct = Some("application/json");
    let uuid = base64::engine::general_purpose::STANDARD.encode([9u8; 16]);
    let update = |executor: &str, status: Value| {
        json!({"type": "UPDATE", "framework_id": {"value": fid}, "executor_id": {"value": executor},
               "update": {"status": status}})
        .to_string()
    };
    let running = json!({"task_id": {"value": "t1"}, "state": "TASK_RUNNING",
                         "source": "SOURCE_EXECUTOR", "uuid": uuid});

    let resp = client()
        .get(format!("{agent}/api/v1/executor"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET: {e}"));
    assert_eq!(resp.status().as_u16(), 405);

    let cases: Vec<(Option<&str>, String, u16, String)> = vec![
        (
            None,
            "{}".into(),
            400,
            "Expecting 'Content-Type' to be present".into(),
        ),
        (
            Some("text/plain"),
            "{}".into(),
            415,
            "Expecting 'Content-Type' of application/json or application/x-protobuf".into(),
        ),
        (
            json_ct,
            json!({"type": "SUBSCRIBE", "subscribe": {}}).to_string(),
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: executor_id, framework_id".into(),
        ),
        (
            json_ct,
            json!({"framework_id": {"value": fid}, "executor_id": {"value": "e1"}}).to_string(),
            400,
            "Failed to validate Executor::Call: Expecting 'type' to be present".into(),
        ),
        (
            json_ct,
            json!({"type": "SUBSCRIBE", "framework_id": {"value": fid}, "executor_id": {"value": "e1"}})
                .to_string(),
            400,
            "Failed to validate Executor::Call: Expecting 'subscribe' to be present".into(),
        ),
        (
            json_ct,
            update("e1", {
                let mut s = running.clone();
                s["source"] = json!("SOURCE_MASTER");
                s
            }),
            400,
            format!("Failed to validate Executor::Call: Received Call from executor e1 of framework {fid} with invalid source, expecting 'SOURCE_EXECUTOR'"),
        ),
        (
            json_ct,
            update("e1", {
                let mut s = running.clone();
                s["uuid"] = json!(b64("short"));
                s
            }),
            400,
            "Failed to validate Executor::Call: Not a valid UUID".into(),
        ),
        (
            json_ct,
            json!({"type": "SUBSCRIBE", "framework_id": {"value": "nope"}, "executor_id": {"value": "e1"},
                   "subscribe": {}})
            .to_string(),
            400,
            "Framework cannot be found".into(),
        ),
        (
            json_ct,
            update("e2", running.clone()),
            400,
            "Executor cannot be found".into(),
        ),
        // Before SUBSCRIBE, only SUBSCRIBE is taken.
        (
            json_ct,
            update("e1", running.clone()),
            403,
            "Executor is not subscribed".into(),
        ),
        // Mesos answers HEARTBEAT before looking anything up.
        (
            json_ct,
            json!({"type": "HEARTBEAT", "framework_id": {"value": "x"}, "executor_id": {"value": "y"}})
                .to_string(),
            202,
            String::new(),
        ),
    ];
    for (ct, body, code, message) in cases {
        let (got, text) = executor_call(&agent, ct, &body).await;
        assert_eq!((got, text.as_str()), (code, message.as_str()), "{body}");
    }
    // The task still waits for its executor: none of the above reached it.
    let state = operator(&cluster.master_url(), json!({"type": "GET_TASKS"})).await;
    assert_eq!(
        state["get_tasks"]["tasks"][0]["state"], "TASK_STAGING",
        "{state}"
    );
}
