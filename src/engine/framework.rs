//! The framework session in cells: SUBSCRIBE, the scheduler calls with their chores done,
//! and the helpers OFFERS, LAUNCH, TASKS, EVENTS and LOGS, with live displays that update
//! in place. Session state reaches jq as `$framework_id`, `$stream_id`, `$offers`,
//! `$tasks`, `$events` and `$last_heartbeat`.

use crate::cells::parser::Call;
use crate::cells::registry::{self, Api, CallSpec};
use crate::display::table::{tables_bundle, Cell, Table};
use crate::display::{self, Bundle, Format};
use crate::engine::connect::{agent_url, mesos_error, scheme_of};
use crate::engine::errors::{self, Kind};
use crate::engine::session::{referenced_names, Variables};
use crate::engine::{show_duration, Engine, Outcome};
use crate::jupyter::publisher::Publisher;
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::scheduler::{Session, State};
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const TERMINAL: &[&str] = &[
    "TASK_FINISHED",
    "TASK_FAILED",
    "TASK_KILLED",
    "TASK_ERROR",
    "TASK_LOST",
    "TASK_DROPPED",
    "TASK_GONE",
    "TASK_GONE_BY_OPERATOR",
];

fn invalid(msg: impl Into<String>) -> CellError {
    CellError::new(Kind::InvalidCall.name(), msg)
}

fn id_of(v: &Value) -> Option<&str> {
    v.get("value")
        .and_then(Value::as_str)
        .or_else(|| v.as_str())
}

/// The sum of a scalar resource in an offer's resources.
fn scalar(offer: &Value, name: &str) -> f64 {
    offer
        .get("resources")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r.get("name").and_then(Value::as_str) == Some(name))
                .filter_map(|r| r.pointer("/scalar/value").and_then(Value::as_f64))
                .sum()
        })
        .unwrap_or(0.0)
}

/// The ports an offer has, in order.
fn offer_ports(offer: &Value) -> Vec<u64> {
    let mut out = Vec::new();
    for r in offer
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if r.get("name").and_then(Value::as_str) != Some("ports") {
            continue;
        }
        for range in r
            .pointer("/ranges/range")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(b), Some(e)) = (
                range.get("begin").and_then(Value::as_u64),
                range.get("end").and_then(Value::as_u64),
            ) else {
                continue;
            };
            for p in b..=e.min(b + 1000) {
                out.push(p);
            }
        }
    }
    out
}

fn scalar_resource(name: &str, value: f64) -> Value {
    json!({"name": name, "type": "SCALAR", "scalar": {"value": value}})
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

fn display_id() -> String {
    format!("mesos-kernel-{}", uuid::Uuid::new_v4())
}

impl Engine {
    fn session(&self) -> Result<&Session, CellError> {
        match &self.session {
            Some(s) if s.is_active() => Ok(s),
            Some(s) => Err(invalid(format!(
                "the framework session ended ({}); SUBSCRIBE again",
                s.state().ended.unwrap_or_else(|| "closed".into())
            ))),
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
            for n in session.take_notices() {
                p.stream("stderr", &format!("{n}\n"));
            }
        }
        // Copied only when the session changed, and only what the variables show (not the
        // whole session state): a WAIT during a flood of updates syncs on every wake-up.
        if !session.changed_since_sync() {
            return;
        }
        let vars = &mut self.vars;
        session.with_state(|s| set_session_vars(vars, s, |_| true));
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

    /// `SUBSCRIBE ...` by name, or its JSON body.
    pub(crate) async fn subscribe(
        &mut self,
        mut body: Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        if let Some(old) = self.session.take() {
            old.end("replaced by a new SUBSCRIBE");
        }
        if let Some(Value::Object(info)) = body.pointer_mut("/subscribe/framework_info") {
            info.entry("user")
                .or_insert_with(|| json!(std::env::var("USER").unwrap_or_else(|_| "root".into())));
            info.entry("name").or_insert_with(|| json!("mesos-kernel"));
        }
        let master = self.master_base(ctx).await?;
        let handle = self.conn.master_handle();
        let session = Session::subscribe(&self.client, handle, body, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        if self.manual_ack {
            session.with_state(|s| s.manual_ack = true);
        }
        let s = session.state();
        self.session = Some(session);
        set_session_vars(&mut self.vars, &s, |_| true);
        let fid = s.framework_id.clone().unwrap_or_default();
        let summary = json!({
            "framework_id": {"value": fid},
            "stream_id": s.stream_id,
            "heartbeat_interval_seconds": s.heartbeat_interval,
            "master": master,
            "master_info": s.master_info,
        });
        let table = Table::key_values(
            "subscribed",
            vec![
                ("framework id".into(), Cell::new(fid)),
                (
                    "stream id".into(),
                    Cell::new(s.stream_id.clone().unwrap_or_default()),
                ),
                (
                    "heartbeat interval".into(),
                    Cell::new(format!("{} s", s.heartbeat_interval)),
                ),
                ("master".into(), Cell::new(master)),
            ],
        );
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
        let kind = body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if kind == "SUBSCRIBE" {
            return self.subscribe(body, ctx).await;
        }
        let state = self.session()?.state();
        // Fill what the session knows, so `KILL task_id=web` and a bare DECLINE just work.
        match kind.as_str() {
            "KILL" if body.pointer("/kill/agent_id").is_none() => {
                let tid = body
                    .pointer("/kill/task_id/value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let status = state.tasks.get(&tid).ok_or_else(|| {
                    invalid(format!(
                        "no task '{tid}' in $tasks; tasks: {}",
                        state.task_order.join(", ")
                    ))
                })?;
                if let (Some(agent), Some(Value::Object(kill))) =
                    (status.get("agent_id").cloned(), body.get_mut("kill"))
                {
                    kill.insert("agent_id".into(), agent);
                }
            }
            "DECLINE" if body.pointer("/decline/offer_ids").is_none() => {
                let ids: Vec<Value> = state
                    .offers
                    .iter()
                    .filter_map(|o| o.get("id").cloned())
                    .collect();
                if ids.is_empty() {
                    return Err(invalid("DECLINE: there are no outstanding offers"));
                }
                if let Some(Value::Object(d)) = body.get_mut("decline") {
                    d.insert("offer_ids".into(), Value::Array(ids));
                }
            }
            "RECONCILE" => {
                if let Some(Value::Object(r)) = body.get_mut("reconcile") {
                    r.entry("tasks").or_insert_with(|| json!([]));
                }
            }
            "ACKNOWLEDGE" if body.pointer("/acknowledge/uuid").is_none() => {
                return self.acknowledge_pending(&body, ctx).await;
            }
            _ => {}
        }
        let session = self.session()?;
        let answer = session
            .call(body.clone(), self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        // Offers named by ACCEPT or DECLINE are spent.
        let used: Vec<Value> = ["/accept/offer_ids", "/decline/offer_ids"]
            .iter()
            .filter_map(|p| body.pointer(p).and_then(Value::as_array).cloned())
            .flatten()
            .collect();
        if !used.is_empty() {
            session.with_state(|s| {
                s.offers
                    .retain(|o| !o.get("id").is_some_and(|id| used.contains(id)))
            });
        }
        if kind == "TEARDOWN" {
            self.session = None;
            self.vars.set("offers", json!([]));
        }
        self.sync_session(None);
        let _ = spec;
        let value = if answer.is_null() {
            json!({"type": kind, "status": "202 Accepted"})
        } else {
            answer
        };
        Ok(Outcome::shown(value, Some(kind)))
    }

    async fn acknowledge_pending(
        &mut self,
        body: &Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let session = self.session()?;
        let state = session.state();
        let want = body
            .pointer("/acknowledge/task_id/value")
            .and_then(Value::as_str);
        let pending: Vec<Value> = state
            .unacked
            .iter()
            .filter(|u| {
                want.is_none() || u.pointer("/task_id/value").and_then(Value::as_str) == want
            })
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
                let task = Self::arg(&args, "task_id")
                    .and_then(id_of)
                    .map(|t| json!({ "value": t }));
                let body = json!({"type": "ACKNOWLEDGE", "acknowledge": {"task_id": task}});
                self.session()?;
                self.acknowledge_pending(&body, ctx).await
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
                        .filter_map(|o| o.get("id").cloned())
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
            Some(Value::String(s)) => registry::parse_duration(s).map(Some).ok_or_else(|| {
                invalid(format!("{key}={s} is not a duration (try 30s, 500ms, 2m)"))
            }),
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
        let mut offers = session.state().offers;
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
                offers = session.state().offers;
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
            "offer", "name", "task_id", "cmd", "shell", "args", "cpus", "mem", "disk", "ports",
            "docker", "network", "uris", "env", "wait",
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
        let wait = match Self::arg(args, "wait").and_then(Value::as_str) {
            None => None,
            Some(w) => {
                let state = if w.starts_with("TASK_") {
                    w.to_string()
                } else {
                    format!("TASK_{}", w.to_ascii_uppercase())
                };
                Some(state)
            }
        };

        let session = self.session()?;
        let state = session.state();
        let fits = |o: &Value| {
            scalar(o, "cpus") + 1e-9 >= cpus
                && scalar(o, "mem") + 1e-9 >= mem
                && scalar(o, "disk") + 1e-9 >= disk
                && offer_ports(o).len() >= ports_wanted.len()
        };
        let offer = match Self::arg(args, "offer") {
            Some(o) if o.is_object() => o.clone(),
            Some(other) => return Err(invalid(format!("offer= must be an offer object (such as $offers[0]), not {other}"))),
            None => state.offers.iter().find(|o| fits(o)).cloned().ok_or_else(|| {
                invalid(if state.offers.is_empty() {
                    "LAUNCH: there are no outstanding offers (OFFERS wait=30s waits for some)".to_string()
                } else {
                    format!("LAUNCH: no outstanding offer has cpus {cpus}, mem {mem}, disk {disk}; OFFERS shows what there is")
                })
            })?,
        };
        let task_id = match Self::arg(args, "task_id") {
            Some(v) => id_of(v)
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
        let mut resources = vec![scalar_resource("cpus", cpus), scalar_resource("mem", mem)];
        if disk > 0.0 {
            resources.push(scalar_resource("disk", disk));
        }
        let mut chosen_ports: Vec<u64> = Vec::new();
        if !ports_wanted.is_empty() {
            let available = offer_ports(&offer);
            let chosen: Vec<u64> = if ports_wanted.iter().all(|p| *p == 0) {
                available.iter().take(ports_wanted.len()).copied().collect()
            } else {
                ports_wanted.clone()
            };
            chosen_ports = chosen.clone();
            let ranges: Vec<Value> = chosen
                .iter()
                .map(|p| json!({"begin": p, "end": p}))
                .collect();
            resources.push(json!({"name": "ports", "type": "RANGES", "ranges": {"range": ranges}}));
        }
        let mut command = Map::new();
        if let Some(cmd) = &cmd {
            command.insert("value".into(), json!(cmd));
        }
        let shell = Self::arg(args, "shell")
            .and_then(Value::as_bool)
            .unwrap_or(cmd.is_some() && argv.is_none());
        if shell && argv.is_some() {
            return Err(invalid(
                "args= runs without a shell; give the command line as cmd= for shell=true",
            ));
        }
        command.insert("shell".into(), json!(shell));
        if let Some(list) = &argv {
            command.insert("arguments".into(), json!(list));
        }
        if let Some(u) = Self::arg(args, "uris") {
            let list: Vec<Value> = match u {
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        if i.is_string() {
                            json!({"value": i})
                        } else {
                            i.clone()
                        }
                    })
                    .collect(),
                Value::String(s) => vec![json!({"value": s})],
                other => {
                    return Err(invalid(format!(
                        "uris={other}: give a URI or a list of them"
                    )))
                }
            };
            command.insert("uris".into(), Value::Array(list));
        }
        // As Marathon does, the chosen ports reach the command as PORT and PORT0, PORT1 ...
        let mut variables: Vec<Value> = Vec::new();
        for (i, p) in chosen_ports.iter().enumerate() {
            if i == 0 {
                variables.push(json!({"name": "PORT", "value": p.to_string()}));
            }
            variables.push(json!({"name": format!("PORT{i}"), "value": p.to_string()}));
        }
        if let Some(env) = Self::arg(args, "env") {
            let vars = env
                .as_object()
                .ok_or_else(|| invalid("env= must be an object such as {\"A\": \"1\"}"))?;
            variables.extend(vars.iter().map(|(k, v)| {
                json!({"name": k, "value": v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())})
            }));
        }
        if !variables.is_empty() {
            command.insert("environment".into(), json!({ "variables": variables }));
        }
        let mut task = json!({
            "name": name,
            "task_id": {"value": task_id},
            "agent_id": offer.get("agent_id").cloned().unwrap_or(Value::Null),
            "resources": resources,
            "command": command,
        });
        if let Some(image) = &docker {
            let network = Self::arg(args, "network")
                .and_then(Value::as_str)
                .unwrap_or("HOST")
                .to_ascii_uppercase();
            task["container"] =
                json!({"type": "DOCKER", "docker": {"image": image, "network": network}});
        }
        let body = json!({
            "type": "ACCEPT",
            "accept": {
                "offer_ids": [offer.get("id").cloned().unwrap_or(Value::Null)],
                "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task.clone()]}}],
                "filters": {"refuse_seconds": 5},
            }
        });
        ctx.publisher.display(
            &Bundle::json(&body).with_meta("mesos-kernel", json!({"sent": "ACCEPT"})),
            None,
        );
        // The task is STAGING from the moment it is sent, as the master sees it.
        let placeholder = json!({
            "task_id": {"value": task_id}, "name": name, "state": "TASK_STAGING",
            "agent_id": task["agent_id"], "message": "sent to the master",
        });
        session.with_state(|s| {
            if !s.tasks.contains_key(&task_id) {
                s.task_order.push(task_id.clone());
            }
            s.tasks.insert(task_id.clone(), placeholder);
        });
        self.scheduler_call(None, body, ctx).await?;
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
        want: &str,
        ctx: &ExecuteContext,
    ) -> Result<Value, CellError> {
        let session = self.session()?;
        let mut rx = session.changes();
        let until = tokio::time::Instant::now() + self.timeout.max(Duration::from_secs(30));
        let id = display_id();
        let current = |s: &Session| s.state().tasks.get(task_id).cloned().unwrap_or(Value::Null);
        let mut status = current(session);
        ctx.publisher
            .display(&tasks_bundle(std::slice::from_ref(&status)), Some(&id));
        loop {
            let state = status.get("state").and_then(Value::as_str).unwrap_or("");
            if state == want || (want == "TASK_RUNNING" && state == "TASK_FINISHED") {
                break;
            }
            if TERMINAL.contains(&state) {
                self.sync_session(None);
                let msg = status.get("message").and_then(Value::as_str).unwrap_or("");
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
                old.cancel();
            }
            let stop = CancellationToken::new();
            self.watch = Some(stop.clone());
            let id = display_id();
            ctx.publisher.display(&tasks_bundle(&tasks), Some(&id));
            let publisher = ctx.publisher.clone();
            tokio::spawn(async move {
                let mut last = tasks;
                loop {
                    tokio::select! {
                        r = rx.changed() => if r.is_err() { return },
                        _ = stop.cancelled() => return,
                    }
                    let now = shared
                        .lock()
                        .map(|s| s.tasks_in_order())
                        .unwrap_or_default();
                    if now != last {
                        publisher.update_display(&tasks_bundle(&now), &id);
                        last = now;
                    }
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
        let pick = |s: &State| -> Vec<Value> {
            let all: Vec<Value> = s
                .events
                .iter()
                .filter(|e| {
                    kind.as_deref()
                        .is_none_or(|k| e.get("type").and_then(Value::as_str) == Some(k))
                })
                .cloned()
                .collect();
            let skip = last.map_or(0, |n| all.len().saturating_sub(n));
            all.into_iter().skip(skip).collect()
        };
        let mut events = pick(&session.state());
        let mut outcome_shows = true;
        if let Some(follow) = follow {
            let id = display_id();
            ctx.publisher.display(&events_bundle(&events), Some(&id));
            outcome_shows = false;
            let until = tokio::time::Instant::now() + follow;
            let mut rx = session.changes();
            while changed(&mut rx, until, &ctx.cancel).await? {
                let now = pick(&session.state());
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
            .and_then(id_of)
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
        let status = state.tasks.get(&task).ok_or_else(|| {
            invalid(format!(
                "no task '{task}' in $tasks; tasks: {}",
                state.task_order.join(", ")
            ))
        })?;
        let agent_id = status
            .pointer("/agent_id/value")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
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

fn urlencode(s: &str) -> String {
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
        let fid = s
            .framework_id
            .as_ref()
            .map(|f| json!({ "value": f }))
            .unwrap_or(Value::Null);
        vars.set("framework_id", fid);
    }
    if wanted("stream_id") {
        let sid = s.stream_id.clone().map(Value::String);
        vars.set("stream_id", sid.unwrap_or(Value::Null));
    }
    if wanted("offers") {
        vars.set("offers", Value::Array(s.offers.clone()));
    }
    if wanted("tasks") {
        vars.set("tasks", Value::Array(s.tasks_in_order()));
    }
    if wanted("events") {
        vars.set("events", Value::Array(s.events.iter().cloned().collect()));
    }
    if wanted("last_heartbeat") {
        let hb = s.last_heartbeat.clone().map(Value::String);
        vars.set("last_heartbeat", hb.unwrap_or(Value::Null));
    }
}
