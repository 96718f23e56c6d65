//! `/metrics`: the server's counters in the text format Prometheus scrapes.
//!
//! Only with `WHISPER_METRICS_TOKEN` set, and only for a request that sends it as a bearer
//! token: the figures tell an outsider how busy the server is and how its limits behave.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// What Prometheus is told it reads.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // An empty token (a templated env file left blank) counts as none, never as "no header".
    let Some(token) = state
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    // Compared as hashes, so the time taken does not tell how much of a guess was right.
    if sent.is_none_or(|sent| Sha256::digest(sent) != Sha256::digest(token)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "A bearer token is required.",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
