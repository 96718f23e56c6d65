//! A room as the page holds it: its members, and its timeline — messages in seq order without
//! duplicates, the join and leave notices between them — with where it has holes and whether
//! it reaches back to the room's first message.

use super::reading::{Counts, ReadMark};
use super::sync::RoomSync;
use protocol::{ChatMessage, Member, RoomKind, UserId};

/// One line in a room's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Message(ChatMessage),
    /// "bob joined", "bob left": local to this tab, not stored on the server.
    Notice {
        key: u64,
        text: String,
    },
}

impl Entry {
    /// A key that stays the same for the same line, for keyed rendering. A message's key
    /// changes when it is edited or deleted, so its line is drawn again.
    pub fn key(&self) -> String {
        match self {
            Entry::Message(message) => format!(
                "m{}-{}-{}",
                message.id,
                message.edited_at.map_or(0, |at| at.timestamp_millis()),
                message.deleted
            ),
            Entry::Notice { key, .. } => format!("n{key}"),
        }
    }
}

/// A room the user is a member of.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinedRoom {
    pub members: Vec<Member>,
    pub timeline: Vec<Entry>,
    /// What the user has read here, and the counts that follow.
    pub read: ReadMark,
    /// Where the "new messages" line goes: after this seq, when the room was opened with
    /// unread messages. It stays until another room is opened.
    pub new_since: Option<i64>,
    /// The timeline reaches back to the room's first message.
    pub beginning: bool,
    /// The room's requests on their way and its hole.
    pub(super) sync: RoomSync,
}

impl JoinedRoom {
    /// A page of older messages has been asked for and not yet arrived.
    pub fn loading_older(&self) -> bool {
        self.sync.loading_older()
    }

    fn messages(&self) -> impl Iterator<Item = &ChatMessage> {
        messages(&self.timeline)
    }

    /// Unread messages and mentions for `me` in this room (of `kind`).
    pub fn counts(&self, me: UserId, kind: RoomKind) -> Counts {
        self.read.counts(me, kind, self.messages())
    }

    /// The seq up to which the user has seen the room when its newest messages are on
    /// screen: the newest held, or the last before a hole (what is in it was never shown).
    pub fn seen_up_to(&self) -> Option<i64> {
        match self.first_gap() {
            Some((before, _)) => Some(before),
            None => self.newest_seq(),
        }
    }

    /// The first message the "new messages" line marks, if it is held.
    pub fn first_new(&self, me: UserId) -> Option<&ChatMessage> {
        let since = self.new_since?;
        self.messages()
            .find(|message| message.seq > since && message.counts_for(me))
    }

    /// Whether a message with this seq is held.
    pub fn holds(&self, seq: i64) -> bool {
        self.held(seq).is_some()
    }

    /// The message with this seq, if held.
    pub fn held(&self, seq: i64) -> Option<&ChatMessage> {
        self.messages().find(|message| message.seq == seq)
    }

    /// Seq of the oldest message held.
    pub fn oldest_seq(&self) -> Option<i64> {
        self.messages().next().map(|message| message.seq)
    }

    /// Seq of the newest message held.
    pub fn newest_seq(&self) -> Option<i64> {
        self.newest_message().map(|message| message.seq)
    }

    /// The newest message held.
    pub fn newest_message(&self) -> Option<&ChatMessage> {
        self.messages().last()
    }

    /// The first hole in the seqs held: the seq before it and the seq after it.
    pub fn first_gap(&self) -> Option<(i64, i64)> {
        first_gap(&self.timeline)
    }

    /// Where the hole after a page opened around a message begins (the seq before it), while
    /// it waits for the reader to scroll down to it.
    pub fn newer_hole(&self) -> Option<i64> {
        self.sync
            .on_demand_gap(&gaps(&self.timeline))
            .map(|(before, _)| before)
    }

    /// Adds a message in seq order; `false` if its seq was already held (a message can arrive
    /// both in `joined.recent` and live). Of two copies of one seq the later state wins: a
    /// page read before an edit or deletion must not bring the old text back.
    pub fn insert(&mut self, message: ChatMessage) -> bool {
        let seq = message.seq;
        for entry in &mut self.timeline {
            if let Entry::Message(held) = entry
                && held.seq == seq
            {
                if newer(&message, held) {
                    *held = message;
                }
                return false;
            }
        }
        // Usually the newest: scan from the end for the first message with a lower seq.
        let position = self
            .timeline
            .iter()
            .rposition(|entry| matches!(entry, Entry::Message(m) if m.seq < seq))
            .map_or(0, |index| index + 1);
        let position = if self.timeline[position..]
            .iter()
            .all(|entry| matches!(entry, Entry::Notice { .. }))
        {
            self.timeline.len()
        } else {
            position
        };
        self.timeline.insert(position, Entry::Message(message));
        true
    }

    /// Takes in an edited or deleted message: replaces the held copy, or fills its place if it
    /// falls inside what is held (a page read before the change may still be on its way; the
    /// later copy wins either way). Outside what is held it is not needed.
    pub fn change(&mut self, message: ChatMessage) {
        let mut seqs = self.messages().map(|m| m.seq);
        let Some(oldest) = seqs.next() else { return };
        let newest = seqs.last().unwrap_or(oldest);
        if (oldest..=newest).contains(&message.seq) {
            self.insert(message);
        }
    }
}

fn messages(timeline: &[Entry]) -> impl Iterator<Item = &ChatMessage> {
    timeline.iter().filter_map(|entry| match entry {
        Entry::Message(message) => Some(message),
        Entry::Notice { .. } => None,
    })
}

/// The first hole in the seqs of `timeline`: the seq before it and the seq after it.
pub fn first_gap(timeline: &[Entry]) -> Option<(i64, i64)> {
    gaps(timeline).into_iter().next()
}

/// Every hole in the seqs of `timeline`, in order: the seq before each and the seq after it.
/// Apart from [`JoinedRoom`] so that it can be asked while the room's requests are borrowed.
pub fn gaps(timeline: &[Entry]) -> Vec<(i64, i64)> {
    let mut seqs = messages(timeline).map(|message| message.seq);
    let Some(mut previous) = seqs.next() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for seq in seqs {
        if seq > previous + 1 {
            found.push((previous, seq));
        }
        previous = seq;
    }
    found
}

/// Whether `candidate` is a later state of the same message than `held`: deleted beats not
/// deleted, then the later edit wins.
fn newer(candidate: &ChatMessage, held: &ChatMessage) -> bool {
    (candidate.deleted, candidate.edited_at) > (held.deleted, held.edited_at)
}

// Driven through the reducer, the one entry point, as the page drives it.
#[cfg(test)]
mod tests {
    use super::Entry;
    use crate::chat::fixtures::*;
    use crate::chat::state::ChatState;
    use chrono::{TimeZone, Utc};
    use protocol::{ChatMessage, RequestId, RoomId, ServerEvent, UserSummary};

    #[test]
    fn messages_keep_seq_order_without_duplicates() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(
            1,
            "a",
            vec![message(1, 1, "one"), message(1, 2, "two")],
        ));
        state.apply(ServerEvent::Message {
            message: message(1, 2, "two"),
        });
        state.apply(ServerEvent::Message {
            message: message(1, 4, "four"),
        });
        state.apply(ServerEvent::Message {
            message: message(1, 3, "three"),
        });
        assert_eq!(bodies(&state, 1), ["one", "two", "three", "four"]);
    }

    #[test]
    fn member_notices_join_the_timeline() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        state.apply(ServerEvent::MemberJoined {
            room_id: RoomId(1),
            member: member(2, "bob"),
            online: true,
        });
        state.apply(ServerEvent::Message {
            message: message(1, 1, "hi"),
        });
        state.apply(ServerEvent::MemberLeft {
            room_id: RoomId(1),
            member: member(2, "bob"),
        });
        let room = &state.joined[&RoomId(1)];
        assert_eq!(room.members, vec![member(1, "alice")]);
        let lines: Vec<String> = room
            .timeline
            .iter()
            .map(|entry| match entry {
                Entry::Message(m) => m.body.clone(),
                Entry::Notice { text, .. } => text.clone(),
            })
            .collect();
        assert_eq!(lines, ["bob joined", "hi", "bob left"]);
    }

    #[test]
    fn edits_and_deletions_replace_the_message_in_place() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        let edited = ChatMessage {
            body: "m2, fixed".into(),
            edited_at: Some(Utc.with_ymd_and_hms(2026, 11, 22, 3, 1, 0).unwrap()),
            ..message(1, 2, "")
        };
        state.apply(ServerEvent::MessageChanged { message: edited });
        let deleted = ChatMessage {
            body: String::new(),
            deleted: true,
            ..message(1, 3, "")
        };
        state.apply(ServerEvent::MessageChanged { message: deleted });
        assert_eq!(bodies(&state, 1), ["m1", "m2, fixed", ""]);
        // A page read before the changes arrives afterwards: the old text does not come back.
        state.apply(ServerEvent::Missed {
            request_id: RequestId(99),
            room_id: RoomId(1),
            messages: messages(1, 1..=3),
        });
        assert_eq!(bodies(&state, 1), ["m1", "m2, fixed", ""]);
        let alice_admin = UserSummary {
            is_admin: true,
            ..state.me.clone().unwrap()
        };
        let theirs = message(1, 1, "m1");
        assert!(!state.may_delete(&theirs));
        state.me = Some(alice_admin);
        assert!(state.may_delete(&theirs));
    }
}
