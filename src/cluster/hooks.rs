//! The embedded cluster's fault-injection hooks beside the crash hook (no Mesos master has
//! them; the `/__cluster/` prefix says so): `POST /__cluster/agents/<id>/partition`,
//! `.../heal` and `.../restart[?down=DURATION]`. What the master does about each is in
//! `state/partition.rs` and `state/recovery.rs`.

use super::reply;
use super::runtime::Shared;
use crate::mesos::v1::ids::id_json as id;
use crate::mesos::v1::parse_duration;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long a restarted agent stays down unless `?down=` says otherwise.
pub const DEFAULT_RESTART_DOWN: Duration = Duration::from_millis(500);

pub async fn partition(
    State(shared): State<Arc<Shared>>,
    Path(agent_id): Path<String>,
) -> Response {
    let (result, timeout, max) = shared.with(|m, fx| {
        (
            m.partition_agent(&agent_id, fx),
            m.settings.agent_ping_timeout,
            m.settings.max_agent_ping_timeouts,
        )
    });
    match result {
        Ok(()) => reply::json(&json!({
            "agent_id": id(&agent_id),
            "partitioned": true,
            "unreachable_after_secs": timeout.as_secs_f64() * f64::from(max)
        })),
        Err(e) => reply::text(e.status, e.message),
    }
}

pub async fn heal(State(shared): State<Arc<Shared>>, Path(agent_id): Path<String>) -> Response {
    match shared.with(|m, fx| m.heal_agent(&agent_id, fx)) {
        Ok(reregistered) => reply::json(&json!({
            "agent_id": id(&agent_id),
            "healed": true,
            "reregistered": reregistered
        })),
        Err(e) => reply::text(e.status, e.message),
    }
}

/// Stops the agent (its HTTP server closes, the master sees it disconnected), waits, then
/// serves it again on its port and lets it re-register. Answers once it is back.
pub async fn restart(
    State(shared): State<Arc<Shared>>,
    Path(agent_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let down = match q.get("down").map(|d| parse_duration(d)) {
        None => DEFAULT_RESTART_DOWN,
        Some(Ok(d)) if d <= Duration::from_secs(600) => d,
        Some(Ok(_)) => return reply::text(400, "'down' must be at most 10 minutes"),
        Some(Err(e)) => return reply::text(400, e.to_string()),
    };
    if let Err(e) = shared.with(|m, fx| m.restart_begin(&agent_id, fx)) {
        return reply::text(e.status, e.message);
    }
    tokio::select! {
        _ = shared.stopping.cancelled() => return reply::text(503, "The cluster is stopping"),
        _ = tokio::time::sleep(down) => {}
    }
    let served = shared.serve_agent_again(&agent_id).await;
    shared.with(|m, fx| m.restart_end(&agent_id, fx));
    match served {
        Ok(()) => reply::json(&json!({
            "agent_id": id(&agent_id),
            "restarted": true,
            "down_secs": down.as_secs_f64()
        })),
        Err(e) => reply::text(
            500,
            format!("The agent re-registered but cannot serve HTTP: {e}"),
        ),
    }
}
