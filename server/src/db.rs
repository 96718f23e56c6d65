//! The database: connecting, migrating, and one module per aggregate with its entity and the
//! queries on it. Handlers call these functions; no query is written inline anywhere else.
//! [`keys`] holds what the queries that take many keys at once share (their cap and padding).

pub mod keys;
pub mod message_writer;
pub mod messages;
pub mod read_state;
pub mod rooms;
pub mod search;
pub mod sessions;
pub mod users;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// How long a pooled SQLite connection sits unused before it is pinged again before use.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// Connects to SQLite or PostgreSQL (by the URL's scheme) and applies pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = Database::connect(options(url, Access::ReadWrite)).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// The message writer's own sea-orm connection (see [`message_writer`]) to the database `main`
/// was opened on (and migrated) by [`connect`]: for PostgreSQL, a connection that posts never
/// share with page loads; for SQLite in memory, `main` itself (sqlx gives each pool its own
/// in-memory database). A SQLite file's writer opens its connection outside sqlx
/// ([`sqlite_file`]; `message_writer`'s `sqlite` module).
pub async fn connect_writer(
    url: &str,
    main: &DatabaseConnection,
) -> Result<DatabaseConnection, DbErr> {
    if is_sqlite_in_memory(url) {
        return Ok(main.clone());
    }
    Database::connect(options(url, Access::Writer)).await
}

fn is_sqlite_in_memory(url: &str) -> bool {
    url.starts_with("sqlite:") && (url.contains(":memory:") || url.contains("mode=memory"))
}

/// The file a SQLite URL names, for a connection opened outside sqlx; `None` for SQLite in
/// memory, for PostgreSQL, and for a URL that picks a VFS or marks the file immutable (which
/// change how SQLite reads and locks it: only sqlx, which reads those options, opens such a file).
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let locks_differently = query
        .split('&')
        .any(|option| option.starts_with("vfs=") || option.starts_with("immutable="));
    if !url.starts_with("sqlite:") || is_sqlite_in_memory(url) || locks_differently {
        return None;
    }
    let options: SqliteConnectOptions = url.parse().ok()?;
    Some(options.get_filename().to_owned())
}

/// Opens an existing SQLite file read-only, as it is (no migrations): for taking a backup.
pub async fn open_sqlite_read_only(url: &str) -> Result<DatabaseConnection, DbErr> {
    Database::connect(options(url, Access::ReadOnly)).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    /// One connection, kept open: the message writer's.
    Writer,
    ReadOnly,
}

/// How long a SQLite statement waits for another connection's write lock before it fails: on
/// sqlx's connections and on the message writer's own.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Rows a SQLite connection's thread may hand over before the reader takes them (see `options`).
const ROWS_IN_FLIGHT: usize = 1024;

fn options(url: &str, access: Access) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if access == Access::Writer {
        // Never replaced for its age or idleness: a new connection starts with a cold cache.
        options
            .max_connections(1)
            .min_connections(1)
            .max_lifetime(None)
            .idle_timeout(None);
    } else if url.starts_with("sqlite:") {
        // SQLite allows one writer at a time; a small pool avoids piling up writers that then
        // wait on the file lock.
        options.max_connections(4).min_connections(1);
    } else {
        options.max_connections(20);
    }
    if url.starts_with("sqlite:") {
        // sqlx pings a connection when it goes back to the pool and, by default, again when it
        // is taken out. With SQLite a ping is a round trip to the connection's thread (two thread
        // switches per query), and a file does not drop connections: one that passed its ping on
        // release moments ago is taken as it is. PostgreSQL keeps sqlx's ping on every acquire,
        // since a connection across a network can die while idle.
        options.test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
        // Set on every pooled connection (`synchronous` is per connection): WAL lets readers
        // proceed while a write commits, and NORMAL makes a commit an append to the WAL without
        // an fsync. Committed data survives a process crash; only a power loss may drop the
        // last transactions. (FULL, the default, syncs the WAL to disk on every commit.)
        options.map_sqlx_sqlite_opts(move |sqlite| {
            // A connection's thread hands each row over a channel of this many; when it is full,
            // the thread sleeps until the reader empties it. sqlx's 50 made a batched read of a
            // few hundred rows switch threads every 50 rows.
            let sqlite = sqlite
                .row_buffer_size(ROWS_IN_FLIGHT)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            match access {
                Access::ReadWrite | Access::Writer => sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true),
                // Whatever the URL's `mode=` says: a missing file is an error, not a new database.
                Access::ReadOnly => sqlite.read_only(true).create_if_missing(false),
            }
        });
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each new pool gets a new in-memory database: the writer must write to the migrated one.
    #[tokio::test]
    async fn the_writer_of_an_in_memory_database_writes_to_it() {
        let url = "sqlite::memory:";
        let main = connect(url).await.expect("connect");
        let writer = connect_writer(url, &main).await.expect("writer");
        let new = users::NewUser {
            username: "ann",
            password_hash: "not a hash".to_owned(),
            is_admin: false,
            is_staff: false,
        };
        users::create(&writer, new)
            .await
            .expect("the writer sees the migrated schema");
        assert_eq!(users::count(&main).await.expect("count"), 1);
    }

    #[test]
    fn only_a_sqlite_file_has_a_file() {
        let file = sqlite_file("sqlite:///tmp/w/whisper.db?mode=rwc");
        assert_eq!(file, Some(std::path::PathBuf::from("/tmp/w/whisper.db")));
        let relative = sqlite_file("sqlite://whisper.db?mode=rwc");
        assert_eq!(relative, Some(std::path::PathBuf::from("whisper.db")));
        assert_eq!(sqlite_file("sqlite://w.db?mode=rwc&vfs=unix-dotfile"), None);
        assert_eq!(sqlite_file("sqlite://w.db?immutable=true"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://whisper?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://postgres@127.0.0.1/test"), None);
    }

    /// `.cargo/config.toml` builds SQLite with the query planner stability guarantee, so that a
    /// statement with `LIMIT ?` (every `.one()`) is prepared once per connection, not again on
    /// every run because a value was bound.
    #[tokio::test]
    async fn sqlite_is_built_with_the_planner_stability_guarantee() {
        use sea_orm::{ConnectionTrait, Statement};
        let db = connect("sqlite::memory:").await.expect("connect");
        let asked = Statement::from_string(
            db.get_database_backend(),
            "SELECT sqlite_compileoption_used('ENABLE_QPSG') AS used",
        );
        let row = db
            .query_one_raw(asked)
            .await
            .expect("query")
            .expect("a row");
        let used: i32 = row.try_get("", "used").expect("column");
        assert_eq!(used, 1, "SQLite was built without SQLITE_ENABLE_QPSG");
    }
}
