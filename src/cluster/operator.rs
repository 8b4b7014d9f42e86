//! The v1 operator API (`POST /api/v1`) of the master: Mesos's request checks in Mesos's
//! order, then the call. The answers are the views of `views.rs`.

use super::files;
use super::metrics;
use super::reply;
use super::runtime::Shared;
use super::views::{
    known_roles, role_v1, version_info, GetAgents, GetExecutors, GetFrameworks, GetState, GetTasks,
};
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use bytes::Bytes;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};
use std::sync::Arc;

fn id(v: &str) -> Value {
    crate::mesos::v1::ids::id_json(v)
}

/// Flags as GET_FLAGS writes them: `{"name", "value"}` by name.
pub fn flags_v1(flags: &super::flags::Flags) -> Value {
    Value::Array(
        flags
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect(),
    )
}

pub fn answer(kind: &str, body: impl Serialize) -> Response {
    struct Answer<'a, T> {
        kind: &'a str,
        body: T,
    }
    impl<T: Serialize> Serialize for Answer<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut o = s.serialize_map(Some(2))?;
            o.serialize_entry("type", self.kind)?;
            o.serialize_entry(&self.kind.to_ascii_lowercase(), &self.body)?;
            o.end()
        }
    }
    reply::json_of(&Answer { kind, body })
}

/// Calls Mesos knows but this cluster does not implement: answered 501, naming the call.
pub fn not_implemented(kind: &str) -> Response {
    reply::text(
        501,
        format!("Call '{kind}' is not implemented by the mesos-kernel embedded cluster"),
    )
}

/// Checks an operator call's JSON, as protobuf's conversion and Mesos's validation do: an
/// object, with a type, and with the sub-message its type needs.
#[allow(clippy::result_large_err)] // the error is a ready answer
pub fn check_call(call: Value, who: &str) -> Result<(String, Value), Response> {
    if !call.is_object() {
        return Err(reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Expecting a JSON object",
        ));
    }
    let kind = call
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind.is_empty() {
        return Err(reply::text(
            400,
            format!("Failed to validate {who}::Call: Expecting 'type' to be present"),
        ));
    }
    // Calls with a sub-message need it.
    let needs = [
        "GET_METRICS",
        "SET_LOGGING_LEVEL",
        "LIST_FILES",
        "READ_FILE",
        "TEARDOWN",
        "MARK_AGENT_GONE",
        "UPDATE_MAINTENANCE_SCHEDULE",
        "START_MAINTENANCE",
        "STOP_MAINTENANCE",
        "DRAIN_AGENT",
        "DEACTIVATE_AGENT",
        "REACTIVATE_AGENT",
    ];
    if needs.contains(&kind.as_str()) || super::tenancy_api::NEEDS_MESSAGE.contains(&kind.as_str())
    {
        let field = kind.to_ascii_lowercase();
        if call.get(&field).is_none_or(Value::is_null) {
            return Err(reply::text(
                400,
                format!("Failed to validate {who}::Call: Expecting '{field}' to be present"),
            ));
        }
    }
    Ok((kind, call))
}

/// The master's checks in `Master::Http::api`'s order: method, content type, the call,
/// then what the answer may be (`Accept`).
#[allow(clippy::result_large_err)] // the error is a ready answer
fn parse_call(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, Value), Response> {
    let call = reply::parse_post(method, headers, body)?;
    let (kind, call) = check_call(call, "master")?;
    let accept = reply::accept(headers);
    if accept != reply::Accept::Json {
        return Err(reply::not_acceptable(accept));
    }
    if kind == "UNKNOWN" {
        return Err(reply::text(501, "501 Not Implemented."));
    }
    Ok((kind, call))
}

/// The writer of a call whose answer is every agent, framework or task (tens of MB on a
/// big cluster, written straight from the state); `None` for the other calls.
fn big_answer(kind: &str) -> Option<fn(&str, &super::state::Master) -> Response> {
    Some(match kind {
        "GET_STATE" => |kind, m| answer(kind, GetState(m)),
        "GET_AGENTS" => |kind, m| answer(kind, GetAgents(m)),
        "GET_FRAMEWORKS" => |kind, m| answer(kind, GetFrameworks(m)),
        "GET_EXECUTORS" => |kind, m| answer(kind, GetExecutors(m)),
        "GET_TASKS" => |kind, m| answer(kind, GetTasks(m)),
        _ => return None,
    })
}

/// `POST /api/v1` on the master.
pub async fn master_api(
    State(shared): State<Arc<Shared>>,
    principal: Option<axum::Extension<super::auth::Principal>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, call) = match parse_call(&method, &headers, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let who = principal.as_ref().map(|p| p.0 .0.as_str());
    if let Some(answer) = super::tenancy_api::master_call(&shared, &kind, &call, who) {
        return answer;
    }
    if let Some(write) = big_answer(&kind) {
        // Written on a blocking thread: a 10,000-task GET_STATE is 200 ms of writing under
        // the state lock, and on a runtime worker it held up the heartbeats of the streams
        // served there (and of every other connection).
        let shared = Arc::clone(&shared);
        return tokio::task::spawn_blocking(move || write(&kind, &shared.lock()))
            .await
            .unwrap_or_else(|e| reply::text(500, format!("writing the answer failed: {e}")));
    }
    let m = shared.lock();
    match kind.as_str() {
        "GET_HEALTH" => answer(&kind, json!({"healthy": true})),
        "GET_FLAGS" => answer(
            &kind,
            json!({"flags": flags_v1(&super::flags::master(&m.settings.flags))}),
        ),
        "GET_VERSION" => answer(&kind, json!({"version_info": version_info()})),
        "GET_METRICS" => answer(&kind, metrics::v1(&metrics::master(&m, true))),
        "GET_ROLES" => {
            let roles: Vec<Value> = known_roles(&m).iter().map(role_v1).collect();
            answer(&kind, json!({ "roles": roles }))
        }
        "GET_MASTER" => answer(
            &kind,
            json!({"master_info": m.master_info(), "start_time": m.settings.start_time, "elected_time": m.settings.start_time}),
        ),
        "SUBSCRIBE" => {
            drop(m);
            let (rx, heartbeat) = shared.with(|m, _| {
                let (tx, rx) = m.event_queue();
                m.operator_subscribe(tx);
                (rx, m.settings.heartbeat_interval)
            });
            reply::event_stream(
                rx,
                heartbeat,
                super::state::frame(&json!({"type": "HEARTBEAT"})),
                (),
                || {},
                Vec::new(),
            )
        }
        "TEARDOWN" => {
            drop(m);
            let fid = call
                .pointer("/teardown/framework_id/value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if shared.with(|m, fx| m.remove_framework(&fid, fx)) {
                reply::text(200, "")
            } else {
                reply::text(400, "No framework found with specified ID")
            }
        }
        "MARK_AGENT_GONE" => {
            drop(m);
            mark_agent_gone(&shared, &call)
        }
        "LIST_FILES" => files::list_files_v1(&m, None, &call),
        "READ_FILE" => files::read_file_v1(&m, None, &call),
        other => {
            drop(m);
            super::operations::master_call(&shared, other, &call)
                .unwrap_or_else(|| not_implemented(other))
        }
    }
}

/// MARK_AGENT_GONE: 200 with an empty body (also for an agent already gone), 404
/// `Agent '<id>' not found` for an agent the master does not know.
fn mark_agent_gone(shared: &Arc<Shared>, call: &Value) -> Response {
    let Some(agent_id) = call
        .pointer("/mark_agent_gone/agent_id/value")
        .and_then(Value::as_str)
    else {
        return reply::text(
            400,
            "Failed to convert JSON into Call protobuf: Missing required fields: mark_agent_gone.agent_id",
        );
    };
    match shared.with(|m, fx| m.mark_gone(agent_id, fx)) {
        Ok(()) => {
            // Mesos shuts the agent down: every container on it is destroyed.
            shared.containers.forget_agent(agent_id);
            reply::text(200, "")
        }
        Err(e) => reply::text(e.status, e.message),
    }
}

/// The fault-injection hook `POST /__cluster/agents/<id>/crash` (the embedded cluster's
/// own, not Mesos's): the agent stops answering; the master notices by missed health checks.
pub fn crash_agent(shared: &Arc<Shared>, agent_id: &str) -> Response {
    let (result, timeout, max) = shared.with(|m, fx| {
        (
            m.crash_agent(agent_id, fx),
            m.settings.agent_ping_timeout,
            m.settings.max_agent_ping_timeouts,
        )
    });
    match result {
        Ok(()) => reply::json(&json!({
            "agent_id": id(agent_id),
            "crashed": true,
            "unreachable_after_secs": timeout.as_secs_f64() * f64::from(max)
        })),
        Err(e) => reply::text(e.status, e.message),
    }
}
