//! The database: connecting, migrating, and one module per aggregate with its entity and the
//! queries on it. Handlers call these functions; no query is written inline anywhere else.

pub mod messages;
pub mod rooms;
pub mod sessions;
pub mod users;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Connects to SQLite or PostgreSQL (by the URL's scheme) and applies pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
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
        options.map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
        });
    } else {
        options.max_connections(20);
    }
    let db = Database::connect(options).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}
