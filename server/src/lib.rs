//! Whisper's server: the pages (rendered by the `app` crate), accounts, and the WebSocket.
//!
//! The `whisper` binary (`main.rs`) only parses flags and calls into this library, so tests start
//! the very same server on `127.0.0.1:0` with [`run`].
//!
//! # Layout
//!
//! - [`config`]: every setting, as flags with environment variables.
//! - [`state`]: [`state::AppState`], what all handlers share.
//! - [`db`]: connection, migrations, one module per aggregate (`users`, `sessions`), and the
//!   message writer (`db::message_writer`), which stores every post.
//! - [`http`]: the HTTP transport — the server loop, security headers, accounts and sessions
//!   (`http::auth`), the admin area's forms (`http::admin`), health probes.
//! - [`ws`]: the `/ws` endpoint: one socket per tab, commands in, events out.
//! - [`chat`]: the domain — the one access policy, membership, socket open/close hooks, and
//!   one function per happening (message posted, room renamed, …) → envelopes.
//! - [`fanout`]: delivery — envelopes, this node's hub of sockets, and the broker that carries
//!   envelopes to every node's hub (in process, or over Redis pub/sub with `REDIS_URL`).
//! - [`metrics`]: counters and histograms for `/metrics` (Prometheus).
//! - [`pause`]: hold points that let tests interleave the two sides of a race.
//! - [`backend`]: what the pages' server functions read, provided to Leptos as context.
//! - [`cli`]: `whisper create-user` and `whisper backup`.
//!
//! # A request's path
//!
//! `TraceLayer` → [`http::security_headers`] → a request deadline → [`http::auth::origin`]
//! (refuses cross-site POSTs) → [`http::auth::gate`] (finds the user, redirects or refuses) → a
//! form handler, the WebSocket upgrade, a server function, or a Leptos page rendered with the
//! `app` crate.
//!
//! # A chat message's path
//!
//! socket reader ([`ws`]) → [`ws::commands`] → [`chat::messages`] asks [`chat::access`] and
//! checks limits →
//! [`db::message_writer`] stores it (membership confirmed and seq assigned in the same
//! transaction, posts batched per commit) → [`chat::events`] serializes the event once →
//! [`fanout::broker`] → each node's [`fanout::hub`] queues the same bytes on each member socket
//! the policy lets read → that socket's writer task. Clients keep messages by seq and fill any
//! hole from the database (`missed`), so an event lost between nodes delays a message, never
//! loses it.

pub mod backend;
pub mod chat;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod fanout;
pub mod http;
pub mod metrics;
pub mod pause;
pub mod state;
pub mod ws;

use crate::backend::ServerBackend;
use crate::chat::limits::CommandLimits;
use crate::chat::presence::Presence;
use crate::config::Config;
use crate::db::message_writer::MessageWriter;
use crate::fanout::broker::Broker;
use crate::fanout::broker::local::LocalBroker;
use crate::fanout::broker::redis::RedisBroker;
use crate::fanout::hub::Hub;
use crate::http::{admin, auth, health, security_headers, serve, site};
use crate::metrics::Metrics;
use crate::state::{AppState, SetupState, Shared};
use app::backend::SharedBackend;
use app::{App, shell};
use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let db = db::connect(&config.database_url).await?;
    let site = site::Source::choose(config.site_root.clone());
    let leptos_options = LeptosOptions::builder()
        .output_name("whisper")
        .site_root(site.root().to_string_lossy().into_owned())
        .site_pkg_dir(site.pkg_dir())
        .site_addr(config.listen)
        .build();
    let login_limiter = auth::rate_limit::LoginLimiter::new(
        config.login_per_user_per_minute,
        config.login_per_ip_per_minute,
    );
    let command_limits = CommandLimits::new(
        config.sends_per_second,
        config.joins_per_second,
        config.searches_per_second,
    );
    let metrics = Metrics::default();
    let messages = MessageWriter::start(&config.database_url, &db, &metrics).await?;
    let hub = Arc::new(Hub::new(metrics.clone()));
    let broker: Arc<dyn Broker> = match &config.redis_url {
        Some(url) => {
            Arc::new(RedisBroker::start(url, &config.redis_prefix, Arc::clone(&hub)).await?)
        }
        None => Arc::new(LocalBroker::new(Arc::clone(&hub))),
    };
    let presence = Arc::new(match &config.redis_url {
        Some(url) => {
            let ttl = config.presence_ttl();
            Presence::shared(Arc::clone(&hub), url, &config.redis_prefix, ttl).await?
        }
        None => Presence::local(Arc::clone(&hub)),
    });
    let (notes, heard) = tokio::sync::mpsc::unbounded_channel();
    hub.on_presence(notes);
    presence.follow(heard);
    Ok(AppState::new(Shared {
        messages,
        sockets: TaskTracker::new(),
        metrics,
        db,
        pauses: config.pauses.clone(),
        config: Arc::new(config),
        leptos_options,
        site,
        login_limiter: Arc::new(login_limiter),
        setup: Arc::new(SetupState::default()),
        command_limits: Arc::new(command_limits),
        search_gate: Arc::new(tokio::sync::Semaphore::new(chat::search::AT_ONCE)),
        hub,
        broker,
        presence,
        reads: Arc::default(),
    }))
}

/// Every route, wrapped in the middleware every request passes.
pub fn router(state: AppState) -> Router {
    let backend: SharedBackend = Arc::new(ServerBackend {
        db: state.db.clone(),
        open_signup: state.config.open_signup,
    });
    let leptos_options = state.leptos_options.clone();
    let mut router = Router::new();
    if state.site == site::Source::Embedded {
        router = router.route("/pkg/{hash}/{file}", get(site::embedded_file));
    }
    router
        .route("/auth/login", post(auth::handlers::login))
        .route("/auth/logout", post(auth::handlers::logout))
        .route(
            "/auth/logout_everywhere",
            post(auth::handlers::logout_everywhere),
        )
        .route("/auth/setup", post(auth::handlers::setup))
        .route("/auth/signup", post(auth::handlers::signup))
        .route("/admin/users", post(admin::users::create_user))
        .route("/admin/users/{id}/staff", post(admin::users::set_staff))
        .route("/admin/users/{id}/admin", post(admin::users::set_admin))
        .route(
            "/admin/users/{id}/disabled",
            post(admin::users::set_disabled),
        )
        .route(
            "/admin/users/{id}/password",
            post(admin::users::reset_password),
        )
        .route("/admin/rooms", post(admin::rooms::create))
        .route("/admin/rooms/{id}/title", post(admin::rooms::rename))
        .route("/admin/rooms/{id}/kind", post(admin::rooms::set_kind))
        .route("/admin/rooms/{id}/delete", post(admin::rooms::delete))
        .route("/ws", get(ws::upgrade))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(http::metrics::metrics))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            move || provide_context(backend.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn_with_state(state.clone(), auth::gate::gate))
        .layer(from_fn_with_state(
            state.clone(),
            auth::origin::reject_cross_site,
        ))
        // A whole-request deadline, not a per-read one: a body trickled a byte at a time would
        // never trip a timeout between reads. Upgraded sockets are not requests past the 101.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.body_timeout(),
        ))
        .layer(axum::middleware::from_fn(security_headers::add))
        .layer(axum::middleware::from_fn(site::revalidate_by_default))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Longest a stopping node waits for its sockets to send their close frames.
const SOCKETS_DRAIN: Duration = Duration::from_secs(10);

/// Serves on `listener` until `shutdown` resolves, then stops accepting, closes every socket
/// with 1012 (their clients reconnect, to another node behind a balancer, and catch up),
/// finishes open requests, and returns — within about 20 s however peers behave.
pub async fn run(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    spawn_housekeeping(&state);
    chat::membership::spawn_resettler(state.clone());
    spawn_presence_heartbeat(&state);
    let header_timeout = state.config.header_timeout();
    let hub = Arc::clone(&state.hub);
    let shutdown = async move {
        shutdown.await;
        // At once, not after the requests drain: sockets are closed in parallel with them.
        hub.shut_down();
    };
    serve::serve(listener, router(state.clone()), header_timeout, shutdown).await;
    // Gone from here at once, for every other node's next look.
    state.presence.leave().await;
    state.sockets.close();
    if tokio::time::timeout(SOCKETS_DRAIN, state.sockets.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = state.sockets.len(),
            "sockets still closing; stopping anyway"
        );
    }
    Ok(())
}

/// Keeps this node's presence entry alive and learns who came and went elsewhere, every third
/// of the entry's time to live.
fn spawn_presence_heartbeat(state: &AppState) {
    let state = state.clone();
    let every = state.config.presence_ttl() / 3;
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !state.hub.is_shut() {
            ticks.tick().await;
            state.presence.beat(&state.db).await;
        }
    });
}

/// Periodic chores that keep memory and tables bounded.
fn spawn_housekeeping(state: &AppState) {
    let login = Arc::clone(&state.login_limiter);
    let commands = Arc::clone(&state.command_limits);
    let state = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            login.prune();
            commands.prune();
            if let Err(err) = auth::session::end_expired(&state).await {
                tracing::warn!(%err, "deleting expired sessions failed");
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
