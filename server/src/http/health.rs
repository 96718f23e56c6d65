//! Probes for load balancers and orchestrators.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// Liveness: the process serves HTTP.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the node is not stopping, the database answers and, with several nodes, Redis
/// carries fan-out. A node that cannot reach either should get no new traffic (its open
/// sockets keep working).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.hub.is_shut() {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping");
    }
    if let Err(err) = state.db.ping().await {
        tracing::warn!(%err, "database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable");
    }
    match state.broker.unavailable() {
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
        None => (StatusCode::OK, "ready"),
    }
}
