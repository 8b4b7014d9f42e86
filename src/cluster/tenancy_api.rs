//! The master's multi-tenancy calls on the operator API and their legacy endpoints:
//! weights (GET_WEIGHTS, UPDATE_WEIGHTS, `/weights`, as `src/master/weights_handler.cpp`
//! answers them) and dynamic reservations (RESERVE_RESOURCES, UNRESERVE_RESOURCES,
//! `/reserve`, `/unreserve`, as `Master::Http::_reserve`, `_unreserve` and `_operation` in
//! `src/master/http.cpp` do) and persistent volumes (CREATE_VOLUMES, DESTROY_VOLUMES,
//! GROW_VOLUME, SHRINK_VOLUME, `/create-volumes`, `/destroy-volumes`) and quota (GET_QUOTA,
//! UPDATE_QUOTA, the older SET_QUOTA and REMOVE_QUOTA, `/quota`, as
//! `src/master/quota_handler.cpp` answers them).

use super::auth::Principal;
use super::operator::answer;
use super::reply;
use super::resources::Resources;
use super::runtime::Shared;
use super::state::offer_operations::resource_list;
use super::state::quota;
use super::state::reservations::{self, Requester};
use super::state::tenancy::{read_weight_infos, weight_infos};
use super::state::volumes;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::Extension;
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The calls with a sub-message Mesos's validation requires (`Expecting '...' to be
/// present`).
pub const NEEDS_MESSAGE: &[&str] = &[
    "UPDATE_WEIGHTS",
    "RESERVE_RESOURCES",
    "UNRESERVE_RESOURCES",
    "CREATE_VOLUMES",
    "DESTROY_VOLUMES",
    "GROW_VOLUME",
    "SHRINK_VOLUME",
    "UPDATE_QUOTA",
    "SET_QUOTA",
    "REMOVE_QUOTA",
];

/// A multi-tenancy call of the master's operator API, or `None` for another call.
pub fn master_call(
    shared: &Arc<Shared>,
    kind: &str,
    call: &Value,
    principal: Option<&str>,
) -> Option<Response> {
    Some(match kind {
        "GET_OPERATIONS" => {
            let view = shared.lock().operations_view(None);
            answer(kind, view)
        }
        "GET_QUOTA" => {
            let status = shared.lock().quota_status();
            answer(kind, json!({ "status": status }))
        }
        "UPDATE_QUOTA" => update_quota(shared, &call["update_quota"]),
        "SET_QUOTA" => set_quota(shared, &call["set_quota"]["quota_request"]),
        "REMOVE_QUOTA" => {
            let role = call
                .pointer("/remove_quota/role")
                .and_then(Value::as_str)
                .unwrap_or("");
            if shared.with(|m, fx| m.remove_quota(role, fx)) {
                reply::text(200, "")
            } else {
                reply::text(
                    400,
                    format!("Failed to remove quota: Role '{role}' has no quota set"),
                )
            }
        }
        "CREATE_VOLUMES" | "DESTROY_VOLUMES" => {
            let field = kind.to_ascii_lowercase();
            let body = &call[field.as_str()];
            let Some(agent_id) = body.pointer("/agent_id/value").and_then(Value::as_str) else {
                return Some(missing(&format!("{field}.agent_id")));
            };
            match resource_list(body.get("volumes")) {
                Err(e) => reply::text(400, format!("Failed to validate master::Call: {e}")),
                Ok(v) if kind == "CREATE_VOLUMES" => {
                    create_volumes(shared, agent_id, &v, principal)
                }
                Ok(v) => destroy_volumes(shared, agent_id, &v),
            }
        }
        "GROW_VOLUME" | "SHRINK_VOLUME" => resize_volume(shared, kind, call),
        "RESERVE_RESOURCES" | "UNRESERVE_RESOURCES" => {
            let field = kind.to_ascii_lowercase();
            let body = &call[field.as_str()];
            let agent_id = body.pointer("/agent_id/value").and_then(Value::as_str);
            let Some(agent_id) = agent_id else {
                return Some(reply::text(
                    400,
                    format!(
                        "Failed to convert JSON into Call protobuf: Missing required fields: \
                         {field}.agent_id"
                    ),
                ));
            };
            let parsed = resource_list(body.get("resources")).and_then(|r| {
                let source = if kind == "RESERVE_RESOURCES" {
                    resource_list(body.get("source"))?
                } else {
                    Vec::new()
                };
                Ok((r, source))
            });
            match parsed {
                Err(e) => reply::text(400, format!("Failed to validate master::Call: {e}")),
                Ok((resources, source)) if kind == "RESERVE_RESOURCES" => {
                    reserve(shared, agent_id, &resources, &source, principal)
                }
                Ok((resources, _)) => unreserve(shared, agent_id, &resources),
            }
        }
        "GET_WEIGHTS" => {
            let m = shared.lock();
            let infos = weight_infos(&m.tenancy);
            if infos.is_empty() {
                answer(kind, json!({}))
            } else {
                answer(kind, json!({ "weight_infos": infos }))
            }
        }
        "UPDATE_WEIGHTS" => {
            let list = call
                .pointer("/update_weights/weight_infos")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            if let Some(i) = missing_weight(&list) {
                return Some(reply::text(
                    400,
                    format!(
                        "Failed to convert JSON into Call protobuf: Missing required fields: \
                         update_weights.weight_infos[{i}].weight"
                    ),
                ));
            }
            update_weights(shared, &list)
        }
        _ => return None,
    })
}

/// The first WeightInfo without its required `weight`.
fn missing_weight(list: &Value) -> Option<usize> {
    list.as_array()?
        .iter()
        .position(|w| w.get("weight").is_none_or(Value::is_null))
}

fn update_weights(shared: &Arc<Shared>, list: &Value) -> Response {
    match read_weight_infos(list) {
        Ok(weights) => {
            shared.with(|m, fx| m.update_weights(weights, fx));
            reply::text(200, "")
        }
        Err(e) => reply::text(400, e),
    }
}

/// `/weights`: GET lists the weights set, PUT sets some (a JSON array of WeightInfo).
pub async fn weights(State(shared): State<Arc<Shared>>, method: Method, body: Bytes) -> Response {
    if method == Method::GET {
        let m = shared.lock();
        return reply::json(&Value::Array(weight_infos(&m.tenancy)));
    }
    if method != Method::PUT {
        return reply::methods_not_allowed(&["GET", "PUT"], &method);
    }
    let text = String::from_utf8_lossy(&body).to_string();
    let list: Value = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Array(_)) => v,
        Ok(_) => {
            return reply::text(
                400,
                format!(
                    "Failed to parse update weights request JSON '{text}': Expecting a JSON array"
                ),
            )
        }
        Err(e) => {
            return reply::text(
                400,
                format!("Failed to parse update weights request JSON '{text}': {e}"),
            )
        }
    };
    if missing_weight(&list).is_some() {
        return reply::text(
            400,
            format!(
                "Failed to convert weights JSON array to protobuf '{text}': Missing required \
                 fields: weight"
            ),
        );
    }
    update_weights(&shared, &list)
}

/// `_reserve`: the agent, Mesos's checks, then `_operation`.
fn reserve(
    shared: &Arc<Shared>,
    agent_id: &str,
    resources: &[crate::mesos::v1::resource::Resource],
    source: &[crate::mesos::v1::resource::Resource],
    principal: Option<&str>,
) -> Response {
    let agent = {
        let m = shared.lock();
        m.agent(agent_id).map(|_| m.agent_text(agent_id))
    };
    let Some(agent) = agent else {
        return reply::text(400, "No agent found with specified ID");
    };
    let checked = Resources::validate_operation_resources(resources)
        .map_err(|e| format!("Invalid resources: {e}"))
        .and_then(|()| {
            Resources::validate_operation_resources(source)
                .map_err(|e| format!("Invalid source: {e}"))
        })
        .and_then(|()| {
            reservations::validate_reserve(resources, source, &Requester::Operator { principal })
        });
    if let Err(e) = checked {
        return reply::text(
            400,
            format!("Invalid RESERVE operation on agent {agent}: {e}"),
        );
    }
    let conversion = reservations::reserve_conversion(resources, source);
    operation(shared, agent_id, &conversion)
}

/// `_unreserve`: the agent, Mesos's checks, then `_operation`.
fn unreserve(
    shared: &Arc<Shared>,
    agent_id: &str,
    resources: &[crate::mesos::v1::resource::Resource],
) -> Response {
    if shared.lock().agent(agent_id).is_none() {
        return reply::text(400, "No agent found with specified ID");
    }
    let checked = Resources::validate_operation_resources(resources)
        .map_err(|e| format!("Invalid resources: {e}"))
        .and_then(|()| reservations::validate_unreserve(resources));
    if let Err(e) = checked {
        return reply::text(400, format!("Invalid UNRESERVE operation: {e}"));
    }
    operation(
        shared,
        agent_id,
        &reservations::unreserve_conversion(resources),
    )
}

/// `_operation`: `202` once applied, `409` when the resources are not free.
fn operation(
    shared: &Arc<Shared>,
    agent_id: &str,
    conversion: &reservations::Conversion,
) -> Response {
    match shared.with(|m, fx| m.operator_conversion(agent_id, conversion, fx)) {
        Ok(()) => reply::text(202, ""),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// A legacy endpoint's form-encoded body (`slaveId=...&resources=[...]`).
fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// What the legacy operator endpoints check first: a POST, with a form-encoded body
/// naming the agent (`slaveId`); answers the form and the agent id, or the refusal.
// The refusal is the answer itself, once per request: boxing it would buy nothing.
#[allow(clippy::result_large_err)]
fn legacy_form(
    method: &Method,
    body: &[u8],
) -> Result<(HashMap<String, String>, String), Response> {
    if method != Method::POST {
        return Err(reply::method_not_allowed(method));
    }
    let mut values = form(body);
    let Some(agent_id) = values.remove("slaveId") else {
        return Err(reply::text(
            400,
            "Missing 'slaveId' query parameter in the request body",
        ));
    };
    Ok((values, agent_id))
}

/// A legacy endpoint's JSON list of resources, named `key` in the body.
fn form_resources(
    values: &HashMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Vec<crate::mesos::v1::resource::Resource>, String> {
    let Some(text) = values.get(key) else {
        return Err(format!(
            "Missing '{key}' query parameter in the request body"
        ));
    };
    let list: Value = serde_json::from_str(text)
        .map_err(|e| format!("{what} '{key}' query parameter in the request body: {e}"))?;
    if !list.is_array() {
        return Err(format!(
            "{what} '{key}' query parameter in the request body: Expecting a JSON array"
        ));
    }
    let mut out = Vec::new();
    for item in list.as_array().into_iter().flatten() {
        let mut r: crate::mesos::v1::resource::Resource = serde_json::from_value(item.clone())
            .map_err(|e| format!("{what} '{key}' query parameter in the request body: {e}"))?;
        r.upgrade();
        out.push(r);
    }
    Ok(out)
}

/// `/reserve` (POST, form-encoded `slaveId`, `resources` and an optional `source`).
pub async fn reserve_endpoint(
    State(shared): State<Arc<Shared>>,
    principal: Option<Extension<Principal>>,
    method: Method,
    body: Bytes,
) -> Response {
    let (values, agent_id) = match legacy_form(&method, &body) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let parsed = form_resources(&values, "resources", "Error parsing").and_then(|r| {
        let source = if values.contains_key("source") {
            form_resources(&values, "source", "Error parsing")?
        } else {
            Vec::new()
        };
        Ok((r, source))
    });
    let (resources, source) = match parsed {
        Ok(p) => p,
        Err(e) => return reply::text(400, e),
    };
    if let Err(e) =
        reservations::validate_each(&resources).and_then(|()| reservations::validate_each(&source))
    {
        return reply::text(400, e);
    }
    let principal = principal.as_ref().map(|p| p.0 .0.as_str());
    reserve(&shared, &agent_id, &resources, &source, principal)
}

/// `/unreserve` (POST, form-encoded `slaveId` and `resources`).
pub async fn unreserve_endpoint(
    State(shared): State<Arc<Shared>>,
    method: Method,
    body: Bytes,
) -> Response {
    let (values, agent_id) = match legacy_form(&method, &body) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let resources = match form_resources(&values, "resources", "Error in parsing") {
        Ok(r) => r,
        Err(e) => return reply::text(400, e),
    };
    if let Err(e) = reservations::validate_each(&resources) {
        return reply::text(400, e);
    }
    unreserve(&shared, &agent_id, &resources)
}

fn missing(field: &str) -> Response {
    reply::text(
        400,
        format!("Failed to convert JSON into Call protobuf: Missing required fields: {field}"),
    )
}

/// `_createVolumes`: the agent, Mesos's checks, then `_operation`.
fn create_volumes(
    shared: &Arc<Shared>,
    agent_id: &str,
    volumes: &[crate::mesos::v1::resource::Resource],
    principal: Option<&str>,
) -> Response {
    let checked = {
        let m = shared.lock();
        let Some(agent) = m.agent(agent_id) else {
            return reply::text(400, "No agent found with specified ID");
        };
        volumes::validate_create(volumes, &agent.total, principal, None).map_err(|e| {
            format!(
                "Invalid CREATE operation on agent {}: {e}",
                m.agent_text(agent_id)
            )
        })
    };
    if let Err(e) = checked {
        return reply::text(400, e);
    }
    operation(shared, agent_id, &volumes::create_conversion(volumes))
}

/// `_destroyVolumes`: the agent, Mesos's checks (the volumes the agent's, not in use),
/// then `_operation`.
fn destroy_volumes(
    shared: &Arc<Shared>,
    agent_id: &str,
    volumes: &[crate::mesos::v1::resource::Resource],
) -> Response {
    let checked = {
        let m = shared.lock();
        let Some(agent) = m.agent(agent_id) else {
            return reply::text(400, "No agent found with specified ID");
        };
        volumes::validate_destroy(volumes, &agent.total, &agent.used)
            .map_err(|e| format!("Invalid DESTROY operation: {e}"))
    };
    if let Err(e) = checked {
        return reply::text(400, e);
    }
    operation(shared, agent_id, &volumes::destroy_conversion(volumes))
}

/// GROW_VOLUME and SHRINK_VOLUME on an agent's default resources.
fn resize_volume(shared: &Arc<Shared>, kind: &str, call: &Value) -> Response {
    let field = kind.to_ascii_lowercase();
    let body = &call[field.as_str()];
    let Some(agent_id) = body.pointer("/agent_id/value").and_then(Value::as_str) else {
        return reply::text(
            400,
            "Failed to validate master::Call: Expecting 'agent_id' to be present; only agent \
             default resources are supported right now",
        );
    };
    let volume = match volumes::one(body.get("volume")) {
        Ok(v) => v,
        Err(_) => return missing(&format!("{field}.volume")),
    };
    let checked = {
        let m = shared.lock();
        if m.agent(agent_id).is_none() {
            return reply::text(400, "No agent found with specified ID");
        }
        let on = |e: String| {
            format!(
                "Invalid {kind} operation on agent {}: {e}",
                m.agent_text(agent_id)
            )
        };
        if kind == "GROW_VOLUME" {
            let addition = match volumes::one(body.get("addition")) {
                Ok(a) => a,
                Err(_) => return missing("grow_volume.addition"),
            };
            volumes::validate_grow(&volume, &addition)
                .map(|()| volumes::grow_conversion(&volume, &addition))
                .map_err(on)
        } else {
            if body.get("subtract").is_none() {
                return missing("shrink_volume.subtract");
            }
            let subtract = volumes::scalar(body.get("subtract"));
            volumes::validate_shrink(&volume, &subtract)
                .map(|()| volumes::shrink_conversion(&volume, &subtract))
                .map_err(on)
        }
    };
    match checked {
        Ok(conversion) => operation(shared, agent_id, &conversion),
        Err(e) => reply::text(400, e),
    }
}

/// `/create-volumes` and `/destroy-volumes` (POST, form-encoded `slaveId` and `volumes`).
async fn volumes_endpoint(
    shared: Arc<Shared>,
    principal: Option<&str>,
    method: Method,
    body: Bytes,
    create: bool,
) -> Response {
    let (values, agent_id) = match legacy_form(&method, &body) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let volumes = match form_resources(&values, "volumes", "Error in parsing") {
        Ok(v) => v,
        Err(e) => return reply::text(400, e),
    };
    if let Err(e) = reservations::validate_each(&volumes) {
        return reply::text(400, e);
    }
    if create {
        create_volumes(&shared, &agent_id, &volumes, principal)
    } else {
        destroy_volumes(&shared, &agent_id, &volumes)
    }
}

pub async fn create_volumes_endpoint(
    State(shared): State<Arc<Shared>>,
    principal: Option<Extension<Principal>>,
    method: Method,
    body: Bytes,
) -> Response {
    let who = principal.as_ref().map(|p| p.0 .0.clone());
    volumes_endpoint(shared, who.as_deref(), method, body, true).await
}

pub async fn destroy_volumes_endpoint(
    State(shared): State<Arc<Shared>>,
    method: Method,
    body: Bytes,
) -> Response {
    volumes_endpoint(shared, None, method, body, false).await
}

/// UPDATE_QUOTA: each config checked (nested roles first, then `quota::validate`), then
/// the checks on the state.
fn update_quota(shared: &Arc<Shared>, body: &Value) -> Response {
    let mut configs = Vec::new();
    for c in body
        .get("quota_configs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = c.get("role").and_then(Value::as_str).unwrap_or("");
        if role.contains('/') {
            return reply::text(
                400,
                format!("Updating quota on nested role '{role}' is not supported yet"),
            );
        }
        match quota::read_config(c) {
            Ok(rq) => configs.push(rq),
            Err(e) => return reply::text(400, format!("Invalid QuotaConfig: {e}")),
        }
    }
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    match shared.with(|m, fx| m.update_quota(configs, force, fx)) {
        Ok(()) => reply::text(200, ""),
        Err(e) => reply::text(400, e),
    }
}

/// SET_QUOTA and `POST /quota`: a QuotaRequest (`role`, `guarantee` Resources, `force`).
fn set_quota(shared: &Arc<Shared>, request: &Value) -> Response {
    let bad = |e: String| reply::text(400, format!("Failed to validate set quota request: {e}"));
    let guarantee = match resource_list(request.get("guarantee")) {
        Ok(g) => g,
        Err(e) => return bad(format!("QuotaInfo with invalid resource: {e}")),
    };
    let Some(role) = request.get("role").and_then(Value::as_str) else {
        return bad("QuotaInfo must specify a role".into());
    };
    if let Err(e) = crate::mesos::v1::roles::validate(role) {
        return bad(format!("QuotaInfo with invalid role: {e}"));
    }
    if guarantee.is_empty() {
        return bad("QuotaInfo with empty 'guarantee'".into());
    }
    let mut quantities = quota::Quantities::new();
    for r in &guarantee {
        let why = if !r.reservations.is_empty() {
            Some("QuotaInfo must not contain any ReservationInfo".to_string())
        } else if r.disk.is_some() {
            Some("QuotaInfo must not contain DiskInfo".into())
        } else if r.revocable.is_some() {
            Some("QuotaInfo must not contain RevocableInfo".into())
        } else if r.scalar.is_none() {
            Some("QuotaInfo must not include non-scalar resources".into())
        } else if quantities.contains_key(&r.name) {
            Some(format!(
                "QuotaInfo contains duplicate resource name '{}'",
                r.name
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return bad(why);
        }
        quantities.insert(r.name.clone(), r.scalar_value());
    }
    let force = request
        .get("force")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match shared.with(|m, fx| m.set_quota(role, quantities, force, fx)) {
        Ok(()) => reply::text(200, ""),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// `/quota`: GET the status, POST a QuotaRequest, DELETE `/master/quota/<role>`.
pub async fn quota_endpoint(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
) -> Response {
    let method = request.method().clone();
    let path = super::router::requested_path(&request);
    match method {
        Method::GET => reply::json(&shared.lock().quota_status()),
        Method::POST => {
            let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body).to_string();
            match serde_json::from_str::<Value>(&text) {
                Ok(v) if v.is_object() => set_quota(&shared, &v),
                Ok(_) => reply::text(
                    400,
                    format!(
                        "Failed to parse set quota request JSON '{text}': Expecting a JSON object"
                    ),
                ),
                Err(e) => reply::text(
                    400,
                    format!("Failed to parse set quota request JSON '{text}': {e}"),
                ),
            }
        }
        Method::DELETE => {
            let tokens: Vec<&str> = path.split('/').filter(|t| !t.is_empty()).collect();
            if tokens.len() < 3 {
                return reply::text(
                    400,
                    format!(
                        "Failed to parse remove quota request for path '{path}': expected 3 \
                         tokens, found {} tokens",
                        tokens.len()
                    ),
                );
            }
            let role = tokens[2..].join("/");
            if shared.with(|m, fx| m.remove_quota(&role, fx)) {
                reply::text(200, "")
            } else {
                reply::text(
                    400,
                    format!(
                        "Failed to remove quota for path '{path}': Role '{role}' has no quota set"
                    ),
                )
            }
        }
        other => reply::methods_not_allowed(&["GET", "POST", "DELETE"], &other),
    }
}
