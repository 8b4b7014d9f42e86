//! The v1 scheduler API (`POST /api/v1/scheduler`): Mesos's checks in Mesos's order (method,
//! content type, JSON, conversion to a Call, validation, stream id), then the call applied to
//! the state machine. Accepted calls answer 202; SUBSCRIBE answers with the event stream.

use super::auth::Principal;
use super::reconcile_call;
use super::reply;
use super::runtime::Shared;
use super::state::{frame, id_of, CallError};
use crate::mesos::v1::message::read_lenient;
use crate::mesos::v1::scheduler::{CallType, ReconcileTask};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::{Arc, Weak};

/// Fields holding an ID message (`{"value": ...}`), where a bare string is the classic error.
const ID_FIELDS: &[&str] = &[
    "framework_id",
    "agent_id",
    "slave_id",
    "task_id",
    "executor_id",
    "offer_id",
    "offer_ids",
    "id",
    "container_id",
];

/// The checks protobuf makes when it converts JSON into a Call: ID fields must be objects,
/// required fields present, bytes fields base64.
pub fn convert(call: &Value) -> Result<(), String> {
    if !call.is_object() {
        return Err("Expecting a JSON object".into());
    }
    check_ids(call)?;
    let mut missing = Vec::new();
    let need = |v: &Value, path: &str, fields: &[&str], missing: &mut Vec<String>| {
        for f in fields {
            if v.get(*f).is_none_or(Value::is_null) {
                missing.push(format!("{path}.{f}"));
            }
        }
    };
    if let Some(s) = call.get("subscribe") {
        match s.get("framework_info") {
            Some(info) => need(
                info,
                "subscribe.framework_info",
                &["user", "name"],
                &mut missing,
            ),
            None => missing.push("subscribe.framework_info".into()),
        }
    }
    if let Some(a) = call.get("acknowledge") {
        need(
            a,
            "acknowledge",
            &["agent_id", "task_id", "uuid"],
            &mut missing,
        );
    }
    if let Some(a) = call.get("acknowledge_operation_status") {
        need(
            a,
            "acknowledge_operation_status",
            &["uuid", "operation_id"],
            &mut missing,
        );
    }
    if let Some(k) = call.get("kill") {
        need(k, "kill", &["task_id"], &mut missing);
    }
    if let Some(s) = call.get("shutdown") {
        need(s, "shutdown", &["executor_id", "agent_id"], &mut missing);
    }
    if let Some(m) = call.get("message") {
        need(
            m,
            "message",
            &["agent_id", "executor_id", "data"],
            &mut missing,
        );
    }
    if let Some(ops) = call.pointer("/accept/operations").and_then(Value::as_array) {
        for (i, op) in ops.iter().enumerate() {
            if let Some(tasks) = op.pointer("/launch/task_infos").and_then(Value::as_array) {
                for (j, t) in tasks.iter().enumerate() {
                    need(
                        t,
                        &format!("accept.operations[{i}].launch.task_infos[{j}]"),
                        &["name", "task_id", "agent_id"],
                        &mut missing,
                    );
                }
            }
            if let Some(tasks) = op
                .pointer("/launch_group/task_group/tasks")
                .and_then(Value::as_array)
            {
                for (j, t) in tasks.iter().enumerate() {
                    need(
                        t,
                        &format!("accept.operations[{i}].launch_group.task_group.tasks[{j}]"),
                        &["name", "task_id", "agent_id"],
                        &mut missing,
                    );
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(format!("Missing required fields: {}", missing.join(", ")));
    }
    for path in [
        "/acknowledge/uuid",
        "/acknowledge_operation_status/uuid",
        "/message/data",
    ] {
        if let Some(v) = call.pointer(path) {
            let field = path.rsplit('/').next().unwrap_or("");
            let text = v.as_str().ok_or_else(|| {
                format!("Not expecting a JSON {} for field '{field}'", kind_of(v))
            })?;
            decode_bytes(text)
                .map_err(|e| format!("Failed to base64 decode bytes field '{field}': {e}"))?;
        }
    }
    Ok(())
}

/// A `bytes` field as the JSON-to-protobuf conversion decodes it (stout's `base64::decode`):
/// whitespace is skipped, decoding stops at the first `=`, so padding may be there or
/// not, and any other character outside the alphabet is an error.
pub fn decode_bytes(text: &str) -> Result<Vec<u8>, String> {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '=' {
            break;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if !(c.is_ascii_alphanumeric() || c == '+' || c == '/') {
            return Err(format!("Invalid character '{c}'"));
        }
        clean.push(c);
    }
    // A lone character at the end carries no whole byte: stout drops it.
    if clean.len() % 4 == 1 {
        clean.pop();
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(clean).map_err(|e| e.to_string())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check_ids(v: &Value) -> Result<(), String> {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                // A resource's DiskInfo has plain string ids (`persistence.id`, `source.id`).
                if k == "disk" {
                    continue;
                }
                if ID_FIELDS.contains(&k.as_str()) {
                    let items: &[Value] = match child {
                        Value::Array(a) => a,
                        other => std::slice::from_ref(other),
                    };
                    for item in items {
                        match item {
                            Value::Object(id) => match id.get("value") {
                                Some(Value::String(_)) => {}
                                Some(other) => {
                                    return Err(format!(
                                        "Not expecting a JSON {} for field 'value'",
                                        kind_of(other)
                                    ))
                                }
                                None => return Err(format!("Missing required fields: {k}.value")),
                            },
                            Value::Null => {}
                            other => {
                                return Err(format!(
                                    "Not expecting a JSON {} for field '{k}'",
                                    kind_of(other)
                                ))
                            }
                        }
                    }
                    continue;
                }
                check_ids(child)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(check_ids),
        _ => Ok(()),
    }
}

/// `scheduler::Call` validation; the call type when valid.
pub fn validate(call: &Value) -> Result<String, String> {
    let Some(kind) = call
        .get("type")
        .and_then(Value::as_str)
        // Any other string is dropped while parsing, as protobuf does with unknown enum values.
        .filter(|t| CallType::from_name(t).is_known())
    else {
        return Err("Expecting 'type' to be present".into());
    };
    let field = kind.to_ascii_lowercase();
    let present = |f: &str| call.get(f).is_some_and(|v| !v.is_null());
    if kind == "SUBSCRIBE" {
        if !present("subscribe") {
            return Err("Expecting 'subscribe' to be present".into());
        }
        let call_fid = id_of(call.get("framework_id"));
        let info_fid = id_of(call.pointer("/subscribe/framework_info/id"));
        // Absent on one side and present on the other counts as a difference.
        if call_fid != info_fid {
            return Err("'framework_id' differs from 'subscribe.framework_info.id'".into());
        }
        return Ok(kind.to_string());
    }
    if !present("framework_id") {
        return Err("Expecting 'framework_id' to be present".into());
    }
    let needs_body = [
        "ACCEPT",
        "DECLINE",
        "ACCEPT_INVERSE_OFFERS",
        "DECLINE_INVERSE_OFFERS",
        "KILL",
        "SHUTDOWN",
        "ACKNOWLEDGE",
        "ACKNOWLEDGE_OPERATION_STATUS",
        "RECONCILE",
        "RECONCILE_OPERATIONS",
        "MESSAGE",
        "REQUEST",
        "UPDATE_FRAMEWORK",
    ];
    if needs_body.contains(&kind) && !present(&field) {
        return Err(format!("Expecting '{field}' to be present"));
    }
    if kind == "ACKNOWLEDGE" || kind == "ACKNOWLEDGE_OPERATION_STATUS" {
        let uuid = call
            .pointer(&format!("/{field}/uuid"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let bytes = decode_bytes(uuid).unwrap_or_default();
        if uuid::Uuid::from_slice(&bytes).is_err() {
            return Err("Not a valid UUID".into());
        }
    }
    if kind == "ACKNOWLEDGE_OPERATION_STATUS"
        && call
            .pointer("/acknowledge_operation_status/agent_id")
            .is_none()
    {
        return Err("Expecting 'agent_id' to be present".into());
    }
    Ok(kind.to_string())
}

/// Tells the state a framework's stream closed when the client goes away.
struct Disconnect {
    shared: Weak<Shared>,
    framework_id: String,
    stream_id: String,
}

impl Drop for Disconnect {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            if shared.stopping.is_cancelled() {
                return;
            }
            shared.with(|m, fx| m.disconnected(&self.framework_id, &self.stream_id, fx));
        }
    }
}

fn error(e: CallError) -> Response {
    reply::text(e.status, e.message)
}

fn ids(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| id_of(Some(v))).collect())
        .unwrap_or_default()
}

/// A repeated string field (`revive.roles` ...).
fn strings(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn refuse_seconds(call: &Value, pointer: &str) -> f64 {
    call.pointer(pointer).and_then(Value::as_f64).unwrap_or(5.0)
}

/// `POST /api/v1/scheduler`.
/// With authentication on, a SUBSCRIBE naming a `framework_info.principal` must name the one
/// it authenticated as; Mesos refuses the mismatch in its call validation (hence a 400).
fn principal_matches(call: &Value, authenticated: Option<&Principal>) -> Result<(), String> {
    let claimed = call
        .pointer("/subscribe/framework_info/principal")
        .and_then(Value::as_str);
    match (authenticated, claimed) {
        (Some(Principal(who)), Some(claimed)) if who != claimed => Err(format!(
            "Authenticated principal '{who}' does not match principal '{claimed}' set in `FrameworkInfo`"
        )),
        _ => Ok(()),
    }
}

pub async fn scheduler(
    State(shared): State<Arc<Shared>>,
    principal: Option<Extension<Principal>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A RECONCILE's task list is read borrowing the body; the rest of it as any call.
    let reconciled = reconcile_call::split(&body);
    let read = match &reconciled {
        Some(split) => reply::parse_post(&method, &headers, &split.rest),
        None => reply::parse_post(&method, &headers, &body),
    };
    let call = match read {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Err(e) = convert(&call) {
        return reply::text(
            400,
            format!("Failed to convert JSON into Call protobuf: {e}"),
        );
    }
    let kind = match validate(&call) {
        Ok(k) => k,
        Err(e) => return reply::text(400, format!("Failed to validate scheduler::Call: {e}")),
    };
    if kind == "UNKNOWN" {
        return reply::text(501, "501 Not Implemented.");
    }
    if let Err(e) = principal_matches(&call, principal.as_ref().map(|p| &p.0)) {
        return reply::text(400, format!("Failed to validate scheduler::Call: {e}"));
    }
    let stream_header = headers
        .get("Mesos-Stream-Id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if kind == "SUBSCRIBE" {
        let accept = reply::accept(&headers);
        if accept != reply::Accept::Json {
            return reply::not_acceptable(accept);
        }
        if stream_header.is_some() {
            return reply::text(
                400,
                "Subscribe calls should not include the 'Mesos-Stream-Id' header",
            );
        }
        let mut subscribe = call.get("subscribe").cloned().unwrap_or(Value::Null);
        // An authenticated framework without a principal gets the one it authenticated as
        // (Mesos warns and sets it), so a later SUBSCRIBE naming it is no principal change.
        if let (Some(Extension(Principal(who))), Some(Value::Object(fi))) =
            (&principal, subscribe.get_mut("framework_info"))
        {
            fi.entry("principal").or_insert_with(|| json!(who));
        }
        let (rx, stream_id, fid, heartbeat, events) = shared.with(|m, fx| {
            let (tx, rx) = m.event_queue();
            let (sid, fid) = m.subscribe_call(&subscribe, tx, fx);
            let events = fid
                .as_deref()
                .and_then(|f| m.framework(f))
                .map(|f| f.events.clone());
            (rx, sid, fid, m.settings.heartbeat_interval, events)
        });
        let guard = fid.map(|framework_id| Disconnect {
            shared: Arc::downgrade(&shared),
            framework_id,
            stream_id: stream_id.clone(),
        });
        // The stream's own heartbeats count among the framework's events.
        let on_heartbeat = move || {
            if let Some(e) = &events {
                e.count_kind("HEARTBEAT");
            }
        };
        return reply::event_stream(
            rx,
            heartbeat,
            frame(&json!({"type": "HEARTBEAT"})),
            guard,
            on_heartbeat,
            vec![("Mesos-Stream-Id", stream_id)],
        );
    }

    let fid = id_of(call.get("framework_id")).unwrap_or_default();
    if let Err(e) = shared.lock().check_stream(&fid, stream_header.as_deref()) {
        return error(e);
    }
    let result: Result<(), CallError> = shared.with(|m, fx| {
        m.counters.calls += 1;
        m.count_call(&fid, &kind);
        match kind.as_str() {
            "TEARDOWN" => {
                m.remove_framework(&fid, fx);
                Ok(())
            }
            "ACCEPT" => {
                let offer_ids = ids(call.pointer("/accept/offer_ids"));
                let ops = call
                    .pointer("/accept/operations")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                m.accept(
                    &fid,
                    &offer_ids,
                    &ops,
                    refuse_seconds(&call, "/accept/filters/refuse_seconds"),
                    fx,
                )
            }
            "DECLINE" => {
                let offer_ids = ids(call.pointer("/decline/offer_ids"));
                m.decline(
                    &fid,
                    &offer_ids,
                    refuse_seconds(&call, "/decline/filters/refuse_seconds"),
                    fx,
                );
                Ok(())
            }
            "REVIVE" => {
                m.revive(&fid, &strings(call.pointer("/revive/roles")), fx);
                Ok(())
            }
            "SUPPRESS" => {
                m.suppress(&fid, &strings(call.pointer("/suppress/roles")));
                Ok(())
            }
            "KILL" => {
                let task_id = id_of(call.pointer("/kill/task_id")).unwrap_or_default();
                m.kill(&fid, &task_id, fx);
                Ok(())
            }
            "SHUTDOWN" => {
                let executor_id = id_of(call.pointer("/shutdown/executor_id")).unwrap_or_default();
                let agent_id = id_of(call.pointer("/shutdown/agent_id")).unwrap_or_default();
                m.shutdown_executor(&fid, &agent_id, &executor_id);
                Ok(())
            }
            "ACKNOWLEDGE" => {
                let task_id = id_of(call.pointer("/acknowledge/task_id")).unwrap_or_default();
                // The uuid's bytes, in the form the updates carry them (padded base64).
                let uuid = call
                    .pointer("/acknowledge/uuid")
                    .and_then(Value::as_str)
                    .and_then(|u| decode_bytes(u).ok())
                    .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                    .unwrap_or_default();
                m.acknowledge(&fid, &task_id, &uuid, fx);
                Ok(())
            }
            "ACKNOWLEDGE_OPERATION_STATUS" => {
                let a = &call["acknowledge_operation_status"];
                let op = id_of(a.get("operation_id")).unwrap_or_default();
                let uuid = a
                    .get("uuid")
                    .and_then(Value::as_str)
                    .and_then(|u| decode_bytes(u).ok())
                    .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                    .unwrap_or_default();
                m.acknowledge_operation(&fid, &op, &uuid);
                Ok(())
            }
            "RECONCILE_OPERATIONS" => {
                let ops = call
                    .pointer("/reconcile_operations/operations")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                m.reconcile_operations(&fid, ops);
                Ok(())
            }
            "RECONCILE" => {
                let from_value: Vec<ReconcileTask>;
                let tasks = match &reconciled {
                    Some(split) => &split.tasks,
                    None => {
                        let listed = call.pointer("/reconcile/tasks").and_then(Value::as_array);
                        from_value = listed
                            .into_iter()
                            .flatten()
                            .map(|t| read_lenient(t).unwrap_or_default())
                            .collect();
                        &from_value
                    }
                };
                m.reconcile(&fid, tasks);
                Ok(())
            }
            // A framework's own executor gets its MESSAGE; command executors take none (the
            // agent counts them), and there are no inverse offers; Mesos accepts these
            // calls all the same.
            "MESSAGE" => {
                let agent = id_of(call.pointer("/message/agent_id")).unwrap_or_default();
                let executor = id_of(call.pointer("/message/executor_id")).unwrap_or_default();
                let data = call
                    .pointer("/message/data")
                    .cloned()
                    .unwrap_or(Value::Null);
                m.framework_message(&fid, &agent, &executor, &data);
                Ok(())
            }
            "ACCEPT_INVERSE_OFFERS" | "DECLINE_INVERSE_OFFERS" => {
                let field = kind.to_ascii_lowercase();
                let offer_ids = ids(call.pointer(&format!("/{field}/inverse_offer_ids")));
                let refuse = refuse_seconds(&call, &format!("/{field}/filters/refuse_seconds"));
                m.answer_inverse_offers(&fid, &offer_ids, kind.starts_with("ACCEPT"), refuse, fx);
                Ok(())
            }
            "REQUEST" => Ok(()),
            other => Err(CallError::new(
                501,
                format!("Call '{other}' is not implemented by the mesos-kernel embedded cluster"),
            )),
        }
    });
    match result {
        Ok(()) => reply::accepted(),
        Err(e) => error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_and_validation_messages() {
        assert_eq!(
            convert(
                &json!({"type": "KILL", "framework_id": {"value": "f"}, "kill": {"task_id": "x"}})
            ),
            Err("Not expecting a JSON string for field 'task_id'".into())
        );
        assert_eq!(
            convert(&json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "n"}}})),
            Err("Missing required fields: subscribe.framework_info.user".into())
        );
        assert_eq!(
            validate(&json!({"type": "NOPE"})),
            Err("Expecting 'type' to be present".into())
        );
        assert_eq!(
            validate(&json!({"type": "ACCEPT", "framework_id": {"value": "f"}})),
            Err("Expecting 'accept' to be present".into())
        );
        assert_eq!(
            validate(&json!({"type": "REVIVE"})),
            Err("Expecting 'framework_id' to be present".into())
        );
        assert_eq!(
            validate(
                &json!({"type": "ACKNOWLEDGE", "framework_id": {"value": "f"},
                "acknowledge": {"uuid": "aGVsbG8=", "agent_id": {"value": "a"}, "task_id": {"value": "t"}}})
            ),
            Err("Not a valid UUID".into())
        );
    }
}
