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
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
}

/// What kind of conversation a room is; who may see, join and read it follows from this (the
/// server's access policy decides, the client only mirrors it for display).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// Listed to everyone; anyone may join.
    Open,
    /// Listed to everyone; only staff may join and read.
    StaffOnly,
    /// Listed to and readable by its members only, who are added by the room's managers.
    Closed,
    /// A conversation between a fixed set of people (one to [`crate::MAX_DIRECT_MEMBERS`]),
    /// found again by that set; visible to them alone.
    Direct,
}

impl RoomKind {
    /// Every kind.
    pub const ALL: [RoomKind; 4] = [
        RoomKind::Open,
        RoomKind::StaffOnly,
        RoomKind::Closed,
        RoomKind::Direct,
    ];

    /// The kind as stored and sent (`"staff_only"`).
    pub fn as_str(self) -> &'static str {
        match self {
            RoomKind::Open => "open",
            RoomKind::StaffOnly => "staff_only",
            RoomKind::Closed => "closed",
            RoomKind::Direct => "direct",
        }
    }

    /// The kind named `name` (as [`RoomKind::as_str`] writes it).
    pub fn parse(name: &str) -> Option<RoomKind> {
        RoomKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Whether only its members know it exists.
    pub fn is_private(self) -> bool {
        matches!(self, RoomKind::Closed | RoomKind::Direct)
    }
}

/// A room as the room list shows it. Direct conversations have an empty title: clients name
/// them after the other participants (from the members `joined` carries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub id: RoomId,
    pub title: String,
    pub kind: RoomKind,
    /// Who created it (a manager of it besides the admins); `None` for rooms from before
    /// rooms had creators, and for direct conversations.
    pub created_by: Option<UserId>,
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
    #[serde(with = "crate::timestamp")]
    pub created_at: DateTime<Utc>,
    // The three fields below are left out of the JSON when empty: a message is delivered to
    // every member, and most are never edited or deleted.
    /// When the author last changed the text; `None` if never.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::timestamp::optional"
    )]
    pub edited_at: Option<DateTime<Utc>>,
    /// Deleted: the message stays in the room, its seq held, as a tombstone without text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The nonce the author's client sent it with, so their tabs can match it to the copy they
    /// show as pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The members of the room its text mentions by `@name`, as the server resolved them when
    /// it stored (or last edited) the message. Left out when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Member>,
}

impl ChatMessage {
    /// Whether this message counts as unread for `user` (after their read position): someone
    /// else's, and not deleted.
    pub fn counts_for(&self, user: UserId) -> bool {
        self.author.id != user && !self.deleted
    }

    /// Whether this message counts as a mention of `user` in a room of `kind`: it names them,
    /// or it is someone else's message in a direct conversation.
    pub fn mentions_for(&self, user: UserId, kind: RoomKind) -> bool {
        self.counts_for(user)
            && (kind == RoomKind::Direct || self.mentions.iter().any(|member| member.id == user))
    }
}

/// Which messages of a room notify a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    /// Every message by someone else.
    All,
    /// Only messages that mention the member (and, in a direct conversation, every message).
    Mentions,
    /// None.
    Nothing,
}

impl NotifyLevel {
    /// Every level, in the order a menu offers them.
    pub const ALL: [NotifyLevel; 3] = [
        NotifyLevel::All,
        NotifyLevel::Mentions,
        NotifyLevel::Nothing,
    ];

    /// The level as stored and sent (`"mentions"`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::Nothing => "nothing",
        }
    }

    /// The level named `name` (as [`NotifyLevel::as_str`] writes it).
    pub fn parse(name: &str) -> Option<NotifyLevel> {
        NotifyLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == name)
    }

    /// The level of a member who chose none: direct conversations and rooms of up to
    /// [`crate::QUIET_ROOM_MEMBERS`] people notify of everything, busier rooms of mentions.
    pub fn default_for(kind: RoomKind, members: usize) -> NotifyLevel {
        if kind == RoomKind::Direct || members <= crate::QUIET_ROOM_MEMBERS {
            NotifyLevel::All
        } else {
            NotifyLevel::Mentions
        }
    }
}

/// Where a member stands in a room: what they have read, what is waiting for them, and what
/// they want to hear of. Counted by the server against the room as of `as_of_seq`; clients
/// add what arrives after it by the same rule ([`ChatMessage::counts_for`],
/// [`ChatMessage::mentions_for`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadState {
    pub room_id: RoomId,
    /// Every message up to this seq is read.
    pub last_read_seq: i64,
    /// The room's newest seq when the counts below were taken.
    pub as_of_seq: i64,
    /// Messages after `last_read_seq` up to `as_of_seq` that count as unread.
    pub unread: u32,
    /// Of those, the ones that count as mentions.
    pub mentions: u32,
    /// The member's own choice; `None` means [`NotifyLevel::default_for`] the room.
    pub notify: Option<NotifyLevel>,
}
