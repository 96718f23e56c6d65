//! Every setting in one place: command-line flags, each with an environment variable.

use crate::pause::Pauses;
use clap::{Args, Parser, Subcommand};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// `whisper [serve]` runs the server; `whisper create-user` adds an account from a script;
/// `whisper backup PATH` copies the database.
#[derive(Debug, Parser)]
#[command(name = "whisper", version, about = "Real-time multi-room chat server")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP and WebSockets (the default).
    Serve,
    /// Create an account. The password is read from the terminal, or from the first line of
    /// standard input when that is not a terminal.
    CreateUser {
        /// Username: 1 to 32 letters, digits, dots, dashes or underscores.
        name: String,
        /// May manage rooms and users.
        #[arg(long)]
        admin: bool,
        /// May enter staff-only rooms.
        #[arg(long)]
        staff: bool,
    },
    /// Copy the SQLite database, live, to a new file (a consistent snapshot). For PostgreSQL it
    /// says how to use pg_dump instead.
    Backup {
        /// The new file to write; it must not exist.
        path: PathBuf,
    },
}

/// Server settings.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database: a SQLite file (created when missing) or a PostgreSQL URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://whisper.db?mode=rwc"
    )]
    pub database_url: String,

    /// Redis, for fan-out between nodes (`redis://host:port`). Unset: one node, in-process
    /// fan-out.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Prefix of every Redis channel this deployment uses, so several deployments (or test
    /// runs) can share one Redis.
    #[arg(long, env = "WHISPER_REDIS_PREFIX", default_value = "whisper")]
    pub redis_prefix: String,

    /// Address to listen on.
    #[arg(long, env = "WHISPER_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Folder with the built site (the WASM bundle and CSS under `pkg/`). Unset: the site a
    /// release binary carries inside itself, or else `target/site`.
    #[arg(long, env = "LEPTOS_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// Mark the session cookie `Secure` (set this when serving over HTTPS).
    #[arg(long, env = "WHISPER_COOKIE_SECURE")]
    pub cookie_secure: bool,

    /// Origins allowed to post forms and open WebSockets, comma-separated
    /// (e.g. `https://chat.example.com`). Empty: only the server's own origin, taken from the
    /// request's Host header.
    #[arg(long, env = "WHISPER_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// Let anyone create an account on /signup. Off: only admins create accounts.
    #[arg(long, env = "WHISPER_OPEN_SIGNUP")]
    pub open_signup: bool,

    /// Who may create rooms from the chat page: `everyone` (open and closed rooms) or
    /// `admins`. Direct conversations are open to everyone either way.
    #[arg(long, env = "WHISPER_ROOM_CREATION", value_enum, default_value_t = RoomCreation::Everyone)]
    pub room_creation: RoomCreation,

    /// Failed-or-not log-in attempts allowed per username per minute.
    #[arg(long, env = "WHISPER_LOGIN_PER_USER_PER_MINUTE", default_value_t = 5)]
    pub login_per_user_per_minute: u32,

    /// Log-in attempts allowed per client IP address per minute.
    #[arg(long, env = "WHISPER_LOGIN_PER_IP_PER_MINUTE", default_value_t = 30)]
    pub login_per_ip_per_minute: u32,

    /// Messages each user may send per second (bursts of three seconds' worth).
    #[arg(long, env = "WHISPER_SENDS_PER_SECOND", default_value_t = 10)]
    pub sends_per_second: u32,

    /// Room joins and leaves each user may make per second.
    #[arg(long, env = "WHISPER_JOINS_PER_SECOND", default_value_t = 5)]
    pub joins_per_second: u32,

    /// Message searches each user may run per second (bursts of three seconds' worth).
    #[arg(long, env = "WHISPER_SEARCHES_PER_SECOND", default_value_t = 2)]
    pub searches_per_second: u32,

    /// Sockets one user may have open on one node (tabs and devices together).
    #[arg(long, env = "WHISPER_MAX_SOCKETS_PER_USER", default_value_t = 50)]
    pub max_sockets_per_user: usize,

    /// Seconds between WebSocket pings; a socket silent for 2.5 times this is dropped, and so is
    /// one whose writes make no progress that long (a peer that stopped reading).
    #[arg(long, env = "WHISPER_HEARTBEAT_SECONDS", default_value_t = 30.0)]
    pub heartbeat_seconds: f64,

    /// Seconds a node's presence entry in Redis outlives its last heartbeat (sent every third
    /// of this): how long the users of a node that died still show as online elsewhere.
    #[arg(long, env = "WHISPER_PRESENCE_TTL_SECONDS", default_value_t = 15.0)]
    pub presence_ttl_seconds: f64,

    /// Seconds a client may take to send a request's headers; slower connections are closed.
    #[arg(long, env = "WHISPER_HEADER_TIMEOUT_SECONDS", default_value_t = 10.0)]
    pub header_timeout_seconds: f64,

    /// Seconds a request may take, body included; slower requests get 408.
    #[arg(long, env = "WHISPER_BODY_TIMEOUT_SECONDS", default_value_t = 30.0)]
    pub body_timeout_seconds: f64,

    /// How long a session lasts after log-in, in days.
    #[arg(long, env = "WHISPER_SESSION_DAYS", default_value_t = 30)]
    pub session_days: u32,

    /// Addresses of reverse proxies (load balancers) in front of this server, comma-separated
    /// (e.g. `127.0.0.1,10.0.0.2`). A request from one of them is counted, for per-address
    /// limits, as coming from the client its `X-Forwarded-For` header names. Empty: the header
    /// is ignored (anyone could write it) and the TCP peer counts.
    #[arg(long, env = "WHISPER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,

    /// Bearer token Prometheus must send to read `/metrics`
    /// (`Authorization: Bearer <token>`); make it long and random (`openssl rand -hex 32`).
    /// Unset or empty: `/metrics` answers 404.
    #[arg(long, env = "WHISPER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Hold points for tests (see `pause`); never set outside tests.
    #[arg(skip)]
    pub pauses: Pauses,
}

/// Who may create rooms (`WHISPER_ROOM_CREATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoomCreation {
    Everyone,
    Admins,
}

impl Config {
    /// The WebSocket ping interval (at least 100 ms).
    pub fn heartbeat(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.heartbeat_seconds.max(0.1))
    }

    /// How long a node's presence entry outlives its last heartbeat (at least 1 s).
    pub fn presence_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.presence_ttl_seconds.max(1.0))
    }

    /// How long a client may take over a request's headers (at least 100 ms).
    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.header_timeout_seconds.max(0.1))
    }

    /// How long a client may take over a request's body (at least 100 ms).
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.body_timeout_seconds.max(0.1))
    }

    /// Defaults for everything, with the given database: what tests start from.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let cli = Cli::parse_from(["whisper"]);
        Config {
            database_url: database_url.into(),
            redis_url: None,
            ..cli.config
        }
    }
}
