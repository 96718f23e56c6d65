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
//!
//! The exact JSON of every variant is pinned by the golden tests in `tests/golden.rs`: changing a
//! shape there is a protocol change and must bump [`PROTOCOL_VERSION`].

pub mod command;
pub mod dto;
pub mod event;
pub mod ids;

pub use command::ClientCommand;
pub use dto::{AdminUserView, ChatMessage, Member, RoomInfo, UserSummary};
pub use event::{ErrorCode, LeftReason, ServerEvent};
pub use ids::{MessageId, RequestId, RoomId, UserId};

/// Version of the wire format, sent in [`ServerEvent::Hello`]. A client that sees a version it
/// does not know reloads the page to fetch matching code.
pub const PROTOCOL_VERSION: u32 = 3;

/// Messages per history page, and how many `joined` carries.
pub const HISTORY_PAGE: usize = 50;

/// Longest `send` nonce, in characters.
pub const MAX_NONCE_CHARS: usize = 64;

/// Longest message body, in characters (Unicode scalar values).
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// Largest WebSocket message (and frame) either side accepts, in bytes: room for the longest
/// message body even if every character is escaped (`\uXXXX`). The server closes a
/// socket that sends more with close code 1009 ("message too big").
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
