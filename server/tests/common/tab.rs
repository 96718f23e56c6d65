//! A WebSocket client speaking the protocol, like one browser tab.

use super::http::Client;
use super::server::TestServer;
use std::sync::atomic::{AtomicU32, Ordering};

/// A WebSocket client speaking the protocol, like one browser tab.
pub struct Tab {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_request: u64,
}

/// Every room a `hello` lists: the ones everyone sees, then the user's private ones.
pub fn listed_rooms(hello: &protocol::ServerEvent) -> Vec<protocol::RoomInfo> {
    let protocol::ServerEvent::Hello {
        rooms,
        private_rooms,
        ..
    } = hello
    else {
        panic!("not a hello: {hello:?}");
    };
    let mut listed = rooms.clone().decode().expect("the rooms decode");
    listed.extend(private_rooms.iter().cloned());
    listed
}

/// How long a test waits for an event that must come before calling it missing. A bound on a
/// hang, not a delay: every wait returns as soon as its event arrives.
pub const EVENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl Tab {
    /// Opens a socket with `client`'s session and reads its `hello`.
    pub async fn open(server: &TestServer, client: &Client) -> (Tab, protocol::ServerEvent) {
        let cookie = client.cookie.clone().expect("signed in");
        let mut tab = Tab::connect(server, Some(&cookie), None).await.unwrap();
        let hello = tab.next().await;
        assert!(
            matches!(hello, protocol::ServerEvent::Hello { .. }),
            "{hello:?}"
        );
        (tab, hello)
    }

    /// Asks for an upgrade with this cookie and `Origin` (each optional), reading nothing: the
    /// upgrade's refusal, or a socket whose `hello` is next.
    pub async fn connect(
        server: &TestServer,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Tab, tokio_tungstenite::tungstenite::Error> {
        Tab::connect_to(server.addr, cookie, origin).await
    }

    /// [`Tab::connect`] to a server at `addr` (one this test did not start in process).
    pub async fn connect_to(
        addr: std::net::SocketAddr,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Result<Tab, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().unwrap());
        }
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Tab {
            socket,
            next_request: 1,
        })
    }

    /// Sends one raw WebSocket message (any frame, valid or not).
    pub async fn send_frame(&mut self, frame: tokio_tungstenite::tungstenite::Message) {
        use futures_util::SinkExt;
        self.socket.send(frame).await.unwrap();
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

    /// Creates a room with this user in it (and `members`), waits for its `joined`; its id.
    pub async fn create_room(
        &mut self,
        title: &str,
        kind: protocol::RoomKind,
        members: &[protocol::UserId],
    ) -> protocol::RoomId {
        let (title, members) = (title.to_owned(), members.to_vec());
        let request = self
            .command(|request_id| protocol::ClientCommand::CreateRoom {
                request_id,
                title,
                kind,
                members,
            })
            .await;
        self.until(|event| match event {
            protocol::ServerEvent::Joined {
                request_id: Some(id),
                room,
                ..
            } if id == request => Some(room.id),
            _ => None,
        })
        .await
    }

    /// Searches users by name: who was found, and which of them the server says are online.
    pub async fn find_users(
        &mut self,
        query: &str,
    ) -> (Vec<protocol::Member>, Vec<protocol::UserId>) {
        let query = query.to_owned();
        let request = self
            .command(|request_id| protocol::ClientCommand::FindUsers { request_id, query })
            .await;
        self.until(|event| match event {
            protocol::ServerEvent::UsersFound {
                request_id,
                users,
                online,
            } if request_id == request => Some((users, online)),
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

    /// Posts and returns the stored message, as it came back to this tab.
    pub async fn post(&mut self, room: protocol::RoomId, body: &str) -> protocol::ChatMessage {
        self.say(room, body).await;
        self.until(|event| match event {
            protocol::ServerEvent::Message { message } if message.body == body => Some(message),
            _ => None,
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

    /// Every event before the answer to a fresh ping on this socket. A socket's commands are
    /// answered in order, and all of a command's fan-outs are queued on this node before the
    /// next command from the same socket is answered. So once the sending tab has the answer to
    /// a later command (`outcome`, or its own `drain`), this returns all that the command
    /// brought any tab on this node. Seeing a frame the command caused, even the sender's own
    /// copy, is not enough: other sockets' copies, and the command's later fan-outs, may not be
    /// queued yet. Wait for those with `until`, as for anything from another node.
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

    /// What the command `request_id` came to: its error's code, or every event that arrived
    /// before the answer to a ping sent after it (the server answers one socket's commands in
    /// order, and queues a command's fan-out before its next reply).
    pub async fn outcome(
        &mut self,
        request_id: protocol::RequestId,
    ) -> Result<Vec<protocol::ServerEvent>, protocol::ErrorCode> {
        let seen = self.drain().await;
        for event in &seen {
            if let protocol::ServerEvent::Error {
                request_id: Some(id),
                code,
                ..
            } = event
                && *id == request_id
            {
                return Err(*code);
            }
        }
        Ok(seen)
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
