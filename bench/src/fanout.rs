//! Fan-out throughput and latency: R rooms of C members each; S members (spread over the rooms)
//! send M messages per second each; every member counts what it receives. A message's body is
//! the time it was sent, so each delivery yields one latency sample.

use crate::pacing::{Quiet, Schedule, Sending, Shape, sender_rank};
use crate::report::print_latency;
use crate::server_stats::{self, Sample};
use crate::setup::Admin;
use crate::socket::{self, Heard};
use anyhow::bail;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{StreamExt, future};
use protocol::{ClientCommand, RequestId, RoomId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Barrier, watch};
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    shape: Shape,
    /// Other nodes of the same deployment (base URLs, comma-separated). Each room's members are
    /// spread over `--url` and these in turn; its senders (the first member of a room, in the
    /// default layout) are on `--url`, so latency is reported separately for deliveries on the
    /// senders' node and on the others.
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
}

/// What one client saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    refused: u64,
    sent: u64,
    /// When the last delivery arrived, in µs since the run's epoch.
    last_receipt_us: u64,
    /// Connected to another node than `--url`.
    other_node: bool,
    /// A sender's own messages coming back to it: send to its own copy (the round trip a
    /// user waits on before their message shows as sent).
    round_trips_us: Vec<u32>,
}

pub async fn run(admin: Arc<Admin>, server_pids: Vec<u32>, args: Args) -> anyhow::Result<()> {
    let clients = args.shape.rooms * args.shape.clients_per_room;
    if clients == 0 || args.shape.senders > clients || args.shape.rate <= 0.0 {
        bail!("need at least one client, senders <= rooms * clients-per-room and a positive rate");
    }
    let titles: Vec<String> = (0..args.shape.rooms)
        .map(|r| format!("bench-room-{r}"))
        .collect();
    let rooms = admin.rooms(&titles).await?;
    let names: Vec<String> = (0..args.shape.rooms)
        .flat_map(|r| (0..args.shape.clients_per_room).map(move |c| format!("bench-r{r}-c{c}")))
        .collect();
    eprintln!("signing in {} users…", names.len());
    let cookies = admin.sessions(&names).await?;

    let ready = Arc::new(Barrier::new(clients + 1));
    let (stop_tx, stop) = watch::channel(false);
    let epoch = Instant::now();
    let mut tasks = Vec::new();
    let urls: Vec<String> = std::iter::once(admin.url.clone())
        .chain(args.nodes.iter().cloned())
        .collect();
    for (index, cookie) in cookies.into_iter().enumerate() {
        let room = rooms[index / args.shape.clients_per_room];
        let sender = sender_rank(index, clients, args.shape.senders);
        let node = (index % args.shape.clients_per_room) % urls.len();
        let (url, ready, stop) = (urls[node].clone(), Arc::clone(&ready), stop.clone());
        let period = Duration::from_secs_f64(1.0 / args.shape.rate);
        tasks.push(tokio::spawn(async move {
            let (mut tally, open) = client(
                url,
                cookie,
                room,
                sender.map(|rank| Sending {
                    period,
                    rank,
                    senders: args.shape.senders,
                }),
                ready,
                stop,
                epoch,
            )
            .await?;
            tally.other_node = node != 0;
            Ok::<_, anyhow::Error>((tally, open))
        }));
    }
    // A client ends before the start only if it failed (opening, joining, reading an event):
    // the barrier would then wait for it for ever, so the run fails with its error instead.
    tokio::select! {
        _ = ready.wait() => {}
        (ended, index, _) = future::select_all(tasks.iter_mut()) => {
            // Ended without an error, before the start: that fails the run too.
            drop(ended??);
            bail!("client {index} ended before the start");
        }
    }
    eprintln!(
        "{clients} clients joined; sending for {} s…",
        args.shape.seconds
    );

    let start = Instant::now();
    let start_us = epoch.elapsed().as_micros() as u64;
    let before = (!server_pids.is_empty())
        .then(|| server_stats::sample_all(&server_pids))
        .transpose()?;
    let own_before = server_stats::sample(std::process::id())?;
    tokio::time::sleep(Duration::from_secs(args.shape.seconds)).await;
    stop_tx.send_replace(true);
    let sent_window = start.elapsed();

    let mut tallies = Vec::new();
    let mut still_open = Vec::new();
    for task in tasks {
        let (tally, open) = task.await??;
        tallies.push(tally);
        still_open.push(open);
    }
    let after = (!server_pids.is_empty())
        .then(|| server_stats::sample_all(&server_pids))
        .transpose()?;
    let total = start.elapsed();
    drop(still_open);
    let own = server_stats::sample(std::process::id())?.cpu_seconds - own_before.cpu_seconds;
    let last_us = tallies
        .iter()
        .map(|t| t.last_receipt_us)
        .max()
        .unwrap_or(start_us);
    let delivery_window = Duration::from_micros(last_us.saturating_sub(start_us));
    report(
        &args,
        &tallies,
        sent_window,
        delivery_window,
        total,
        before,
        after,
    );
    println!("load generator CPU: {own:.1} s (it shares the machine with the server)");
    Ok(())
}

/// A client's socket, kept open until the server's CPU is sampled: closing it makes the server
/// tell the user's fellows they went offline, which is not the run's work.
type StillOpen = (
    SplitSink<socket::Stream, Message>,
    SplitStream<socket::Stream>,
);

async fn client(
    url: String,
    cookie: String,
    room: RoomId,
    sending: Option<Sending>,
    ready: Arc<Barrier>,
    mut stop: watch::Receiver<bool>,
    epoch: Instant,
) -> anyhow::Result<(Tally, StillOpen)> {
    let mut socket = socket::open(&url, &cookie).await?;
    socket::join(&mut socket, room).await?;
    let (mut sink, mut stream) = socket.split();
    ready.wait().await;

    let mut tally = Tally::default();
    let mut schedule = Schedule::new(sending.as_ref());
    let mut request = 1u64;
    // Nonces unique across runs: the bench reuses its users, and the server stores one message
    // per (user, nonce).
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    // A sender's nonces start with this, so it knows its own messages when they come back.
    let own_nonce = sending
        .as_ref()
        .map(|sending| format!("{run:x}-{}-", sending.rank));
    let mut quiet = Quiet::default();
    loop {
        tokio::select! {
            frame = stream.next() => {
                // The receipt time is taken before parsing, so parsing is not counted as latency.
                let now_us = epoch.elapsed().as_micros() as u64;
                let Some(frame) = frame else { break };
                let Ok(Message::Text(text)) = frame else { continue };
                match serde_json::from_str::<Heard>(&text)? {
                    Heard::Message { message } if message.room_id == room => {
                        // Only the run's messages keep a client listening: other events (the
                        // heartbeat, presence as other clients finish) are not the run's.
                        quiet.heard();
                        if let Ok(sent_us) = message.body.parse::<u64>() {
                            let latency = now_us.saturating_sub(sent_us) as u32;
                            tally.latencies_us.push(latency);
                            tally.last_receipt_us = now_us;
                            if let (Some(nonce), Some(own)) = (&message.nonce, &own_nonce)
                                && nonce.starts_with(own.as_str())
                            {
                                tally.round_trips_us.push(latency);
                            }
                        }
                    }
                    Heard::Error { .. } => {
                        quiet.heard();
                        tally.refused += 1;
                    }
                    _ => {}
                }
            }
            () = schedule.tick(), if !quiet.stopped() => {
                let body = epoch.elapsed().as_micros().to_string();
                let nonce = format!("{}{request}", own_nonce.as_deref().unwrap_or_default());
                socket::send(&mut sink, &ClientCommand::Send { request_id: RequestId(request), room_id: room, body, nonce }).await?;
                request += 1;
                tally.sent += 1;
            }
            _ = stop.changed(), if !quiet.stopped() => quiet.stop(),
            () = quiet.elapsed() => break,
        }
    }
    Ok((tally, (sink, stream)))
}

fn report(
    args: &Args,
    tallies: &[Tally],
    send_window: Duration,
    delivery_window: Duration,
    total: Duration,
    before: Option<Sample>,
    after: Option<Sample>,
) {
    let sent: u64 = tallies.iter().map(|t| t.sent).sum();
    let refused: u64 = tallies.iter().map(|t| t.refused).sum();
    let accepted = sent - refused;
    let expected = accepted * args.shape.clients_per_room as u64;
    let mut latencies: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let got = latencies.len() as u64;
    let secs = delivery_window.as_secs_f64().max(send_window.as_secs_f64());
    println!(
        "fanout: rooms={} clients/room={} senders={} rate={}/s for {} s",
        args.shape.rooms,
        args.shape.clients_per_room,
        args.shape.senders,
        args.shape.rate,
        args.shape.seconds
    );
    println!("messages sent: {sent} (refused by the server: {refused})");
    println!(
        "deliveries: {got} of {expected} expected; lost: {}",
        expected.saturating_sub(got)
    );
    println!(
        "deliveries/s: {:.0} (first send to last delivery: {secs:.1} s; offered: {:.0}/s)",
        got as f64 / secs,
        args.shape.offered()
    );
    print_latency("latency ms", &latencies);
    let mut round_trips: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.round_trips_us.iter().copied())
        .collect();
    round_trips.sort_unstable();
    print_latency("round trip ms (send to own copy)", &round_trips);
    if tallies.iter().any(|t| t.other_node) {
        for (label, other) in [
            ("  on the senders' node", false),
            ("  on other nodes", true),
        ] {
            let mut some: Vec<u32> = tallies
                .iter()
                .filter(|t| t.other_node == other)
                .flat_map(|t| t.latencies_us.iter().copied())
                .collect();
            some.sort_unstable();
            print_latency(label, &some);
        }
    }
    if let (Some(before), Some(after)) = (before, after) {
        let cpu = after.cpu_seconds - before.cpu_seconds;
        println!(
            "server CPU: {cpu:.1} s over {:.1} s ({:.0}% of one core); deliveries per server CPU-second: {:.0}",
            total.as_secs_f64(),
            100.0 * cpu / total.as_secs_f64(),
            got as f64 / cpu.max(0.001)
        );
        println!("server RSS: {:.1} MB", after.rss_bytes as f64 / 1e6);
    }
}
