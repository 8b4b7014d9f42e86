//! SUBSCRIBE and a framework's life: its stream, its disconnection and failover, its
//! removal.

use super::*;

impl Master {
    /// SUBSCRIBE with only a FrameworkInfo.
    pub fn subscribe(
        &mut self,
        info: Value,
        tx: event_queue::Sender,
        fx: &mut Vec<Effect>,
    ) -> (String, Option<String>) {
        self.subscribe_call(&json!({ "framework_info": info }), tx, fx)
    }

    /// SUBSCRIBE (the call's `subscribe` message) with a new or returning framework.
    /// Always gives a stream id (the HTTP answer is 200 even when the framework is
    /// refused: the refusal is an ERROR event).
    ///
    /// As Mesos 1.11's master (`Master::subscribe`, `_subscribe`, `failoverFramework`): an
    /// empty id is a new framework; an invalid id, or the id of a framework this master
    /// removed, is refused, and so are suppressed roles the framework does not have and
    /// offer constraints Mesos cannot build; a known framework fails over to the new
    /// stream (the old one hears "Framework failed over" and closes, its offers are
    /// discarded); an id this master does not know is a framework it has not recovered yet
    /// (as after a master failover: Mesos keeps no record of frameworks), accepted with no
    /// tasks.
    pub fn subscribe_call(
        &mut self,
        call: &Value,
        tx: event_queue::Sender,
        fx: &mut Vec<Effect>,
    ) -> (String, Option<String>) {
        let mut info = call.get("framework_info").cloned().unwrap_or(Value::Null);
        crate::cluster::defaults::framework_info(&mut info);
        let stream_id = self.ids.uuid().to_string();
        let mut sink = EventSink::new(stream_id.clone(), tx);
        let refuse = |sink: &EventSink, message: &str| {
            sink.send(&json!({"type": "ERROR", "error": {"message": message}}));
        };
        let requested = id_of(info.get("id")).filter(|fid| !fid.is_empty());
        if requested.is_some() {
            self.counters.count("master/messages_reregister_framework");
        } else {
            self.counters.count("master/messages_register_framework");
        }
        if let Some(fid) = &requested {
            if let Err(e) = validate_id(fid) {
                refuse(&sink, &e);
                return (stream_id, None);
            }
        }
        // Mesos's `validateFramework`, then the offer constraints.
        let roles = roles_of(&info);
        let suppressed: BTreeSet<String> = call
            .get("suppressed_roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        if let Some(role) = suppressed.iter().find(|r| !roles.contains(r)) {
            refuse(
                &sink,
                &format!("Suppressed role '{role}' is not contained in the list of roles"),
            );
            return (stream_id, None);
        }
        if let Some(fid) = &requested {
            if self.completed_frameworks.iter().any(|c| c.id() == fid) {
                refuse(&sink, "Framework has been removed");
                return (stream_id, None);
            }
        }
        let constraints = match OfferConstraints::parse(call.get("offer_constraints")) {
            Ok(c) => c,
            Err(message) => {
                refuse(&sink, &message);
                return (stream_id, None);
            }
        };
        let constraints_json = call
            .get("offer_constraints")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let now = now_secs();
        // A framework that names its id subscribes again (after a failover of its own, or
        // of the master): operator streams hear FRAMEWORK_UPDATED.
        let resubscribed = requested.is_some();
        let fid = match requested {
            Some(fid) if self.framework(&fid).is_some() => {
                let Some(f) = self.framework(&fid) else {
                    return (stream_id, None);
                };
                let principal = |i: &Value| i.get("principal").filter(|p| !p.is_null()).cloned();
                if principal(&f.info) != principal(&info) {
                    refuse(&sink, "Changing framework's principal is not allowed.");
                    return (stream_id, None);
                }
                // User and checkpointing cannot change (MESOS-703): Mesos keeps the old ones.
                for field in ["user", "checkpoint"] {
                    match f.info.get(field) {
                        Some(v) => info[field] = v.clone(),
                        None => {
                            if let Value::Object(m) = &mut info {
                                m.remove(field);
                            }
                        }
                    }
                }
                // The offers made to the old connection are discarded (no RESCIND: the new
                // one never saw them) and offered again.
                let offered: Vec<String> = self
                    .offers
                    .iter()
                    .filter(|o| o.framework_id == fid)
                    .map(|o| o.id.clone())
                    .collect();
                for offer_id in offered {
                    self.take_offer(&offer_id);
                }
                let Some(f) = self.framework_mut(&fid) else {
                    return (stream_id, None);
                };
                if let Some(old) = f.sink.take() {
                    // Dropping the old sink ends its stream after this event, as Mesos
                    // closes the old connection.
                    old.send(
                        &json!({"type": "ERROR", "error": {"message": "Framework failed over"}}),
                    );
                }
                info["id"] = id(&fid);
                f.info = info;
                sink.counts = f.events.clone();
                f.sink = Some(sink);
                f.active = true;
                f.generation += 1;
                f.reregistered_time = now;
                f.suppressed_roles = suppressed;
                f.offer_constraints = constraints;
                f.offer_constraints_json = constraints_json;
                fid
            }
            other => {
                // A new framework, or one recovering after a master failover.
                let fid = match other {
                    Some(fid) => fid,
                    None => self.fresh_framework_id(),
                };
                info["id"] = id(&fid);
                let events = Arc::new(EventCounts::default());
                sink.counts = events.clone();
                self.frameworks.push(Framework {
                    id: fid.clone(),
                    info,
                    sink: Some(sink),
                    active: true,
                    suppressed_roles: suppressed,
                    offer_constraints: constraints,
                    offer_constraints_json: constraints_json,
                    counts: Counts::default(),
                    events,
                    registered_time: now,
                    reregistered_time: now,
                    unregistered_time: None,
                    tasks: Default::default(),
                    completed_tasks: Default::default(),
                    unreachable_tasks: Vec::new(),
                    filters: Vec::new(),
                    generation: 0,
                });
                self.publish_framework("FRAMEWORK_ADDED", &fid);
                fid
            }
        };
        if let Some(f) = self.framework_mut(&fid) {
            f.counts.bump("calls/subscribe");
        }
        let subscribed = json!({
            "type": "SUBSCRIBED",
            "subscribed": {
                "framework_id": id(&fid),
                "heartbeat_interval_seconds": self.settings.heartbeat_interval.as_secs_f64(),
                "master_info": self.master_info()
            }
        });
        if let Some(f) = self.framework(&fid) {
            f.send(&subscribed);
            // The first HEARTBEAT follows SUBSCRIBED at once, as in Mesos.
            f.send(&json!({"type": "HEARTBEAT"}));
            // Updates waiting for an acknowledgement go out again on the new stream.
            for task in &f.tasks {
                if !self.answers(&task.agent_id) {
                    continue;
                }
                if let Some(head) = task.pending.front() {
                    f.send_update(head);
                }
            }
        }
        if resubscribed {
            self.publish_framework("FRAMEWORK_UPDATED", &fid);
        }
        self.allocate(fx);
        (stream_id, Some(fid))
    }

    /// The next framework id not taken by a framework that recovered with its own id (after
    /// a restart of a seeded master, ids repeat).
    pub(super) fn fresh_framework_id(&mut self) -> String {
        loop {
            let fid = self.ids.framework();
            let taken = self.frameworks.iter().any(|f| f.id == fid)
                || self.completed_frameworks.iter().any(|c| c.id() == fid);
            if !taken {
                return fid;
            }
        }
    }

    /// Checks done for every call but SUBSCRIBE, in Mesos's order.
    pub fn check_stream(
        &self,
        framework_id: &str,
        stream_id: Option<&str>,
    ) -> Result<(), CallError> {
        let Some(f) = self.framework(framework_id) else {
            return Err(CallError::new(400, "Framework cannot be found"));
        };
        let Some(sink) = &f.sink else {
            return Err(CallError::new(403, "Framework is not subscribed"));
        };
        match stream_id {
            None => Err(CallError::new(
                400,
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header",
            )),
            Some(s) if s != sink.stream_id => Err(CallError::new(
                400,
                format!(
                    "The stream ID '{s}' included in this request didn't match the stream ID currently associated with framework ID {framework_id}"
                ),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The framework's stream closed: it stays, inactive, for its failover timeout.
    pub fn disconnected(&mut self, framework_id: &str, stream_id: &str, fx: &mut Vec<Effect>) {
        let Some(f) = self.framework_mut(framework_id) else {
            return;
        };
        if f.sink.as_ref().map(|s| s.stream_id.as_str()) != Some(stream_id) {
            return;
        }
        f.sink = None;
        f.active = false;
        f.generation += 1;
        let generation = f.generation;
        let timeout = Duration::from_secs_f64(f.failover_timeout().clamp(0.0, 1e9));
        // Its offers go back; it cannot answer them.
        let mine: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in mine {
            self.take_offer(&offer_id);
        }
        fx.push(Effect::Timer(
            Instant::now() + timeout,
            Timer::Failover {
                framework_id: framework_id.to_string(),
                generation,
            },
        ));
        self.publish_framework("FRAMEWORK_UPDATED", framework_id);
        self.allocate(fx);
    }

    /// TEARDOWN (scheduler or operator), or an expired failover timeout: the framework's
    /// tasks are killed and it moves to the completed frameworks.
    pub fn remove_framework(&mut self, framework_id: &str, fx: &mut Vec<Effect>) -> bool {
        let kept = self.settings.flags.retention;
        let Some(pos) = self.frameworks.iter().position(|f| f.id == framework_id) else {
            return false;
        };
        let mut f = self.frameworks.remove(pos);
        f.sink = None;
        f.active = false;
        f.unregistered_time = Some(now_secs());
        // Task groups' executors still running give their own resources back once.
        let mut executors_done: Vec<(String, String)> = Vec::new();
        let mut published = Vec::new();
        for mut task in f.tasks.drain() {
            if let Some(kill) = &task.kill {
                let _ = kill.send(true);
            }
            if !task.is_terminal() {
                // Mesos's `removeFramework`: the task is implicitly killed.
                let mut status = json!({
                    "task_id": id(&task.task_id),
                    "state": "TASK_KILLED",
                    "source": "SOURCE_MASTER",
                    "reason": "REASON_FRAMEWORK_REMOVED",
                    "message": format!("Framework {framework_id} removed"),
                    "agent_id": id(&task.agent_id),
                    "timestamp": now_secs()
                });
                if task.executor.is_some() {
                    status["executor_id"] = id(&task.executor_id);
                }
                task.state = "TASK_KILLED".into();
                task.statuses.push(StoredStatus::new(&status));
                self.counters.task_ended(&status);
                f.counts.bump("tasks/terminal/task_killed");
                published.push(task_updated_event(framework_id, &status, "TASK_KILLED"));
                let run = (task.executor_id.clone(), task.container_id.clone());
                // A framework's own executors give theirs back below.
                if task.executor.is_some()
                    && !task.has_custom_executor()
                    && !executors_done.contains(&run)
                {
                    executors_done.push(run);
                    if let Some(agent) = self.agent_mut(&task.agent_id) {
                        agent.used = agent.used.minus(&task.executor_resources);
                    }
                }
            }
            if !task.resources_recovered {
                task.resources_recovered = true;
                if let Some(agent) = self.agent_mut(&task.agent_id) {
                    agent.used = agent.used.minus(&task.resources);
                }
            }
            task.pending.clear();
            f.completed_tasks
                .push(task, kept.completed_tasks_per_framework);
        }
        self.shutdown_framework_executors(framework_id);
        for event in &published {
            self.publish(event);
        }
        let mine: Vec<String> = self
            .offers
            .iter()
            .filter(|o| o.framework_id == framework_id)
            .map(|o| o.id.clone())
            .collect();
        for offer_id in mine {
            self.take_offer(&offer_id);
        }
        // Its tasks are gone from their agents: a draining one may be drained now.
        let mut agents: Vec<String> = f
            .completed_tasks
            .summaries()
            .map(|t| t.agent_id.to_string())
            .collect();
        agents.sort();
        agents.dedup();
        self.completed_frameworks.push(CompletedFramework::new(f));
        self.publish_framework("FRAMEWORK_REMOVED", framework_id);
        cap(&mut self.completed_frameworks, kept.completed_frameworks);
        for agent_id in agents {
            self.check_drained(&agent_id, fx);
        }
        self.allocate(fx);
        true
    }
}
