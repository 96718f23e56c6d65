//! The chat client: what the browser knows of rooms and messages, and how it stays current.
//!
//! # Layout
//!
//! - [`state`]: [`state::ChatState`] and its reducer, [`state::ChatState::apply`], which folds
//!   each [`protocol::ServerEvent`] into it. Plain Rust, unit-tested natively.
//! - `connection` (browser only): the WebSocket, reconnecting with jittered exponential
//!   backoff, feeding events to the reducer and commands to the server.
//! - [`view`]: the chat page — the room list and the pane around the open room.
//! - `open_room`: the open room — its timeline (paging back on scroll, staying pinned to the
//!   newest message), message actions, the outbox and the composer.
//! - [`saved_outbox`]: the outbox kept in the tab's `sessionStorage`, so a reload loses no
//!   unsent message.
//! - [`time`]: timestamps and day headings in the viewer's time zone.
//!
//! Data flows one way: socket → `apply` → a signal → the view; user actions → a command on the
//! socket → (server) → events back through `apply`. The view never edits the state's room or
//! message data itself.

#[cfg(feature = "hydrate")]
mod connection;
mod open_room;
pub mod saved_outbox;
pub mod state;
pub mod time;
pub mod view;
