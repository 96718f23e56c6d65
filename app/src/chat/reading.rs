//! What the user has read of a room, and the unread and mention counts that follow from it.
//!
//! The server counts (in `joined` and `read_changed`) against the room as of a seq; this tab
//! adds the messages it holds past that seq by the same rule ([`ChatMessage::counts_for`],
//! [`ChatMessage::mentions_for`]). So a message is never counted twice, however its copies
//! arrive (in `recent`, live, in a catch-up page). A change to a message the server already
//! counted (deleted, or edited to mention the user) cannot be followed here: the tab asks the
//! server to count again. Read marks are sent at most once a [`MARK_EVERY_MS`] per room;
//! this tab's own counts drop at once.

use protocol::{ChatMessage, NotifyLevel, ReadState, RoomKind, UserId};

/// Least time between two read marks (or recounts) of one room from one tab.
pub const MARK_EVERY_MS: f64 = 1000.0;

/// A room's unread messages, and how many of them are mentions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub unread: u32,
    pub mentions: u32,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.unread += other.unread;
        self.mentions += other.mentions;
    }
}

/// What this tab knows of the user's reading of one room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadMark {
    /// Every message up to this seq is read.
    pub last_read_seq: i64,
    /// The seq the counts below were taken at; never below `last_read_seq`.
    as_of_seq: i64,
    /// Messages after `last_read_seq` up to `as_of_seq` that count, as the server counted them.
    counted: Counts,
    /// The user's notification level for the room (`None`: the room's default).
    pub notify: Option<NotifyLevel>,
    /// A read position reached here and not yet sent.
    unsent: Option<i64>,
    /// A read position sent and not yet confirmed by the server's answer: sent again if the
    /// connection drops or the mark is refused first.
    in_flight: Option<i64>,
    /// The server's counts must be asked for again.
    recount: bool,
    /// When this tab last sent a mark for the room (ms).
    sent_at: Option<f64>,
}

impl ReadMark {
    /// The server's word on where the user stands. A mark from this tab still on its way (or
    /// not sent yet) is kept on top of it.
    pub fn take(&mut self, read: ReadState) {
        if self.in_flight.is_some_and(|seq| seq <= read.last_read_seq) {
            self.in_flight = None;
        }
        let ahead = self
            .unsent
            .or(self.in_flight)
            .filter(|seq| *seq > read.last_read_seq);
        self.last_read_seq = read.last_read_seq;
        self.as_of_seq = read.as_of_seq.max(read.last_read_seq);
        self.counted = Counts {
            unread: read.unread,
            mentions: read.mentions,
        };
        self.notify = read.notify;
        // A recount asked for since is not answered by these counts (they may predate the
        // change): it still goes.
        if let Some(seq) = ahead {
            self.read_up_to(seq);
            self.unsent = Some(seq);
        }
    }

    /// A pushed change: taken unless this tab has already read further (its own mark's
    /// answer is on its way).
    pub fn changed(&mut self, read: ReadState) {
        if read.last_read_seq >= self.last_read_seq {
            self.take(read);
        }
    }

    /// Everything up to `seq` is read here. Counts the server took up to a later seq cannot be
    /// split locally; they are then left to the server's answer.
    fn read_up_to(&mut self, seq: i64) {
        self.last_read_seq = seq;
        if seq >= self.as_of_seq {
            self.as_of_seq = seq;
            self.counted = Counts::default();
        }
    }

    /// The user saw the room up to `seq`: counts drop now, and the mark is due to be sent.
    pub fn seen(&mut self, seq: i64) -> bool {
        if seq <= self.last_read_seq {
            return false;
        }
        self.read_up_to(seq);
        self.unsent = Some(seq);
        true
    }

    /// A message this tab holds changed: if the server had counted it, its counts are stale.
    pub fn message_changed(&mut self, seq: i64) {
        if seq > self.last_read_seq && seq <= self.as_of_seq {
            self.recount = true;
        }
    }

    /// The seq to send a mark for now, if one is due (a read position, or a recount, which
    /// marks the same position again), at `now` ms.
    pub fn due(&mut self, now: f64) -> Option<i64> {
        if self.unsent.is_none() && !self.recount {
            return None;
        }
        if self
            .sent_at
            .is_some_and(|sent| now - sent < MARK_EVERY_MS && now >= sent)
        {
            return None;
        }
        self.sent_at = Some(now);
        self.recount = false;
        let seq = self.unsent.take().unwrap_or(self.last_read_seq);
        self.in_flight = Some(seq);
        Some(seq)
    }

    /// The connection dropped, or a mark was refused: what was on its way goes again.
    pub fn resend(&mut self) {
        if let Some(seq) = self.in_flight.take() {
            self.unsent = Some(self.unsent.map_or(seq, |unsent| unsent.max(seq)));
        }
    }

    /// A mark or recount waits to be sent.
    pub fn waiting(&self) -> bool {
        self.unsent.is_some() || self.recount
    }

    /// The counts, given the messages held (any order, any subset).
    pub fn counts<'a>(
        &self,
        me: UserId,
        kind: RoomKind,
        held: impl IntoIterator<Item = &'a ChatMessage>,
    ) -> Counts {
        let mut counts = self.counted;
        for message in held {
            if message.seq > self.as_of_seq && message.counts_for(me) {
                counts.unread += 1;
                if message.mentions_for(me, kind) {
                    counts.mentions += 1;
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::fixtures::message;
    use protocol::{Member, RoomId};

    fn read(last_read: i64, as_of: i64, unread: u32, mentions: u32) -> ReadState {
        ReadState {
            room_id: RoomId(1),
            last_read_seq: last_read,
            as_of_seq: as_of,
            unread,
            mentions,
            notify: None,
        }
    }

    const ME: UserId = UserId(1);

    #[test]
    fn counts_are_the_servers_plus_what_came_after() {
        let mut mark = ReadMark::default();
        mark.take(read(2, 4, 2, 1));
        // Copies of 3 and 4 (already counted) and two new ones, one of them mine.
        let mut mine = message(1, 6, "me");
        mine.author.id = ME;
        let mut mention = message(1, 5, "@me");
        mention.mentions = vec![Member {
            id: ME,
            username: "me".into(),
        }];
        let held = [message(1, 3, "a"), message(1, 4, "b"), mention, mine];
        let counts = mark.counts(ME, RoomKind::Open, &held);
        assert_eq!(
            counts,
            Counts {
                unread: 3,
                mentions: 2
            }
        );
        // In a direct conversation every message counts as a mention.
        let direct = mark.counts(ME, RoomKind::Direct, &held[..2]);
        assert_eq!(
            direct,
            Counts {
                unread: 2,
                mentions: 1
            }
        );
    }

    #[test]
    fn seeing_drops_counts_at_once_and_sends_once_a_second() {
        let mut mark = ReadMark::default();
        mark.take(read(0, 3, 3, 0));
        assert!(mark.seen(3));
        assert_eq!(mark.counts(ME, RoomKind::Open, &[]), Counts::default());
        assert_eq!(mark.due(1000.0), Some(3));
        assert!(mark.seen(5));
        assert_eq!(mark.due(1500.0), None, "too soon");
        assert_eq!(mark.due(2000.0), Some(5));
        assert_eq!(mark.due(5000.0), None, "nothing left to send");
        // A stale answer (to the mark of 3) does not bring counts back.
        mark.changed(read(3, 5, 2, 0));
        assert_eq!(mark.last_read_seq, 5);
        assert_eq!(mark.counts(ME, RoomKind::Open, &[]), Counts::default());
    }

    #[test]
    fn a_change_to_a_counted_message_asks_for_a_recount() {
        let mut mark = ReadMark::default();
        mark.take(read(2, 6, 4, 0));
        mark.message_changed(7);
        assert_eq!(
            mark.due(0.0),
            None,
            "not counted by the server: followed here"
        );
        mark.message_changed(4);
        assert_eq!(mark.due(0.0), Some(2), "the same position, marked again");
    }

    #[test]
    fn an_older_answer_does_not_cancel_a_recount_and_lost_marks_go_again() {
        let mut mark = ReadMark::default();
        mark.take(read(2, 6, 4, 0));
        mark.message_changed(4);
        mark.changed(read(2, 6, 4, 0));
        assert!(
            mark.waiting(),
            "counts taken before the change do not answer it"
        );
        assert_eq!(mark.due(0.0), Some(2));
        assert!(mark.seen(6));
        assert_eq!(mark.due(5000.0), Some(6));
        mark.resend();
        assert_eq!(
            mark.due(10_000.0),
            Some(6),
            "the connection dropped: sent again"
        );
        mark.changed(read(6, 6, 0, 0));
        mark.resend();
        assert!(!mark.waiting(), "confirmed: nothing to send again");
    }

    #[test]
    fn a_rejoin_keeps_a_mark_not_yet_sent() {
        let mut mark = ReadMark::default();
        mark.take(read(0, 2, 2, 0));
        assert!(mark.seen(2));
        mark.take(read(0, 3, 3, 0));
        assert_eq!(mark.last_read_seq, 2);
        assert_eq!(mark.due(0.0), Some(2));
    }
}
