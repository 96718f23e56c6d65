//! Carries [`Envelope`]s to the hub of every node, this one included.
//!
//! Everything that must reach sockets goes through [`Broker::publish`]: chat messages, member
//! notices, room-list changes, and the membership changes
//! ([`Control`](super::envelope::Control)) that keep each node's hub current. With one node the
//! in-process [`local::LocalBroker`] hands envelopes straight to the hub; with `REDIS_URL` set,
//! [`redis::RedisBroker`] applies them here and carries them to every other node over Redis
//! pub/sub.

pub mod local;
pub mod redis;

use super::envelope::Envelope;
use protocol::{RoomId, UserId};

/// Delivers envelopes to every node's hub.
#[async_trait::async_trait]
pub trait Broker: Send + Sync + 'static {
    async fn publish(&self, envelope: Envelope);

    /// Makes sure this node hears what is published to the user and to the rooms from now on.
    /// Called before a socket reads its rooms' latest messages, so that nothing posted in
    /// between is heard by nobody.
    async fn listen(&self, _user: UserId, _rooms: &[RoomId]) {}

    /// Why this node cannot currently fan out to the others, if it cannot.
    fn unavailable(&self) -> Option<&'static str> {
        None
    }
}
