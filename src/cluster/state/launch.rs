//! ACCEPT's launches: the offers it uses, the checks of each task (Mesos's messages), the
//! tasks made and started, and the master's own updates of the tasks it refuses.

use super::*;

impl Master {
    /// ACCEPT: LAUNCH and LAUNCH_GROUP here, reservations and volumes in
    /// `offer_operations.rs`, in the order given (a LAUNCH may use what a RESERVE before it
    /// reserved). Operations on resource providers' disks are refused before anything
    /// happens (501): the agents have only their default resources.
    pub fn accept(
        &mut self,
        framework_id: &str,
        offer_ids: &[String],
        operations: &[Value],
        refuse_seconds: f64,
        fx: &mut Vec<Effect>,
    ) -> Result<(), CallError> {
        // Each group is launched (or refused) as a whole: a LAUNCH gives one group per task;
        // another operation stands alone (the third member).
        let mut groups: Vec<(Option<Value>, Vec<Value>, Option<&Value>)> = Vec::new();
        let mut id_refused: Vec<&Value> = Vec::new();
        for op in operations {
            let kind = op.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN");
            // Operation feedback is for operations other than launches (`_accept`).
            if matches!(kind, "LAUNCH" | "LAUNCH_GROUP") && op.get("id").is_some() {
                id_refused.push(op);
                continue;
            }
            match kind {
                "LAUNCH" => {
                    let tasks = op
                        .pointer("/launch/task_infos")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.extend(tasks.into_iter().map(|t| (None, vec![t], None)));
                }
                "LAUNCH_GROUP" => {
                    let executor = op.pointer("/launch_group/executor").cloned();
                    let tasks = op
                        .pointer("/launch_group/task_group/tasks")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default();
                    groups.push((Some(executor.unwrap_or(Value::Null)), tasks, None));
                }
                k if offer_operations::SUPPORTED.contains(&k) => groups.push((None, vec![], Some(op))),
                other => {
                    return Err(CallError::new(
                        501,
                        format!(
                            "Offer operation '{other}' is not supported by the mesos-kernel embedded cluster (its agents have no resource providers)"
                        ),
                    ))
                }
            }
        }
        let Some(f) = self.framework_mut(framework_id) else {
            return Err(CallError::new(400, "Framework cannot be found"));
        };
        // Mesos's counters: a LAUNCH with tasks is a launch, one without a decline.
        let mut messages = Vec::new();
        for op in operations {
            let kind = op.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN");
            f.counts
                .bump(&format!("operations/{}", kind.to_ascii_lowercase()));
            if kind == "LAUNCH" {
                let empty = op
                    .pointer("/launch/task_infos")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty);
                messages.push(if empty {
                    "master/messages_decline_offers"
                } else {
                    "master/messages_launch_tasks"
                });
            }
        }
        for name in messages {
            self.counters.count(name);
        }

        // Offers first: all must be outstanding, this framework's, on one agent.
        let mut offer_error = None;
        let mut agent_id: Option<String> = None;
        let mut role = String::from("*");
        for (i, offer_id) in offer_ids.iter().enumerate() {
            if offer_ids[..i].contains(offer_id) {
                offer_error = Some(format!("Duplicate offer {offer_id} in accept"));
                break;
            }
            match self.offers.iter().find(|o| &o.id == offer_id) {
                Some(o) if o.framework_id == framework_id => {
                    if agent_id.as_ref().is_some_and(|a| a != &o.agent_id) {
                        offer_error =
                            Some("Aggregated offers must belong to the same agent".into());
                        break;
                    }
                    agent_id = Some(o.agent_id.clone());
                    role = o.role.clone();
                }
                _ => {
                    offer_error = Some(format!("Offer {offer_id} is no longer valid"));
                    break;
                }
            }
        }
        if offer_ids.is_empty() {
            offer_error = Some("No offers specified".into());
        }
        let mut available = Resources::default();
        for offer_id in offer_ids {
            let mine = self
                .offers
                .iter()
                .any(|o| &o.id == offer_id && o.framework_id == framework_id);
            if mine {
                if let Some(o) = self.take_offer(offer_id) {
                    available = available.plus(&o.resources);
                    if let Some(f) = self.framework_mut(framework_id) {
                        f.counts.bump("offers/accepted");
                    }
                }
            }
        }
        if let Some(error) = offer_error {
            let partition_aware = self
                .framework(framework_id)
                .is_some_and(Framework::partition_aware);
            let state = if partition_aware {
                "TASK_DROPPED"
            } else {
                "TASK_LOST"
            };
            for (_, tasks, _) in &groups {
                for t in tasks {
                    self.master_update(
                        framework_id,
                        t,
                        state,
                        "REASON_INVALID_OFFERS",
                        &format!("Task launched with invalid offers: {error}"),
                    );
                }
            }
            self.allocate_soon(fx);
            return Ok(());
        }
        let Some(agent_id) = agent_id else {
            return Ok(());
        };
        for op in id_refused {
            offer_operations::refuse_launch_with_id(self, framework_id, op);
        }

        let multi_role = self
            .framework(framework_id)
            .is_some_and(|f| f.has_capability("MULTI_ROLE"));
        for (executor, tasks, other) in groups {
            if let Some(op) = other {
                self.offer_operation(framework_id, (&agent_id, &role), op, &mut available, fx);
                continue;
            }
            let mut needed = Resources::default();
            let mut error = None;
            let mut needed_role = role.clone();
            if let Some(exec) = &executor {
                let list = exec.get("resources").unwrap_or(&Value::Null);
                match allocation::allocation_role(list, &role, multi_role)
                    .and_then(|r| Ok((r, Resources::from_v1(list)?)))
                {
                    Ok((r, res)) => (needed_role, needed) = (r, res),
                    Err(e) => error = Some(e),
                }
            }
            let mut seen: Vec<String> = Vec::new();
            for t in &tasks {
                if error.is_some() {
                    break;
                }
                match self.validate_task(framework_id, &agent_id, t, executor.is_some(), &seen) {
                    Ok(r) => {
                        let list = t.get("resources").unwrap_or(&Value::Null);
                        match allocation::allocation_role(list, &role, multi_role) {
                            Ok(own) if seen.is_empty() && executor.is_none() => needed_role = own,
                            Ok(own) if own != needed_role => {
                                error = Some(format!("Invalid task resources: The resources have multiple allocation roles ('{own}' and '{needed_role}') but only one allocation role is allowed"));
                            }
                            Ok(_) => {}
                            Err(e) => error = Some(e),
                        }
                        needed = needed.plus(&r);
                        seen.push(id_of(t.get("task_id")).unwrap_or_default());
                    }
                    Err(e) => error = Some(e),
                }
            }
            if error.is_none() && (needed_role != role || !available.contains(&needed)) {
                error = Some(allocation::more_than_available(
                    &needed,
                    &needed_role,
                    &available,
                    &role,
                ));
            }
            if let Some(message) = error {
                for t in &tasks {
                    self.master_update(
                        framework_id,
                        t,
                        "TASK_ERROR",
                        "REASON_TASK_INVALID",
                        &message,
                    );
                }
                continue;
            }
            available = available.minus(&needed);
            if let Some(agent) = self.agent_mut(&agent_id) {
                agent.used = agent.used.plus(&needed);
            }
            // One executor run (one container, one sandbox) per LAUNCH task or per group.
            let container_id = self.ids.uuid().to_string();
            for t in &tasks {
                self.launch(
                    framework_id,
                    (&agent_id, &role),
                    t,
                    executor.as_ref(),
                    &container_id,
                    fx,
                );
            }
        }
        if !available.is_empty() {
            self.add_filter(
                framework_id,
                (&agent_id, &role),
                available,
                refuse_seconds,
                fx,
            );
        }
        self.allocate_soon(fx);
        Ok(())
    }

    /// Mesos's task checks, in its order; the task's resources when it is valid.
    pub(super) fn validate_task(
        &self,
        framework_id: &str,
        agent_id: &str,
        task: &Value,
        in_group: bool,
        earlier_in_group: &[String],
    ) -> Result<Resources, String> {
        let task_id = id_of(task.get("task_id")).unwrap_or_default();
        validate_id(&task_id)?;
        let duplicate = self
            .framework(framework_id)
            .is_some_and(|f| f.task(&task_id).is_some())
            || earlier_in_group.contains(&task_id);
        if duplicate {
            return Err(format!("Task has duplicate ID: {task_id}"));
        }
        let task_agent = id_of(task.get("agent_id")).unwrap_or_default();
        if task_agent != agent_id {
            return Err(format!(
                "Task uses invalid agent {task_agent} while agent {agent_id} is expected"
            ));
        }
        let has_command = task.get("command").is_some_and(|c| !c.is_null());
        let has_executor = task.get("executor").is_some_and(|c| !c.is_null());
        if !in_group && has_command == has_executor {
            return Err(
                "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
                    .into(),
            );
        }
        // A new executor's own resources are allocated with its first task.
        let executor_resources = if has_executor && !in_group {
            self.validate_custom_executor(framework_id, agent_id, task)?
        } else {
            Resources::default()
        };
        crate::cluster::checks::validate(task)?;
        let list = task.get("resources").unwrap_or(&Value::Null);
        if list.as_array().is_none_or(Vec::is_empty) {
            return Err("Task uses no resources".into());
        }
        let resources =
            Resources::from_v1(list).map_err(|e| format!("Task uses invalid resources: {e}"))?;
        Ok(resources.plus(&executor_resources))
    }

    pub(super) fn launch(
        &mut self,
        framework_id: &str,
        offer: (&str, &str),
        info: &Value,
        group_executor: Option<&Value>,
        container_id: &str,
        fx: &mut Vec<Effect>,
    ) {
        let (agent_id, role) = offer;
        let task_id = id_of(info.get("task_id")).unwrap_or_default();
        let name = info
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let resources =
            Resources::from_v1(info.get("resources").unwrap_or(&Value::Null)).unwrap_or_default();
        let command = super::executors::command_spec(info.get("command").unwrap_or(&Value::Null));
        let docker_image =
            if info.pointer("/container/type").and_then(Value::as_str) == Some("DOCKER") {
                Some(
                    info.pointer("/container/docker/image")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            } else {
                None
            };
        // A LAUNCH task naming its own executor runs in that executor's container.
        let custom_executor = match group_executor {
            None if executors::has_custom_executor(info) => {
                Some(Self::custom_executor_info(framework_id, info))
            }
            _ => None,
        };
        let (executor_id, executor_name) = match group_executor.or(custom_executor.as_ref()) {
            Some(e) => (
                id_of(e.get("executor_id")).unwrap_or_else(|| task_id.clone()),
                e.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            ),
            None => (
                task_id.clone(),
                views::command_executor_name(&task_id, info.get("command").unwrap_or(&Value::Null)),
            ),
        };
        let container_id = if custom_executor.is_some() {
            self.custom_container(framework_id, agent_id, &executor_id, container_id)
        } else {
            container_id.to_string()
        };
        let executor_dir = self
            .settings
            .work_dir
            .join("slaves")
            .join(agent_id)
            .join("frameworks")
            .join(framework_id)
            .join("executors")
            .join(&executor_id)
            .join("runs")
            .join(&container_id);
        // Tasks of a group share their executor's sandbox, each in `tasks/<id>` as the
        // default executor lays them out.
        let sandbox = if group_executor.is_some() {
            executor_dir.join("tasks").join(&task_id)
        } else {
            executor_dir
        };
        let info_command = info.get("command").unwrap_or(&Value::Null);
        let env = super::executors::command_env(info_command);
        let uris = super::executors::command_uris(info_command);
        let killing_state = self
            .framework(framework_id)
            .is_some_and(|f| f.has_capability("TASK_KILLING_STATE"));
        let nested_container = group_executor.map(|_| self.ids.uuid().to_string());
        let (kill_tx, kill_rx) = watch::channel(false);
        let mut stored = info.clone();
        crate::cluster::defaults::task_info(&mut stored);
        stored["agent_id"] = id(agent_id);
        let task = Task {
            task_id: task_id.clone(),
            name,
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            executor_id: executor_id.clone(),
            executor_name,
            container_id: container_id.clone(),
            info: StoredInfo::new(&stored),
            resources,
            executor_resources: group_executor
                .or(custom_executor.as_ref())
                .and_then(|e| Resources::from_v1(e.get("resources").unwrap_or(&Value::Null)).ok())
                .unwrap_or_default(),
            role: role.to_string(),
            state: "TASK_STAGING".into(),
            statuses: Vec::new(),
            pending: VecDeque::new(),
            acked_status: None,
            sandbox: sandbox.clone(),
            docker_image: docker_image.clone(),
            executor: group_executor
                .cloned()
                .map(|mut e| {
                    crate::cluster::defaults::executor_info(&mut e);
                    e
                })
                .or(custom_executor.clone()),
            nested_container_id: nested_container.clone(),
            pid: None,
            // A framework's executor kills its tasks itself (a KILL event).
            kill: custom_executor.is_none().then_some(kill_tx),
            resources_recovered: false,
            json: Default::default(),
        };
        let added = task_added_event(&task);
        if let Some(f) = self.framework_mut(framework_id) {
            f.tasks.push(task);
        }
        self.publish(&added);
        // A crashed agent never hears of the task: it stays TASK_STAGING until the master
        // notices the agent is gone, as in Mesos.
        if !self.answers(agent_id) {
            return;
        }
        if custom_executor.is_some() {
            self.deliver_to_executor(framework_id, &task_id, fx);
            return;
        }
        let volumes = self
            .framework(framework_id)
            .and_then(|f| f.task(&task_id))
            .map(|t| volumes::task_links(&self.settings.work_dir, agent_id, &t.resources))
            .unwrap_or_default();
        fx.push(Effect::Launch(Box::new(LaunchSpec {
            framework_id: framework_id.to_string(),
            agent_id: agent_id.to_string(),
            task_id,
            executor_id,
            container_id,
            nested_container,
            sandbox,
            command,
            docker_image,
            env,
            uris,
            killing_state,
            kill_grace: self.settings.kill_grace,
            kill: kill_rx,
            volumes,
            probes: crate::cluster::checks::Probes::of(info),
        })));
    }

    /// An update made by the master itself (invalid task, reconciliation): no uuid, so it
    /// is neither retried nor acknowledged.
    pub(super) fn master_update(
        &mut self,
        framework_id: &str,
        task: &Value,
        state: &str,
        reason: &str,
        message: &str,
    ) {
        let status = json!({
            "task_id": task.get("task_id").cloned().unwrap_or_else(|| id("")),
            "state": state,
            "source": "SOURCE_MASTER",
            "reason": reason,
            "message": message,
            "agent_id": task.get("agent_id").cloned().unwrap_or(Value::Null),
            "timestamp": now_secs()
        });
        let mut status = status;
        if status["agent_id"].is_null() {
            if let Some(o) = status.as_object_mut() {
                o.remove("agent_id");
            }
        }
        self.counters.task_ended(&status);
        if let Some(f) = self.framework_mut(framework_id) {
            f.counts
                .bump(&format!("tasks/terminal/{}", state.to_ascii_lowercase()));
            f.send_update(&status);
        }
    }
}
