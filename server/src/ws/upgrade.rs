//! The HTTP/1.1 upgrade to a WebSocket (RFC 6455, section 4.2), done here rather than by axum's
//! `ws` extractor so that the socket is tungstenite's own stream.
//!
//! Why: tungstenite formats every frame into one output buffer per socket, and that buffer
//! keeps the capacity of the largest frame it ever held. A greeting's `hello` lists every room
//! anyone may see (10 KB with 150 rooms), so every idle socket kept 10 KB it would never use
//! again. With tungstenite's own stream, [`crate::ws`] writes the greeting straight to the
//! connection (axum's socket does not lend it out) and sends later long messages as fragments of
//! a bounded size (tungstenite's `Message::Frame`, which axum's messages cannot express), so the
//! buffer's size no longer follows the largest message.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use std::future::Future;
use tokio_tungstenite::WebSocketStream;
use tokio_util::task::TaskTracker;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::{Role, WebSocketConfig};

/// A WebSocket over the upgraded HTTP connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// A valid request to upgrade to a WebSocket; [`Upgrade::accept`] answers it.
pub struct Upgrade {
    accept_key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request to `/ws` is no WebSocket handshake.
#[derive(Debug)]
pub enum NotAnUpgrade {
    NotGet,
    NoUpgradeHeaders,
    WrongVersion,
    NoKey,
    /// The connection cannot be taken over (not HTTP/1.1, or already taken).
    NotUpgradable,
}

impl IntoResponse for NotAnUpgrade {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            NotAnUpgrade::NotGet => (
                StatusCode::METHOD_NOT_ALLOWED,
                "WebSocket upgrades use GET.",
            ),
            NotAnUpgrade::NoUpgradeHeaders => (
                StatusCode::UPGRADE_REQUIRED,
                "Connection: upgrade and Upgrade: websocket are required.",
            ),
            NotAnUpgrade::WrongVersion => (
                StatusCode::UPGRADE_REQUIRED,
                "Sec-WebSocket-Version must be 13.",
            ),
            NotAnUpgrade::NoKey => (StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing."),
            NotAnUpgrade::NotUpgradable => (
                StatusCode::UPGRADE_REQUIRED,
                "This connection cannot be upgraded.",
            ),
        };
        // A 426 names the protocol to upgrade to (RFC 9110, 15.5.22) and the version this server
        // speaks (RFC 6455, 4.4).
        let headers = [
            (header::UPGRADE, HeaderValue::from_static("websocket")),
            (
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            ),
        ];
        if status == StatusCode::UPGRADE_REQUIRED {
            (status, headers, text).into_response()
        } else {
            (status, text).into_response()
        }
    }
}

impl<S: Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotAnUpgrade;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, NotAnUpgrade> {
        if parts.method != Method::GET {
            return Err(NotAnUpgrade::NotGet);
        }
        let headers = &parts.headers;
        if !has_token(headers, header::CONNECTION, "upgrade")
            || !has_token(headers, header::UPGRADE, "websocket")
        {
            return Err(NotAnUpgrade::NoUpgradeHeaders);
        }
        if headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|version| version.as_bytes() != b"13")
        {
            return Err(NotAnUpgrade::WrongVersion);
        }
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .ok_or(NotAnUpgrade::NoKey)?;
        let accept_key = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .map_err(|_| NotAnUpgrade::NoKey)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(NotAnUpgrade::NotUpgradable)?;
        Ok(Upgrade {
            accept_key,
            on_upgrade,
        })
    }
}

impl Upgrade {
    /// Answers `101 Switching Protocols`, and once the connection is taken over, runs `serve` on
    /// it as a WebSocket with `config`, in a task of `sockets`. The task is tracked from the
    /// start: one still waiting for hyper to hand the connection over counts as an open socket
    /// at shutdown (it ends, with an error, when the connection does).
    pub fn accept<Serve, Fut>(
        self,
        config: WebSocketConfig,
        sockets: &TaskTracker,
        serve: Serve,
    ) -> Response
    where
        Serve: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Upgrade {
            accept_key,
            on_upgrade,
        } = self;
        sockets.spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let io = TokioIo::new(upgraded);
                    let socket =
                        WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                    serve(socket).await;
                }
                Err(err) => tracing::debug!(%err, "WebSocket upgrade failed"),
            }
        });
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, accept_key),
            ],
        )
            .into_response()
    }
}

/// Whether the comma-separated header `name` lists `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value.to_str().is_ok_and(|value| {
            value
                .split(',')
                .any(|item| item.trim().eq_ignore_ascii_case(token))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_lists_whatever_their_case() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert!(has_token(&headers, header::CONNECTION, "upgrade"));
        assert!(!has_token(&headers, header::UPGRADE, "websocket"));
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrades"));
        assert!(!has_token(&headers, header::CONNECTION, "upgrade"));
    }

    /// The example of RFC 6455, section 1.3.
    #[test]
    fn the_accept_key_is_the_rfcs() {
        assert_eq!(
            derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
