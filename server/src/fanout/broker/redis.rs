//! Fan-out between nodes over Redis pub/sub (`REDIS_URL`).
//!
//! Every envelope is applied to this node's hub at once — local sockets never wait for Redis —
//! and handed to a publisher task that sends it, tagged with this node's id, on the channel of
//! its audience: `{prefix}:room:{id}`, `{prefix}:user:{id}` or `{prefix}:all`. Each node has one
//! publisher connection and one subscriber connection. The subscriber listens to `all` always,
//! to a room's channel while the room has a member here, and to a user's channel while the user
//! has a socket here. A socket's channels are subscribed before it reads its rooms' latest
//! messages ([`Broker::listen`]); channels nobody here needs any more are dropped by a sweep a
//! few seconds later rather than at once, so a socket about to join a room is never
//! unsubscribed in the instant before the hub knows it.
//!
//! Redis pub/sub delivers at most once, and the database is the truth. After the subscriber
//! reconnects, this node may have missed envelopes: its sockets are closed with 1012 and their
//! clients reconnect and catch up from the database. After the publisher lost envelopes (Redis
//! unreachable, or its queue full), it tells every node to do the same once Redis is back.

use super::Broker;
use crate::fanout::envelope::{Audience, Control, Envelope, Frame};
use crate::fanout::hub::Hub;
use fred::clients::{Client, SubscriberClient};
use fred::interfaces::{ClientLike, EventInterface, PubsubInterface};
use fred::prelude::{Builder, Config, ReconnectPolicy};
use prometheus_client::metrics::counter::Counter;
use protocol::{RoomId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often channels nobody here needs are unsubscribed (and missing ones subscribed).
const SWEEP: Duration = Duration::from_secs(5);
/// Envelopes waiting for the publisher connection; past this they are dropped (and every node
/// resyncs once Redis is back).
const PUBLISH_QUEUE: usize = 16_384;
/// How long one command may take: a publish then counts as lost, and a subscribe is left to
/// the sweep, so that while Redis is down neither a publish nor a socket opening waits for it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages the subscriber buffers between its connection and the task applying them (fred's
/// default is 32). Falling further behind than this means resyncing every socket here.
const RECEIVE_BUFFER: usize = 1 << 16;

/// An envelope as it crosses Redis.
#[derive(Serialize, Deserialize)]
struct Wire {
    /// The node that published it, which has applied it already.
    node: u64,
    control: Option<Control>,
    audience: Audience,
    frame: Option<String>,
    #[serde(default)]
    droppable: bool,
}

/// Channel names of one deployment.
#[derive(Clone)]
struct Channels {
    prefix: String,
}

impl Channels {
    fn all(&self) -> String {
        format!("{}:all", self.prefix)
    }

    fn room(&self, room: RoomId) -> String {
        format!("{}:room:{room}", self.prefix)
    }

    fn user(&self, user: UserId) -> String {
        format!("{}:user:{user}", self.prefix)
    }

    fn of(&self, audience: &Audience) -> String {
        match audience {
            Audience::Room(room) => self.room(*room),
            Audience::Fellows { rooms, .. } if rooms.len() == 1 => self.room(rooms[0]),
            Audience::User(user) => self.user(*user),
            Audience::Everyone | Audience::Listing { .. } | Audience::Fellows { .. } => self.all(),
        }
    }
}

pub struct RedisBroker {
    node: u64,
    hub: Arc<Hub>,
    channels: Channels,
    publisher: Client,
    subscriber: SubscriberClient,
    outbox: mpsc::Sender<Wire>,
    /// Channels asked for recently, which the sweep leaves alone.
    listened: Arc<Mutex<HashMap<String, Instant>>>,
    /// Some envelope never reached Redis.
    lost: Arc<AtomicBool>,
}

impl RedisBroker {
    /// Connects both connections (failing if Redis cannot be reached now) and starts the
    /// subscriber, publisher and sweep tasks.
    pub async fn start(url: &str, prefix: &str, hub: Arc<Hub>) -> anyhow::Result<RedisBroker> {
        let config = Config::from_url(url)?;
        // Reconnect forever, quickly at first, at most every 2 s.
        let policy = ReconnectPolicy::new_exponential(0, 100, 2_000, 2);
        let publisher = Builder::from_config(config.clone())
            .set_policy(policy.clone())
            .with_performance_config(|perf| perf.default_command_timeout = COMMAND_TIMEOUT)
            .build()?;
        let subscriber = Builder::from_config(config)
            .set_policy(policy)
            .with_performance_config(|perf| {
                perf.broadcast_channel_capacity = RECEIVE_BUFFER;
                perf.default_command_timeout = COMMAND_TIMEOUT;
            })
            .build_subscriber_client()?;
        publisher.init().await?;
        subscriber.init().await?;
        subscriber.manage_subscriptions();
        let channels = Channels {
            prefix: prefix.to_owned(),
        };
        subscriber.subscribe(channels.all()).await?;

        let (outbox, queue) = mpsc::channel(PUBLISH_QUEUE);
        let broker = RedisBroker {
            node: getrandom::u64()?,
            hub,
            channels,
            publisher,
            subscriber,
            outbox,
            listened: Arc::default(),
            lost: Arc::default(),
        };
        broker.spawn_tasks(queue);
        tracing::info!(prefix, "fan-out over Redis");
        Ok(broker)
    }

    fn spawn_tasks(&self, queue: mpsc::Receiver<Wire>) {
        tokio::spawn(receive(
            self.subscriber.clone(),
            Arc::clone(&self.hub),
            self.node,
            self.channels.clone(),
            Arc::clone(&self.listened),
        ));
        tokio::spawn(publish_queued(
            self.publisher.clone(),
            queue,
            self.channels.clone(),
            Arc::clone(&self.lost),
            self.hub.metrics().broker_publish_failures.clone(),
        ));
        tokio::spawn(sweep(
            self.subscriber.clone(),
            Arc::clone(&self.hub),
            self.channels.clone(),
            Arc::clone(&self.listened),
        ));
        // Subscriber back: what was published meanwhile never reached this node.
        let (subscriber, hub) = (self.subscriber.clone(), Arc::clone(&self.hub));
        tokio::spawn(async move {
            let mut reconnects = subscriber.reconnect_rx();
            while reconnects.recv().await.is_ok() {
                tracing::warn!("Redis subscriber reconnected: resyncing this node's sockets");
                hub.resync_all();
            }
        });
        // Publisher back after losing envelopes: every node resyncs.
        let (publisher, outbox, lost, node, failures) = (
            self.publisher.clone(),
            self.outbox.clone(),
            Arc::clone(&self.lost),
            self.node,
            self.hub.metrics().broker_publish_failures.clone(),
        );
        tokio::spawn(async move {
            let mut reconnects = publisher.reconnect_rx();
            while reconnects.recv().await.is_ok() {
                if lost.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        "Redis publisher reconnected after losing events: resyncing every node"
                    );
                    let queued = outbox.try_send(Wire {
                        node,
                        control: Some(Control::Resync),
                        audience: Audience::Everyone,
                        frame: None,
                        droppable: false,
                    });
                    if queued.is_err() {
                        failures.inc();
                    }
                }
            }
        });
        for mut errors in [self.publisher.error_rx(), self.subscriber.error_rx()] {
            tokio::spawn(async move {
                while let Ok((error, server)) = errors.recv().await {
                    tracing::warn!(%error, ?server, "Redis connection error");
                }
            });
        }
    }
}

/// Subscribes to `wanted` for a socket that needs it now, and keeps the sweep off these
/// channels for one sweep period.
async fn listen_to(
    subscriber: &SubscriberClient,
    listened: &Mutex<HashMap<String, Instant>>,
    wanted: Vec<String>,
) {
    {
        let now = Instant::now();
        let mut listened = listened.lock().unwrap_or_else(|poison| poison.into_inner());
        for channel in &wanted {
            listened.insert(channel.clone(), now);
        }
    }
    subscribe_missing(subscriber, wanted).await;
}

/// Subscribes to those of `wanted` not subscribed yet.
async fn subscribe_missing(subscriber: &SubscriberClient, wanted: Vec<String>) {
    let tracked = subscriber.tracked_channels();
    let missing: Vec<String> = wanted
        .into_iter()
        .filter(|channel| !tracked.iter().any(|known| &**known == channel))
        .collect();
    if missing.is_empty() {
        return;
    }
    if let Err(err) = subscriber.subscribe(missing).await {
        // The sweep tries again; and once Redis is back every socket here resyncs anyway.
        tracing::warn!(%err, "Redis subscribe failed");
    }
}

#[async_trait::async_trait]
impl Broker for RedisBroker {
    async fn publish(&self, envelope: Envelope) {
        self.hub.apply(&envelope);
        if let Some(Control::Join { user, room }) = &envelope.control
            && self.hub.is_member(*user, room.id)
        {
            listen_to(
                &self.subscriber,
                &self.listened,
                vec![self.channels.room(room.id)],
            )
            .await;
        }
        let wire = Wire {
            node: self.node,
            control: envelope.control,
            audience: envelope.audience,
            frame: envelope.frame.map(|frame| frame.as_str().to_owned()),
            droppable: envelope.droppable,
        };
        if self.outbox.try_send(wire).is_err() {
            self.lost.store(true, Ordering::Relaxed);
            self.hub.metrics().broker_publish_failures.inc();
            tracing::warn!("Redis publish queue full: an event reaches this node only");
        }
    }

    async fn listen(&self, user: UserId, rooms: &[RoomId]) {
        let mut wanted = vec![self.channels.user(user)];
        wanted.extend(rooms.iter().map(|room| self.channels.room(*room)));
        listen_to(&self.subscriber, &self.listened, wanted).await;
    }

    fn unavailable(&self) -> Option<&'static str> {
        (!self.publisher.is_connected() || !self.subscriber.is_connected())
            .then_some("Redis unreachable: fan-out to other nodes is paused")
    }
}

/// Sends queued envelopes, one at a time so that one node's events keep their order.
async fn publish_queued(
    publisher: Client,
    mut queue: mpsc::Receiver<Wire>,
    channels: Channels,
    lost: Arc<AtomicBool>,
    failures: Counter,
) {
    while let Some(wire) = queue.recv().await {
        // Presence notes go to every node, whoever they are news for: each node's record of
        // who is online elsewhere must hear them.
        let channel = if matches!(wire.control, Some(Control::Presence { .. })) {
            channels.all()
        } else {
            channels.of(&wire.audience)
        };
        let Ok(payload) = serde_json::to_string(&wire) else {
            continue;
        };
        let sent: Result<i64, _> = publisher.publish(channel, payload).await;
        if let Err(err) = sent {
            lost.store(true, Ordering::Relaxed);
            failures.inc();
            tracing::warn!(%err, "Redis publish failed: an event reached this node only");
        }
    }
}

/// Applies what other nodes publish.
async fn receive(
    subscriber: SubscriberClient,
    hub: Arc<Hub>,
    node: u64,
    channels: Channels,
    listened: Arc<Mutex<HashMap<String, Instant>>>,
) {
    let mut messages = subscriber.message_rx();
    loop {
        let message = match messages.recv().await {
            Ok(message) => message,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(skipped)) => {
                tracing::warn!(skipped, "fell behind Redis: resyncing this node's sockets");
                hub.resync_all();
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        let Some(text) = message.value.as_str() else {
            continue;
        };
        let wire: Wire = match serde_json::from_str(&text) {
            Ok(wire) => wire,
            Err(err) => {
                tracing::warn!(%err, channel = %message.channel, "unreadable Redis message");
                continue;
            }
        };
        if wire.node == node {
            continue;
        }
        let envelope = Envelope {
            control: wire.control,
            audience: wire.audience,
            frame: wire.frame.map(Frame::from),
            droppable: wire.droppable,
        };
        hub.apply(&envelope);
        // A user with a socket here joined a room on another node: hear that room too (in the
        // background: this loop must keep up with Redis).
        if let Some(Control::Join { user, room }) = &envelope.control
            && hub.is_member(*user, room.id)
        {
            let (subscriber, listened) = (subscriber.clone(), Arc::clone(&listened));
            let channel = channels.room(room.id);
            tokio::spawn(async move {
                listen_to(&subscriber, &listened, vec![channel]).await;
            });
        }
    }
}

/// Every [`SWEEP`]: subscribes what this node needs and is missing, unsubscribes what it no
/// longer needs (unless asked for within the last sweep).
async fn sweep(
    subscriber: SubscriberClient,
    hub: Arc<Hub>,
    channels: Channels,
    listened: Arc<Mutex<HashMap<String, Instant>>>,
) {
    let mut ticks = tokio::time::interval(SWEEP);
    loop {
        ticks.tick().await;
        let (rooms, users) = hub.interest();
        let wanted: HashSet<String> = std::iter::once(channels.all())
            .chain(rooms.into_iter().map(|room| channels.room(room)))
            .chain(users.into_iter().map(|user| channels.user(user)))
            .collect();
        let stale: Vec<String> = {
            let mut listened = listened.lock().unwrap_or_else(|poison| poison.into_inner());
            listened.retain(|_, at| at.elapsed() < SWEEP);
            subscriber
                .tracked_channels()
                .into_iter()
                .map(|channel| channel.to_string())
                .filter(|channel| !wanted.contains(channel) && !listened.contains_key(channel))
                .collect()
        };
        if !stale.is_empty()
            && let Err(err) = subscriber.unsubscribe(stale).await
        {
            tracing::warn!(%err, "Redis unsubscribe failed");
        }
        subscribe_missing(&subscriber, wanted.into_iter().collect()).await;
    }
}
