//! The engine: evaluates parsed statements over the session's variables, runs calls, and
//! turns results into displays. It implements the Jupyter core's `Interpreter`.

mod agent_stream;
pub mod bound;
pub mod calls;
pub mod connect;
pub mod embedded;
pub mod errors;
mod failover;
pub mod framework;
pub mod held;
pub mod help;
pub mod ids;
pub mod jq;
mod jq_parse;
pub mod jq_worker;
mod launch_probes;
mod launch_resources;
pub mod operator;
pub mod session;
pub mod wire;

use crate::cells::lexer::{advance, Pos};
use crate::cells::parser::{self, Action, ParseError, Statement};
use crate::display::{self, Bundle, Format};
use crate::jupyter::{CellError, Completeness, Completion, ExecuteContext, Interpreter};
use crate::mesos::v1::parse_duration;
use crate::mesos::Client;
use bound::Bound;
use connect::Connection;
use errors::{jq_error, Kind};
use serde_json::{json, Value};
use session::Variables;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long WAIT waits when no `timeout=` is given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// How often WAIT re-evaluates its condition when nothing wakes it earlier.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// The result of one statement.
pub(crate) struct Outcome {
    /// Shared with `$_` (and a bound name), so a big result is never copied.
    value: Arc<Bound>,
    /// Whether the statement shows its value when not bound.
    shows: bool,
    /// What produced the value (a call name or an HTTP path), for choosing its display.
    hint: Option<String>,
    format: Format,
    /// A display made by the statement itself (a chart), used instead of rendering.
    bundle: Option<Bundle>,
    /// An answer's JSON not parsed yet (see `Outcome::answer`); `value` is null until
    /// `resolve` reads it.
    json: Option<Answer>,
    /// Its tables, when `resolve` rendered them from a big answer's projection.
    rendered: Option<Bundle>,
}

/// A 2xx answer's body as it came over HTTP.
pub(crate) struct Answer {
    url: String,
    body: Vec<u8>,
    content_type: Option<String>,
}

impl Answer {
    /// Its value; a body that is not JSON is the answer's error (MesosHttpError).
    fn parse(&self) -> Result<Value, CellError> {
        crate::mesos::client::parse_answer(&self.url, &self.body, self.content_type.as_deref())
            .map_err(|e| connect::mesos_error(&e))
    }

    fn not_json(&self, e: &serde_json::Error) -> crate::mesos::MesosError {
        crate::mesos::client::not_json(&self.url, &self.body, self.content_type.as_deref(), e)
    }
}

impl Outcome {
    pub(crate) fn shown(value: Value, hint: Option<String>) -> Self {
        Outcome {
            value: Arc::new(Bound::of(value)),
            shows: true,
            hint,
            format: Format::Auto,
            bundle: None,
            json: None,
            rendered: None,
        }
    }

    /// A call's JSON answer, parsed only if it is shown or bound as it is: a filter after
    /// the call (`GET_STATE | ...`) is given the bytes, which the jq worker parses, so a
    /// big answer is never built as a `Value` in the kernel only to be sent on as JSON.
    pub(crate) fn answer(reply: crate::mesos::client::Reply, url: &str, hint: &str) -> Self {
        let mut outcome = Outcome::shown(Value::Null, Some(hint.to_string()));
        outcome.json = Some(Answer {
            url: url.to_string(),
            body: reply.body,
            content_type: reply.content_type,
        });
        outcome
    }

    /// Reads the answer's JSON, if it was not yet, and gives its ids to `ids` (for
    /// completion). A big answer shown as tables is kept as its text: the
    /// tables are rendered from its projection (`display::projection`), which reads the
    /// text once without building what no table shows, and the jq worker is sent the text
    /// itself when `$_` or a bound name is queried.
    fn resolve(&mut self, ids: &mut ids::LiveIds) -> Result<(), CellError> {
        let Some(a) = self.json.take() else {
            ids.absorb(self.value.value());
            return Ok(());
        };
        if a.body.len() >= bound::KEEP_AS_TEXT_FROM && self.format != Format::Json {
            let projected = display::projection::for_tables(&a.body)
                .map_err(|e| connect::mesos_error(&a.not_json(&e)))?;
            let hint = self.hint.as_deref();
            if let Some(tables) = display::render_tables(&projected, hint, self.format) {
                ids.absorb(&projected);
                self.rendered = Some(tables);
                self.value = Arc::new(Bound::json(a.body));
                return Ok(());
            }
        }
        self.value = Arc::new(Bound::of(a.parse()?));
        ids.absorb(self.value.value());
        Ok(())
    }

    fn display(&self) -> Bundle {
        if let Some(tables) = &self.rendered {
            return tables.clone();
        }
        match &self.bundle {
            Some(b) if self.format == Format::Auto => b.clone(),
            _ => display::render(self.value.value(), self.hint.as_deref(), self.format),
        }
    }
}

pub struct Engine {
    vars: Variables,
    timeout: Duration,
    client: Client,
    conn: Connection,
    session: Option<crate::mesos::scheduler::Session>,
    /// The operator event stream, beside any framework session.
    operator: Option<operator::OperatorSession>,
    /// The running `TASKS watch` (stopped when another starts).
    watch: Option<framework::TasksWatch>,
    manual_ack: bool,
    ids: ids::LiveIds,
    jq: jq_worker::JqWorker,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        Engine {
            vars: Variables::default(),
            timeout: Duration::from_secs(30),
            // Building a reqwest client only fails without a TLS backend, which is compiled in.
            client: Client::new().unwrap_or_else(|e| panic!("HTTP client: {e}")),
            conn: Connection::default(),
            session: None,
            operator: None,
            watch: None,
            manual_ack: false,
            ids: ids::LiveIds::default(),
            jq: jq_worker::JqWorker::from_env(),
        }
    }

    /// Evaluates jq with `worker` (a worker process, or this process; see `jq_worker`).
    pub fn with_jq(mut self, worker: jq_worker::JqWorker) -> Self {
        self.jq = worker;
        self
    }

    pub fn jq_worker(&self) -> &jq_worker::JqWorker {
        &self.jq
    }

    pub fn variables(&self) -> &Variables {
        &self.vars
    }

    /// Evaluates jq in the jq worker (see `jq_worker`), off the kernel's threads and its
    /// memory: a runaway filter costs an error, and an interrupt kills it.
    async fn jq(
        &self,
        code: &str,
        input: Value,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Vec<Value>, CellError> {
        self.jq_input(code, jq_worker::Input::Value(&input), at, ctx)
            .await
    }

    async fn jq_input(
        &self,
        code: &str,
        input: jq_worker::Input<'_>,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Vec<Value>, CellError> {
        self.jq
            .eval_as(code, input, &self.vars, &ctx.cancel)
            .await
            .map_err(|e| self.worker_error(e, code, at))
    }

    /// A failed evaluation as the cell's error.
    fn worker_error(&self, e: jq_worker::WorkerError, code: &str, at: Pos) -> CellError {
        match e {
            jq_worker::WorkerError::Interrupted => errors::interrupted(),
            jq_worker::WorkerError::Jq(e) => jq_error(&e, code, at, &self.vars),
        }
    }

    /// A filter on a call's answer, given the answer's bytes. A body that is not JSON is
    /// the call's error, as it is without a filter.
    async fn filter_answer(
        &self,
        code: &str,
        answer: &Answer,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Vec<Value>, CellError> {
        let input = jq_worker::Input::Json(&answer.body);
        match self.jq.eval_as(code, input, &self.vars, &ctx.cancel).await {
            Ok(values) => Ok(values),
            Err(jq_worker::WorkerError::Jq(jq::JqError::InputNotJson(_))) => {
                let value = answer.parse()?;
                self.jq(code, value, at, ctx).await
            }
            Err(e) => Err(self.worker_error(e, code, at)),
        }
    }

    async fn jq_one(
        &self,
        code: &str,
        input: Value,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Value, CellError> {
        Ok(one_value(self.jq(code, input, at, ctx).await?))
    }

    /// `{...}` with jq in it: the one value it gives, as the JSON text jq wrote (a call's
    /// body goes to Mesos as that text where the kernel fills nothing in).
    async fn json_call(
        &mut self,
        code: &str,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Outcome, CellError> {
        let mut texts: Vec<Box<serde_json::value::RawValue>> = self
            .jq
            .eval_as(
                code,
                jq_worker::Input::Value(&Value::Null),
                &self.vars,
                &ctx.cancel,
            )
            .await
            .map_err(|e| self.worker_error(e, code, at))?;
        if texts.len() == 1 {
            if let Some(text) = texts.pop() {
                return self.run_json_call_text(text, ctx).await;
            }
        }
        // None, or several (a list of them): read as values.
        let values = texts
            .iter()
            .map(|t| serde_json::from_str(t.get()).unwrap_or_default())
            .collect();
        self.run_json_call(one_value(values), ctx).await
    }

    async fn run_statement(
        &mut self,
        stmt: &Statement,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        let at = stmt.pos;
        let outcome = match &stmt.action {
            Action::Magic { name, args } => self.magic(name, args, ctx).await?,
            Action::Expr { code } => {
                let (code, format) = view_suffix(code);
                let value = self.jq_one(code, Value::Null, at, ctx).await?;
                let mut outcome = Outcome::shown(value, None);
                outcome.format = format;
                Some(outcome)
            }
            Action::Print { stderr, expr } => {
                let values = self.jq(expr, Value::Null, at, ctx).await?;
                let mut text = String::new();
                for v in values {
                    match v {
                        Value::String(s) => text.push_str(&s),
                        other => text.push_str(&other.to_string()),
                    }
                    text.push('\n');
                }
                ctx.publisher
                    .stream(if *stderr { "stderr" } else { "stdout" }, &text);
                None
            }
            Action::Assert { expr } => {
                let values = self.jq(expr, Value::Null, at, ctx).await?;
                if let Some(bad) = values.iter().find(|v| !truthy(v)) {
                    let got = if *bad == Value::Bool(false) {
                        String::new()
                    } else {
                        format!(" (it gave {bad})")
                    };
                    return Err(CellError::new(
                        Kind::AssertionFailed.name(),
                        format!("ASSERT {expr} is not true{got}"),
                    ));
                }
                if values.is_empty() {
                    return Err(CellError::new(
                        Kind::AssertionFailed.name(),
                        format!("ASSERT {expr} gave no value"),
                    ));
                }
                None
            }
            Action::Wait { expr, timeout } => {
                let limit = match timeout {
                    Some(t) => parse_duration(t).ok().ok_or_else(|| {
                        CellError::new(
                            Kind::InvalidCall.name(),
                            format!("timeout={t} is not a duration (try 30s, 500ms, 2m)"),
                        )
                    })?,
                    None => DEFAULT_WAIT,
                };
                self.wait(expr, limit, at, ctx).await?;
                None
            }
            Action::Call(call) => Some(self.run_call(call, ctx).await?),
            Action::JsonCall { code } => Some(self.json_call(code, at, ctx).await?),
            Action::Http(req) => Some(self.run_http(req, at, ctx).await?),
        };
        let Some(mut outcome) = outcome else {
            return Ok(None);
        };
        if let Some(filter) = &stmt.filter {
            match filter.as_str() {
                "json" => outcome.format = Format::Json,
                "table" => outcome.format = Format::Table,
                _ => {
                    let filter_pos = stmt.filter_pos.unwrap_or_else(|| {
                        advance(at, stmt.source.split('|').next().unwrap_or(""))
                    });
                    let values = match outcome.json.take() {
                        Some(answer) => {
                            self.filter_answer(filter, &answer, filter_pos, ctx).await?
                        }
                        None => {
                            let input = match Arc::try_unwrap(std::mem::take(&mut outcome.value)) {
                                Ok(held) => held.into_value(),
                                Err(shared) => shared.value().clone(),
                            };
                            self.jq(filter, input, filter_pos, ctx).await?
                        }
                    };
                    outcome.value = Arc::new(Bound::of(one_value(values)));
                    // The filtered value keeps its producer as a hint; the renderer falls
                    // back to the value's own shape when the hint no longer fits. It is a
                    // new value, shown even where the statement showed a live view instead.
                    outcome.bundle = None;
                    outcome.shows = true;
                }
            }
        }
        outcome.resolve(&mut self.ids)?;
        self.vars.set_shared("_", outcome.value.clone());
        if let Some(name) = &stmt.bind {
            self.vars.set_shared(name, outcome.value.clone());
            outcome.shows = false;
        }
        Ok(Some(outcome))
    }

    async fn wait(
        &mut self,
        expr: &str,
        limit: Duration,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<(), CellError> {
        let deadline = tokio::time::Instant::now() + limit;
        let (mut seen, mut seen_operator) = (None, None);
        loop {
            let began = tokio::time::Instant::now();
            self.sync_session_for(&ctx.publisher, expr, &mut seen);
            self.sync_operator_for(&ctx.publisher, expr, &mut seen_operator);
            let values = self.jq(expr, Value::Null, at, ctx).await?;
            if !values.is_empty() && values.iter().all(truthy) {
                return Ok(());
            }
            if let Some(ended) = self.ended_session_for(expr) {
                return Err(ended);
            }
            // A costly condition (over a big `$tasks`) is evaluated at most half the time,
            // so a flood of events that wakes it on each one is applied, not starved.
            let spent = began.elapsed().min(WAIT_POLL);
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
                _ = tokio::time::sleep(spent) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CellError::new(
                    Kind::Timeout.name(),
                    format!(
                        "WAIT {expr} was still not true after {}",
                        show_duration(limit)
                    ),
                ));
            }
            let mut changes: Vec<_> = self
                .session
                .as_ref()
                .map(|s| s.changes())
                .into_iter()
                .chain(self.operator_changes())
                .collect();
            let session_changed = operator::any_changed(&mut changes);
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
                _ = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + WAIT_POLL)) => {}
                _ = session_changed => {}
            }
        }
    }

    async fn magic(
        &mut self,
        name: &str,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        match name {
            "master" => {
                let spec = args.trim();
                if spec.is_empty() {
                    let now = self
                        .conn
                        .current_master()
                        .unwrap_or("not connected yet (the embedded cluster starts on first use)");
                    ctx.publisher.stream("stdout", &format!("master: {now}\n"));
                    return Ok(None);
                }
                let mut words = spec.split_whitespace();
                let target = words.next().unwrap_or("");
                let mut options = self.client.options().clone();
                options.ca = None;
                options.insecure = false;
                for word in words {
                    match word.split_once('=') {
                        Some(("ca", path)) => options.ca = Some(path.into()),
                        Some(("insecure", v)) => options.insecure = v == "true",
                        _ => {
                            return Err(CellError::new(
                                Kind::InvalidCall.name(),
                                format!(
                                    "%master: '{word}' is not an option (ca=PATH, insecure=true)"
                                ),
                            ))
                        }
                    }
                }
                if options.insecure {
                    ctx.publisher.stream(
                        "stderr",
                        "WARNING: insecure=true: TLS certificates will NOT be checked for this master\n",
                    );
                }
                self.client =
                    Client::with_options(options).map_err(|e| connect::mesos_error(&e))?;
                self.conn.set_master(target)?;
                let url = self.master_base(ctx).await?;
                ctx.publisher.stream("stdout", &format!("master: {url}\n"));
                Ok(None)
            }
            "auth" => {
                let mut principal = None;
                let mut secret = None;
                let mut secret_env = None;
                for word in args.split_whitespace() {
                    match word.split_once('=') {
                        Some(("principal", p)) => principal = Some(p.to_string()),
                        Some(("secret-env", var)) => {
                            secret = Some(std::env::var(var).map_err(|_| {
                                CellError::new(Kind::InvalidCall.name(), format!("%auth: the environment variable {var} is not set"))
                            })?);
                            secret_env = Some(var.to_string());
                        }
                        Some(("secret-file", path)) => {
                            let text = std::fs::read_to_string(path).map_err(|e| {
                                CellError::new(Kind::InvalidCall.name(), format!("%auth: cannot read {path}: {e}"))
                            })?;
                            secret = Some(text.trim_end_matches(['\r', '\n']).to_string());
                            secret_env = None;
                        }
                        None if word == "prompt" => {
                            let answer = ctx
                                .stdin
                                .input("Mesos secret: ", true)
                                .await
                                .map_err(|e| match e {
                                    // The cell was interrupted at the prompt.
                                    crate::jupyter::stdin::StdinError::Interrupted => errors::interrupted(),
                                    e => CellError::new(Kind::InvalidCall.name(), format!("%auth prompt: {e}")),
                                })?;
                            secret = Some(answer);
                            secret_env = None;
                        }
                        None if word == "off" => {
                            let mut options = self.client.options().clone();
                            options.credentials = None;
                            self.client = Client::with_options(options).map_err(|e| connect::mesos_error(&e))?;
                            ctx.publisher.stream("stdout", "authentication off\n");
                            return Ok(None);
                        }
                        _ => {
                            return Err(CellError::new(
                                Kind::InvalidCall.name(),
                                format!("%auth: '{word}' is not understood (principal=NAME with secret-env=VAR, secret-file=PATH or prompt)"),
                            ))
                        }
                    }
                }
                let (Some(principal), Some(secret)) = (principal, secret) else {
                    return Err(CellError::new(
                        Kind::InvalidCall.name(),
                        "%auth needs principal=NAME and one of secret-env=VAR, secret-file=PATH, prompt",
                    ));
                };
                let mut options = self.client.options().clone();
                let mut credentials =
                    crate::mesos::client::Credentials::new(principal.clone(), secret);
                if let Some(var) = &secret_env {
                    // Named in curl lines, so they repeat the call without the secret.
                    credentials = credentials.from_env(var);
                }
                options.credentials = Some(credentials);
                self.client =
                    Client::with_options(options).map_err(|e| connect::mesos_error(&e))?;
                ctx.publisher.stream(
                    "stdout",
                    &format!("authenticating as {principal} (HTTP basic)\n"),
                );
                Ok(None)
            }
            "ack" => {
                let manual = match args.trim() {
                    "manual" => true,
                    "auto" | "automatic" => false,
                    "" => {
                        let mode = if self.manual_ack { "manual" } else { "auto" };
                        ctx.publisher
                            .stream("stdout", &format!("acknowledgements: {mode}\n"));
                        return Ok(None);
                    }
                    other => {
                        return Err(CellError::new(
                            Kind::InvalidCall.name(),
                            format!("%ack {other}: say %ack manual or %ack auto"),
                        ))
                    }
                };
                self.manual_ack = manual;
                if let Some(s) = &self.session {
                    s.with_state(|st| st.manual_ack = manual);
                    // Back to automatic: what waited for a manual ACKNOWLEDGE goes now.
                    let pending = if manual {
                        Vec::new()
                    } else {
                        s.state().unacked
                    };
                    for status in &pending {
                        s.acknowledge(status, self.timeout, &ctx.cancel)
                            .await
                            .map_err(|e| connect::mesos_error(&e))?;
                    }
                }
                let mode = if manual {
                    "manual: ACKNOWLEDGE each update"
                } else {
                    "auto"
                };
                ctx.publisher
                    .stream("stdout", &format!("acknowledgements: {mode}\n"));
                Ok(None)
            }
            "agent" => {
                let spec = args.trim();
                let which = if spec.is_empty() { None } else { Some(spec) };
                let url = self.agent_base(which, ctx).await?;
                self.conn.set_agent(url.clone());
                self.vars.set("agent", Value::String(url.clone()));
                ctx.publisher.stream("stdout", &format!("agent: {url}\n"));
                Ok(None)
            }
            "help" => {
                let bundle =
                    help::help(args.trim()).ok_or_else(|| errors::unknown_help(args.trim()))?;
                ctx.publisher.display(&bundle, None);
                Ok(None)
            }
            "vars" => {
                use crate::display::table::{tables_bundle, Cell, Table};
                let mut table = Table::new("variables", &["variable", "value"]);
                for (name, value) in self.vars.iter() {
                    table.push(vec![
                        Cell::new(format!("${name}")),
                        Cell::new(session::summarize(value)),
                    ]);
                }
                if table.total == 0 {
                    table.caption = "variables (none yet: bind one with  name = STATEMENT)".into();
                }
                ctx.publisher.display(&tables_bundle(&[table]), None);
                Ok(None)
            }
            "http" | "record" | "replay" => self.wire_magic(name, args, ctx).await,
            "timeout" => {
                let t = args.trim();
                if t.is_empty() {
                    ctx.publisher.stream(
                        "stdout",
                        &format!("timeout is {}\n", show_duration(self.timeout)),
                    );
                    return Ok(None);
                }
                self.timeout =
                    parse_duration(t)
                        .ok()
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| {
                            CellError::new(
                                Kind::InvalidCall.name(),
                                format!("%timeout {t}: not a duration (try 30s, 500ms, 2m)"),
                            )
                        })?;
                ctx.publisher.stream(
                    "stdout",
                    &format!("timeout set to {}\n", show_duration(self.timeout)),
                );
                Ok(None)
            }
            other => Err(errors::unknown_magic(other)),
        }
    }
}

pub fn show_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `expr | table` and `expr | json` choose a view; they are not jq filters.
fn view_suffix(code: &str) -> (&str, Format) {
    if let Some(i) = code.rfind('|') {
        let (head, tail) = (&code[..i], code[i + 1..].trim());
        let format = match tail {
            "table" => Some(Format::Table),
            "json" => Some(Format::Json),
            _ => None,
        };
        if let Some(f) = format {
            if crate::cells::lexer::balance(head, Pos::start())
                == crate::cells::lexer::Balance::Balanced
            {
                return (head.trim_end(), f);
            }
        }
    }
    (code, Format::Auto)
}

/// jq's truth: everything but false and null.
fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

fn parse_error(e: &ParseError, code: &str) -> CellError {
    let mut tb = e.caret(code);
    tb.push(format!("ParseError: {}", e.message));
    CellError::new(Kind::ParseError.name(), e.to_string()).with_traceback(tb)
}

impl Engine {
    async fn run_cell(&mut self, code: &str, ctx: &ExecuteContext) -> Result<(), CellError> {
        let statements = parser::parse_cell(code).map_err(|e| parse_error(&e, code))?;
        let mut pending: Option<Bundle> = None;
        self.operator_cell_started(&ctx.publisher);
        for stmt in &statements {
            if ctx.cancel.is_cancelled() {
                return Err(errors::interrupted());
            }
            if matches!(stmt.action, Action::Magic { .. }) {
                self.sync_session(Some(&ctx.publisher));
            } else {
                let mut names = session::referenced_names(&stmt.source);
                if let Some(filter) = &stmt.filter {
                    names.extend(session::referenced_names(filter));
                }
                self.sync_session_for_statement(&ctx.publisher, &names);
            }
            self.sync_operator(Some(&ctx.publisher));
            let notices = self.forward_notices(&ctx.publisher);
            // Boxed: a statement's future (a SUBSCRIBE decoding Mesos's typed calls and
            // events) runs to hundreds of KB in a debug build, and a cell's future would
            // otherwise carry it wherever it is polled (a test thread's 2 MiB stack).
            let outcome = tokio::select! {
                biased;
                outcome = Box::pin(self.run_statement(stmt, ctx)) => outcome,
                never = notices => match never {},
            };
            // What came with the statement's end (the session ending it) shows here too.
            self.show_notices(&ctx.publisher);
            let outcome = outcome.map_err(|e| errors::locate(e, stmt))?;
            if let Some(outcome) = outcome.filter(|o| o.shows) {
                // Earlier results are displays; the last one is the cell's result.
                if let Some(previous) = pending.take() {
                    ctx.publisher.display(&previous, None);
                }
                pending = Some(outcome.display());
            }
        }
        if let Some(bundle) = pending {
            ctx.publisher.execute_result(&bundle, ctx.execution_count);
        }
        Ok(())
    }
}

impl Interpreter for Engine {
    fn kernel_info(&self) -> Value {
        json!({
            "language_info": {
                "name": "mesos",
                "version": "1.x",
                "mimetype": "text/x-mesos",
                "file_extension": ".mesos",
                "pygments_lexer": "bash",
                "codemirror_mode": "shell",
            },
            "banner": format!(
                "mesos-kernel {}: the Apache Mesos HTTP API in Jupyter cells. Type %help to start.",
                env!("CARGO_PKG_VERSION")
            ),
            "help_links": [
                {"text": "Mesos operator HTTP API", "url": "https://mesos.apache.org/documentation/latest/operator-http-api/"},
                {"text": "Mesos scheduler HTTP API", "url": "https://mesos.apache.org/documentation/latest/scheduler-http-api/"},
                {"text": "jq manual", "url": "https://jqlang.github.io/jq/manual/"},
            ],
        })
    }

    async fn execute(&mut self, code: &str, ctx: ExecuteContext) -> Result<(), CellError> {
        // The wire keeps what the cell sends (its own requests, and the background ones
        // made meanwhile) to show under its outputs.
        let wire = self.wire();
        let token = wire.cell_begins().await;
        let result = crate::mesos::exchange::in_cell(self.run_cell(code, &ctx)).await;
        // What the statements did not name is copied now, for the front end's completion,
        // inspection and user expressions, and the next cell.
        self.sync_session(None);
        self.draw_watch(&ctx.publisher).await;
        self.show_exchanges(&wire, token, &ctx);
        result
    }

    async fn user_expression(
        &mut self,
        expr: &str,
        cancel: &CancellationToken,
    ) -> Result<Bundle, CellError> {
        let value = self
            .jq
            .eval(expr, &Value::Null, &self.vars, cancel)
            .await
            .map_err(|e| self.worker_error(e, expr, Pos::start()))?;
        let value = match value.len() {
            1 => value.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(value),
        };
        Ok(display::render(&value, None, Format::Auto))
    }

    fn complete(&mut self, code: &str, cursor: usize) -> Completion {
        let mut ids = self.ids.clone();
        if let Some(tasks) = self.vars.get("tasks") {
            ids.absorb(tasks);
        }
        if let Some(offers) = self.vars.get("offers") {
            ids.absorb(&serde_json::json!({ "offers": offers }));
        }
        help::complete(code, cursor, &self.vars, &ids)
    }

    fn inspect(&mut self, code: &str, cursor: usize, _detail_level: u8) -> Option<Bundle> {
        help::inspect(code, cursor, &self.vars)
    }

    fn is_complete(&mut self, code: &str) -> Completeness {
        match parser::parse_cell(code) {
            Ok(statements) => {
                for s in statements {
                    if let Action::Expr { code } = &s.action {
                        if jq::check_syntax(code).is_err() {
                            return Completeness::Invalid;
                        }
                    }
                }
                Completeness::Complete
            }
            Err(e)
                if e.message.starts_with("unclosed") || e.message.starts_with("unterminated") =>
            {
                Completeness::Incomplete {
                    indent: "  ".into(),
                }
            }
            Err(_) => Completeness::Invalid,
        }
    }

    async fn shutdown(&mut self) {
        if let Some(w) = self.watch.take() {
            w.stop.cancel();
        }
        self.session = None;
        self.operator_shutdown();
        self.conn.shutdown().await;
    }
}

/// What an expression gave as one value: null for none, the value for one, an array of
/// them for several.
fn one_value(mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Null,
        1 => values.remove(0),
        _ => Value::Array(values),
    }
}
