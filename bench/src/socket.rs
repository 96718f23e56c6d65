//! One WebSocket client, authenticated by a session cookie.

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use protocol::{ChatMessage, ClientCommand, RequestId, RoomId};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Read buffer per socket: a few typical frames (a `joined` with 50 messages takes several reads).
const READ_BUFFER_BYTES: usize = 4096;

pub type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and reads `hello`.
pub async fn open(url: &str, cookie: &str) -> anyhow::Result<Stream> {
    Ok(open_member(url, cookie).await?.0)
}

/// Connects and reads `hello`; returns the rooms it says the user is a member of too.
pub async fn open_member(url: &str, cookie: &str) -> anyhow::Result<(Stream, Vec<RoomId>)> {
    let ws_url = format!("{}/ws", url.replacen("http", "ws", 1));
    let mut request = ws_url.into_client_request()?;
    request.headers_mut().insert("cookie", cookie.parse()?);
    // tungstenite zero-fills its whole read buffer (128 KiB by default) before every read; with
    // thousands of sockets each reading one small frame at a time, that memset was a fifth of
    // the bench's CPU, taken from the machine it shares with the server. Chat frames are small.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    // Commands go out at once (TCP_NODELAY), as a browser's do.
    let no_delay = true;
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), no_delay)
            .await
            .context("WebSocket upgrade")?;
    let text = next_text(&mut socket).await?;
    match serde_json::from_str::<Glance>(&text) {
        Ok(hello) if hello.kind == "hello" => Ok((socket, hello.memberships)),
        _ => bail!("expected hello, got {text}"),
    }
}

/// What the bench reads of an event of a greeting: its type and the few fields it checks.
/// Decoded in full, a greeting (`hello` lists every room anyone may see, `joined` a page of
/// messages) cost the bench's one core more than the server's in a connect storm, which then
/// timed the bench (`BENCHMARKS.md`, twenty-third session). Fields not named here are skipped
/// unread; an event without one of them has it empty.
#[derive(Deserialize)]
pub struct Glance {
    /// The event's `type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `hello`'s memberships.
    #[serde(default)]
    pub memberships: Vec<RoomId>,
    /// `joined`'s room.
    pub room: Option<RoomGlance>,
    /// The positions of `joined`'s latest messages.
    #[serde(default)]
    pub recent: Vec<MessageGlance>,
}

#[derive(Deserialize)]
pub struct RoomGlance {
    pub id: RoomId,
}

#[derive(Deserialize)]
pub struct MessageGlance {
    pub seq: i64,
}

/// What `fanout`, `storm` and [`join`] read of an event after the greeting: the kinds they act
/// on, with the fields they use (messages in full); every other kind is `Other`, not decoded.
/// So one bench drives builds whose other events have another shape: issue 15 compares against
/// a build from before rooms had kinds, whose rooms (in `joined` too) do not decode as today's
/// `RoomInfo`. (`history` and `search` read today's `ServerEvent` through [`next_as`].)
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Heard {
    Message {
        message: ChatMessage,
    },
    Missed {
        request_id: RequestId,
        messages: Vec<ChatMessage>,
    },
    Joined {
        request_id: Option<RequestId>,
        room: RoomGlance,
        recent: Vec<ChatMessage>,
    },
    Error {
        message: String,
    },
    #[serde(other)]
    Other,
}

/// The next event, decoded as `T`: today's [`protocol::ServerEvent`] in full, or what the
/// bench reads of one ([`Glance`], [`Heard`]). Pings are answered by tungstenite and skipped.
pub async fn next_as<T: DeserializeOwned>(socket: &mut Stream) -> anyhow::Result<T> {
    let text = next_text(socket).await?;
    serde_json::from_str(&text).with_context(|| format!("not an event: {text}"))
}

async fn next_text(socket: &mut Stream) -> anyhow::Result<Utf8Bytes> {
    loop {
        match socket.next().await.context("socket closed")?? {
            Message::Text(text) => return Ok(text),
            Message::Close(frame) => bail!("closed by server: {frame:?}"),
            _ => continue,
        }
    }
}

/// Joins a room and waits for the `joined` answering the join (not the one a socket gets on
/// connect for a room its user is already in: the server is still working on the join until
/// its answer comes); returns the latest messages it carried.
pub async fn join(socket: &mut Stream, room: RoomId) -> anyhow::Result<Vec<ChatMessage>> {
    send(
        socket,
        &ClientCommand::Join {
            request_id: RequestId(0),
            room_id: room,
        },
    )
    .await?;
    loop {
        match next_as::<Heard>(socket).await? {
            Heard::Joined {
                request_id: Some(RequestId(0)),
                room: info,
                recent,
            } if info.id == room => return Ok(recent),
            Heard::Error { message } => bail!("join refused: {message}"),
            _ => {}
        }
    }
}

pub async fn send(
    socket: &mut (impl SinkExt<Message> + Unpin),
    command: &ClientCommand,
) -> anyhow::Result<()> {
    let json = serde_json::to_string(command)?;
    socket
        .send(Message::text(json))
        .await
        .map_err(|_| anyhow::anyhow!("send failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events as an older build sends them (rooms without `kind`, messages without
    /// `mentions`), and a kind the bench does not know, are read for what the bench uses.
    #[test]
    fn events_are_read_for_what_the_bench_uses_only() {
        let joined = r#"{"type":"joined","request_id":0,"room":{"id":7,"title":"t","staff_only":false},"members":[],"recent":[]}"#;
        let Heard::Joined {
            request_id, room, ..
        } = serde_json::from_str(joined).unwrap()
        else {
            panic!("not read as joined");
        };
        assert_eq!((request_id, room.id), (Some(RequestId(0)), RoomId(7)));
        let greeting = r#"{"type":"joined","request_id":null,"room":{"id":7},"recent":[]}"#;
        let Heard::Joined { request_id, .. } = serde_json::from_str(greeting).unwrap() else {
            panic!("not read as joined");
        };
        assert_eq!(request_id, None);

        let message = r#"{"id":3,"room_id":7,"seq":12,"author":{"id":1,"username":"u"},"body":"hi","created_at":"2026-12-05T00:00:00Z","nonce":"n1"}"#;
        let Heard::Message { message: read } =
            serde_json::from_str(&format!(r#"{{"type":"message","message":{message}}}"#)).unwrap()
        else {
            panic!("not read as a message");
        };
        assert_eq!((read.seq, read.nonce.as_deref()), (12, Some("n1")));
        let missed =
            format!(r#"{{"type":"missed","request_id":4,"room_id":7,"messages":[{message}]}}"#);
        let Heard::Missed {
            request_id,
            messages,
        } = serde_json::from_str(&missed).unwrap()
        else {
            panic!("not read as missed");
        };
        assert_eq!((request_id, messages.len()), (RequestId(4), 1));

        let added = r#"{"type":"room_added","room":{"id":8,"title":"u","staff_only":true}}"#;
        assert!(matches!(serde_json::from_str(added).unwrap(), Heard::Other));
        let unknown = r#"{"type":"no_such_event","x":1}"#;
        assert!(matches!(
            serde_json::from_str(unknown).unwrap(),
            Heard::Other
        ));
        let error = r#"{"type":"error","request_id":null,"code":"internal","message":"no"}"#;
        assert!(
            matches!(serde_json::from_str(error).unwrap(), Heard::Error { message } if message == "no")
        );
    }
}
