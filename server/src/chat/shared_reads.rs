//! Reads that many callers asking at once share: one query answers all who asked before it began.
//!
//! When thousands of sockets open at once (a server restart, a network blip), every greeting
//! reads the same list of public rooms; the sockets of a room's members read its same members
//! and latest messages; and the tabs of one browser read the same session, rooms and read
//! positions. Every query is two thread hand-offs through sqlx's SQLite worker plus the decoding
//! of every row, so a storm of greetings spent most of its time reading the same rows again and
//! again (`BENCHMARKS.md`, "connect storm"). Whoever else asks for these reads (the gate on
//! every request, joins, the standing re-read after a change) shares them the same way.
//!
//! A shared read is never staler than a read of one's own. A caller joins only a read that has
//! not started yet; while one runs, the next callers wait for the following one, which starts
//! when it ends. So the answer a caller gets was read after it asked: a socket registered with
//! the hub before asking either sees a change in the answer or hears of it live, exactly as with
//! its own query.

use crate::db::rooms::{self, Room};
use crate::db::users::User;
use crate::db::{messages, read_state, sessions};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use protocol::{ChatMessage, Member, ReadState, RoomId, UserId};
use sea_orm::{DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// The reads this node shares, each with the query it shares.
#[derive(Default)]
pub struct Reads {
    public_rooms: SharedReads<(), Vec<Room>>,
    snapshots: SharedReads<RoomId, (Vec<Member>, Vec<ChatMessage>)>,
    users_by_session: SharedReads<String, Option<User>>,
    rooms_of: SharedReads<UserId, Vec<Room>>,
    read_states: SharedReads<UserId, Vec<ReadState>>,
}

impl Reads {
    /// Every open and staff-only room, by title (`db::rooms::public`).
    pub async fn public_rooms(&self, db: &DatabaseConnection) -> Result<Arc<Vec<Room>>, DbErr> {
        let db = db.clone();
        self.public_rooms
            .get((), async move { rooms::public(&db).await })
            .await
    }

    /// A room's members and its latest page of messages.
    pub async fn snapshot(
        &self,
        db: &DatabaseConnection,
        room: RoomId,
    ) -> Result<(Vec<Member>, Vec<ChatMessage>), DbErr> {
        let db = db.clone();
        let read = async move {
            let members = rooms::members(&db, room).await?;
            let recent = messages::latest(&db, room, protocol::HISTORY_PAGE as u64).await?;
            Ok((members, recent))
        };
        self.snapshots.get_cloned(room, read).await
    }

    /// The user of a live session (`db::sessions::find_user`): every request's gate, and every
    /// socket's standing. The tabs of one browser share its cookie.
    pub async fn user_of_session(
        &self,
        db: &DatabaseConnection,
        token_hash: &str,
    ) -> Result<Option<User>, DbErr> {
        let (db, key) = (db.clone(), token_hash.to_owned());
        let read = async move { sessions::find_user(&db, &key).await };
        self.users_by_session
            .get_cloned(token_hash.to_owned(), read)
            .await
    }

    /// The rooms a user is a member of (`db::rooms::rooms_of`).
    pub async fn rooms_of(
        &self,
        db: &DatabaseConnection,
        user: UserId,
    ) -> Result<Vec<Room>, DbErr> {
        let db = db.clone();
        let read = async move { rooms::rooms_of(&db, user).await };
        self.rooms_of.get_cloned(user, read).await
    }

    /// A user's read position and counts in each room (`db::read_state::all_of`).
    pub async fn read_states(
        &self,
        db: &DatabaseConnection,
        user: UserId,
    ) -> Result<Vec<ReadState>, DbErr> {
        let db = db.clone();
        let read = async move { read_state::all_of(&db, user).await };
        self.read_states.get_cloned(user, read).await
    }
}

/// What a read gives every caller that shared it. The error is shared too: each caller gets a
/// `DbErr::Custom` with its text (the variant is lost; nothing matches on it).
type Outcome<V> = Result<Arc<V>, Arc<DbErr>>;
type Read<V> = Shared<BoxFuture<'static, Outcome<V>>>;
type Slots<K, V> = Arc<Mutex<HashMap<K, Slot<V>>>>;

/// Reads of one kind, shared per key.
pub struct SharedReads<K, V> {
    slots: Slots<K, V>,
}

/// A key with a read running or waiting. Nothing else is kept: a key is forgotten when its last
/// read ends or every caller of it has gone, so that keys asked once (a session cookie) cost
/// nothing afterwards.
struct Slot<V> {
    /// The read that has not begun yet: a caller joins it, or starts one if there is none. Held
    /// weakly: when all its callers go, it goes.
    waiting: Option<WeakShared<BoxFuture<'static, Outcome<V>>>>,
    /// Whether a read holds the turn (and so will look at this slot again when it ends).
    running: bool,
    /// Held by the running read, so that the waiting one begins only after it ends.
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl<K, V> Default for SharedReads<K, V> {
    fn default() -> Self {
        Self {
            slots: Arc::default(),
        }
    }
}

impl<K, V> SharedReads<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// `read`'s answer for `key`, from a query that began after this call: this caller's own,
    /// or one shared with the callers that asked meanwhile (then `read` is dropped unpolled).
    pub async fn get<F>(&self, key: K, read: F) -> Result<Arc<V>, DbErr>
    where
        F: Future<Output = Result<V, DbErr>> + Send + 'static,
    {
        let shared = {
            let mut slots = lock(&self.slots);
            let slot = slots.entry(key.clone()).or_insert_with(|| Slot {
                waiting: None,
                running: false,
                turn: Arc::default(),
            });
            match slot.waiting.as_ref().and_then(WeakShared::upgrade) {
                Some(waiting) => waiting,
                None => {
                    let forget = Forget {
                        slots: Arc::clone(&self.slots),
                        key,
                        turn: Arc::clone(&slot.turn),
                        held: None,
                    };
                    let waiting: Read<V> = read_in_turn(forget, read).boxed().shared();
                    slot.waiting = waiting.downgrade();
                    waiting
                }
            }
        };
        shared
            .await
            .map_err(|err| DbErr::Custom(format!("shared read: {err}")))
    }

    /// Like [`Self::get`], for a caller that needs its own copy of the answer.
    pub async fn get_cloned<F>(&self, key: K, read: F) -> Result<V, DbErr>
    where
        V: Clone,
        F: Future<Output = Result<V, DbErr>> + Send + 'static,
    {
        Ok(V::clone(&*self.get(key, read).await?))
    }
}

/// Waits for the running read of the key to end, takes its place (callers asking from then on
/// wait for the next one), and reads.
async fn read_in_turn<K, V, F>(mut forget: Forget<K, V>, read: F) -> Outcome<V>
where
    K: Eq + Hash,
    F: Future<Output = Result<V, DbErr>>,
{
    forget.held = Some(Arc::clone(&forget.turn).lock_owned().await);
    if let Some(slot) = lock(&forget.slots).get_mut(&forget.key) {
        slot.waiting = None;
        slot.running = true;
    }
    read.await.map(Arc::new).map_err(Arc::new)
}

/// Dropped with its read, whether it ended or all its callers left: gives up the turn, and
/// forgets the key if no other read of it is running or waiting.
struct Forget<K: Eq + Hash, V> {
    slots: Slots<K, V>,
    key: K,
    turn: Arc<tokio::sync::Mutex<()>>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<K: Eq + Hash, V> Drop for Forget<K, V> {
    fn drop(&mut self) {
        let was_running = self.held.take().is_some();
        let mut slots = lock(&self.slots);
        // The same slot, not one made since this read's was forgotten.
        let Some(slot) = slots
            .get_mut(&self.key)
            .filter(|slot| Arc::ptr_eq(&slot.turn, &self.turn))
        else {
            return;
        };
        if was_running {
            slot.running = false;
        }
        // Dropped only once the lock is released: if this is the waiting read's last reference,
        // dropping it drops that read's own `Forget`, which takes the lock.
        let waiting = slot.waiting.as_ref().and_then(WeakShared::upgrade);
        if waiting.is_none() && !slot.running {
            slots.remove(&self.key);
        }
        drop(slots);
        drop(waiting);
    }
}

/// The slots, whatever a panic elsewhere left them as: each change to them is one assignment.
fn lock<K, V>(slots: &Slots<K, V>) -> std::sync::MutexGuard<'_, HashMap<K, Slot<V>>> {
    slots.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use tokio::sync::oneshot;

    /// A read that says when it began, waits to be let go, and answers `value`.
    async fn held_read(
        value: usize,
        began: oneshot::Sender<()>,
        release: oneshot::Receiver<()>,
        reads: Arc<AtomicUsize>,
    ) -> Result<usize, DbErr> {
        reads.fetch_add(1, Ordering::SeqCst);
        let _ = began.send(());
        let _ = release.await;
        Ok(value)
    }

    type Reads = Arc<SharedReads<u8, usize>>;
    type Caller = tokio::task::JoinHandle<usize>;

    /// A caller of `key` whose read (of `value`, counted in `reads`) has begun and goes on when
    /// the returned sender is used or dropped.
    async fn running(
        shared: &Reads,
        key: u8,
        value: usize,
        reads: &Arc<AtomicUsize>,
    ) -> (Caller, oneshot::Sender<()>) {
        let (began, has_begun) = oneshot::channel();
        let (release, released) = oneshot::channel();
        let read = held_read(value, began, released, Arc::clone(reads));
        let caller = asking(shared, key, read).await;
        has_begun.await.unwrap();
        (caller, release)
    }

    /// A caller of `key` that has asked (its read may be dropped unpolled).
    async fn asking(
        shared: &Reads,
        key: u8,
        read: impl Future<Output = Result<usize, DbErr>> + Send + 'static,
    ) -> Caller {
        let shared = Arc::clone(shared);
        let caller = tokio::spawn(async move { *shared.get(key, read).await.unwrap() });
        tokio::task::yield_now().await;
        caller
    }

    #[tokio::test]
    async fn callers_that_ask_while_a_read_runs_share_the_next_one() {
        let shared = Reads::default();
        let reads = Arc::new(AtomicUsize::new(0));
        let first_ended = Arc::new(AtomicBool::new(false));
        let (first, let_first_go) = running(&shared, 7, 1, &reads).await;

        // Two callers ask while the first read runs: the second read, which they share, must
        // begin only after the first has ended, and the third caller's read never runs.
        let (began, second_began) = oneshot::channel();
        let (let_second_go, release) = oneshot::channel();
        let second_read = {
            let (reads, first_ended) = (Arc::clone(&reads), Arc::clone(&first_ended));
            let read = held_read(2, began, release, reads);
            async move {
                assert!(
                    first_ended.load(Ordering::SeqCst),
                    "began while the first ran"
                );
                read.await
            }
        };
        let second = asking(&shared, 7, second_read).await;
        let third = asking(&shared, 7, async { Ok(3) }).await;

        first_ended.store(true, Ordering::SeqCst);
        let_first_go.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 1);
        second_began.await.unwrap();
        let_second_go.send(()).unwrap();
        assert_eq!(second.await.unwrap(), 2);
        assert_eq!(
            third.await.unwrap(),
            2,
            "the third caller shares the second read"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        assert!(
            lock(&shared.slots).is_empty(),
            "nothing kept after the reads"
        );
    }

    #[tokio::test]
    async fn other_keys_do_not_wait() {
        let shared = Reads::default();
        let (held, _release) = running(&shared, 1, 1, &Arc::default()).await;
        assert_eq!(*shared.get(2, async { Ok(5) }).await.unwrap(), 5);
        held.abort();
    }

    #[tokio::test]
    async fn a_read_whose_callers_all_left_frees_its_key() {
        let shared = Reads::default();
        let (abandoned, _release) = running(&shared, 7, 1, &Arc::default()).await;
        // A second caller waits for the next read; then both leave.
        let waiting = asking(&shared, 7, async { Ok(2) }).await;
        abandoned.abort();
        waiting.abort();
        let _ = (abandoned.await, waiting.await);
        assert!(
            lock(&shared.slots).is_empty(),
            "a key nobody waits for is forgotten"
        );
        assert_eq!(*shared.get(7, async { Ok(3) }).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_failed_read_fails_every_caller_that_shared_it() {
        let shared = Reads::default();
        let (first, let_first_go) = running(&shared, 7, 1, &Arc::default()).await;
        let failing = async { Err(DbErr::Custom("disk on fire".into())) };
        let callers = [failing.boxed(), async { Ok(2) }.boxed()].map(|read| {
            let shared = Arc::clone(&shared);
            tokio::spawn(async move { shared.get(7, read).await.map(|value| *value) })
        });
        tokio::task::yield_now().await;
        let_first_go.send(()).unwrap();
        assert_eq!(first.await.unwrap(), 1);
        for caller in callers {
            let failed = caller.await.unwrap().unwrap_err();
            assert!(failed.to_string().contains("disk on fire"), "{failed}");
        }
        assert_eq!(
            *shared.get(7, async { Ok(3) }).await.unwrap(),
            3,
            "the next read is new"
        );
    }
}
