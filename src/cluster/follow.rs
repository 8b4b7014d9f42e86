//! Agents follow the leader through ZooKeeper, as Mesos agents do: with `--zk`, every
//! agent of a standby master registers with whichever master leads (found through the same
//! election), over HTTP, so that the leader offers all agents of the cluster, in one process
//! with `--masters N` and across processes. The leader launches and kills tasks on such an
//! agent over HTTP; the agent's executors report to the leader. When the leader dies and
//! this process's master is elected, it adopts what its agents run (their FrameworkInfo and
//! tasks, with the agent's state of each), as a Mesos master learns the cluster from the
//! agents re-registering after a failover; frameworks re-subscribe and find their tasks.
//!
//! The internal endpoints (`/__cluster/internal/...`) are this cluster's own wire between
//! its processes, not Mesos's (which is libprocess messages).

use super::containerizer::ContainerId;
use super::election::Role;
use super::executor;
use super::resources::Resources;
use super::runtime::Shared;
use super::state::{AdoptedTask, LaunchSpec, RemoteAgent, StatusExtra, UriSpec};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// A task this process's agent runs for a master elsewhere: what the agent knows of it.
struct Record {
    agent_id: String,
    framework_info: Value,
    info: Value,
    executor_id: String,
    executor_name: String,
    container_id: String,
    nested_container: Option<String>,
    /// A task group's ExecutorInfo.
    executor: Option<Value>,
    resources: Resources,
    executor_resources: Resources,
    role: String,
    state: String,
    statuses: Vec<Value>,
    sandbox: PathBuf,
    docker_image: Option<String>,
    kill: Option<watch::Sender<bool>>,
    /// This process's master leads now and owns the task.
    adopted: bool,
}

struct Update {
    framework_id: String,
    task_id: String,
    state: String,
    message: Option<String>,
    reason: Option<String>,
    extra: StatusExtra,
}

/// The tasks this process's agents run for other masters, and the queue of their updates.
pub struct Followers {
    records: Mutex<HashMap<(String, String), Record>>,
    tx: mpsc::UnboundedSender<Update>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Update>>>,
}

impl Default for Followers {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Followers {
            records: Mutex::new(HashMap::new()),
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

impl Followers {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An executor's update for a task run for another master: queued for the leader (true),
    /// or not such a task (false: the local master takes it).
    pub fn forward(
        &self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: Option<String>,
        reason: Option<&str>,
        extra: &StatusExtra,
    ) -> bool {
        let mut records = self.lock();
        let Some(r) = records.get_mut(&(framework_id.to_string(), task_id.to_string())) else {
            return false;
        };
        if r.adopted {
            return false;
        }
        r.state = state.to_string();
        let mut status = json!({"task_id": {"value": task_id}, "agent_id": {"value": r.agent_id},
            "state": state, "source": "SOURCE_EXECUTOR", "timestamp": super::state::now_secs()});
        if let Some(m) = &message {
            status["message"] = json!(m);
        }
        r.statuses.push(status);
        let _ = self.tx.send(Update {
            framework_id: framework_id.to_string(),
            task_id: task_id.to_string(),
            state: state.to_string(),
            message,
            reason: reason.map(str::to_string),
            extra: extra.clone(),
        });
        true
    }

    /// Every process of these tasks dies with the cluster.
    pub fn shutdown(&self) {
        for r in self.lock().values() {
            if let Some(kill) = &r.kill {
                let _ = kill.send(true);
            }
        }
    }

    /// The reports of an agent's tasks, for its registration with a leader.
    fn reports(&self, agent_id: &str) -> Vec<Value> {
        self.lock()
            .iter()
            .filter(|(_, r)| r.agent_id == agent_id && !r.adopted)
            .map(|((_, task_id), r)| {
                json!({
                    "framework_info": r.framework_info, "task_info": r.info,
                    "task_id": task_id, "executor_id": r.executor_id,
                    "executor_name": r.executor_name, "container_id": r.container_id,
                    "nested_container": r.nested_container, "executor": r.executor,
                    "resources": r.resources.to_v1(), "role": r.role,
                    "executor_resources": r.executor_resources.to_v1(),
                    "state": r.state, "statuses": r.statuses,
                    "sandbox": r.sandbox, "docker_image": r.docker_image
                })
            })
            .collect()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default()
}

fn leader_url(scheme: &str, host: &str, port: u16) -> String {
    format!("{scheme}://{host}:{port}")
}

/// This process's master leads now: it adopts every task its agents run for the old one.
fn take_over(shared: &Arc<Shared>) {
    let adopted: Vec<AdoptedTask> = {
        let mut records = shared.follow.lock();
        records
            .iter_mut()
            .filter(|(_, r)| !r.adopted)
            .map(|((_, task_id), r)| {
                r.adopted = true;
                AdoptedTask {
                    agent_id: r.agent_id.clone(),
                    framework_info: r.framework_info.clone(),
                    info: r.info.clone(),
                    task_id: task_id.clone(),
                    executor_id: r.executor_id.clone(),
                    executor_name: r.executor_name.clone(),
                    container_id: r.container_id.clone(),
                    nested_container: r.nested_container.clone(),
                    executor: r.executor.clone(),
                    resources: r.resources.clone(),
                    executor_resources: r.executor_resources.clone(),
                    role: r.role.clone(),
                    state: r.state.clone(),
                    statuses: r.statuses.clone(),
                    sandbox: r.sandbox.clone(),
                    docker_image: r.docker_image.clone(),
                    kill: r.kill.take(),
                }
            })
            .collect()
    };
    if adopted.is_empty() {
        return;
    }
    tracing::info!(
        tasks = adopted.len(),
        "elected: adopting the tasks this process's agents run"
    );
    shared.with(|m, fx| {
        for t in adopted {
            m.adopt_task(t);
        }
        m.allocate(fx);
    });
}

/// Starts the follower (with `--zk`): registers this process's agents with each new
/// leader, adopts their tasks when this master is elected, and passes their executors'
/// updates on to whoever leads.
pub fn spawn(shared: Arc<Shared>, agent_ids: Vec<String>) {
    let rx = shared
        .follow
        .rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(rx) = rx {
        tokio::spawn(pass_updates(Arc::clone(&shared), rx));
    }
    tokio::spawn(async move {
        let mut registered: Option<(String, u16)> = None;
        let mut leading = false;
        // Whether the agents were registered with a master before (this process's, while
        // it led, or another): from then on they re-register.
        let mut known = false;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = shared.stopping.cancelled() => return,
                _ = tick.tick() => {}
            }
            match shared.role.get() {
                Role::Leading => {
                    // The registry first (`replica.rs`), then the agents' tasks.
                    if !leading && shared.registry_recovered.load(Ordering::SeqCst) {
                        take_over(&shared);
                        leading = true;
                        known = true;
                    }
                    registered = None;
                }
                Role::Standby(Some(leader)) => {
                    leading = false;
                    if registered.as_ref() != Some(&leader)
                        && register(&shared, &agent_ids, &leader, known).await
                    {
                        registered = Some(leader);
                        known = true;
                    }
                }
                Role::Standby(None) => leading = false,
            }
        }
    });
}

/// Registers every agent of this process with the leader, with the tasks it runs.
async fn register(
    shared: &Arc<Shared>,
    agent_ids: &[String],
    leader: &(String, u16),
    reregister: bool,
) -> bool {
    let (scheme, bodies) = {
        let m = shared.lock();
        let scheme = m.settings.scheme;
        let bodies: Vec<Value> = agent_ids
            .iter()
            .filter_map(|id| m.agent(id))
            .map(|a| {
                json!({
                    "agent": {"id": a.id, "port": a.port, "hostname": a.hostname,
                        "url": format!("{scheme}://{}:{}", m.settings.ip, a.port),
                        "resources": a.total.to_v1(),
                        "attributes": a.attributes.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                        "reregister": reregister},
                    "tasks": shared.follow.reports(&a.id)
                })
            })
            .collect();
        (scheme, bodies)
    };
    let url = format!(
        "{}/__cluster/internal/register",
        leader_url(scheme, &leader.0, leader.1)
    );
    for body in bodies {
        match http().post(&url).json(&body).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::warn!(status = %r.status(), "the leader refused an agent's registration");
                return false;
            }
            Err(e) => {
                tracing::debug!("cannot register an agent with the leader yet: {e}");
                return false;
            }
        }
    }
    tracing::info!(leader = %format!("{}:{}", leader.0, leader.1), "agents registered with the leader");
    true
}

/// Passes executors' updates on, in order: to the local master once it leads, else to the
/// leader over HTTP (retried until it takes them or another master leads).
async fn pass_updates(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Update>) {
    while let Some(u) = rx.recv().await {
        loop {
            if shared.stopping.is_cancelled() {
                return;
            }
            match shared.role.get() {
                // Once the registry is read, as the follower's loop waits for it.
                Role::Leading if shared.registry_recovered.load(Ordering::SeqCst) => {
                    take_over(&shared);
                    shared.with(|m, fx| {
                        m.status_update_with(
                            &u.framework_id,
                            &u.task_id,
                            &u.state,
                            u.message.clone(),
                            u.reason.as_deref(),
                            &u.extra,
                            fx,
                        )
                    });
                    break;
                }
                Role::Standby(Some((host, port))) => {
                    let scheme = shared.lock().settings.scheme;
                    let url = format!(
                        "{}/__cluster/internal/status",
                        leader_url(scheme, &host, port)
                    );
                    let body = json!({"framework_id": u.framework_id, "task_id": u.task_id,
                        "state": u.state, "message": u.message, "reason": u.reason,
                        "healthy": u.extra.healthy, "check_status": u.extra.check_status,
                        "from_last": u.extra.from_last});
                    if matches!(http().post(&url).json(&body).send().await, Ok(r) if r.status().is_success())
                    {
                        break;
                    }
                }
                Role::Leading | Role::Standby(None) => {}
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// The role a reported task's resources were allocated to (`*` if it says none).
fn role_of(v: &Value) -> String {
    v.get("role")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .unwrap_or("*")
        .to_string()
}

fn resources_of(v: &Value, key: &str) -> Resources {
    Resources::from_v1(v.get(key).unwrap_or(&Value::Null)).unwrap_or_default()
}

/// Leader side: an agent of another process registers, with the tasks it runs.
pub async fn register_handler(
    State(shared): State<Arc<Shared>>,
    body: axum::Json<Value>,
) -> Response {
    let body = body.0;
    let a = &body["agent"];
    let attributes = a["attributes"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| {
                    Some((
                        p.get(0)?.as_str()?.to_string(),
                        p.get(1)?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let remote = RemoteAgent {
        id: str_of(a, "id"),
        port: a["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(0),
        hostname: str_of(a, "hostname"),
        url: str_of(a, "url"),
        total: resources_of(a, "resources"),
        attributes,
        reregister: a["reregister"].as_bool().unwrap_or(false),
    };
    if remote.id.is_empty() || remote.url.is_empty() {
        return super::reply::text(400, "an agent registers with its id and url");
    }
    let url = remote.url.clone();
    let agent_id = remote.id.clone();
    let mut forwards = Vec::new();
    shared.with(|m, fx| {
        m.add_remote_agent(remote, fx);
        for t in body["tasks"].as_array().cloned().unwrap_or_default() {
            let (tx, rx) = watch::channel(false);
            let task_id = str_of(&t, "task_id");
            let framework_id =
                super::state::id_of(t["framework_info"].get("id")).unwrap_or_default();
            forwards.push((framework_id, task_id.clone(), rx));
            m.adopt_task(AdoptedTask {
                agent_id: agent_id.clone(),
                framework_info: t["framework_info"].clone(),
                info: t["task_info"].clone(),
                task_id,
                executor_id: str_of(&t, "executor_id"),
                executor_name: str_of(&t, "executor_name"),
                container_id: str_of(&t, "container_id"),
                nested_container: t["nested_container"].as_str().map(str::to_string),
                executor: t.get("executor").filter(|e| e.is_object()).cloned(),
                resources: resources_of(&t, "resources"),
                executor_resources: resources_of(&t, "executor_resources"),
                role: role_of(&t),
                state: str_of(&t, "state"),
                statuses: t["statuses"].as_array().cloned().unwrap_or_default(),
                sandbox: PathBuf::from(str_of(&t, "sandbox")),
                docker_image: t["docker_image"].as_str().map(str::to_string),
                kill: Some(tx),
            });
        }
        m.allocate(fx);
    });
    for (framework_id, task_id, rx) in forwards {
        tokio::spawn(forward_kill(url.clone(), framework_id, task_id, rx));
    }
    tokio::spawn(health_checks(Arc::downgrade(&shared), agent_id, url));
    super::reply::text(200, "")
}

/// The leader's health checks of an agent of another process: `GET /health` every
/// `--agent-ping-timeout`; the first one unanswered starts the master's missed-ping count
/// (as for a crash, `state/loss.rs`), so the agent is unreachable after
/// `--max-agent-ping-timeouts`. Ends when the agent leaves or registers again.
async fn health_checks(shared: std::sync::Weak<Shared>, agent_id: String, url: String) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        let (every, still) = {
            let m = s.lock();
            let still = m
                .agent(&agent_id)
                .is_some_and(|a| a.remote.as_deref() == Some(url.as_str()) && !a.crashed);
            (m.settings.agent_ping_timeout, still)
        };
        let stopping = s.stopping.clone();
        drop(s);
        if !still {
            return;
        }
        tokio::select! {
            _ = stopping.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let answered = matches!(
            http().get(format!("{url}/health")).send().await,
            Ok(r) if r.status().is_success()
        );
        if answered {
            continue;
        }
        let Some(s) = shared.upgrade() else { return };
        tracing::info!(
            agent_id,
            "an agent of another process stopped answering its health checks"
        );
        let _ = s.with(|m, fx| m.crash_agent(&agent_id, fx));
        return;
    }
}

/// Leader side: an update from an executor on an agent of another process.
pub async fn status_handler(
    State(shared): State<Arc<Shared>>,
    body: axum::Json<Value>,
) -> Response {
    let u = body.0;
    let extra = StatusExtra {
        healthy: u["healthy"].as_bool(),
        check_status: u.get("check_status").filter(|c| c.is_object()).cloned(),
        from_last: u["from_last"].as_bool().unwrap_or(false),
    };
    shared.with(|m, fx| {
        m.status_update_with(
            &str_of(&u, "framework_id"),
            &str_of(&u, "task_id"),
            &str_of(&u, "state"),
            u["message"].as_str().map(str::to_string),
            u["reason"].as_str(),
            &extra,
            fx,
        )
    });
    super::reply::text(200, "")
}

/// Leader side: runs a task on an agent of another process, and passes its kill on.
pub async fn launch_remote(shared: Arc<Shared>, url: String, spec: LaunchSpec) {
    let body = {
        let m = shared.lock();
        let Some(f) = m.framework(&spec.framework_id) else {
            return;
        };
        let Some(t) = f.task(&spec.task_id) else {
            return;
        };
        let relative = spec
            .sandbox
            .strip_prefix(&m.settings.work_dir)
            .unwrap_or(&spec.sandbox)
            .to_path_buf();
        json!({
            "framework_info": f.info, "task_info": t.info,
            "framework_id": spec.framework_id, "agent_id": spec.agent_id,
            "task_id": spec.task_id, "executor_id": spec.executor_id,
            "executor_name": t.executor_name,
            "container_id": spec.container_id, "nested_container": spec.nested_container,
            "sandbox": relative, "docker_image": spec.docker_image,
            "resources": t.resources.to_v1(), "executor_resources": t.executor_resources.to_v1(),
            "role": t.role, "executor": t.executor,
            "command": {"shell": spec.command.shell, "value": spec.command.value,
                "arguments": spec.command.arguments},
            "env": spec.env.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "uris": spec.uris.iter().map(|u| json!({"value": u.value, "extract": u.extract,
                "executable": u.executable, "output_file": u.output_file})).collect::<Vec<_>>(),
            "killing_state": spec.killing_state,
            "kill_grace_secs": spec.kill_grace.as_secs_f64(),
            "volumes": spec.volumes.iter().map(|(dir, path)| {
                json!([dir.strip_prefix(&m.settings.work_dir).unwrap_or(dir), path])
            }).collect::<Vec<_>>()
        })
    };
    let sent = http()
        .post(format!("{url}/__cluster/internal/launch"))
        .json(&body)
        .send()
        .await;
    if !matches!(&sent, Ok(r) if r.status().is_success()) {
        let why = match sent {
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        shared.with(|m, fx| {
            m.status_update(
                &spec.framework_id,
                &spec.task_id,
                "TASK_FAILED",
                Some(format!("Failed to launch the task on its agent: {why}")),
                Some("REASON_CONTAINER_LAUNCH_FAILED"),
                fx,
            )
        });
        return;
    }
    forward_kill(url, spec.framework_id, spec.task_id, spec.kill).await;
}

/// Waits for the master to kill a task of a remote agent, then tells the agent.
async fn forward_kill(
    url: String,
    framework_id: String,
    task_id: String,
    mut kill: watch::Receiver<bool>,
) {
    loop {
        if *kill.borrow_and_update() {
            break;
        }
        if kill.changed().await.is_err() {
            return; // the task is done and forgotten
        }
    }
    let body = json!({"framework_id": framework_id, "task_id": task_id});
    if let Err(e) = http()
        .post(format!("{url}/__cluster/internal/kill"))
        .json(&body)
        .send()
        .await
    {
        tracing::warn!(task_id, "cannot pass a kill on to the task's agent: {e}");
    }
}

/// Agent side: runs a task for a master of another process.
pub async fn launch_handler(
    State(ctx): State<super::router::AgentCtx>,
    body: axum::Json<Value>,
) -> Response {
    let v = body.0;
    let shared = ctx.shared.clone();
    let work_dir = shared.lock().settings.work_dir.clone();
    let (tx, rx) = watch::channel(false);
    let framework_id = str_of(&v, "framework_id");
    let task_id = str_of(&v, "task_id");
    let sandbox = work_dir.join(str_of(&v, "sandbox"));
    let spec = LaunchSpec {
        framework_id: framework_id.clone(),
        agent_id: ctx.agent_id.clone(),
        task_id: task_id.clone(),
        executor_id: str_of(&v, "executor_id"),
        container_id: str_of(&v, "container_id"),
        nested_container: v["nested_container"].as_str().map(str::to_string),
        sandbox: sandbox.clone(),
        command: super::state::executors::command_spec(&v["command"]),
        docker_image: v["docker_image"].as_str().map(str::to_string),
        // Persistent volumes: their directory (relative to the work dir, as the sandbox is)
        // and their path in the sandbox.
        volumes: v["volumes"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|p| {
                        Some((
                            work_dir.join(p.get(0)?.as_str()?),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        env: v["env"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|p| {
                        Some((
                            p.get(0)?.as_str()?.to_string(),
                            p.get(1)?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        uris: v["uris"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|u| {
                        Some(UriSpec {
                            value: u.get("value")?.as_str()?.to_string(),
                            extract: u["extract"].as_bool().unwrap_or(true),
                            executable: u["executable"].as_bool().unwrap_or(false),
                            output_file: u["output_file"].as_str().map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        killing_state: v["killing_state"].as_bool().unwrap_or(false),
        kill_grace: Duration::from_secs_f64(
            v["kill_grace_secs"]
                .as_f64()
                .unwrap_or(3.0)
                .clamp(0.0, 600.0),
        ),
        kill: rx,
        probes: super::checks::Probes::of(&v["task_info"]),
    };
    shared.follow.lock().insert(
        (framework_id, task_id),
        Record {
            agent_id: ctx.agent_id.clone(),
            framework_info: v["framework_info"].clone(),
            info: v["task_info"].clone(),
            executor_id: spec.executor_id.clone(),
            executor_name: str_of(&v, "executor_name"),
            container_id: spec.container_id.clone(),
            nested_container: spec.nested_container.clone(),
            executor: v.get("executor").filter(|e| e.is_object()).cloned(),
            resources: resources_of(&v, "resources"),
            executor_resources: resources_of(&v, "executor_resources"),
            role: role_of(&v),
            state: "TASK_STAGING".into(),
            statuses: Vec::new(),
            sandbox,
            docker_image: spec.docker_image.clone(),
            kill: Some(tx),
            adopted: false,
        },
    );
    tokio::spawn(executor::run(shared, Box::new(spec)));
    super::reply::text(200, "")
}

/// Agent side: the leader kills a task it runs here.
pub async fn kill_handler(
    State(ctx): State<super::router::AgentCtx>,
    body: axum::Json<Value>,
) -> Response {
    let key = (str_of(&body.0, "framework_id"), str_of(&body.0, "task_id"));
    if let Some(kill) = ctx
        .shared
        .follow
        .lock()
        .get(&key)
        .and_then(|r| r.kill.as_ref())
    {
        let _ = kill.send(true);
    }
    super::reply::text(200, "")
}

/// The agent of a container, for `ContainerId`-keyed lookups of follower tasks.
pub fn runs_container(shared: &Shared, agent_id: &str, root: &ContainerId) -> bool {
    shared
        .follow
        .lock()
        .values()
        .any(|r| r.agent_id == agent_id && r.container_id == root.value && !r.adopted)
}
