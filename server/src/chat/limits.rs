//! Per-user limits on socket commands (token buckets from `governor`), so one user — or one
//! script with their cookie — cannot flood a room or the database. Limits are per user, not per
//! socket: opening more tabs buys no more budget.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use protocol::UserId;
use std::num::NonZeroU32;

pub struct CommandLimits {
    send: DefaultKeyedRateLimiter<UserId>,
    membership: DefaultKeyedRateLimiter<UserId>,
    history: DefaultKeyedRateLimiter<UserId>,
    lookup: DefaultKeyedRateLimiter<UserId>,
    reading: DefaultKeyedRateLimiter<UserId>,
    typing: DefaultKeyedRateLimiter<UserId>,
    search: DefaultKeyedRateLimiter<UserId>,
}

/// History pages per user per second: scrolling back fast asks for a few a second.
const HISTORY_PER_SECOND: u32 = 10;

/// User searches per user per second: a picker asks once per keystroke, after a short pause.
const LOOKUPS_PER_SECOND: u32 = 5;

/// Read marks (and notification levels, room views) per user per second: a client marks a room
/// read as messages arrive on screen, at most a couple of times a second per tab.
const READS_PER_SECOND: u32 = 10;

/// Typing notices per user per second: a client sends one every few seconds while typing.
const TYPING_PER_SECOND: u32 = 1;

fn per_second(rate: u32) -> Quota {
    let rate = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
    // Bursts of up to three seconds' worth: a user pasting a few lines quickly is not a flood.
    let burst = rate.saturating_mul(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN));
    Quota::per_second(rate).allow_burst(burst)
}

impl CommandLimits {
    pub fn new(sends_per_second: u32, joins_per_second: u32, searches_per_second: u32) -> Self {
        CommandLimits {
            send: RateLimiter::keyed(per_second(sends_per_second)),
            membership: RateLimiter::keyed(per_second(joins_per_second)),
            history: RateLimiter::keyed(per_second(HISTORY_PER_SECOND)),
            lookup: RateLimiter::keyed(per_second(LOOKUPS_PER_SECOND)),
            reading: RateLimiter::keyed(per_second(READS_PER_SECOND)),
            typing: RateLimiter::keyed(per_second(TYPING_PER_SECOND)),
            search: RateLimiter::keyed(per_second(searches_per_second)),
        }
    }

    /// Takes one send from the user's bucket; `false` when it is empty.
    pub fn send(&self, user: UserId) -> bool {
        self.send.check_key(&user).is_ok()
    }

    /// Takes one join, leave or other membership change (creating, managing, opening a
    /// direct conversation) from the user's bucket; `false` when it is empty.
    pub fn membership(&self, user: UserId) -> bool {
        self.membership.check_key(&user).is_ok()
    }

    /// Takes one history page from the user's bucket; `false` when it is empty.
    pub fn history(&self, user: UserId) -> bool {
        self.history.check_key(&user).is_ok()
    }

    /// Takes one user search from the user's bucket; `false` when it is empty.
    pub fn lookup(&self, user: UserId) -> bool {
        self.lookup.check_key(&user).is_ok()
    }

    /// Takes one read mark, notification level or room view from the user's bucket; `false`
    /// when it is empty.
    pub fn reading(&self, user: UserId) -> bool {
        self.reading.check_key(&user).is_ok()
    }

    /// Takes one typing notice from the user's bucket; `false` when it is empty.
    pub fn typing(&self, user: UserId) -> bool {
        self.typing.check_key(&user).is_ok()
    }

    /// Takes one message search from the user's bucket; `false` when it is empty.
    pub fn search(&self, user: UserId) -> bool {
        self.search.check_key(&user).is_ok()
    }

    /// Forgets buckets that have refilled.
    pub fn prune(&self) {
        self.send.retain_recent();
        self.membership.retain_recent();
        self.history.retain_recent();
        self.lookup.retain_recent();
        self.reading.retain_recent();
        self.typing.retain_recent();
        self.search.retain_recent();
    }
}
