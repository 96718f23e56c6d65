//! Opening a message in its room: a search result or a permalink (`/r/{room}/{seq}`). The room
//! opens around the message (an `around` page), which is highlighted; the reader pages older
//! and newer from there, and the hole between that page and the room's latest messages is
//! filled only as they scroll down to it (see `sync::RoomSync::newer_on_demand`).

use protocol::{RequestId, RoomId};

/// Where opening a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JumpStatus {
    /// Waiting for the greeting (a permalink on a page just loaded) or the room's `joined`.
    Waiting,
    /// The page around it was asked for.
    Loading(RequestId),
    /// It is held and on screen.
    Shown,
    /// The user may not read it, or it does not exist: the page says so.
    Unavailable,
}

/// A message to open in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    pub room: RoomId,
    pub seq: i64,
    pub status: JumpStatus,
    /// Counts jumps, so that the view scrolls to each one once (the same message twice too).
    pub serial: u64,
}

// Driven through the reducer, the one entry point, as the page drives it.
#[cfg(test)]
mod tests {
    use super::JumpStatus;
    use crate::chat::fixtures::*;
    use crate::chat::state::ChatState;
    use protocol::{ClientCommand, ErrorCode, HISTORY_PAGE, RoomId, ServerEvent};

    /// The `around` the state asks for, answered with the room's messages around `seq` of
    /// `1..=last`, as the server would.
    fn answer_around(state: &mut ChatState, ask: Option<ClientCommand>, last: i64) {
        let Some(ClientCommand::Around {
            request_id,
            room_id,
            seq,
        }) = ask
        else {
            panic!("an around request: {ask:?}");
        };
        let half = HISTORY_PAGE as i64 / 2;
        let from = (seq - half).max(1);
        let to = (from + HISTORY_PAGE as i64 - 1).min(last);
        state.apply(ServerEvent::Around {
            request_id,
            room_id,
            seq,
            messages: messages(room_id.0, from..=to),
            beginning: from == 1,
        });
    }

    /// The hole fills among the follow-ups due at `now`.
    fn fills(state: &mut ChatState, now: f64) -> Vec<ClientCommand> {
        state
            .follow_ups(now)
            .into_iter()
            .filter(|ask| matches!(ask, ClientCommand::Missed { .. }))
            .collect()
    }

    /// The state after a greeting and a joined room 1 holding its latest page of `1..=last`.
    fn in_room(last: i64) -> ChatState {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        let first = (last - HISTORY_PAGE as i64 + 1).max(1);
        state.apply(joined(1, "a", messages(1, first..=last)));
        state.apply(joined(2, "b", messages(2, 1..=3)));
        state
    }

    #[test]
    fn an_old_message_opens_around_itself_and_the_hole_fills_on_demand() {
        let mut state = in_room(300);
        assert_eq!(state.open(RoomId(2)), None);
        let ask = state.open_message(RoomId(1), 100);
        assert_eq!(state.active, Some(RoomId(1)), "its room opens at once");
        assert_eq!(state.highlighted(RoomId(1)), None, "not held yet");
        answer_around(&mut state, ask, 300);
        assert_eq!(state.highlighted(RoomId(1)), Some(100));
        let joined = &state.joined[&RoomId(1)];
        assert_eq!(joined.first_gap(), Some((124, 251)));
        assert_eq!(joined.newer_hole(), Some(124));
        // Nothing is fetched until the reader scrolls down to the hole.
        assert_eq!(fills(&mut state, 1e9), vec![]);
        let mut pages = 0;
        while state.joined[&RoomId(1)].first_gap().is_some() {
            let asks = state.load_newer(RoomId(1), 0.0);
            let [
                ClientCommand::Missed {
                    request_id,
                    after_seq,
                    before_seq: Some(before),
                    ..
                },
            ] = asks.as_slice()
            else {
                panic!("one page of the hole: {asks:?}");
            };
            assert_eq!(state.load_newer(RoomId(1), 0.0), vec![], "one at a time");
            let to = (after_seq + HISTORY_PAGE as i64).min(before - 1);
            state.apply(ServerEvent::Missed {
                request_id: *request_id,
                room_id: RoomId(1),
                messages: messages(1, after_seq + 1..=to),
            });
            pages += 1;
            assert_eq!(fills(&mut state, 1e9), vec![], "the next page waits again");
        }
        assert_eq!(pages, 3, "126 missing messages, 50 a page");
        // Live messages join the end, without a gap or a repeat.
        state.apply(ServerEvent::Message {
            message: message(1, 301, "m301"),
        });
        let all = bodies(&state, 1);
        let want: Vec<String> = (75..=301).map(|seq| format!("m{seq}")).collect();
        assert_eq!(all, want);
        assert_eq!(state.joined[&RoomId(1)].newer_hole(), None);
    }

    #[test]
    fn a_reconnect_fills_what_it_missed_and_leaves_the_opened_hole_waiting() {
        let mut state = in_room(300);
        let ask = state.open_message(RoomId(1), 100);
        answer_around(&mut state, ask, 300);
        state.disconnected();
        // 100 messages went by; the reconnect brings the latest 50 with the room.
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        state.apply(joined(1, "a", messages(1, 351..=400)));
        let joined = &state.joined[&RoomId(1)];
        assert_eq!(
            joined.newer_hole(),
            Some(124),
            "still waiting for the reader"
        );
        let asks = fills(&mut state, 0.0);
        let [
            ClientCommand::Missed {
                after_seq: 300,
                before_seq: Some(351),
                ..
            },
        ] = asks.as_slice()
        else {
            panic!("the reconnect's hole, at once: {asks:?}");
        };
        assert!(!state.joined[&RoomId(1)].sync.loading_newer());
    }

    #[test]
    fn a_page_that_reaches_the_held_messages_leaves_nothing_on_demand() {
        let mut state = in_room(60);
        let ask = state.open_message(RoomId(1), 5);
        answer_around(&mut state, ask, 60);
        let joined = &state.joined[&RoomId(1)];
        assert_eq!(joined.first_gap(), None, "1..=50 and 11..=60 meet");
        assert_eq!(joined.newer_hole(), None);
        assert_eq!(state.highlighted(RoomId(1)), Some(5));
    }

    #[test]
    fn a_held_message_opens_without_asking() {
        let mut state = in_room(30);
        assert_eq!(state.open_message(RoomId(1), 12), None);
        assert_eq!(state.highlighted(RoomId(1)), Some(12));
        // Opening another room ends the highlight.
        state.open(RoomId(2));
        assert_eq!(state.highlighted(RoomId(1)), None);
        assert_eq!(state.jump, None);
    }

    #[test]
    fn a_permalink_waits_for_the_greeting_and_its_room() {
        let mut state = ChatState::default();
        assert_eq!(state.open_message(RoomId(1), 5), None, "not connected yet");
        state.apply(hello(vec![room(1, "a"), room(2, "b")]));
        assert_eq!(state.follow_ups(0.0), vec![], "its joined is on its way");
        state.apply(joined(2, "b", messages(2, 1..=3)));
        state.apply(joined(1, "a", messages(1, 51..=100)));
        assert_eq!(
            state.active,
            Some(RoomId(1)),
            "the permalink's room, not the first"
        );
        let asks = state.follow_ups(0.0);
        let ask = asks
            .into_iter()
            .find(|ask| matches!(ask, ClientCommand::Around { .. }));
        answer_around(&mut state, ask, 100);
        assert_eq!(state.highlighted(RoomId(1)), Some(5));
        assert!(state.joined[&RoomId(1)].beginning);
    }

    #[test]
    fn a_message_the_user_may_not_read_is_unavailable() {
        // A room the user is not in.
        let mut state = ChatState::default();
        state.open_message(RoomId(9), 5);
        state.apply(hello_member_of(vec![room(1, "a")], &[1]));
        assert_eq!(
            state.jump.map(|jump| jump.status),
            Some(JumpStatus::Unavailable)
        );
        // The user's first room opens behind the page, which stays until they move on.
        state.apply(joined(1, "a", messages(1, 1..=3)));
        assert_eq!(state.active, Some(RoomId(1)));
        assert_eq!(
            state.jump.map(|jump| jump.status),
            Some(JumpStatus::Unavailable)
        );
        state.close_overlays();
        assert_eq!(state.jump, None);

        // A seq the room does not have.
        let mut state = in_room(30);
        let ask = state.open_message(RoomId(1), 1000);
        answer_around(&mut state, ask, 30);
        assert_eq!(
            state.jump.map(|jump| jump.status),
            Some(JumpStatus::Unavailable)
        );

        // Refused by the server (removed a moment ago).
        let mut state = in_room(300);
        let Some(ask) = state.open_message(RoomId(1), 10) else {
            panic!("an around request");
        };
        state.apply(ServerEvent::Error {
            request_id: Some(ask.request_id()),
            code: ErrorCode::NotJoined,
            message: "no".into(),
        });
        assert_eq!(
            state.jump.map(|jump| jump.status),
            Some(JumpStatus::Unavailable)
        );
        assert_eq!(state.alert, None, "the page says so, not an alert");

        // Refused for going too fast: said as it is, not as "not available".
        let mut state = in_room(300);
        let Some(ask) = state.open_message(RoomId(1), 10) else {
            panic!("an around request");
        };
        state.apply(ServerEvent::Error {
            request_id: Some(ask.request_id()),
            code: ErrorCode::RateLimited,
            message: "Loading history too fast; wait a moment.".into(),
        });
        assert_eq!(state.jump, None);
        assert!(state.alert.is_some());
    }
}
