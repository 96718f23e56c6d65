//! The `whisper` binary: parses flags, sets up logging, and hands over to the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use whisper::config::{Cli, Command};

/// jemalloc, whose background threads return freed memory to the system within seconds: a
/// burst of log-ins (19 MiB per password hash) would otherwise leave the server holding
/// hundreds of MB for good in glibc's per-thread arenas.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let Cli { config, command } = Cli::parse();
    match command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let listen = config.listen;
            let state = whisper::build_state(config).await?;
            let listener = whisper::http::serve::bind(listen)?;
            tracing::info!("Whisper listening on http://{}", listener.local_addr()?);
            whisper::run(state, listener, whisper::shutdown_signal()).await
        }
        Command::CreateUser { name, admin, staff } => {
            whisper::cli::create_user(&config.database_url, &name, admin, staff).await
        }
        Command::Backup { path } => whisper::cli::backup(&config.database_url, &path).await,
    }
}
