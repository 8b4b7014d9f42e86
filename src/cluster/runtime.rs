//! The cluster's driver: the state machine behind one lock, and the effects it asks for
//! (task launches, timers) carried out on the tokio runtime once the lock is released.

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
}

impl Shared {
    pub fn new(master: Master) -> Arc<Shared> {
        Arc::new(Shared {
            master: Mutex::new(master),
            stopping: CancellationToken::new(),
            role: Arc::new(RoleCell::new(Role::Leading)),
            executors: Mutex::new(Vec::new()),
            agent_servers: Mutex::new(HashMap::new()),
        })
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
                    let job = handle.spawn(executor::run(shared, *spec));
                    let mut jobs = self.executors.lock().unwrap_or_else(|e| e.into_inner());
                    jobs.retain(|j| !j.is_finished());
                    jobs.push(job);
                }
                Effect::StopAgent(agent_id) => {
                    let servers = self.agent_servers.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(token) = servers.get(&agent_id) {
                        token.cancel();
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
        let jobs: Vec<JoinHandle<()>> = {
            let mut jobs = self.executors.lock().unwrap_or_else(|e| e.into_inner());
            jobs.drain(..).collect()
        };
        for job in jobs {
            let _ = job.await;
        }
    }
}
