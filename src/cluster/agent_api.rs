//! The v1 operator API (`POST /api/v1`) of an agent: one dispatch with the request checks of
//! `src/slave/http.cpp` (`Http::api` and `Http::_api`, which unlike the master's take
//! streaming media types), the agent's own views of its tasks, executors and frameworks,
//! and the container calls, answered by `container_calls.rs`.

use super::container_calls;
use super::files;
use super::metrics;
use super::operator::{answer, check_call, flags_v1, not_implemented};
use super::reply;
use super::runtime::Shared;
use super::state::{Agent, AllTasks, Master, Task};
use super::views::{agent_info_v1, executor_info_v1, one_per_executor, task_v1, version_info};
use crate::mesos::recordio;
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Leaves an empty list out, as Mesos does.
fn put_values(o: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        o.insert(key.to_string(), Value::Array(items));
    }
}

const JSON: &str = "application/json";
const PROTOBUF: &str = "application/x-protobuf";
const RECORDIO: &str = "application/recordio";
/// Bodies of non-streaming calls are read whole, up to this.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Calls whose request (`ATTACH_CONTAINER_INPUT`) or answer (the other two) is a stream.
const STREAMING_REQUEST: &str = "ATTACH_CONTAINER_INPUT";
const STREAMING_ANSWERS: &[&str] = &["ATTACH_CONTAINER_OUTPUT", "LAUNCH_NESTED_CONTAINER_SESSION"];

/// What a request's headers settle before its call is read.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Media {
    /// `Content-Type: application/recordio`: the calls are records of a stream.
    streaming_request: bool,
    /// The answer may be RecordIO (`Accept` allows no JSON but RecordIO).
    streaming_answer: bool,
}

/// The agent's checks of the headers, in `Http::api`'s order: method, content types (a
/// RecordIO request names its records' type in `Message-Content-Type`), what the answer
/// may be (`Accept`, and `Message-Accept` for a streamed answer). The cluster speaks JSON
/// only: protobuf is refused with a message that says so.
#[allow(clippy::result_large_err)] // the error is a ready answer
fn check_media(method: &Method, headers: &HeaderMap) -> Result<Media, Response> {
    if method != Method::POST {
        return Err(reply::method_not_allowed(method));
    }
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    let streaming_request = match header("Content-Type") {
        None => return Err(reply::text(400, "Expecting 'Content-Type' to be present")),
        Some(JSON) => false,
        Some(RECORDIO) => true,
        Some(PROTOBUF) => {
            return Err(reply::text(
                415,
                "Expecting 'Content-Type' of application/json (the mesos-kernel embedded cluster does not decode application/x-protobuf)",
            ))
        }
        Some(_) => {
            return Err(reply::text(
                415,
                format!("Expecting 'Content-Type' of {JSON} or {PROTOBUF} or {RECORDIO}"),
            ))
        }
    };
    match (streaming_request, header("Message-Content-Type")) {
        (true, None) => {
            return Err(reply::text(
                400,
                "Expecting 'Message-Content-Type' to be set for streaming requests",
            ))
        }
        (true, Some(JSON)) | (false, None) => {}
        (true, Some(PROTOBUF)) => {
            return Err(reply::text(
                415,
                "Expecting 'Message-Content-Type' of application/json (the mesos-kernel embedded cluster does not decode application/x-protobuf)",
            ))
        }
        (true, Some(_)) => {
            return Err(reply::text(
                415,
                format!("Expecting 'Message-Content-Type' of {JSON} or {PROTOBUF}"),
            ))
        }
        (false, Some(_)) => {
            return Err(reply::text(
                415,
                "Expecting 'Message-Content-Type' to be not set for non-streaming requests",
            ))
        }
    }
    let streaming_answer = if reply::accepts(headers, "Accept", JSON) {
        false
    } else if reply::accepts(headers, "Accept", PROTOBUF) {
        return Err(reply::not_acceptable(reply::Accept::ProtobufOnly));
    } else if reply::accepts(headers, "Accept", RECORDIO) {
        true
    } else {
        return Err(reply::text(
            406,
            format!("Expecting 'Accept' to allow {JSON} or {PROTOBUF} or {RECORDIO}"),
        ));
    };
    if streaming_answer {
        if !reply::accepts(headers, "Message-Accept", JSON) {
            let message = if reply::accepts(headers, "Message-Accept", PROTOBUF) {
                "Expecting 'Message-Accept' to allow application/json (the mesos-kernel embedded cluster does not produce application/x-protobuf)".to_string()
            } else {
                format!("Expecting 'Message-Accept' to allow {JSON} or {PROTOBUF}")
            };
            return Err(reply::text(406, message));
        }
    } else if headers.contains_key("Message-Accept") {
        return Err(reply::text(
            406,
            "Expecting 'Message-Accept' to be not set for non-streaming responses",
        ));
    }
    Ok(Media {
        streaming_request,
        streaming_answer,
    })
}

/// One call (a whole body, or a stream's first record): decoded and validated as Mesos's
/// deserializer does, then `Http::_api`'s checks of the call against the media types.
#[allow(clippy::result_large_err)] // the error is a ready answer
fn parse_call(record: &[u8], media: Media) -> Result<(String, Value), Response> {
    let call: Value = serde_json::from_slice(record)
        .map_err(|e| reply::text(400, format!("Failed to parse body into JSON: {e}")))?;
    let (kind, call) = check_call(call, "agent")?;
    if container_calls::CALLS.contains(&kind.as_str()) {
        container_calls::validate(&kind, &call).map_err(|message| {
            reply::text(400, format!("Failed to validate agent::Call: {message}"))
        })?;
    }
    if media.streaming_request && kind != STREAMING_REQUEST {
        return Err(reply::text(
            415,
            format!("Streaming 'Content-Type' {RECORDIO} is not supported for {kind} call"),
        ));
    }
    if !media.streaming_request && kind == STREAMING_REQUEST {
        return Err(reply::text(
            415,
            format!("Expecting 'Content-Type' to be {RECORDIO} for {kind} call"),
        ));
    }
    if media.streaming_answer && !STREAMING_ANSWERS.contains(&kind.as_str()) {
        return Err(reply::text(
            406,
            format!("Streaming response is not supported for {kind} call"),
        ));
    }
    if kind == "UNKNOWN" {
        return Err(reply::text(501, "501 Not Implemented."));
    }
    Ok((kind, call))
}

/// `POST /api/v1` on an agent.
pub async fn agent_api(shared: Arc<Shared>, agent_id: String, request: Request) -> Response {
    // An agent that is not there (removed, or down) is one that has not recovered yet.
    if shared.lock().agent_view(&agent_id).is_none() {
        return reply::text(503, "Agent has not finished recovery");
    }
    let (parts, body) = request.into_parts();
    let media = match check_media(&parts.method, &parts.headers) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if media.streaming_request {
        // ATTACH_CONTAINER_INPUT: the call is the first record; the rest is the input.
        let mut stream = body.into_data_stream();
        let mut decoder = recordio::Decoder::new();
        #[allow(clippy::result_large_err)] // the error is a ready answer
        let (kind, call) = match container_calls::first_record(&mut stream, &mut decoder)
            .await
            .and_then(|first| parse_call(&first, media))
        {
            Ok(c) => c,
            Err(r) => return r,
        };
        debug_assert_eq!(kind, STREAMING_REQUEST);
        return container_calls::attach_input(shared, agent_id, &call, stream, decoder).await;
    }
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return reply::text(400, format!("Failed to read the request body: {e}")),
    };
    let (kind, call) = match parse_call(&body, media) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if container_calls::CALLS.contains(&kind.as_str()) {
        return container_calls::answer(&shared, &agent_id, &kind, &call, media.streaming_answer)
            .await;
    }
    let m = shared.lock();
    let Some(agent) = m.agent_view(&agent_id) else {
        return reply::text(503, "Agent has not finished recovery");
    };
    match kind.as_str() {
        "GET_HEALTH" => answer(&kind, json!({"healthy": true})),
        "GET_FLAGS" => answer(
            &kind,
            json!({"flags": flags_v1(&super::flags::agent(&m.settings.flags, agent.port))}),
        ),
        "GET_VERSION" => answer(&kind, json!({"version_info": version_info()})),
        "GET_METRICS" => answer(&kind, metrics::v1(&metrics::agent(&m, agent))),
        "GET_LOGGING_LEVEL" | "SET_LOGGING_LEVEL" => {
            drop(m);
            let process = super::logging::Process::Agent(agent_id);
            if kind == "GET_LOGGING_LEVEL" {
                super::operations::logging_level(&shared, &process)
            } else {
                super::operations::set_logging_level(&shared, process, &call)
            }
        }
        "GET_STATE" => answer(&kind, agent_state_v1(&m, agent)),
        "GET_FRAMEWORKS" => answer(&kind, agent_frameworks(&m, agent)),
        "GET_EXECUTORS" => answer(&kind, agent_executors(&m, agent)),
        "GET_TASKS" => answer(&kind, agent_tasks(&m, agent)),
        "GET_AGENT" => {
            let mut body = json!({"agent_info": agent_info_v1(&m, agent)});
            if let Some((config, started)) = super::state::drain::agent_side(&m, &agent.id) {
                body["drain_config"] = json!(config);
                body["estimated_drain_start_time"] =
                    json!({"nanoseconds": started.saturating_mul(1_000_000_000)});
            }
            answer(&kind, body)
        }
        "LIST_FILES" => files::list_files_v1(&m, Some(&agent_id), &call),
        "READ_FILE" => files::read_file_v1(&m, Some(&agent_id), &call),
        "GET_OPERATIONS" => answer(&kind, m.operations_view(Some(&agent_id))),
        other => not_implemented(other),
    }
}

pub fn agent_tasks(m: &Master, a: &Agent) -> Value {
    let all = m.tasks_on(Some(&a.id));
    let mut o = Map::new();
    put_values(
        &mut o,
        "launched_tasks",
        all.iter()
            .filter(|t| !t.is_terminal())
            .map(task_v1)
            .collect(),
    );
    put_values(
        &mut o,
        "terminated_tasks",
        all.iter()
            .filter(|t| t.is_terminal())
            .map(task_v1)
            .collect(),
    );
    Value::Object(o)
}

/// Executor runs on the agent (one per task group, one per command task), each with
/// whether one of its tasks still runs.
fn executor_runs<'a>(all: &'a AllTasks<'a>) -> Vec<(&'a Task, bool)> {
    let on_agent: Vec<&Task> = all.iter().collect();
    one_per_executor(on_agent.iter().copied())
        .into_iter()
        .map(|rep| {
            let running = on_agent.iter().any(|t| {
                t.framework_id == rep.framework_id
                    && t.executor_id == rep.executor_id
                    && t.container_id == rep.container_id
                    && !t.is_terminal()
            });
            (rep, running)
        })
        .collect()
}

/// GET_EXECUTORS: executors with a task still running, then those whose tasks are all done.
pub fn agent_executors(m: &Master, a: &Agent) -> Value {
    let all = m.tasks_on(Some(&a.id));
    let runs = executor_runs(&all);
    let view = |want: bool| -> Vec<Value> {
        runs.iter()
            .filter(|(_, running)| *running == want)
            .map(|(t, _)| json!({"executor_info": executor_info_v1(t)}))
            .collect()
    };
    let mut o = Map::new();
    put_values(&mut o, "executors", view(true));
    put_values(&mut o, "completed_executors", view(false));
    Value::Object(o)
}

/// GET_FRAMEWORKS: frameworks with an executor running on the agent, then those it ran
/// (a Mesos agent removes a framework once it has no executor left).
pub fn agent_frameworks(m: &Master, a: &Agent) -> Value {
    let all = m.tasks_on(Some(&a.id));
    let runs = executor_runs(&all);
    let mut live = Vec::new();
    let mut done = Vec::new();
    let completed = m.completed_frameworks.iter().map(|c| &c.framework);
    for f in m.frameworks.iter().chain(completed) {
        let mine: Vec<bool> = runs
            .iter()
            .filter(|(t, _)| t.framework_id == f.id)
            .map(|(_, running)| *running)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let view = json!({ "framework_info": f.info });
        if mine.contains(&true) {
            live.push(view);
        } else {
            done.push(view);
        }
    }
    let mut o = Map::new();
    put_values(&mut o, "frameworks", live);
    put_values(&mut o, "completed_frameworks", done);
    Value::Object(o)
}

pub fn agent_state_v1(m: &Master, a: &Agent) -> Value {
    json!({
        "get_tasks": agent_tasks(m, a),
        "get_executors": agent_executors(m, a),
        "get_frameworks": agent_frameworks(m, a)
    })
}
