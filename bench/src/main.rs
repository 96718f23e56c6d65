//! Whisper's load generator. It drives a running server the way browsers do (HTTP log-in, one
//! WebSocket per client, the protocol crate's commands) and reads the server's CPU time and
//! memory from `/proc/<pid>`, so results can be put per server CPU-second.
//!
//! # Layout
//!
//! - `setup`: the admin session, rooms and users the runs need (created once, reused).
//! - `socket`: one WebSocket client.
//! - `pacing`: when load clients send, and when they stop listening.
//! - `server_stats`: CPU seconds and resident memory of the server process.
//! - `fanout`: senders at a fixed rate, every member counting deliveries and latency.
//! - `idle`: memory per idle socket.
//! - `history`: latency of history pages, for rooms of any size.
//! - `search`: search latency over generated text (filled through the server).
//! - `storm`: thousands of sockets connecting at once; part of them dropping, reconnecting
//!   and catching up.
//! - `floor`: a bare broadcaster and its load, no Whisper in it: the machine's own cost of a
//!   delivery, to read the others against.
//!
//! Run the server with limits that let one machine act as thousands of users, for example:
//! `WHISPER_LOGIN_PER_IP_PER_MINUTE=1000000 WHISPER_SENDS_PER_SECOND=1000 whisper`.
//! BENCHMARKS.md has the exact commands behind each figure.

mod fanout;
mod floor;
mod history;
mod idle;
mod pacing;
mod search;
mod server_stats;
mod setup;
mod socket;
mod storm;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "bench", about = "Load generator for a running Whisper server")]
struct Cli {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000", global = true)]
    url: String,
    /// Admin account as NAME:PASSWORD; created by first-run set-up if the server has none.
    #[arg(long, default_value = "bench-admin:bench-password", global = true)]
    admin: String,
    /// The server's process id, to read its CPU time and memory; with several nodes, their
    /// ids separated by commas (CPU and memory are summed).
    #[arg(long, global = true, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// A file keeping bench users' session cookies between runs, so a run against the same
    /// database (or a copy of the one that wrote it) skips their log-ins.
    #[arg(long, global = true)]
    session_cache: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fan-out throughput: R rooms of C members; S of them send M messages per second each.
    Fanout(fanout::Args),
    /// Server memory per idle WebSocket.
    Idle(idle::Args),
    /// Round trip of history pages in one room (fill it first; see BENCHMARKS.md).
    History(history::Args),
    /// Search latency by kind of query (fill the rooms first with `--fill`).
    Search(search::Args),
    /// Connect storm: thousands of sockets open at once, then part of them drop, reconnect
    /// and catch up.
    Storm(storm::Args),
    /// A bare TCP broadcaster on one thread (no database, no protocol): the machine's floor
    /// for a delivery. Run it as the server of `floor-load`.
    FloorServe(floor::ServeArgs),
    /// The fan-out shapes against `floor-serve`; pass its process id as `--server-pid`.
    FloorLoad(floor::LoadArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::FloorServe(args) = cli.command {
        return floor::serve(args);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::FloorLoad(args) = cli.command {
        return floor::load(cli.server_pid, args).await;
    }
    let (name, password) = cli
        .admin
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("--admin must be NAME:PASSWORD"))?;
    let admin = std::sync::Arc::new(
        setup::Admin::sign_in(&cli.url, name, password, cli.session_cache.clone()).await?,
    );
    match cli.command {
        Command::Fanout(args) => fanout::run(admin, cli.server_pid, args).await,
        Command::Idle(args) => idle::run(admin, cli.server_pid.first().copied(), args).await,
        Command::History(args) => history::run(admin, args).await,
        Command::Search(args) => search::run(admin, args).await,
        Command::Storm(args) => storm::run(admin, cli.server_pid, args).await,
        Command::FloorServe(_) | Command::FloorLoad(_) => {
            anyhow::bail!("the floor's commands need no Whisper server")
        }
    }
}
