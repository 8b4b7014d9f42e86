//! Tasks' update streams: KILL, SHUTDOWN, RECONCILE, ACKNOWLEDGE, and the executors'
//! status updates, with what health checks and checks add to them.

use super::*;
use crate::mesos::v1::scheduler::ReconcileTask;
use crate::mesos::v1::Source;

/// What a health check or a check adds to an executor's update (`checks.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusExtra {
    pub healthy: Option<bool>,
    pub check_status: Option<Value>,
    /// A health or check update: made from the task's last update, as Mesos's executor
    /// makes it from `lastTaskStatus`, so it keeps what that one carried. Other updates
    /// are made from scratch: a task with a check has an empty `check_status` in them.
    pub from_last: bool,
}

impl StatusExtra {
    fn apply(&self, status: &mut Value, task: &Task) {
        if self.from_last {
            let last = task
                .statuses
                .iter()
                .rev()
                .find(|s| s.source() == Some(&Source::Executor))
                .map(StoredStatus::value);
            for key in ["healthy", "check_status"] {
                if let Some(v) = last.as_ref().and_then(|l| l.get(key)) {
                    status[key] = v.clone();
                }
            }
        } else if let Some(empty) = crate::cluster::checks::empty_status(task.info.get("check")) {
            status["check_status"] = empty;
        }
        if let Some(h) = self.healthy {
            status["healthy"] = Value::Bool(h);
        }
        if let Some(c) = &self.check_status {
            status["check_status"] = c.clone();
        }
    }
}

/// A master's answer to a reconciliation: a TaskStatus from SOURCE_MASTER with
/// REASON_RECONCILIATION, its fields in the order the master writes them.
struct Reconciled<'a> {
    task_id: &'a str,
    state: &'a str,
    message: &'static str,
    timestamp: f64,
    agent_id: Option<&'a str>,
    unreachable_time: Option<Value>,
}

impl Serialize for Reconciled<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::mesos::v1::ids::IdRef;
        use serde::ser::SerializeMap;
        let mut o = s.serialize_map(None)?;
        o.serialize_entry("task_id", &IdRef(self.task_id))?;
        o.serialize_entry("state", self.state)?;
        o.serialize_entry("source", "SOURCE_MASTER")?;
        o.serialize_entry("reason", "REASON_RECONCILIATION")?;
        o.serialize_entry("message", self.message)?;
        o.serialize_entry("timestamp", &self.timestamp)?;
        if let Some(agent) = self.agent_id {
            o.serialize_entry("agent_id", &IdRef(agent))?;
        }
        if let Some(time) = &self.unreachable_time {
            o.serialize_entry("unreachable_time", time)?;
        }
        o.end()
    }
}

impl Master {
    /// KILL: the agent signals the task; unknown tasks get a reconciliation answer.
    pub fn kill(&mut self, framework_id: &str, task_id: &str, fx: &mut Vec<Effect>) {
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        match f.task(task_id) {
            // The kill message is lost on the way to an agent that cannot be reached.
            Some(task) if !self.answers(&task.agent_id) => {}
            Some(task) if task.has_custom_executor() => self.kill_custom(framework_id, task_id, fx),
            Some(task) => {
                if let Some(kill) = &task.kill {
                    let _ = kill.send(true);
                }
            }
            None => {
                let unknown = ReconcileTask {
                    task_id: task_id.into(),
                    ..Default::default()
                };
                self.reconcile(framework_id, &[unknown]);
            }
        }
    }

    /// SHUTDOWN of an executor: a framework's own is told to shut down (and killed after
    /// its grace period); the tasks of the others are killed.
    pub fn shutdown_executor(&mut self, framework_id: &str, agent_id: &str, executor_id: &str) {
        if self.shutdown_custom(framework_id, agent_id, executor_id) {
            return;
        }
        if let Some(f) = self.framework(framework_id) {
            for task in f.tasks.iter().filter(|t| t.executor_id == executor_id) {
                if let Some(kill) = &task.kill {
                    let _ = kill.send(true);
                }
            }
        }
    }

    /// RECONCILE: the latest state of the named tasks (all of them when none is named).
    /// Each answer is written straight into its record (`Reconciled`): a framework
    /// reconciling 20,000 tasks had the master build, copy and write a `Value` three times
    /// per task (two thirds of its time in `perf`).
    pub fn reconcile(&mut self, framework_id: &str, tasks: &[ReconcileTask]) {
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        fn latest(t: &Task) -> Reconciled<'_> {
            Reconciled {
                task_id: &t.task_id,
                state: &t.state,
                message: "Reconciliation: Latest task state",
                timestamp: now_secs(),
                agent_id: Some(&t.agent_id),
                unreachable_time: None,
            }
        }
        // The answers go out together, in the order asked.
        let mut batch = UpdateBatch::to(f.sink.as_ref());
        if tasks.is_empty() {
            for t in &f.tasks {
                batch.push(&latest(t));
            }
            f.send_updates(batch);
            return;
        }
        for wanted in tasks {
            let task_id = wanted.task_id.as_str();
            if let Some(t) = f.task(task_id) {
                batch.push(&latest(t));
                continue;
            }
            let agent = wanted.agent_id.as_ref().map(|a| a.as_str());
            let lost = agent.and_then(|a| self.lost_agent(a));
            // Mesos's order: an unreachable agent, a gone agent, else unknown.
            let (state, message) = match lost {
                Some((_, Some(_))) => ("TASK_UNREACHABLE", "Reconciliation: Task is unreachable"),
                Some((_, None)) => ("TASK_GONE_BY_OPERATOR", "Reconciliation: Task is gone"),
                None => ("TASK_UNKNOWN", "Reconciliation: Task is unknown"),
            };
            let state = if f.partition_aware() {
                state
            } else {
                "TASK_LOST"
            };
            batch.push(&Reconciled {
                task_id,
                state,
                message,
                timestamp: now_secs(),
                agent_id: agent,
                unreachable_time: lost.and_then(|(_, time)| time).map(time_info),
            });
        }
        f.send_updates(batch);
    }

    /// ACKNOWLEDGE: the agent moves on to the task's next update; an acknowledged terminal
    /// update retires the task.
    pub fn acknowledge(
        &mut self,
        framework_id: &str,
        task_id: &str,
        uuid_b64: &str,
        fx: &mut Vec<Effect>,
    ) {
        let kept = self.settings.flags.retention;
        let retry = self.settings.update_retry;
        let in_flight = self
            .framework_mut(framework_id)
            .and_then(|f| f.tasks.get(task_id))
            .and_then(|t| t.pending.front())
            .and_then(StoredStatus::uuid)
            == Some(uuid_b64);
        if !in_flight {
            tracing::debug!(
                task_id,
                "acknowledgement for an update that is not in flight"
            );
            self.counters.invalid_acknowledgements += 1;
            return;
        }
        // Mesos cannot pass it on to an agent that is disconnected (or cut off): the agent
        // sends the update again once it is back.
        if self
            .task_agent(framework_id, task_id)
            .is_some_and(|a| !self.answers(&a))
        {
            self.counters.invalid_acknowledgements += 1;
            return;
        }
        self.counters.valid_acknowledgements += 1;
        let Some(f) = self.framework_mut(framework_id) else {
            return;
        };
        let Some(task) = f.tasks.get_mut(task_id) else {
            return;
        };
        task.acked_status = task.pending.pop_front().map(Into::into);
        let next = task.pending.front().cloned();
        let retire = next.is_none() && task.is_terminal();
        if let Some(next) = next {
            if let Some(sink) = &f.sink {
                sink.send_update(&next);
            }
            let uuid = next.uuid().unwrap_or("").to_string();
            fx.push(Effect::Timer(
                Instant::now() + retry,
                Timer::Retry {
                    framework_id: framework_id.to_string(),
                    task_id: task_id.to_string(),
                    uuid,
                    backoff: retry,
                },
            ));
        }
        let retired = if retire {
            f.tasks.remove(task_id)
        } else {
            None
        };
        if let Some(mut task) = retired {
            task.kill = None;
            let agent_id = task.agent_id.clone();
            f.completed_tasks
                .push(task, kept.completed_tasks_per_framework);
            self.check_drained(&agent_id, fx);
        }
    }

    /// The task's process started (its id is its process group's).
    pub fn task_process(&mut self, framework_id: &str, task_id: &str, pid: u32) {
        if let Some(task) = self
            .framework_mut(framework_id)
            .and_then(|f| f.tasks.get_mut(task_id))
        {
            task.pid = Some(pid);
        }
    }

    /// A status update from a task's executor, entering the agent's update stream.
    pub fn status_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: Option<String>,
        reason: Option<&str>,
        fx: &mut Vec<Effect>,
    ) {
        let extra = StatusExtra::default();
        self.status_update_with(framework_id, task_id, state, message, reason, &extra, fx);
    }

    /// An executor's update with what its health check or check adds (`StatusExtra`).
    #[allow(clippy::too_many_arguments)]
    pub fn status_update_with(
        &mut self,
        framework_id: &str,
        task_id: &str,
        state: &str,
        message: Option<String>,
        reason: Option<&str>,
        extra: &StatusExtra,
        fx: &mut Vec<Effect>,
    ) {
        // An agent cut off from the master keeps what its executors say for later.
        if self.hold_update(framework_id, task_id, state, &message, reason) {
            return;
        }
        let Some(agent_id) = self.task_agent(framework_id, task_id) else {
            return;
        };
        // A crashed agent's executors die with it; nothing they say reaches the master.
        if !self.answers(&agent_id) {
            return;
        }
        let (state, reason) = self.drain_status(&agent_id, framework_id, state, reason);
        let uuid_bytes = *self.ids.uuid().as_bytes();
        let uuid = base64::engine::general_purpose::STANDARD.encode(uuid_bytes);
        let ip = self.settings.ip;
        let Some(f) = self.frameworks.iter_mut().find(|f| f.id == framework_id) else {
            return;
        };
        let Some(task) = f.tasks.get_mut(task_id) else {
            return;
        };
        if task.is_terminal() {
            return;
        }
        let now = now_secs();
        let mut status = json!({
            "task_id": id(task_id),
            "state": state,
            "source": "SOURCE_EXECUTOR",
            "agent_id": id(&task.agent_id),
            "executor_id": id(&task.executor_id),
            "timestamp": now,
            "uuid": uuid,
            "container_status": crate::cluster::containers::status(task, ip)
        });
        // Mesos's Docker executor puts the container's `docker inspect` in its
        // TASK_RUNNING update (`src/docker/executor.cpp`); a simulated one too.
        if state == "TASK_RUNNING" {
            if let Some(image) = &task.docker_image {
                let inspect = crate::cluster::containers::docker_inspect(task, image, now);
                status["data"] = Value::String(
                    base64::engine::general_purpose::STANDARD.encode(inspect.to_string()),
                );
            }
        }
        if let Some(m) = message {
            status["message"] = Value::String(m);
        }
        if let Some(r) = reason {
            status["reason"] = Value::String(r.to_string());
        }
        extra.apply(&mut status, task);
        self.enter_update(framework_id, task_id, status, fx);
    }

    /// An update enters the task's update stream on its agent: the framework hears it
    /// when it is at the head, the counters count it, a terminal one gives the task's
    /// resources back.
    pub(super) fn enter_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        status: Value,
        fx: &mut Vec<Effect>,
    ) {
        let state = status
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("TASK_UNKNOWN")
            .to_string();
        let state = state.as_str();
        let uuid = status
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(f) = self.frameworks.iter_mut().find(|f| f.id == framework_id) else {
            return;
        };
        let Some(task) = f.tasks.get_mut(task_id) else {
            return;
        };
        task.state = state.to_string();
        // The master keeps statuses without their data (MESOS-1746: it could be large).
        let mut kept = status.clone();
        if let Some(o) = kept.as_object_mut() {
            o.remove("data");
        }
        task.statuses.push(StoredStatus::new(&kept));
        task.pending.push_back(StoredStatus::new(&status));
        let in_flight = task.pending.len() == 1;
        let recover = is_terminal(state) && !task.resources_recovered;
        if recover {
            task.resources_recovered = true;
        }
        let (agent_id, mut resources) = (task.agent_id.clone(), task.resources.clone());
        let (executor_id, container_id) = (task.executor_id.clone(), task.container_id.clone());
        // A framework's own executor outlives its tasks (`state/executors.rs`).
        let command_task = task.executor.is_none();
        let in_group = task.nested_container_id.is_some();
        let executor_resources = task.executor_resources.clone();
        // A task group's executor ends with its last task: its resources come back and the
        // framework hears of it in a FAILURE event, as the default executor exits.
        let group_done = recover
            && in_group
            && f.tasks
                .iter()
                .filter(|t| t.executor_id == executor_id && t.container_id == container_id)
                .all(Task::is_terminal);
        if group_done {
            resources = resources.plus(&executor_resources);
        }
        if in_flight {
            if let Some(sink) = &f.sink {
                sink.send_update(&status);
            }
            fx.push(Effect::Timer(
                Instant::now() + self.settings.update_retry,
                Timer::Retry {
                    framework_id: framework_id.to_string(),
                    task_id: task_id.to_string(),
                    uuid: uuid.clone(),
                    backoff: self.settings.update_retry,
                },
            ));
        }
        // The agent's and the master's counters: every update is valid here.
        let ended = is_terminal(state);
        let executor_exited = ended && (command_task || group_done);
        // The agent tells the master of executors it did not make itself (a task group's),
        // not of command executors (`Slave::executorTerminated`).
        let executor_reported = ended && group_done;
        if ended {
            f.counts
                .bump(&format!("tasks/terminal/{}", state.to_ascii_lowercase()));
        }
        self.counters.count("master/messages_status_update");
        self.counters.count("master/valid_status_updates");
        if ended {
            self.counters.task_ended(&status);
        }
        if executor_reported {
            self.counters.count("master/messages_exited_executor");
        }
        if let Some(agent) = self.agents.iter_mut().find(|a| a.id == agent_id) {
            agent.counts.bump("slave/valid_status_updates");
            if ended {
                let name = state.trim_start_matches("TASK_").to_ascii_lowercase();
                agent.counts.bump(&format!("slave/tasks_{name}"));
            }
            if executor_exited {
                agent.counts.bump("slave/executors_terminated");
            }
        }
        self.publish(&task_updated_event(framework_id, &status, state));
        if group_done {
            if let Some(f) = self.framework(framework_id) {
                f.send(&json!({"type": "FAILURE", "failure": {
                    "agent_id": id(&agent_id), "executor_id": id(&executor_id), "status": 0}}));
            }
        }
        if recover {
            if let Some(agent) = self.agent_mut(&agent_id) {
                agent.used = agent.used.minus(&resources);
            }
            self.check_drained(&agent_id, fx);
            self.allocate_soon(fx);
        }
    }
}
