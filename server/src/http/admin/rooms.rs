//! Managing rooms: the forms of `/admin/rooms`. Every change is published at once, so the room
//! list updates live in every open tab.

use super::{Admin, FlagForm};
use crate::chat::events;
use crate::chat::membership;
use crate::db::rooms;
use crate::error::AppError;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use protocol::{MAX_TITLE_CHARS, Notice, RoomId};
use serde::Deserialize;

fn back(notice: Notice) -> Response {
    Redirect::to(&format!("/admin/rooms?{}", notice.query())).into_response()
}

/// A trimmed title with something visible in it, of at most [`MAX_TITLE_CHARS`] characters.
fn valid_title(title: &str) -> Option<&str> {
    let title = title.trim();
    (!protocol::text::is_blank(title) && title.chars().count() <= MAX_TITLE_CHARS).then_some(title)
}

#[derive(Debug, Deserialize)]
pub struct CreateRoomForm {
    title: String,
    #[serde(default)]
    staff_only: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<CreateRoomForm>,
) -> Result<Response, AppError> {
    let Some(title) = valid_title(&form.title) else {
        return Ok(back(Notice::InvalidTitle));
    };
    let room = rooms::create(&state.db, title, form.staff_only.is_some()).await?;
    tracing::info!(admin = %admin.username, room = %room.title, "room created");
    events::room_added(&state, room.info()).await;
    Ok(back(Notice::RoomCreated))
}

#[derive(Debug, Deserialize)]
pub struct RenameForm {
    title: String,
}

pub async fn rename(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<RoomId>,
    Form(form): Form<RenameForm>,
) -> Result<Response, AppError> {
    let Some(title) = valid_title(&form.title) else {
        return Ok(back(Notice::InvalidTitle));
    };
    let Some(room) = rooms::rename(&state.db, id, title).await? else {
        return Ok(back(Notice::RoomNotFound));
    };
    tracing::info!(admin = %admin.username, room = %room.title, "room renamed");
    events::room_updated(&state, room.info()).await;
    Ok(back(Notice::RoomRenamed))
}

/// Switches staff-only. Switching it on removes every member who is not staff at once: their
/// sockets leave the room and get `left` with reason `staff_only`.
pub async fn set_staff_only(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(room_id): Path<RoomId>,
    Form(form): Form<FlagForm>,
) -> Result<Response, AppError> {
    let Some(room) = membership::set_staff_only(&state, room_id, form.value).await? else {
        return Ok(back(Notice::RoomNotFound));
    };
    tracing::info!(admin = %admin.username, room = %room.title, staff_only = form.value, "room staff-only switched");
    Ok(back(Notice::RoomUpdated))
}

pub async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<RoomId>,
) -> Result<Response, AppError> {
    if !rooms::delete(&state.db, id).await? {
        return Ok(back(Notice::RoomNotFound));
    }
    tracing::info!(admin = %admin.username, room_id = %id, "room deleted");
    events::room_removed(&state, id).await;
    Ok(back(Notice::RoomDeleted))
}
