//! Server memory per idle WebSocket: one user opens N sockets (like N tabs) that only receive
//! `hello`, and the server's resident memory is compared before and after.

use crate::server_stats;
use crate::setup::Admin;
use crate::socket;
use anyhow::Context;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 5000)]
    clients: usize,
}

/// Sockets being opened at once.
const CONNECT_CONCURRENCY: usize = 64;

pub async fn run(admin: Arc<Admin>, server_pid: Option<u32>, args: Args) -> anyhow::Result<()> {
    let pid = server_pid.context("idle needs --server-pid")?;
    let cookie = admin
        .sessions(&["bench-idle".to_owned()])
        .await?
        .pop()
        .context("no session")?;
    // One socket first, so one-time allocations (pools, caches) are not counted per socket.
    let warm = socket::open(&admin.url, &cookie).await?;
    let before = server_stats::sample(pid)?;

    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (url, cookie, gate) = (admin.url.clone(), cookie.clone(), Arc::clone(&gate));
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            socket::open(&url, &cookie).await
        }));
    }
    let mut sockets = Vec::with_capacity(args.clients);
    for task in tasks {
        sockets.push(task.await??);
    }
    let after = server_stats::sample(pid)?;
    let per_socket =
        (after.rss_bytes.saturating_sub(before.rss_bytes)) as f64 / args.clients as f64;
    println!("idle: {} sockets open (each got its hello)", sockets.len());
    println!(
        "server RSS: {:.1} MB before, {:.1} MB after; {:.1} KB per idle socket",
        before.rss_bytes as f64 / 1e6,
        after.rss_bytes as f64 / 1e6,
        per_socket / 1024.0
    );
    drop(sockets);
    drop(warm);
    Ok(())
}
