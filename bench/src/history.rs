//! History page latency: one client asks for pages of a room at random points of its history
//! (and the latest page) one at a time, and reports the round trip of each kind.
//!
//! The room is found by title and joined by the admin; fill it first (BENCHMARKS.md shows how
//! a million rows are inserted straight into SQLite or PostgreSQL).

use crate::setup::Admin;
use crate::socket;
use anyhow::{Context, bail};
use protocol::{ClientCommand, RequestId, ServerEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Title of the room to page through.
    #[arg(long)]
    room: String,
    /// Pages asked for of each kind.
    #[arg(long, default_value_t = 500)]
    pages: u32,
}

pub async fn run(admin: Arc<Admin>, args: Args) -> anyhow::Result<()> {
    let room = *admin
        .rooms(std::slice::from_ref(&args.room))
        .await?
        .first()
        .context("room")?;
    let mut socket = socket::open(&admin.url, &admin.cookie).await?;
    let last_seq = socket::join(&mut socket, room)
        .await?
        .last()
        .map_or(0, |message| message.seq);
    println!("room {:?}: {last_seq} messages", args.room);

    // A fixed-seed walk, so runs compare: multiplicative hashing spreads the points evenly.
    let point =
        |i: u32| 1 + (u64::from(i).wrapping_mul(2_654_435_761) % last_seq.max(1) as u64) as i64;
    let mut request = 1;
    for (label, before) in [
        ("latest page (before_seq = max)", None),
        ("page before a random seq", Some(point)),
    ] {
        let mut micros = Vec::with_capacity(args.pages as usize);
        let mut rows = 0;
        for i in 0..args.pages {
            let before_seq = before.map_or(i64::MAX, |point| point(i));
            let started = Instant::now();
            socket::send(
                &mut socket,
                &ClientCommand::History {
                    request_id: RequestId(request),
                    room_id: room,
                    before_seq,
                },
            )
            .await?;
            loop {
                match socket::next_as::<ServerEvent>(&mut socket).await? {
                    ServerEvent::History {
                        request_id,
                        messages,
                        ..
                    } if request_id == RequestId(request) => {
                        rows += messages.len();
                        break;
                    }
                    ServerEvent::Error { code, message, .. } => bail!("{code:?}: {message}"),
                    _ => {}
                }
            }
            micros.push(started.elapsed().as_micros() as u64);
            request += 1;
            // Stay under the per-user history limit (10 pages a second, bursts of 30).
            tokio::time::sleep(Duration::from_millis(110)).await;
        }
        micros.sort_unstable();
        let at = |p: f64| micros[((micros.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0;
        println!(
            "{label}: {} pages, {:.1} messages each; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            micros.len(),
            rows as f64 / micros.len().max(1) as f64,
            at(0.5),
            at(0.99),
            at(1.0),
        );
    }
    Ok(())
}
