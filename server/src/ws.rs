//! The WebSocket endpoint, `/ws`: one socket per browser tab, carrying every room its user is in.
//!
//! The upgrade is refused unless the request carries a live session and comes from an allowed
//! origin. The socket then gets [`protocol::ServerEvent::Hello`] (who you are, every room) and a
//! [`protocol::ServerEvent::Joined`] per membership, and is registered with the hub.
//!
//! Each socket runs as two tasks: this one reads and answers commands ([`commands`]); a writer
//! task drains the socket's bounded queue, which the hub fills with fan-out frames. Both end
//! when the peer goes away, stops answering pings, falls too far behind, or is disabled.
//!
//! # Layout
//!
//! - [`upgrade`]: the HTTP upgrade, onto tungstenite's stream.
//! - [`fragment`]: long messages as bounded fragments, so idle sockets keep small buffers.
//! - [`parse`]: text frame → [`protocol::ClientCommand`], or the precise error event.
//! - [`commands`]: what each command does, with its authorization.

pub mod commands;
pub mod fragment;
pub mod parse;
pub mod upgrade;

use crate::chat::connection::{self, Opened};
use crate::fanout::envelope::{CloseReason, Frame, SessionKey, serialize, serialize_into};
use crate::fanout::hub::{Outbound, Registration, Signal};
use crate::http::auth::origin::origin_is_allowed;
use crate::http::auth::session;
use crate::state::AppState;
use crate::ws::fragment::fragments;
use crate::ws::upgrade::{Socket, Upgrade};
use app::backend::CurrentUser;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt, StreamExt};
use protocol::{ErrorCode, MAX_FRAME_BYTES, ServerEvent, UserSummary};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, Utf8Bytes};

/// Largest message tungstenite will buffer at all (see `upgrade`).
const BACKSTOP_FRAME_BYTES: usize = 4 * MAX_FRAME_BYTES;
/// How many queued frames the writer sends before flushing.
const WRITE_BATCH: usize = 64;
/// Frames are gathered up to this many bytes before they go to the kernel in one write: a
/// writer woken with several frames queued sends them in one `send` instead of one each (with
/// 0, tungstenite writes every frame on its own). The buffer keeps the capacity it grew to for
/// the socket's life; the greeting bypasses it ([`write_greeting`]) and long messages go
/// through it in fragments, so that capacity stays within a few KiB (once the greeting
/// bypassed it, a 512-byte buffer saved no memory: BENCHMARKS.md, issue 15).
const WRITE_BUFFER_BYTES: usize = 4096;
/// Messages longer than this go out in fragments of this size (see [`fragment`]), so that the
/// write buffer holds at most [`WRITE_BUFFER_BYTES`] plus one such frame, whatever the largest
/// message sent.
const FRAGMENT_BYTES: usize = WRITE_BUFFER_BYTES;
/// What a greeting's serialized events start with room for: for a user in one room, a `hello`
/// with 150 rooms and the room's `joined` with its latest page of messages.
const GREETING_BYTES: usize = 32 * 1024;

// Why a socket ended when no [`CloseReason`] says it, for the closed-sockets metric.
/// The connection ended or failed under us.
const PEER_GONE: &str = "peer_gone";
/// The client sent a close frame.
const PEER_CLOSED: &str = "peer_closed";
/// Nothing heard from the client for two and a half heartbeats.
const SILENT: &str = "silent";
/// Writes made no progress for two and a half heartbeats (the client stopped reading).
const STALLED: &str = "stalled";
/// The command label of frames that were no command.
const UNPARSED: &str = "unparsed";

pub async fn upgrade(
    ws: Upgrade,
    State(state): State<AppState>,
    Extension(CurrentUser(user)): Extension<CurrentUser>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    if !origin_is_allowed(&state.config.allowed_origins, &headers) {
        return (StatusCode::FORBIDDEN, "Origin not allowed.").into_response();
    }
    let (Some(user), Some(session)) = (user, session::key(&jar)) else {
        return (StatusCode::UNAUTHORIZED, "Sign in first.").into_response();
    };
    // tungstenite's defaults (128 KiB read buffer, 64 MiB messages) cost ~130 KB per idle socket
    // and let one client make the server buffer megabytes. Chat frames are small: a 512-byte
    // buffer reads a typical command in one go (a long one takes a few reads), and is allocated
    // up front for every socket, idle or not.
    let config = WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        // The protocol's limit is checked on each whole message below, which closes the socket
        // cleanly with 1009. These are the backstop: past them tungstenite stops reading mid-frame,
        // and the unread rest can make the kernel reset the connection before the close arrives.
        .max_message_size(Some(BACKSTOP_FRAME_BYTES))
        .max_frame_size(Some(BACKSTOP_FRAME_BYTES));
    let sockets = state.sockets.clone();
    ws.accept(config, &sockets, move |socket| {
        serve(socket, state, user, session)
    })
}

async fn serve(mut socket: Socket, state: AppState, user: UserSummary, session: SessionKey) {
    // The database work below is boxed: an un-boxed future is stored inline in this task's
    // state for the socket's whole life, and idle sockets should not pay for the biggest query
    // they ever ran (measured: boxing took an idle socket from 12.8 KB to 8.6 KB).
    let Opened {
        registration,
        greeting,
    } = match Box::pin(connection::open(&state, user.id, session)).await {
        Ok(opened) => opened,
        Err(reason) => {
            state.metrics.socket_closed(reason.label());
            return close_with(&mut socket, reason).await;
        }
    };
    let ping_every = state.config.heartbeat();
    let dead_after = ping_every.mul_f32(2.5);
    // A peer that does not read its greeting is a stalled reader like any other (see
    // `write_loop`): it must not hold this task, and its registration, forever.
    let greeted = tokio::time::timeout(dead_after, write_greeting(&mut socket, &greeting)).await;
    if !matches!(greeted, Ok(Ok(()))) {
        Box::pin(connection::close(&state, user.id, registration.id)).await;
        state
            .metrics
            .socket_closed(if greeted.is_err() { STALLED } else { PEER_GONE });
        return;
    }
    drop(greeting);
    tracing::debug!(user = %user.username, "socket open");
    let (sink, mut stream) = socket.split();

    // Taken apart so that `queue` is this task's only handle on the queue: once it and the hub's
    // are dropped, the writer sees the queue end and finishes.
    let Registration {
        id: socket_id,
        queue,
        outbound,
        close,
        ..
    } = registration;
    // The reader watches the close signal too: once the hub closes this socket (its session
    // ended, it fell behind), no further command of it runs, even while the writer is stuck.
    let mut closing = close.clone();
    let mut writer = tokio::spawn(write_loop(sink, outbound, close, dead_after));
    // Pings every `heartbeat`; a socket silent (no frame, not even a pong) for two and a half
    // heartbeats is dead and gets dropped, freeing its memory and its user's presence; so is
    // one whose writes made no progress that long (see `write_loop`).
    let mut heartbeat = interval_at(Instant::now() + ping_every, ping_every);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut writer_done = false;
    // Why the socket ended, for the closed-sockets metric.
    let mut ended = PEER_GONE;

    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(frame)) = frame else {
                    if let Some(Err(err)) = frame {
                        tracing::debug!(user = %user.username, %err, "socket error");
                        if let Some(reason) = close_reason_for(err) {
                            ended = reason.label();
                            let _ = queue.send(Outbound::Signal(Signal::Close(reason))).await;
                        }
                    }
                    break;
                };
                last_heard = Instant::now();
                if frame_len(&frame) > MAX_FRAME_BYTES {
                    ended = CloseReason::TooBig.label();
                    let _ = queue.send(Outbound::Signal(Signal::Close(CloseReason::TooBig))).await;
                    break;
                }
                if let Some(reason) = *closing.borrow() {
                    ended = reason.label();
                    break;
                }
                let reply = match frame {
                    Message::Text(text) => match parse::command(&text) {
                        Ok(command) => Box::pin(commands::handle(&state, &user, command)).await,
                        Err(error) => {
                            if let ServerEvent::Error { code, .. } = &*error {
                                state.metrics.command(UNPARSED, code.as_str());
                            }
                            Some(*error)
                        }
                    },
                    Message::Binary(_) => {
                        state.metrics.command(UNPARSED, ErrorCode::UnsupportedFrame.as_str());
                        Some(parse::error(None, ErrorCode::UnsupportedFrame, "binary frames are not supported"))
                    }
                    Message::Close(_) => {
                        ended = PEER_CLOSED;
                        break;
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => None,
                };
                if let Some(reply) = reply
                    && queue.send(Outbound::Frame(serialize(&reply))).await.is_err()
                {
                    // The writer has ended (its queue is gone with it): it knows why.
                    if let Ok(written) = (&mut writer).await {
                        ended = written;
                    }
                    writer_done = true;
                    break;
                }
            }
            written = &mut writer => {
                writer_done = true;
                ended = written.unwrap_or(PEER_GONE);
                break;
            }
            changed = closing.changed() => {
                if changed.is_err() {
                    break;
                }
                if let Some(reason) = *closing.borrow() {
                    ended = reason.label();
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > dead_after {
                    tracing::debug!(user = %user.username, "socket silent too long, dropping");
                    ended = SILENT;
                    break;
                }
                // A full queue means the socket is being closed as overloaded anyway.
                let _ = queue.try_send(Outbound::Signal(Signal::Ping));
            }
        }
    }

    Box::pin(connection::close(&state, user.id, socket_id)).await;
    state.metrics.socket_closed(ended);
    drop(queue);
    // The writer ends once it has sent what was queued (the hub's sender is gone now); a peer
    // that stopped reading cannot keep it alive for long.
    if !writer_done
        && tokio::time::timeout(Duration::from_secs(5), &mut writer)
            .await
            .is_err()
    {
        writer.abort();
    }
    tracing::debug!(user = %user.username, "socket closed");
}

/// The close frame owed to a peer whose frame could not be read; `None` when the connection
/// itself failed (nothing can be sent).
fn close_reason_for(err: tungstenite::Error) -> Option<CloseReason> {
    use tungstenite::Error;
    match err {
        Error::Utf8(_) => Some(CloseReason::NotUtf8),
        Error::Capacity(_) => Some(CloseReason::Unreadable),
        Error::Protocol(_) | Error::AttackAttempt => Some(CloseReason::ProtocolError),
        _ => None,
    }
}

fn frame_len(frame: &Message) -> usize {
    match frame {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

/// Sends what the hub queued, a batch at a time, until the queue closes or the hub asks for the
/// socket to be closed.
///
/// A write that makes no progress for `stall` ends the writer (and so the socket): a peer that
/// stopped reading — even one that still answers pings — must not hold its queue and the
/// kernel's send buffer forever. Returns why it ended, for the closed-sockets metric.
async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut outbound: mpsc::Receiver<Outbound>,
    mut close: watch::Receiver<Option<CloseReason>>,
    stall: Duration,
) -> &'static str {
    let progress = |written: Result<Result<(), tungstenite::Error>, _>| match written {
        Ok(Ok(())) => None,
        Ok(Err(_)) => Some(PEER_GONE),
        Err(_) => Some(STALLED),
    };
    let mut hub_attached = true;
    loop {
        tokio::select! {
            biased;
            changed = close.changed(), if hub_attached => {
                if changed.is_err() {
                    // The hub let go of this socket (it is shutting down): send what is still
                    // queued, such as a close frame, then stop when the queue ends.
                    hub_attached = false;
                    continue;
                }
                let reason = *close.borrow();
                if let Some(reason) = reason {
                    let _ = tokio::time::timeout(stall, close_with(&mut sink, reason)).await;
                    return reason.label();
                }
            }
            item = outbound.recv() => {
                // The queue ends once the reader has stopped: it knows why.
                let Some(mut item) = item else { return PEER_GONE };
                let mut batched = 0;
                loop {
                    let written = match item {
                        Outbound::Frame(frame) => {
                            tokio::time::timeout(stall, feed_text(&mut sink, frame)).await
                        }
                        Outbound::Signal(Signal::Ping) => {
                            tokio::time::timeout(stall, sink.feed(Message::Ping(Default::default())))
                                .await
                        }
                        Outbound::Signal(Signal::Close(reason)) => {
                            let _ = tokio::time::timeout(stall, close_with(&mut sink, reason)).await;
                            return reason.label();
                        }
                    };
                    if let Some(ended) = progress(written) {
                        return ended;
                    }
                    batched += 1;
                    if batched == WRITE_BATCH {
                        break;
                    }
                    match outbound.try_recv() {
                        Ok(next) => item = next,
                        Err(_) => break,
                    }
                }
                if let Some(ended) = progress(tokio::time::timeout(stall, sink.flush()).await) {
                    return ended;
                }
            }
        }
    }
}

/// Queues one text message in the sink, in fragments if it is long (see [`FRAGMENT_BYTES`]).
async fn feed_text(
    sink: &mut SplitSink<Socket, Message>,
    text: Frame,
) -> Result<(), tungstenite::Error> {
    for message in fragments(text, FRAGMENT_BYTES) {
        sink.feed(message).await?;
    }
    Ok(())
}

/// Writes the greeting straight to the connection in one `send`, from a buffer dropped once
/// sent: nothing of its size (a `hello` lists every room anyone may see: 10 KB with 150 rooms)
/// stays behind in the socket's write buffer, which keeps the capacity it grows to.
///
/// The events are serialized into one buffer, sized so that a usual greeting does not grow it
/// (copying as it goes), then framed into another of the exact size. In a connect storm
/// thousands of greetings are built at once: this took the server's memory after one from
/// about 480 MB to 400 MB (`BENCHMARKS.md`, sixteenth session).
async fn write_greeting(
    socket: &mut Socket,
    greeting: &[ServerEvent],
) -> Result<(), tungstenite::Error> {
    let mut texts = Vec::with_capacity(GREETING_BYTES);
    let mut lengths = Vec::with_capacity(greeting.len());
    for event in greeting {
        let start = texts.len();
        serialize_into(event, &mut texts);
        lengths.push((texts.len() - start) as u64);
    }
    let text_frame = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        ..FrameHeader::default()
    };
    let headers: usize = lengths.iter().map(|&length| text_frame.len(length)).sum();
    let mut bytes = Vec::with_capacity(headers + texts.len());
    let mut start = 0;
    for length in lengths {
        let end = start + length as usize;
        text_frame.format(length, &mut bytes)?;
        bytes.extend_from_slice(&texts[start..end]);
        start = end;
    }
    drop(texts);
    // Nothing was sent through tungstenite yet, so these are the connection's first bytes.
    socket.get_mut().write_all(&bytes).await?;
    Ok(())
}

async fn close_with<S>(sink: &mut S, reason: CloseReason)
where
    S: Sink<Message> + Unpin,
{
    let (code, text) = reason.code_and_text();
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(text),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}
