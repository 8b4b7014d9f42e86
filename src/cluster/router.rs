//! The cluster's table of contents: every HTTP endpoint of the master and of an agent, in the
//! order of MESOS-API.md (scheduler API, operator API, legacy endpoints, files), routed as
//! libprocess routes them (a process's routes with and without its id, trailing slashes
//! dropped, the longest matching route).

use super::agent_api;
use super::auth::{self, Credentials};
use super::containers;
use super::election::Role;
use super::files;
use super::legacy;
use super::legacy_agent;
use super::metrics;
use super::operations;
use super::operator;
use super::reply;
use super::runtime::Shared;
use super::scheduler;
use super::tenancy_api;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tower::ServiceExt as _;

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
    if answered_by_standby(request.uri().path()) {
        return next.run(request).await;
    }
    let Some((host, port)) = leader else {
        return reply::text(503, "No leader elected");
    };
    let requested = requested_path(&request);
    let location = standby_location(&host, port, &requested, request.uri().query());
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
fn authenticated(router: Router, credentials: Option<Arc<Credentials>>) -> Router {
    match credentials {
        Some(c) => router.layer(middleware::from_fn_with_state(c, auth::require)),
        None => router,
    }
}

/// The master process's routes (libprocess id `master`), relative to it.
fn master_process() -> Vec<(&'static str, MethodRouter<Arc<Shared>>)> {
    vec![
        // v1 scheduler API
        ("/api/v1/scheduler", any(scheduler::scheduler)),
        // v1 operator API
        ("/api/v1", any(operator::master_api)),
        // legacy endpoints (the `.json` aliases are those of Mesos before 1.7)
        ("/state", get(legacy::master_state_handler)),
        ("/state.json", get(legacy::master_state_handler)),
        ("/state-summary", get(legacy::state_summary)),
        ("/frameworks", get(legacy::frameworks)),
        ("/slaves", get(legacy::slaves)),
        ("/tasks", get(legacy::tasks)),
        ("/roles", get(legacy::roles)),
        ("/weights", any(tenancy_api::weights)),
        ("/reserve", any(tenancy_api::reserve_endpoint)),
        ("/unreserve", any(tenancy_api::unreserve_endpoint)),
        ("/create-volumes", any(tenancy_api::create_volumes_endpoint)),
        ("/quota", any(tenancy_api::quota_endpoint)),
        (
            "/destroy-volumes",
            any(tenancy_api::destroy_volumes_endpoint),
        ),
        ("/flags", get(legacy::master_flags)),
        ("/health", get(legacy::health)),
        ("/redirect", get(legacy::redirect)),
        ("/maintenance/schedule", any(operations::schedule)),
        ("/maintenance/status", any(operations::status)),
        ("/machine/down", any(operations::machine_down)),
        ("/machine/up", any(operations::machine_up)),
    ]
}

/// Routes served under a libprocess process id, and (for the delegate, the process that
/// gets requests naming no process) without it too, as `/master/state` and `/state`.
fn process_routes<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
    table: &mut Vec<String>,
    id: &str,
    routes: Vec<(&'static str, MethodRouter<S>)>,
) -> Router<S> {
    for (path, handler) in routes {
        for full in [format!("/{id}{path}"), path.to_string()] {
            router = router.route(&full, handler.clone());
            table.push(full);
        }
    }
    router
}

/// Routes of processes of their own: `/version`, `/metrics/snapshot`, `/files/...`.
fn own_routes<S: Clone + Send + Sync + 'static>(
    mut router: Router<S>,
    table: &mut Vec<String>,
    routes: Vec<(&'static str, MethodRouter<S>)>,
) -> Router<S> {
    for (path, handler) in routes {
        router = router.route(path, handler);
        table.push(path.to_string());
    }
    router
}

/// The route libprocess gives a path (`ProcessBase::consume`, Mesos 1.6 and later):
/// trailing slashes go, then the longest route the path starts with, segment by segment
/// (`/master/frameworks/` and `/master/state/x` are `/master/frameworks` and
/// `/master/state`).
fn libprocess_route<'a>(routes: &'a HashSet<String>, path: &str) -> Option<&'a str> {
    let mut name = path.trim_end_matches('/');
    while !name.is_empty() {
        if let Some(route) = routes.get(name) {
            return Some(route);
        }
        name = &name[..name.rfind('/')?];
    }
    None
}

/// The path a request named before libprocess routing shortened it (a request extension).
#[derive(Debug, Clone)]
pub struct RequestedPath(pub String);

/// The path as the client sent it.
pub fn requested_path(request: &Request) -> String {
    request
        .extensions()
        .get::<RequestedPath>()
        .map(|p| p.0.clone())
        .unwrap_or_else(|| request.uri().path().to_string())
}

/// Wraps a router so that every request is first routed as libprocess routes it.
fn libprocess(inner: Router, table: Vec<String>) -> Router {
    let routes: Arc<HashSet<String>> = Arc::new(table.into_iter().collect());
    Router::new().fallback(move |mut request: Request| {
        let inner = inner.clone();
        let routes = routes.clone();
        async move {
            let path = request.uri().path().to_string();
            if let Some(route) = libprocess_route(&routes, &path).filter(|r| *r != path) {
                let uri = match request.uri().query() {
                    Some(q) => format!("{route}?{q}"),
                    None => route.to_string(),
                };
                if let Ok(uri) = uri.parse() {
                    *request.uri_mut() = uri;
                    request.extensions_mut().insert(RequestedPath(path));
                }
            }
            match inner.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }
    })
}

/// The master: its routes, the standby redirects, basic authentication when configured.
/// The largest request body taken. Mesos's HTTP server has no limit of its own; axum's
/// default of 2 MB refused a RECONCILE of 60,000 tasks with 413, which a master answers 202.
const MAX_BODY: usize = 256 << 20;

pub fn master(shared: Arc<Shared>, credentials: Option<Arc<Credentials>>) -> Router {
    let mut table = Vec::new();
    let router = process_routes(Router::new(), &mut table, "master", master_process());
    let router = own_routes(
        router,
        &mut table,
        vec![
            ("/version", get(legacy::version)),
            ("/metrics/snapshot", get(legacy::master_metrics_handler)),
            ("/files/browse", get(files::master_browse)),
            ("/files/read", get(files::master_read)),
            ("/files/download", get(files::master_download)),
            ("/logging/toggle", any(master_logging_toggle)),
        ],
    )
    // fault injection: the embedded cluster's own hooks, not Mesos endpoints
    .route("/__cluster/agents/{agent_id}/crash", post(crash_agent))
    .route(
        "/__cluster/agents/{agent_id}/partition",
        post(super::hooks::partition),
    )
    .route(
        "/__cluster/agents/{agent_id}/heal",
        post(super::hooks::heal),
    )
    .route(
        "/__cluster/agents/{agent_id}/restart",
        post(super::hooks::restart),
    )
    // the cluster's own wire between its processes (agents following the leader)
    .route(
        "/__cluster/internal/register",
        post(super::follow::register_handler),
    )
    .route(
        "/__cluster/internal/status",
        post(super::follow::status_handler),
    )
    .layer(middleware::from_fn_with_state(shared.clone(), standby))
    .layer(DefaultBodyLimit::max(MAX_BODY))
    .with_state(shared);
    libprocess(authenticated(router, credentials), table)
}

async fn master_logging_toggle(State(shared): State<Arc<Shared>>, Query(q): Q) -> Response {
    operations::logging_toggle(&shared, super::logging::Process::Master, &q)
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

async fn executor_api(
    State(a): State<AgentCtx>,
    method: axum::http::Method,
    headers: axum::http::HeaderMap,
    body: bytes::Bytes,
) -> Response {
    super::executor_api::executor_api(a.shared.clone(), a.agent_id.clone(), method, headers, body)
        .await
}

async fn agent_api(State(a): State<AgentCtx>, request: Request) -> Response {
    agent_api::agent_api(a.shared.clone(), a.agent_id.clone(), request).await
}

fn with_agent(
    a: &AgentCtx,
    f: impl FnOnce(&super::state::Master, &super::state::Agent) -> serde_json::Value,
) -> Response {
    let m = a.shared.lock();
    match m.agent_view(&a.agent_id) {
        Some(agent) => reply::json(&f(&m, agent)),
        None => reply::text(503, "Agent has not finished recovery"),
    }
}

async fn agent_state(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, legacy_agent::agent_state)
}

async fn agent_metrics(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, |m, agent| metrics::flat(&metrics::agent(m, agent)))
}

async fn agent_statistics(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, containers::monitor_statistics)
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

async fn agent_logging_toggle(State(a): State<AgentCtx>, Query(q): Q) -> Response {
    let process = super::logging::Process::Agent(a.agent_id.clone());
    operations::logging_toggle(&a.shared, process, &q)
}

async fn agent_flags(State(a): State<AgentCtx>) -> Response {
    with_agent(
        &a,
        |m, agent| serde_json::json!({"flags": legacy::flags_object(&super::flags::agent(&m.settings.flags, agent.port))}),
    )
}

async fn agent_containers(State(a): State<AgentCtx>) -> Response {
    with_agent(&a, containers::legacy)
}

/// An agent: its routes (libprocess id `slave(1)`), basic authentication when configured.
pub fn agent(ctx: AgentCtx, credentials: Option<Arc<Credentials>>) -> Router {
    let mut table = Vec::new();
    let agent_process = vec![
        // v1 operator API
        ("/api/v1", any(agent_api)),
        // v1 executor API (open: `--authenticate_http_executors=false`, `auth.rs`)
        ("/api/v1/executor", any(executor_api)),
        // legacy endpoints
        ("/state", get(agent_state)),
        ("/state.json", get(agent_state)),
        ("/flags", get(agent_flags)),
        ("/health", get(legacy::health)),
        ("/containers", get(agent_containers)),
        ("/monitor/statistics", get(agent_statistics)),
        ("/monitor/statistics.json", get(agent_statistics)),
    ];
    let router = process_routes(Router::new(), &mut table, "slave(1)", agent_process);
    let router = own_routes(
        router,
        &mut table,
        vec![
            ("/version", get(legacy::version)),
            ("/metrics/snapshot", get(agent_metrics)),
            ("/files/browse", get(agent_browse)),
            ("/files/read", get(agent_read)),
            ("/files/download", get(agent_download)),
            ("/logging/toggle", any(agent_logging_toggle)),
        ],
    )
    // the cluster's own wire between its processes (a leader elsewhere runs tasks here)
    .route(
        "/__cluster/internal/launch",
        post(super::follow::launch_handler),
    )
    .route(
        "/__cluster/internal/kill",
        post(super::follow::kill_handler),
    )
    .layer(DefaultBodyLimit::max(MAX_BODY))
    .with_state(ctx);
    libprocess(authenticated(router, credentials), table)
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

    #[test]
    fn paths_route_as_libprocess_routes_them() {
        let routes: HashSet<String> = [
            "/master/frameworks",
            "/frameworks",
            "/master/api/v1",
            "/master/api/v1/scheduler",
            "/files/browse",
        ]
        .iter()
        .map(|r| r.to_string())
        .collect();
        let route = |p: &str| libprocess_route(&routes, p);
        assert_eq!(route("/master/frameworks/"), Some("/master/frameworks"));
        assert_eq!(route("/frameworks//"), Some("/frameworks"));
        assert_eq!(route("/master/frameworks/x/y"), Some("/master/frameworks"));
        assert_eq!(
            route("/master/api/v1/scheduler/"),
            Some("/master/api/v1/scheduler")
        );
        assert_eq!(route("/master/api/v1/other"), Some("/master/api/v1"));
        assert_eq!(route("/files/browse/"), Some("/files/browse"));
        assert_eq!(route("/master"), None);
        assert_eq!(route("/master/"), None);
        assert_eq!(route("/"), None);
        assert_eq!(route("/nothing/here"), None);
    }
}
