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
