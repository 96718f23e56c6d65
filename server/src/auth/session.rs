//! The session cookie: a random 256-bit token the browser holds; the database keeps only its
//! SHA-256, so reading the sessions table does not let anyone sign in.

use crate::db::{sessions, users::User};
use crate::state::AppState;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{Duration, Utc};
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use std::fmt::Write;

pub const COOKIE_NAME: &str = "whisper_session";

fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

fn token_hash(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// Starts a session for `user` and returns the jar with its cookie set.
pub async fn start(
    state: &AppState,
    jar: CookieJar,
    user: &User,
) -> Result<CookieJar, SessionError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| SessionError::Random(err.to_string()))?;
    let token = to_hex(&bytes);
    let days = i64::from(state.config.session_days);
    sessions::create(
        &state.db,
        token_hash(&token),
        protocol::UserId(user.id),
        Utc::now() + Duration::days(days),
    )
    .await?;
    let cookie = Cookie::build((COOKIE_NAME, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(cookie::time::Duration::days(days));
    Ok(jar.add(cookie))
}

/// The user whose live session the request's cookie names, if any.
pub async fn current_user(state: &AppState, jar: &CookieJar) -> Result<Option<User>, DbErr> {
    match jar.get(COOKIE_NAME) {
        Some(cookie) => sessions::find_user(&state.db, &token_hash(cookie.value())).await,
        None => Ok(None),
    }
}

/// Ends the request's session (if any) and returns the jar with the cookie removed.
pub async fn end(state: &AppState, jar: CookieJar) -> Result<CookieJar, DbErr> {
    if let Some(cookie) = jar.get(COOKIE_NAME) {
        sessions::delete(&state.db, &token_hash(cookie.value())).await?;
    }
    Ok(jar.remove(Cookie::build(COOKIE_NAME).path("/")))
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no randomness: {0}")]
    Random(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}
