//! Databases and Redis for one test each, cleaned up after it.

use sea_orm::{ConnectionTrait, Database};
use std::sync::atomic::{AtomicU32, Ordering};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database for one test, removed again when dropped (after a failure too), so
/// repeated runs leave nothing behind. `None` when PostgreSQL is not configured (the test is
/// then skipped with a message, or fails under `REQUIRE_SERVICES=1`).
pub async fn fresh_database(backend: Backend) -> Option<TestDatabase> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let unique = format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("whisper_test_{unique}.db"));
            Some(TestDatabase {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                place: Place::File(path),
            })
        }
        Backend::Postgres => {
            let required = std::env::var("REQUIRE_SERVICES").is_ok_and(|v| v == "1");
            let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
                assert!(
                    !required,
                    "REQUIRE_SERVICES=1 but TEST_DATABASE_URL is not set"
                );
                eprintln!("skipped: TEST_DATABASE_URL is not set");
                return None;
            };
            let admin = match Database::connect(&base).await {
                Ok(admin) => admin,
                Err(err) => {
                    assert!(
                        !required,
                        "REQUIRE_SERVICES=1 but PostgreSQL is unreachable: {err}"
                    );
                    eprintln!("skipped: PostgreSQL at TEST_DATABASE_URL unreachable: {err}");
                    return None;
                }
            };
            let name = format!("whisper_test_{unique}");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
            Some(TestDatabase {
                url: format!("{prefix}/{name}"),
                place: Place::Postgres { base, name },
            })
        }
    }
}

/// One test's database; see [`fresh_database`].
pub struct TestDatabase {
    pub url: String,
    place: Place,
}

enum Place {
    File(std::path::PathBuf),
    Postgres { base: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.place {
            Place::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Place::Postgres { base, name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on: a thread
                // with a runtime of its own does the dropping. FORCE ends the connections
                // that servers still shutting down hold.
                let (base, name) = (base.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async {
                        let admin = Database::connect(&base).await?;
                        admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await?;
                        admin.close().await
                    })?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
                .join();
                if let Ok(Err(err)) = dropped {
                    eprintln!("could not drop test database: {err}");
                }
            }
        }
    }
}

/// A Redis URL and a channel prefix of its own for one test, or `None` (skipped) when
/// Redis is unreachable — a failure instead under `REQUIRE_SERVICES=1`.
pub async fn fresh_redis() -> Option<(String, String)> {
    use fred::interfaces::ClientLike;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let required = std::env::var("REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let reachable = match fred::prelude::Builder::from_config(
        fred::prelude::Config::from_url(&url).expect("a Redis URL"),
    )
    .build()
    {
        Ok(client) => {
            let connected = tokio::time::timeout(std::time::Duration::from_secs(3), client.init())
                .await
                .is_ok_and(|init| init.is_ok());
            let _ = client.quit().await;
            connected
        }
        Err(_) => false,
    };
    if !reachable {
        assert!(
            !required,
            "REQUIRE_SERVICES=1 but Redis at {url} is unreachable"
        );
        eprintln!("skipped: Redis at {url} is unreachable");
        return None;
    }
    let prefix = format!(
        "whisper-test-{}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    Some((url, prefix))
}
