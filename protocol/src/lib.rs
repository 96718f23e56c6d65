//! Whisper's wire protocol, shared by the server and the WASM client.
//!
//! Everything that crosses the WebSocket is a [`ClientCommand`] (browser → server) or a
//! [`ServerEvent`] (server → browser), serialized as JSON objects tagged by a snake_case `type`
//! field. Nothing here depends on tokio, axum or a database: the crate builds for
//! `wasm32-unknown-unknown` so both sides use the very same types.
//!
//! # Layout
//!
//! - [`ids`]: id newtypes (`UserId`, `RoomId`, `MessageId`, `RequestId`), so one kind of id is
//!   never passed where another belongs.
//! - [`command`]: what a client may ask.
//! - [`event`]: what the server tells a client, including [`ErrorCode`].
//! - [`dto`]: plain data shared by the wire and the pages (users, rooms, messages).
//! - [`encoded`]: a part of an event the server encodes once for many frames.
//! - [`limits`]: every size limit, shared by the server, the schema and the forms.
//! - [`notice`]: the form notices' codes and their texts.
//! - [`text`]: what counts as blank text (invisible characters only).
//! - [`timestamp`]: reading the RFC 3339 timestamps of the wire.
//! - [`mention`]: finding `@name` mentions in text.
//! - [`search`]: what a search query means, and the snippets of its results.
//! - `tag_first`: how a page reads a [`ServerEvent`] without first buffering the whole frame.
//!
//! The exact JSON of every variant is pinned by the golden tests in `tests/golden.rs`: changing a
//! shape there is a protocol change and must bump [`PROTOCOL_VERSION`].

pub mod command;
pub mod dto;
pub mod encoded;
pub mod event;
pub mod ids;
pub mod limits;
pub mod mention;
pub mod notice;
pub mod search;
mod tag_first;
pub mod text;
pub mod timestamp;

pub use command::ClientCommand;
pub use dto::{
    AdminUserView, ChatMessage, Member, NotifyLevel, ReadState, RoomInfo, RoomKind, UserSummary,
};
pub use encoded::Encoded;
pub use event::{ErrorCode, LeftReason, ServerEvent};
pub use ids::{MessageId, RequestId, RoomId, UserId};
pub use limits::{
    HISTORY_PAGE, MAX_ADDED_MEMBERS, MAX_DIRECT_MEMBERS, MAX_FRAME_BYTES, MAX_MESSAGE_CHARS,
    MAX_NONCE_CHARS, MAX_PASSWORD_CHARS, MAX_SEARCH_CHARS, MAX_SEARCH_WORDS, MAX_TITLE_CHARS,
    MAX_USER_QUERY_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS, QUIET_ROOM_MEMBERS, SEARCH_PAGE,
    TYPING_EVERY_MS, TYPING_SHOWN_MS, USER_SEARCH_RESULTS,
};
pub use notice::Notice;
pub use search::{Fragment, SearchHit};

/// Version of the wire format, sent in [`ServerEvent::Hello`]. A client that sees a version it
/// does not know reloads the page to fetch matching code.
pub const PROTOCOL_VERSION: u32 = 7;
