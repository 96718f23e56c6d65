//! The session cookie: a random 256-bit token the browser holds; the database keeps only its
//! SHA-256, so reading the sessions table does not let anyone sign in.

use crate::chat::events;
use crate::db::{sessions, users::User};
use crate::fanout::envelope::CloseReason;
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

/// The key the request's session is stored under, if it carries a session cookie (live or not).
pub fn key(jar: &CookieJar) -> Option<String> {
    jar.get(COOKIE_NAME)
        .map(|cookie| token_hash(cookie.value()))
}

/// The user whose live session the request's cookie names, if any.
pub async fn current_user(state: &AppState, jar: &CookieJar) -> Result<Option<User>, DbErr> {
    match jar.get(COOKIE_NAME) {
        Some(cookie) => {
            let key = token_hash(cookie.value());
            state.reads.user_of_session(&state.db, &key).await
        }
        None => Ok(None),
    }
}

/// Ends the request's session (if any): deleted, the sockets opened with it closed on every
/// node; returns the jar with the cookie removed.
pub async fn end(state: &AppState, jar: CookieJar) -> Result<CookieJar, DbErr> {
    if let Some(key) = key(&jar)
        && let Some(user) = sessions::delete(&state.db, &key).await?
    {
        events::sessions_ended(state, user, Some(key), CloseReason::SessionEnded).await;
    }
    Ok(jar.remove(Cookie::build(COOKIE_NAME).path("/")))
}

/// Deletes the sessions past their expiry (they let nobody in already) and closes the sockets
/// opened with them, on every node. The housekeeping task calls this every minute.
pub async fn end_expired(state: &AppState) -> Result<(), DbErr> {
    for (user, key) in sessions::delete_expired(&state.db).await? {
        events::sessions_ended(state, user, Some(key), CloseReason::SessionEnded).await;
    }
    Ok(())
}

/// Ends every session of the request's user ("log out everywhere"), closing all their sockets
/// on every node; returns the jar with the cookie removed.
pub async fn end_all(state: &AppState, jar: CookieJar) -> Result<CookieJar, DbErr> {
    if let Some(user) = current_user(state, &jar).await? {
        let user = protocol::UserId(user.id);
        sessions::delete_for_user(&state.db, user).await?;
        events::sessions_ended(state, user, None, CloseReason::SessionEnded).await;
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
