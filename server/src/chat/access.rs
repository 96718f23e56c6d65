//! The one access policy: every question "may this user see / join / read / post in / change
//! messages of this room?" is answered by [`decide`], from three facts — who the user is now
//! ([`Viewer`]), what kind of room it is ([`RoomKind`]), and whether they are a member.
//!
//! Callers gather the facts where they are cheapest (the hub keeps them for fan-out; commands
//! read them fresh from the database) but never decide on their own. Adding a room kind means a
//! new [`RoomKind`] variant and its rows in [`decide`] and in the table test below; the checks
//! themselves do not change.
//!
//! One invariant keeps the database honest between decisions: a membership row exists only
//! where [`Action::Join`] allowed it and still allows it. Every change that could break that (a
//! room becoming staff-only, a user losing staff) removes the memberships it no longer allows in
//! the same transaction (`db::rooms`), and joins lock the room and the user while they decide
//! (`chat::membership`). So "is a member" in the database is itself an up-to-date answer, which
//! is what the message writer checks in the transaction that stores a post.

/// Who is asking, as the database says now (flags change while sockets stay open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub is_staff: bool,
    pub is_admin: bool,
}

/// What kind of room it is: the only room property access depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoomKind {
    /// Listed to everyone; anyone may join.
    Open,
    /// Listed to everyone; only staff may join, and only staff receive its events.
    StaffOnly,
}

impl RoomKind {
    /// The kind stored as the `rooms.staff_only` flag.
    pub fn from_staff_only(staff_only: bool) -> RoomKind {
        if staff_only {
            RoomKind::StaffOnly
        } else {
            RoomKind::Open
        }
    }
}

/// What the user wants to do with the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See that the room exists (the room list).
    List,
    /// Become a member.
    Join,
    /// Read its messages: history pages, catch-up pages, and live delivery (the hub's filter).
    Read,
    /// Post a message.
    Send,
    /// Change the text of a message; `own` when the user wrote it.
    Edit { own: bool },
    /// Delete a message; `own` when the user wrote it.
    Delete { own: bool },
}

/// Why an action is refused; each maps to one error code for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The room is for staff only.
    StaffOnly,
    /// The action needs membership.
    NotMember,
    /// Only the author may edit a message.
    NotAuthor,
    /// Only the author or an admin may delete a message.
    NotAuthorOrAdmin,
}

/// The policy. Every access check in the server calls this.
pub fn decide(viewer: Viewer, room: RoomKind, member: bool, action: Action) -> Result<(), Denied> {
    // Who may be in the room at all.
    let may_enter = match room {
        RoomKind::Open => true,
        RoomKind::StaffOnly => viewer.is_staff,
    };
    match action {
        Action::List => Ok(()),
        Action::Join => may_enter.then_some(()).ok_or(Denied::StaffOnly),
        Action::Read | Action::Send | Action::Edit { .. } | Action::Delete { .. } => {
            if !may_enter {
                return Err(Denied::StaffOnly);
            }
            if !member {
                return Err(Denied::NotMember);
            }
            match action {
                Action::Edit { own: false } => Err(Denied::NotAuthor),
                Action::Delete { own: false } if !viewer.is_admin => Err(Denied::NotAuthorOrAdmin),
                _ => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;
    use RoomKind::*;

    const PLAIN: Viewer = Viewer {
        is_staff: false,
        is_admin: false,
    };
    const STAFF: Viewer = Viewer {
        is_staff: true,
        is_admin: false,
    };
    const ADMIN: Viewer = Viewer {
        is_staff: false,
        is_admin: true,
    };

    /// One row of the policy table: who, which kind of room, member or not, doing what, and
    /// the answer.
    type Case = (Viewer, RoomKind, bool, Action, Result<(), Denied>);

    /// Every (viewer, kind, membership, action) the server asks about, and the answer.
    #[test]
    fn the_policy_table() {
        let ok = Ok(());
        let staff_only = Err(Denied::StaffOnly);
        let not_member = Err(Denied::NotMember);
        #[rustfmt::skip]
        let table: &[Case] = &[
            // Everyone sees every room in the list.
            (PLAIN, Open, false, List, ok),
            (PLAIN, StaffOnly, false, List, ok),
            (STAFF, StaffOnly, false, List, ok),
            // Joining: open to all, staff-only to staff (admins are not staff by being admins).
            (PLAIN, Open, false, Join, ok),
            (PLAIN, StaffOnly, false, Join, staff_only),
            (ADMIN, StaffOnly, false, Join, staff_only),
            (STAFF, StaffOnly, false, Join, ok),
            // Reading (history, catch-up, live delivery) and sending need membership...
            (PLAIN, Open, true, Read, ok),
            (PLAIN, Open, false, Read, not_member),
            (PLAIN, Open, true, Send, ok),
            (PLAIN, Open, false, Send, not_member),
            (STAFF, StaffOnly, true, Read, ok),
            (STAFF, StaffOnly, true, Send, ok),
            (STAFF, StaffOnly, false, Read, not_member),
            // ...and a staff-only room shuts out a member who is not staff (any more).
            (PLAIN, StaffOnly, true, Read, staff_only),
            (PLAIN, StaffOnly, true, Send, staff_only),
            (PLAIN, StaffOnly, false, Send, staff_only),
            // Editing: members, their own messages only; admins included.
            (PLAIN, Open, true, Edit { own: true }, ok),
            (PLAIN, Open, true, Edit { own: false }, Err(Denied::NotAuthor)),
            (ADMIN, Open, true, Edit { own: false }, Err(Denied::NotAuthor)),
            (PLAIN, Open, false, Edit { own: true }, not_member),
            (PLAIN, StaffOnly, true, Edit { own: true }, staff_only),
            // Deleting: members, their own, or anyone's for an admin.
            (PLAIN, Open, true, Delete { own: true }, ok),
            (PLAIN, Open, true, Delete { own: false }, Err(Denied::NotAuthorOrAdmin)),
            (STAFF, Open, true, Delete { own: false }, Err(Denied::NotAuthorOrAdmin)),
            (ADMIN, Open, true, Delete { own: false }, ok),
            (ADMIN, Open, false, Delete { own: false }, not_member),
            (ADMIN, StaffOnly, true, Delete { own: false }, staff_only),
        ];
        for &(viewer, kind, member, action, expected) in table {
            assert_eq!(
                decide(viewer, kind, member, action),
                expected,
                "{viewer:?} {kind:?} member={member} {action:?}"
            );
        }
    }

    /// Nothing but `List` and `Join` is ever allowed to a non-member, whoever they are.
    #[test]
    fn non_members_only_list_and_join() {
        for viewer in [PLAIN, STAFF, ADMIN] {
            for kind in [Open, StaffOnly] {
                for action in [Read, Send, Edit { own: true }, Delete { own: false }] {
                    assert!(decide(viewer, kind, false, action).is_err());
                }
            }
        }
    }
}
