//! The one access policy: every question "may this user see / join / read / post in / change
//! messages of / manage this room?" is answered by [`decide`], from three facts — who the user
//! is now ([`Viewer`]), what kind of room it is ([`RoomKind`]), and whether they are a member.
//! Whether a user may create a room at all is [`may_create`].
//!
//! Callers gather the facts where they are cheapest (the hub keeps them for fan-out; commands
//! read them fresh from the database) but never decide on their own. Adding a room kind means a
//! new [`RoomKind`] variant and its rows in [`decide`] and in the table test below; the checks
//! themselves do not change.
//!
//! Private rooms (closed, direct) do not exist for anyone outside them: every refusal there is
//! [`Denied::Hidden`], which the client hears as "no such room", so probing room ids tells a
//! stranger nothing.
//!
//! One invariant keeps the database honest between decisions: a membership row exists only
//! where [`Action::Join`] or [`Action::BeAdded`] allowed it and still allows it. Every change
//! that could break that (a room becoming staff-only, a user losing staff) removes the
//! memberships it no longer allows in the same transaction (`db::rooms`), and joins and
//! additions lock the room and the user while they decide (`chat::membership`,
//! `chat::conversations`). So "is a member" in the database is itself an up-to-date answer,
//! which is what the message writer checks in the transaction that stores a post.

pub use protocol::RoomKind;

/// Who is asking, as the database says now (flags change while sockets stay open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub is_staff: bool,
    pub is_admin: bool,
}

/// What the user wants to do with the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See that the room exists (the room list).
    List,
    /// Become a member by their own choice.
    Join,
    /// Read its messages: history pages, catch-up pages, and live delivery (the hub's filter).
    Read,
    /// Post a message.
    Send,
    /// Change the text of a message; `own` when the user wrote it.
    Edit { own: bool },
    /// Delete a message; `own` when the user wrote it.
    Delete { own: bool },
    /// Stop being a member.
    Leave,
    /// Rename it, change its kind, add and remove members, delete it; `creator` when the user
    /// created it.
    Manage { creator: bool },
    /// Be made a member by one of its managers (the viewer is the one added).
    BeAdded,
}

/// Why an action is refused; each maps to one error code for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The room is for staff only.
    StaffOnly,
    /// The action needs membership.
    NotMember,
    /// The room is private to people the user is not among: as far as they can tell, it does
    /// not exist.
    Hidden,
    /// Only the author may edit a message.
    NotAuthor,
    /// Only the author or an admin may delete a message.
    NotAuthorOrAdmin,
    /// Only the room's creator and admins may manage it.
    NotManager,
    /// A direct conversation's people are fixed, and nobody manages it.
    DirectIsFixed,
    /// Users may not create this kind of room (or, on this server, any room).
    CannotCreate,
}

/// The policy. Every access check on an existing room calls this.
pub fn decide(viewer: Viewer, room: RoomKind, member: bool, action: Action) -> Result<(), Denied> {
    use RoomKind::*;
    // Outside a private room, it is not there.
    let visible = !room.is_private() || member;
    match action {
        Action::List => visible.then_some(()).ok_or(Denied::Hidden),
        Action::Join => match room {
            Open => Ok(()),
            StaffOnly => viewer.is_staff.then_some(()).ok_or(Denied::StaffOnly),
            // Nobody joins a private room by themselves; a member asking again is already in.
            Closed | Direct => visible.then_some(()).ok_or(Denied::Hidden),
        },
        Action::Read | Action::Send | Action::Edit { .. } | Action::Delete { .. } => {
            if !visible {
                return Err(Denied::Hidden);
            }
            if room == StaffOnly && !viewer.is_staff {
                return Err(Denied::StaffOnly);
            }
            if !member {
                return Err(Denied::NotMember);
            }
            match action {
                Action::Edit { own: false } => Err(Denied::NotAuthor),
                // Admins moderate rooms, not other people's direct conversations.
                Action::Delete { own: false } if room == Direct => Err(Denied::NotAuthor),
                Action::Delete { own: false } if !viewer.is_admin => Err(Denied::NotAuthorOrAdmin),
                _ => Ok(()),
            }
        }
        Action::Leave => {
            if !visible {
                return Err(Denied::Hidden);
            }
            if room == Direct {
                return Err(Denied::DirectIsFixed);
            }
            member.then_some(()).ok_or(Denied::NotMember)
        }
        Action::Manage { creator } => match room {
            Direct => Err(if visible {
                Denied::DirectIsFixed
            } else {
                Denied::Hidden
            }),
            // Admins manage every room but direct ones, member or not (the admin area).
            _ if viewer.is_admin => Ok(()),
            _ if !visible => Err(Denied::Hidden),
            // A creator manages only while the room would still admit them: one who is not
            // staff lost their staff-only room (else they could open it up and read it).
            StaffOnly if !viewer.is_staff => Err(Denied::StaffOnly),
            _ => creator.then_some(()).ok_or(Denied::NotManager),
        },
        Action::BeAdded => match room {
            Open | Closed => Ok(()),
            StaffOnly => viewer.is_staff.then_some(()).ok_or(Denied::StaffOnly),
            Direct => Err(Denied::DirectIsFixed),
        },
    }
}

/// [`Action::Read`] as a filter over many rooms at once, for a query that must keep only what
/// the viewer may read (search): rooms they are a member of, staff-only ones only for staff.
/// The table test checks that it admits exactly what [`decide`] allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadScope {
    /// Messages of staff-only rooms may be read.
    pub staff_only_rooms: bool,
}

impl ReadScope {
    pub fn of(viewer: Viewer) -> ReadScope {
        ReadScope {
            staff_only_rooms: viewer.is_staff,
        }
    }

    /// Whether a room of `kind`, of which the viewer is a `member` or not, passes the filter.
    pub fn admits(self, kind: RoomKind, member: bool) -> bool {
        member && (kind != RoomKind::StaffOnly || self.staff_only_rooms)
    }
}

/// [`Action::List`] for rooms that are the same for every user: whether everyone sees rooms of
/// `kind` in their list, whoever they are and member or not. Such rooms are listed in one list
/// shared by every greeting (`chat::connection`, read by `db::rooms::public`). The tests check
/// it against [`decide`] and against that read.
pub fn listed_to_everyone(kind: RoomKind) -> bool {
    !kind.is_private()
}

/// Whether `viewer` may create a room of `kind`: users create open and closed rooms (unless
/// `admins_only`), admins also staff-only ones. Direct conversations are not created but
/// opened (`chat::conversations::open_direct`), by anyone.
pub fn may_create(viewer: Viewer, kind: RoomKind, admins_only: bool) -> Result<(), Denied> {
    match kind {
        RoomKind::Open | RoomKind::Closed if viewer.is_admin || !admins_only => Ok(()),
        RoomKind::StaffOnly if viewer.is_admin => Ok(()),
        _ => Err(Denied::CannotCreate),
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
        let hidden = Err(Denied::Hidden);
        let fixed = Err(Denied::DirectIsFixed);
        #[rustfmt::skip]
        let table: &[Case] = &[
            // Everyone sees every open and staff-only room in the list; private rooms only
            // their members see, admins included.
            (PLAIN, Open, false, List, ok),
            (PLAIN, StaffOnly, false, List, ok),
            (STAFF, StaffOnly, false, List, ok),
            (PLAIN, Closed, false, List, hidden),
            (ADMIN, Closed, false, List, hidden),
            (PLAIN, Closed, true, List, ok),
            (ADMIN, Direct, false, List, hidden),
            (PLAIN, Direct, true, List, ok),
            // Joining: open to all, staff-only to staff (admins are not staff by being admins),
            // private rooms to nobody from outside.
            (PLAIN, Open, false, Join, ok),
            (PLAIN, StaffOnly, false, Join, staff_only),
            (ADMIN, StaffOnly, false, Join, staff_only),
            (STAFF, StaffOnly, false, Join, ok),
            (PLAIN, Closed, false, Join, hidden),
            (ADMIN, Closed, false, Join, hidden),
            (PLAIN, Closed, true, Join, ok),
            (STAFF, Direct, false, Join, hidden),
            (PLAIN, Direct, true, Join, ok),
            // Reading (history, catch-up, live delivery) and sending need membership...
            (PLAIN, Open, true, Read, ok),
            (PLAIN, Open, false, Read, not_member),
            (PLAIN, Open, true, Send, ok),
            (PLAIN, Open, false, Send, not_member),
            (STAFF, StaffOnly, true, Read, ok),
            (STAFF, StaffOnly, true, Send, ok),
            (STAFF, StaffOnly, false, Read, not_member),
            (PLAIN, Closed, true, Read, ok),
            (PLAIN, Closed, true, Send, ok),
            (PLAIN, Direct, true, Read, ok),
            (PLAIN, Direct, true, Send, ok),
            // ...a private room is not there for anyone outside it, admins included...
            (PLAIN, Closed, false, Read, hidden),
            (ADMIN, Closed, false, Read, hidden),
            (STAFF, Closed, false, Send, hidden),
            (ADMIN, Direct, false, Read, hidden),
            (PLAIN, Direct, false, Send, hidden),
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
            (PLAIN, Closed, true, Edit { own: true }, ok),
            (PLAIN, Direct, true, Edit { own: true }, ok),
            (ADMIN, Closed, false, Edit { own: true }, hidden),
            // Deleting: members, their own, or anyone's for an admin — but not in someone's
            // direct conversation.
            (PLAIN, Open, true, Delete { own: true }, ok),
            (PLAIN, Open, true, Delete { own: false }, Err(Denied::NotAuthorOrAdmin)),
            (STAFF, Open, true, Delete { own: false }, Err(Denied::NotAuthorOrAdmin)),
            (ADMIN, Open, true, Delete { own: false }, ok),
            (ADMIN, Open, false, Delete { own: false }, not_member),
            (ADMIN, StaffOnly, true, Delete { own: false }, staff_only),
            (ADMIN, Closed, true, Delete { own: false }, ok),
            (ADMIN, Closed, false, Delete { own: false }, hidden),
            (PLAIN, Direct, true, Delete { own: true }, ok),
            (ADMIN, Direct, true, Delete { own: false }, Err(Denied::NotAuthor)),
            // Leaving: any room one is in, except a direct conversation.
            (PLAIN, Open, true, Leave, ok),
            (PLAIN, Open, false, Leave, not_member),
            (PLAIN, Closed, true, Leave, ok),
            (PLAIN, Closed, false, Leave, hidden),
            (PLAIN, Direct, true, Leave, fixed),
            (PLAIN, Direct, false, Leave, hidden),
            // Managing: the creator and admins; nobody manages a direct conversation.
            (PLAIN, Open, false, Manage { creator: true }, ok),
            (PLAIN, Open, true, Manage { creator: false }, Err(Denied::NotManager)),
            (STAFF, StaffOnly, true, Manage { creator: false }, Err(Denied::NotManager)),
            (STAFF, StaffOnly, true, Manage { creator: true }, ok),
            // A creator whose open room an admin made staff-only, and who is not staff, no
            // longer manages it.
            (PLAIN, StaffOnly, false, Manage { creator: true }, staff_only),
            (ADMIN, Open, false, Manage { creator: false }, ok),
            (ADMIN, StaffOnly, false, Manage { creator: false }, ok),
            (ADMIN, Closed, false, Manage { creator: false }, ok),
            (PLAIN, Closed, true, Manage { creator: true }, ok),
            (PLAIN, Closed, true, Manage { creator: false }, Err(Denied::NotManager)),
            // A creator no longer in their closed room cannot see it to manage it.
            (PLAIN, Closed, false, Manage { creator: true }, hidden),
            (PLAIN, Direct, true, Manage { creator: true }, fixed),
            (ADMIN, Direct, true, Manage { creator: false }, fixed),
            (ADMIN, Direct, false, Manage { creator: false }, hidden),
            // Being added by a manager: anyone to open and closed rooms, staff to staff-only
            // ones, nobody to a direct conversation.
            (PLAIN, Open, false, BeAdded, ok),
            (PLAIN, Closed, false, BeAdded, ok),
            (PLAIN, StaffOnly, false, BeAdded, staff_only),
            (STAFF, StaffOnly, false, BeAdded, ok),
            (PLAIN, Direct, false, BeAdded, fixed),
        ];
        for &(viewer, kind, member, action, expected) in table {
            assert_eq!(
                decide(viewer, kind, member, action),
                expected,
                "{viewer:?} {kind:?} member={member} {action:?}"
            );
        }
    }

    /// Nothing but listing, joining or being added to a room open to them is ever allowed
    /// to a non-member (managing aside), whoever they are.
    #[test]
    fn non_members_only_list_and_join() {
        for viewer in [PLAIN, STAFF, ADMIN] {
            for kind in RoomKind::ALL {
                for action in [Read, Send, Leave, Edit { own: true }, Delete { own: false }] {
                    assert!(decide(viewer, kind, false, action).is_err());
                }
                if kind.is_private() {
                    for action in [List, Join] {
                        assert_eq!(decide(viewer, kind, false, action), Err(Denied::Hidden));
                    }
                }
            }
        }
    }

    /// The search filter keeps exactly the rooms whose messages `decide` lets the viewer read.
    #[test]
    fn the_read_scope_is_the_read_rule() {
        let staff_admin = Viewer {
            is_staff: true,
            is_admin: true,
        };
        for viewer in [PLAIN, STAFF, ADMIN, staff_admin] {
            for kind in RoomKind::ALL {
                for member in [false, true] {
                    assert_eq!(
                        ReadScope::of(viewer).admits(kind, member),
                        decide(viewer, kind, member, Read).is_ok(),
                        "{viewer:?} {kind:?} member={member}"
                    );
                }
            }
        }
    }

    /// A kind listed to everyone is listed to each viewer, member or not; any other kind is
    /// listed to nobody outside the room.
    #[test]
    fn listed_to_everyone_is_the_list_rule_for_all() {
        let staff_admin = Viewer {
            is_staff: true,
            is_admin: true,
        };
        for kind in RoomKind::ALL {
            for viewer in [PLAIN, STAFF, ADMIN, staff_admin] {
                for member in [false, true] {
                    let listed = decide(viewer, kind, member, List).is_ok();
                    if listed_to_everyone(kind) {
                        assert!(listed, "{viewer:?} {kind:?} member={member}");
                    } else if !member {
                        assert!(!listed, "{viewer:?} {kind:?} member={member}");
                    }
                }
            }
        }
    }

    /// The greetings' shared list reads exactly the kinds listed to everyone.
    #[test]
    fn the_shared_list_reads_the_kinds_listed_to_everyone() {
        for kind in RoomKind::ALL {
            assert_eq!(
                crate::db::rooms::PUBLIC_KINDS.contains(&kind),
                listed_to_everyone(kind),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn who_may_create_what() {
        let no = Err(Denied::CannotCreate);
        #[rustfmt::skip]
        let table: &[(Viewer, RoomKind, bool, Result<(), Denied>)] = &[
            (PLAIN, Open, false, Ok(())),
            (PLAIN, Closed, false, Ok(())),
            (PLAIN, StaffOnly, false, no),
            (STAFF, StaffOnly, false, no),
            (PLAIN, Direct, false, no),
            (PLAIN, Open, true, no),
            (STAFF, Closed, true, no),
            (ADMIN, Open, true, Ok(())),
            (ADMIN, Closed, true, Ok(())),
            (ADMIN, StaffOnly, true, Ok(())),
            (ADMIN, Direct, false, no),
        ];
        for &(viewer, kind, admins_only, expected) in table {
            assert_eq!(
                may_create(viewer, kind, admins_only),
                expected,
                "{viewer:?} {kind:?} admins_only={admins_only}"
            );
        }
    }
}
