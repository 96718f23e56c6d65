//! Log-in attempt limits, per username and per client IP (token buckets from `governor`).
//!
//! Per username stops guessing one account's password from many addresses; per IP stops one
//! address from trying many accounts. Both are this node's memory only: with N nodes an attacker
//! gets N times the budget, which still turns a brute-force into a crawl.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct LoginLimiter {
    per_user: DefaultKeyedRateLimiter<String>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_user_per_minute: u32, per_ip_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LoginLimiter {
            per_user: RateLimiter::keyed(quota(per_user_per_minute)),
            per_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
        }
    }

    /// Takes one attempt from both buckets; `false` when either is empty.
    pub fn check(&self, username_key: &str, ip: IpAddr) -> bool {
        // Both are always charged, so hammering one account also drains the address's budget.
        let user_ok = self.per_user.check_key(&username_key.to_owned()).is_ok();
        let ip_ok = self.per_ip.check_key(&ip).is_ok();
        user_ok && ip_ok
    }

    /// Takes one attempt from the IP bucket only (sign-up has no account yet).
    pub fn check_ip(&self, ip: IpAddr) -> bool {
        self.per_ip.check_key(&ip).is_ok()
    }

    /// Forgets buckets that have refilled, so memory stays bounded by recent attackers.
    pub fn prune(&self) {
        self.per_user.retain_recent();
        self.per_ip.retain_recent();
    }
}
