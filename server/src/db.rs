//! The database: connecting, migrating, and one module per aggregate with its entity and the
//! queries on it. Handlers call these functions; no query is written inline anywhere else.

pub mod messages;
pub mod read_state;
pub mod rooms;
pub mod search;
pub mod sessions;
pub mod users;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Connects to SQLite or PostgreSQL (by the URL's scheme) and applies pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = Database::connect(options(url, Access::ReadWrite)).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Opens an existing SQLite file read-only, as it is (no migrations): for taking a backup.
pub async fn open_sqlite_read_only(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, Access::ReadOnly)).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

fn options(url: &str, access: Access) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        // SQLite allows one writer at a time; a small pool avoids piling up writers that then
        // wait on the file lock.
        options.max_connections(4).min_connections(1);
        // Set on every pooled connection (`synchronous` is per connection): WAL lets readers
        // proceed while a write commits, and NORMAL makes a commit an append to the WAL without
        // an fsync. Committed data survives a process crash; only a power loss may drop the
        // last transactions. (FULL, the default, syncs the WAL to disk on every commit.)
        options.map_sqlx_sqlite_opts(move |sqlite| match access {
            Access::ReadWrite => sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true),
            // Whatever the URL's `mode=` says: a missing file is an error, not a new database.
            Access::ReadOnly => sqlite.read_only(true).create_if_missing(false),
        });
    } else {
        options.max_connections(20);
    }
    options
}
