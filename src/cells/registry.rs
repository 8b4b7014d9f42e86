//! The registry of every Mesos v1 call the cell language knows (scheduler, master operator and
//! agent operator APIs, plus the language's own helper statements), and the pure builder that
//! turns `NAME key=value ...` arguments into the Mesos JSON call body.
//!
//! The call tables live in `registry/{scheduler,master,agent,helper}.rs`; this file holds the
//! types, look-up, suggestions, completion, help pages and value conversion.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::mesos::v1::framework::{FrameworkCapability, FrameworkCapabilityType};
use crate::mesos::v1::ids::id_json;
use crate::mesos::v1::time::{parse_duration, DurationInfo, ProtoDuration};
use crate::mesos::v1::to_sparse_value;

mod agent;
mod common;
mod helper;
mod master;
mod scheduler;
#[cfg(test)]
mod tests;

/// Which API a call belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// `POST /api/v1/scheduler` on the master.
    Scheduler,
    /// `POST /api/v1` on the master.
    Master,
    /// `POST /api/v1` on an agent.
    Agent,
    /// The cell language's own statements; not Mesos calls.
    Helper,
}

impl Api {
    /// Every API, in [`calls`] order.
    pub const ALL: [Api; 4] = [Api::Scheduler, Api::Master, Api::Agent, Api::Helper];

    /// A short human name, as help pages show it.
    pub fn label(self) -> &'static str {
        match self {
            Api::Scheduler => "scheduler API (POST /api/v1/scheduler)",
            Api::Master => "master operator API (POST /api/v1 on the master)",
            Api::Agent => "agent operator API (POST /api/v1 on an agent)",
            Api::Helper => "kernel helper statement",
        }
    }
}

impl std::fmt::Display for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Api::Scheduler => "scheduler",
            Api::Master => "master",
            Api::Agent => "agent",
            Api::Helper => "helper",
        })
    }
}

/// How an argument's value is turned into JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text; numbers and booleans are written out as text.
    String,
    /// A whole number (or text holding one).
    Integer,
    /// Any number (or text holding one).
    Number,
    /// `true` / `false` (or that text).
    Bool,
    /// `"x"` becomes `{"value": "x"}`; an object passes as it is.
    Id,
    /// A list of ids; a single id becomes a one-item list.
    IdList,
    /// `"5s"`, `"100ms"`, `"2m"` or a number of seconds, sent as `{"nanoseconds": N}`.
    Duration,
    /// `"5s"` or a number, sent as float seconds (`failover_timeout`, `refuse_seconds`).
    Seconds,
    /// Text sent base64-encoded; other JSON is encoded as its JSON text.
    Bytes,
    /// A list of strings; a single string becomes a one-item list.
    StringList,
    /// Any JSON, passed as it is.
    Json,
    /// Framework capability names, sent as `[{"type": NAME}]` (upper-cased).
    Capabilities,
    /// A `google.protobuf.Duration` (`"10m"` or seconds), sent as `{"seconds": N[, "nanos": M]}`.
    ProtoDuration,
}

impl FieldKind {
    /// What the kind expects, in words (used by errors and help pages).
    pub fn describe(self) -> &'static str {
        match self {
            FieldKind::String => "text",
            FieldKind::Integer => "integer",
            FieldKind::Number => "number",
            FieldKind::Bool => "true or false",
            FieldKind::Id => "id (text or {\"value\": ...})",
            FieldKind::IdList => "list of ids",
            FieldKind::Duration => "duration (e.g. 5s, 100ms, 2m)",
            FieldKind::Seconds => "seconds (number or duration like 5s)",
            FieldKind::Bytes => "text (sent base64-encoded)",
            FieldKind::StringList => "list of text",
            FieldKind::Json => "JSON",
            FieldKind::Capabilities => "list of capability names",
            FieldKind::ProtoDuration => "duration (e.g. 10m, 30s)",
        }
    }
}

/// One `key=value` argument a call takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    /// The key users type.
    pub name: &'static str,
    /// Dotted path under the call's sub-message (for helpers: the key itself).
    pub path: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub doc: &'static str,
}

/// Everything the kernel knows about one call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallSpec {
    pub name: &'static str,
    pub api: Api,
    /// One line.
    pub summary: &'static str,
    /// A few sentences: what it does, what comes back.
    pub doc: &'static str,
    pub fields: &'static [Field],
    /// A line in the cell language.
    pub example: &'static str,
    /// The response's type/key, or how the outcome arrives.
    pub response: &'static str,
}

impl CallSpec {
    /// The field a user key names, if any.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The keys this call accepts, in table order (scheduler calls also take `framework_id`).
    pub fn valid_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.fields.iter().map(|f| f.name).collect();
        if self.api == Api::Scheduler && self.field(FRAMEWORK_ID).is_none() {
            keys.push(FRAMEWORK_ID);
        }
        keys
    }

    /// Whether the response is a long-lived RecordIO stream (SUBSCRIBE, container sessions).
    pub fn is_streaming(&self) -> bool {
        STREAMING.contains(&(self.api, self.name))
    }

    /// The name of the call's sub-message: the type in lower case.
    pub fn body_key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Errors from [`build_call`]; each message is one line.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BuildError {
    #[error(
        "{call} has no field '{field}'{}; valid keys: {}",
        did_you_mean(.field, .valid),
        list_or_none(.valid)
    )]
    UnknownField {
        call: &'static str,
        field: String,
        valid: Vec<&'static str>,
    },
    #[error("{call} needs {field}= ({kind})")]
    MissingField {
        call: &'static str,
        field: &'static str,
        kind: &'static str,
    },
    #[error("{call} {field}= expects {expected}, got {got}")]
    WrongType {
        call: &'static str,
        field: String,
        expected: &'static str,
        got: String,
    },
    #[error("{call} got {field}= more than once")]
    DuplicateField { call: &'static str, field: String },
    #[error("{call} is a kernel statement, not a Mesos call; it has no JSON body")]
    NotACall { call: &'static str },
}

fn list_or_none(keys: &[&'static str]) -> String {
    if keys.is_empty() {
        "(none: this call takes no arguments)".to_string()
    } else {
        keys.join(", ")
    }
}

/// ` (did you mean 'x'?)` when one valid key is close to `field`.
fn did_you_mean(field: &str, valid: &[&'static str]) -> String {
    match suggest_key(field, valid) {
        Some(k) => format!(" (did you mean '{k}'?)"),
        None => String::new(),
    }
}

/// The valid key closest to `key` (case-insensitive edit distance of at most a third of its
/// length, at least 1), if any.
pub fn suggest_key(key: &str, valid: &[&'static str]) -> Option<&'static str> {
    let k = key.to_ascii_lowercase();
    let limit = std::cmp::max(1, k.chars().count() / 3);
    valid
        .iter()
        .map(|v| (strsim::levenshtein(&k, v), *v))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, v)| v)
}

const FRAMEWORK_ID: &str = "framework_id";

/// Calls whose answer is a long-lived RecordIO stream rather than one body.
const STREAMING: &[(Api, &str)] = &[
    (Api::Scheduler, "SUBSCRIBE"),
    (Api::Master, "SUBSCRIBE"),
    (Api::Agent, "LAUNCH_NESTED_CONTAINER_SESSION"),
    (Api::Agent, "ATTACH_CONTAINER_OUTPUT"),
];

/// Calls whose sub-message Mesos accepts being absent: sent only when an argument fills it.
const OPTIONAL_BODY: &[(Api, &str)] = &[
    (Api::Scheduler, "REVIVE"),
    (Api::Scheduler, "SUPPRESS"),
    (Api::Agent, "GET_CONTAINERS"),
    (Api::Agent, "PRUNE_IMAGES"),
];

/// Every call, in a stable order: scheduler, master, agent, helper.
pub fn calls() -> &'static [CallSpec] {
    static ALL: OnceLock<Vec<CallSpec>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = Vec::new();
        all.extend_from_slice(scheduler::CALLS);
        all.extend_from_slice(master::CALLS);
        all.extend_from_slice(agent::CALLS);
        all.extend_from_slice(helper::CALLS);
        all
    })
    .as_slice()
}

/// The call `name` (exact, case-insensitive) in `api`.
pub fn lookup(api: Api, name: &str) -> Option<&'static CallSpec> {
    calls()
        .iter()
        .find(|c| c.api == api && c.name.eq_ignore_ascii_case(name))
}

/// Every call named `name` (case-insensitive), in [`calls`] order.
pub fn lookup_all(name: &str) -> Vec<&'static CallSpec> {
    calls()
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(name))
        .collect()
}

/// Every name, sorted and unique.
pub fn names() -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = calls().iter().map(|c| c.name).collect();
    set.into_iter().collect()
}

/// Names starting with `prefix` (case-insensitive), sorted.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let p = prefix.to_ascii_uppercase();
    names()
        .into_iter()
        .filter(|n| n.starts_with(p.as_str()))
        .collect()
}

/// Up to `max` names close to `name`, best first: case-insensitive edit distance (also with
/// underscores ignored), and names that start with or contain it.
pub fn suggest(name: &str, max: usize) -> Vec<&'static str> {
    let q = name.trim().to_ascii_uppercase();
    if q.is_empty() || max == 0 {
        return Vec::new();
    }
    let q_bare: String = q.chars().filter(|c| *c != '_').collect();
    let q_len = q.chars().count();
    let limit = 2 * std::cmp::max(2, q_len / 3) + 1;
    let mut scored: Vec<(usize, usize, &'static str)> = names()
        .into_iter()
        .filter_map(|n| {
            let n_bare: String = n.chars().filter(|c| *c != '_').collect();
            let mut score = std::cmp::min(
                2 * strsim::levenshtein(&q, n),
                2 * strsim::levenshtein(&q_bare, &n_bare) + 1,
            );
            if n.starts_with(q.as_str()) && n != q {
                score = score.min(2);
            } else if q_len >= 3 && n.contains(q.as_str()) {
                score = score.min(3);
            }
            let len_gap = n.chars().count().abs_diff(q_len);
            (score <= limit).then_some((score, len_gap, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(max).map(|(_, _, n)| n).collect()
}

/// Builds the Mesos JSON call `{"type": NAME, "<name lowercased>": {...}}` from evaluated
/// arguments. Calls with no sub-message (or an optional one left empty) give `{"type": NAME}`.
/// Scheduler calls take an explicit `framework_id=` at the top level; otherwise the session
/// adds it.
pub fn build_call(spec: &CallSpec, args: &[(String, Value)]) -> Result<Value, BuildError> {
    if spec.api == Api::Helper {
        return Err(BuildError::NotACall { call: spec.name });
    }
    let mut top = Map::new();
    top.insert("type".into(), Value::String(spec.name.into()));
    let mut body = Map::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut framework_id = None;

    for (key, value) in args {
        if seen.contains(&key.as_str()) {
            return Err(BuildError::DuplicateField {
                call: spec.name,
                field: key.clone(),
            });
        }
        seen.push(key);
        match spec.field(key) {
            Some(field) => {
                let json = convert(spec, field, value)?;
                insert_at(&mut body, field.path, json);
            }
            None if spec.api == Api::Scheduler && key == FRAMEWORK_ID => {
                framework_id = Some(to_id(spec.name, key, value)?);
            }
            None => {
                return Err(BuildError::UnknownField {
                    call: spec.name,
                    field: key.clone(),
                    valid: spec.valid_keys(),
                })
            }
        }
    }

    if let Some(missing) = spec
        .fields
        .iter()
        .find(|f| f.required && !seen.contains(&f.name))
    {
        return Err(BuildError::MissingField {
            call: spec.name,
            field: missing.name,
            kind: missing.kind.describe(),
        });
    }

    if let Some(id) = framework_id {
        top.insert(FRAMEWORK_ID.into(), id);
    }
    let optional = OPTIONAL_BODY.contains(&(spec.api, spec.name));
    if !spec.fields.is_empty() && (!optional || !body.is_empty()) {
        top.insert(spec.body_key(), Value::Object(body));
    }
    Ok(Value::Object(top))
}

/// Puts `value` at a dotted `path` inside `map`, creating objects on the way.
fn insert_at(map: &mut Map<String, Value>, path: &str, value: Value) {
    let mut cur = map;
    let mut segments = path.split('.').peekable();
    while let Some(seg) = segments.next() {
        if segments.peek().is_none() {
            cur.insert(seg.to_string(), value);
            return;
        }
        let entry = cur
            .entry(seg.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        match entry {
            Value::Object(next) => cur = next,
            _ => return,
        }
    }
}

/// A short description of a value for error messages.
fn describe(value: &Value) -> String {
    let text = match value {
        Value::Null => return "null".into(),
        Value::Bool(b) => return format!("boolean {b}"),
        Value::Number(n) => return format!("number {n}"),
        Value::String(s) => format!("text {}", Value::String(s.clone())),
        Value::Array(a) => return format!("a list of {} item(s)", a.len()),
        Value::Object(_) => return "an object".into(),
    };
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn wrong(spec: &CallSpec, field: &str, expected: &'static str, got: &Value) -> BuildError {
    BuildError::WrongType {
        call: spec.name,
        field: field.to_string(),
        expected,
        got: describe(got),
    }
}

fn convert(spec: &CallSpec, field: &Field, value: &Value) -> Result<Value, BuildError> {
    let bad = || wrong(spec, field.name, field.kind.describe(), value);
    match field.kind {
        FieldKind::Json => Ok(value.clone()),
        FieldKind::String => scalar_text(value).map(Value::String).ok_or_else(bad),
        FieldKind::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
                _ => Err(bad()),
            },
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(Value::from(i))
                } else if let Ok(u) = t.parse::<u64>() {
                    Ok(Value::from(u))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        },
        FieldKind::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(bad),
            _ => Err(bad()),
        },
        FieldKind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        FieldKind::Id => to_id(spec.name, field.name, value),
        FieldKind::IdList => match value {
            Value::Array(items) => items
                .iter()
                .map(|v| to_id(spec.name, field.name, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            single => Ok(Value::Array(vec![to_id(spec.name, field.name, single)?])),
        },
        FieldKind::Duration => match value {
            Value::Object(m) if m.contains_key("nanoseconds") => Ok(value.clone()),
            _ => {
                let d = value_duration(value).ok_or_else(bad)?;
                i64::try_from(d.as_nanos()).map_err(|_| bad())?;
                Ok(to_sparse_value(&DurationInfo::from_duration(d)))
            }
        },
        FieldKind::Seconds => {
            let d = value_duration(value).ok_or_else(bad)?;
            serde_json::Number::from_f64(d.as_secs_f64())
                .map(Value::Number)
                .ok_or_else(bad)
        }
        FieldKind::ProtoDuration => match value {
            Value::Object(m) if m.contains_key("seconds") || m.contains_key("nanos") => {
                Ok(value.clone())
            }
            _ => {
                let d = value_duration(value).ok_or_else(bad)?;
                i64::try_from(d.as_secs()).map_err(|_| bad())?;
                Ok(to_sparse_value(&ProtoDuration::from_duration(d)))
            }
        },
        FieldKind::Bytes => {
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Null => return Err(bad()),
                other => other.to_string(),
            };
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            ))
        }
        FieldKind::StringList => match value {
            Value::Array(items) => items
                .iter()
                .map(|v| scalar_text(v).map(Value::String).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            single => Ok(Value::Array(vec![scalar_text(single)
                .map(Value::String)
                .ok_or_else(bad)?])),
        },
        FieldKind::Capabilities => {
            let one = |v: &Value| match v {
                Value::Object(_) => Ok(v.clone()),
                Value::String(s) if !s.trim().is_empty() => {
                    let kind = FrameworkCapabilityType::from_name(&s.trim().to_ascii_uppercase());
                    Ok(to_sparse_value(&FrameworkCapability::new(kind)))
                }
                _ => Err(bad()),
            };
            match value {
                Value::Array(items) => items
                    .iter()
                    .map(one)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                single => Ok(Value::Array(vec![one(single)?])),
            }
        }
    }
}

/// Text for a scalar: strings as they are, numbers and booleans written out.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn to_id(call: &'static str, field: &str, value: &Value) -> Result<Value, BuildError> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::String(s) if !s.is_empty() => Ok(id_json(s)),
        Value::Number(n) => Ok(id_json(&n.to_string())),
        _ => Err(BuildError::WrongType {
            call,
            field: field.to_string(),
            expected: FieldKind::Id.describe(),
            got: describe(value),
        }),
    }
}

/// A duration from a JSON value: text as [`parse_duration`] reads it, or a number of seconds.
fn value_duration(value: &Value) -> Option<Duration> {
    match value {
        Value::String(s) => parse_duration(s).ok(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(Duration::from_secs(u))
            } else {
                n.as_f64().and_then(|f| Duration::try_from_secs_f64(f).ok())
            }
        }
        _ => None,
    }
}

/// Word-wraps `text` at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if line_len > 0 && line_len + 1 + len > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += len;
    }
    out
}

/// A plain-text help page for `%help NAME` and Shift-Tab inspection.
pub fn help_text(spec: &CallSpec) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} -- {}\n", spec.name, spec.summary));
    out.push_str(&format!("API: {}\n\n", spec.api.label()));
    out.push_str(&wrap(spec.doc, 92));
    out.push_str("\n\n");
    if spec.fields.is_empty() {
        out.push_str("Fields: none\n");
    } else {
        out.push_str("Fields (* = required):\n");
        let width = spec.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
        for f in spec.fields {
            let mark = if f.required { "*" } else { " " };
            out.push_str(&format!(
                "  {mark} {:<width$}  {}  [{}",
                f.name,
                f.doc,
                f.kind.describe()
            ));
            if spec.api != Api::Helper && f.path != f.name {
                out.push_str(&format!("; at {}", f.path));
            }
            out.push_str("]\n");
        }
    }
    if spec.api == Api::Scheduler && spec.field(FRAMEWORK_ID).is_none() {
        out.push_str(
            "  (framework_id= may be given; otherwise the session adds the subscribed framework's id)\n",
        );
    }
    out.push_str(&format!("\nExample:\n  {}\n", spec.example));
    out.push_str(&format!("\nResponse: {}\n", spec.response));
    out
}
