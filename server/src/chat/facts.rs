//! The facts the access policy takes, from stored rows: who a user is ([`viewer_of`]), what
//! kind of room a room is ([`kind_of`]), and whether a user created it ([`created`]).

use crate::chat::access::{RoomKind, Viewer};
use crate::db::rooms::Room;
use crate::db::users::User;
use protocol::UserId;

/// The user's flags as the policy takes them.
pub fn viewer_of(user: &User) -> Viewer {
    Viewer {
        is_staff: user.is_staff,
        is_admin: user.is_admin,
    }
}

/// The kind of a stored room.
pub fn kind_of(room: &Room) -> RoomKind {
    room.kind()
}

/// Whether `user` created `room` (and so manages it).
pub fn created(room: &Room, user: UserId) -> bool {
    room.created_by == Some(user.0)
}
