//! Shared test harness: a real server on `127.0.0.1:0` over a fresh database, and a tiny
//! cookie-keeping HTTP client that does not follow redirects (tests assert where they point).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sea_orm::{ConnectionTrait, Database};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use whisper::config::Config;

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

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub database_url: String,
    /// The running server's shared state (its hub, its test hold points).
    pub state: whisper::state::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(database_url: String) -> TestServer {
        Self::start_with(Config::for_database(database_url)).await
    }

    pub async fn start_with(config: Config) -> TestServer {
        let database_url = config.database_url.clone();
        let state = whisper::build_state(config).await.expect("server state");
        let shared = state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
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
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A client with no session.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.url(""),
            cookie: None,
        }
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

/// A server started with `config`, with admin `root` (staff) and the given plain users, all
/// signed in.
pub async fn server_with_users(
    config: Config,
    names: &[&str],
) -> (TestServer, Client, Vec<Client>) {
    let server = TestServer::start_with(config).await;
    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    let mut users = Vec::new();
    for name in names {
        server.create_user(&mut admin, name, "a-password").await;
        users.push(server.login(name, "a-password").await);
    }
    (server, admin, users)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HTTP client holding one session cookie, like one browser profile.
pub struct Client {
    pub http: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
}

impl Client {
    fn remember(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap().to_owned();
            if value.contains("Max-Age=0") || pair.ends_with('=') {
                self.cookie = None;
            } else {
                self.cookie = Some(pair);
            }
        }
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let request = self.with_cookie(self.http.get(format!("{}{path}", self.base)));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.with_cookie(self.http.post(format!("{}{path}", self.base)).form(form));
        let response = request.send().await.unwrap();
        self.remember(&response);
        response
    }

    /// A POST as a browser on another site would send it.
    pub async fn post_form_from(
        &mut self,
        origin: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let request = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)).form(form))
            .header("origin", origin);
        request.send().await.unwrap()
    }

    /// The body of a page that must load with 200, without the `<!>` hydration markers Leptos
    /// puts between adjacent text nodes (so "Welcome, bob" reads as it shows).
    pub async fn page(&mut self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap().replace("<!>", "")
    }
}

/// Where a redirect points (panics if the response is not a 303).
pub fn location(response: &reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "expected a redirect from {}",
        response.url()
    );
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Runs a test body once on SQLite and once on PostgreSQL (skipped or failed per
/// `fresh_database` when PostgreSQL is missing).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let database = $crate::common::fresh_database($crate::common::Backend::Sqlite).await.unwrap();
                    super::$name(database.url.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(database) = $crate::common::fresh_database($crate::common::Backend::Postgres).await {
                        super::$name(database.url.clone()).await;
                    }
                }
            )*
        }
    };
}

/// A WebSocket client speaking the protocol, like one browser tab.
pub struct Tab {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_request: u64,
}

/// How long a test waits for an event that must come before calling it missing. A bound on a
/// hang, not a delay: every wait returns as soon as its event arrives.
pub const EVENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Tab {
    /// Opens a socket with `client`'s session and reads its `hello`.
    pub async fn open(server: &TestServer, client: &Client) -> (Tab, protocol::ServerEvent) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{}/ws", server.addr)
            .into_client_request()
            .unwrap();
        let cookie = client.cookie.clone().expect("signed in");
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut tab = Tab {
            socket,
            next_request: 1,
        };
        let hello = tab.next().await;
        assert!(
            matches!(hello, protocol::ServerEvent::Hello { .. }),
            "{hello:?}"
        );
        (tab, hello)
    }

    /// The next event (pings skipped); panics after [`EVENT_TIMEOUT`] or on close.
    pub async fn next(&mut self) -> protocol::ServerEvent {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("an event in time")
                .expect("socket open")
                .expect("a frame");
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).expect("a ServerEvent"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next event, or `None` once the server closed the socket (or it broke); panics
    /// after [`EVENT_TIMEOUT`] of silence.
    pub async fn next_or_closed(&mut self) -> Option<protocol::ServerEvent> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("an event in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).expect("a ServerEvent"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(_))) => panic!("unexpected binary frame"),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
            }
        }
    }

    /// Skips events until one matches; returns it.
    pub async fn until<T>(
        &mut self,
        mut want: impl FnMut(protocol::ServerEvent) -> Option<T>,
    ) -> T {
        loop {
            if let Some(found) = want(self.next().await) {
                return found;
            }
        }
    }

    pub async fn command(
        &mut self,
        build: impl FnOnce(protocol::RequestId) -> protocol::ClientCommand,
    ) -> protocol::RequestId {
        use futures_util::SinkExt;
        let request_id = protocol::RequestId(self.next_request);
        self.next_request += 1;
        let json = serde_json::to_string(&build(request_id)).unwrap();
        self.socket.send(json.into()).await.unwrap();
        request_id
    }

    pub async fn send_raw(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.socket.send(text.into()).await.unwrap();
    }

    /// Joins a room and waits for its `joined`.
    pub async fn join(&mut self, room: protocol::RoomId) -> Vec<protocol::Member> {
        self.command(|request_id| protocol::ClientCommand::Join {
            request_id,
            room_id: room,
        })
        .await;
        self.until(|event| match event {
            protocol::ServerEvent::Joined {
                room: info,
                members,
                ..
            } if info.id == room => Some(members),
            _ => None,
        })
        .await
    }

    /// Sends a message with a nonce no other `say` in this test process uses.
    pub async fn say(&mut self, room: protocol::RoomId, body: &str) -> protocol::RequestId {
        static NEXT_NONCE: AtomicU32 = AtomicU32::new(0);
        let body = body.to_owned();
        let nonce = format!("say-{}", NEXT_NONCE.fetch_add(1, Ordering::Relaxed));
        self.command(|request_id| protocol::ClientCommand::Send {
            request_id,
            room_id: room,
            body,
            nonce,
        })
        .await
    }

    /// The error answering `request_id`.
    pub async fn error_for(&mut self, request_id: protocol::RequestId) -> protocol::ErrorCode {
        self.until(|event| match event {
            protocol::ServerEvent::Error {
                request_id: Some(id),
                code,
                ..
            } if id == request_id => Some(code),
            _ => None,
        })
        .await
    }

    /// Every event before the answer to a fresh ping. The server answers commands in order and
    /// fan-out frames are queued before later replies, so once every sender has seen its own
    /// message come back, this returns everything that was going to reach this tab.
    pub async fn drain(&mut self) -> Vec<protocol::ServerEvent> {
        let ping = self
            .command(|request_id| protocol::ClientCommand::Ping { request_id })
            .await;
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                protocol::ServerEvent::Pong { request_id } if request_id == ping => return seen,
                event => seen.push(event),
            }
        }
    }

    /// Waits for the socket to be closed by the server; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("closed in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return 1006,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// The messages (room, body) among `events`.
pub fn messages(events: &[protocol::ServerEvent]) -> Vec<(protocol::RoomId, String)> {
    events
        .iter()
        .filter_map(|event| match event {
            protocol::ServerEvent::Message { message } => {
                Some((message.room_id, message.body.clone()))
            }
            _ => None,
        })
        .collect()
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
            form.push(("staff_only", "true"));
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
