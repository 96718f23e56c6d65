//! The domain: what users may do in rooms, and what happens when they do. It sits between the
//! transports (`ws`, the HTTP form handlers in `auth` and `admin`) and storage (`db`) and
//! delivery (`fanout`): transports parse and answer, this decides and tells.
//!
//! # Layout
//!
//! - [`access`]: the one access policy, `decide(viewer, room kind, membership, action)`.
//! - [`membership`]: joining and leaving, a room's kind changing, a user's roles changing, and
//!   keeping each node's hub in step with the database.
//! - [`conversations`]: rooms users create, direct conversations opened on demand, and what
//!   a room's managers change (title, kind, members, deletion) — from a socket or the admin
//!   area alike.
//! - [`connection`]: a socket's open and close hooks (registration, standing, greeting).
//! - [`facts`]: a stored user and room as the policy's viewer and room kind.
//! - [`events`]: one function per happening (message posted, room renamed, …) → envelopes for
//!   the broker.
//! - [`messages`]: posting, editing, deleting and reading messages (the socket's commands).
//! - [`reading`]: read positions, notification levels and the last open room, pushed to
//!   every tab of the user.
//! - [`refusal`]: a command refused (error code and text), and the policy asked with facts
//!   read fresh from the database.
//! - [`search`]: finding the messages a user may read by their text.
//! - [`typing`]: "is typing" notices, passed on to the room and never stored.
//! - [`presence`]: who is online on any node, and telling those who share a room.
//! - [`limits`]: per-user rate limits on socket commands.
//! - [`shared_reads`]: reads that callers asking at once share, one query for all their keys (a
//!   session's user, public rooms, a room's members and latest messages, a user's rooms and read
//!   positions).

pub mod access;
pub mod connection;
pub mod conversations;
pub mod events;
pub mod facts;
pub mod limits;
pub mod membership;
pub mod messages;
pub mod presence;
pub mod reading;
pub mod refusal;
pub mod search;
pub mod shared_reads;
pub mod typing;
