//! Frameworks' own (custom) executors: one run per executor id on an agent, its life
//! (registering, subscribed, terminating), the tasks queued for it until it subscribes,
//! and the v1 executor API's calls as a Mesos agent handles them (`Slave::subscribe`,
//! `Slave::statusUpdate`, `Slave::executorMessage`, `Slave::registerExecutorTimeout` and
//! `Slave::executorTerminated` in `src/slave/slave.cpp`). The process itself is run by
//! `custom_executor.rs`; the HTTP side is `executor_api.rs`.

use super::*;

/// Where an executor run is in its life (Mesos's `Executor::State`, TERMINATED being the
/// run's removal here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Started, not yet subscribed: tasks wait in `queued`.
    Registering,
    Running,
    /// Shut down or timed out: its process is being stopped.
    Terminating,
}

/// Why a run is being terminated, written into its tasks' last updates (Mesos's
/// `Executor::pendingTermination`).
#[derive(Debug, Clone)]
struct Termination {
    state: &'static str,
    reason: &'static str,
    message: String,
}

#[derive(Debug)]
pub struct ExecutorRun {
    pub framework_id: String,
    pub agent_id: String,
    pub executor_id: String,
    pub container_id: String,
    /// The ExecutorInfo as the framework gave it, with Mesos's defaults and its framework
    /// id: what a later task's must equal.
    pub info: Value,
    pub resources: Resources,
    pub directory: PathBuf,
    pub state: RunState,
    pub pid: Option<u32>,
    sink: Option<event_queue::Sender>,
    /// TaskInfos launched before it subscribed, delivered after SUBSCRIBED in order.
    queued: Vec<Value>,
    termination: Option<Termination>,
    /// Asks its process to stop: killed once the duration (the grace period) is over.
    stop: watch::Sender<Option<Duration>>,
    /// Its resources went back to the agent (its framework was removed before it ended).
    released: bool,
    /// It was sent a task (Mesos's `Executor::everSentTask`).
    delivered: bool,
}

impl ExecutorRun {
    fn send(&self, event: &Value) {
        if let Some(sink) = &self.sink {
            let _ = sink.send(frame(event));
        }
    }

    /// SHUTDOWN, then the kill once its grace period is over: its ExecutorInfo's, else
    /// the agent's flag (`flag`), as `Slave::_shutdownExecutor` chooses.
    fn shut_down(&mut self, flag: Duration) {
        self.send(&json!({"type": "SHUTDOWN"}));
        self.state = RunState::Terminating;
        let _ = self.stop.send(Some(grace_period(&self.info, flag)));
    }
}

/// An ExecutorInfo's `shutdown_grace_period`, else `flag` (`--executor_shutdown_grace_period`).
fn grace_period(executor: &Value, flag: Duration) -> Duration {
    let nanos = executor.pointer("/shutdown_grace_period/nanoseconds");
    // int64 in JSON: a number, or a string as protobuf's JSON also writes it.
    nanos
        .and_then(Value::as_u64)
        .or_else(|| nanos.and_then(Value::as_str).and_then(|n| n.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or(flag)
}

/// How to start an executor's process on its agent (`custom_executor.rs`).
#[derive(Debug)]
pub struct ExecutorLaunch {
    pub framework_id: String,
    pub agent_id: String,
    pub executor_id: String,
    pub executor_name: String,
    pub container_id: String,
    pub directory: PathBuf,
    pub command: CommandSpec,
    /// What Mesos's agent gives an executor (`executorEnvironment`), then the command's own.
    pub env: Vec<(String, String)>,
    pub uris: Vec<UriSpec>,
    pub stop: watch::Receiver<Option<Duration>>,
}

/// The command of an ExecutorInfo or a TaskInfo, as the process runner takes it.
pub fn command_spec(command: &Value) -> CommandSpec {
    CommandSpec {
        shell: command
            .get("shell")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        value: command
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_string),
        arguments: command
            .get("arguments")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A command's environment variables and URIs.
pub fn command_env(command: &Value) -> Vec<(String, String)> {
    command
        .pointer("/environment/variables")
        .and_then(Value::as_array)
        .map(|vars| {
            vars.iter()
                .filter_map(|v| {
                    let name = v.get("name")?.as_str()?.to_string();
                    let value = v.get("value").and_then(Value::as_str).unwrap_or("");
                    Some((name, value.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn command_uris(command: &Value) -> Vec<UriSpec> {
    command
        .get("uris")
        .and_then(Value::as_array)
        .map(|uris| {
            uris.iter()
                .filter_map(|u| {
                    Some(UriSpec {
                        value: u.get("value")?.as_str()?.to_string(),
                        extract: u.get("extract").and_then(Value::as_bool).unwrap_or(true),
                        executable: u
                            .get("executable")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                        output_file: u
                            .get("output_file")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a TaskInfo names its own executor (a LAUNCH task, not a command task).
pub fn has_custom_executor(task: &Value) -> bool {
    task.get("executor").is_some_and(|e| !e.is_null())
}

impl Master {
    fn run(&self, framework_id: &str, agent_id: &str, executor_id: &str) -> Option<&ExecutorRun> {
        self.executors.iter().find(|r| {
            r.framework_id == framework_id && r.agent_id == agent_id && r.executor_id == executor_id
        })
    }

    fn run_mut(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
    ) -> Option<&mut ExecutorRun> {
        self.executors.iter_mut().find(|r| {
            r.framework_id == framework_id && r.agent_id == agent_id && r.executor_id == executor_id
        })
    }

    /// A task's ExecutorInfo as the master keeps it: Mesos's defaults, the framework's id
    /// (the master fills it in for LAUNCH), `type` CUSTOM when it was left out.
    pub(super) fn custom_executor_info(framework_id: &str, task: &Value) -> Value {
        let mut e = task.get("executor").cloned().unwrap_or(Value::Null);
        crate::cluster::defaults::executor_info(&mut e);
        if let Some(o) = e.as_object_mut() {
            o.entry("framework_id").or_insert_with(|| id(framework_id));
            o.entry("type").or_insert_with(|| json!("CUSTOM"));
        }
        e
    }

    /// Mesos's checks of a LAUNCH task's executor (`validateExecutor` and
    /// `executor::internal::validate` in `src/master/validation.cpp`); the executor's own
    /// resources when it is not running on the agent yet (they are allocated with the task).
    pub(super) fn validate_custom_executor(
        &self,
        framework_id: &str,
        agent_id: &str,
        task: &Value,
    ) -> Result<Resources, String> {
        let given = task.get("executor").unwrap_or(&Value::Null);
        let executor_id = id_of(given.get("executor_id")).unwrap_or_default();
        validate_id(&executor_id)?;
        if let Some(fid) = id_of(given.get("framework_id")) {
            if fid != framework_id {
                return Err(format!(
                    "ExecutorInfo has an invalid FrameworkID (Actual: {fid} vs Expected: {framework_id})"
                ));
            }
        }
        if given
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != "CUSTOM")
        {
            return Err("'ExecutorInfo.type' must be 'CUSTOM'".into());
        }
        if given.get("command").is_none_or(Value::is_null) {
            return Err("'ExecutorInfo.command' must be set".into());
        }
        if self.agent(agent_id).is_some_and(|a| a.remote.is_some()) {
            return Err("Frameworks' own executors run only on agents of the leading master's process in the mesos-kernel embedded cluster".into());
        }
        let info = Self::custom_executor_info(framework_id, task);
        let resources = Resources::from_v1(given.get("resources").unwrap_or(&json!([])))
            .map_err(|e| format!("Executor uses invalid resources: {e}"))?;
        match self.run(framework_id, agent_id, &executor_id) {
            // Mesos writes both with protobuf's text format; they are JSON here.
            Some(run) if run.info != info => Err(format!(
                "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.\n\
                 ------------------------------------------------------------\n\
                 Existing ExecutorInfo:\n{}\n\
                 ------------------------------------------------------------\n\
                 ExecutorInfo:\n{}\n\
                 ------------------------------------------------------------\n",
                run.info, info
            )),
            Some(_) => Ok(Resources::default()),
            None => Ok(resources),
        }
    }

    /// The container a task of this executor runs in: the running executor's, else a new
    /// run's (`fresh`).
    pub(super) fn custom_container(
        &self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        fresh: &str,
    ) -> String {
        self.run(framework_id, agent_id, executor_id)
            .map(|r| r.container_id.clone())
            .unwrap_or_else(|| fresh.to_string())
    }

    /// A task launched for a framework's own executor: the executor is started when it is
    /// not running on the agent yet, and the task goes to it (a LAUNCH event), or waits
    /// for it to subscribe.
    pub(super) fn deliver_to_executor(
        &mut self,
        framework_id: &str,
        task_id: &str,
        fx: &mut Vec<Effect>,
    ) {
        let Some(task) = self.framework(framework_id).and_then(|f| f.task(task_id)) else {
            return;
        };
        let (agent_id, executor_id) = (task.agent_id.clone(), task.executor_id.clone());
        let info = task.info.value();
        let executor = task.executor.clone().unwrap_or(Value::Null);
        let (container_id, directory) = (task.container_id.clone(), task.sandbox.clone());
        let executor_name = task.executor_name.clone();
        if self.run(framework_id, &agent_id, &executor_id).is_none() {
            let resources = task.executor_resources.clone();
            let (stop_tx, stop_rx) = watch::channel(None);
            let env = self.executor_environment(framework_id, &agent_id, &executor, &directory);
            let command = executor.get("command").unwrap_or(&Value::Null);
            fx.push(Effect::LaunchExecutor(Box::new(ExecutorLaunch {
                framework_id: framework_id.to_string(),
                agent_id: agent_id.clone(),
                executor_id: executor_id.clone(),
                executor_name,
                container_id: container_id.clone(),
                directory: directory.clone(),
                command: command_spec(command),
                env,
                uris: command_uris(command),
                stop: stop_rx,
            })));
            let timeout = self.settings.flags.executors.registration_timeout;
            fx.push(Effect::Timer(
                Instant::now() + timeout,
                Timer::ExecutorRegistration {
                    framework_id: framework_id.to_string(),
                    agent_id: agent_id.clone(),
                    executor_id: executor_id.clone(),
                    container_id: container_id.clone(),
                },
            ));
            self.executors.push(ExecutorRun {
                framework_id: framework_id.to_string(),
                agent_id: agent_id.clone(),
                executor_id: executor_id.clone(),
                container_id,
                info: executor,
                resources,
                directory,
                state: RunState::Registering,
                pid: None,
                sink: None,
                queued: Vec::new(),
                termination: None,
                stop: stop_tx,
                released: false,
                delivered: false,
            });
        }
        let pid = self
            .run(framework_id, &agent_id, &executor_id)
            .and_then(|r| r.pid);
        if let Some(pid) = pid {
            self.task_process(framework_id, task_id, pid);
        }
        let Some(run) = self.run_mut(framework_id, &agent_id, &executor_id) else {
            return;
        };
        match run.state {
            RunState::Running => {
                run.delivered = true;
                run.send(&json!({"type": "LAUNCH", "launch": {"task": info}}));
            }
            _ => run.queued.push(info),
        }
    }

    /// What Mesos's agent puts in an executor's environment (`executorEnvironment` in
    /// `src/slave/slave.cpp`, `MESOS_SANDBOX` from the containerizer), then the
    /// command's own variables.
    fn executor_environment(
        &self,
        framework_id: &str,
        agent_id: &str,
        executor: &Value,
        directory: &std::path::Path,
    ) -> Vec<(String, String)> {
        let flags = crate::cluster::flags::duration;
        let port = self.agent(agent_id).map(|a| a.port).unwrap_or(0);
        let ip = self.settings.ip;
        let checkpoint = self
            .framework(framework_id)
            .and_then(|f| f.info.get("checkpoint"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let grace = grace_period(
            executor,
            self.settings.flags.executors.shutdown_grace_period,
        );
        let dir = directory.display().to_string();
        let mut env = vec![
            ("LIBPROCESS_PORT".to_string(), "0".to_string()),
            ("MESOS_FRAMEWORK_ID".into(), framework_id.to_string()),
            (
                "MESOS_EXECUTOR_ID".into(),
                id_of(executor.get("executor_id")).unwrap_or_default(),
            ),
            ("MESOS_DIRECTORY".into(), dir.clone()),
            ("MESOS_SANDBOX".into(), dir),
            ("MESOS_SLAVE_ID".into(), agent_id.to_string()),
            ("MESOS_SLAVE_PID".into(), format!("slave(1)@{ip}:{port}")),
            ("MESOS_AGENT_ENDPOINT".into(), format!("{ip}:{port}")),
            (
                "MESOS_CHECKPOINT".into(),
                if checkpoint { "1" } else { "0" }.into(),
            ),
            ("MESOS_HTTP_COMMAND_EXECUTOR".into(), "0".into()),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(), flags(grace)),
        ];
        if checkpoint {
            // The agents' `--recovery_timeout` and `--executor_reregistration_timeout`.
            env.push(("MESOS_RECOVERY_TIMEOUT".into(), "15mins".into()));
            env.push(("MESOS_SUBSCRIPTION_BACKOFF_MAX".into(), "2secs".into()));
        }
        env.extend(command_env(executor.get("command").unwrap_or(&Value::Null)));
        env
    }

    /// The executor's process started (its process group's id).
    pub fn executor_process(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        pid: u32,
    ) {
        if let Some(run) = self.run_mut(framework_id, agent_id, executor_id) {
            run.pid = Some(pid);
        }
        let tasks: Vec<String> = self
            .framework(framework_id)
            .map(|f| {
                f.tasks
                    .iter()
                    .filter(|t| t.agent_id == agent_id && t.executor_id == executor_id)
                    .map(|t| t.task_id.clone())
                    .collect()
            })
            .unwrap_or_default();
        for t in tasks {
            self.task_process(framework_id, &t, pid);
        }
    }

    /// The executor API's SUBSCRIBE: SUBSCRIBED on the new stream, then the tasks queued
    /// for it. A terminating executor is told to shut down instead.
    pub fn executor_subscribe(
        &mut self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
        tx: event_queue::Sender,
    ) -> Result<(), CallError> {
        self.agent_knows(agent_id, framework_id)?;
        let framework_info = self.framework(framework_id).map(|f| f.info.clone());
        let agent_info = match self.agent(agent_id) {
            Some(a) => views::agent_info_v1(self, a),
            None => Value::Null,
        };
        let grace = self.settings.flags.executors.shutdown_grace_period;
        let Some(run) = self.run_mut(framework_id, agent_id, executor_id) else {
            return Err(CallError::new(400, "Executor cannot be found"));
        };
        // A retried SUBSCRIBE replaces the earlier connection (Mesos closes it).
        run.sink = Some(tx);
        // A terminating run, or one whose framework was removed (terminating on the agent).
        let Some(framework_info) = framework_info.filter(|_| run.state != RunState::Terminating)
        else {
            run.send(&json!({"type": "SHUTDOWN"}));
            run.sink = None;
            return Ok(());
        };
        run.state = RunState::Running;
        // MESOS-8411: an executor whose every task was killed before delivery is shut down.
        if !run.delivered && run.queued.is_empty() {
            run.shut_down(grace);
            return Ok(());
        }
        run.delivered |= !run.queued.is_empty();
        run.send(&json!({"type": "SUBSCRIBED", "subscribed": {
            "executor_info": run.info,
            "framework_info": framework_info,
            "agent_info": agent_info,
            "container_id": {"value": run.container_id},
        }}));
        for task in std::mem::take(&mut run.queued) {
            run.send(&json!({"type": "LAUNCH", "launch": {"task": task}}));
        }
        Ok(())
    }

    /// Whether the agent knows the framework, as a Mesos agent does while it runs an
    /// executor of it (a removed framework's executors keep it until they end).
    fn agent_knows(&self, agent_id: &str, framework_id: &str) -> Result<(), CallError> {
        let runs = self
            .executors
            .iter()
            .any(|r| r.framework_id == framework_id && r.agent_id == agent_id);
        let tasks = self.framework(framework_id).is_some_and(|f| {
            f.tasks
                .iter()
                .any(|t| t.agent_id == agent_id && !t.is_terminal())
        });
        if runs || tasks {
            Ok(())
        } else {
            Err(CallError::new(400, "Framework cannot be found"))
        }
    }

    /// The run a non-SUBSCRIBE call names, subscribed (Mesos answers 403 before that).
    fn subscribed_run(
        &self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
    ) -> Result<&ExecutorRun, CallError> {
        self.agent_knows(agent_id, framework_id)?;
        let Some(run) = self.run(framework_id, agent_id, executor_id) else {
            return Err(CallError::new(400, "Executor cannot be found"));
        };
        if run.state == RunState::Registering {
            return Err(CallError::new(403, "Executor is not subscribed"));
        }
        Ok(run)
    }

    /// The executor API's UPDATE: its TaskStatus enters the agent's update stream to the
    /// framework as the executor wrote it (its uuid, source SOURCE_EXECUTOR), and the
    /// executor hears ACKNOWLEDGED at once: a Mesos agent acknowledges an executor's update
    /// when its status update manager has taken it, not when the framework does
    /// (`Slave::___statusUpdate`).
    pub fn executor_update(
        &mut self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
        mut status: Value,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        self.subscribed_run(agent_id, framework_id, executor_id)?;
        let task_id = id_of(status.get("task_id")).unwrap_or_default();
        let uuid = status.get("uuid").cloned().unwrap_or(Value::Null);
        let ip = self.settings.ip;
        let known = self
            .framework(framework_id)
            .and_then(|f| f.task(&task_id))
            .filter(|t| t.agent_id == agent_id && t.executor_id == executor_id);
        if let Some(task) = known {
            if let Some(o) = status.as_object_mut() {
                o.insert("agent_id".into(), id(agent_id));
                o.insert("executor_id".into(), id(executor_id));
                o.entry("timestamp").or_insert_with(|| json!(now_secs()));
                o.entry("container_status")
                    .or_insert_with(|| crate::cluster::containers::status(task, ip));
            }
            if !task.is_terminal() && self.answers(agent_id) {
                self.enter_update(framework_id, &task_id, status, fx);
            }
        }
        if let Some(run) = self.run(framework_id, agent_id, executor_id) {
            run.send(&json!({"type": "ACKNOWLEDGED", "acknowledged": {
                "task_id": id(&task_id), "uuid": uuid}}));
        }
        Ok(())
    }

    /// The executor API's MESSAGE: a MESSAGE event to its framework.
    pub fn executor_message(
        &mut self,
        agent_id: &str,
        framework_id: &str,
        executor_id: &str,
        data: &Value,
    ) -> Result<(), CallError> {
        self.subscribed_run(agent_id, framework_id, executor_id)?;
        self.counters.count("master/messages_executor_to_framework");
        if let Some(f) = self.framework(framework_id) {
            f.send(&json!({"type": "MESSAGE", "message": {
                "agent_id": id(agent_id), "executor_id": id(executor_id), "data": data}}));
        }
        Ok(())
    }

    /// A scheduler's MESSAGE to a running executor of its own: whether one took it.
    pub(super) fn message_to_executor(
        &self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        data: &Value,
    ) -> bool {
        match self.run(framework_id, agent_id, executor_id) {
            Some(run) if run.state == RunState::Running => {
                run.send(&json!({"type": "MESSAGE", "message": {"data": data}}));
                true
            }
            _ => false,
        }
    }

    /// KILL of a task of a framework's own executor: a KILL event to the executor, which
    /// sends the task's last update; a task still queued for an executor that has not
    /// subscribed is killed by the agent (`Slave::killTask`).
    pub(super) fn kill_custom(&mut self, framework_id: &str, task_id: &str, fx: &mut Vec<Effect>) {
        let Some(task) = self.framework(framework_id).and_then(|f| f.task(task_id)) else {
            return;
        };
        let (agent_id, executor_id) = (task.agent_id.clone(), task.executor_id.clone());
        let policy = task.info.get("kill_policy");
        let Some(run) = self.run_mut(framework_id, &agent_id, &executor_id) else {
            return;
        };
        let before = run.queued.len();
        run.queued
            .retain(|t| id_of(t.get("task_id")).as_deref() != Some(task_id));
        if run.queued.len() != before {
            self.agent_update(
                framework_id,
                task_id,
                ("TASK_KILLED", "REASON_TASK_KILLED_DURING_LAUNCH"),
                "Killed before delivery to the executor",
                fx,
            );
            return;
        }
        let mut kill = json!({"task_id": id(task_id)});
        if let Some(p) = policy {
            kill["kill_policy"] = p;
        }
        run.send(&json!({"type": "KILL", "kill": kill}));
    }

    /// SHUTDOWN (the scheduler's call) of a framework's own executor on an agent.
    pub(super) fn shutdown_custom(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
    ) -> bool {
        let grace = self.settings.flags.executors.shutdown_grace_period;
        match self.run_mut(framework_id, agent_id, executor_id) {
            Some(run) => {
                run.shut_down(grace);
                true
            }
            None => false,
        }
    }

    /// A removed framework's executors are shut down; their resources go back now (the
    /// master forgets them with the framework).
    pub(super) fn shutdown_framework_executors(&mut self, framework_id: &str) {
        let grace = self.settings.flags.executors.shutdown_grace_period;
        let mut freed = Vec::new();
        for run in self
            .executors
            .iter_mut()
            .filter(|r| r.framework_id == framework_id)
        {
            run.shut_down(grace);
            if !run.released {
                run.released = true;
                freed.push((run.agent_id.clone(), run.resources.clone()));
            }
        }
        for (agent_id, resources) in freed {
            if let Some(agent) = self.agent_mut(&agent_id) {
                agent.used = agent.used.minus(&resources);
            }
        }
    }

    /// The agent's processes die (it crashed, or is shut down): its frameworks' executors
    /// are killed at once, without SHUTDOWN.
    pub(super) fn kill_executors_on(&self, agent_id: &str) {
        for run in self.executors.iter().filter(|r| r.agent_id == agent_id) {
            let _ = run.stop.send(Some(Duration::ZERO));
        }
    }

    /// The executors of these frameworks on the agent are killed at once (a restarted
    /// agent cannot recover those of frameworks that do not checkpoint).
    pub(super) fn kill_executors_of(&self, agent_id: &str, framework_ids: &[String]) {
        let runs = self
            .executors
            .iter()
            .filter(|r| r.agent_id == agent_id && framework_ids.contains(&r.framework_id));
        for run in runs {
            let _ = run.stop.send(Some(Duration::ZERO));
        }
    }

    /// `--executor_registration_timeout` is over: a run that never subscribed is
    /// destroyed, its tasks fail with Mesos's reason.
    pub(super) fn executor_registration_timeout(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        container_id: &str,
    ) {
        let timeout = self.settings.flags.executors.registration_timeout;
        let Some(run) = self.run_mut(framework_id, agent_id, executor_id) else {
            return;
        };
        if run.container_id != container_id || run.state != RunState::Registering {
            return;
        }
        run.termination = Some(Termination {
            state: "TASK_FAILED",
            reason: "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
            message: format!(
                "Executor did not register within {}",
                crate::cluster::flags::duration(timeout)
            ),
        });
        run.state = RunState::Terminating;
        let _ = run.stop.send(Some(Duration::ZERO));
    }

    /// The executor's process ended (`status` its wait status): its tasks that are not
    /// over fail (or get its pending termination's state), its framework hears FAILURE,
    /// and its resources go back.
    pub fn executor_exited(
        &mut self,
        framework_id: &str,
        agent_id: &str,
        executor_id: &str,
        container_id: &str,
        status: Option<i32>,
        fx: &mut Vec<Effect>,
    ) {
        let Some(pos) = self.executors.iter().position(|r| {
            r.framework_id == framework_id
                && r.agent_id == agent_id
                && r.executor_id == executor_id
                && r.container_id == container_id
        }) else {
            return;
        };
        let run = self.executors.remove(pos);
        if !run.released {
            if let Some(agent) = self.agent_mut(agent_id) {
                agent.used = agent.used.minus(&run.resources);
            }
        }
        let Some(f) = self.framework(framework_id) else {
            return;
        };
        let live: Vec<String> = f
            .tasks
            .iter()
            .filter(|t| {
                t.agent_id == agent_id
                    && t.executor_id == executor_id
                    && t.container_id == container_id
                    && !t.is_terminal()
            })
            .map(|t| t.task_id.clone())
            .collect();
        let (state, reason, message) = match &run.termination {
            Some(t) => (t.state, t.reason, t.message.clone()),
            None => (
                "TASK_FAILED",
                "REASON_EXECUTOR_TERMINATED",
                "Executor terminated".to_string(),
            ),
        };
        for task_id in live {
            self.agent_update(framework_id, &task_id, (state, reason), &message, fx);
        }
        // An agent that crashed or was cut off tells the master nothing.
        if !self.answers(agent_id) {
            self.allocate_soon(fx);
            return;
        }
        self.counters.count("master/messages_exited_executor");
        if let Some(agent) = self.agent_mut(agent_id) {
            agent.counts.bump("slave/executors_terminated");
        }
        if let Some(f) = self.framework(framework_id) {
            let mut failure = json!({"agent_id": id(agent_id), "executor_id": id(executor_id)});
            if let Some(s) = status {
                failure["status"] = json!(s);
            }
            f.send(&json!({"type": "FAILURE", "failure": failure}));
        }
        self.allocate_soon(fx);
    }

    /// An update the agent makes itself for a task of a framework's executor (source
    /// SOURCE_AGENT, with a uuid: it is acknowledged like the executor's).
    fn agent_update(
        &mut self,
        framework_id: &str,
        task_id: &str,
        (state, reason): (&str, &str),
        message: &str,
        fx: &mut Vec<Effect>,
    ) {
        let ip = self.settings.ip;
        let uuid = base64::engine::general_purpose::STANDARD.encode(self.ids.uuid().as_bytes());
        let Some(task) = self.framework(framework_id).and_then(|f| f.task(task_id)) else {
            return;
        };
        if !self.answers(&task.agent_id) {
            return;
        }
        let status = json!({
            "task_id": id(task_id),
            "state": state,
            "source": "SOURCE_AGENT",
            "reason": reason,
            "message": message,
            "agent_id": id(&task.agent_id),
            "executor_id": id(&task.executor_id),
            "timestamp": now_secs(),
            "uuid": uuid,
            "container_status": crate::cluster::containers::status(task, ip),
        });
        self.enter_update(framework_id, task_id, status, fx);
    }
}
