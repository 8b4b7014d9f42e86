//! The framework session in cells: SUBSCRIBE, the scheduler calls with their chores done,
//! and the helpers OFFERS, LAUNCH, TASKS, EVENTS and LOGS, with live displays that update
//! in place. Session state reaches jq as `$framework_id`, `$stream_id`, `$offers`,
//! `$tasks`, `$events` and `$last_heartbeat`.

use crate::cells::parser::Call;
use crate::cells::registry::{self, Api, CallSpec};
use crate::display::table::{tables_bundle, Cell, Table};
use crate::display::{self, Bundle, Format};
use crate::engine::bound::Bound;
use crate::engine::connect::{agent_url, mesos_error, scheme_of};
use crate::engine::errors::{self, Kind};
use crate::engine::failover::{align_framework_ids, ended_error};
use crate::engine::launch_resources;
use crate::engine::session::{referenced_names, Variables};
use crate::engine::{show_duration, Engine, Outcome};
use crate::jupyter::publisher::Publisher;
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::event_log::LoggedEvent;
use crate::mesos::scheduler::{call_type, KnownTask, Session, State};
use crate::mesos::v1::command::{CommandUri, Environment};
use crate::mesos::v1::container::DockerNetwork;
use crate::mesos::v1::ids::id_text;
use crate::mesos::v1::message::read_lenient;
use crate::mesos::v1::scheduler::{Accept, Call as SchedulerCall, CallType};
use crate::mesos::v1::{
    to_sparse_value, CommandInfo, ContainerInfo, DockerInfo, Filters, Offer, OfferOperation,
    Ranges, Resource, Resources, TaskId, TaskInfo, TaskState, TaskStatus,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The least time between two redraws of `TASKS watch` (the operator view's too).
const LIVE_INTERVAL: std::time::Duration = crate::engine::operator::VIEW_INTERVAL;

/// LOGS looks at an empty file this many times, this far apart, before saying it is empty.
const LOGS_LOOKS: u32 = 30;
const LOGS_PAUSE: Duration = Duration::from_millis(100);

fn invalid(msg: impl Into<String>) -> CellError {
    CellError::new(Kind::InvalidCall.name(), msg)
}

/// The ports an offer has, in order (at most `limit`).
fn offer_ports(resources: &Resources, limit: usize) -> Vec<u64> {
    resources
        .ports()
        .map(|p| p.numbers(limit))
        .unwrap_or_default()
}

/// `$tasks` rows with the state tone, for TASKS and LAUNCH wait.
fn tasks_bundle(tasks: &[Value]) -> Bundle {
    display::render(&Value::Array(tasks.to_vec()), Some("TASKS"), Format::Auto)
}

fn offers_bundle(offers: &[Value], note: &str) -> Bundle {
    if offers.is_empty() {
        return Bundle::text(format!("no outstanding offers{note}")).with(
            "text/html",
            format!(
                "<p>no outstanding offers{}</p>",
                display::table::escape_html(note)
            ),
        );
    }
    display::render(&Value::Array(offers.to_vec()), Some("OFFERS"), Format::Auto)
}

/// An event's `"type"` (read from its text only for one the vocabulary did not know).
fn event_type(e: &LoggedEvent) -> Option<String> {
    match e.kind() {
        Some(k) => Some(k.to_string()),
        None => e
            .value()
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn events_bundle(events: &[Value]) -> Bundle {
    let mut t = Table::new("events", &["received", "type", "detail"]);
    for e in events {
        let kind = e
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let mut body = e.clone();
        if let Value::Object(m) = &mut body {
            m.remove("type");
            m.remove("received");
        }
        let detail = if body.as_object().is_some_and(Map::is_empty) {
            String::new()
        } else {
            body.to_string()
        };
        t.push(vec![
            Cell::new(e.get("received").and_then(Value::as_str).unwrap_or("")),
            Cell::new(kind),
            Cell::new(display::table::truncate(&detail, 160)),
        ]);
    }
    tables_bundle(&[t])
}

/// Waits for the session to change, up to `until`; false when the deadline passed.
async fn changed(
    rx: &mut tokio::sync::watch::Receiver<u64>,
    until: tokio::time::Instant,
    cancel: &CancellationToken,
) -> Result<bool, CellError> {
    tokio::select! {
        r = tokio::time::timeout_at(until, rx.changed()) => Ok(matches!(r, Ok(Ok(())))),
        _ = cancel.cancelled() => Err(errors::interrupted()),
    }
}

/// What a scheduler call shows: the master's answer, or that it was accepted.
fn call_outcome(kind: &CallType, answer: Value) -> Outcome {
    let name = kind.as_str().to_string();
    let value = if answer.is_null() {
        json!({"type": name, "status": "202 Accepted"})
    } else {
        answer
    };
    Outcome::shown(value, Some(name))
}

/// Draws a `TASKS watch` again when the tasks changed since it was last drawn.
fn redraw(drawn: &Mutex<Drawn>, shared: &Mutex<State>, publisher: &Publisher, id: &str) {
    let now = shared
        .lock()
        .map(|s| s.tasks_in_order())
        .unwrap_or_default();
    let Ok(mut d) = drawn.lock() else { return };
    if d.tasks != now {
        publisher.update_display(&tasks_bundle(&now), id);
        d.tasks = now;
        d.at = tokio::time::Instant::now();
    }
}

/// A running `TASKS watch`: how to stop it, its display, and the tasks it last drew.
pub(crate) struct TasksWatch {
    pub stop: CancellationToken,
    display_id: String,
    /// Shared with the task that redraws it, so the end of a cell draws what the paced
    /// redraw has not drawn yet (paced as that one is).
    drawn: Arc<Mutex<Drawn>>,
}

/// What a `TASKS watch` last drew, and when.
struct Drawn {
    tasks: Vec<Value>,
    at: tokio::time::Instant,
}

fn display_id() -> String {
    format!("mesos-kernel-{}", uuid::Uuid::new_v4())
}

impl Engine {
    fn session(&self) -> Result<&Session, CellError> {
        match &self.session {
            Some(s) if s.is_active() => Ok(s),
            Some(s) => Err(ended_error(s)),
            None => Err(invalid(
                "no framework is subscribed: run SUBSCRIBE name=... user=... first",
            )),
        }
    }

    /// Copies the session into the jq variables, and shows what happened since the last
    /// statement (reconnections, errors from the master).
    pub(crate) fn sync_session(&mut self, publisher: Option<&Publisher>) {
        let Some(session) = &self.session else { return };
        // Notices are taken only where they can be shown, so none is lost to a refresh.
        if let Some(p) = publisher {
            self.show_notices(p);
        }
        // Copied only when the session changed, and only what the variables show (not the
        // whole session state): a WAIT during a flood of updates syncs on every wake-up.
        if !session.changed_since_sync() {
            return;
        }
        let vars = &mut self.vars;
        session.with_state(|s| set_session_vars(vars, s, |_| true));
    }

    /// Before a statement: shows what happened since the last one, and copies the session
    /// variables the statement's text names (all of them for a magic, which may show any);
    /// the rest are copied when the cell ends (`Engine::execute`). A RECONCILE answered by
    /// 20,000 updates copied all of `$tasks` after the call and again before the next
    /// statement, under the session's lock while the updates poured in (`perf` of the
    /// kernel: 11 % of its time in a reconcile flood).
    pub(crate) fn sync_session_for_statement(&mut self, publisher: &Publisher, names: &[&str]) {
        self.show_notices(publisher);
        let Some(session) = &self.session else { return };
        if names.is_empty() || !session.changed_since_sync() {
            return;
        }
        let vars = &mut self.vars;
        session.with_state(|s| set_session_vars(vars, s, |name| names.contains(&name)));
    }

    /// For WAIT: copies only the session variables `code` mentions, and only when the
    /// session changed since `seen`. A condition on `$events` then never copies a big
    /// `$tasks`, which held the session's lock and stalled the event stream meanwhile. The
    /// next statement's `sync_session` still copies everything.
    pub(crate) fn sync_session_for(
        &mut self,
        publisher: &Publisher,
        code: &str,
        seen: &mut Option<u64>,
    ) {
        let Some(session) = &self.session else { return };
        for n in session.take_notices() {
            publisher.stream("stderr", &format!("{n}\n"));
        }
        let version = Some(session.version());
        if *seen == version {
            return;
        }
        *seen = version;
        let names = referenced_names(code);
        let vars = &mut self.vars;
        session.with_state(|s| set_session_vars(vars, s, |name| names.contains(&name)));
    }

    /// `SUBSCRIBE ...` by name, or its JSON body. The running session is replaced only when
    /// the new one is subscribed: a refused SUBSCRIBE leaves it as it was.
    pub(crate) async fn subscribe(
        &mut self,
        mut body: Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        if let Some(Value::Object(info)) = body.pointer_mut("/subscribe/framework_info") {
            info.entry("user")
                .or_insert_with(|| json!(std::env::var("USER").unwrap_or_else(|_| "root".into())));
            info.entry("name").or_insert_with(|| json!("mesos-kernel"));
            // `roles` is read only with MULTI_ROLE: giving roles asks for it.
            if info
                .get("roles")
                .is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
            {
                let caps = info.entry("capabilities").or_insert_with(|| json!([]));
                if let Some(list) = caps.as_array_mut() {
                    if !list.iter().any(|c| c["type"] == "MULTI_ROLE") {
                        list.push(json!({"type": "MULTI_ROLE"}));
                    }
                }
            }
        }
        let requested = align_framework_ids(&mut body);
        let master = self.master_base(ctx).await?;
        let handle = self.conn.master_handle();
        // Re-subscribing the running session's own framework: the master fails the old
        // stream over to the new one, which is this kernel, not another client.
        let same = self.session.as_ref().filter(|old| {
            old.is_active()
                && requested.is_some()
                && old.state().framework_id.map(|f| f.value) == requested
        });
        if let Some(old) = same {
            old.expect_failover(true);
        }
        let subscribed = Session::subscribe(
            &self.client,
            handle,
            body,
            self.manual_ack,
            self.timeout,
            &ctx.cancel,
        )
        .await;
        let session = match subscribed {
            Ok(session) => session,
            Err(e) => {
                if let Some(old) = &self.session {
                    old.expect_failover(false);
                }
                return Err(mesos_error(&e));
            }
        };
        if requested.is_some() {
            self.name_reconciled_tasks(&session, &master, ctx).await;
        }
        if let Some(old) = self.session.take() {
            old.end("replaced by a new SUBSCRIBE");
        }
        let s = session.state();
        self.session = Some(session);
        set_session_vars(&mut self.vars, &s, |_| true);
        let fid = s.framework_id.clone().unwrap_or_default();
        let mut summary = json!({
            "framework_id": to_sparse_value(&fid),
            "stream_id": s.stream_id,
            "heartbeat_interval_seconds": s.heartbeat_interval,
            "master": master,
            "master_info": s.master_info.as_ref().map(to_sparse_value),
        });
        let mut rows = vec![
            ("framework id".into(), Cell::new(fid.value)),
            (
                "stream id".into(),
                Cell::new(s.stream_id.clone().unwrap_or_default()),
            ),
            (
                "heartbeat interval".into(),
                Cell::new(format!("{} s", s.heartbeat_interval)),
            ),
            ("master".into(), Cell::new(master)),
        ];
        if requested.is_some() {
            // What the implicit reconciliation found: the framework's tasks, now in $tasks.
            summary["tasks"] = json!(s.tasks.len());
            rows.push((
                "tasks (reconciled)".into(),
                Cell::new(s.tasks.len().to_string()),
            ));
        }
        let table = Table::key_values("subscribed", rows);
        let mut outcome = Outcome::shown(summary, Some("SUBSCRIBE".into()));
        outcome.bundle = Some(tables_bundle(&[table]));
        Ok(outcome)
    }

    /// Any scheduler call: the session fills in framework_id and the stream id.
    pub(crate) async fn scheduler_call(
        &mut self,
        spec: Option<&CallSpec>,
        mut body: Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let kind = call_type(&body);
        if kind == CallType::Subscribe {
            return self.subscribe(body, ctx).await;
        }
        // Read from the session's state in place: a copy of all of it (every task's status,
        // the event log) for each call was most of what an ACKNOWLEDGE or a KILL cost in a
        // big session.
        let session = self.session()?;
        // What the call says, where it reads as a call (a malformed one goes to the master
        // as it is, for the master's own error).
        // (Read only where a call's fields are filled in: a RECONCILE of 20,000 tasks read
        // as a typed call, then again, and copied once more, was a tenth of its cost.)
        let call = if matches!(
            kind,
            CallType::Kill | CallType::Decline | CallType::Acknowledge
        ) {
            read_lenient::<SchedulerCall>(&body)
        } else {
            None
        };
        // Fill what the session knows, so `KILL task_id=web` and a bare DECLINE just work.
        match kind {
            CallType::Kill => {
                let kill = call.as_ref().and_then(|c| c.kill.as_ref());
                if let Some(kill) = kill.filter(|k| k.agent_id.is_none()) {
                    let tid = &kill.task_id.value;
                    let status = session
                        .with_state(|s| s.task_status(tid).ok_or_else(|| s.task_order.join(", ")))
                        .unwrap_or_else(|| Err(String::new()))
                        .map_err(|known| {
                            invalid(format!("no task '{tid}' in $tasks; tasks: {known}"))
                        })?;
                    if let (Some(agent), Some(Value::Object(kill))) =
                        (status.agent_id, body.get_mut("kill"))
                    {
                        kill.insert("agent_id".into(), to_sparse_value(&agent));
                    }
                }
            }
            CallType::Decline
                if call
                    .as_ref()
                    .is_some_and(|c| c.decline.as_ref().is_none_or(|d| d.offer_ids.is_empty())) =>
            {
                let ids: Vec<Value> = session
                    .with_state(|s| {
                        s.offers
                            .iter()
                            .map(|o| to_sparse_value(&o.message.id))
                            .collect()
                    })
                    .unwrap_or_default();
                if ids.is_empty() {
                    return Err(invalid("DECLINE: there are no outstanding offers"));
                }
                if let Some(Value::Object(d)) = body.get_mut("decline") {
                    d.insert("offer_ids".into(), Value::Array(ids));
                }
            }
            CallType::Reconcile => {
                // Mesos wants the list, even empty (all of the framework's tasks).
                if let Some(Value::Object(r)) = body.get_mut("reconcile") {
                    r.entry("tasks").or_insert_with(|| json!([]));
                }
            }
            CallType::Acknowledge
                if call
                    .as_ref()
                    .and_then(|c| c.acknowledge.as_ref())
                    .is_none_or(|a| a.uuid.is_empty()) =>
            {
                let task = call
                    .and_then(|c| c.acknowledge)
                    .map(|a| a.task_id.value)
                    .filter(|t| !t.is_empty());
                return self.acknowledge_pending(task.as_deref(), ctx).await;
            }
            _ => {}
        }
        // Offers named by ACCEPT or DECLINE are spent once the master has the call.
        let used: Vec<String> = match kind {
            CallType::Accept | CallType::Decline => read_lenient::<SchedulerCall>(&body)
                .map(|c| {
                    let accepted = c.accept.map(|a| a.offer_ids).unwrap_or_default();
                    let declined = c.decline.map(|d| d.offer_ids).unwrap_or_default();
                    accepted
                        .into_iter()
                        .chain(declined)
                        .map(|id| id.value)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let session = self.session()?;
        let answer = session
            .call(body, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        if !used.is_empty() {
            session.with_state(|s| s.offers.retain(|o| !used.contains(&o.message.id.value)));
        }
        if kind == CallType::Teardown {
            self.session = None;
            self.vars.set("offers", json!([]));
        }
        let _ = spec;
        Ok(call_outcome(&kind, answer))
    }

    /// A scheduler call the kernel fills nothing in, sent as the text it was written in.
    pub(crate) async fn scheduler_call_text(
        &mut self,
        kind: CallType,
        body: &RawValue,
        has_framework_id: bool,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let session = self.session()?;
        let answer = session
            .call_text(body.get(), has_framework_id, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        Ok(call_outcome(&kind, answer))
    }

    /// Acknowledges the updates waiting for a manual ACKNOWLEDGE (of one task, or all).
    async fn acknowledge_pending(
        &mut self,
        want: Option<&str>,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let session = self.session()?;
        let state = session.state();
        let pending: Vec<TaskStatus> = state
            .unacked
            .iter()
            .filter(|u| want.is_none_or(|t| u.task_id.value == t))
            .cloned()
            .collect();
        if pending.is_empty() {
            return Err(invalid(if state.manual_ack {
                "ACKNOWLEDGE: no update is waiting for an acknowledgement".to_string()
            } else {
                "ACKNOWLEDGE: updates are acknowledged automatically (%ack manual turns that off)"
                    .to_string()
            }));
        }
        for status in &pending {
            session
                .acknowledge(status, self.timeout, &ctx.cancel)
                .await
                .map_err(|e| mesos_error(&e))?;
        }
        self.sync_session(None);
        Ok(Outcome::shown(json!({"acknowledged": pending.len()}), None))
    }

    /// The helpers and scheduler calls by name.
    pub(crate) async fn framework_call(
        &mut self,
        call: &Call,
        args: Vec<(String, Value)>,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let name = call.name.to_ascii_uppercase();
        // Text fields take bare words as text: `cmd=true` is the command `true`.
        const TEXT: &[&str] = &[
            "name", "cmd", "docker", "network", "task_id", "task", "file", "type", "wait",
        ];
        let args: Vec<(String, Value)> = args
            .into_iter()
            .map(|(k, v)| match v {
                Value::Bool(_) | Value::Number(_) if TEXT.contains(&k.as_str()) => {
                    let text = v.to_string();
                    (k, Value::String(text))
                }
                other => (k, other),
            })
            .collect();
        match name.as_str() {
            "OFFERS" => self.offers(&args, ctx).await,
            "LAUNCH" => self.launch(&args, ctx).await,
            "TASKS" => self.tasks(call, ctx).await,
            "EVENTS" => self.events(&args, ctx).await,
            "LOGS" => self.logs(&args, ctx).await,
            "ACKNOWLEDGE" if Self::arg(&args, "uuid").is_none() => {
                // Manual mode: acknowledge what is pending (for one task, or all).
                let task = Self::arg(&args, "task_id").and_then(id_text);
                self.session()?;
                self.acknowledge_pending(task, ctx).await
            }
            _ => {
                let spec = registry::lookup(Api::Scheduler, &name)
                    .ok_or_else(|| errors::unknown_call(&name))?;
                let mut args = args;
                if name == "DECLINE" && Self::arg(&args, "offer_ids").is_none() {
                    // A bare DECLINE declines every outstanding offer.
                    let ids: Vec<Value> = self
                        .session()?
                        .state()
                        .offers
                        .iter()
                        .map(|o| to_sparse_value(&o.message.id))
                        .collect();
                    if ids.is_empty() {
                        return Err(invalid("DECLINE: there are no outstanding offers"));
                    }
                    args.push(("offer_ids".into(), Value::Array(ids)));
                }
                let body = registry::build_call(spec, &args).map_err(|e| invalid(e.to_string()))?;
                self.scheduler_call(Some(spec), body, ctx).await
            }
        }
    }

    fn arg<'a>(args: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
        args.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn check_keys(name: &str, args: &[(String, Value)], valid: &[&str]) -> Result<(), CellError> {
        for (k, _) in args {
            if !valid.contains(&k.as_str()) {
                return Err(invalid(format!(
                    "{name} has no field '{k}'; fields: {}",
                    valid.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn duration_arg(args: &[(String, Value)], key: &str) -> Result<Option<Duration>, CellError> {
        match Self::arg(args, key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n
                .as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(Duration::from_secs_f64)),
            Some(Value::String(s)) => crate::mesos::v1::parse_duration(s)
                .map(Some)
                .map_err(|_| invalid(format!("{key}={s} is not a duration (try 30s, 500ms, 2m)"))),
            Some(other) => Err(invalid(format!("{key}={other} is not a duration"))),
        }
    }

    /// `OFFERS [wait=30s] [min=1]`: the outstanding offers, waiting (and updating the
    /// table in place) until at least `min` are there.
    async fn offers(
        &mut self,
        args: &[(String, Value)],
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        Self::check_keys("OFFERS", args, &["wait", "min"])?;
        let wait = Self::duration_arg(args, "wait")?;
        let min = Self::arg(args, "min").and_then(Value::as_u64).unwrap_or(1) as usize;
        let session = self.session()?;
        let mut rx = session.changes();
        let mut offers = session.state().offers_json();
        let mut shown = false;
        if let Some(wait) = wait {
            let until = tokio::time::Instant::now() + wait;
            let id = display_id();
            if offers.len() < min {
                ctx.publisher.display(
                    &offers_bundle(
                        &offers,
                        &format!(" yet; waiting up to {}", show_duration(wait)),
                    ),
                    Some(&id),
                );
                shown = true;
            }
            while offers.len() < min {
                if !changed(&mut rx, until, &ctx.cancel).await? {
                    break;
                }
                if !session.is_active() {
                    return Err(ended_error(session));
                }
                offers = session.state().offers_json();
                ctx.publisher
                    .update_display(&offers_bundle(&offers, ""), &id);
            }
            if offers.len() < min {
                self.sync_session(None);
                return Err(CellError::new(
                    Kind::Timeout.name(),
                    format!(
                        "OFFERS: {} offer(s) after {}, wanted {min}",
                        offers.len(),
                        show_duration(wait)
                    ),
                ));
            }
        }
        self.sync_session(None);
        let mut outcome = Outcome::shown(Value::Array(offers), Some("OFFERS".into()));
        if shown {
            outcome.shows = false;
        }
        Ok(outcome)
    }

    /// `LAUNCH name= cmd= cpus= mem= ...`: an ACCEPT with one LAUNCH on the first offer that
    /// fits (or `offer=`), optionally waiting for the task to reach a state.
    async fn launch(
        &mut self,
        args: &[(String, Value)],
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let valid = [
            "offer",
            "name",
            "task_id",
            "cmd",
            "shell",
            "args",
            "cpus",
            "mem",
            "disk",
            "ports",
            "docker",
            "network",
            "uris",
            "env",
            "wait",
            "role",
            "volume",
            "path",
            "volume_size",
            "health",
            "check",
        ];
        Self::check_keys("LAUNCH", args, &valid)?;
        let name = Self::arg(args, "name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("LAUNCH needs name="))?
            .to_string();
        let num = |key: &str, default: f64| -> Result<f64, CellError> {
            match Self::arg(args, key) {
                None => Ok(default),
                Some(v) => v
                    .as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .ok_or_else(|| invalid(format!("{key}={v} is not a number"))),
            }
        };
        let cpus = num("cpus", 0.1)?;
        let mem = num("mem", 32.0)?;
        let disk = num("disk", 0.0)?;
        let ports_wanted: Vec<u64> = match Self::arg(args, "ports") {
            None => Vec::new(),
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_u64).collect(),
            Some(Value::Number(n)) => vec![0; n.as_u64().unwrap_or(0) as usize],
            Some(other) => {
                return Err(invalid(format!(
                    "ports={other}: give a count or a list of ports"
                )))
            }
        };
        let docker = Self::arg(args, "docker")
            .and_then(Value::as_str)
            .map(str::to_string);
        // args= is the whole argv, run without a shell: text in it reaches the program
        // as it is, never a shell the user did not ask for.
        let argv: Option<Vec<String>> = match Self::arg(args, "args") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        invalid("args= must be a list of strings (the argv, program name first)")
                    })?,
            ),
            Some(_) => {
                return Err(invalid(
                    "args= must be a list of strings (the argv, program name first)",
                ))
            }
        };
        let cmd = Self::arg(args, "cmd")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| argv.as_ref().and_then(|a| a.first().cloned()));
        if cmd.is_none() && docker.is_none() {
            return Err(invalid(
                "LAUNCH needs cmd= (a command), args= (an argv) or docker= (an image)",
            ));
        }
        let wait = Self::arg(args, "wait")
            .and_then(Value::as_str)
            .map(|w| TaskState::from_loose(&w.to_ascii_uppercase()));

        let role = Self::arg(args, "role")
            .and_then(Value::as_str)
            .map(str::to_string);
        let want_volume = match Self::arg(args, "volume") {
            None => None,
            Some(Value::String(id)) => Some(launch_resources::WantedVolume {
                id: id.clone(),
                path: Self::arg(args, "path")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_string(),
                size: num("volume_size", 0.0).map(|v| (v > 0.0).then_some(v))?,
            }),
            Some(other) => return Err(invalid(format!("volume={other}: give the volume's id"))),
        };
        // Checked before an offer is looked for: a bad argument is the first thing said.
        let health_check = Self::arg(args, "health")
            .map(super::launch_probes::health_check)
            .transpose()
            .map_err(invalid)?;
        let check = Self::arg(args, "check")
            .map(super::launch_probes::check)
            .transpose()
            .map_err(invalid)?;
        let session = self.session()?;
        let state = session.state();
        // What the task takes of an offer: its volume (the offer's, or one to create), then
        // cpus, mem and disk as pieces of the offer's resources, reserved ones first.
        let pick = |offer: &Offer| -> Option<(Vec<Resource>, Option<Resource>)> {
            if let Some(r) = &role {
                if offer
                    .allocation_info
                    .as_ref()
                    .and_then(|a| a.role.as_deref())
                    != Some(r)
                {
                    return None;
                }
            }
            let mut pool = offer.resources.clone();
            let mut taken = Vec::new();
            let mut create = None;
            if let Some(w) = &want_volume {
                let (v, made) = launch_resources::volume(offer, w)?;
                if let Some(m) = &made {
                    let mut base = m.clone();
                    base.disk = None;
                    pool = launch_resources::without(&pool, &[base]);
                }
                create = made;
                taken.push(v);
            }
            for (name, amount) in [("cpus", cpus), ("mem", mem), ("disk", disk)] {
                if amount > 0.0 {
                    taken.extend(launch_resources::take(&pool, name, amount)?);
                }
            }
            let have = Resources::from_resources(offer.resources.clone());
            (offer_ports(&have, ports_wanted.len()).len() >= ports_wanted.len())
                .then_some((taken, create))
        };
        let wanted = |offer: &Offer| pick(offer).is_some();
        let offer: Offer = match Self::arg(args, "offer") {
            Some(o) if o.is_object() => read_lenient(o)
                .ok_or_else(|| invalid(format!("offer={o} does not read as an offer")))?,
            Some(other) => return Err(invalid(format!("offer= must be an offer object (such as $offers[0]), not {other}"))),
            None => state.offers.iter().map(|o| &o.message).find(|o| wanted(o)).cloned().ok_or_else(|| {
                invalid(if state.offers.is_empty() {
                    "LAUNCH: there are no outstanding offers (OFFERS wait=30s waits for some)".to_string()
                } else {
                    format!("LAUNCH: no outstanding offer has cpus {cpus}, mem {mem}, disk {disk}{}; OFFERS shows what there is", want_volume.as_ref().map(|v| format!(", volume '{}'", v.id)).unwrap_or_default())
                })
            })?,
        };
        let task_id = match Self::arg(args, "task_id") {
            Some(v) => id_text(v)
                .map(str::to_string)
                .ok_or_else(|| invalid("task_id= must be a string"))?,
            None => {
                let mut n = 0;
                loop {
                    let candidate = if n == 0 {
                        name.clone()
                    } else {
                        format!("{name}-{n}")
                    };
                    if !state.tasks.contains_key(&candidate) {
                        break candidate;
                    }
                    n += 1;
                }
            }
        };
        let (mut resources, create) = pick(&offer).ok_or_else(|| {
            invalid(format!(
                "LAUNCH: the offer has not cpus {cpus}, mem {mem}, disk {disk}{} for the task",
                want_volume
                    .as_ref()
                    .map(|v| format!(" and volume '{}'", v.id))
                    .unwrap_or_default()
            ))
        })?;
        let mut chosen_ports: Vec<u64> = Vec::new();
        if !ports_wanted.is_empty() {
            chosen_ports = if ports_wanted.iter().all(|p| *p == 0) {
                let have = Resources::from_resources(offer.resources.clone());
                offer_ports(&have, ports_wanted.len())
            } else {
                ports_wanted.clone()
            };
            // One range per port, in the order asked for.
            let ranges = Ranges {
                range: chosen_ports
                    .iter()
                    .map(|p| crate::mesos::v1::Range::new(*p, *p))
                    .collect(),
                ..Default::default()
            };
            resources.push(Resource::ranges("ports", ranges));
        }
        // Every resource carries the offer's allocation (a MULTI_ROLE framework must say it).
        for r in &mut resources {
            if r.allocation_info.is_none() {
                r.allocation_info = offer.allocation_info.clone();
            }
        }
        let shell = Self::arg(args, "shell")
            .and_then(Value::as_bool)
            .unwrap_or(cmd.is_some() && argv.is_none());
        if shell && argv.is_some() {
            return Err(invalid(
                "args= runs without a shell; give the command line as cmd= for shell=true",
            ));
        }
        let mut command = CommandInfo {
            value: cmd.clone(),
            shell: Some(shell),
            arguments: argv.clone().unwrap_or_default(),
            ..Default::default()
        };
        if let Some(u) = Self::arg(args, "uris") {
            let one = |i: &Value| match i {
                Value::String(s) => Ok(CommandUri::new(s.as_str())),
                other => CommandUri::deserialize(other)
                    .map_err(|e| invalid(format!("uris: {other} is not a URI: {e}"))),
            };
            command.uris = match u {
                Value::Array(items) => items.iter().map(one).collect::<Result<_, _>>()?,
                Value::String(_) => vec![one(u)?],
                other => {
                    return Err(invalid(format!(
                        "uris={other}: give a URI or a list of them"
                    )))
                }
            };
        }
        // As Marathon does, the chosen ports reach the command as PORT and PORT0, PORT1 ...
        let mut variables: Vec<(String, String)> = Vec::new();
        for (i, p) in chosen_ports.iter().enumerate() {
            if i == 0 {
                variables.push(("PORT".into(), p.to_string()));
            }
            variables.push((format!("PORT{i}"), p.to_string()));
        }
        if let Some(env) = Self::arg(args, "env") {
            let vars = env
                .as_object()
                .ok_or_else(|| invalid("env= must be an object such as {\"A\": \"1\"}"))?;
            variables.extend(vars.iter().map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            }));
        }
        if !variables.is_empty() {
            command.environment = Some(Environment::from_pairs(variables));
        }
        let mut info = TaskInfo {
            name: name.clone(),
            task_id: TaskId::new(task_id.as_str()),
            agent_id: offer.agent_id.clone(),
            resources,
            command: Some(command),
            health_check,
            check,
            ..Default::default()
        };
        if let Some(image) = &docker {
            let network = Self::arg(args, "network")
                .and_then(Value::as_str)
                .unwrap_or("HOST")
                .to_ascii_uppercase();
            info.container = Some(ContainerInfo::docker(DockerInfo {
                network: Some(DockerNetwork::from_name(&network)),
                ..DockerInfo::new(image.as_str())
            }));
        }
        let accept = SchedulerCall {
            accept: Some(Accept {
                offer_ids: vec![offer.id.clone()],
                operations: create
                    .into_iter()
                    .map(OfferOperation::create)
                    .chain([OfferOperation::launch(vec![info.clone()])])
                    .collect(),
                filters: Some(Filters::refuse(5.0)),
                ..Default::default()
            }),
            ..SchedulerCall::new(CallType::Accept)
        };
        let task = to_sparse_value(&info);
        let body = to_sparse_value(&accept);
        ctx.publisher.display(
            &Bundle::json(&body).with_meta("mesos-kernel", json!({"sent": "ACCEPT"})),
            None,
        );
        // The task is STAGING from the moment it is sent, as the master sees it.
        let mut placeholder = to_sparse_value(&TaskStatus {
            agent_id: Some(offer.agent_id.clone()),
            message: Some("sent to the master".into()),
            ..TaskStatus::new(task_id.as_str(), TaskState::Staging)
        });
        placeholder["name"] = json!(name);
        let before = session.with_state(|s| {
            let new = !s.tasks.contains_key(&task_id);
            if new {
                s.task_order.push(task_id.clone());
            }
            (
                new,
                s.tasks
                    .insert(task_id.clone(), KnownTask::from_value(&placeholder)),
            )
        });
        if let Err(e) = self.scheduler_call(None, body, ctx).await {
            // Nothing was launched: the task is as it was before the LAUNCH.
            if let (Ok(session), Some((new, old))) = (self.session(), before) {
                session.with_state(|s| match old {
                    Some(old) => {
                        s.tasks.insert(task_id.clone(), old);
                    }
                    None if new => {
                        s.tasks.remove(&task_id);
                        s.task_order.retain(|t| *t != task_id);
                    }
                    None => {}
                });
            }
            return Err(e);
        }
        let Some(want) = wait else {
            self.sync_session(None);
            return Ok(Outcome::shown(task, None));
        };
        let status = self.wait_for_task(&task_id, &want, ctx).await?;
        let mut outcome = Outcome::shown(status, Some("TASKS".into()));
        outcome.shows = false;
        Ok(outcome)
    }

    /// A live status line for one task until it reaches `want` (or a failure state, which
    /// is an error with the task's message).
    async fn wait_for_task(
        &mut self,
        task_id: &str,
        want: &TaskState,
        ctx: &ExecuteContext,
    ) -> Result<Value, CellError> {
        let session = self.session()?;
        let mut rx = session.changes();
        let until = tokio::time::Instant::now() + self.timeout.max(Duration::from_secs(30));
        let id = display_id();
        // The one task read in place: a copy of the whole state on each change was the
        // session's every status and its event log.
        let current = |s: &Session| {
            s.with_state(|st| st.tasks.get(task_id).map(KnownTask::to_value))
                .flatten()
                .unwrap_or(Value::Null)
        };
        let mut status = current(session);
        ctx.publisher
            .display(&tasks_bundle(std::slice::from_ref(&status)), Some(&id));
        loop {
            let typed = read_lenient::<TaskStatus>(&status);
            let state = typed.as_ref().map(|t| t.state.clone()).unwrap_or_default();
            if state == *want || (*want == TaskState::Running && state == TaskState::Finished) {
                break;
            }
            if state.is_terminal() {
                self.sync_session(None);
                let msg = typed.and_then(|t| t.message).unwrap_or_default();
                return Err(CellError::new(
                    "TaskFailed",
                    format!(
                        "task {task_id} is {state} (waiting for {want}){}",
                        if msg.is_empty() {
                            String::new()
                        } else {
                            format!(": {msg}")
                        }
                    ),
                ));
            }
            if !changed(&mut rx, until, &ctx.cancel).await? {
                self.sync_session(None);
                return Err(CellError::new(
                    Kind::Timeout.name(),
                    format!("task {task_id} is still {state}, not {want}"),
                ));
            }
            if !session.is_active() {
                return Err(ended_error(session));
            }
            let next = current(session);
            if next != status {
                status = next;
                ctx.publisher
                    .update_display(&tasks_bundle(std::slice::from_ref(&status)), &id);
            }
        }
        self.sync_session(None);
        Ok(status)
    }

    /// At the end of a cell: a `TASKS watch` shows the tasks as they are now. Its paced
    /// redraw (ten a second) could come after the cell had ended, and a notebook run
    /// headless kept the state before it (`nbconvert` stops reading a cell at its end).
    pub(crate) async fn draw_watch(&self, publisher: &Publisher) {
        let (Some(w), Some(session)) = (&self.watch, &self.session) else {
            return;
        };
        let shared = session.state_handle();
        let now = shared
            .lock()
            .map(|s| s.tasks_in_order())
            .unwrap_or_default();
        let due = match w.drawn.lock() {
            Ok(d) if d.tasks != now => d.at + LIVE_INTERVAL,
            _ => return,
        };
        // Not sooner than its pacing allows: ten redraws a second at most.
        tokio::time::sleep_until(due).await;
        redraw(&w.drawn, &shared, publisher, &w.display_id);
    }

    /// `TASKS [watch]`: the framework's tasks; `watch` keeps updating the same display as
    /// updates arrive, also after the cell ends, until the next TASKS watch or TEARDOWN.
    async fn tasks(&mut self, call: &Call, ctx: &ExecuteContext) -> Result<Outcome, CellError> {
        if !call.args.is_empty() || call.flags.iter().any(|f| f != "watch") {
            return Err(invalid("TASKS takes only the word watch"));
        }
        let (tasks, mut rx, shared) = {
            let session = self.session()?;
            (
                session.state().tasks_in_order(),
                session.changes(),
                session.state_handle(),
            )
        };
        if call.flags.iter().any(|f| f == "watch") {
            if let Some(old) = self.watch.take() {
                old.stop.cancel();
            }
            let stop = CancellationToken::new();
            let id = display_id();
            let drawn = Arc::new(Mutex::new(Drawn {
                tasks: tasks.clone(),
                at: tokio::time::Instant::now(),
            }));
            self.watch = Some(TasksWatch {
                stop: stop.clone(),
                display_id: id.clone(),
                drawn: drawn.clone(),
            });
            ctx.publisher.display(&tasks_bundle(&tasks), Some(&id));
            let publisher = ctx.publisher.clone();
            // Paced as the operator view is: after a change, the rest of the interval takes
            // in whatever else arrives, then the tasks are drawn as they are then (a flood
            // costs ten redraws a second, and the last state is always drawn).
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        r = rx.changed() => if r.is_err() { return },
                        _ = stop.cancelled() => return,
                    }
                    let due = drawn.lock().map(|d| d.at + LIVE_INTERVAL).ok();
                    let Some(due) = due else { return };
                    tokio::select! {
                        _ = tokio::time::sleep_until(due) => {}
                        _ = stop.cancelled() => return,
                    }
                    rx.borrow_and_update();
                    redraw(&drawn, &shared, &publisher, &id);
                }
            });
            self.sync_session(None);
            let mut outcome = Outcome::shown(
                self.vars.get("tasks").cloned().unwrap_or(json!([])),
                Some("TASKS".into()),
            );
            outcome.shows = false;
            return Ok(outcome);
        }
        self.sync_session(None);
        Ok(Outcome::shown(Value::Array(tasks), Some("TASKS".into())))
    }

    /// `EVENTS [type=] [last=N] [follow=DURATION]`.
    async fn events(
        &mut self,
        args: &[(String, Value)],
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        Self::check_keys("EVENTS", args, &["type", "last", "follow"])?;
        let kind = Self::arg(args, "type")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase);
        let last = Self::arg(args, "last")
            .and_then(Value::as_u64)
            .map(|n| n as usize);
        let follow = Self::duration_arg(args, "follow")?;
        let session = self.session()?;
        // Only the events shown are read from their text.
        let pick = |s: &mut State| -> Vec<Value> {
            let all: Vec<&LoggedEvent> = s
                .events
                .iter()
                .filter(|e| {
                    kind.as_deref()
                        .is_none_or(|k| event_type(e).as_deref() == Some(k))
                })
                .collect();
            let skip = last.map_or(0, |n| all.len().saturating_sub(n));
            all.into_iter().skip(skip).map(LoggedEvent::value).collect()
        };
        let mut events = session.with_state(pick).unwrap_or_default();
        let mut outcome_shows = true;
        if let Some(follow) = follow {
            let id = display_id();
            ctx.publisher.display(&events_bundle(&events), Some(&id));
            outcome_shows = false;
            let until = tokio::time::Instant::now() + follow;
            let mut rx = session.changes();
            while changed(&mut rx, until, &ctx.cancel).await? && session.is_active() {
                let now = session.with_state(pick).unwrap_or_default();
                if now != events {
                    events = now;
                    ctx.publisher.update_display(&events_bundle(&events), &id);
                }
            }
        }
        self.sync_session(None);
        let mut outcome = Outcome::shown(Value::Array(events.clone()), None);
        outcome.bundle = Some(events_bundle(&events));
        outcome.shows = outcome_shows;
        Ok(outcome)
    }

    /// `LOGS task=ID [file=stdout|stderr] [tail=N] [follow=DURATION]`: the task's sandbox
    /// file through its agent's `/files/read`.
    async fn logs(
        &mut self,
        args: &[(String, Value)],
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        Self::check_keys("LOGS", args, &["task", "file", "tail", "follow"])?;
        let task = Self::arg(args, "task")
            .and_then(id_text)
            .ok_or_else(|| invalid("LOGS needs task=ID"))?
            .to_string();
        let file = Self::arg(args, "file")
            .and_then(Value::as_str)
            .unwrap_or("stdout")
            .to_string();
        let tail = Self::arg(args, "tail")
            .and_then(Value::as_u64)
            .map(|n| n as usize);
        let follow = Self::duration_arg(args, "follow")?;
        let session = self.session()?;
        let state = session.state();
        let status = state.task_status(&task).ok_or_else(|| {
            invalid(format!(
                "no task '{task}' in $tasks; tasks: {}",
                state.task_order.join(", ")
            ))
        })?;
        let agent_id = status.agent_id.map(|a| a.value).unwrap_or_default();
        let master = self.master_base(ctx).await?;
        let mstate = self
            .client
            .get_json(&format!("{master}/master/state"), self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let agent = mstate
            .get("slaves")
            .and_then(Value::as_array)
            .and_then(|s| {
                s.iter()
                    .find(|a| a.get("id").and_then(Value::as_str) == Some(agent_id.as_str()))
            })
            .and_then(|a| agent_url(a, scheme_of(&master)))
            .ok_or_else(|| {
                invalid(format!(
                    "the master does not know agent {agent_id} of task {task}"
                ))
            })?;
        let astate = self
            .client
            .get_json(&format!("{agent}/state"), self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let directory = find_sandbox(&astate, &task)
            .ok_or_else(|| invalid(format!("no sandbox for task {task} on {agent} yet")))?;
        let path = format!("{directory}/{file}");
        let read = |offset: i64| {
            format!(
                "{agent}/files/read?path={}&offset={offset}&length=-1",
                urlencode(&path)
            )
        };
        let first = self
            .client
            .get_json(&read(0), self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let mut text = first
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // A task that just started may not have written yet: look again a few times
        // (bounded by a count, not a clock, so a replay asks as often as the recording).
        let live = !status.state.is_terminal();
        let mut looks = 0;
        while text.is_empty() && follow.is_none() && live && looks < LOGS_LOOKS {
            looks += 1;
            tokio::select! {
                _ = tokio::time::sleep(LOGS_PAUSE) => {}
                _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
            }
            let again = self
                .client
                .get_json(&read(0), self.timeout, &ctx.cancel)
                .await
                .map_err(|e| mesos_error(&e))?;
            text = again
                .get("data")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
        if text.is_empty() && follow.is_none() {
            let waited = if looks > 0 {
                format!(" after {}", show_duration(LOGS_PAUSE * looks))
            } else {
                String::new()
            };
            let note = format!("{task}'s {file} is empty{waited}");
            ctx.publisher.display(
                &Bundle::text(format!("({note})")).with(
                    "text/html",
                    format!("<p><em>{}</em></p>", display::table::escape_html(&note)),
                ),
                None,
            );
        }
        let mut offset = text.len() as i64;
        let shown = match tail {
            Some(n) => {
                let lines: Vec<&str> = text.lines().collect();
                let mut s = lines[lines.len().saturating_sub(n)..].join("\n");
                if text.ends_with('\n') && !s.is_empty() {
                    s.push('\n');
                }
                s
            }
            None => text.clone(),
        };
        ctx.publisher
            .stream(if file == "stderr" { "stderr" } else { "stdout" }, &shown);
        if let Some(follow) = follow {
            let until = tokio::time::Instant::now() + follow;
            while tokio::time::Instant::now() < until {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200).min(until - tokio::time::Instant::now())) => {}
                    _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
                }
                let more = self
                    .client
                    .get_json(&read(offset), self.timeout, &ctx.cancel)
                    .await
                    .map_err(|e| mesos_error(&e))?;
                let data = more.get("data").and_then(Value::as_str).unwrap_or("");
                if !data.is_empty() {
                    ctx.publisher
                        .stream(if file == "stderr" { "stderr" } else { "stdout" }, data);
                    offset += data.len() as i64;
                    text.push_str(data);
                }
            }
        }
        self.sync_session(None);
        let mut outcome = Outcome::shown(Value::String(text), None);
        outcome.shows = false;
        Ok(outcome)
    }
}

/// The sandbox directory of a task in an agent's `/state` (its executor's `directory`).
fn find_sandbox(agent_state: &Value, task: &str) -> Option<String> {
    for key in ["frameworks", "completed_frameworks"] {
        for fw in agent_state
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for ekey in ["executors", "completed_executors"] {
                for ex in fw.get(ekey).and_then(Value::as_array).into_iter().flatten() {
                    let runs_task = ex.get("id").and_then(Value::as_str) == Some(task)
                        || ["tasks", "completed_tasks", "queued_tasks"]
                            .iter()
                            .any(|t| {
                                ex.get(*t).and_then(Value::as_array).is_some_and(|ts| {
                                    ts.iter()
                                        .any(|x| x.get("id").and_then(Value::as_str) == Some(task))
                                })
                            });
                    if runs_task {
                        if let Some(d) = ex.get("directory").and_then(Value::as_str) {
                            return Some(d.to_string());
                        }
                    }
                }
            }
        }
    }
    None
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The session's variables (`$framework_id`, `$offers`, `$tasks`, ...) from its state.
fn set_session_vars(vars: &mut Variables, s: &State, wanted: impl Fn(&str) -> bool) {
    if wanted("framework_id") {
        let fid = s.framework_id.as_ref().map(to_sparse_value);
        vars.set("framework_id", fid.unwrap_or(Value::Null));
    }
    if wanted("stream_id") {
        let sid = s.stream_id.clone().map(Value::String);
        vars.set("stream_id", sid.unwrap_or(Value::Null));
    }
    if wanted("offers") {
        vars.set("offers", Value::Array(s.offers_json()));
    }
    if wanted("tasks") {
        // Written as text under the lock rather than copied: a WAIT on `$tasks` during a
        // launch flood copied every status on each wake-up.
        vars.set_shared("tasks", Arc::new(Bound::json(s.tasks_json())));
    }
    if wanted("events") {
        // The log's text as it is: no `Value` of 1,000 events made on every WAIT.
        vars.set_shared("events", Arc::new(Bound::json(s.events.json_array())));
    }
    if wanted("last_heartbeat") {
        let hb = s.last_heartbeat.clone().map(Value::String);
        vars.set("last_heartbeat", hb.unwrap_or(Value::Null));
    }
}
