//! The writer on a SQLite file: SQLite called on the writer's own thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and hands it every statement over a
//! channel. A batch on a sqlx connection paid a round trip between threads for each of its six
//! steps (begin, the seq bump, the membership check, the insert, commit, and the ping sqlx sends
//! whenever a connection goes back to its pool). Here the thread that holds the connection
//! takes the posts off the queue itself and runs the whole batch in place: the posters wake it
//! once, and it wakes them once with their answers. A post cost sixteen thread switches before,
//! and about three and a half this way (BENCHMARKS.md, twentieth session).
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
use crate::db::messages::entity;
use crate::db::users;
use chrono::SecondsFormat;
use prometheus_client::metrics::histogram::Histogram;
use protocol::Member;
use rusqlite::types::Value as SqliteValue;
use rusqlite::{OpenFlags, Row, TransactionBehavior};
use sea_orm::sea_query::Value;
use sea_orm::{DbBackend, DbErr, Statement};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

/// Prepared statements the connection keeps. A batch's `INSERT` has one text per number of
/// rows, so busy batches of many sizes each keep theirs.
const STATEMENTS: usize = 128;

/// How long a statement waits for another connection's write lock before failing, as sqlx's
/// connections wait.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens `file` (already migrated) and starts the thread that commits what arrives on
/// `pending`, until every sender is gone.
pub(super) fn start(
    file: &Path,
    mut pending: mpsc::Receiver<PendingPost>,
    commit_seconds: Histogram,
) -> Result<(), DbErr> {
    let mut writer = Writer {
        connection: open(file).map_err(|err| {
            DbErr::Custom(format!("opening the message writer's connection: {err}"))
        })?,
    };
    std::thread::Builder::new()
        .name("message-writer".into())
        .spawn(move || {
            while let Some(first) = pending.blocking_recv() {
                let batch = batch::gather(first, &mut pending);
                // Nothing in a batch on this connection waits: every future is ready at once.
                futures_executor::block_on(batch::commit(&mut writer, batch, &commit_seconds));
            }
        })
        .map_err(|err| DbErr::Custom(format!("starting the message writer: {err}")))?;
    Ok(())
}

/// A connection set up as `db::options` sets up sqlx's: WAL (which the file keeps already),
/// commits appended to the WAL without an fsync, and foreign keys enforced.
fn open(file: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(file, flags)?;
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(STATEMENTS);
    Ok(connection)
}

struct Writer {
    connection: rusqlite::Connection,
}

impl Connection for Writer {
    type Error = rusqlite::Error;

    fn is_duplicate_nonce(err: &rusqlite::Error) -> bool {
        matches!(err, rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
    }

    async fn write(
        &mut self,
        batch: &[PendingPost],
        check: NonceCheck,
    ) -> Result<Vec<Option<Posted>>, rusqlite::Error> {
        // `IMMEDIATE` takes the write lock at `BEGIN`: nothing the batch reads can go stale.
        let txn = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
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
/// statements bind, and an error for any other.
fn bound(value: &Value) -> rusqlite::Result<SqliteValue> {
    use SqliteValue::{Blob, Integer, Null, Real, Text};
    Ok(match value {
        Value::Bool(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::TinyInt(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::SmallInt(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::Int(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::BigInt(v) => v.map_or(Null, Integer),
        Value::TinyUnsigned(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::SmallUnsigned(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::Unsigned(v) => v.map_or(Null, |v| Integer(v.into())),
        Value::Float(v) => v.map_or(Null, |v| Real(v.into())),
        Value::Double(v) => v.map_or(Null, Real),
        Value::String(v) => v.clone().map_or(Null, Text),
        Value::Bytes(v) => v.clone().map_or(Null, Blob),
        // sqlx's encoding of a `DateTime` for SQLite.
        Value::ChronoDateTimeUtc(v) => v.map_or(Null, |at| {
            Text(at.to_rfc3339_opts(SecondsFormat::AutoSi, false))
        }),
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
        let instants: [DateTime<Utc>; 4] = [
            Utc.timestamp_opt(1_700_000_000, 0)
                .single()
                .expect("a valid instant"),
            Utc.timestamp_opt(1_700_000_000, 120_000_000)
                .single()
                .expect("a valid instant"),
            Utc.timestamp_opt(1_700_000_000, 123_456_000)
                .single()
                .expect("a valid instant"),
            Utc.timestamp_opt(1_700_000_000, 123_456_789)
                .single()
                .expect("a valid instant"),
        ];
        for at in instants {
            let asked = Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT ? AS at",
                [Value::from(at)],
            );
            let row = db.query_one_raw(asked).await.expect("query").expect("row");
            let by_sqlx: String = row.try_get("", "at").expect("text");
            assert_eq!(
                bound(&Value::from(at)).expect("bound"),
                SqliteValue::Text(by_sqlx)
            );
        }
    }

    #[test]
    fn a_value_it_cannot_bind_is_an_error() {
        assert!(bound(&Value::Char(Some('x'))).is_err());
    }
}
