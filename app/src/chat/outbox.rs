//! The outbox: messages typed and not yet confirmed by the server. They go one at a time, each
//! once the one before is confirmed, so they post in the order typed; each carries a nonce, so
//! one sent twice (after a reconnect, or a reload: see [`super::saved_outbox`]) posts once.

use super::sync::RequestIds;
use protocol::{ClientCommand, ErrorCode, RequestId, RoomId};
use serde::{Deserialize, Serialize};

/// A message on its way with no answer after this long is sent again. The socket does not
/// lose frames, but a send that is never answered would hold up the whole outbox; sent again
/// with the same nonce, it still posts once.
pub const RESEND_AFTER_MS: f64 = 10_000.0;

/// A message typed but not yet confirmed by the server. Saved across reloads without what
/// belongs to the page's current socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// Sent with every try; the server stores one message per nonce.
    pub nonce: String,
    pub room_id: RoomId,
    pub body: String,
    /// The request that carried it on the current connection; `None` until sent on it.
    #[serde(skip)]
    sent: Option<RequestId>,
    /// When [`Outbox::resend_unanswered`] first saw it on its way, to send it again if no
    /// answer comes (see [`RESEND_AFTER_MS`]).
    #[serde(skip)]
    sent_seen_at: Option<f64>,
    /// Why the server refused it; it then waits for the user to retry or discard it. A
    /// refusal for sending too fast is not a failure: the message is simply sent again later.
    pub failed: Option<String>,
}

/// The messages typed and not yet confirmed, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outbox {
    messages: Vec<Pending>,
    /// The server said the user sends too fast: nothing goes until [`Outbox::resume`].
    paused: bool,
    /// Makes this page's nonces unlike any other page's.
    nonce_prefix: String,
    next_nonce: u64,
}

impl Outbox {
    /// A page's outbox; `nonce_prefix` must be unique to the page (random).
    pub fn new(nonce_prefix: String) -> Outbox {
        Outbox {
            nonce_prefix,
            ..Outbox::default()
        }
    }

    /// Oldest first.
    pub fn messages(&self) -> &[Pending] {
        &self.messages
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Queues `body` for `room` with a new nonce.
    pub fn push(&mut self, room_id: RoomId, body: &str) {
        self.next_nonce += 1;
        self.messages.push(Pending {
            nonce: format!("{}-{}", self.nonce_prefix, self.next_nonce),
            room_id,
            body: body.to_owned(),
            sent: None,
            sent_seen_at: None,
            failed: None,
        });
    }

    /// Queues a message an earlier load of the tab left unsent, unless it is queued already.
    pub fn adopt(&mut self, pending: Pending) {
        if !self.messages.iter().any(|p| p.nonce == pending.nonce) {
            self.messages.push(pending);
        }
    }

    /// The server has the message sent with `nonce`.
    pub fn confirm(&mut self, nonce: &str) {
        self.messages.retain(|pending| pending.nonce != nonce);
    }

    /// Drops what was typed for a room the user is no longer in.
    pub fn forget_room(&mut self, room: RoomId) {
        self.messages.retain(|pending| pending.room_id != room);
    }

    /// Makes a refused message due again.
    pub fn retry(&mut self, nonce: &str) {
        if let Some(pending) = self.messages.iter_mut().find(|p| p.nonce == nonce) {
            pending.failed = None;
            pending.sent = None;
        }
    }

    /// Drops a refused message.
    pub fn discard(&mut self, nonce: &str) {
        self.messages.retain(|pending| pending.nonce != nonce);
    }

    /// Makes due again a message on its way for [`RESEND_AFTER_MS`] without an answer (`now`:
    /// milliseconds on any steady clock).
    pub fn resend_unanswered(&mut self, now: f64) {
        for pending in &mut self.messages {
            if pending.sent.is_some()
                && now - *pending.sent_seen_at.get_or_insert(now) >= RESEND_AFTER_MS
            {
                pending.sent = None;
            }
        }
    }

    /// The `send` for the oldest message due, unless one is already on its way. One at a time
    /// keeps the order typed even when the server refuses some for sending too fast (a long
    /// outbox after a reconnect), and it costs one round trip per queued message. Failed
    /// messages, and those for rooms that `may_send` rules out (not joined yet), are passed
    /// over.
    pub fn next_send(
        &mut self,
        may_send: impl Fn(RoomId) -> bool,
        ids: &mut RequestIds,
    ) -> Option<ClientCommand> {
        if self.paused || self.waiting() {
            return None;
        }
        let pending = self
            .messages
            .iter_mut()
            .find(|pending| pending.failed.is_none() && may_send(pending.room_id))?;
        let request_id = ids.issue();
        pending.sent = Some(request_id);
        pending.sent_seen_at = None;
        Some(ClientCommand::Send {
            request_id,
            room_id: pending.room_id,
            body: pending.body.clone(),
            nonce: pending.nonce.clone(),
        })
    }

    /// A message is on its way, waiting for its answer.
    pub fn waiting(&self) -> bool {
        self.messages.iter().any(|pending| pending.sent.is_some())
    }

    /// Sends wait for [`Outbox::resume`].
    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// The socket is gone: what was on its way goes again on the next one.
    pub fn disconnected(&mut self) {
        for pending in &mut self.messages {
            pending.sent = None;
        }
    }

    /// The server refused `request_id`; `false` if it carried none of these messages. The
    /// message then waits for the user to retry it — or, refused only for going too fast or
    /// by a failing server (which says to retry), is sent again after [`Outbox::resume`],
    /// before anything typed after it.
    pub fn refused(&mut self, request_id: RequestId, code: ErrorCode, message: &str) -> bool {
        let Some(pending) = self
            .messages
            .iter_mut()
            .find(|pending| pending.sent == Some(request_id))
        else {
            return false;
        };
        pending.sent = None;
        if matches!(code, ErrorCode::RateLimited | ErrorCode::Internal) {
            self.paused = true;
        } else {
            pending.failed = Some(message.to_owned());
        }
        true
    }
}

// Driven through the reducer, the one entry point, as the page drives it.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::fixtures::*;
    use crate::chat::state::ChatState;
    use protocol::ServerEvent;

    #[test]
    fn blank_input_sends_nothing() {
        let mut state = ChatState::default();
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        assert_eq!(state.compose("   "), vec![]);
        assert!(matches!(
            state.compose("hi").as_slice(),
            [ClientCommand::Send { .. }]
        ));
    }

    #[test]
    fn offline_messages_wait_in_the_outbox_and_go_with_their_nonce() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let sent = state.compose("first");
        let [ClientCommand::Send { nonce, .. }] = sent.as_slice() else {
            panic!("sent at once: {sent:?}");
        };
        let first_nonce = nonce.clone();
        // The socket drops before the server answers; a second message is typed offline.
        state.disconnected();
        assert_eq!(state.compose("second"), vec![], "offline: nothing sent");
        let waiting: Vec<&str> = state
            .outbox
            .messages()
            .iter()
            .map(|p| p.body.as_str())
            .collect();
        assert_eq!(waiting, ["first", "second"], "both shown as pending");
        state.apply(hello(vec![room(1, "a")]));
        assert_eq!(
            sent_bodies(state.follow_ups(0.0)),
            [("first".to_owned(), first_nonce.clone())],
            "the first again, with the same nonce; the second waits its turn"
        );
        assert_eq!(state.follow_ups(0.0), vec![], "one on its way at a time");
        state.apply(joined(1, "a", vec![mine(1, "first", &first_nonce)]));
        state.apply(ServerEvent::Message {
            message: mine(1, "first", &first_nonce),
        });
        let second = sent_bodies(state.follow_ups(0.0));
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].0, "second");
        assert_ne!(second[0].1, first_nonce);
        state.apply(ServerEvent::Message {
            message: mine(2, "second", &second[0].1),
        });
        assert!(
            state.outbox.is_empty(),
            "confirmed messages leave the outbox"
        );
        assert_eq!(bodies(&state, 1), ["first", "second"]);
        assert_eq!(state.counts(RoomId(1)).unread, 0, "one's own messages");
    }

    #[test]
    fn too_fast_or_a_server_failure_pauses_the_outbox_and_keeps_its_order() {
        for code in [ErrorCode::RateLimited, ErrorCode::Internal] {
            let mut state = ChatState::new("page".into());
            state.apply(hello(vec![room(1, "a")]));
            state.apply(joined(1, "a", vec![]));
            let sent = state.compose("one");
            state.compose("two");
            state.apply(ServerEvent::Error {
                request_id: Some(sent[0].request_id()),
                code,
                message: "Try again later.".into(),
            });
            assert_eq!(
                state.outbox.messages()[0].failed,
                None,
                "{code:?} is not a failure"
            );
            assert_eq!(state.alert, None);
            assert!(state.paused());
            assert_eq!(
                state.follow_ups(0.0),
                vec![],
                "nothing until resumed, \"two\" not ahead"
            );
            state.resume_paused();
            assert_eq!(
                sent_bodies(state.follow_ups(0.0)),
                [("one".to_owned(), state.outbox.messages()[0].nonce.clone())],
                "the refused one goes first, with its nonce"
            );
            assert!(!state.paused());
        }
    }

    #[test]
    fn an_unanswered_send_goes_again_with_its_nonce() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let first = sent_bodies(state.compose("hello?"));
        state.compose("queued behind it");
        assert!(state.waiting(), "the connection must keep asking");
        assert_eq!(state.follow_ups(1_000.0), vec![]);
        assert_eq!(state.follow_ups(1_000.0 + RESEND_AFTER_MS - 1.0), vec![]);
        assert_eq!(
            sent_bodies(state.follow_ups(1_000.0 + RESEND_AFTER_MS)),
            first,
            "the same message, the same nonce"
        );
    }

    #[test]
    fn a_refused_message_waits_for_retry_or_discard() {
        let mut state = ChatState::new("page".into());
        state.apply(hello(vec![room(1, "a")]));
        state.apply(joined(1, "a", vec![]));
        let sent = state.compose("to a closed door");
        state.apply(ServerEvent::Error {
            request_id: Some(sent[0].request_id()),
            code: ErrorCode::NotJoined,
            message: "Join the room first.".into(),
        });
        assert_eq!(
            state.outbox.messages()[0].failed.as_deref(),
            Some("Join the room first.")
        );
        assert_eq!(state.alert, None, "shown on the message, not as an alert");
        assert_eq!(state.follow_ups(0.0), vec![], "not retried by itself");
        let nonce = state.outbox.messages()[0].nonce.clone();
        assert_eq!(
            sent_bodies(state.compose("another")),
            [(
                "another".to_owned(),
                state.outbox.messages()[1].nonce.clone()
            )],
            "a failed message does not hold up the next"
        );
        assert_eq!(state.retry(&nonce), vec![], "after the one on its way");
        state.discard(&nonce);
        assert_eq!(state.outbox.messages().len(), 1);
        assert_eq!(state.outbox.messages()[0].body, "another");
    }
}
