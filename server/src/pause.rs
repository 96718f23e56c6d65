//! Points where a test holds one side of a race, so the other side can be run in between —
//! deterministic interleavings instead of sleeps and hope.
//!
//! A test arms a [`Point`] through [`Pauses::arm`] (reached via `Config::pauses`) and gets a
//! [`Held`]: it waits until the server reaches the point, does what must happen in between, then
//! releases it. In production nothing is armed, and passing a point costs one relaxed atomic
//! load.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The places a test can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Point {
    /// A socket's upgrade was accepted (its session was live), and it is not registered yet.
    SocketAccepted,
    /// A socket opening has read its user's rooms from the database, and not yet given them
    /// to the hub.
    SocketRead,
    /// A `join` has looked the room up, and not yet started the transaction that decides and
    /// stores the membership.
    JoinLookedUp,
    /// A room's kind change is committed, and nothing of it published yet.
    KindChangeCommitted,
    /// An `open_direct` found no conversation for its set of people, and has not yet tried
    /// to store one.
    DirectLookedUp,
}

/// The armed points of one server (cheap to clone; clones share them).
#[derive(Clone, Default)]
pub struct Pauses {
    any_armed: Arc<AtomicBool>,
    armed: Arc<Mutex<HashMap<Point, Arming>>>,
}

struct Arming {
    arrived: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

impl std::fmt::Debug for Pauses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pauses")
    }
}

/// A point a test armed: the first time the server reaches it, it waits there until released.
pub struct Held {
    arrived: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl Held {
    /// Waits until the server is at the point (and held there).
    pub async fn reached(&mut self) {
        let _ = (&mut self.arrived).await;
    }

    /// Lets the server go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

impl Pauses {
    /// Holds the next pass through `point`. Dropping the [`Held`] without releasing it
    /// releases it too.
    pub fn arm(&self, point: Point) -> Held {
        let (arrived_tx, arrived) = oneshot::channel();
        let (release, release_rx) = oneshot::channel();
        self.lock().insert(
            point,
            Arming {
                arrived: arrived_tx,
                release: release_rx,
            },
        );
        self.any_armed.store(true, Ordering::Release);
        Held { arrived, release }
    }

    /// Called by the server at `point`: returns at once unless a test armed it.
    pub async fn at(&self, point: Point) {
        if !self.any_armed.load(Ordering::Relaxed) {
            return;
        }
        let Some(arming) = self.lock().remove(&point) else {
            return;
        };
        let _ = arming.arrived.send(());
        let _ = arming.release.await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Point, Arming>> {
        self.armed
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}
