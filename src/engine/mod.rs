//! The engine: evaluates parsed statements over the session's variables, runs calls, and
//! turns results into displays. It implements the Jupyter core's `Interpreter`.

pub mod errors;
pub mod help;
pub mod jq;
pub mod session;

use crate::cells::lexer::{advance, Pos};
use crate::cells::parser::{self, Action, ParseError, Statement};
use crate::cells::registry::parse_duration;
use crate::display::Bundle;
use crate::jupyter::{CellError, Completeness, Completion, ExecuteContext, Interpreter};
use errors::{jq_error, Kind};
use serde_json::{json, Value};
use session::Variables;
use std::time::Duration;

/// How long WAIT waits when no `timeout=` is given.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);
/// How often WAIT re-evaluates its condition when nothing wakes it earlier.
const WAIT_POLL: Duration = Duration::from_millis(50);

/// The result of one statement.
struct Outcome {
    value: Value,
    /// Whether the statement shows its value when not bound (PRINT and ASSERT do not).
    shows: bool,
    hint: Option<String>,
}

pub struct Engine {
    vars: Variables,
    timeout: Duration,
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
        }
    }

    pub fn variables(&self) -> &Variables {
        &self.vars
    }

    /// Evaluates jq off the async threads (a heavy filter must not stall the heartbeat or
    /// interrupts), and gives up waiting when the execution is interrupted.
    async fn jq(
        &self,
        code: &str,
        input: Value,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Vec<Value>, CellError> {
        let vars = self.vars.referenced(code);
        let owned = code.to_string();
        let task = tokio::task::spawn_blocking(move || jq::eval(&owned, &input, &vars));
        let result = tokio::select! {
            r = task => r.map_err(|e| CellError::new(Kind::Internal.name(), format!("jq evaluation stopped: {e}")))?,
            _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
        };
        result.map_err(|e| jq_error(&e, code, at, &self.vars))
    }

    async fn jq_one(
        &self,
        code: &str,
        input: Value,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<Value, CellError> {
        let mut values = self.jq(code, input, at, ctx).await?;
        Ok(match values.len() {
            0 => Value::Null,
            1 => values.remove(0),
            _ => Value::Array(values),
        })
    }

    async fn run_statement(
        &mut self,
        stmt: &Statement,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        let at = stmt.pos;
        let outcome = match &stmt.action {
            Action::Magic { name, args } => self.magic(name, args, ctx)?,
            Action::Expr { code } => {
                let value = self.jq_one(code, Value::Null, at, ctx).await?;
                Some(Outcome {
                    value,
                    shows: true,
                    hint: None,
                })
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
                    Some(t) => parse_duration(t).ok_or_else(|| {
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
            Action::Call(call) => {
                return Err(errors::unknown_call(&call.name));
            }
            Action::JsonCall { code } => {
                let value = self.jq_one(code, Value::Null, at, ctx).await?;
                if let Some(t) = value.get("type").and_then(Value::as_str) {
                    return Err(errors::unknown_call(t));
                }
                Some(Outcome {
                    value,
                    shows: true,
                    hint: None,
                })
            }
            Action::Http(req) => {
                return Err(CellError::new(
                    Kind::ConnectionError.name(),
                    format!(
                        "{} {}: no Mesos master is configured",
                        req.method, req.target
                    ),
                ));
            }
        };
        let Some(mut outcome) = outcome else {
            return Ok(None);
        };
        if let Some(filter) = &stmt.filter {
            match filter.as_str() {
                "json" | "table" => {
                    outcome.hint = Some(format!("{}:{}", filter, outcome.hint.unwrap_or_default()))
                }
                _ => {
                    let filter_pos = advance(at, stmt.source.split('|').next().unwrap_or(""));
                    outcome.value = self.jq_one(filter, outcome.value, filter_pos, ctx).await?;
                    outcome.hint = None;
                }
            }
        }
        self.vars.set("_", outcome.value.clone());
        if let Some(name) = &stmt.bind {
            self.vars.set(name, outcome.value.clone());
            outcome.shows = false;
        }
        Ok(Some(outcome))
    }

    async fn wait(
        &self,
        expr: &str,
        limit: Duration,
        at: Pos,
        ctx: &ExecuteContext,
    ) -> Result<(), CellError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let values = self.jq(expr, Value::Null, at, ctx).await?;
            if !values.is_empty() && values.iter().all(truthy) {
                return Ok(());
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
            tokio::select! {
                _ = ctx.cancel.cancelled() => return Err(errors::interrupted()),
                _ = tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + WAIT_POLL)) => {}
            }
        }
    }

    fn magic(
        &mut self,
        name: &str,
        args: &str,
        ctx: &ExecuteContext,
    ) -> Result<Option<Outcome>, CellError> {
        match name {
            "help" => {
                let bundle =
                    help::help(args.trim()).ok_or_else(|| errors::unknown_help(args.trim()))?;
                ctx.publisher.display(&bundle, None);
                Ok(None)
            }
            "vars" => {
                let mut text = String::new();
                let mut rows = String::new();
                for (name, value) in self.vars.iter() {
                    let summary = session::summarize(value);
                    text.push_str(&format!("${name:<16} {summary}\n"));
                    rows.push_str(&format!(
                        "<tr><td><code>${}</code></td><td>{}</td></tr>",
                        html_escape(name),
                        html_escape(&summary)
                    ));
                }
                if text.is_empty() {
                    text.push_str("no variables yet: bind one with  name = STATEMENT\n");
                }
                let html = format!("<table><thead><tr><th>variable</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>");
                ctx.publisher
                    .display(&Bundle::text(text).with("text/html", html), None);
                Ok(None)
            }
            "timeout" => {
                let t = args.trim();
                if t.is_empty() {
                    ctx.publisher.stream(
                        "stdout",
                        &format!("timeout is {}\n", show_duration(self.timeout)),
                    );
                    return Ok(None);
                }
                self.timeout = parse_duration(t).filter(|d| !d.is_zero()).ok_or_else(|| {
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

/// jq's truth: everything but false and null.
fn truthy(v: &Value) -> bool {
    !matches!(v, Value::Null | Value::Bool(false))
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn value_bundle(value: &Value, _hint: Option<&str>) -> Bundle {
    match value {
        Value::Object(_) | Value::Array(_) => Bundle::json(value),
        other => Bundle::text(other.to_string()),
    }
}

fn parse_error(e: &ParseError, code: &str) -> CellError {
    let mut tb = e.caret(code);
    tb.push(format!("ParseError: {}", e.message));
    CellError::new(Kind::ParseError.name(), e.to_string()).with_traceback(tb)
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
        let statements = parser::parse_cell(code).map_err(|e| parse_error(&e, code))?;
        let mut pending: Option<Bundle> = None;
        for stmt in &statements {
            if ctx.cancel.is_cancelled() {
                return Err(errors::interrupted());
            }
            let outcome = self
                .run_statement(stmt, &ctx)
                .await
                .map_err(|e| errors::locate(e, stmt))?;
            if let Some(outcome) = outcome.filter(|o| o.shows) {
                // Earlier results are displays; the last one is the cell's result.
                if let Some(previous) = pending.take() {
                    ctx.publisher.display(&previous, None);
                }
                if !outcome.value.is_null() || outcome.hint.is_some() {
                    pending = Some(value_bundle(&outcome.value, outcome.hint.as_deref()));
                } else {
                    pending = Some(Bundle::text("null"));
                }
            }
        }
        if let Some(bundle) = pending {
            ctx.publisher.execute_result(&bundle, ctx.execution_count);
        }
        Ok(())
    }

    fn user_expression(&mut self, expr: &str) -> Result<Bundle, CellError> {
        let vars = self.vars.referenced(expr);
        let value = jq::eval(expr, &Value::Null, &vars)
            .map_err(|e| jq_error(&e, expr, Pos::start(), &self.vars))?;
        let value = match value.len() {
            1 => value.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(value),
        };
        Ok(value_bundle(&value, None))
    }

    fn complete(&mut self, code: &str, cursor: usize) -> Completion {
        help::complete(code, cursor, &self.vars)
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

    async fn shutdown(&mut self) {}
}
