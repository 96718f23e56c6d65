//! The `whisper` binary: parses flags, sets up logging, and hands over to the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use whisper::config::{Cli, Command};

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
            let listener = tokio::net::TcpListener::bind(listen).await?;
            tracing::info!("Whisper listening on http://{}", listener.local_addr()?);
            whisper::run(state, listener, whisper::shutdown_signal()).await
        }
        Command::CreateUser { name, admin, staff } => {
            whisper::cli::create_user(&config.database_url, &name, admin, staff).await
        }
    }
}
