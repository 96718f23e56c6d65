//! What every handler shares: one [`AppState`], cloned into each request and into every socket's
//! task. A clone is one reference count: axum clones the state for each extractor and middleware
//! that asks for it, and a struct of a dozen handles cost several percent of a connect storm's
//! CPU in clones and drops alone.

use crate::chat::limits::CommandLimits;
use crate::chat::presence::Presence;
use crate::chat::shared_reads::Reads;
use crate::config::Config;
use crate::db::message_writer::MessageWriter;
use crate::db::users;
use crate::fanout::broker::Broker;
use crate::fanout::hub::Hub;
use crate::http::auth::rate_limit::LoginLimiter;
use crate::metrics::Metrics;
use crate::pause::Pauses;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::{DatabaseConnection, DbErr};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Mutex, MutexGuard};
use tokio_util::task::TaskTracker;

/// A handle onto the node's [`Shared`] parts; reach them by deref (`state.db`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    /// A connection pool, shared by clones.
    pub db: DatabaseConnection,
    /// Stores chat messages (batched; see `db::message_writer`).
    pub messages: MessageWriter,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    /// Where the site's files come from (built in, or a folder).
    pub site: crate::http::site::Source,
    pub login_limiter: Arc<LoginLimiter>,
    pub setup: Arc<SetupState>,
    pub command_limits: Arc<CommandLimits>,
    /// Searches running at once on this node (see `chat::search::AT_ONCE`): a burst of them
    /// waits here instead of taking every database connection from posts and pages.
    pub search_gate: Arc<tokio::sync::Semaphore>,
    /// This node's sockets and their rooms.
    pub hub: Arc<Hub>,
    /// Carries fan-out to every node's hub (see `chat::events` for what goes through it).
    pub broker: Arc<dyn Broker>,
    /// Who is online, on this node and (with Redis) on the others.
    pub presence: Arc<Presence>,
    /// Reads that callers asking at once share: greetings, the gate, joins (`chat::shared_reads`).
    pub reads: Arc<Reads>,
    /// Every socket's task, so that shutdown can wait for their close frames to go out.
    pub sockets: TaskTracker,
    /// What `/metrics` reports; the hub, the message writer and the broker hold clones.
    pub metrics: Metrics,
    /// Test hold points (no-ops unless a test armed one).
    pub pauses: Pauses,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Whether the first admin exists yet.
///
/// Once true it stays true, so after set-up the answer costs no query. While false, every
/// request asks the database, because `whisper create-user` may have added an account from
/// another process meanwhile.
#[derive(Default)]
pub struct SetupState {
    done: AtomicBool,
    /// Serializes set-up forms (see `auth::handlers::setup`). A tokio mutex: it is held across
    /// the awaited insert.
    lock: Mutex<()>,
}

impl SetupState {
    pub async fn is_done(&self, db: &DatabaseConnection) -> Result<bool, DbErr> {
        if self.done.load(Ordering::Acquire) {
            return Ok(true);
        }
        let done = users::count(db).await? > 0;
        if done {
            self.mark_done();
        }
        Ok(done)
    }

    pub fn mark_done(&self) {
        self.done.store(true, Ordering::Release);
    }

    pub async fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().await
    }
}
