//! Plain data shared by the WebSocket protocol and the pages' server functions.

use crate::ids::{MessageId, RoomId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A user as the app shows them to themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
    pub is_staff: bool,
}

impl UserSummary {
    /// The same user as others see them.
    pub fn member(&self) -> Member {
        Member {
            id: self.id,
            username: self.username.clone(),
        }
    }
}

/// A user as others see them: in member lists and as message authors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    pub id: UserId,
    pub username: String,
}

/// A user as the admin area lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserView {
    pub id: UserId,
    pub username: String,
    pub is_admin: bool,
    pub is_staff: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A room as the room list shows it. Everyone sees every room; only staff may enter
/// `staff_only` ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: RoomId,
    pub title: String,
    pub staff_only: bool,
}

/// One posted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: MessageId,
    pub room_id: RoomId,
    /// Position in the room: 1, 2, 3, … with no gaps, the order everyone sees.
    pub seq: i64,
    pub author: Member,
    /// Plain text; clients render it as text, never as HTML. Empty once deleted.
    pub body: String,
    pub created_at: DateTime<Utc>,
    // The three fields below are left out of the JSON when empty: a message is delivered to
    // every member, and most are never edited or deleted.
    /// When the author last changed the text; `None` if never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted: the message stays in the room, its seq held, as a tombstone without text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The nonce the author's client sent it with, so their tabs can match it to the copy they
    /// show as pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}
