//! Agents that register with this master from elsewhere, and the tasks they bring, as a
//! Mesos master learns the cluster after a failover: every agent (re-)registers with the
//! leader, with the FrameworkInfo and the tasks it runs (`ReregisterSlaveMessage`); the
//! frameworks it names are known, not yet subscribed, until they re-subscribe and find
//! their tasks (Mesos's recovered frameworks); reconciliation answers from these tasks.

use super::{
    now_secs, Agent, Counts, Effect, EventCounts, Framework, Master, OfferConstraints, Resources,
    StoredStatus, Task,
};
use crate::cluster::views;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// An agent of another process, as it registers.
#[derive(Debug, Clone)]
pub struct RemoteAgent {
    pub id: String,
    pub port: u16,
    pub hostname: String,
    pub url: String,
    pub total: Resources,
    pub attributes: Vec<(String, String)>,
    /// It was registered with a master before (of this process, or the one that led).
    pub reregister: bool,
}

/// A task an agent reports when it (re-)registers.
#[derive(Debug)]
pub struct AdoptedTask {
    pub agent_id: String,
    pub framework_info: Value,
    pub info: Value,
    pub task_id: String,
    pub executor_id: String,
    pub executor_name: String,
    pub container_id: String,
    pub nested_container: Option<String>,
    /// The ExecutorInfo of a task group's executor.
    pub executor: Option<Value>,
    pub resources: Resources,
    pub executor_resources: Resources,
    /// The role its resources were allocated to.
    pub role: String,
    /// The task's latest state on the agent, and the statuses it went through.
    pub state: String,
    pub statuses: Vec<Value>,
    pub sandbox: PathBuf,
    pub docker_image: Option<String>,
    /// How to kill it: the sender of its executor's kill switch (in this process), or a
    /// fresh one whose receiver forwards kills to the remote agent.
    pub kill: Option<watch::Sender<bool>>,
}

impl Master {
    /// An agent of another process registers (or registers again, after this master was
    /// elected): it is offered like the master's own agents.
    pub fn add_remote_agent(&mut self, remote: RemoteAgent, fx: &mut Vec<Effect>) {
        if remote.reregister {
            self.counters.count("master/messages_reregister_slave");
        } else {
            self.counters.count("master/messages_register_slave");
        }
        self.forget_recovered(&remote.id);
        if let Some(a) = self.agent_mut(&remote.id) {
            // `_reregisterSlave`: an agent this master knows.
            a.remote = Some(remote.url);
            a.port = remote.port;
            a.active = true;
            a.reregistered_time = Some(now_secs());
            return;
        }
        // `__reregisterSlave` re-admits an agent it does not know; a first one registers.
        self.counters.count(if remote.reregister {
            "master/slave_reregistrations"
        } else {
            "master/slave_registrations"
        });
        self.unreachable_agents.retain(|l| l.agent.id != remote.id);
        let agent = Agent {
            id: remote.id.clone(),
            port: remote.port,
            hostname: remote.hostname,
            total: remote.total,
            used: Resources::default(),
            attributes: remote.attributes,
            registered_time: now_secs(),
            reregistered_time: remote.reregister.then(now_secs),
            started_time: now_secs(),
            active: true,
            crashed: false,
            missed_pings: 0,
            partitioned: false,
            disconnected: false,
            remote: Some(remote.url),
            counts: Counts::default(),
        };
        tracing::info!(agent_id = %agent.id, "agent of another master registered");
        self.agents.push(agent);
        if let Some(a) = self.agents.last() {
            let event =
                json!({"type": "AGENT_ADDED", "agent_added": {"agent": views::agent_v1(self, a)}});
            self.publish(&event);
        }
        self.allocate(fx);
    }

    /// A task an agent brought: its framework becomes known (inactive, not subscribed) if
    /// it was not, and the task is live again with the agent's state of it. A task this
    /// master knows already is left as it is.
    pub fn adopt_task(&mut self, t: AdoptedTask) {
        let framework_id = super::id_of(t.framework_info.get("id")).unwrap_or_default();
        if framework_id.is_empty()
            || self
                .completed_frameworks
                .iter()
                .any(|c| c.id() == framework_id)
        {
            return;
        }
        if self
            .framework(&framework_id)
            .is_some_and(|f| f.task(&t.task_id).is_some())
        {
            return;
        }
        if self.framework(&framework_id).is_none() {
            self.frameworks.push(Framework {
                id: framework_id.clone(),
                info: t.framework_info.clone(),
                sink: None,
                active: false,
                suppressed_roles: BTreeSet::new(),
                offer_constraints: OfferConstraints::default(),
                offer_constraints_json: json!({}),
                counts: Counts::default(),
                events: Arc::new(EventCounts::default()),
                registered_time: now_secs(),
                reregistered_time: now_secs(),
                unregistered_time: None,
                tasks: Default::default(),
                completed_tasks: Default::default(),
                unreachable_tasks: Vec::new(),
                filters: Vec::new(),
                generation: 0,
            });
            self.publish_framework("FRAMEWORK_ADDED", &framework_id);
        }
        let first_of_run = !self.frameworks.iter().any(|f| {
            f.tasks
                .iter()
                .any(|o| o.container_id == t.container_id && !o.is_terminal())
        });
        let mut used = t.resources.clone();
        if first_of_run {
            used = used.plus(&t.executor_resources);
        }
        let terminal = super::is_terminal(&t.state);
        let task = Task {
            task_id: t.task_id,
            name: t
                .info
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            framework_id: framework_id.clone(),
            agent_id: t.agent_id.clone(),
            executor_id: t.executor_id,
            executor_name: t.executor_name,
            container_id: t.container_id,
            info: super::StoredInfo::new(&t.info),
            resources: t.resources,
            executor_resources: t.executor_resources,
            role: t.role,
            state: t.state,
            statuses: t.statuses.iter().map(StoredStatus::new).collect(),
            pending: VecDeque::new(),
            acked_status: None,
            sandbox: t.sandbox,
            docker_image: t.docker_image,
            executor: t.executor,
            nested_container_id: t.nested_container,
            pid: None,
            kill: t.kill,
            resources_recovered: terminal,
            json: Default::default(),
        };
        let added = super::task_added_event(&task);
        if let Some(f) = self.framework_mut(&framework_id) {
            f.tasks.push(task);
        }
        if !terminal {
            if let Some(a) = self.agent_mut(&t.agent_id) {
                a.used = a.used.plus(&used);
            }
        }
        self.publish(&added);
    }
}
