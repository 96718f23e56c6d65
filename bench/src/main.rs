//! Whisper's load generator. It drives a running server the way browsers do (HTTP log-in, one
//! WebSocket per client, the protocol crate's commands) and reads the server's CPU time and
//! memory from `/proc/<pid>`, so results can be put per server CPU-second.
//!
//! # Layout
//!
//! - `setup`: the admin session, rooms and users the runs need (created once, reused).
//! - `socket`: one WebSocket client.
//! - `pacing`: when load clients send, and when they stop listening.
//! - `report`: latency percentiles as printed.
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
mod report;
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
    #[command(flatten)]
    Whisper(WhisperCommand),
    /// A bare TCP broadcaster on one thread (no database, no protocol): the machine's floor
    /// for a delivery. Run it as the server of `floor-load`.
    FloorServe(floor::ServeArgs),
    /// The fan-out shapes against `floor-serve`; pass its process id as `--server-pid`.
    FloorLoad(floor::LoadArgs),
}

/// The commands run against a Whisper server, as its admin.
#[derive(Debug, Subcommand)]
enum WhisperCommand {
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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The runtime is built here, not by `#[tokio::main]`, because `floor-serve` runs one of
    // its own, on one thread, which cannot be started inside another.
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match cli.command {
        Command::FloorServe(args) => floor::serve(args),
        Command::FloorLoad(args) => runtime()?.block_on(floor::load(cli.server_pid, args)),
        Command::Whisper(command) => {
            let against = Against {
                url: cli.url,
                admin: cli.admin,
                server_pid: cli.server_pid,
                session_cache: cli.session_cache,
            };
            runtime()?.block_on(against.run(command))
        }
    }
}

/// The Whisper server a command runs against, and how to sign in to it.
struct Against {
    url: String,
    admin: String,
    server_pid: Vec<u32>,
    session_cache: Option<std::path::PathBuf>,
}

impl Against {
    async fn run(self, command: WhisperCommand) -> anyhow::Result<()> {
        let (name, password) = self
            .admin
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("--admin must be NAME:PASSWORD"))?;
        let admin = std::sync::Arc::new(
            setup::Admin::sign_in(&self.url, name, password, self.session_cache.clone()).await?,
        );
        match command {
            WhisperCommand::Fanout(args) => fanout::run(admin, self.server_pid, args).await,
            WhisperCommand::Idle(args) => {
                idle::run(admin, self.server_pid.first().copied(), args).await
            }
            WhisperCommand::History(args) => history::run(admin, args).await,
            WhisperCommand::Search(args) => search::run(admin, args).await,
            WhisperCommand::Storm(args) => storm::run(admin, self.server_pid, args).await,
        }
    }
}
