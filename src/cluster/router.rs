//! The cluster's table of contents: every HTTP endpoint of the master and of an agent, in the
//! order of MESOS-API.md (scheduler API, operator API, legacy endpoints, files).

use super::auth::{self, Credentials};
use super::election::Role;
use super::files;
use super::legacy;
use super::operator;
use super::reply;
use super::runtime::Shared;
use super::scheduler;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Arc;

/// Paths a standby master answers itself, as Mesos's do; everything else goes to the leader.
fn answered_by_standby(path: &str) -> bool {
    matches!(
        path,
        "/health"
            | "/master/health"
            | "/master/flags"
            | "/flags"
            | "/version"
            | "/metrics/snapshot"
            | "/master/redirect"
            | "/redirect"
    ) || path.starts_with("/files/")
}

/// On a standby master: 307 to the leader, `Location: //host:port/master/<path>` (Mesos
/// routes every master endpoint under `/master/`, so its redirects name that form), or 503
/// `No leader elected`.
async fn standby(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let leader = match shared.role.get() {
        Role::Leading => return next.run(request).await,
        Role::Standby(leader) => leader,
    };
    let path = request.uri().path();
    // Mesos's guard against redirect loops.
    if path.starts_with("/redirect/") || path.starts_with("/master/redirect/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if answered_by_standby(path) {
        return next.run(request).await;
    }
    let Some((host, port)) = leader else {
        return reply::text(503, "No leader elected");
    };
    let location = standby_location(&host, port, path, request.uri().query());
    (
        StatusCode::TEMPORARY_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response()
}

/// The scheme-relative Location a standby sends: the request as the leader's master actor
/// would see it, under `/master/`, with its query.
fn standby_location(host: &str, port: u16, path: &str, query: Option<&str>) -> String {
    let prefixed = if path.starts_with("/master/") {
        path.to_string()
    } else {
        format!("/master{path}")
    };
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("//{host}:{port}{prefixed}{query}")
}

/// Wraps a router in basic authentication when credentials are configured. The layer goes
/// outermost, so a standby master also wants credentials before it redirects, as Mesos's
/// HTTP authenticators run before any handler.
pub fn authenticated(router: Router, credentials: Option<Arc<Credentials>>) -> Router {
    match credentials {
        Some(c) => router.layer(middleware::from_fn_with_state(c, auth::require)),
        None => router,
    }
}

pub fn master(shared: Arc<Shared>) -> Router {
    Router::new()
        // v1 scheduler API
        .route("/api/v1/scheduler", any(scheduler::scheduler))
        .route("/master/api/v1/scheduler", any(scheduler::scheduler))
        // v1 operator API
        .route("/api/v1", any(operator::master_api))
        .route("/master/api/v1", any(operator::master_api))
        // legacy endpoints (the `.json` aliases are those of Mesos before 1.7)
        .route("/state", get(legacy::master_state_handler))
        .route("/master/state", get(legacy::master_state_handler))
        .route("/state.json", get(legacy::master_state_handler))
        .route("/master/state.json", get(legacy::master_state_handler))
        .route("/master/state-summary", get(legacy::state_summary))
        .route("/state-summary", get(legacy::state_summary))
        .route("/master/frameworks", get(legacy::frameworks))
        .route("/frameworks", get(legacy::frameworks))
        .route("/master/slaves", get(legacy::slaves))
        .route("/slaves", get(legacy::slaves))
        .route("/master/tasks", get(legacy::tasks))
        .route("/tasks", get(legacy::tasks))
        .route("/master/roles", get(legacy::roles))
        .route("/roles", get(legacy::roles))
        .route("/master/flags", get(legacy::master_flags))
        .route("/flags", get(legacy::master_flags))
        .route("/health", get(legacy::health))
        .route("/master/health", get(legacy::health))
        .route("/version", get(legacy::version))
        .route("/metrics/snapshot", get(legacy::master_metrics_handler))
        .route("/master/redirect", get(legacy::redirect))
        .route("/redirect", get(legacy::redirect))
        // files
        .route("/files/browse", get(files::master_browse))
        .route("/files/read", get(files::master_read))
        .route("/files/download", get(files::master_download))
        // fault injection: the embedded cluster's own hooks, not Mesos endpoints
        .route("/__cluster/agents/{agent_id}/crash", post(crash_agent))
        .layer(middleware::from_fn_with_state(shared.clone(), standby))
        .with_state(shared)
}

async fn crash_agent(State(shared): State<Arc<Shared>>, Path(agent_id): Path<String>) -> Response {
    operator::crash_agent(&shared, &agent_id)
}

/// What an agent's handlers need: the shared state and which agent they are.
#[derive(Clone)]
pub struct AgentCtx {
    pub shared: Arc<Shared>,
    pub agent_id: String,
}

type Q = Query<HashMap<String, String>>;

async fn agent_api(
    State(a): State<AgentCtx>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    operator::agent_api(a.shared.clone(), a.agent_id.clone(), method, headers, body).await
}

fn with_agent(
    a: &AgentCtx,
    f: impl FnOnce(&super::state::Master, &super::state::Agent) -> serde_json::Value,
) -> Response {
    let m = a.shared.lock();
    match m.agent(&a.agent_id) {
        Some(agent) => reply::json(&f(&m, agent)),
        None => reply::text(503, "Agent has not finished recovery"),
    }
}

async fn agent_state(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, legacy::agent_state)
}

async fn agent_metrics(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, legacy::agent_metrics_flat)
}

async fn agent_statistics(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, legacy::monitor_statistics)
}

async fn agent_browse(State(a): State<AgentCtx>, Query(q): Q) -> Response {
    files::agent_browse(&a.shared, &a.agent_id, &q)
}

async fn agent_read(State(a): State<AgentCtx>, Query(q): Q) -> Response {
    files::agent_read(&a.shared, &a.agent_id, &q)
}

async fn agent_download(State(a): State<AgentCtx>, Query(q): Q) -> Response {
    files::agent_download(&a.shared, &a.agent_id, &q)
}

pub fn agent(ctx: AgentCtx) -> Router {
    Router::new()
        // v1 operator API
        .route("/api/v1", any(agent_api))
        .route("/slave(1)/api/v1", any(agent_api))
        // legacy endpoints
        .route("/state", get(agent_state))
        .route("/slave(1)/state", get(agent_state))
        .route("/state.json", get(agent_state))
        .route("/slave(1)/state.json", get(agent_state))
        .route("/health", get(legacy::health))
        .route("/slave(1)/health", get(legacy::health))
        .route("/version", get(legacy::version))
        .route("/metrics/snapshot", get(agent_metrics))
        .route("/monitor/statistics", get(agent_statistics))
        .route("/monitor/statistics.json", get(agent_statistics))
        // files
        .route("/files/browse", get(agent_browse))
        .route("/files/read", get(agent_read))
        .route("/files/download", get(agent_download))
        .with_state(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standbys_redirect_under_master_and_answer_local_endpoints() {
        assert_eq!(
            standby_location("m1", 5050, "/api/v1/scheduler", None),
            "//m1:5050/master/api/v1/scheduler"
        );
        assert_eq!(
            standby_location("m1", 5050, "/master/api/v1/scheduler", None),
            "//m1:5050/master/api/v1/scheduler"
        );
        assert_eq!(
            standby_location("m1", 5050, "/state", Some("jsonp=f")),
            "//m1:5050/master/state?jsonp=f"
        );
        for local in [
            "/health",
            "/master/health",
            "/master/flags",
            "/version",
            "/metrics/snapshot",
            "/files/read",
            "/master/redirect",
        ] {
            assert!(answered_by_standby(local), "{local}");
        }
        for redirected in ["/api/v1", "/master/state", "/state", "/master/tasks"] {
            assert!(!answered_by_standby(redirected), "{redirected}");
        }
    }
}
