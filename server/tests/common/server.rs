//! A real server on `127.0.0.1:0`, and the one way to get it with its people: an admin `root`
//! (staff) and plain users, all signed in.

use super::http::{Client, location};
use std::net::SocketAddr;
use whisper::config::Config;

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub database_url: String,
    /// The running server's shared state (its hub, its test hold points).
    pub state: whisper::state::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(database_url: String) -> TestServer {
        Self::start_with(Config::for_database(database_url)).await
    }

    pub async fn start_with(config: Config) -> TestServer {
        let database_url = config.database_url.clone();
        let state = whisper::build_state(config).await.expect("server state");
        let shared = state.clone();
        // Bound as the binary binds, listen queue and all.
        let listener = whisper::http::serve::bind(([127, 0, 0, 1], 0).into()).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(async move {
            whisper::run(state, listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestServer {
            addr,
            database_url,
            state: shared,
            shutdown: Some(tx),
            running: Some(running),
        }
    }

    /// Tells the server to stop (as SIGTERM does); the handle ends when `run` has returned.
    pub fn stop(&mut self) -> tokio::task::JoinHandle<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.running.take().expect("still running")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with no session.
    pub fn client(&self) -> Client {
        Client::new(self.url(""))
    }

    /// Runs first-run set-up, returning the signed-in admin's client.
    pub async fn setup_admin(&self, name: &str, password: &str) -> Client {
        let mut admin = self.client();
        let response = admin
            .post_form(
                "/auth/setup",
                &[
                    ("username", name),
                    ("password", password),
                    ("password_confirm", password),
                ],
            )
            .await;
        assert_eq!(location(&response), "/");
        assert!(admin.cookie.is_some(), "set-up signs the admin in");
        admin
    }

    /// As `admin`, creates a plain user.
    pub async fn create_user(&self, admin: &mut Client, name: &str, password: &str) {
        let response = admin
            .post_form(
                "/admin/users",
                &[("username", name), ("password", password)],
            )
            .await;
        assert_eq!(location(&response), "/admin/users?notice=user_created");
    }

    /// Logs `name` in, returning their client.
    pub async fn login(&self, name: &str, password: &str) -> Client {
        let mut client = self.client();
        let response = client
            .post_form("/auth/login", &[("username", name), ("password", password)])
            .await;
        assert_eq!(location(&response), "/", "log-in as {name} succeeds");
        client
    }
}

/// Settings for tests that post, join and search quickly on purpose: limits no test reaches
/// by accident (the limits themselves are tested with the defaults).
pub fn generous_limits(database_url: &str) -> Config {
    let mut config = Config::for_database(database_url);
    config.sends_per_second = 10_000;
    config.joins_per_second = 10_000;
    config.searches_per_second = 10_000;
    config
}

/// A server started with `config`, with admin `root` (staff) and the given plain users, all
/// signed in.
pub async fn server_with_users(
    config: Config,
    names: &[&str],
) -> (TestServer, Client, Vec<Client>) {
    let server = TestServer::start_with(config).await;
    let (admin, users) = server.with_users(names).await;
    (server, admin, users)
}

impl TestServer {
    /// On a server not set up yet (or a second node of one): the admin `root` (staff, password
    /// `s3cret-pass`) and these plain users (password `a-password`), all signed in.
    pub async fn with_users(&self, names: &[&str]) -> (Client, Vec<Client>) {
        let mut admin = self.setup_admin("root", "s3cret-pass").await;
        let mut users = Vec::new();
        for name in names {
            self.create_user(&mut admin, name, "a-password").await;
            users.push(self.login(name, "a-password").await);
        }
        (admin, users)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl TestServer {
    /// As `admin`, creates a room and returns its id.
    pub async fn create_room(
        &self,
        admin: &mut Client,
        title: &str,
        staff_only: bool,
    ) -> protocol::RoomId {
        let mut form = vec![("title", title)];
        if staff_only {
            form.push(("kind", "staff_only"));
        }
        let response = admin.post_form("/admin/rooms", &form).await;
        assert_eq!(location(&response), "/admin/rooms?notice=room_created");
        let rooms: Vec<protocol::RoomInfo> = admin
            .post_form("/api/list_rooms", &[])
            .await
            .json()
            .await
            .unwrap();
        rooms
            .iter()
            .rev()
            .find(|room| room.title == title)
            .expect("room listed")
            .id
    }

    /// As `admin`, the id of a user.
    pub async fn user_id(&self, admin: &mut Client, name: &str) -> protocol::UserId {
        let users: Vec<protocol::AdminUserView> = admin
            .post_form("/api/list_users", &[])
            .await
            .json()
            .await
            .unwrap();
        users
            .iter()
            .find(|user| user.username == name)
            .expect("user listed")
            .id
    }
}

/// Two nodes on one fresh PostgreSQL database and one Redis prefix, or `None` (skipped). The
/// database goes when its guard is dropped: bind it first, so that it outlives the nodes.
pub async fn two_nodes() -> Option<(super::TestDatabase, TestServer, TestServer)> {
    let database = super::fresh_database(super::Backend::Postgres).await?;
    let (redis, prefix) = super::fresh_redis().await?;
    let node = |database: &str| {
        let mut config = Config::for_database(database);
        config.redis_url = Some(redis.clone());
        config.redis_prefix = prefix.clone();
        config.sends_per_second = 10_000;
        config.joins_per_second = 10_000;
        // A node that dies shows its users offline on the other within seconds.
        config.presence_ttl_seconds = 2.0;
        config
    };
    let a = TestServer::start_with(node(&database.url)).await;
    let b = TestServer::start_with(node(&database.url)).await;
    Some((database, a, b))
}
