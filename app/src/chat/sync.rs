//! Keeping each room's timeline complete: the page of older messages asked for when the reader
//! scrolls back, and the holes in the seqs held — after a (re)join, or a live message that
//! overtook another — filled with `missed` requests. Also the page's request ids, which every
//! command carries so that answers and refusals find what they answer.

use protocol::{ClientCommand, RequestId, RoomId};

/// How long (ms) a hole opened by a live message waits for the missing message before it is
/// read from the database: with several nodes, a room's seq 10 and 11 may be published by
/// different nodes and arrive in either order.
pub const HOLE_GRACE_MS: f64 = 300.0;

/// Gives each command of the page its own request id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestIds {
    last: u64,
}

impl RequestIds {
    /// A request id no command of this page has carried yet.
    pub fn issue(&mut self) -> RequestId {
        self.last += 1;
        RequestId(self.last)
    }
}

/// What a refused request of a room was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The page of older messages: the reader is told, and may scroll for it again.
    OlderPage,
    /// A hole's fill: tried again later (see [`RoomSync::resume`]).
    HoleFill,
}

/// One room's requests on their way and its hole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomSync {
    /// The request for the page of older messages on its way, if any.
    older_request: Option<RequestId>,
    /// The `missed` request filling a hole, if one is on its way.
    fill_request: Option<RequestId>,
    /// A fill failed: no more tries until something new arrives or [`RoomSync::resume`], so a
    /// refusing server is not asked in a loop.
    fill_paused: bool,
    /// When the current hole was first seen (see [`HOLE_GRACE_MS`]).
    hole_seen_at: Option<f64>,
    /// Fill the next hole without waiting: it comes from a (re)join or a partial page, not
    /// from a message that overtook another.
    fill_at_once: bool,
    /// A page opened around a message (a search result, a permalink) ends at this seq, and
    /// the hole after it (the first starting there or later) may be long: it is filled a page
    /// at a time, as the reader scrolls down to it. Other holes fill as usual.
    newer_on_demand: Option<i64>,
    /// The reader reached that hole: fill the next page of it.
    newer_wanted: bool,
    /// The fill on its way is a page of that hole.
    fill_is_newer: bool,
}

impl RoomSync {
    /// A page of older messages has been asked for and not yet arrived.
    pub fn loading_older(&self) -> bool {
        self.older_request.is_some()
    }

    /// The `history` request for the page before `before_seq`, unless one is on its way.
    pub fn ask_older(
        &mut self,
        room_id: RoomId,
        before_seq: i64,
        ids: &mut RequestIds,
    ) -> Option<ClientCommand> {
        if self.loading_older() {
            return None;
        }
        let request_id = ids.issue();
        self.older_request = Some(request_id);
        Some(ClientCommand::History {
            request_id,
            room_id,
            before_seq,
        })
    }

    /// The page of older messages arrived.
    pub fn older_arrived(&mut self) {
        self.older_request = None;
    }

    /// Of the room's holes (`gaps`: the seq before and the seq after each, in order), the one
    /// after a page opened around a message, while it waits for the reader.
    pub fn on_demand_gap(&self, gaps: &[(i64, i64)]) -> Option<(i64, i64)> {
        let start = self.newer_on_demand?;
        gaps.iter().find(|(before, _)| *before >= start).copied()
    }

    /// The `missed` request for the room's first hole (`gaps`: the seq before and the seq
    /// after each hole, in order), unless one is on its way, fills are paused, or the hole is
    /// still waiting out its grace period (`now`: milliseconds on any steady clock). The hole
    /// after a page opened around a message is asked for only when the reader wants it.
    pub fn hole_fill(
        &mut self,
        room_id: RoomId,
        gaps: impl FnOnce() -> Vec<(i64, i64)>,
        now: f64,
        ids: &mut RequestIds,
    ) -> Option<ClientCommand> {
        if self.fill_request.is_some() || self.fill_paused {
            return None;
        }
        let gaps = gaps();
        let newer = self.on_demand_gap(&gaps);
        if newer.is_none() {
            self.newer_on_demand = None;
            self.newer_wanted = false;
        }
        if let Some(gap) = newer
            && std::mem::take(&mut self.newer_wanted)
        {
            return Some(self.ask_fill(room_id, gap, true, ids));
        }
        let Some(gap) = gaps.into_iter().find(|gap| Some(*gap) != newer) else {
            self.hole_seen_at = None;
            self.fill_at_once = false;
            return None;
        };
        let seen_at = *self.hole_seen_at.get_or_insert(now);
        if !self.fill_at_once && now - seen_at < HOLE_GRACE_MS {
            return None;
        }
        self.hole_seen_at = None;
        self.fill_at_once = false;
        Some(self.ask_fill(room_id, gap, false, ids))
    }

    fn ask_fill(
        &mut self,
        room_id: RoomId,
        (after_seq, before_seq): (i64, i64),
        newer: bool,
        ids: &mut RequestIds,
    ) -> ClientCommand {
        let request_id = ids.issue();
        self.fill_request = Some(request_id);
        self.fill_is_newer = newer;
        ClientCommand::Missed {
            request_id,
            room_id,
            after_seq,
            before_seq: Some(before_seq),
        }
    }

    /// The room was (re)joined: a hole its latest messages leave is filled at once (the hole
    /// after a page opened around a message still waits for the reader).
    pub fn rejoined(&mut self) {
        self.fill_paused = false;
        self.fill_at_once = true;
    }

    /// A page around a message arrived, ending at seq `last`, with a hole after it: that hole
    /// is filled only on demand.
    pub fn opened_around(&mut self, last: i64) {
        self.newer_on_demand = Some(last);
        self.newer_wanted = false;
    }

    /// The reader reached that hole: its next page is asked for (by the follow-ups), unless
    /// one is on its way already (scroll events keep coming while it is).
    pub fn want_newer(&mut self) {
        if self.fill_request.is_none() {
            self.newer_wanted = true;
        }
    }

    /// A page of that hole is on its way.
    pub fn loading_newer(&self) -> bool {
        self.fill_is_newer && self.fill_request.is_some()
    }

    /// A fill's page arrived. An empty one (nothing where a hole was) pauses fills, so the
    /// hole is never asked for again in a loop; a partial one leaves more to fill at once.
    pub fn filled(&mut self, empty: bool) {
        self.fill_paused = empty;
        self.fill_request = None;
        self.fill_at_once = true;
    }

    /// A live message arrived: something new, worth asking about a hole again.
    pub fn live_message(&mut self) {
        self.fill_paused = false;
    }

    /// A hole waits out its grace period: the follow-ups must be asked again soon.
    pub fn waiting(&self) -> bool {
        self.hole_seen_at.is_some() && self.fill_request.is_none()
    }

    /// Fills wait for [`RoomSync::resume`].
    pub fn paused(&self) -> bool {
        self.fill_paused
    }

    /// Lets fills go on after a refusal.
    pub fn resume(&mut self) {
        self.fill_paused = false;
    }

    /// The socket is gone: whatever was on its way is asked again on the next one.
    pub fn disconnected(&mut self) {
        self.older_request = None;
        self.fill_request = None;
        self.fill_paused = false;
        self.hole_seen_at = None;
    }

    /// The server refused `request_id`: which of this room's requests it was, if any.
    pub fn refused(&mut self, request_id: RequestId) -> Option<Refused> {
        if self.older_request == Some(request_id) {
            self.older_request = None;
            return Some(Refused::OlderPage);
        }
        if self.fill_request == Some(request_id) {
            self.fill_request = None;
            self.fill_paused = true;
            return Some(Refused::HoleFill);
        }
        None
    }
}

// Driven through the reducer, the one entry point, as the page drives it.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::fixtures::*;
    use crate::chat::state::{ChatState, Connection};
    use protocol::{ChatMessage, ServerEvent};

    #[test]
    fn older_pages_are_asked_once_and_prepended_until_the_beginning() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        let page: Vec<ChatMessage> = (51..=100)
            .map(|seq| message(1, seq, &format!("m{seq}")))
            .collect();
        state.apply(joined(1, "a", page));
        assert!(!state.joined[&RoomId(1)].beginning);
        let ask = state.load_older(RoomId(1));
        assert!(matches!(
            ask,
            Some(ClientCommand::History { before_seq: 51, .. })
        ));
        assert_eq!(state.load_older(RoomId(1)), None, "one request in flight");
        state.apply(ServerEvent::History {
            request_id: RequestId(1),
            room_id: RoomId(1),
            messages: (1..=50)
                .map(|seq| message(1, seq, &format!("m{seq}")))
                .collect(),
            complete: true,
        });
        let all = bodies(&state, 1);
        assert_eq!(all.len(), 100);
        assert_eq!((all[0].as_str(), all[99].as_str()), ("m1", "m100"));
        assert!(state.joined[&RoomId(1)].beginning);
        assert_eq!(
            state.load_older(RoomId(1)),
            None,
            "nothing before the beginning"
        );
    }

    #[test]
    fn a_reconnect_keeps_what_is_held_and_fills_the_hole() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=20)));
        assert_eq!(state.follow_ups(0.0), vec![], "no hole, nothing to ask");
        state.disconnected();
        assert_eq!(state.connection, Connection::Reconnecting);
        // 500 messages went by; the reconnect brings the latest 50 with the room.
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 471..=520)));
        assert_eq!(state.joined[&RoomId(1)].first_gap(), Some((20, 471)));
        let requests = fill_holes(&mut state, &messages(1, 1..=520));
        assert_eq!(requests, 9, "450 missing messages, 50 a page");
        let want: Vec<String> = (1..=520).map(|seq| format!("m{seq}")).collect();
        assert_eq!(bodies(&state, 1), want);
    }

    #[test]
    fn a_message_ahead_of_a_missing_one_asks_for_the_hole_once() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", messages(1, 1..=3)));
        assert_eq!(state.follow_ups(0.0), vec![], "no hole yet");
        state.apply(ServerEvent::Message {
            message: message(1, 6, "m6"),
        });
        assert_eq!(
            state.follow_ups(0.0),
            vec![],
            "the missing message may still come by itself"
        );
        assert!(state.waiting());
        assert_eq!(state.follow_ups(HOLE_GRACE_MS - 1.0), vec![]);
        let asks = state.follow_ups(HOLE_GRACE_MS);
        assert!(matches!(
            asks.as_slice(),
            [ClientCommand::Missed {
                after_seq: 3,
                before_seq: Some(6),
                ..
            }]
        ));
        assert_eq!(state.follow_ups(1e6), vec![], "one request in flight");
        // The live messages arrive meanwhile; the answer overlaps them; nothing doubles.
        state.apply(ServerEvent::Message {
            message: message(1, 4, "m4"),
        });
        state.apply(ServerEvent::Missed {
            request_id: asks[0].request_id(),
            room_id: RoomId(1),
            messages: messages(1, 4..=5),
        });
        assert_eq!(bodies(&state, 1), ["m1", "m2", "m3", "m4", "m5", "m6"]);
        assert_eq!(state.follow_ups(2e6), vec![]);
        assert!(!state.waiting());
    }
}
