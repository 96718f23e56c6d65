//! The message writer: every post of this node goes through one writer, which commits the posts
//! that arrive together in one transaction ("group commit").
//!
//! Every post costs a seq bump and an insert, but a transaction's begin and commit are paid once
//! per batch: under load, posts that arrive while a batch commits ride the next one together.
//! With SQLite this also keeps writers out of each other's way: SQLite allows one writer, and a
//! connection that finds the file locked sleeps in its busy handler (1 ms, 2 ms, 5 ms, …), which
//! under load added seconds of latency. An idle writer commits a lone post at once; while
//! posts keep coming, a batch waits for company for up to 2 ms ([`commit_window`]).
//!
//! - [`batch`]: one batch in one transaction, and its retries; the same for every database.
//! - [`commit_window`]: how long a batch waits for the posts behind its first.
//! - [`sqlite`]: a SQLite file, called on the writer's own thread.
//! - [`pooled`]: PostgreSQL, through a sea-orm connection of its own (or SQLite in memory,
//!   through the main pool).

mod batch;
mod commit_window;
mod pooled;
mod sqlite;

pub use batch::Posted;

use crate::metrics::Metrics;
use batch::PendingPost;
use protocol::{Member, RoomId};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

/// Posts queued while the previous batch commits.
const QUEUE: usize = 4096;

/// Where a node's posts are stored (cheap to clone; clones share the writer).
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<PendingPost>,
}

impl MessageWriter {
    /// Starts the writer of the database at `url`, which `main` was opened on (and migrated)
    /// by [`super::connect`], timing its commits into `metrics`.
    pub async fn start(
        url: &str,
        main: &DatabaseConnection,
        metrics: &Metrics,
    ) -> Result<MessageWriter, DbErr> {
        let (queue, pending) = mpsc::channel(QUEUE);
        let commit_seconds = metrics.commit_seconds.clone();
        match super::sqlite_file(url) {
            Some(file) => sqlite::start(&file, pending, commit_seconds)?,
            None => {
                let db = super::connect_writer(url, main).await?;
                pooled::start(db, pending, commit_seconds);
            }
        }
        Ok(MessageWriter { queue })
    }

    /// Stores a message as the room's next seq, once committed, unless the author already
    /// posted with this nonce; `None` when the author is not a member of the room when the post
    /// commits (or the room does not exist). Nobody may be told about
    /// the message before this returns.
    pub async fn post(
        &self,
        room: RoomId,
        author: &Member,
        body: &str,
        nonce: &str,
    ) -> Result<Option<Posted>, DbErr> {
        let (done, result) = oneshot::channel();
        let post = PendingPost {
            room,
            author: author.clone(),
            body: body.to_owned(),
            nonce: nonce.to_owned(),
            done,
        };
        let stopped = || DbErr::Custom("message writer stopped".into());
        self.queue.send(post).await.map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}
