//! Who is typing in which room, as the page shows it: each notice shows its typer for
//! [`TYPING_SHOWN_MS`], or until their message arrives. Plain data with an explicit clock (ms),
//! so it is tested without waiting.

use protocol::{Member, RoomId, TYPING_SHOWN_MS, UserId};
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Typists {
    /// Per room, who is typing and until when.
    rooms: HashMap<RoomId, Vec<(Member, f64)>>,
}

impl Typists {
    /// `member` is typing in `room` (heard at `now`).
    pub fn arrived(&mut self, room: RoomId, member: Member, now: f64) {
        let until = now + f64::from(TYPING_SHOWN_MS);
        let typists = self.rooms.entry(room).or_default();
        match typists.iter_mut().find(|(known, _)| known.id == member.id) {
            Some(entry) => entry.1 = until,
            None => typists.push((member, until)),
        }
    }

    /// `user` sent their message (or left): they are no longer typing in `room`.
    pub fn stopped(&mut self, room: RoomId, user: UserId) {
        if let Some(typists) = self.rooms.get_mut(&room) {
            typists.retain(|(member, _)| member.id != user);
        }
    }

    /// Forgets notices older than [`TYPING_SHOWN_MS`].
    pub fn expire(&mut self, now: f64) {
        for typists in self.rooms.values_mut() {
            typists.retain(|(_, until)| *until > now);
        }
        self.rooms.retain(|_, typists| !typists.is_empty());
    }

    /// Whether some notice is showing (and must expire in time).
    pub fn any(&self) -> bool {
        !self.rooms.is_empty()
    }

    /// The line under the room: "ada is typing…", "ada and bob are typing…", or for more
    /// "ada, bob and 2 others are typing…"; `None` when nobody is.
    pub fn line(&self, room: RoomId) -> Option<String> {
        let names: Vec<&str> = self
            .rooms
            .get(&room)?
            .iter()
            .map(|(member, _)| member.username.as_str())
            .collect();
        Some(match names.as_slice() {
            [] => return None,
            [one] => format!("{one} is typing…"),
            [one, two] => format!("{one} and {two} are typing…"),
            [one, two, three] => format!("{one}, {two} and {three} are typing…"),
            [one, two, rest @ ..] => {
                format!("{one}, {two} and {} others are typing…", rest.len())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Typists;
    use crate::chat::fixtures::member;
    use protocol::RoomId;

    #[test]
    fn typists_show_until_they_send_or_go_quiet() {
        let mut typing = Typists::default();
        let room = RoomId(1);
        assert_eq!(typing.line(room), None);
        typing.arrived(room, member(2, "ada"), 0.0);
        assert_eq!(typing.line(room).as_deref(), Some("ada is typing…"));
        typing.arrived(room, member(3, "bob"), 1000.0);
        assert_eq!(
            typing.line(room).as_deref(),
            Some("ada and bob are typing…")
        );
        typing.arrived(room, member(2, "ada"), 4000.0);
        typing.expire(5500.0);
        assert_eq!(
            typing.line(room).as_deref(),
            Some("ada and bob are typing…"),
            "ada typed again at 4 s"
        );
        typing.expire(6500.0);
        assert_eq!(typing.line(room).as_deref(), Some("ada is typing…"));
        typing.stopped(room, member(2, "ada").id);
        assert_eq!(typing.line(room), None);
        for (id, name) in [(4, "cy"), (5, "dee"), (6, "eve"), (7, "fay")] {
            typing.arrived(room, member(id, name), 0.0);
        }
        assert_eq!(
            typing.line(room).as_deref(),
            Some("cy, dee and 2 others are typing…")
        );
    }
}
