//! Managing accounts: the forms of `/admin/users`.

use super::{Admin, FlagForm};
use crate::chat::events;
use crate::chat::membership;
use crate::db::sessions;
use crate::db::users::{self, CreateUserError, Flag, NewUser};
use crate::error::AppError;
use crate::fanout::envelope::CloseReason;
use crate::http::auth::{password, session, validate};
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use protocol::{Notice, UserId, UserSummary};
use serde::Deserialize;

fn back(notice: Notice) -> Response {
    Redirect::to(&format!("/admin/users?{}", notice.query())).into_response()
}

#[derive(Debug, Deserialize)]
pub struct CreateUserForm {
    username: String,
    password: String,
    #[serde(default)]
    is_admin: Option<String>,
    #[serde(default)]
    is_staff: Option<String>,
}

pub async fn create_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<CreateUserForm>,
) -> Result<Response, AppError> {
    let username = form.username.trim();
    if let Err(invalid) = validate::username(username).and(validate::password(&form.password)) {
        return Ok(back(invalid.notice()));
    }
    let created = users::create(
        &state.db,
        NewUser {
            username,
            password_hash: password::hash(form.password).await?,
            is_admin: form.is_admin.is_some(),
            is_staff: form.is_staff.is_some(),
        },
    )
    .await;
    match created {
        Ok(user) => {
            tracing::info!(admin = %admin.username, user = %user.username, "user created");
            Ok(back(Notice::UserCreated))
        }
        Err(CreateUserError::UsernameTaken) => Ok(back(Notice::UsernameTaken)),
        Err(err) => Err(err.into()),
    }
}

async fn set_flag(
    state: &AppState,
    admin: &UserSummary,
    user: UserId,
    flag: Flag,
    value: bool,
) -> Result<Response, AppError> {
    // An admin cannot lock themselves out; another admin can.
    if user == admin.id && matches!((flag, value), (Flag::Admin, false) | (Flag::Disabled, true)) {
        return Ok(back(Notice::CannotChangeSelf));
    }
    let found = match flag {
        Flag::Staff => membership::set_staff(state, user, value).await?,
        Flag::Admin | Flag::Disabled => users::set_flag(&state.db, user, flag, value).await?,
    };
    if !found {
        return Ok(back(Notice::NotFound));
    }
    tracing::info!(admin = %admin.username, user_id = %user, ?flag, value, "user flag changed");
    let notice = match (flag, value) {
        (Flag::Disabled, true) => {
            sessions::delete_for_user(&state.db, user).await?;
            events::sessions_ended(state, user, None, CloseReason::Disabled).await;
            Notice::UserDisabled
        }
        (Flag::Disabled, false) => Notice::UserEnabled,
        (Flag::Staff | Flag::Admin, _) => Notice::RolesUpdated,
    };
    Ok(back(notice))
}

pub async fn set_staff(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Staff, form.value).await
}

pub async fn set_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Admin, form.value).await
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Disabled, form.value).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// Sets a new password and ends the user's sessions: a reset usually means the old one leaked.
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    if let Err(invalid) = validate::password(&form.password) {
        return Ok(back(invalid.notice()));
    }
    let hash = password::hash(form.password).await?;
    if !users::set_password_hash(&state.db, id, hash).await? {
        return Ok(back(Notice::NotFound));
    }
    // An admin resetting their own password keeps the session they are using, and only it:
    // a session elsewhere (a lost laptop, a stolen cookie) is what a reset is for.
    match session::key(&jar).filter(|_| id == admin.id) {
        Some(current) => {
            for ended in sessions::delete_others(&state.db, id, &current).await? {
                events::sessions_ended(&state, id, Some(ended), CloseReason::SessionEnded).await;
            }
        }
        None => {
            sessions::delete_for_user(&state.db, id).await?;
            events::sessions_ended(&state, id, None, CloseReason::SessionEnded).await;
        }
    }
    tracing::info!(admin = %admin.username, user_id = %id, "password reset");
    Ok(back(Notice::PasswordReset))
}
