//! The chat client: what the browser knows of rooms and messages, and how it stays current.
//!
//! # Layout
//!
//! - [`state`]: [`state::ChatState`] and its reducer, [`state::ChatState::apply`], which folds
//!   each [`protocol::ServerEvent`] into it, combining three concerns kept beside it:
//!   - [`timeline`]: a joined room and its messages in seq order, notices, holes;
//!   - [`outbox`]: messages typed and not yet confirmed, sent in order with their nonces;
//!   - [`sync`]: request ids, the pages of older messages, hole fills;
//!   - [`reading`]: the read position, unread and mention counts, read marks;
//!   - [`typing`]: who is typing where, until when;
//!   - [`search`]: the message search the results panel shows;
//!   - [`jump`]: a message opened in place (a search result, a permalink).
//!
//!   Plain Rust, unit-tested natively.
//! - `attention`: whether the user is looking, and browser notifications when they are not.
//! - `connection` (browser only): the WebSocket, reconnecting with jittered exponential
//!   backoff, feeding events to the reducer and commands to the server.
//! - [`saved_outbox`]: the outbox kept in the tab's `sessionStorage`, so a reload loses no
//!   unsent message.
//! - `handle`: the page's state and socket, which the chat components take from context.
//! - [`view`]: the chat page — the sidebar and the pane around the open room or a panel.
//! - `sidebar`: the user's rooms, rooms to join, and direct conversations; a drawer on phones.
//! - `panels`: browsing rooms, creating one, starting a direct conversation, and a room's
//!   members with its managers' settings.
//! - `composer`: the message field, with `@` completion from the room's members.
//! - `message_body`: a message's text with its mentions highlighted and linked.
//! - `notify_control`: a room's notification level and the browser's permission.
//! - `presence_dot`: the online dot beside a name.
//! - `open_room`: the open room — its timeline (paging back on scroll, staying pinned to the
//!   newest message), message actions, the outbox and the composer.
//! - `search_box`: the search field above the pane (`/` or Ctrl+K), with its room menu.
//! - `links`: a message's address, and which clicks on a link the page handles itself.
//! - `search_results`: the results panel, and the "not available" page of a message that
//!   cannot be opened.
//! - [`time`]: timestamps and day headings in the viewer's time zone.
//!
//! Data flows one way: socket → `apply` → a signal → the view; user actions → a command on the
//! socket → (server) → events back through `apply`. The view never edits the state's room or
//! message data itself.

mod attention;
mod composer;
#[cfg(feature = "hydrate")]
mod connection;
#[cfg(test)]
mod fixtures;
mod handle;
pub mod jump;
mod links;
mod message_body;
mod notify_control;
mod open_room;
pub mod outbox;
mod panels;
mod presence_dot;
pub mod reading;
pub mod saved_outbox;
pub mod search;
mod search_box;
mod search_results;
mod sidebar;
pub mod state;
pub mod sync;
pub mod time;
pub mod timeline;
pub mod typing;
pub mod view;
