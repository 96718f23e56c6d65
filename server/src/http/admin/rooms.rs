//! Managing rooms: the forms of `/admin/rooms`. Each goes through the same domain functions
//! as the chat page's commands (`chat::conversations`), with the admin as the one acting, so
//! every change is checked alike and published at once: room lists update live in every tab.

use super::Admin;
use crate::chat::conversations::{self, NewRoom};
use crate::chat::refusal::Refusal;
use crate::error::AppError;
use crate::state::AppState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use protocol::{ErrorCode, Notice, RoomId, RoomKind};
use serde::Deserialize;

fn back(notice: Notice) -> Response {
    Redirect::to(&format!("/admin/rooms?{}", notice.query())).into_response()
}

/// The page's answer to a change: `done` when it went through, else the refusal's notice. A
/// server failure stays an error page.
fn answer<T>(outcome: Result<T, Refusal>, done: Notice) -> Result<Response, AppError> {
    match outcome {
        Ok(_) => Ok(back(done)),
        // Logged where it happened (`Refusal::from`).
        Err(Refusal(ErrorCode::Internal, text)) => {
            Err(AppError::Db(sea_orm::DbErr::Custom(text.to_owned())))
        }
        Err(Refusal(ErrorCode::EmptyTitle | ErrorCode::TitleTooLong, _)) => {
            Ok(back(Notice::InvalidTitle))
        }
        Err(Refusal(ErrorCode::UnknownRoom | ErrorCode::DirectIsFixed, _)) => {
            Ok(back(Notice::RoomNotFound))
        }
        Err(Refusal(_, _)) => Ok(back(Notice::NotFound)),
    }
}

/// The kinds an admin picks from: every kind but direct.
fn room_kind(name: &str) -> Option<RoomKind> {
    RoomKind::parse(name).filter(|kind| *kind != RoomKind::Direct)
}

#[derive(Debug, Deserialize)]
pub struct CreateRoomForm {
    title: String,
    #[serde(default)]
    kind: Option<String>,
}

/// Creates a room. A closed room gets its creator as first member, so someone can see it and
/// add others from the chat page.
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<CreateRoomForm>,
) -> Result<Response, AppError> {
    let Some(kind) = room_kind(form.kind.as_deref().unwrap_or("open")) else {
        return Ok(back(Notice::NotFound));
    };
    let new = NewRoom {
        creator: admin.id,
        title: &form.title,
        kind,
        members: &[],
        creator_joins: kind == RoomKind::Closed,
        request_id: None,
    };
    let created = conversations::create_room(&state, new).await;
    if let Ok(room) = &created {
        tracing::info!(admin = %admin.username, room = %room.title, "room created");
    }
    answer(created, Notice::RoomCreated)
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
    let renamed = conversations::rename(&state, admin.id, id, &form.title).await;
    if let Ok(room) = &renamed {
        tracing::info!(admin = %admin.username, room = %room.title, "room renamed");
    }
    answer(renamed, Notice::RoomRenamed)
}

#[derive(Debug, Deserialize)]
pub struct KindForm {
    kind: String,
}

/// Changes a room's kind. Members the new kind does not admit (non-staff, for staff-only) are
/// removed at once: their sockets leave the room and get `left` with reason `staff_only`.
pub async fn set_kind(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(room_id): Path<RoomId>,
    Form(form): Form<KindForm>,
) -> Result<Response, AppError> {
    let Some(kind) = room_kind(&form.kind) else {
        return Ok(back(Notice::NotFound));
    };
    let changed = conversations::set_kind(&state, admin.id, room_id, kind).await;
    if let Ok(room) = &changed {
        tracing::info!(admin = %admin.username, room = %room.title, kind = kind.as_str(), "room kind changed");
    }
    answer(changed, Notice::RoomUpdated)
}

pub async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<RoomId>,
) -> Result<Response, AppError> {
    let deleted = conversations::delete(&state, admin.id, id).await;
    if deleted.is_ok() {
        tracing::info!(admin = %admin.username, room_id = %id, "room deleted");
    }
    answer(deleted, Notice::RoomDeleted)
}
