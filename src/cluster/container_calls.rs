//! The agent's container calls, as Mesos 1.11's `src/slave/http.cpp` answers them:
//! LAUNCH/WAIT/KILL/REMOVE_(NESTED_)CONTAINER, LAUNCH_NESTED_CONTAINER_SESSION and
//! ATTACH_CONTAINER_OUTPUT (ProcessIO records, RecordIO framed), ATTACH_CONTAINER_INPUT (a
//! streaming request), GET_CONTAINERS with `show_nested`/`show_standalone`, and the calls
//! an agent without resource providers or an image store answers (GET_RESOURCE_PROVIDERS,
//! the resource provider config calls, PRUNE_IMAGES). The request's media types are checked
//! before, by the agent's one dispatch (`agent_api.rs`); the containers themselves are in
//! `containerizer.rs`.

use super::containerizer::{self, ContainerId, Launch, LaunchError, Output, Owner};
use super::host;
use super::reply;
use super::runtime::Shared;
use crate::mesos::recordio;
use crate::mesos::v1::operator::agent::{
    Call as AgentCall, DataType, ProcessData, ProcessIo, ProcessIoType,
};
use axum::body::{Body, BodyDataStream};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;

const JSON: &str = "application/json";
const RECORDIO: &str = "application/recordio";

/// The calls this file answers.
pub const CALLS: &[&str] = &[
    "LAUNCH_NESTED_CONTAINER",
    "WAIT_NESTED_CONTAINER",
    "KILL_NESTED_CONTAINER",
    "REMOVE_NESTED_CONTAINER",
    "LAUNCH_NESTED_CONTAINER_SESSION",
    "ATTACH_CONTAINER_INPUT",
    "ATTACH_CONTAINER_OUTPUT",
    "LAUNCH_CONTAINER",
    "WAIT_CONTAINER",
    "KILL_CONTAINER",
    "REMOVE_CONTAINER",
    "GET_CONTAINERS",
    "GET_RESOURCE_PROVIDERS",
    "ADD_RESOURCE_PROVIDER_CONFIG",
    "UPDATE_RESOURCE_PROVIDER_CONFIG",
    "REMOVE_RESOURCE_PROVIDER_CONFIG",
    "MARK_RESOURCE_PROVIDER_GONE",
    "PRUNE_IMAGES",
];

/// The field of the call's sub-message, `launch_nested_container` for LAUNCH_NESTED_CONTAINER.
fn field(kind: &str) -> String {
    kind.to_ascii_lowercase()
}

fn container_of(kind: &str, call: &Value) -> Option<ContainerId> {
    call.get(field(kind))
        .and_then(|m| m.get("container_id"))
        .and_then(containerizer::container_id)
}

/// Mesos's `validation::agent::call::validate` for these calls, with its messages.
pub fn validate(kind: &str, call: &Value) -> Result<(), String> {
    let f = field(kind);
    let needs_message = !matches!(
        kind,
        "GET_CONTAINERS" | "GET_RESOURCE_PROVIDERS" | "PRUNE_IMAGES"
    );
    let message = call.get(&f).filter(|m| !m.is_null());
    if needs_message && message.is_none() {
        return Err(format!("Expecting '{f}' to be present"));
    }
    let Some(message) = message else {
        return Ok(());
    };
    match kind {
        "ATTACH_CONTAINER_INPUT" => {
            return match message.get("type").and_then(Value::as_str) {
                None => Err(format!("Expecting '{f}.type' to be present")),
                // An absent id is protobuf's empty one.
                Some("CONTAINER_ID") => message
                    .get("container_id")
                    .and_then(containerizer::container_id)
                    .map_or(Err("ID must not be empty".to_string()), |id| {
                        containerizer::validate_id(&id)
                    })
                    .map_err(|e| format!("'{f}.container_id' is invalid: {e}")),
                Some("PROCESS_IO") => Ok(()),
                Some(_) => Err(format!("'{f}.type' is unknown")),
            };
        }
        "ADD_RESOURCE_PROVIDER_CONFIG" | "UPDATE_RESOURCE_PROVIDER_CONFIG" => {
            if message.pointer("/info/id").is_some_and(|v| !v.is_null()) {
                return Err(format!("Expecting '{f}.info.id' to be unset"));
            }
            return Ok(());
        }
        "REMOVE_RESOURCE_PROVIDER_CONFIG"
        | "MARK_RESOURCE_PROVIDER_GONE"
        | "GET_CONTAINERS"
        | "PRUNE_IMAGES" => return Ok(()),
        _ => {}
    }
    let Some(id) = container_of(kind, call) else {
        // A required field of the protobuf: its conversion fails first in Mesos.
        return Err(format!("Expecting '{f}.container_id' to be present"));
    };
    containerizer::validate_id(&id).map_err(|e| format!("'{f}.container_id' is invalid: {e}"))?;
    let nested_only = kind.contains("NESTED");
    if nested_only && id.parent.is_none() {
        return Err(format!("Expecting '{f}.container_id.parent' to be present"));
    }
    if kind == "LAUNCH_CONTAINER" {
        let twice = id.parent.as_ref().is_some_and(|p| p.parent.is_some());
        let has = |k: &str| {
            message
                .get(k)
                .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()) || v.is_object())
        };
        if twice && has("resources") {
            return Err("'launch_container' is invalid: containers nested at the second level or greater cannot specify resources".into());
        }
        if twice && has("limits") {
            return Err("'launch_container' is invalid: containers nested at the second level or greater cannot specify resource limits".into());
        }
    }
    Ok(())
}

fn launch_of(message: &Value, debug: bool) -> Launch {
    let command = message.get("command").unwrap_or(&Value::Null);
    let spec = super::state::executors::command_spec(command);
    Launch {
        shell: spec.shell,
        value: spec.value,
        arguments: spec.arguments,
        env: super::state::executors::command_env(command),
        debug,
    }
}

fn typed(kind: &str, body: Value) -> Response {
    reply::json(&json!({"type": kind, field(kind): body}))
}

/// Answers a container call that passed the agent's checks; `streaming` when the answer
/// may be RecordIO (`Accept: application/recordio`).
pub async fn answer(
    shared: &Arc<Shared>,
    agent_id: &str,
    kind: &str,
    call: &Value,
    streaming: bool,
) -> Response {
    let message = call.get(field(kind)).cloned().unwrap_or(Value::Null);
    let id = container_of(kind, call);
    let registry = &shared.containers;
    match (kind, id) {
        ("GET_CONTAINERS", _) => get_containers(shared, agent_id, &message),
        ("GET_RESOURCE_PROVIDERS", _) => typed(kind, json!({})),
        ("ADD_RESOURCE_PROVIDER_CONFIG" | "UPDATE_RESOURCE_PROVIDER_CONFIG", _) => {
            let Some(info) = message.get("info").filter(|i| i.is_object()) else {
                return reply::text(
                    400,
                    format!(
                        "Failed to convert JSON into Call protobuf: Missing required fields: {}.info",
                        field(kind)
                    ),
                );
            };
            let t = info.get("type").and_then(Value::as_str).unwrap_or("");
            let n = info.get("name").and_then(Value::as_str).unwrap_or("");
            // A local storage provider is the only kind Mesos knows (built with gRPC); without
            // `--resource_provider_config_dir` the agent cannot keep its config.
            if t == "org.apache.mesos.rp.local.storage" {
                reply::text(500, "Missing required flag --resource_provider_config_dir")
            } else {
                reply::text(
                    400,
                    format!("Failed to validate resource provider config with type '{t}' and name '{n}': Unknown local resource provider type '{t}'"),
                )
            }
        }
        ("REMOVE_RESOURCE_PROVIDER_CONFIG", _) => {
            reply::text(500, "Missing required flag --resource_provider_config_dir")
        }
        // No resource provider is known, so there is nothing with resources to refuse.
        ("MARK_RESOURCE_PROVIDER_GONE", _) => reply::text(200, ""),
        // No image store: nothing to prune.
        ("PRUNE_IMAGES", _) => reply::text(200, ""),
        (_, None) => reply::text(400, "Expecting a container_id"),
        ("LAUNCH_NESTED_CONTAINER" | "LAUNCH_CONTAINER", Some(id)) => {
            if let Some(r) = unsupported_container(&message) {
                if !registry.is_live(agent_id, &id) {
                    return r;
                }
            }
            let sandbox = id.parent.is_none().then(|| {
                shared
                    .lock()
                    .settings
                    .work_dir
                    .join("containers")
                    .join(&id.value)
            });
            match registry.launch(agent_id, &id, sandbox, launch_of(&message, false)) {
                Ok(_) => reply::text(200, ""),
                Err(LaunchError::AlreadyLaunched) => reply::accepted(),
                Err(LaunchError::Failed(m)) => reply::text(400, m),
            }
        }
        ("LAUNCH_NESTED_CONTAINER_SESSION", Some(id)) => {
            if let Some(r) = unsupported_container(&message) {
                if !registry.is_live(agent_id, &id) {
                    return r;
                }
            }
            match registry.launch(agent_id, &id, None, launch_of(&message, true)) {
                Ok(Some(stream)) => {
                    let guard = SessionGuard {
                        shared: Arc::clone(shared),
                        agent_id: agent_id.to_string(),
                        id,
                    };
                    output_response(stream, streaming, Some(guard))
                }
                Ok(None) => reply::text(500, "The session has no output"),
                Err(LaunchError::AlreadyLaunched) => reply::accepted(),
                Err(LaunchError::Failed(m)) => reply::text(400, m),
            }
        }
        ("ATTACH_CONTAINER_OUTPUT", Some(id)) => {
            if !has_executor(shared, agent_id, &id) {
                return reply::text(404, format!("Container {id} cannot be found"));
            }
            match registry.attach_output(agent_id, &id) {
                Ok(stream) => output_response(stream, streaming, None),
                Err(m) => reply::text(500, m),
            }
        }
        ("WAIT_NESTED_CONTAINER" | "WAIT_CONTAINER", Some(id)) => {
            match registry.wait(agent_id, &id).await {
                Some(t) => {
                    let mut body = json!({});
                    if let Some(s) = t.status {
                        body["exit_status"] = json!(s);
                    }
                    typed(kind, body)
                }
                None => reply::text(404, format!("Container {id} cannot be found")),
            }
        }
        ("KILL_NESTED_CONTAINER" | "KILL_CONTAINER", Some(id)) => {
            let signal = message
                .get("signal")
                .and_then(Value::as_i64)
                .and_then(|s| i32::try_from(s).ok())
                .unwrap_or(libc::SIGKILL);
            if registry.kill(agent_id, &id, signal) {
                reply::text(200, "")
            } else {
                reply::text(
                    404,
                    format!("Container '{}' cannot be found (or is already killed)", id),
                )
            }
        }
        ("REMOVE_NESTED_CONTAINER" | "REMOVE_CONTAINER", Some(id)) => {
            match registry.remove(agent_id, &id) {
                Ok(()) => reply::text(200, ""),
                Err(m) => reply::text(500, m),
            }
        }
        (other, _) => reply::text(501, format!("Call '{other}' is not implemented")),
    }
}

/// Only Mesos containers run nested here (the Docker containerizer has none).
fn unsupported_container(message: &Value) -> Option<Response> {
    let t = message.pointer("/container/type").and_then(Value::as_str)?;
    (t != "MESOS").then(|| reply::text(400, "The provided ContainerInfo is not supported"))
}

/// Mesos's `getExecutor(containerId)`: the task run whose container is the root.
fn has_executor(shared: &Shared, agent_id: &str, id: &ContainerId) -> bool {
    if super::follow::runs_container(shared, agent_id, id.root()) {
        return true;
    }
    let root = id.root().value.clone();
    let m = shared.lock();
    let found = m
        .held_tasks()
        .any(|t| t.agent_id == agent_id && t.container_id == root && !t.is_terminal());
    found
}

/// A session's container is destroyed when its client goes away, as Mesos does when the
/// connection of LAUNCH_NESTED_CONTAINER_SESSION closes.
struct SessionGuard {
    shared: Arc<Shared>,
    agent_id: String,
    id: ContainerId,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.shared
            .containers
            .kill(&self.agent_id, &self.id, libc::SIGKILL);
    }
}

/// One ProcessIO record (JSON), RecordIO framed.
fn process_io(stream: DataType, data: &[u8]) -> Bytes {
    let record = ProcessIo {
        kind: Some(ProcessIoType::Data),
        data: Some(ProcessData {
            kind: Some(stream),
            data: Some(base64::engine::general_purpose::STANDARD.encode(data)),
            ..Default::default()
        }),
        ..Default::default()
    };
    let json = serde_json::to_vec(&record).unwrap_or_default();
    Bytes::from(recordio::encode(&json))
}

/// The streamed answer of LAUNCH_NESTED_CONTAINER_SESSION and ATTACH_CONTAINER_OUTPUT:
/// ProcessIO records until the container's output ends.
fn output_response(
    stream: containerizer::OutputStream,
    streaming: bool,
    guard: Option<SessionGuard>,
) -> Response {
    let body = futures::stream::unfold((stream, guard), |(mut rx, guard)| async move {
        loop {
            match rx.recv().await {
                Ok(Output::Stdout(b)) => {
                    return Some((
                        Ok::<Bytes, Infallible>(process_io(DataType::Stdout, &b)),
                        (rx, guard),
                    ))
                }
                Ok(Output::Stderr(b)) => {
                    return Some((Ok(process_io(DataType::Stderr, &b)), (rx, guard)))
                }
                Ok(Output::End) | Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    return None
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        "a container output reader fell {n} chunks behind; they are dropped"
                    );
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    if streaming {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(RECORDIO));
        headers.insert("Message-Content-Type", HeaderValue::from_static(JSON));
    } else {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    }
    response
}

/// A streamed request's first record (its call), read from the body as it arrives; the
/// decoder keeps what came after it.
#[allow(clippy::result_large_err)] // the error is a ready answer
pub async fn first_record(
    stream: &mut BodyDataStream,
    decoder: &mut recordio::Decoder,
) -> Result<Bytes, Response> {
    loop {
        match decoder.next_record() {
            Some(Ok(record)) => return Ok(Bytes::copy_from_slice(&record)),
            Some(Err(e)) => {
                return Err(reply::text(400, format!("Failed to decode RecordIO: {e}")))
            }
            None => {}
        }
        match stream.next().await {
            Some(Ok(chunk)) => decoder.push(&chunk),
            Some(Err(e)) => {
                return Err(reply::text(400, format!("Failed to read the request: {e}")))
            }
            None => return Err(reply::text(400, "Received EOF while reading request body")),
        }
    }
}

/// ATTACH_CONTAINER_INPUT: a RecordIO request of agent calls; the first (`call`, checked)
/// names the container, the others carry ProcessIO for its stdin. Answered when the input
/// ends.
pub async fn attach_input(
    shared: Arc<Shared>,
    agent_id: String,
    call: &Value,
    mut stream: BodyDataStream,
    mut decoder: recordio::Decoder,
) -> Response {
    let input = &call["attach_container_input"];
    if input.get("type").and_then(Value::as_str) != Some("CONTAINER_ID") {
        return reply::text(
            400,
            "Expecting 'attach_container_input.type' to be CONTAINER_ID",
        );
    }
    let Some(id) = input
        .get("container_id")
        .and_then(containerizer::container_id)
    else {
        return reply::text(400, "Expecting a container_id");
    };
    if !has_executor(&shared, &agent_id, &id) {
        return reply::text(404, format!("Container {id} cannot be found"));
    }
    let tx = match shared.containers.attach_input(&agent_id, &id) {
        Ok(tx) => tx,
        Err((status, m)) => return reply::text(status, m),
    };
    let result = feed(&mut stream, &mut decoder, &tx).await;
    shared.containers.detach_input(&id);
    match result {
        Ok(()) => reply::text(200, ""),
        Err(m) => reply::text(400, m),
    }
}

/// Writes every STDIN DATA record to the container; an empty one is EOF.
async fn feed(
    stream: &mut BodyDataStream,
    decoder: &mut recordio::Decoder,
    tx: &tokio::sync::mpsc::UnboundedSender<Bytes>,
) -> Result<(), String> {
    loop {
        while let Some(record) = decoder.next_record() {
            let record = record.map_err(|e| format!("Failed to decode the request: {e}"))?;
            let call: AgentCall = serde_json::from_slice(&record)
                .map_err(|e| format!("Failed to parse body into JSON: {e}"))?;
            let Some(io) = call.attach_container_input.and_then(|a| a.process_io) else {
                continue;
            };
            if io.kind != Some(ProcessIoType::Data) {
                continue; // CONTROL records (heartbeats, TTY sizes) change nothing here
            }
            let Some(data) = io.data.filter(|d| d.kind == Some(DataType::Stdin)) else {
                continue;
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.data.unwrap_or_default())
                .map_err(|e| format!("Failed to decode ProcessIO data: {e}"))?;
            let _ = tx.send(Bytes::from(bytes));
        }
        match stream.next().await {
            Some(Ok(chunk)) => decoder.push(&chunk),
            Some(Err(e)) => return Err(format!("Failed to read the request: {e}")),
            None => return Ok(()),
        }
    }
}

/// GET_CONTAINERS (`Http::__containers`): each running executor's container once (the
/// views of `containers.rs`), then, with `show_nested`, the containers nested in them or in
/// standalone ones, and with `show_standalone` the standalone containers, each with its
/// status and the usage of its process.
fn get_containers(shared: &Shared, agent_id: &str, message: &Value) -> Response {
    let flag = |k: &str| message.get(k).and_then(Value::as_bool).unwrap_or(false);
    let (show_nested, show_standalone) = (flag("show_nested"), flag("show_standalone"));
    let mut body = {
        let m = shared.lock();
        match m.agent_view(agent_id) {
            Some(a) => super::containers::v1(&m, a),
            None => return reply::text(503, "Agent has not finished recovery"),
        }
    };
    let listed = shared.containers.listed(agent_id);
    let standalone = |root: &ContainerId| {
        listed
            .iter()
            .any(|c| &c.id == root && c.owner == Owner::Standalone)
    };
    let usage = host::usage_by_group();
    let mut extra = Vec::new();
    for c in &listed {
        let show = match c.owner {
            Owner::Executor { .. } => false, // listed above, from the task runs
            Owner::Nested => show_nested,
            Owner::Standalone => show_standalone,
        };
        // A nested container is listed with a root Mesos would list: a running executor's
        // (the registry keeps only live ones) or a standalone one.
        let root = c.id.root();
        let rooted = c.owner != Owner::Nested
            || standalone(root)
            || listed
                .iter()
                .any(|e| &e.id == root && matches!(e.owner, Owner::Executor { .. }));
        if !show || !rooted {
            continue;
        }
        let mut status = json!({"container_id": c.id});
        let mut statistics = json!({"timestamp": super::state::now_secs()});
        if let Some(pid) = c.pid {
            status["executor_pid"] = json!(pid);
            if let Some(u) = usage.get(&pid) {
                statistics["cpus_user_time_secs"] = json!(u.cpus_user_time_secs);
                statistics["cpus_system_time_secs"] = json!(u.cpus_system_time_secs);
                statistics["mem_rss_bytes"] = json!(u.mem_rss_bytes);
            }
        }
        extra.push(json!({
            "container_id": {"value": c.id.value},
            "container_status": status,
            "resource_statistics": statistics
        }));
    }
    if !extra.is_empty() {
        let list = body
            .as_object_mut()
            .map(|o| o.entry("containers").or_insert_with(|| json!([])));
        if let Some(Value::Array(list)) = list {
            list.extend(extra);
        }
    }
    typed("GET_CONTAINERS", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_validated_with_mesos_messages() {
        let call = json!({"type": "LAUNCH_NESTED_CONTAINER"});
        assert_eq!(
            validate("LAUNCH_NESTED_CONTAINER", &call),
            Err("Expecting 'launch_nested_container' to be present".into())
        );
        let call = json!({"type": "WAIT_NESTED_CONTAINER",
            "wait_nested_container": {"container_id": {"value": "x"}}});
        assert_eq!(
            validate("WAIT_NESTED_CONTAINER", &call),
            Err("Expecting 'wait_nested_container.container_id.parent' to be present".into())
        );
        let call = json!({"type": "WAIT_CONTAINER",
            "wait_container": {"container_id": {"value": "x"}}});
        assert_eq!(validate("WAIT_CONTAINER", &call), Ok(()));
        let call = json!({"type": "ADD_RESOURCE_PROVIDER_CONFIG",
            "add_resource_provider_config": {"info": {"id": {"value": "i"}, "type": "t", "name": "n"}}});
        assert_eq!(
            validate("ADD_RESOURCE_PROVIDER_CONFIG", &call),
            Err("Expecting 'add_resource_provider_config.info.id' to be unset".into())
        );
        let call = json!({"type": "ATTACH_CONTAINER_INPUT",
            "attach_container_input": {"type": "CONTAINER_ID"}});
        assert_eq!(
            validate("ATTACH_CONTAINER_INPUT", &call),
            Err("'attach_container_input.container_id' is invalid: ID must not be empty".into())
        );
        let call = json!({"type": "ATTACH_CONTAINER_INPUT",
            "attach_container_input": {"type": "PROCESS_IO"}});
        assert_eq!(validate("ATTACH_CONTAINER_INPUT", &call), Ok(()));
    }
}
