//! The address a request comes from, for per-address limits: the TCP peer, or — when the peer
//! is a configured trusted proxy (`WHISPER_TRUSTED_PROXIES`) — the client its
//! `X-Forwarded-For` header names. Without this, every user behind a load balancer would share
//! the balancer's one bucket.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};

/// The client's address, as [`client_ip`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = StatusCode;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or(StatusCode::INTERNAL_SERVER_ERROR)?;
        Ok(ClientIp(client_ip(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// Each proxy appends the address it received the request from to `X-Forwarded-For`, so the
/// list is read from the right: past the trusted proxies, the first address is the client's.
/// Anything left of it was written by the client and proves nothing. A header that cannot be
/// read, or one naming only trusted proxies, leaves the peer.
///
/// Addresses are compared in canonical form (an IPv4 peer seen on an IPv6 socket as
/// `::ffff:a.b.c.d` is `a.b.c.d`).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: &IpAddr| trusted.iter().any(|t| t.to_canonical() == *address);
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<&[u8]> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.as_bytes().split(|byte| *byte == b','));
    }
    for hop in hops.into_iter().rev() {
        let address = std::str::from_utf8(hop)
            .ok()
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
            .map(|address| address.to_canonical());
        match address {
            Some(address) if is_trusted(&address) => continue,
            Some(address) => return address,
            // Unreadable: what is left of it was written by the client; nothing to go on.
            None => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            if let Ok(value) = value.parse() {
                headers.append("x-forwarded-for", value);
            }
        }
        headers
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy];
        let header = forwarded(&["203.0.113.7"]);
        assert_eq!(client_ip(proxy, &header, &trusted), ip("203.0.113.7"));
        assert_eq!(
            client_ip(ip("198.51.100.1"), &header, &trusted),
            ip("198.51.100.1"),
            "a client cannot pick its own address"
        );
        assert_eq!(client_ip(proxy, &header, &[]), proxy, "no proxy configured");
    }

    #[test]
    fn addresses_compare_in_canonical_form() {
        let mapped = ip("::ffff:10.0.0.2");
        let header = forwarded(&["203.0.113.7"]);
        assert_eq!(
            client_ip(mapped, &header, &[ip("10.0.0.2")]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [ip("10.0.0.2"), ip("10.0.0.3")];
        let header = forwarded(&["6.6.6.6, 203.0.113.7", "10.0.0.3"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &header, &trusted),
            ip("203.0.113.7"),
            "the forged 6.6.6.6 on the left is ignored"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &forwarded(&["junk"]), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &forwarded(&[]), &trusted),
            ip("10.0.0.2")
        );
    }
}
