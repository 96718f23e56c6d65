//! The browser's WebSocket: connects, feeds every event to the reducer, sends commands (the
//! user's, and the reducer's follow-ups: the outbox, hole fills), and reconnects after a loss
//! with jittered exponential backoff (0.5 s doubling to 15 s, ±50 %), so a server restart is
//! not met by every tab at the same instant.
//!
//! The browser's own network events count too: going offline closes the socket at once (a
//! socket over a dead network can look open for minutes), and coming back online reconnects
//! without waiting out the backoff.
//!
//! A tab whose session ended (log-out in another tab, account disabled, password reset, expiry)
//! must not retry for ever: the server refuses its upgrade with a 401 the page cannot see, or
//! closes its socket with 1008 (policy). So after either, before the next try, the tab asks the
//! server who is signed in, and goes to the log-in page if nobody is. The task ends when the
//! page's state is disposed (the chat page left for another page of the app).
//!
//! A greeting from a server of another protocol version means this page's code is stale: the
//! tab reloads, but at most once a minute (see [`reload_for_version`]).

use super::attention;
use super::state::ChatState;
use crate::api::{Viewer, get_viewer};
use futures_channel::mpsc::{UnboundedReceiver, unbounded};
use futures_util::future::{Either, select};
use futures_util::{Sink, SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use leptos::prelude::*;
use protocol::{ChatMessage, ClientCommand, PROTOCOL_VERSION, ServerEvent};

const FIRST_RETRY_MS: f64 = 500.0;
const MAX_RETRY_MS: f64 = 15_000.0;
/// The notification a live message calls for, if any: the room's title and the message. Not
/// when the user is looking at its room, and not for a copy already held (a resend).
fn notification(
    state: RwSignal<ChatState>,
    message: &ChatMessage,
) -> Option<(String, ChatMessage)> {
    state
        .try_with_untracked(|s| {
            let held = s
                .joined
                .get(&message.room_id)
                .is_some_and(|joined| joined.holds(message.seq));
            let watched = s.active == Some(message.room_id) && attention::attended();
            (!held && !watched && s.notifies(message))
                .then(|| (s.display_title(message.room_id), message.clone()))
        })
        .flatten()
}

/// How often the reducer is asked for follow-ups without an event: holes waiting out their
/// grace period, sends waiting for an answer, and sends and fills refused earlier (rate
/// limited).
const FOLLOW_UP_TICK_MS: u32 = 250;
/// Sends and fills refused for going too fast (or by a failing server) are made again every
/// this many ticks (2 s).
const RESUME_PAUSED_EVERY: u32 = 8;
/// The close code the server uses for a socket whose session ended.
const CLOSE_POLICY: u16 = 1008;
/// A tab reloads for a server of another protocol version at most once in this long.
const VERSION_RELOAD_GUARD_MS: u64 = 60_000;
/// Where the tab notes when it last reloaded for that (session storage outlives the reload).
const VERSION_RELOAD_KEY: &str = "whisper.version-reload-at";

/// Reloads the page for a server of another protocol version, unless this tab already did so
/// less than [`VERSION_RELOAD_GUARD_MS`] ago; says whether it does. During a rolling upgrade
/// behind a load balancer, the reloaded page and its socket can again come from nodes of two
/// versions: reloading every time would loop for as long as the upgrade lasts. Instead the tab
/// closes the socket and retries with the usual backoff, until a socket reaches a node of its
/// own version; the first try after the minute reloads again. Without session storage it
/// reloads every time.
///
/// The time is kept as whole milliseconds: formatting and parsing an `f64` would add the
/// standard library's float conversions to the bundle, about 13 KB in gzip.
fn reload_for_version() -> bool {
    let storage = window().session_storage().ok().flatten();
    let now = js_sys::Date::now() as u64;
    let last = storage
        .as_ref()
        .and_then(|storage| storage.get_item(VERSION_RELOAD_KEY).ok().flatten())
        .and_then(|at| at.parse::<u64>().ok());
    if !may_reload_for_version(last, now) {
        return false;
    }
    if let Some(storage) = storage {
        let _ = storage.set_item(VERSION_RELOAD_KEY, &now.to_string());
    }
    let _ = window().location().reload();
    true
}

/// Whether a tab that last reloaded for a version at `last` (if ever) may do so again at
/// `now`. A `last` in the future (the clock was set back) does not hold the tab back.
fn may_reload_for_version(last: Option<u64>, now: u64) -> bool {
    last.is_none_or(|last| {
        now.checked_sub(last)
            .is_none_or(|age| age >= VERSION_RELOAD_GUARD_MS)
    })
}

/// `ws://host/ws` or `wss://host/ws`, matching the page.
fn socket_url() -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

/// `true` only when the server answers that nobody is signed in; a failure to ask (network,
/// server down) is not taken for a log-out.
async fn signed_out() -> bool {
    matches!(get_viewer().await, Ok(Viewer { user: None, .. }))
}

/// The log-in page, coming back here afterwards: `/login?next=…`, as the server's gate
/// redirects (plain `/login` for the home page).
fn login_url() -> String {
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    if here.is_empty() || here == "/" {
        "/login".to_owned()
    } else {
        format!(
            "/login?next={}",
            String::from(js_sys::encode_uri_component(&here))
        )
    }
}

fn backoff_ms(attempt: u32) -> u32 {
    let base = (FIRST_RETRY_MS * 2f64.powi(attempt.min(10) as i32)).min(MAX_RETRY_MS);
    let jitter = 0.5 + js_sys::Math::random();
    (base * jitter) as u32
}

async fn send_all(
    sink: &mut (impl Sink<Message, Error = WebSocketError> + Unpin),
    commands: impl IntoIterator<Item = ClientCommand>,
) -> Result<(), WebSocketError> {
    for command in commands {
        if let Ok(json) = serde_json::to_string(&command) {
            sink.send(Message::Text(json)).await?;
        }
    }
    Ok(())
}

/// Runs for the life of the page.
pub async fn run(state: RwSignal<ChatState>, mut commands: UnboundedReceiver<ClientCommand>) {
    // `true` when the browser says it is online again, `false` when it lost the network.
    let (network_tx, mut network) = unbounded::<bool>();
    let online_tx = network_tx.clone();
    let _online = window_event_listener(leptos::ev::online, move |_| {
        let _ = online_tx.unbounded_send(true);
    });
    let _offline = window_event_listener(leptos::ev::offline, move |_| {
        let _ = network_tx.unbounded_send(false);
    });
    let mut offline = false;
    let mut failures: u32 = 0;
    loop {
        // Without a network there is nothing to try until the browser has one again.
        while offline {
            match network.next().await {
                Some(now_online) => offline = !now_online,
                None => return,
            }
        }
        // Whether this socket got its greeting, and whether the server closed it for policy:
        // either failing says the session may have ended.
        let mut greeted = false;
        let mut policy_close = false;
        if let Some(url) = socket_url()
            && let Ok(socket) = WebSocket::open(&url)
        {
            let (mut sink, mut stream) = socket.split();
            let mut tick = gloo_timers::future::TimeoutFuture::new(FOLLOW_UP_TICK_MS);
            let mut ticks: u32 = 0;
            loop {
                let outgoing = select(commands.next(), network.next());
                let incoming = select(stream.next(), &mut tick);
                match select(incoming, outgoing).await {
                    Either::Left((Either::Right(((), _)), _)) => {
                        tick = gloo_timers::future::TimeoutFuture::new(FOLLOW_UP_TICK_MS);
                        ticks = ticks.wrapping_add(1);
                        let resume = ticks.is_multiple_of(RESUME_PAUSED_EVERY);
                        let Some(due) =
                            state.try_with_untracked(|s| s.waiting() || (resume && s.paused()))
                        else {
                            return;
                        };
                        if !due {
                            continue;
                        }
                        let follow_ups = state
                            .try_update(|state| {
                                if resume {
                                    state.resume_paused();
                                }
                                state.follow_ups(js_sys::Date::now())
                            })
                            .unwrap_or_default();
                        if send_all(&mut sink, follow_ups).await.is_err() {
                            break;
                        }
                    }
                    Either::Left((Either::Left((Some(Ok(Message::Text(text))), _)), _)) => {
                        match serde_json::from_str::<ServerEvent>(&text) {
                            Ok(event) => {
                                if let ServerEvent::Hello {
                                    protocol_version, ..
                                } = &event
                                {
                                    if *protocol_version != PROTOCOL_VERSION {
                                        // The server was upgraded: this page's code is stale.
                                        if reload_for_version() {
                                            return;
                                        }
                                        break;
                                    }
                                    failures = 0;
                                    greeted = true;
                                }
                                let notify = match &event {
                                    ServerEvent::Message { message } => {
                                        notification(state, message)
                                    }
                                    _ => None,
                                };
                                let follow_ups = state
                                    .try_update(|state| {
                                        state.apply(event);
                                        state.follow_ups(js_sys::Date::now())
                                    })
                                    .unwrap_or_default();
                                if let Some((title, message)) = notify {
                                    let room = message.room_id;
                                    attention::notify(&title, &message, move || {
                                        state.update(|s| {
                                            s.open(room);
                                        });
                                    });
                                }
                                if send_all(&mut sink, follow_ups).await.is_err() {
                                    break;
                                }
                            }
                            Err(err) => {
                                // A `hello` of another version may not decode at all: its
                                // version alone says to reload.
                                if ServerEvent::hello_version(&text)
                                    .is_some_and(|version| version != PROTOCOL_VERSION)
                                {
                                    if reload_for_version() {
                                        return;
                                    }
                                    break;
                                }
                                leptos::logging::warn!("unreadable event: {err}");
                            }
                        }
                    }
                    Either::Left((Either::Left((Some(Ok(Message::Bytes(_))), _)), _)) => {}
                    Either::Left((
                        Either::Left((Some(Err(WebSocketError::ConnectionClose(close))), _)),
                        _,
                    )) => {
                        policy_close = close.code == CLOSE_POLICY;
                        break;
                    }
                    Either::Left((Either::Left((Some(Err(_)) | None, _)), _)) => break,
                    Either::Right((Either::Left((Some(command), _)), _)) => {
                        if send_all(&mut sink, [command]).await.is_err() {
                            break;
                        }
                    }
                    // The page is going away.
                    Either::Right((Either::Left((None, _)), _)) => return,
                    Either::Right((Either::Right((Some(now_online), _)), _)) => {
                        if !now_online {
                            offline = true;
                            break;
                        }
                    }
                    Either::Right((Either::Right((None, _)), _)) => return,
                }
            }
            // Dropping both halves closes the socket.
        }
        if state.try_update(ChatState::disconnected).is_none() {
            return;
        }
        if offline {
            continue;
        }
        // A socket that dropped after its greeting (a server restart, a network blip) just
        // retries; if the session is gone, that retry fails to open and is checked then.
        if (!greeted || policy_close) && signed_out().await {
            let _ = window().location().set_href(&login_url());
            return;
        }
        let wait = gloo_timers::future::TimeoutFuture::new(backoff_ms(failures));
        failures = failures.saturating_add(1);
        // Coming back online cuts the wait short.
        if let Either::Right((Some(false), _)) = select(wait, network.next()).await {
            offline = true;
        }
    }
}
