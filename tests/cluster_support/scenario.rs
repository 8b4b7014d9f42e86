//! State comparable to what the recorded Mesos answers show, built in a seeded embedded
//! cluster over HTTP only, and the cluster's answers to every request the recordings
//! answer. The cluster: three agents, a name and a fault domain, HTTP authentication. The
//! state: a Marathon-like framework (that fails over once) with command tasks that run,
//! finish, fail and are killed, Docker tasks that run and are killed, a task group (a pod)
//! on the second agent; a second framework torn down; a multi-role framework with a
//! suppressed role and offer constraints that loses its connection; the first agent
//! restarted (it recovers its tasks and re-registers) and the third, with a Marathon task,
//! partitioned from the master until it is unreachable, then healed (it re-registers:
//! AGENT_ADDED, and TASK_ADDED for the task it brings back); an operator
//! SUBSCRIBE stream open from the start; with ZooKeeper, an agent of a predecessor master
//! recovered from the registry that never re-registers. Schedulers acknowledge every update
//! as it comes. A storage framework reserves resources (with labels), creates a persistent
//! volume and runs a task on it and a task group whose executor uses reserved resources;
//! the agents have resources statically reserved to a role no framework has.
#![allow(dead_code)]

use super::cluster_support::{authed, client, post, scalar, Events, Framework, DEADLINE};
use super::fixtures::{Endpoint, Process};
use mesos_kernel::cluster::Cluster;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// The cluster's answers, by endpoint (several answers of an endpoint are united).
pub type Answers = BTreeMap<Endpoint, Vec<Value>>;

/// What the scenario built, for asking about it.
pub struct Built {
    pub master: String,
    pub agents: Vec<String>,
    pub agent_ids: Vec<String>,
    pub framework_ids: Vec<String>,
    pub task_ids: Vec<String>,
    /// A sandbox (the finished command task's run directory, by its virtual path) and
    /// the agent it is on.
    pub sandbox: String,
    pub sandbox_agent: String,
    /// Every event the operator stream carried, in order.
    pub operator_events: Vec<Value>,
}

/// The principal every request authenticates as (`--credentials`).
pub const PRINCIPAL: &str = "conformance";
pub const SECRET: &str = "not-a-secret";

/// The cluster the scenario runs in.
pub fn configure(config: &mut mesos_kernel::cluster::ClusterConfig, credentials: &std::path::Path) {
    config.agents = 3;
    // A partitioned agent is unreachable after three missed health checks, soon.
    config.agent_ping_timeout = std::time::Duration::from_millis(200);
    config.max_agent_ping_timeouts = 3;
    config.agent.resources =
        Some("cpus:2;mem:496;cpus(slave_public):0.5;mem(slave_public):64".into());
    config.cluster_name = Some("conformance".into());
    config.domain = Some(mesos_kernel::cluster::flags::Domain {
        region: "us-east-1".into(),
        zone: "us-east-1a".into(),
    });
    let creds = std::fs::write(
        credentials,
        json!({"credentials": [{"principal": PRINCIPAL, "secret": SECRET}]}).to_string(),
    )
    .map_err(|e| e.to_string())
    .and_then(|()| mesos_kernel::cluster::Credentials::load(credentials).map_err(|e| e.to_string()))
    .unwrap_or_else(|e| panic!("credentials file: {e}"));
    config.credentials = Some(std::sync::Arc::new(creds));
}

fn marathon_info() -> Value {
    json!({
        "user": "root",
        "name": "marathon",
        "hostname": "127.0.0.1",
        "webui_url": "http://127.0.0.1:8080",
        "principal": PRINCIPAL,
        "role": "*",
        "checkpoint": true,
        "failover_timeout": 604800.0,
        "capabilities": [
            {"type": "PARTITION_AWARE"},
            {"type": "TASK_KILLING_STATE"},
            {"type": "GPU_RESOURCES"}
        ],
        "labels": {"labels": [{"key": "owner", "value": "ops"}]}
    })
}

fn batch_info() -> Value {
    json!({
        "user": "nobody",
        "name": "batch",
        "hostname": "127.0.0.1",
        "principal": PRINCIPAL,
        "role": "batch",
        "failover_timeout": 0.0,
        "capabilities": [{"type": "TASK_KILLING_STATE"}]
    })
}

fn storage_info() -> Value {
    json!({
        "user": "nobody",
        "name": "storage",
        "hostname": "127.0.0.1",
        "principal": PRINCIPAL,
        "role": "data",
        "failover_timeout": 3600.0,
        "capabilities": [{"type": "PARTITION_AWARE"}]
    })
}

/// A resource dynamically reserved to `data` by the scenario's principal, with labels.
fn reserved(name: &str, v: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": v},
           "reservations": [{"type": "DYNAMIC", "role": "data", "principal": PRINCIPAL,
                             "labels": labels(&[("owner", "storage")])}]})
}

fn data_volume() -> Value {
    let mut v = reserved("disk", 100.0);
    v["disk"] = json!({"persistence": {"id": "db-data", "principal": PRINCIPAL},
                       "volume": {"mode": "RW", "container_path": "data"}});
    v
}

/// Reserves on the second agent (the one the scenario neither restarts nor partitions),
/// creates a volume, runs a task on it and a task group whose executor uses reserved
/// resources, in one ACCEPT. What is left is refused for long, so other frameworks get it.
async fn run_storage(master: &str, agent_ids: &[String]) -> Scheduler {
    let mut s = Scheduler::subscribe(master, storage_info()).await;
    let offer = s.offer_on(&agent_ids[1]).await;
    let agent = offer["agent_id"].clone();
    let db = json!({"name": "db", "task_id": {"value": "db"}, "agent_id": agent,
        "command": {"value": "sleep 600"},
        "resources": [reserved("cpus", 0.1), reserved("mem", 32.0), data_volume()]});
    let group = json!({"type": "LAUNCH_GROUP", "launch_group": {
        "executor": {
            "type": "DEFAULT",
            "executor_id": {"value": "backup-executor"},
            "framework_id": {"value": s.fw.id},
            "name": "backup",
            "resources": [reserved("cpus", 0.1), reserved("mem", 32.0)]
        },
        "task_group": {"tasks": [{"name": "backup", "task_id": {"value": "backup"},
            "agent_id": agent, "command": {"value": "sleep 600"},
            "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]}]}
    }});
    s.call(
        json!({"type": "ACCEPT", "accept": {"offer_ids": [offer["id"]], "operations": [
        {"type": "RESERVE", "reserve": {"resources": [
            reserved("cpus", 0.2), reserved("mem", 64.0), reserved("disk", 100.0)]}},
        {"type": "CREATE", "create": {"volumes": [data_volume()]}},
        launch(vec![db]),
        group,
    ], "filters": {"refuse_seconds": 3600.0}}}),
    )
    .await;
    s.until("the storage tasks run", |st| {
        ["db", "backup"]
            .iter()
            .all(|t| st.get(*t).map(String::as_str) == Some("TASK_RUNNING"))
    })
    .await;
    s
}

/// A multi-role framework that wants no offers for `ops` yet and offers for `web` only
/// from agents of rack r2d2 in a zone.
fn web_subscribe() -> Value {
    let rack = json!({"selector": {"attribute_name": "rack"},
                      "predicate": {"text_equals": {"value": "r2d2"}}});
    let zone = json!({"selector": {"pseudoattribute_type": "ZONE"},
                      "predicate": {"exists": {}}});
    json!({
        "framework_info": {
            "user": "nobody",
            "name": "web services",
            "hostname": "127.0.0.1",
            "principal": PRINCIPAL,
            "roles": ["web", "ops"],
            "failover_timeout": 3600.0,
            "capabilities": [{"type": "MULTI_ROLE"}, {"type": "RESERVATION_REFINEMENT"}]
        },
        "suppressed_roles": ["ops"],
        "offer_constraints": {"role_constraints": {"web": {"groups": [
            {"attribute_constraints": [rack, zone]}
        ]}}}
    })
}

fn labels(pairs: &[(&str, &str)]) -> Value {
    let list: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    json!({ "labels": list })
}

fn ports(port: u64) -> Value {
    json!({"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": port, "end": port}]}})
}

/// A command task as Marathon sends one: labels, discovery info, a health check.
fn command_task(id: &str, agent: &Value, cmd: &str) -> Value {
    json!({
        "name": format!("{id}.app"),
        "task_id": {"value": id},
        "agent_id": agent,
        "command": {"shell": true, "value": cmd, "user": "nobody",
                    "environment": {"variables": [{"name": "APP", "value": id}]}},
        "container": {
            "type": "MESOS",
            "network_infos": [{"name": "dcos",
                               "labels": labels(&[("network", "overlay")]),
                               "ip_addresses": [{"protocol": "IPv4"}],
                               "port_mappings": [{"host_port": 9200, "container_port": 80, "protocol": "tcp"}]}]
        },
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "labels": labels(&[("app", id)]),
        "discovery": {"visibility": "FRAMEWORK", "name": format!("{id}.marathon"),
                      "ports": {"ports": []}},
        "health_check": {"type": "COMMAND", "command": {"value": "true"},
                         "delay_seconds": 0.0, "interval_seconds": 1.0,
                         "timeout_seconds": 20.0, "consecutive_failures": 3,
                         "grace_period_seconds": 300.0}
    })
}

/// A Docker task as Marathon sends one, with a bridged port.
fn docker_task(id: &str, agent: &Value, port: u64) -> Value {
    json!({
        "name": format!("{id}.web"),
        "task_id": {"value": id},
        "agent_id": agent,
        "command": {"shell": false},
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": "nginx:1.25",
                "network": "BRIDGE",
                "privileged": false,
                "force_pull_image": true,
                "parameters": [{"key": "label", "value": format!("task={id}")}],
                "port_mappings": [{"host_port": port, "container_port": 80, "protocol": "tcp"}]
            },
            "volumes": [{"container_path": "/data", "host_path": "/tmp/data", "mode": "RW"}]
        },
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0), ports(port)],
        "labels": labels(&[("app", "web"), ("VIP_0", "/web:80")]),
        "discovery": {
            "visibility": "FRAMEWORK",
            "name": format!("{id}.web.marathon"),
            "ports": {"ports": [{
                "number": port, "name": "http", "protocol": "tcp", "visibility": "CLUSTER",
                "labels": labels(&[("VIP_0", "/web:80")])
            }]}
        },
        "health_check": {"type": "HTTP",
                         "http": {"scheme": "http", "port": port, "path": "/", "protocol": "IPv4"},
                         "delay_seconds": 15.0, "interval_seconds": 10.0,
                         "timeout_seconds": 20.0, "consecutive_failures": 3,
                         "grace_period_seconds": 300.0}
    })
}

/// A task of a pod: a Mesos container with an image, on a named network.
fn pod_task(id: &str, agent: &Value, cmd: &str) -> Value {
    json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": agent,
        "command": {"shell": true, "value": cmd},
        "container": {
            "type": "MESOS",
            "mesos": {"image": {"type": "DOCKER", "docker": {"name": "alpine:3.19"}, "cached": true}},
            "linux_info": {"share_pid_namespace": false}
        },
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "labels": labels(&[("pod", "p1")]),
        "check": {"type": "COMMAND", "command": {"command": {"value": "true"}},
                  "delay_seconds": 0.0, "interval_seconds": 1.0, "timeout_seconds": 20.0}
    })
}

/// A task with an ExecutorInfo of its own (a framework's executor with a command).
fn custom_executor_task(id: &str, agent: &Value) -> Value {
    let script = format!(
        "python3 {}/tests/executors/http_executor.py",
        env!("CARGO_MANIFEST_DIR")
    );
    json!({
        "name": id, "task_id": {"value": id}, "agent_id": agent,
        "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
        "executor": {
            "executor_id": {"value": "custom-executor"},
            "name": "marathon's own executor",
            "command": {"shell": true, "value": script},
            "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]
        }
    })
}

/// A scheduler's stream: every update acknowledged as it arrives, the latest state of each
/// task kept, offers kept until used or rescinded.
struct Scheduler {
    fw: Framework,
    events: Events,
    states: HashMap<String, String>,
    offers: Vec<Value>,
    /// Offers declined before their OFFERS event was read: never used.
    declined: Vec<Value>,
}

impl Scheduler {
    async fn subscribe(master: &str, info: Value) -> Scheduler {
        let (fw, events) = Framework::subscribe(master, info).await;
        Scheduler {
            fw,
            events,
            states: HashMap::new(),
            offers: Vec::new(),
            declined: Vec::new(),
        }
    }

    /// Handles one event.
    async fn step(&mut self) {
        let Some(e) = self.events.next().await else {
            panic!("the scheduler stream of {} ended", self.fw.id);
        };
        match e["type"].as_str() {
            Some("UPDATE") => {
                let s = &e["update"]["status"];
                if s.get("uuid").is_some() {
                    self.fw.ack(s).await;
                }
                let task = s["task_id"]["value"].as_str().unwrap_or_default();
                let state = s["state"].as_str().unwrap_or_default();
                self.states.insert(task.to_string(), state.to_string());
                // What health checks and checks said, under keys of their own.
                if let Some(healthy) = s["healthy"].as_bool() {
                    self.states
                        .insert(format!("{task}#healthy"), healthy.to_string());
                }
                if s["reason"] == "REASON_TASK_CHECK_STATUS_UPDATED" {
                    self.states
                        .insert(format!("{task}#check"), s["check_status"].to_string());
                }
            }
            Some("OFFERS") => {
                let offers = e["offers"]["offers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let declined = &self.declined;
                self.offers
                    .extend(offers.into_iter().filter(|o| !declined.contains(&o["id"])));
            }
            Some("RESCIND") => {
                let gone = &e["rescind"]["offer_id"];
                self.offers.retain(|o| &o["id"] != gone);
            }
            _ => {}
        }
    }

    /// Runs the stream until `done` holds of the task states.
    async fn until(&mut self, what: &str, done: impl Fn(&HashMap<String, String>) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !done(&self.states) {
            assert!(
                Instant::now() < deadline,
                "{what}: not within {DEADLINE:?}; task states {:?}",
                self.states
            );
            self.step().await;
        }
    }

    /// An outstanding offer on the agent, waiting for one if need be.
    async fn offer_on(&mut self, agent_id: &str) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(pos) = self
                .offers
                .iter()
                .position(|o| o["agent_id"]["value"] == agent_id)
            {
                return self.offers.remove(pos);
            }
            assert!(
                Instant::now() < deadline,
                "no offer on {agent_id} within {DEADLINE:?}"
            );
            self.step().await;
        }
    }

    async fn call(&self, call: Value) {
        let kind = call["type"].clone();
        let (code, body) = self.fw.call(call).await;
        assert_eq!(code, 202, "{kind}: {body}");
    }

    fn state(&self, task: &str) -> &str {
        self.states.get(task).map(String::as_str).unwrap_or("")
    }
}

fn accept(offer: &Value, operations: Vec<Value>) -> Value {
    json!({"type": "ACCEPT", "accept": {
        "offer_ids": [offer["id"]],
        "operations": operations,
        "filters": {"refuse_seconds": 0.0}
    }})
}

fn launch(tasks: Vec<Value>) -> Value {
    json!({"type": "LAUNCH", "launch": {"task_infos": tasks}})
}

const COMMAND_TASKS: &[(&str, &str)] = &[
    ("cmd-finished", "echo hello from the conformance test"),
    ("cmd-failed", "exit 3"),
    ("cmd-running", "sleep 600"),
    ("cmd-killed", "sleep 600"),
];
const DOCKER_TASKS: &[(&str, u64)] = &[("docker-running", 9000), ("docker-killed", 9001)];
/// Marathon's task on the third agent, which is partitioned and healed.
const PARTITIONED_TASK: &str = "cmd-partitioned";
/// A task of Marathon's own executor (`tests/executors/http_executor.py`) on the second
/// agent: the executor subscribes to the agent's executor API and reports it running.
const CUSTOM_TASK: &str = "custom-running";
/// A pod's tasks: one runs, one is done at once.
const POD_TASKS: &[(&str, &str)] = &[("pod-a", "sleep 600"), ("pod-b", "true")];

/// With ZooKeeper (`MESOS_KERNEL_ZK`, as CI runs it), the cluster is one its master came
/// back to: a predecessor master at the same `--zk` path admitted an agent that never
/// returns, so the registry the cluster keeps in ZooKeeper has it and the elected master
/// lists it as recovered (`recovered_agents`, `recovered_slaves`), as a Mesos master does
/// after a failover until the agent re-registers. The `--zk` URL for the cluster; `None`
/// (and nothing recovered) without ZooKeeper.
pub async fn predecessor() -> Option<String> {
    let hosts = std::env::var("MESOS_KERNEL_ZK").ok()?;
    let path = format!("/mesos-kernel-conformance-{}/mesos", uuid::Uuid::new_v4());
    let url = format!("zk://{hosts}{path}");
    // Its own seed: its agent's id differs from the cluster's.
    let before = super::cluster_support::start_with(|config| {
        config.zk = Some(url.clone());
        config.seed = Some(7);
    })
    .await;
    let agent = super::cluster_support::get_json(&format!("{}/state", before.agent_urls()[0]))
        .await["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let zk = zookeeper_client::Client::connect(&hosts)
        .await
        .unwrap_or_else(|e| panic!("ZooKeeper at {hosts}: {e}"));
    let deadline = Instant::now() + DEADLINE;
    loop {
        let registry = zk.get_data(&format!("{path}/registry")).await;
        if registry.is_ok_and(|(data, _)| String::from_utf8_lossy(&data).contains(&agent)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the predecessor never wrote its agent to the registry within {DEADLINE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    before.shutdown().await;
    Some(url)
}

/// Waits until the cluster's master leads and, with a predecessor, has recovered its agent.
pub async fn until_elected(c: &Cluster, recovering: bool) {
    let master = c.master_url();
    let deadline = Instant::now() + DEADLINE;
    loop {
        let metrics = super::cluster_support::get_json(&format!("{master}/metrics/snapshot")).await;
        if metrics["master/elected"] == 1.0 {
            let (_, body) = post(
                &format!("{master}/api/v1"),
                &json!({"type": "GET_AGENTS"}),
                None,
            )
            .await;
            let agents: Value = serde_json::from_str(&body).unwrap_or_default();
            let recovered = agents["get_agents"]["recovered_agents"].is_array();
            if recovered == recovering {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the master did not lead (and recover) within {DEADLINE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Builds the state and reads every operator event it caused.
pub async fn build(c: &Cluster) -> Built {
    let master = c.master_url();
    let mut ops = Events::open(&format!("{master}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    let mut a = Scheduler::subscribe(&master, marathon_info()).await;
    let fid = a.fw.id.clone();
    let agents = c.agent_urls();
    let mut agent_ids = Vec::new();
    for url in &agents {
        let state = super::cluster_support::get_json(&format!("{url}/state")).await;
        agent_ids.push(state["id"].as_str().unwrap_or_default().to_string());
    }

    let offer = a.offer_on(&agent_ids[0]).await;
    let agent0 = offer["agent_id"].clone();
    let mut tasks: Vec<Value> = COMMAND_TASKS
        .iter()
        .map(|(id, cmd)| command_task(id, &agent0, cmd))
        .collect();
    tasks.extend(
        DOCKER_TASKS
            .iter()
            .map(|(id, port)| docker_task(id, &agent0, *port)),
    );
    a.call(accept(&offer, vec![launch(tasks)])).await;

    let offer = a.offer_on(&agent_ids[1]).await;
    let agent1 = offer["agent_id"].clone();
    let group = json!({"type": "LAUNCH_GROUP", "launch_group": {
        "executor": {
            "type": "DEFAULT",
            "executor_id": {"value": "pod-executor"},
            "framework_id": {"value": fid},
            "name": "pod p1",
            "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)],
            "container": {"type": "MESOS", "network_infos": [{
                "name": "dcos",
                "labels": labels(&[("network", "overlay")]),
                "port_mappings": [{"host_port": 9100, "container_port": 8080, "protocol": "tcp"}]
            }]},
            "labels": labels(&[("pod", "p1")])
        },
        "task_group": {"tasks": POD_TASKS.iter().map(|(id, cmd)| pod_task(id, &agent1, cmd)).collect::<Vec<_>>()}
    }});
    let custom = custom_executor_task(CUSTOM_TASK, &agent1);
    a.call(accept(&offer, vec![group, launch(vec![custom])]))
        .await;
    // A task on the third agent, which the partition below takes away and gives back.
    let offer = a.offer_on(&agent_ids[2]).await;
    let cut_off = command_task(PARTITIONED_TASK, &offer["agent_id"], "sleep 600");
    a.call(accept(&offer, vec![launch(vec![cut_off])])).await;

    let running = [
        "cmd-running",
        "cmd-killed",
        "docker-running",
        "docker-killed",
    ];
    a.until("tasks started", |s| {
        let is = |t: &str, state: &str| s.get(t).map(String::as_str) == Some(state);
        is("cmd-finished", "TASK_FINISHED")
            && is("cmd-failed", "TASK_FAILED")
            && running.iter().all(|t| is(t, "TASK_RUNNING"))
            && is(PARTITIONED_TASK, "TASK_RUNNING")
            && is("pod-a", "TASK_RUNNING")
            && is("pod-b", "TASK_FINISHED")
            && is(CUSTOM_TASK, "TASK_RUNNING")
            && is("cmd-running#healthy", "true")
            && s.contains_key("pod-a#check")
    })
    .await;
    for task in ["cmd-killed", "docker-killed"] {
        a.call(json!({"type": "KILL", "kill": {"task_id": {"value": task}, "agent_id": agent0}}))
            .await;
    }
    a.until("tasks killed", |s| {
        ["cmd-killed", "docker-killed"]
            .iter()
            .all(|t| s.get(*t).map(String::as_str) == Some("TASK_KILLED"))
    })
    .await;

    // Marathon fails over: a new stream for the same framework (FRAMEWORK_UPDATED).
    let mut failed_over = marathon_info();
    failed_over["id"] = json!({ "value": fid });
    let old = a;
    let mut a = Scheduler::subscribe(&master, failed_over).await;
    a.states = old.states;
    drop(old.events);
    a.call(json!({"type": "SUPPRESS", "suppress": {}})).await;
    // Its outstanding offers go back (suppressing keeps them), so the next framework
    // gets offers; the master's state names them all, read or not.
    let state = super::cluster_support::get_json(&format!("{master}/master/state")).await;
    let held: Vec<Value> = state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == fid.as_str())
        .flat_map(|f| f["offers"].as_array().cloned().unwrap_or_default())
        .map(|o| json!({ "value": o["id"] }))
        .collect();
    a.offers.clear();
    a.declined = held.clone();
    if !held.is_empty() {
        a.call(json!({"type": "DECLINE", "decline": {"offer_ids": held}}))
            .await;
    }

    // A second framework runs a task and is torn down (FRAMEWORK_REMOVED).
    let mut b = Scheduler::subscribe(&master, batch_info()).await;
    let offer = b.offer_on(&agent_ids[0]).await;
    let task = json!({"name": "batch-job", "task_id": {"value": "batch-job"}, "agent_id": offer["agent_id"],
        "command": {"value": "sleep 600"}, "resources": [scalar("cpus", 0.1), scalar("mem", 32.0)]});
    b.call(accept(&offer, vec![launch(vec![task])])).await;
    b.until("the batch job runs", |s| {
        s.get("batch-job").map(String::as_str) == Some("TASK_RUNNING")
    })
    .await;
    let bid = b.fw.id.clone();
    b.call(json!({"type": "TEARDOWN"})).await;

    // A storage framework reserves, creates a volume and runs tasks (it stays connected
    // until the scenario is built, then disconnects and stays, as `web` below).
    let storage = run_storage(&master, &agent_ids).await;
    let storage_id = storage.fw.id.clone();

    // Marathon wants offers again, so some are outstanding when the state is read.
    a.call(json!({"type": "REVIVE", "revive": {}})).await;

    // A multi-role framework subscribes and loses its connection (it stays, inactive).
    let call = json!({"type": "SUBSCRIBE", "subscribe": web_subscribe()});
    let mut web = Events::open(&format!("{master}/api/v1/scheduler"), &call).await;
    let web_id = web.next_of("SUBSCRIBED").await["subscribed"]["framework_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    drop(web);

    // The first agent restarts: Marathon checkpoints, so its tasks are recovered and the
    // agent re-registers with the same id (`reregistered_time`).
    hook(&master, &agent_ids[0], "restart?down=100ms").await;
    // The third is cut off until the master marks it unreachable, then healed: it is
    // re-admitted, and the operator stream hears AGENT_ADDED.
    hook(&master, &agent_ids[2], "partition").await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let state = super::cluster_support::get_json(&format!("{master}/master/state")).await;
        let registered = state["slaves"]
            .as_array()
            .is_some_and(|l| l.iter().any(|s| s["id"] == agent_ids[2].as_str()));
        if !registered && state["unreachable_slaves"] == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the partitioned agent is not unreachable within {DEADLINE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let healed = hook(&master, &agent_ids[2], "heal").await;
    assert_eq!(healed["reregistered"], true, "{healed}");

    let mut operator_events = Vec::new();
    // The healed agent brings its task back: TASK_ADDED, with the agent's statuses of it.
    let (mut removed, mut disconnected, mut added, mut readded) = (false, false, false, false);
    while !(removed && disconnected && added && readded) {
        let Some(e) = ops.next().await else {
            panic!("the operator stream ended");
        };
        removed |= e["type"] == "FRAMEWORK_REMOVED";
        added |= e["type"] == "AGENT_ADDED"
            && e["agent_added"]["agent"]["agent_info"]["id"]["value"] == agent_ids[2].as_str();
        readded |= added
            && e["type"] == "TASK_ADDED"
            && e["task_added"]["task"]["task_id"]["value"] == PARTITIONED_TASK;
        disconnected |= e["type"] == "FRAMEWORK_UPDATED"
            && e["framework_updated"]["framework"]["framework_info"]["id"]["value"]
                == web_id.as_str()
            && e["framework_updated"]["framework"]["connected"] == false;
        operator_events.push(e);
    }
    assert_eq!(a.state("cmd-running"), "TASK_RUNNING");
    // An operator who subscribes now gets the whole state in SUBSCRIBED.
    let mut late = Events::open(&format!("{master}/api/v1"), &json!({"type": "SUBSCRIBE"})).await;
    operator_events.push(late.next_of("SUBSCRIBED").await);

    let mut task_ids: Vec<String> = COMMAND_TASKS.iter().map(|(t, _)| t.to_string()).collect();
    task_ids.extend(DOCKER_TASKS.iter().map(|(t, _)| t.to_string()));
    task_ids.extend(POD_TASKS.iter().map(|(t, _)| t.to_string()));
    task_ids.push(CUSTOM_TASK.into());
    task_ids.push("batch-job".into());
    task_ids.push(PARTITIONED_TASK.into());
    task_ids.extend(["db".to_string(), "backup".to_string()]);
    drop(storage);
    Built {
        master,
        agents,
        sandbox: format!("/frameworks/{fid}/executors/cmd-finished/runs/latest"),
        sandbox_agent: c.agent_urls()[0].clone(),
        agent_ids,
        framework_ids: vec![fid, bid, web_id, storage_id],
        task_ids,
        operator_events,
    }
}

/// A fault-injection hook of the embedded cluster on an agent; its JSON answer.
async fn hook(master: &str, agent_id: &str, what: &str) -> Value {
    let url = format!("{master}/__cluster/agents/{agent_id}/{what}");
    let resp = authed(client().post(&url))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    assert_eq!(status, 200, "POST {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST {url}: {e}: {body}"))
}

/// An answer, or what went wrong (a status the cluster should not give is reported with
/// the endpoint's figures, not a panic, so that one missing endpoint does not hide the
/// others).
type Answer = Result<Value, String>;

async fn get(url: &str) -> Answer {
    let resp = authed(client().get(url))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    if status != 200 {
        return Err(format!("GET {url}: {status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("GET {url}: {e}: {body}"))
}

async fn call(url: &str, body: Value) -> Answer {
    let (status, text) = post(&format!("{url}/api/v1"), &body, None).await;
    if status != 200 {
        return Err(format!("POST {url}/api/v1 {body}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{body}: {e}: {text}"))
}

/// The body of a v1 call, with the sub-message the calls that need one take.
fn call_body(kind: &str, b: &Built) -> Value {
    match kind {
        "GET_METRICS" => json!({"type": kind, "get_metrics": {}}),
        "LIST_FILES" => json!({"type": kind, "list_files": {"path": b.sandbox}}),
        "READ_FILE" => {
            json!({"type": kind, "read_file": {"path": format!("{}/stdout", b.sandbox), "offset": 0}})
        }
        _ => json!({ "type": kind }),
    }
}

/// The cluster's answers to one endpoint.
pub async fn answers(endpoint: &Endpoint, b: &Built) -> Vec<Answer> {
    let urls = |p: &Process| match p {
        Process::Master => vec![b.master.clone()],
        Process::Agent => b.agents.clone(),
    };
    let mut out = Vec::new();
    match endpoint {
        Endpoint::Event(kind) => {
            out.extend(
                b.operator_events
                    .iter()
                    .filter(|e| e["type"] == kind.as_str())
                    .cloned()
                    .map(Ok),
            );
        }
        Endpoint::Call {
            process,
            call: kind,
        } => {
            for url in urls(process) {
                out.push(call(&url, call_body(kind, b)).await);
            }
        }
        Endpoint::Get {
            process,
            path,
            query,
        } => {
            let files = path.starts_with("/files/");
            let targets = if files {
                vec![b.sandbox_agent.clone()]
            } else {
                urls(process)
            };
            let queries: Vec<String> = match (query.as_deref(), path.as_str()) {
                (Some("task_id"), _) => b.task_ids.iter().map(|t| format!("task_id={t}")).collect(),
                (Some("slave_id"), _) => b
                    .agent_ids
                    .iter()
                    .map(|a| format!("slave_id={a}"))
                    .collect(),
                (Some("framework_id"), _) => b
                    .framework_ids
                    .iter()
                    .map(|f| format!("framework_id={f}"))
                    .collect(),
                (Some(other), _) => panic!("no ids for the query '{other}='"),
                (None, "/files/browse") => vec![format!("path={}", b.sandbox)],
                (None, "/files/read") => vec![format!("path={}/stdout&offset=0", b.sandbox)],
                (None, _) => vec![String::new()],
            };
            for url in targets {
                for q in &queries {
                    let sep = if q.is_empty() { "" } else { "?" };
                    out.push(get(&format!("{url}{path}{sep}{q}")).await);
                }
            }
        }
    }
    out
}
