//! The facts the access policy takes, from stored rows: who a user is ([`viewer_of`]) and what
//! kind of room a room is ([`kind_of`]).

use crate::chat::access::{RoomKind, Viewer};
use crate::db::rooms::Room;
use crate::db::users::User;

/// The user's flags as the policy takes them.
pub fn viewer_of(user: &User) -> Viewer {
    Viewer {
        is_staff: user.is_staff,
        is_admin: user.is_admin,
    }
}

/// The kind of a stored room.
pub fn kind_of(room: &Room) -> RoomKind {
    RoomKind::from_staff_only(room.staff_only)
}
