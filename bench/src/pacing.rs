//! When a load client sends and when it stops listening: the senders of `fanout` and
//! `floor-load` post on a fixed schedule, spread over one period, and every client keeps
//! reading after the stop until the last deliveries have come.

use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Interval, Sleep};

/// The shape of a fan-out run: who is in which room, who sends, how often, for how long.
#[derive(Debug, Clone, clap::Args)]
pub struct Shape {
    #[arg(long, default_value_t = 50)]
    pub rooms: usize,
    #[arg(long, default_value_t = 50)]
    pub clients_per_room: usize,
    /// Sending clients in all, spread evenly over the rooms.
    #[arg(long, default_value_t = 50)]
    pub senders: usize,
    /// Messages per second per sender.
    #[arg(long, default_value_t = 30.0)]
    pub rate: f64,
    /// How long senders send.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
}

impl Shape {
    /// Deliveries a second the senders ask for.
    pub fn offered(&self) -> f64 {
        self.senders as f64 * self.rate * self.clients_per_room as f64
    }
}

/// Which of the `senders` flat client `index` is, if any: they are chosen evenly among
/// `clients` (the k-th sender is client k·clients/senders), which spreads them over the rooms.
pub fn sender_rank(index: usize, clients: usize, senders: usize) -> Option<usize> {
    (0..senders).find(|k| k * clients / senders == index)
}

/// A sender's schedule: one message per `period`; the `rank`-th of `senders` starts
/// `rank / senders` of a period late.
pub struct Sending {
    pub period: Duration,
    pub rank: usize,
    pub senders: usize,
}

/// The ticks of a sender's schedule; never for a client that only reads.
pub struct Schedule(Option<Interval>);

impl Schedule {
    /// Senders start spread evenly over one period, as people post at their own moments:
    /// started together, every sender would post in the same instant, and each message's
    /// latency would include the whole burst's.
    pub fn new(sending: Option<&Sending>) -> Schedule {
        Schedule(sending.map(|sending| {
            let phase = sending
                .period
                .mul_f64(sending.rank as f64 / sending.senders as f64);
            tokio::time::interval_at(Instant::now() + phase, sending.period)
        }))
    }

    /// The next time to send.
    pub async fn tick(&mut self) {
        match &mut self.0 {
            Some(ticker) => {
                ticker.tick().await;
            }
            None => std::future::pending().await,
        }
    }
}

/// Once told to stop, a client reads on until nothing it counts (the caller says what, with
/// [`Quiet::heard`]) has come for `QUIET_AFTER_STOP`. Until then no timer is armed, so a frame
/// costs no timer work: the load shares the machine with the server, and whatever it spends per
/// frame is taken from the server it measures.
#[derive(Default)]
pub struct Quiet(Option<Pin<Box<Sleep>>>);

const QUIET_AFTER_STOP: Duration = Duration::from_secs(2);

impl Quiet {
    /// Stop sending; listen until quiet.
    pub fn stop(&mut self) {
        self.0 = Some(Box::pin(tokio::time::sleep(QUIET_AFTER_STOP)));
    }

    /// Sending has stopped (no more sends).
    pub fn stopped(&self) -> bool {
        self.0.is_some()
    }

    /// Something the run counts arrived: after the stop, the quiet starts again.
    pub fn heard(&mut self) {
        if let Some(sleep) = &mut self.0 {
            sleep.as_mut().reset(Instant::now() + QUIET_AFTER_STOP);
        }
    }

    /// Stopped, and nothing arrived for `QUIET_AFTER_STOP`.
    pub async fn elapsed(&mut self) {
        match &mut self.0 {
            Some(sleep) => sleep.await,
            None => std::future::pending().await,
        }
    }
}
