//! The binary's memory after a burst of log-ins: each password check takes 19 MiB (argon2's
//! blocks), and an idle server must hand that back to the system, not keep it for good.
//!
//! The allocator returns memory on a clock (jemalloc's decay, about 10 s), so this waits for
//! the resident size to come down, up to a bound; it asserts what an operator sees in `top`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::process::{Served, create_user};
use common::{Backend, Client, fresh_database};
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_returns_to_idle_after_a_burst_of_log_ins() {
    let database = fresh_database(Backend::Sqlite).await.unwrap();
    assert!(
        create_user(&database.url, &["ops"], "a-password")
            .status
            .success()
    );
    let served = Served::start(
        &database.url,
        &[
            ("WHISPER_LOGIN_PER_USER_PER_MINUTE", "1000"),
            ("WHISPER_LOGIN_PER_IP_PER_MINUTE", "1000"),
        ],
    );
    let log_in = |password: &'static str| {
        let mut client = Client::new(served.url());
        async move {
            client
                .post_form(
                    "/auth/login",
                    &[("username", "ops"), ("password", password)],
                )
                .await
                .status()
        }
    };
    // Resident before any log-in: what an idle server holds.
    let idle = served.resident_bytes();

    // 48 log-ins, 8 at a time, right and wrong passwords alike.
    for _ in 0..6 {
        let burst: Vec<_> = (0..8)
            .map(|n| tokio::spawn(log_in(if n % 2 == 0 { "a-password" } else { "wrong" })))
            .collect();
        for attempt in burst {
            assert!(attempt.await.unwrap().is_redirection());
        }
    }
    let after_burst = served.resident_bytes();
    assert!(
        after_burst > idle + 16 * MIB,
        "the burst grew the server (idle {} MiB, after {} MiB); else this test shows nothing",
        idle / MIB,
        after_burst / MIB
    );

    // Back to idle, give or take what the burst left in caches (SQLite's pages, sessions).
    let settled = idle + 16 * MIB;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut now = after_burst;
    while now > settled && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        now = served.resident_bytes();
    }
    eprintln!(
        "resident: idle {} MiB, after the burst {} MiB, then {} MiB",
        idle / MIB,
        after_burst / MIB,
        now / MIB
    );
    assert!(
        now <= settled,
        "idle {} MiB, after the burst {} MiB, a minute later still {} MiB",
        idle / MIB,
        after_burst / MIB,
        now / MIB
    );
}
