//! The cluster's driver: the state machine behind one lock, and the effects it asks for
//! (task launches, timers) carried out on the tokio runtime once the lock is released.

use super::containerizer::Registry;
use super::election::{Role, RoleCell};
use super::executor;
use super::state::{Effect, Master};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct Shared {
    master: Mutex<Master>,
    pub stopping: CancellationToken,
    /// Leading or standby; always leading without `--zk`.
    pub role: Arc<RoleCell>,
    executors: Mutex<Vec<JoinHandle<()>>>,
    /// Stops each agent's HTTP server on its own (a crashed or gone agent stops answering).
    agent_servers: Mutex<HashMap<String, CancellationToken>>,
    /// Every agent's containers (executor runs, nested and standalone containers).
    pub containers: Arc<Registry>,
    /// Tasks this process's agents run for a master elsewhere (`follow.rs`).
    pub follow: super::follow::Followers,
    /// With `--zk`: this term's leader has read the registry (`replica.rs`). A new leader
    /// adopts its agents' tasks only after that, so it never lists a task while still
    /// missing the recovered agents, as a Mesos master recovers before it re-admits agents.
    pub registry_recovered: std::sync::atomic::AtomicBool,
    /// How to start each agent's HTTP server again on its port (the restart hook).
    agent_serve: Mutex<HashMap<String, ServeAgent>>,
    /// Serves a newly registered agent on a port (set by `start`; agents back from
    /// maintenance register anew).
    agent_starter: Mutex<Option<AgentStarter>>,
}

/// Binds an agent's port again and serves it (its task's handle is detached: the server
/// stops with the agent's token).
pub type ServeAgent =
    Arc<dyn Fn() -> futures::future::BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Starts the HTTP server of an agent that registered anew: its id and its port.
pub type AgentStarter = Arc<dyn Fn(String, u16) + Send + Sync>;

impl Shared {
    pub fn new(master: Master) -> Arc<Shared> {
        Arc::new(Shared {
            master: Mutex::new(master),
            stopping: CancellationToken::new(),
            role: Arc::new(RoleCell::new(Role::Leading)),
            executors: Mutex::new(Vec::new()),
            agent_servers: Mutex::new(HashMap::new()),
            containers: Arc::new(Registry::default()),
            agent_serve: Mutex::new(HashMap::new()),
            follow: super::follow::Followers::default(),
            registry_recovered: std::sync::atomic::AtomicBool::new(false),
            agent_starter: Mutex::new(None),
        })
    }

    pub fn set_agent_starter(&self, starter: AgentStarter) {
        *self.agent_starter.lock().unwrap_or_else(|e| e.into_inner()) = Some(starter);
    }

    /// Marks this master a standby with no known leader (before it joins an election).
    pub fn role_standby(&self) {
        self.role.set(Role::Standby(None));
    }

    /// The token that stops an agent's server: cancelled when the agent is lost, and when
    /// the whole cluster stops.
    pub fn agent_server_token(&self, agent_id: &str) -> CancellationToken {
        let token = self.stopping.child_token();
        self.agent_servers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(agent_id.to_string(), token.clone());
        token
    }

    pub fn set_agent_serve(&self, agent_id: &str, serve: ServeAgent) {
        self.agent_serve
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(agent_id.to_string(), serve);
    }

    /// Starts an agent's HTTP server again (after a restart).
    pub async fn serve_agent_again(&self, agent_id: &str) -> Result<(), String> {
        let serve = self
            .agent_serve
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(agent_id)
            .cloned();
        match serve {
            Some(serve) => serve().await,
            None => Err(format!("agent {agent_id} has no server to start again")),
        }
    }

    /// Read access for views. A panic elsewhere must not wedge the cluster, so a poisoned
    /// lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, Master> {
        self.master.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a state change, then its effects.
    pub fn with<R>(self: &Arc<Self>, f: impl FnOnce(&mut Master, &mut Vec<Effect>) -> R) -> R {
        let mut fx = Vec::new();
        let r = {
            let mut m = self.lock();
            f(&mut m, &mut fx)
        };
        self.run(fx);
        r
    }

    fn run(self: &Arc<Self>, fx: Vec<Effect>) {
        if fx.is_empty() {
            return;
        }
        // Effects need the runtime; when it is gone (process exit) there is nothing to do.
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for effect in fx {
            match effect {
                Effect::Launch(spec) => {
                    let shared = Arc::clone(self);
                    // An agent of another process runs it there (`follow.rs`).
                    let remote = self
                        .lock()
                        .agent(&spec.agent_id)
                        .and_then(|a| a.remote.clone());
                    let job = match remote {
                        Some(url) => handle.spawn(super::follow::launch_remote(shared, url, *spec)),
                        None => handle.spawn(executor::run(shared, spec)),
                    };
                    let mut jobs = self.executors.lock().unwrap_or_else(|e| e.into_inner());
                    jobs.retain(|j| !j.is_finished());
                    jobs.push(job);
                }
                Effect::LaunchExecutor(spec) => {
                    let job = handle.spawn(super::custom_executor::run(Arc::clone(self), *spec));
                    let mut jobs = self.executors.lock().unwrap_or_else(|e| e.into_inner());
                    jobs.retain(|j| !j.is_finished());
                    jobs.push(job);
                }
                // Made at once, so a task launched after it finds its volume there.
                Effect::Volume { path, create: true } => {
                    if let Err(e) = std::fs::create_dir_all(&path) {
                        tracing::warn!("cannot make volume {}: {e}", path.display());
                    }
                }
                Effect::Volume {
                    path,
                    create: false,
                } => {
                    handle.spawn_blocking(move || {
                        if let Err(e) = std::fs::remove_dir_all(&path) {
                            tracing::warn!("cannot delete volume {}: {e}", path.display());
                        }
                    });
                }
                Effect::StopAgent(agent_id) => {
                    let servers = self.agent_servers.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(token) = servers.get(&agent_id) {
                        token.cancel();
                    }
                }
                Effect::ServeAgent { agent_id, port } => {
                    let starter = self
                        .agent_starter
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clone();
                    if let Some(start) = starter {
                        start(agent_id, port);
                    }
                }
                Effect::Timer(at, timer) => {
                    if self.stopping.is_cancelled() {
                        continue;
                    }
                    let weak = Arc::downgrade(self);
                    let stopping = self.stopping.clone();
                    handle.spawn(async move {
                        tokio::select! {
                            _ = stopping.cancelled() => {}
                            _ = tokio::time::sleep_until(at.into()) => {
                                if let Some(shared) = weak.upgrade() {
                                    shared.with(|m, fx| m.fire(timer, fx));
                                }
                            }
                        }
                    });
                }
            }
        }
    }

    /// Closes every stream, kills every task and waits for the executors to finish.
    pub async fn shutdown(&self) {
        self.stopping.cancel();
        self.lock().shutdown();
        self.containers.shutdown();
        self.follow.shutdown();
        let jobs: Vec<JoinHandle<()>> = {
            let mut jobs = self.executors.lock().unwrap_or_else(|e| e.into_inner());
            jobs.drain(..).collect()
        };
        for job in jobs {
            let _ = job.await;
        }
    }
}
