//! Running Mesos calls from cells: `NAME key=value` by name, `{...}` JSON calls routed by
//! type and shape, and raw HTTP requests. Arguments are evaluated here; the JSON body is
//! built by the registry's pure call builder; the HTTP goes through `mesos::Client`.

use crate::cells::lexer::Pos;
use crate::cells::parser::{ArgValue, Call, HttpBody, HttpRequest, Target};
use crate::cells::registry::{self, Api, CallSpec};
use crate::display::{self, Bundle};
use crate::engine::connect::mesos_error;
use crate::engine::errors::{self, Kind};
use crate::engine::{Engine, Outcome};
use crate::jupyter::{CellError, ExecuteContext};
use crate::mesos::client::{check, json_headers};
use crate::mesos::v1::scheduler::CallType;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// Scheduler calls need a subscribed framework; they come with the framework session.
fn scheduler_only(name: &str) -> bool {
    registry::lookup(Api::Scheduler, name).is_some()
        && registry::lookup(Api::Master, name).is_none()
        && registry::lookup(Api::Agent, name).is_none()
}

/// What routes a call, read from its text without building it.
#[derive(Deserialize)]
struct CallHead<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    framework_id: Option<IgnoredAny>,
    #[serde(default)]
    reconcile: Option<ReconcileHead>,
}

#[derive(Deserialize)]
struct ReconcileHead {
    #[serde(default)]
    tasks: Option<IgnoredAny>,
}

/// Whether a scheduler call goes to the master as it was written: the kernel fills in
/// the session's SUBSCRIBE, a KILL's agent, a bare DECLINE's offers, an ACKNOWLEDGE's
/// update and a RECONCILE's missing list, and reads an ACCEPT's offers and a TEARDOWN.
fn sent_as_text(kind: &CallType, head: &CallHead<'_>) -> bool {
    match kind {
        CallType::Subscribe
        | CallType::Kill
        | CallType::Decline
        | CallType::Acknowledge
        | CallType::Accept
        | CallType::Teardown
        | CallType::Other(_) => false,
        CallType::Reconcile => head.reconcile.as_ref().is_some_and(|r| r.tasks.is_some()),
        _ => true,
    }
}

impl Engine {
    /// A bare word: a JSON number, true/false/null, or else the word as a string.
    async fn arg_value(
        &self,
        value: &ArgValue,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Value, CellError> {
        Ok(match value {
            ArgValue::Quoted(s) => Value::String(s.clone()),
            ArgValue::Word(w) => match serde_json::from_str::<Value>(w) {
                Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => v,
                _ => Value::String(w.clone()),
            },
            ArgValue::Jq(code) => self.jq_one(code, Value::Null, at, ctx).await?,
        })
    }

    pub(crate) async fn run_call(
        &mut self,
        call: &Call,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let name = call.name.to_ascii_uppercase();
        if name == "RESOURCES" {
            return self.resources(ctx).await;
        }
        if name == "EXEC" && matches!(call.target, Target::Auto) {
            let mut args = Vec::new();
            for arg in &call.args {
                args.push((
                    arg.key.clone(),
                    self.arg_value(&arg.value, arg.pos, ctx).await?,
                ));
            }
            return self.task_exec(&args, ctx).await;
        }
        // The operator event stream: `operator SUBSCRIBE`, and `[operator] UNSUBSCRIBE`.
        let operator = call.target == Target::Operator
            || (call.target == Target::Auto && name == "UNSUBSCRIBE");
        if operator && (name == "SUBSCRIBE" || name == "UNSUBSCRIBE") {
            if let Some(extra) = call
                .args
                .first()
                .map(|a| format!("{}=", a.key))
                .or_else(|| call.flags.first().cloned())
            {
                return Err(CellError::new(
                    Kind::InvalidCall.name(),
                    format!("operator {name} takes no arguments (got '{extra}')"),
                ));
            }
            return match name.as_str() {
                "SUBSCRIBE" => self.operator_subscribe(ctx).await,
                _ => self.operator_unsubscribe(ctx),
            };
        }
        let api = match &call.target {
            Target::Operator => Api::Master,
            Target::Agent(_) => Api::Agent,
            Target::Auto => {
                let framework = registry::lookup(Api::Helper, &name).is_some()
                    || name == "SUBSCRIBE"
                    || name == "TEARDOWN"
                    || scheduler_only(&name);
                if framework {
                    let mut args = Vec::new();
                    for arg in &call.args {
                        args.push((
                            arg.key.clone(),
                            self.arg_value(&arg.value, arg.pos, ctx).await?,
                        ));
                    }
                    return self.framework_call(call, args, ctx).await;
                }
                Api::Master
            }
        };
        let spec = registry::lookup(api, &name).ok_or_else(|| {
            match registry::lookup_all(&name).first() {
                Some(other) => CellError::new(
                    Kind::UnknownCall.name(),
                    format!(
                        "{name} is not a {} call (it is a {} call)",
                        api.label(),
                        other.api.label()
                    ),
                ),
                None => errors::unknown_call(&name),
            }
        })?;
        let mut args = Vec::new();
        for arg in &call.args {
            args.push((
                arg.key.clone(),
                self.arg_value(&arg.value, arg.pos, ctx).await?,
            ));
        }
        if let Some(flag) = call.flags.first() {
            return Err(CellError::new(
                Kind::InvalidCall.name(),
                format!(
                    "{name}: '{flag}' is not key=value; fields: {}",
                    spec.valid_keys().join(", ")
                ),
            ));
        }
        let body = registry::build_call(spec, &args)
            .map_err(|e| CellError::new(Kind::InvalidCall.name(), e.to_string()))?;
        let base = match &call.target {
            Target::Agent(Some(which)) if which.starts_with(['$', '(']) => {
                let v = self.jq_one(which, Value::Null, call.name_pos, ctx).await?;
                let id = crate::mesos::v1::ids::id_text(&v)
                    .ok_or_else(|| {
                        CellError::new(
                            Kind::InvalidCall.name(),
                            format!("agent {which} gave {v}, not an agent id or URL"),
                        )
                    })?
                    .to_string();
                self.agent_base(Some(&id), ctx).await?
            }
            Target::Agent(which) => self.agent_base(which.as_deref(), ctx).await?,
            _ => self.master_base(ctx).await?,
        };
        self.send_operator(spec, &base, &body, ctx).await
    }

    pub(crate) async fn master_base(&mut self, ctx: &ExecuteContext) -> Result<String, CellError> {
        let url = self.conn.master(&ctx.publisher, self.timeout).await?;
        self.vars.set("master", Value::String(url.clone()));
        Ok(url)
    }

    pub(crate) async fn agent_base(
        &mut self,
        which: Option<&str>,
        ctx: &ExecuteContext,
    ) -> Result<String, CellError> {
        let url = self
            .conn
            .agent(
                which,
                &ctx.publisher,
                &self.client,
                self.timeout,
                &ctx.cancel,
            )
            .await?;
        if which.is_none() {
            self.vars.set("agent", Value::String(url.clone()));
        }
        if let Some(m) = self.conn.current_master() {
            self.vars.set("master", Value::String(m.to_string()));
        }
        Ok(url)
    }

    async fn send_operator(
        &mut self,
        spec: &CallSpec,
        base: &str,
        body: &Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        if spec.is_streaming() && spec.api == Api::Agent {
            return self.agent_stream(spec.name, base, body, ctx).await;
        }
        if spec.is_streaming() {
            return Err(CellError::new(
                Kind::InvalidCall.name(),
                format!(
                    "{} opens an event stream; streams come with the framework session",
                    spec.name
                ),
            ));
        }
        let reply = self
            .client
            .operator_reply(base, body, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        if spec.name == "MARK_AGENT_GONE" && spec.api == Api::Master {
            self.operator_agent_gone(body);
        }
        // An empty answer (`200 OK` from UPDATE_MAINTENANCE_SCHEDULE, DRAIN_AGENT ...) shows
        // as a scheduler call's `202 Accepted` does: the call and its status.
        if reply.body.is_empty() {
            let value = json!({"type": spec.name, "status": status_line(reply.status)});
            return Ok(Outcome::shown(value, Some(spec.name.to_string())));
        }
        let url = crate::mesos::client::operator_url(base);
        Ok(Outcome::answer(reply, &url, spec.name))
    }

    /// `run_json_call` for the one value of a `{...}` given as its JSON text: a scheduler
    /// call the kernel fills nothing in goes to the master as that text; anything else is
    /// read as a value first.
    pub(crate) async fn run_json_call_text(
        &mut self,
        text: Box<RawValue>,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        if let Ok(head) = serde_json::from_str::<CallHead<'_>>(text.get()) {
            if let Some(name) = head.kind.as_deref() {
                let kind = CallType::from_name(name);
                let scheduler = registry::lookup_all(name)
                    .iter()
                    .any(|s| s.api == Api::Scheduler)
                    && (head.framework_id.is_some() || scheduler_only(name));
                if scheduler && sent_as_text(&kind, &head) {
                    let has_id = head.framework_id.is_some();
                    return self.scheduler_call_text(kind, &text, has_id, ctx).await;
                }
            }
        }
        let value = serde_json::from_str(text.get()).unwrap_or_default();
        self.run_json_call(value, ctx).await
    }

    /// `{...}`: an object with a `type` is a Mesos call, routed by its type and shape.
    pub(crate) async fn run_json_call(
        &mut self,
        value: Value,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let Some(call_type) = value
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Ok(Outcome::shown(value, None));
        };
        let specs = registry::lookup_all(&call_type);
        let has_framework = value.get("framework_id").is_some();
        if specs.is_empty() || specs.iter().all(|s| s.api == Api::Helper) {
            let close = registry::suggest(&call_type, 3);
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", close.join(", "))
            };
            return Err(CellError::new(
                Kind::UnknownCall.name(),
                format!(
                    "\"type\": \"{call_type}\" is not a Mesos call type{hint}; nothing was sent"
                ),
            ));
        }
        // Mesos tells the two SUBSCRIBEs apart by endpoint; a cell by shape. The
        // scheduler's names a framework (`subscribe.framework_info`, which its validation
        // requires); the operator's is the bare call.
        if call_type == "SUBSCRIBE"
            && !has_framework
            && value.pointer("/subscribe/framework_info").is_none()
        {
            return self.operator_subscribe(ctx).await;
        }
        let scheduler = specs.iter().any(|s| s.api == Api::Scheduler)
            && (has_framework || scheduler_only(&call_type) || call_type == "SUBSCRIBE");
        if scheduler {
            return self.scheduler_call(None, value, ctx).await;
        }
        let (spec, base) = if let Some(spec) = specs.iter().find(|s| s.api == Api::Master) {
            (*spec, self.master_base(ctx).await?)
        } else if let Some(spec) = specs.iter().find(|s| s.api == Api::Agent) {
            (*spec, self.agent_base(None, ctx).await?)
        } else {
            return Err(errors::unknown_call(&call_type));
        };
        self.send_operator(spec, &base, &value, ctx).await
    }

    /// Raw HTTP: relative paths go to the master; `$name/...` starts from a variable.
    pub(crate) async fn run_http(
        &mut self,
        req: &HttpRequest,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let url = self.http_url(&req.target, ctx).await?;
        let mut headers = req.headers.clone();
        let body = match &req.body {
            Some(HttpBody::Json(code)) => {
                if !headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                {
                    headers.extend(json_headers());
                }
                // JSON goes as written; a jq program (with `$vars`) as the JSON of its value.
                if serde_json::from_str::<serde::de::IgnoredAny>(code).is_ok() {
                    Some(code.clone().into_bytes())
                } else {
                    let value = self.jq_one(code, Value::Null, at, ctx).await?;
                    Some(match value {
                        Value::String(s) => s.into_bytes(),
                        other => serde_json::to_vec(&other).unwrap_or_default(),
                    })
                }
            }
            Some(HttpBody::Text(text)) => Some(text.clone().into_bytes()),
            None => None,
        };
        let reply = self
            .client
            .request(&req.method, &url, &headers, body, self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let is_json = reply
            .content_type
            .as_deref()
            .is_some_and(|c| c.contains("json"));
        let value = if (200..300).contains(&reply.status) && !is_json {
            reply.value()
        } else {
            check(&req.method, &url, reply).map_err(|e| mesos_error(&e))?
        };
        let path = reqwest::Url::parse(&url)
            .map(|u| u.path().to_string())
            .unwrap_or_default();
        Ok(Outcome::shown(value, Some(path)))
    }

    async fn http_url(&mut self, target: &str, ctx: &ExecuteContext) -> Result<String, CellError> {
        if target.starts_with("http://") || target.starts_with("https://") {
            return Ok(target.to_string());
        }
        if let Some(rest) = target.strip_prefix('$') {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let (name, path) = rest.split_at(end);
            match name {
                "master" => self.master_base(ctx).await?,
                "agent" => self.agent_base(None, ctx).await?,
                _ => String::new(),
            };
            let base = self.vars.get(name).and_then(Value::as_str).ok_or_else(|| {
                CellError::new(
                    Kind::InvalidCall.name(),
                    format!("${name} is not a URL (bind one, or use $master or $agent)"),
                )
            })?;
            return Ok(format!("{}{}", base.trim_end_matches('/'), path));
        }
        let master = self.master_base(ctx).await?;
        Ok(format!("{master}{target}"))
    }

    /// `RESOURCES`: used and free cpus, mem and disk per agent, as a chart.
    async fn resources(&mut self, ctx: &ExecuteContext) -> Result<Outcome, CellError> {
        let base = self.master_base(ctx).await?;
        let mut call = Map::new();
        call.insert("type".into(), Value::String("GET_AGENTS".into()));
        let value = self
            .client
            .operator(&base, &Value::Object(call), self.timeout, &ctx.cancel)
            .await
            .map_err(|e| mesos_error(&e))?;
        let bundle: Bundle = display::resources_chart(&value)
            .map_err(|e| CellError::new(Kind::InvalidCall.name(), e))?;
        let mut outcome = Outcome::shown(value, Some("GET_AGENTS".into()));
        outcome.bundle = Some(bundle);
        Ok(outcome)
    }
}

/// `200 OK`, `202 Accepted`: a status and its reason phrase.
fn status_line(status: u16) -> String {
    match http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}
