//! Delivery: getting an event's bytes to every socket that may have them, on every node.
//!
//! # Layout
//!
//! - [`envelope`]: what travels — a frame serialized once, its audience, and the membership
//!   change each node applies first.
//! - [`hub`]: this node's sockets and their rooms; queues frames without ever waiting.
//! - [`broker`]: carries envelopes to every node's hub: in process with one node
//!   ([`broker::local`]), over Redis pub/sub with several ([`broker::redis`]).
//!
//! Dependencies point one way: `broker` → `hub` → `envelope`. Who may receive what is not
//! decided here: the hub asks [`crate::chat::access`].

pub mod broker;
pub mod envelope;
pub mod hub;
