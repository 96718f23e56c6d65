//! Who is online: a user with a socket open on any node. Each node knows its own sockets (the
//! hub); with `REDIS_URL`, each node also keeps its online users in Redis under its own key
//! with a short time to live, refreshed by a heartbeat. A node that dies stops refreshing; its
//! key expires, and every other node's next look finds its users gone and tells its own
//! sockets they went offline. No zombies, without any node having to notice a death.
//!
//! A user's first socket anywhere makes them online, their last one closing offline; either is
//! told only to those who share a room with them (`Audience::Fellows`), as passing news
//! (dropped, not queued, for a socket that is behind).

use crate::db::rooms;
use crate::fanout::envelope::{Audience, Envelope};
use crate::fanout::hub::Hub;
use fred::clients::Client;
use fred::interfaces::{ClientLike, KeysInterface, SetsInterface, TransactionInterface};
use fred::prelude::{Builder, Config, ReconnectPolicy};
use protocol::{Member, RoomId, ServerEvent, UserId};
use sea_orm::DatabaseConnection;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// Who is online, as this node knows it.
pub struct Presence {
    hub: Arc<Hub>,
    /// Users with a socket on another node: as last read from Redis, plus the notes published
    /// since (always empty without Redis).
    elsewhere: RwLock<HashSet<UserId>>,
    registry: Option<Registry>,
}

/// This node's entry in Redis, and how to read the others'.
struct Registry {
    client: Client,
    /// `{prefix}:presence:`; each node's set is this plus its id, and the set of node ids is
    /// this plus `nodes`.
    prefix: String,
    /// This node's id among the nodes (random).
    node: String,
    /// How long a node's entry outlives its last heartbeat.
    ttl: Duration,
    /// Set by a test to act out this node dying: its heartbeat stops.
    halted: AtomicBool,
}

impl Registry {
    fn key(&self, node: &str) -> String {
        format!("{}{node}", self.prefix)
    }

    fn nodes_key(&self) -> String {
        format!("{}nodes", self.prefix)
    }

    /// Adds users to this node's entry, gives it a new time to live, and lists the node. (A
    /// node with nobody on it has no entry: Redis keeps no empty sets. An entry made without a
    /// time to live would outlive the node.)
    async fn add(&self, users: Vec<i64>) -> Result<(), fred::error::Error> {
        let key = self.key(&self.node);
        let transaction = self.client.multi();
        if !users.is_empty() {
            let _: () = transaction.sadd(&key, users).await?;
        }
        let _: () = transaction.expire(&key, self.ttl_seconds(), None).await?;
        let _: () = transaction
            .sadd(self.nodes_key(), self.node.as_str())
            .await?;
        let _: () = transaction.exec(true).await?;
        Ok(())
    }

    /// Brings this node's entry in line with its hub (after a missed `add` or `remove`, or a
    /// Redis restart) and refreshes its time to live. The hub is read after the entry, so a
    /// socket opening or closing meanwhile can leave the entry wrong about that one user until
    /// the next heartbeat, never longer.
    async fn heartbeat(&self, hub: &Hub) -> Result<(), fred::error::Error> {
        let key = self.key(&self.node);
        let stored: HashSet<i64> = self.client.smembers(&key).await?;
        let (_, local) = hub.interest();
        let local: HashSet<i64> = local.iter().map(|user| user.0).collect();
        let stale: Vec<i64> = stored.difference(&local).copied().collect();
        if !stale.is_empty() {
            let _: () = self.client.srem(&key, stale).await?;
        }
        self.add(local.difference(&stored).copied().collect()).await
    }

    fn ttl_seconds(&self) -> i64 {
        i64::try_from(self.ttl.as_secs().max(1)).unwrap_or(60)
    }

    /// Whether `user` is in another node's entry now.
    async fn elsewhere_now(&self, user: UserId) -> Result<bool, fred::error::Error> {
        let nodes: Vec<String> = self.client.smembers(self.nodes_key()).await?;
        for node in nodes.into_iter().filter(|node| *node != self.node) {
            let there: bool = self.client.sismember(self.key(&node), user.0).await?;
            if there {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every user online on another node now; forgets nodes whose entry expired.
    async fn others(&self) -> Result<HashSet<UserId>, fred::error::Error> {
        let nodes: Vec<String> = self.client.smembers(self.nodes_key()).await?;
        let mut online = HashSet::new();
        for node in nodes.into_iter().filter(|node| *node != self.node) {
            let key = self.key(&node);
            let alive: bool = self.client.exists(&key).await?;
            if !alive {
                let _: () = self.client.srem(self.nodes_key(), node).await?;
                continue;
            }
            let users: Vec<i64> = self.client.smembers(&key).await?;
            online.extend(users.into_iter().map(UserId));
        }
        Ok(online)
    }
}

impl Presence {
    /// Presence for this node alone (no Redis).
    pub fn local(hub: Arc<Hub>) -> Presence {
        Presence {
            hub,
            elsewhere: RwLock::default(),
            registry: None,
        }
    }

    /// Presence shared through Redis at `url`; entries live `ttl` past their last heartbeat.
    pub async fn shared(
        hub: Arc<Hub>,
        url: &str,
        prefix: &str,
        ttl: Duration,
    ) -> anyhow::Result<Presence> {
        let config = Config::from_url(url)?;
        let client = Builder::from_config(config)
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
            .with_performance_config(|perf| perf.default_command_timeout = Duration::from_secs(2))
            .build()?;
        client.init().await?;
        Ok(Presence {
            hub,
            elsewhere: RwLock::default(),
            registry: Some(Registry {
                client,
                prefix: format!("{prefix}:presence:"),
                node: format!("{:016x}", getrandom::u64()?),
                ttl,
                halted: AtomicBool::new(false),
            }),
        })
    }

    /// Follows the presence changes every node publishes (`notes`, from the hub), so that a
    /// user who came online on another node since this node's last look still goes offline
    /// here when that node dies.
    pub fn follow(self: &Arc<Self>, mut notes: mpsc::UnboundedReceiver<(UserId, bool)>) {
        let presence = Arc::clone(self);
        tokio::spawn(async move {
            while let Some((user, online)) = notes.recv().await {
                // One node: the hub is the whole truth, and there is no "elsewhere".
                if presence.registry.is_none() {
                    continue;
                }
                let here = presence.hub.sockets_of(user) > 0;
                {
                    let mut elsewhere = presence
                        .elsewhere
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if online && !here {
                        elsewhere.insert(user);
                    } else if !online {
                        elsewhere.remove(&user);
                    }
                }
                // An offline from another node that overtook this node's online (a reload
                // that moved the tab between nodes): this node's sockets hear the truth again.
                if !online && here {
                    let rooms = presence.hub.rooms_of(user);
                    tell_here(&presence.hub, user, rooms, true);
                }
            }
        });
    }

    /// Whether `user` has a socket open on any node, as far as this node knows.
    pub fn is_online(&self, user: UserId) -> bool {
        self.hub.sockets_of(user) > 0
            || self
                .elsewhere
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .contains(&user)
    }

    /// Which of a room's `members` are online (as `joined` says).
    pub fn online_members(&self, members: &[Member]) -> Vec<UserId> {
        self.online_among(members.iter().map(|member| member.id))
    }

    /// Those of `users` who are online.
    pub fn online_among(&self, users: impl IntoIterator<Item = UserId>) -> Vec<UserId> {
        let mut online: Vec<UserId> = users
            .into_iter()
            .filter(|user| self.is_online(*user))
            .collect();
        online.sort_unstable();
        online.dedup();
        online
    }

    /// A test's stand-in for this node dying: it stops refreshing its entry (its sockets
    /// stay, as a hung process's would).
    pub fn halt_heartbeat(&self) {
        if let Some(registry) = &self.registry {
            registry.halted.store(true, Ordering::Relaxed);
        }
    }

    /// Refreshes this node's entry and reads the others', telling this node's sockets of
    /// every user who came or went elsewhere unnoticed (a node died, a notice was dropped).
    /// Run every third of the time to live.
    pub async fn beat(&self, db: &DatabaseConnection) {
        let Some(registry) = &self.registry else {
            return;
        };
        if registry.halted.load(Ordering::Relaxed) {
            return;
        }
        if let Err(err) = registry.heartbeat(&self.hub).await {
            tracing::warn!(%err, "presence heartbeat failed");
            return;
        }
        let others = match registry.others().await {
            Ok(others) => others,
            Err(err) => {
                tracing::warn!(%err, "reading presence failed");
                return;
            }
        };
        let changed: Vec<(UserId, bool)> = {
            let mut elsewhere = self
                .elsewhere
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let gone = elsewhere.difference(&others).map(|user| (*user, false));
            let came = others.difference(&elsewhere).map(|user| (*user, true));
            let changed = gone.chain(came).collect();
            *elsewhere = others;
            changed
        };
        // Online here too: nothing changed for anyone.
        let changed: Vec<(UserId, bool)> = changed
            .into_iter()
            .filter(|(user, _)| self.hub.sockets_of(*user) == 0)
            .collect();
        if changed.is_empty() {
            return;
        }
        let users: Vec<UserId> = changed.iter().map(|(user, _)| *user).collect();
        let memberships = match rooms::room_ids_of_each(db, &users).await {
            Ok(memberships) => memberships,
            Err(err) => {
                tracing::warn!(%err, "could not read users' rooms for presence");
                return;
            }
        };
        // Told to this node's sockets only: every node finds the same change itself.
        for (user, online) in changed {
            let rooms = memberships
                .iter()
                .filter(|(member, _)| *member == user)
                .map(|(_, room)| *room)
                .collect();
            tell_here(&self.hub, user, rooms, online);
        }
    }

    /// Whether `user` is online on another node right now (asked of Redis, not the last
    /// look): a last socket closing here must not announce someone offline who is not.
    async fn online_elsewhere_now(&self, user: UserId) -> bool {
        let Some(registry) = &self.registry else {
            return false;
        };
        match registry.elsewhere_now(user).await {
            Ok(there) => there,
            Err(_) => self
                .elsewhere
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .contains(&user),
        }
    }

    /// Removes this node's entry (it is stopping: its users are gone from here at once).
    pub async fn leave(&self) {
        if let Some(registry) = &self.registry {
            registry.halted.store(true, Ordering::Relaxed);
            let _: Result<(), _> = registry.client.del(registry.key(&registry.node)).await;
        }
    }

    /// `user`'s first socket on this node has opened: notes them online here (in Redis, when
    /// nodes share presence; the hub alone knows it otherwise). Whoever opened it then tells
    /// everyone sharing a room with them (`events::presence`). If they were online on another
    /// node already, that is said twice; news is idempotent, and a look at Redis here would cost
    /// every connect.
    pub async fn first_socket_opened(&self, user: UserId) {
        if let Some(registry) = &self.registry
            && !registry.halted.load(Ordering::Relaxed)
            && let Err(err) = registry.add(vec![user.0]).await
        {
            tracing::warn!(%err, "could not note a user online");
        }
    }

    /// `user`'s last socket on this node has closed: notes them gone from here, and answers
    /// whether to announce them offline (no socket on another node either; never while this
    /// node is stopping). Whoever closed it then tells everyone sharing a room with them.
    pub async fn last_socket_closed(&self, user: UserId) -> bool {
        // A node stopping removes its whole entry: the other nodes' next look tells who is gone
        // (and not those who reconnected elsewhere meanwhile), instead of a storm of notices.
        if self.hub.is_shut() {
            return false;
        }
        if let Some(registry) = &self.registry
            && !registry.halted.load(Ordering::Relaxed)
        {
            let _: Result<(), _> = registry
                .client
                .srem(registry.key(&registry.node), user.0)
                .await;
        }
        !self.online_elsewhere_now(user).await
    }
}

/// `user` came online or went offline, as news for those who share a room with them (`rooms`,
/// theirs), if they have room for it.
pub fn news(user: UserId, rooms: Vec<RoomId>, online: bool) -> Envelope {
    let audience = Audience::Fellows {
        rooms,
        except: user,
    };
    let event = ServerEvent::Presence {
        user_id: user,
        online,
    };
    Envelope::passing(audience, &event)
}

/// Tells this node's sockets (only) that `user` came or went.
fn tell_here(hub: &Hub, user: UserId, rooms: Vec<RoomId>, online: bool) {
    hub.apply(&news(user, rooms, online));
}
