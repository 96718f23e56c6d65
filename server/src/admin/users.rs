//! Managing accounts: the forms of `/admin/users`.

use super::{Admin, FlagForm};
use crate::auth::{password, validate};
use crate::db::users::{self, CreateUserError, Flag, NewUser};
use crate::db::{rooms, sessions};
use crate::error::AppError;
use crate::publish;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use protocol::{LeftReason, UserId, UserSummary};
use serde::Deserialize;

fn back(query: &str) -> Response {
    Redirect::to(&format!("/admin/users?{query}")).into_response()
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
        return Ok(back(&format!("error={}", invalid.code())));
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
            Ok(back("notice=user_created"))
        }
        Err(CreateUserError::UsernameTaken) => Ok(back("error=username_taken")),
        Err(err) => Err(err.into()),
    }
}

async fn set_flag(
    state: &AppState,
    admin: &UserSummary,
    id: i64,
    flag: Flag,
    value: bool,
) -> Result<Response, AppError> {
    // An admin cannot lock themselves out; another admin can.
    if id == admin.id.0 && matches!((flag, value), (Flag::Admin, false) | (Flag::Disabled, true)) {
        return Ok(back("error=cannot_change_self"));
    }
    if !users::set_flag(&state.db, id, flag, value).await? {
        return Ok(back("error=not_found"));
    }
    tracing::info!(admin = %admin.username, user_id = id, ?flag, value, "user flag changed");
    let user = UserId(id);
    let notice = match (flag, value) {
        (Flag::Disabled, true) => {
            sessions::delete_for_user(&state.db, id).await?;
            publish::user_disabled(state, user).await;
            "user_disabled"
        }
        (Flag::Disabled, false) => "user_enabled",
        (Flag::Staff, is_staff) => {
            publish::user_staff_changed(state, user, is_staff).await;
            if !is_staff {
                revoke_staff_rooms(state, id).await?;
            }
            "roles_updated"
        }
        (Flag::Admin, _) => "roles_updated",
    };
    Ok(back(&format!("notice={notice}")))
}

pub async fn set_staff(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Staff, form.value).await
}

pub async fn set_admin(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Admin, form.value).await
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    set_flag(&state, &admin, id, Flag::Disabled, form.value).await
}

/// Takes a user who just lost staff out of every staff-only room, telling their sockets and the
/// rooms' members.
async fn revoke_staff_rooms(state: &AppState, id: i64) -> Result<(), AppError> {
    let Some(user) = users::find_by_id(&state.db, id).await? else {
        return Ok(());
    };
    for room in rooms::remove_from_staff_rooms(&state.db, UserId(id)).await? {
        publish::member_left(state, user.member(), room, None, LeftReason::StaffOnly).await;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// Sets a new password and ends the user's sessions: a reset usually means the old one leaked.
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    if let Err(invalid) = validate::password(&form.password) {
        return Ok(back(&format!("error={}", invalid.code())));
    }
    let hash = password::hash(form.password).await?;
    if !users::set_password_hash(&state.db, id, hash).await? {
        return Ok(back("error=not_found"));
    }
    if id != admin.id.0 {
        sessions::delete_for_user(&state.db, id).await?;
    }
    tracing::info!(admin = %admin.username, user_id = id, "password reset");
    Ok(back("notice=password_reset"))
}
