//! Reads that many callers asking at once share: one read answers all who asked before it
//! began, whatever key each asked about.
//!
//! When thousands of sockets open at once (a server restart, a network blip), every greeting
//! reads the same list of public rooms, the members and latest messages of the same rooms, and
//! for each user their session, rooms and read positions. Every query is two thread hand-offs
//! through sqlx's SQLite worker plus the decoding of every row, and sqlx pings the connection
//! again when it goes back to the pool; so a storm of greetings spent most of its time on
//! queries of a row or two each (`BENCHMARKS.md`, "connect storm"). Here the callers that ask
//! while a read of one kind runs are answered together by the next: one query for up to
//! [`MAX_KEYS`] of their keys.
//! Whoever else asks for these reads (the gate on every request, joins, the standing re-read
//! after a change) shares them the same way.
//!
//! A shared read is never staler than a read of one's own. A caller joins only a read that has
//! not begun yet; while one runs, the next callers wait for the following one, which begins
//! when it ends. So the answer a caller gets was read after it asked: a socket registered with
//! the hub before asking either sees a change in the answer or hears of it live, exactly as with
//! its own query. Unloaded, a read begins at once, alone.

use crate::db::keys::MAX_KEYS;
use crate::db::rooms::{self, Room};
use crate::db::users::User;
use crate::db::{messages, read_state, sessions};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use protocol::{ChatMessage, Encoded, Member, ReadState, RoomId, RoomInfo, UserId};
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// The reads this node shares, each with the query it shares.
#[derive(Default)]
pub struct Reads {
    public_rooms: SharedReads<(), Encoded<Vec<RoomInfo>>>,
    snapshots: SharedReads<RoomId, (Vec<Member>, Vec<ChatMessage>)>,
    users_by_session: SharedReads<String, User>,
    rooms_of: SharedReads<UserId, Vec<Room>>,
    read_states: SharedReads<UserId, Vec<ReadState>>,
}

impl Reads {
    /// Every room listed to everyone (open and staff-only ones, `db::rooms::public`), by title,
    /// encoded once for all the greetings that share the read.
    pub async fn public_rooms(
        &self,
        db: &DatabaseConnection,
    ) -> Result<Encoded<Vec<RoomInfo>>, DbErr> {
        let db = db.clone();
        let read = |_: Vec<()>| async move {
            let public = rooms::public(&db).await?;
            let encoded = Encoded::encode(&public).map_err(|err| {
                DbErr::Custom(format!("could not encode the public rooms: {err}"))
            })?;
            Ok::<_, DbErr>(HashMap::from([((), encoded)]))
        };
        let answer = self.public_rooms.get((), read).await?;
        Ok(answer.unwrap_or_else(|| Encoded::new(Vec::new())))
    }

    /// A room's members and its latest page of messages: for every room asked, the members in
    /// one query, the pages in another, and the members their messages mention in a third.
    pub async fn snapshot(
        &self,
        db: &DatabaseConnection,
        room: RoomId,
    ) -> Result<(Vec<Member>, Vec<ChatMessage>), DbErr> {
        let db = db.clone();
        let read = |rooms: Vec<RoomId>| async move {
            let mut members = grouped(rooms::members_of_each(&db, &rooms).await?);
            let page = protocol::HISTORY_PAGE as u64;
            let mut pages = messages::latest_of_each(&db, &rooms, page).await?;
            let snapshots = rooms.into_iter().map(|room| {
                let members = members.remove(&room).unwrap_or_default();
                let recent = pages.remove(&room).unwrap_or_default();
                (room, (members, recent))
            });
            Ok::<_, DbErr>(snapshots.collect())
        };
        Ok(self.snapshots.get(room, read).await?.unwrap_or_default())
    }

    /// The user of a live session (`db::sessions::users_of`): every request's gate, and every
    /// socket's standing.
    pub async fn user_of_session(
        &self,
        db: &DatabaseConnection,
        token_hash: &str,
    ) -> Result<Option<User>, DbErr> {
        let db = db.clone();
        let read = |hashes: Vec<String>| async move {
            let found = sessions::users_of(&db, &hashes).await?;
            Ok::<_, DbErr>(found.into_iter().collect())
        };
        self.users_by_session.get(token_hash.to_owned(), read).await
    }

    /// The rooms a user is a member of (`db::rooms::rooms_of_each`).
    pub async fn rooms_of(
        &self,
        db: &DatabaseConnection,
        user: UserId,
    ) -> Result<Vec<Room>, DbErr> {
        let db = db.clone();
        let read = |users: Vec<UserId>| async move {
            Ok::<_, DbErr>(grouped(rooms::rooms_of_each(&db, &users).await?))
        };
        Ok(self.rooms_of.get(user, read).await?.unwrap_or_default())
    }

    /// A user's read position and counts in each room (`db::read_state::all_of`).
    pub async fn read_states(
        &self,
        db: &DatabaseConnection,
        user: UserId,
    ) -> Result<Vec<ReadState>, DbErr> {
        let db = db.clone();
        let read = |users: Vec<UserId>| async move {
            Ok::<_, DbErr>(grouped(read_state::all_of(&db, &users).await?))
        };
        Ok(self.read_states.get(user, read).await?.unwrap_or_default())
    }
}

/// Rows of (key, item) as each key's items, in the rows' order.
fn grouped<K: Eq + Hash, T>(rows: Vec<(K, T)>) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = HashMap::new();
    for (key, item) in rows {
        groups.entry(key).or_default().push(item);
    }
    groups
}

/// What a read gives every caller that shared it: an answer per key it found something for.
/// The error is shared too: each caller gets a `DbErr::Custom` with its text (the variant is
/// lost; nothing matches on it).
type Outcome<K, V> = Result<Arc<HashMap<K, V>>, Arc<DbErr>>;
type Read<K, V> = Shared<BoxFuture<'static, Outcome<K, V>>>;
/// The keys asked of a read that has not begun; taken when it begins.
type Keys<K> = Arc<Mutex<HashSet<K>>>;

/// Reads of one kind, shared by every caller that asked before one began.
pub struct SharedReads<K, V> {
    inner: Arc<Inner<K, V>>,
}

struct Inner<K, V> {
    /// The read that has not begun yet: a caller adds its key to it, or starts one if there is
    /// none (or it is full). Held weakly: when all its callers go, it goes.
    waiting: Mutex<Option<Waiting<K, V>>>,
    /// Held by the running read, so that the waiting one begins only after it ends.
    turn: tokio::sync::Mutex<()>,
}

struct Waiting<K, V> {
    keys: Keys<K>,
    read: WeakShared<BoxFuture<'static, Outcome<K, V>>>,
}

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        Self {
            inner: Arc::new(Inner {
                waiting: Mutex::new(None),
                turn: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The answer for `key` from a read that began after this call: the read waiting to begin,
    /// which this caller joins with its key, or else (none waiting, or it has [`MAX_KEYS`]
    /// already) one it starts, which calls `read` with the keys of every caller that joins it
    /// meanwhile. A caller that joins drops its `read` uncalled. `None` when the read answered
    /// nothing for the key.
    pub async fn get<F, Fut>(&self, key: K, read: F) -> Result<Option<V>, DbErr>
    where
        F: FnOnce(Vec<K>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<HashMap<K, V>, DbErr>> + Send + 'static,
    {
        let shared = {
            let mut waiting = lock(&self.inner.waiting);
            let joined = waiting.as_ref().and_then(|waiting| {
                let read = waiting.read.upgrade()?;
                let mut keys = lock(&waiting.keys);
                if keys.len() >= MAX_KEYS && !keys.contains(&key) {
                    return None;
                }
                keys.insert(key.clone());
                Some(read)
            });
            match joined {
                Some(read) => read,
                None => {
                    let keys = Arc::new(Mutex::new(HashSet::from([key.clone()])));
                    let inner = Arc::clone(&self.inner);
                    let begun: Read<K, V> = read_in_turn(inner, Arc::clone(&keys), read)
                        .boxed()
                        .shared();
                    // `None` only once polled to its end, and nobody has polled it yet.
                    if let Some(weak) = begun.downgrade() {
                        *waiting = Some(Waiting { keys, read: weak });
                    }
                    begun
                }
            }
        };
        let answers = shared
            .await
            .map_err(|err| DbErr::Custom(format!("shared read: {err}")))?;
        Ok(answers.get(&key).cloned())
    }
}

/// Waits for the running read of this kind to end, takes its place (callers asking from then on
/// wait for the next one), and reads every key asked until then.
async fn read_in_turn<K, V, F, Fut>(
    inner: Arc<Inner<K, V>>,
    keys: Keys<K>,
    read: F,
) -> Outcome<K, V>
where
    F: FnOnce(Vec<K>) -> Fut,
    Fut: Future<Output = Result<HashMap<K, V>, DbErr>>,
{
    let _turn = inner.turn.lock().await;
    let keys: Vec<K> = {
        let mut waiting = lock(&inner.waiting);
        if waiting
            .as_ref()
            .is_some_and(|waiting| Arc::ptr_eq(&waiting.keys, &keys))
        {
            *waiting = None;
        }
        // Callers add keys only while holding `waiting`'s lock and finding this read there: from
        // here on, none can.
        std::mem::take(&mut *lock(&keys)).into_iter().collect()
    };
    read(keys).await.map(Arc::new).map_err(Arc::new)
}

/// A mutex's data, whatever a panic elsewhere left it as: each change to it is one assignment
/// or one insertion.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    type Shared = Arc<SharedReads<u16, u16>>;
    type Caller = tokio::task::JoinHandle<Result<Option<u16>, DbErr>>;
    /// The keys each read was called with, in the order the reads began.
    type Log = Arc<Mutex<Vec<Vec<u16>>>>;
    /// What a test's read answers.
    type Answers = BoxFuture<'static, Result<HashMap<u16, u16>, DbErr>>;

    /// A read that logs its keys, says it began, waits to be let go, and answers each key with
    /// the key plus `add`.
    fn held_read(
        add: u16,
        log: &Log,
        began: oneshot::Sender<()>,
        release: oneshot::Receiver<()>,
    ) -> impl FnOnce(Vec<u16>) -> Answers + Send + 'static {
        let log = Arc::clone(log);
        move |mut keys| {
            async move {
                keys.sort_unstable();
                lock(&log).push(keys.clone());
                let _ = began.send(());
                let _ = release.await;
                Ok(keys.into_iter().map(|key| (key, key + add)).collect())
            }
            .boxed()
        }
    }

    /// A read that answers at once, logging its keys.
    fn quick_read(add: u16, log: &Log) -> impl FnOnce(Vec<u16>) -> Answers + Send + 'static {
        let (began, _) = oneshot::channel();
        let (let_go, release) = oneshot::channel();
        drop(let_go);
        held_read(add, log, began, release)
    }

    /// A caller of `key` that has asked (its read may be dropped uncalled).
    async fn asking(
        shared: &Shared,
        key: u16,
        read: impl FnOnce(Vec<u16>) -> Answers + Send + 'static,
    ) -> Caller {
        let shared = Arc::clone(shared);
        let caller = tokio::spawn(async move { shared.get(key, read).await });
        // The spawned caller runs up to its first wait.
        tokio::task::yield_now().await;
        caller
    }

    /// A caller of `key` whose own read has begun, and goes on when the sender is used or
    /// dropped.
    async fn running(shared: &Shared, key: u16, log: &Log) -> (Caller, oneshot::Sender<()>) {
        let (began, has_begun) = oneshot::channel();
        let (let_go, release) = oneshot::channel();
        let caller = asking(shared, key, held_read(100, log, began, release)).await;
        has_begun.await.unwrap();
        (caller, let_go)
    }

    fn answer(caller: Result<Result<Option<u16>, DbErr>, tokio::task::JoinError>) -> Option<u16> {
        caller.unwrap().unwrap()
    }

    #[tokio::test]
    async fn callers_that_ask_while_a_read_runs_share_the_next_one_with_all_their_keys() {
        let (shared, log) = (Shared::default(), Log::default());
        let (first, let_first_go) = running(&shared, 1, &log).await;
        // Three callers ask while the first read runs, one key twice: one read answers them
        // all, begun only after the first ended, and the later callers' reads are never called.
        let second = asking(&shared, 3, quick_read(200, &log)).await;
        let third = asking(&shared, 2, quick_read(300, &log)).await;
        let fourth = asking(&shared, 3, quick_read(400, &log)).await;
        assert_eq!(lock(&log).len(), 1, "a read began while another ran");
        let_first_go.send(()).unwrap();
        assert_eq!(answer(first.await), Some(101));
        assert_eq!(answer(second.await), Some(203));
        assert_eq!(answer(third.await), Some(202));
        assert_eq!(answer(fourth.await), Some(203));
        assert_eq!(*lock(&log), [vec![1], vec![2, 3]]);
        assert!(lock(&shared.inner.waiting).is_none(), "a read kept waiting");
    }

    #[tokio::test]
    async fn a_read_has_at_most_max_keys_and_the_rest_wait_for_the_next() {
        let (shared, log) = (Shared::default(), Log::default());
        let (first, let_first_go) = running(&shared, 0, &log).await;
        let mut callers = Vec::new();
        for key in 1..=MAX_KEYS as u16 + 1 {
            callers.push((key, asking(&shared, key, quick_read(0, &log)).await));
        }
        let_first_go.send(()).unwrap();
        answer(first.await);
        for (key, caller) in callers {
            assert_eq!(answer(caller.await), Some(key));
        }
        let sizes: Vec<usize> = lock(&log).iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, MAX_KEYS, 1]);
    }

    #[tokio::test]
    async fn a_read_whose_callers_all_left_is_not_joined() {
        let (shared, log) = (Shared::default(), Log::default());
        let (first, let_first_go) = running(&shared, 1, &log).await;
        let abandoned = asking(&shared, 2, quick_read(0, &log)).await;
        abandoned.abort();
        assert!(abandoned.await.unwrap_err().is_cancelled());
        // The next caller reads with its own read, for its own key only.
        let next = asking(&shared, 3, quick_read(500, &log)).await;
        let_first_go.send(()).unwrap();
        answer(first.await);
        assert_eq!(answer(next.await), Some(503));
        assert_eq!(*lock(&log), [vec![1], vec![3]]);
    }

    #[tokio::test]
    async fn a_key_the_read_found_nothing_for_gets_none() {
        let shared = Shared::default();
        let read = |_: Vec<u16>| async { Ok(HashMap::new()) }.boxed();
        assert_eq!(shared.get(7, read).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_failed_read_fails_every_caller_that_shared_it() {
        let (shared, log) = (Shared::default(), Log::default());
        let (first, let_first_go) = running(&shared, 1, &log).await;
        let failing = |_: Vec<u16>| async { Err(DbErr::Custom("disk on fire".into())) }.boxed();
        let callers = [
            asking(&shared, 2, failing).await,
            asking(&shared, 3, quick_read(0, &log)).await,
        ];
        let_first_go.send(()).unwrap();
        answer(first.await);
        for caller in callers {
            let failed = caller.await.unwrap().unwrap_err();
            assert!(failed.to_string().contains("disk on fire"), "{failed}");
        }
        let next = shared.get(2, quick_read(10, &log)).await.unwrap();
        assert_eq!(next, Some(12), "the next read is new");
    }
}
