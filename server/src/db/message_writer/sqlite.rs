//! The writer on a SQLite file: SQLite called on the writer's own thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands it every statement over a
//! channel. A batch on a sqlx connection paid a round trip between threads for each of its six
//! steps (begin, the seq bump, the membership check, the insert, commit, and the ping sqlx sends
//! whenever a connection goes back to its pool). Here the thread that holds the connection
//! takes the posts off the queue itself and runs the whole batch in place: the posters wake it
//! once, and it wakes them once with their answers. In a bench of 1,000 posts a second, a post
//! cost 16 thread switches before, and 3.4 this way (BENCHMARKS.md, twentieth session).
//!
//! The connection is the writer's alone, so the pages it touches stay in its cache from one
//! batch to the next: SQLite drops a connection's page cache whenever another connection wrote
//! since, and other writes are rare beside posts. (From sqlx's shared pool, each batch found its
//! pages stale and read them again through the kernel: the profile of issue 15.)
//!
//! The connection is rusqlite's, on the same bundled SQLite as sqlx's: Cargo links one
//! `libsqlite3-sys`, so the process holds one copy of SQLite, whose file locks both sides share
//! (two copies in one process would release each other's POSIX locks). It runs the statements
//! [`batch`] builds with sea-query, binding their values here, and writes dates as sqlx writes
//! them, so each reads the other's rows.

use super::batch::{self, Connection, NonceCheck, PendingPost, Posted, Transaction};
use super::commit_window::CommitWindow;
use crate::db::messages::entity;
use crate::db::users;
use chrono::SecondsFormat;
use prometheus_client::metrics::histogram::Histogram;
use protocol::Member;
use rusqlite::types::{ToSqlOutput, Value as SqliteValue, ValueRef};
use rusqlite::{OpenFlags, Row, TransactionBehavior};
use sea_orm::sea_query::Value;
use sea_orm::{DbBackend, DbErr, Statement};
use std::path::Path;
use std::time::Instant;
use tokio::sync::mpsc;

/// Prepared statements the connection keeps. A batch's `INSERT` has one text per number of
/// rows, so busy batches of many sizes each keep theirs.
const STATEMENTS: usize = 128;

/// Opens `file` (already migrated) and starts the thread that commits what arrives on
/// `pending`, until every sender is gone.
pub(super) fn start(
    file: &Path,
    mut pending: mpsc::Receiver<PendingPost>,
    commit_seconds: Histogram,
) -> Result<(), DbErr> {
    let mut connection = open(file)
        .map_err(|err| DbErr::Custom(format!("opening the message writer's connection: {err}")))?;
    std::thread::Builder::new()
        .name("message-writer".into())
        .spawn(move || {
            let mut window = CommitWindow::default();
            while let Some(first) = pending.blocking_recv() {
                let wait = window.reserve(Instant::now(), pending.len());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                let batch = batch::gather(first, &mut pending);
                // Nothing in a batch on this connection waits: every future is ready at once.
                futures_executor::block_on(batch::commit(&mut connection, batch, &commit_seconds));
            }
        })
        .map_err(|err| DbErr::Custom(format!("starting the message writer: {err}")))?;
    Ok(())
}

/// A connection set up as `db::options` sets up sqlx's: WAL (which the file keeps already),
/// commits appended to the WAL without an fsync, foreign keys enforced, the same busy wait.
fn open(file: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(file, flags)?;
    let mode = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Without WAL, the writer's commits would block every page load's reads.
        let refused = format!("journal_mode stayed {mode}, not WAL");
        let cannot_open = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN);
        return Err(rusqlite::Error::SqliteFailure(cannot_open, Some(refused)));
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.busy_timeout(crate::db::SQLITE_BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(STATEMENTS);
    Ok(connection)
}

impl Connection for rusqlite::Connection {
    type Error = rusqlite::Error;

    fn is_unique_violation(err: &rusqlite::Error) -> bool {
        matches!(err, rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
    }

    async fn write(
        &mut self,
        batch: &[PendingPost],
        check: NonceCheck,
    ) -> Result<Vec<Option<Posted>>, rusqlite::Error> {
        // `IMMEDIATE` takes the write lock at `BEGIN`: nothing the batch reads can go stale.
        let txn = self.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match batch::write(&txn, batch, check).await {
            Ok(stored) => {
                txn.commit()?;
                Ok(stored)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback() {
                    tracing::warn!(%rollback, "rolling back a failed batch failed");
                }
                Err(err)
            }
        }
    }
}

impl Transaction for rusqlite::Transaction<'_> {
    type Error = rusqlite::Error;

    fn backend(&self) -> DbBackend {
        DbBackend::Sqlite
    }

    async fn pairs(&self, statement: Statement) -> Result<Vec<(i64, i64)>, rusqlite::Error> {
        rows(self, &statement, |row| Ok((row.get(0)?, row.get(1)?)))
    }

    async fn members(&self, statement: Statement) -> Result<Vec<Member>, rusqlite::Error> {
        rows(self, &statement, |row| {
            Ok(users::member(row.get(0)?, row.get(1)?))
        })
    }

    async fn messages(&self, statement: Statement) -> Result<Vec<entity::Model>, rusqlite::Error> {
        rows(self, &statement, message)
    }
}

/// Runs `statement` (prepared once, then from the connection's cache), reading each row.
fn rows<T>(
    connection: &rusqlite::Connection,
    statement: &Statement,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut prepared = connection.prepare_cached(&statement.sql)?;
    let values = statement
        .values
        .iter()
        .flat_map(|values| &values.0)
        .map(bound)
        .collect::<rusqlite::Result<Vec<_>>>()?;
    prepared
        .query_map(rusqlite::params_from_iter(values), read)?
        .collect()
}

/// A row of every column of `messages`.
fn message(row: &Row<'_>) -> rusqlite::Result<entity::Model> {
    Ok(entity::Model {
        id: row.get("id")?,
        room_id: row.get("room_id")?,
        seq: row.get("seq")?,
        author_id: row.get("author_id")?,
        body: row.get("body")?,
        created_at: row.get("created_at")?,
        edited_at: row.get("edited_at")?,
        deleted_at: row.get("deleted_at")?,
        nonce: row.get("nonce")?,
        mentions: row.get("mentions")?,
        search_text: row.get("search_text")?,
    })
}

/// A value sea-query put in a statement, as SQLite stores it: the kinds the writer's
/// statements bind (its columns are integers, text and dates), and an error for any other.
/// Text (a post's body and search text) is lent to SQLite, not cloned first; SQLite makes its
/// own copy when it binds it.
fn bound(value: &Value) -> rusqlite::Result<ToSqlOutput<'_>> {
    use SqliteValue::{Integer, Null, Text};
    Ok(match value {
        Value::BigInt(v) => ToSqlOutput::Owned(v.map_or(Null, Integer)),
        Value::String(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
        Value::String(None) => ToSqlOutput::Owned(Null),
        // sqlx's encoding of a `DateTime` for SQLite.
        Value::ChronoDateTimeUtc(v) => ToSqlOutput::Owned(v.map_or(Null, |at| {
            Text(at.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        })),
        other => {
            let unsupported = format!("the message writer binds no {other:?}");
            return Err(rusqlite::Error::ToSqlConversionFailure(unsupported.into()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use sea_orm::ConnectionTrait;

    /// Pages are read through sqlx: the dates this connection writes must be the text sqlx
    /// writes, to the digit, or ordering and equality by date would differ between the two.
    #[tokio::test]
    async fn dates_are_bound_as_sqlx_binds_them() {
        let db = crate::db::connect("sqlite::memory:")
            .await
            .expect("connect");
        // Whole seconds, and fractions sqlx writes with 3, 6 and 9 digits.
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789] {
            let at: DateTime<Utc> = Utc
                .timestamp_opt(1_700_000_000, nanos)
                .single()
                .expect("a valid instant");
            let asked = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT ? AS at",
                [Value::from(at)],
            );
            let row = db.query_one_raw(asked).await.expect("query").expect("row");
            let by_sqlx: String = row.try_get("", "at").expect("text");
            assert_eq!(
                bound(&Value::from(at)).expect("bound"),
                ToSqlOutput::Owned(SqliteValue::Text(by_sqlx))
            );
        }
    }

    /// One batch holding every kind of post, committed on this connection as the thread
    /// commits it: new posts in two rooms, a nonce repeated within the batch, a nonce stored by
    /// an earlier batch (which makes the first try fail on the unique index and the second look
    /// it up), a non-member's post and a post to a room that does not exist.
    #[tokio::test]
    async fn one_batch_answers_every_kind_of_post() {
        use crate::db::{rooms, users};
        use protocol::{RoomId, RoomKind};
        use sea_orm::EntityTrait;
        use tokio::sync::oneshot;

        let file = std::env::temp_dir().join(format!(
            "whisper_writer_{}_{}.db",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .expect("connect");
        let mut person = Vec::new();
        for name in ["ann", "bob"] {
            let new = users::NewUser {
                username: name,
                password_hash: "not a hash".into(),
                is_admin: false,
                is_staff: false,
            };
            person.push(users::create(&db, new).await.expect("user").member());
        }
        let (ann, bob) = (person[0].clone(), person[1].clone());
        let mut room = Vec::new();
        for title in ["one", "two"] {
            let made = rooms::create(&db, title, RoomKind::Open, None)
                .await
                .expect("room");
            rooms::add_member(&db, &made, ann.id).await.expect("member");
            room.push(made);
        }
        let (one, two) = (room[0].id(), room[1].id());
        let mut connection = open(&file).expect("open");
        let metrics = crate::metrics::Metrics::default();

        let pending = |(room, author, body, nonce): (RoomId, &Member, &str, &str)| {
            let (done, answer) = oneshot::channel();
            let (body, nonce) = (body.into(), nonce.into());
            let author = author.clone();
            (
                PendingPost {
                    room,
                    author,
                    body,
                    nonce,
                    done,
                },
                answer,
            )
        };
        let (first, answer) = pending((one, &ann, "earlier", "old"));
        batch::commit(&mut connection, vec![first], &metrics.commit_seconds).await;
        let Ok(Some(Posted::New(earlier))) = answer.await.expect("answered") else {
            panic!("the first post is stored");
        };

        let (batch, answers): (Vec<_>, Vec<_>) = [
            (one, &ann, "first", "n1"),
            (one, &ann, "first, again", "n1"),
            (one, &ann, "earlier, again", "old"),
            (one, &bob, "not a member", "b1"),
            (two, &ann, "elsewhere", "n2"),
            (RoomId(999_999), &ann, "nowhere", "n3"),
            (one, &ann, "second", "n4"),
        ]
        .into_iter()
        .map(pending)
        .unzip();
        batch::commit(&mut connection, batch, &metrics.commit_seconds).await;
        let mut got = Vec::new();
        for answer in answers {
            got.push(answer.await.expect("answered").expect("stored"));
        }

        let new = |at: usize| match &got[at] {
            Some(Posted::New(message)) => (message.room_id, message.seq, message.body.clone()),
            other => panic!("post {at} is new: {other:?}"),
        };
        assert_eq!(new(0), (one, 2, "first".into()));
        assert_eq!(
            got[1],
            Some(Posted::Duplicate(match &got[0] {
                Some(Posted::New(message)) => message.clone(),
                _ => unreachable!(),
            }))
        );
        assert_eq!(got[2], Some(Posted::Duplicate(earlier)));
        assert_eq!(got[3], None, "a non-member's post");
        assert_eq!(new(4), (two, 1, "elsewhere".into()));
        assert_eq!(got[5], None, "a post to a missing room");
        assert_eq!(
            new(6),
            (one, 3, "second".into()),
            "the refused post left no gap"
        );
        let stored = rooms::entity::Entity::find_by_id(one.0)
            .one(&db)
            .await
            .expect("read");
        assert_eq!(stored.map(|room| room.last_seq), Some(3));
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }

    #[test]
    fn a_value_it_cannot_bind_is_an_error() {
        assert!(bound(&Value::Int(Some(1))).is_err());
    }
}
