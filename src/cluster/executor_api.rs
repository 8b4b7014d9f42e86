//! An agent's v1 executor API, `POST /api/v1/executor` (`Http::executor` in
//! `src/slave/http.cpp`, `validateExecutorCall` in `src/common/validation.cpp`): the
//! checks of a call in Mesos's order with its messages, then SUBSCRIBE (the event stream),
//! UPDATE, MESSAGE and HEARTBEAT applied to the agent's executors (`state/executors.rs`).
//! Open without credentials, as agents run with `--authenticate_http_executors=false`.

use super::reply;
use super::runtime::Shared;
use super::state::frame;
use super::state::id_of;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Mesos's `DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL` (`src/slave/constants.hpp`).
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30 * 60);

const CALL_TYPES: &[&str] = &["SUBSCRIBE", "UPDATE", "MESSAGE", "HEARTBEAT", "UNKNOWN"];

/// The parts of a Call that protobuf requires: their absence fails the JSON conversion.
fn missing_required(call: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    for f in ["executor_id", "framework_id"] {
        if call.get(f).is_none_or(Value::is_null) {
            missing.push(f.to_string());
        }
    }
    if let Some(status) = call.pointer("/update/status") {
        for f in ["task_id", "state"] {
            if status.get(f).is_none_or(Value::is_null) {
                missing.push(format!("update.status.{f}"));
            }
        }
    } else if call.get("update").is_some_and(|u| !u.is_null()) {
        missing.push("update.status".into());
    }
    if call.get("message").is_some_and(|m| m.get("data").is_none()) {
        missing.push("message.data".into());
    }
    missing
}

/// `validateExecutorCall`: the call's type, when it is valid.
pub fn validate(call: &Value) -> Result<&'static str, String> {
    let Some(kind) = call
        .get("type")
        .and_then(Value::as_str)
        // Any other string is dropped while parsing, as protobuf does with unknown values.
        .and_then(|t| CALL_TYPES.iter().find(|k| **k == t))
        .copied()
    else {
        return Err("Expecting 'type' to be present".into());
    };
    let present = |f: &str| call.get(f).is_some_and(|v| !v.is_null());
    if !present("executor_id") {
        return Err("Expecting 'executor_id' to be present".into());
    }
    if !present("framework_id") {
        return Err("Expecting 'framework_id' to be present".into());
    }
    let executor_id = id_of(call.get("executor_id")).unwrap_or_default();
    let framework_id = id_of(call.get("framework_id")).unwrap_or_default();
    match kind {
        "SUBSCRIBE" if !present("subscribe") => Err("Expecting 'subscribe' to be present".into()),
        "MESSAGE" if !present("message") => Err("Expecting 'message' to be present".into()),
        "UPDATE" => {
            if !present("update") {
                return Err("Expecting 'update' to be present".into());
            }
            let status = call.pointer("/update/status").unwrap_or(&Value::Null);
            let Some(uuid) = status.get("uuid").and_then(Value::as_str) else {
                return Err("Expecting 'uuid' to be present".into());
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(uuid)
                .map_err(|_| "Not a valid UUID".to_string())?;
            if bytes.len() != 16 {
                return Err("Not a valid UUID".into());
            }
            if let Some(own) = id_of(status.get("executor_id")) {
                if own != executor_id {
                    return Err(format!(
                        "ExecutorID in Call: {executor_id} does not match ExecutorID in TaskStatus: {own}"
                    ));
                }
            }
            if status.get("source").and_then(Value::as_str) != Some("SOURCE_EXECUTOR") {
                return Err(format!(
                    "Received Call from executor {executor_id} of framework {framework_id} with invalid source, expecting 'SOURCE_EXECUTOR'"
                ));
            }
            if status.get("state").and_then(Value::as_str) == Some("TASK_STAGING") {
                return Err(format!(
                    "Received TASK_STAGING from executor {executor_id} of framework {framework_id} which is not allowed"
                ));
            }
            Ok(kind)
        }
        _ => Ok(kind),
    }
}

/// `POST /api/v1/executor` on agent `agent_id`.
pub async fn executor_api(
    shared: Arc<Shared>,
    agent_id: String,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared.lock().agent_view(&agent_id).is_none() {
        return reply::text(503, "Agent has not finished recovery");
    }
    let call = match reply::parse_post(&method, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let missing = missing_required(&call);
    if !call.is_object() || !missing.is_empty() {
        let why = if call.is_object() {
            format!("Missing required fields: {}", missing.join(", "))
        } else {
            "Expecting a JSON object".to_string()
        };
        return reply::text(
            400,
            format!("Failed to convert JSON into Call protobuf: {why}"),
        );
    }
    let kind = match validate(&call) {
        Ok(k) => k,
        Err(e) => return reply::text(400, format!("Failed to validate Executor::Call: {e}")),
    };
    let framework_id = id_of(call.get("framework_id")).unwrap_or_default();
    let executor_id = id_of(call.get("executor_id")).unwrap_or_default();
    let result = match kind {
        "SUBSCRIBE" => {
            let accept = reply::accept(&headers);
            if accept != reply::Accept::Json {
                return reply::not_acceptable(accept);
            }
            let (tx, rx) = shared.lock().event_queue();
            let subscribed = shared
                .with(|m, _| m.executor_subscribe(&agent_id, &framework_id, &executor_id, tx));
            return match subscribed {
                Ok(()) => reply::event_stream(
                    rx,
                    HEARTBEAT_INTERVAL,
                    frame(&json!({"type": "HEARTBEAT"})),
                    (),
                    || {},
                    Vec::new(),
                ),
                Err(e) => reply::text(e.status, e.message),
            };
        }
        // Mesos answers before looking the executor up: its ids may be placeholders.
        "HEARTBEAT" => Ok(()),
        "UPDATE" => {
            let status = call
                .pointer("/update/status")
                .cloned()
                .unwrap_or(Value::Null);
            shared
                .with(|m, fx| m.executor_update(&agent_id, &framework_id, &executor_id, status, fx))
        }
        "MESSAGE" => {
            let data = call
                .pointer("/message/data")
                .cloned()
                .unwrap_or(Value::Null);
            shared.with(|m, _| m.executor_message(&agent_id, &framework_id, &executor_id, &data))
        }
        _ => return reply::text(501, "501 Not Implemented."),
    };
    match result {
        Ok(()) => reply::accepted(),
        Err(e) => reply::text(e.status, e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(status: Value) -> Value {
        json!({"type": "UPDATE", "executor_id": {"value": "e"}, "framework_id": {"value": "f"},
               "update": {"status": status}})
    }

    #[test]
    fn calls_are_checked_in_mesos_order_with_its_messages() {
        assert_eq!(
            validate(&json!({"type": "NOPE"})),
            Err("Expecting 'type' to be present".into())
        );
        assert_eq!(
            validate(&json!({"type": "SUBSCRIBE", "executor_id": {"value": "e"}})),
            Err("Expecting 'framework_id' to be present".into())
        );
        let ok_uuid = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        let base = json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING",
                          "source": "SOURCE_EXECUTOR", "uuid": ok_uuid});
        assert_eq!(validate(&update(base.clone())), Ok("UPDATE"));
        let mut no_uuid = base.clone();
        no_uuid.as_object_mut().map(|o| o.remove("uuid"));
        assert_eq!(
            validate(&update(no_uuid)),
            Err("Expecting 'uuid' to be present".into())
        );
        let mut agent = base.clone();
        agent["source"] = json!("SOURCE_AGENT");
        assert_eq!(
            validate(&update(agent)),
            Err("Received Call from executor e of framework f with invalid source, expecting 'SOURCE_EXECUTOR'".into())
        );
        let mut staging = base.clone();
        staging["state"] = json!("TASK_STAGING");
        assert_eq!(
            validate(&update(staging)),
            Err("Received TASK_STAGING from executor e of framework f which is not allowed".into())
        );
        let mut other = base;
        other["executor_id"] = json!({"value": "x"});
        assert_eq!(
            validate(&update(other)),
            Err("ExecutorID in Call: e does not match ExecutorID in TaskStatus: x".into())
        );
    }
}
