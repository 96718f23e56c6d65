//! Form handlers for log-in, log-out, first-run set-up and sign-up. Each answers with a redirect
//! (303), carrying a notice code on failure, so they work the same with or without JavaScript.

use crate::db::users::{self, CreateUserError, NewUser};
use crate::error::AppError;
use crate::http::auth::client_ip::ClientIp;
use crate::http::auth::gate::{safe_next, setup_gone, urlencode};
use crate::http::auth::{password, session, validate};
use crate::state::AppState;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use protocol::{MAX_USERNAME_CHARS, Notice};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next).to_owned();
    let back = |notice: Notice| {
        let mut to = format!("/login?{}", notice.query());
        if next != "/" {
            to.push_str("&next=");
            to.push_str(&urlencode(&next));
        }
        Redirect::to(&to).into_response()
    };

    let username = form.username.trim();
    // A name no account can have is refused before anything keeps or logs it: the per-name
    // limiter would hold every distinct name sent, and the log would repeat it.
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Ok(back(if state.login_limiter.check_ip(ip) {
            state.metrics.login_failures.inc();
            Notice::InvalidCredentials
        } else {
            state.metrics.limited("login");
            Notice::RateLimited
        }));
    }
    if !state
        .login_limiter
        .check(&users::username_key(username), ip)
    {
        tracing::warn!(username, %ip, "log-in rate limited");
        state.metrics.limited("login");
        return Ok(back(Notice::RateLimited));
    }
    let user = users::find_by_username(&state.db, username).await?;
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    let password_ok = password::verify(form.password, stored).await;
    match user {
        // A disabled account gets the same answer as a wrong password: no hint either way.
        Some(user) if password_ok && !user.disabled => {
            let jar = session::start(&state, jar, &user).await?;
            tracing::info!(user = %user.username, "logged in");
            Ok((jar, Redirect::to(&next)).into_response())
        }
        _ => {
            state.metrics.login_failures.inc();
            Ok(back(Notice::InvalidCredentials))
        }
    }
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    let jar = session::end(&state, jar).await?;
    Ok((jar, Redirect::to("/login")).into_response())
}

/// Ends every session of the signed-in user, on every device.
pub async fn logout_everywhere(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let jar = session::end_all(&state, jar).await?;
    Ok((jar, Redirect::to("/login")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct NewAccountForm {
    username: String,
    password: String,
    password_confirm: String,
}

impl NewAccountForm {
    /// The notice explaining what is wrong with the form, if anything.
    fn problem(&self) -> Option<Notice> {
        if let Err(invalid) = validate::username(self.username.trim()) {
            return Some(invalid.notice());
        }
        if let Err(invalid) = validate::password(&self.password) {
            return Some(invalid.notice());
        }
        (self.password != self.password_confirm).then_some(Notice::PasswordMismatch)
    }
}

/// Creates the first admin while no account exists, and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<NewAccountForm>,
) -> Result<Response, AppError> {
    if let Some(problem) = form.problem() {
        return Ok(Redirect::to(&format!("/setup?{}", problem.query())).into_response());
    }
    // Held across check and insert so two set-up forms sent at once make one admin, not two.
    let _guard = state.setup.lock().await;
    if users::count(&state.db).await? > 0 {
        return Ok(setup_gone(&state));
    }
    let user = users::create(
        &state.db,
        NewUser {
            username: form.username.trim(),
            password_hash: password::hash(form.password).await?,
            is_admin: true,
            is_staff: true,
        },
    )
    .await?;
    state.setup.mark_done();
    tracing::info!(user = %user.username, "first admin created");
    let jar = session::start(&state, jar, &user).await?;
    Ok((jar, Redirect::to("/")).into_response())
}

fn signup_back(notice: Notice) -> Response {
    Redirect::to(&format!("/signup?{}", notice.query())).into_response()
}

/// Self-service account creation, when open sign-up is configured.
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(form): Form<NewAccountForm>,
) -> Result<Response, AppError> {
    if !state.config.open_signup {
        return Ok(signup_back(Notice::SignupClosed));
    }
    if !state.login_limiter.check_ip(ip) {
        state.metrics.limited("signup");
        return Ok(signup_back(Notice::RateLimited));
    }
    if let Some(problem) = form.problem() {
        return Ok(signup_back(problem));
    }
    let created = users::create(
        &state.db,
        NewUser {
            username: form.username.trim(),
            password_hash: password::hash(form.password).await?,
            is_admin: false,
            is_staff: false,
        },
    )
    .await;
    match created {
        Ok(user) => {
            let jar = session::start(&state, jar, &user).await?;
            Ok((jar, Redirect::to("/")).into_response())
        }
        Err(CreateUserError::UsernameTaken) => Ok(signup_back(Notice::UsernameTaken)),
        Err(err) => Err(err.into()),
    }
}
