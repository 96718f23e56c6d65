//! A command refused: the error code and text the client gets, and how the access policy's
//! answers become them. Also the one place commands ask the policy with facts read fresh from
//! the database ([`check`]).

use crate::chat::access::{self, Action, Denied};
use crate::chat::facts::{kind_of, viewer_of};
use crate::db::{rooms, users};
use crate::state::AppState;
use protocol::{ErrorCode, RoomId, UserId};
use sea_orm::DbErr;

/// A command refused, with the code and text the client gets.
pub struct Refusal(pub ErrorCode, pub &'static str);

impl From<DbErr> for Refusal {
    fn from(err: DbErr) -> Self {
        tracing::error!(%err, "command failed");
        Refusal(ErrorCode::Internal, "Server error; try again.")
    }
}

pub const STAFF_ONLY: Refusal = Refusal(ErrorCode::StaffOnly, "This room is for staff only.");
pub const UNKNOWN_ROOM: Refusal = Refusal(
    ErrorCode::UnknownRoom,
    "No such room; it may have been deleted.",
);
pub const UNKNOWN_MESSAGE: Refusal = Refusal(ErrorCode::UnknownMessage, "No such message.");
pub const DELETED: Refusal = Refusal(ErrorCode::Forbidden, "This message was deleted.");

/// The policy's refusal, as the client is told it.
pub fn denied(denied: Denied) -> Refusal {
    match denied {
        Denied::StaffOnly => STAFF_ONLY,
        Denied::NotMember => Refusal(ErrorCode::NotJoined, "Join the room first."),
        Denied::NotAuthor => Refusal(ErrorCode::Forbidden, "You can only edit your own messages."),
        Denied::NotAuthorOrAdmin => Refusal(
            ErrorCode::Forbidden,
            "Only admins can delete other people's messages.",
        ),
        Denied::Hidden => UNKNOWN_ROOM,
        Denied::NotManager => Refusal(
            ErrorCode::NotManager,
            "Only the room's creator and admins can change it.",
        ),
        Denied::DirectIsFixed => Refusal(
            ErrorCode::DirectIsFixed,
            "A direct conversation keeps the people it was started with.",
        ),
        Denied::CannotCreate => Refusal(
            ErrorCode::CreationRestricted,
            "Only admins can create rooms on this server.",
        ),
    }
}

/// Asks the policy with facts read fresh from the database: the user's flags, the room's kind,
/// and the membership, all as committed now.
pub async fn check(
    state: &AppState,
    user: UserId,
    room: RoomId,
    action: Action,
) -> Result<(), Refusal> {
    let (room, member) = rooms::membership(&state.db, room, user)
        .await?
        .ok_or(UNKNOWN_ROOM)?;
    let fresh = users::find_by_id(&state.db, user)
        .await?
        .filter(|fresh| !fresh.disabled)
        .ok_or(Refusal(ErrorCode::Forbidden, "Your account is disabled."))?;
    access::decide(viewer_of(&fresh), kind_of(&room), member, action).map_err(denied)
}
