//! The outbox outlives a reload of the tab: unsent messages are kept in the tab's
//! `sessionStorage` and sent, with their nonces, by the next page load. The nonce makes a
//! message that did reach the server before the reload post once all the same.
//!
//! `sessionStorage` belongs to one tab, so two tabs never send each other's messages; the
//! saved messages name their author, so another account signed in later in the same tab does
//! not send them either.

use super::outbox::Pending;
use protocol::UserId;
use serde::{Deserialize, Serialize};

/// Unsent messages and whose they are. A message keeps its failure (refused for good, it
/// still waits for the user), not how far it got on the old page's socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedOutbox {
    pub user: UserId,
    pub messages: Vec<Pending>,
}

#[cfg(feature = "hydrate")]
const KEY: &str = "whisper.outbox";

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    leptos::prelude::window().session_storage().ok().flatten()
}

/// What an earlier load of this tab left unsent, if anything (and if it is readable).
#[cfg(feature = "hydrate")]
pub fn load() -> Option<SavedOutbox> {
    let text = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Keeps `saved` for the next load of this tab; `None` clears what was kept.
#[cfg(feature = "hydrate")]
pub fn store(saved: Option<&SavedOutbox>) {
    let Some(storage) = storage() else {
        return;
    };
    // Storage full or refused: the messages are still in this page's outbox.
    let _ = match saved.map(serde_json::to_string) {
        Some(Ok(text)) => storage.set_item(KEY, &text),
        _ => storage.remove_item(KEY),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::fixtures::*;
    use crate::chat::state::ChatState;
    use protocol::ServerEvent;

    #[test]
    fn a_reloaded_tab_sends_what_it_left_unsent_with_the_same_nonces() {
        let mut before = ChatState::new("before".into());
        before.apply(hello(vec![room(1, "a"), room(2, "b")]));
        before.apply(joined(1, "a", vec![]));
        before.disconnected();
        before.compose("kept across the reload");
        let saved = before.outbox_to_save().expect("something to keep");
        assert_eq!(saved.user, UserId(1));

        let mut after = ChatState::new("after".into());
        after.restore(saved.clone());
        assert_eq!(
            after.outbox_to_save(),
            Some(saved.clone()),
            "kept until hello"
        );
        after.apply(hello(vec![room(1, "a"), room(2, "b")]));
        after.apply(joined(1, "a", vec![]));
        assert_eq!(
            sent_bodies(after.follow_ups(0.0)),
            [(
                "kept across the reload".to_owned(),
                saved.messages[0].nonce.clone()
            )]
        );
        after.apply(ServerEvent::Message {
            message: mine(1, "kept across the reload", &saved.messages[0].nonce),
        });
        assert_eq!(
            after.outbox_to_save(),
            None,
            "confirmed: nothing left to keep"
        );

        // Someone else signed in in that tab, or a room left meanwhile: not sent.
        let mut stranger = ChatState::new("stranger".into());
        stranger.restore(SavedOutbox {
            user: UserId(99),
            ..saved.clone()
        });
        stranger.apply(hello(vec![room(1, "a")]));
        assert!(stranger.outbox.is_empty());
        let mut moved_on = ChatState::new("moved-on".into());
        moved_on.restore(saved);
        moved_on.apply(hello(vec![room(2, "b")]));
        assert!(moved_on.outbox.is_empty());
    }
}
