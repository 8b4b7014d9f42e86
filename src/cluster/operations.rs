//! The operator's hands on the master: maintenance (UPDATE/GET_MAINTENANCE_SCHEDULE,
//! GET_MAINTENANCE_STATUS, START/STOP_MAINTENANCE and the legacy `/maintenance/schedule`,
//! `/maintenance/status`, `/machine/down`, `/machine/up`), DRAIN_AGENT,
//! DEACTIVATE/REACTIVATE_AGENT and SET/GET_LOGGING_LEVEL, with Mesos 1.11's checks and
//! answers (`src/master/http.cpp`): `200` with an empty body when done, `400` with Mesos's
//! words when refused.

use super::logging::Process;
use super::operator::answer;
use super::reply;
use super::runtime::Shared;
use super::state::maintenance::{parse_machines, parse_schedule};
use super::state::CallError;
use crate::mesos::v1::agent::MachineId;
use crate::mesos::v1::operator::master as operator;
use crate::mesos::v1::DurationInfo;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn convert_error(e: String) -> Response {
    reply::text(
        400,
        format!("Failed to convert JSON into Call protobuf: {e}"),
    )
}

fn done(result: Result<(), CallError>) -> Response {
    match result {
        Ok(()) => reply::text(200, ""),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// `{"nanoseconds": N}`; `path` names the field in protobuf's words.
fn duration_ns(v: &Value, path: &str) -> Result<i64, String> {
    let name = path.rsplit('.').next().unwrap_or(path);
    let Some(o) = v.as_object() else {
        return Err(format!(
            "Not expecting a JSON {} for field '{name}'",
            json_kind(v)
        ));
    };
    match o.get("nanoseconds") {
        None | Some(Value::Null) => Err(format!("Missing required fields: {path}.nanoseconds")),
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| format!("Failed to convert '{n}' to int64 for field 'nanoseconds'")),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| format!("Failed to convert '{s}' to int64 for field 'nanoseconds'")),
        Some(other) => Err(format!(
            "Not expecting a JSON {} for field 'nanoseconds'",
            json_kind(other)
        )),
    }
}

/// A `google.protobuf.Duration` (`{"seconds": S, "nanos": N}`, both optional), as the
/// master devolves it into the DurationInfo it keeps: `seconds * 10^9 + nanos`.
fn proto_duration(v: &Value, name: &str) -> Result<DurationInfo, String> {
    let Some(o) = v.as_object() else {
        return Err(format!(
            "Not expecting a JSON {} for field '{name}'",
            json_kind(v)
        ));
    };
    let number = |field: &str| -> Result<i64, String> {
        match o.get(field) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .ok_or_else(|| format!("Failed to convert '{n}' for field '{field}'")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| format!("Failed to parse '{s}' as a JSON number for field '{field}'")),
            Some(other) => Err(format!(
                "Not expecting a JSON {} for field '{field}'",
                json_kind(other)
            )),
        }
    };
    let seconds = number("seconds")?;
    let nanos = number("nanos")?;
    Ok(DurationInfo {
        nanoseconds: seconds.saturating_mul(1_000_000_000).saturating_add(nanos),
        ..Default::default()
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A required `{"agent_id": {"value": ...}}` of a call's sub-message.
fn agent_id_of(call: &Value, field: &str) -> Result<String, String> {
    match call.pointer(&format!("/{field}/agent_id")) {
        None | Some(Value::Null) => Err(format!("Missing required fields: {field}.agent_id")),
        Some(Value::Object(o)) => match o.get("value") {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) => {
                Err(format!("Missing required fields: {field}.agent_id.value"))
            }
            Some(other) => Err(format!(
                "Not expecting a JSON {} for field 'value'",
                json_kind(other)
            )),
        },
        Some(other) => Err(format!(
            "Not expecting a JSON {} for field 'agent_id'",
            json_kind(other)
        )),
    }
}

/// The master's calls of this file, or `None` for a call it does not answer.
pub fn master_call(shared: &Arc<Shared>, kind: &str, call: &Value) -> Option<Response> {
    Some(match kind {
        "GET_MAINTENANCE_SCHEDULE" => {
            let schedule = shared.lock().maintenance_schedule();
            answer(
                kind,
                operator::GetMaintenanceSchedule {
                    schedule,
                    ..Default::default()
                },
            )
        }
        "GET_MAINTENANCE_STATUS" => {
            let status = shared.lock().maintenance_status();
            answer(
                kind,
                operator::GetMaintenanceStatus {
                    status,
                    ..Default::default()
                },
            )
        }
        "UPDATE_MAINTENANCE_SCHEDULE" => {
            let Some(schedule) = call
                .pointer("/update_maintenance_schedule/schedule")
                .filter(|s| !s.is_null())
            else {
                return Some(convert_error(
                    "Missing required fields: update_maintenance_schedule.schedule".into(),
                ));
            };
            match parse_schedule(schedule, "update_maintenance_schedule.schedule") {
                Ok(windows) => done(shared.with(|m, fx| m.update_schedule(windows, fx))),
                Err(e) => convert_error(e),
            }
        }
        "START_MAINTENANCE" | "STOP_MAINTENANCE" => {
            let field = kind.to_ascii_lowercase();
            let machines = call.pointer(&format!("/{field}/machines"));
            match parse_machines(machines, "machines") {
                Ok(ids) if kind == "START_MAINTENANCE" => {
                    done(shared.with(|m, fx| m.start_maintenance(&ids, fx)))
                }
                Ok(ids) => done(shared.with(|m, fx| m.stop_maintenance(&ids, fx))),
                Err(e) => convert_error(e),
            }
        }
        "DRAIN_AGENT" => {
            let agent_id = match agent_id_of(call, "drain_agent") {
                Ok(a) => a,
                Err(e) => return Some(convert_error(e)),
            };
            let max_grace = match call
                .pointer("/drain_agent/max_grace_period")
                .filter(|v| !v.is_null())
            {
                Some(v) => match proto_duration(v, "max_grace_period") {
                    Ok(d) => Some(d),
                    Err(e) => return Some(convert_error(e)),
                },
                None => None,
            };
            let mark_gone = match call.pointer("/drain_agent/mark_gone") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Some(convert_error(format!(
                        "Not expecting a JSON {} for field 'mark_gone'",
                        json_kind(other)
                    )))
                }
            };
            done(shared.with(|m, fx| m.drain_agent(&agent_id, max_grace, mark_gone, fx)))
        }
        "DEACTIVATE_AGENT" => match agent_id_of(call, "deactivate_agent") {
            Ok(agent_id) => done(shared.with(|m, _| m.deactivate_agent(&agent_id))),
            Err(e) => convert_error(e),
        },
        "REACTIVATE_AGENT" => match agent_id_of(call, "reactivate_agent") {
            Ok(agent_id) => done(shared.with(|m, fx| m.reactivate_agent(&agent_id, fx))),
            Err(e) => convert_error(e),
        },
        "GET_LOGGING_LEVEL" => logging_level(shared, &Process::Master),
        "SET_LOGGING_LEVEL" => set_logging_level(shared, Process::Master, call),
        _ => return None,
    })
}

/// GET_LOGGING_LEVEL of a process (the master's, or an agent's on its own `/api/v1`).
pub fn logging_level(shared: &Arc<Shared>, process: &Process) -> Response {
    let level = shared.lock().logging_level(process);
    answer("GET_LOGGING_LEVEL", json!({ "level": level }))
}

/// SET_LOGGING_LEVEL: `level` and `duration` are required; `200` with an empty body.
pub fn set_logging_level(shared: &Arc<Shared>, process: Process, call: &Value) -> Response {
    let level = match call.pointer("/set_logging_level/level") {
        None | Some(Value::Null) => {
            return convert_error("Missing required fields: set_logging_level.level".into())
        }
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(l) => l,
            None => {
                return convert_error(format!(
                    "Failed to convert '{n}' to uint32 for field 'level'"
                ))
            }
        },
        Some(other) => {
            return convert_error(format!(
                "Not expecting a JSON {} for field 'level'",
                json_kind(other)
            ))
        }
    };
    let duration = match call
        .pointer("/set_logging_level/duration")
        .filter(|v| !v.is_null())
    {
        None => return convert_error("Missing required fields: set_logging_level.duration".into()),
        Some(v) => match duration_ns(v, "set_logging_level.duration") {
            Ok(ns) => Duration::from_nanos(ns.max(0) as u64),
            Err(e) => return convert_error(e),
        },
    };
    shared.with(|m, fx| m.set_logging_level(process, level, duration, fx));
    reply::text(200, "")
}

/// A legacy endpoint's JSON body of the kind it wants (`JSON::parse<JSON::Object>` or
/// `<JSON::Array>`): Mesos answers anything else `400` with the parser's words (picojson's
/// own for a syntax error, here serde's), or "Unexpected JSON type parsed".
#[allow(clippy::result_large_err)] // the error is a ready answer
fn body_json(body: &[u8], array: bool) -> Result<Value, Response> {
    let value: Value = serde_json::from_slice(body).map_err(|e| reply::text(400, e.to_string()))?;
    if value.is_array() != array || !(value.is_array() || value.is_object()) {
        return Err(reply::text(400, "Unexpected JSON type parsed"));
    }
    Ok(value)
}

fn allowed(method: &Method, allowed: &[&str]) -> Option<Response> {
    if allowed.contains(&method.as_str()) {
        return None;
    }
    let list = allowed
        .iter()
        .map(|m| format!("'{m}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut r = reply::text(
        405,
        format!("405 Method Not Allowed. Expecting one of {{ {list} }}, but received '{method}'."),
    );
    // libprocess's MethodNotAllowed names them in `Allow` too.
    if let Ok(v) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
        r.headers_mut().insert(axum::http::header::ALLOW, v);
    }
    Some(r)
}

/// `GET` and `POST /master/maintenance/schedule`.
pub async fn schedule(State(shared): State<Arc<Shared>>, method: Method, body: Bytes) -> Response {
    if let Some(r) = allowed(&method, &["GET", "POST"]) {
        return r;
    }
    if method == Method::GET {
        let schedule = shared.lock().maintenance_schedule();
        return reply::json_of(&schedule);
    }
    let value = match body_json(&body, false) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match parse_schedule(&value, "") {
        Ok(windows) => done(shared.with(|m, fx| m.update_schedule(windows, fx))),
        Err(e) => reply::text(400, e),
    }
}

/// `GET /master/maintenance/status`.
pub async fn status(State(shared): State<Arc<Shared>>, method: Method) -> Response {
    if let Some(r) = allowed(&method, &["GET"]) {
        return r;
    }
    let status = shared.lock().maintenance_status();
    reply::json_of(&status)
}

/// The body of `/machine/down` and `/machine/up`: a JSON array of MachineIDs.
#[allow(clippy::result_large_err)] // the error is a ready answer
fn machines_body(body: &[u8]) -> Result<Vec<MachineId>, Response> {
    let value = body_json(body, true)?;
    parse_machines(Some(&value), "machines").map_err(|e| reply::text(400, e))
}

/// `POST /master/machine/down`.
pub async fn machine_down(
    State(shared): State<Arc<Shared>>,
    method: Method,
    body: Bytes,
) -> Response {
    if let Some(r) = allowed(&method, &["POST"]) {
        return r;
    }
    match machines_body(&body) {
        Ok(ids) => done(shared.with(|m, fx| m.start_maintenance(&ids, fx))),
        Err(r) => r,
    }
}

/// `POST /master/machine/up`.
pub async fn machine_up(
    State(shared): State<Arc<Shared>>,
    method: Method,
    body: Bytes,
) -> Response {
    if let Some(r) = allowed(&method, &["POST"]) {
        return r;
    }
    match machines_body(&body) {
        Ok(ids) => done(shared.with(|m, fx| m.stop_maintenance(&ids, fx))),
        Err(r) => r,
    }
}

/// libprocess's `/logging/toggle`, which every Mesos process serves: with no query the
/// level in force; with `level` and `duration` the effect of SET_LOGGING_LEVEL (`200`, an
/// empty body), with libprocess's `400`s otherwise.
pub fn logging_toggle(
    shared: &Arc<Shared>,
    process: Process,
    q: &std::collections::HashMap<String, String>,
) -> Response {
    let (level, duration) = match (q.get("level"), q.get("duration")) {
        (None, None) => {
            let level = shared.lock().logging_level(&process);
            return reply::text(200, format!("{level}\n"));
        }
        (Some(_), None) => return reply::text(400, "Expecting 'duration=value' in query.\n"),
        (None, Some(_)) => return reply::text(400, "Expecting 'level=value' in query.\n"),
        (Some(l), Some(d)) => (l, d),
    };
    let Ok(level) = level.trim().parse::<i64>() else {
        return reply::text(400, format!("Failed to convert '{level}' to number.\n"));
    };
    // The original level is 0, so no non-negative level is below it.
    if level < 0 {
        return reply::text(400, format!("Invalid level '{level}'.\n"));
    }
    let duration = match crate::mesos::v1::parse_duration(duration) {
        Ok(d) => d,
        Err(e) => return reply::text(400, format!("{e}.\n")),
    };
    let level = u32::try_from(level).unwrap_or(u32::MAX);
    shared.with(|m, fx| m.set_logging_level(process, level, duration, fx));
    reply::text(200, "")
}
