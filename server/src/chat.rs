//! The domain: what users may do in rooms, and what happens when they do. It sits between the
//! transports (`ws`, the HTTP form handlers in `auth` and `admin`) and storage (`db`) and
//! delivery (`fanout`): transports parse and answer, this decides and tells.
//!
//! # Layout
//!
//! - [`access`]: the one access policy, `decide(viewer, room kind, membership, action)`.
//! - [`membership`]: joining, a room's kind changing, a user's roles changing, and keeping each
//!   node's hub in step with the database (the socket's open hook lives here too).
//! - [`connection`]: a socket's open and close hooks (registration, standing, greeting).
//! - [`events`]: one function per happening (message posted, room renamed, …) → envelopes for
//!   the broker.
//! - [`limits`]: per-user rate limits on socket commands.

pub mod access;
pub mod connection;
pub mod events;
pub mod limits;
pub mod membership;
