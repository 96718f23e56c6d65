//! Connect storm: many sockets with valid sessions open at once and wait for their greetings;
//! then part of them drop at once while messages keep coming, reconnect together, and catch up
//! with `missed`. Reports how long each wave took, and checks that no message was lost to a
//! reconnected socket.
//!
//! Users are spread over the rooms (user `u` is in room `u % rooms`) and each has `--tabs`
//! sockets, as a person with several tabs does: `--users 1000 --tabs 10` is 10,000 sockets
//! for 1,000 log-ins.

use crate::server_stats;
use crate::setup::Admin;
use crate::socket::{self, Glance, Heard, Stream};
use anyhow::{Context, bail};
use protocol::{ChatMessage, ClientCommand, HISTORY_PAGE, RequestId, RoomId};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Barrier, Semaphore, mpsc, watch};
use tokio::time::Instant;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Sockets per user.
    #[arg(long, default_value_t = 10)]
    tabs: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Sockets dropped at once (never a room's sending socket).
    #[arg(long, default_value_t = 5000)]
    drop: usize,
    /// Messages posted per second in all, one sending socket per room in turn, from before the
    /// drop until the dropped sockets are back.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// How long messages keep coming while the dropped sockets are away.
    #[arg(long, default_value_t = 2)]
    away_seconds: u64,
}

/// Longest a dropped socket may take to reconnect and catch up before the run fails.
const RECONNECT_LIMIT: Duration = Duration::from_secs(60);

/// Users being checked (and joined to their room) at once before the storm.
const JOIN_CONCURRENCY: usize = 32;

/// What one socket held of its room, by seq.
#[derive(Default)]
struct Held {
    seqs: BTreeSet<i64>,
}

impl Held {
    fn add(&mut self, messages: &[ChatMessage]) {
        self.seqs.extend(messages.iter().map(|message| message.seq));
    }

    fn newest(&self) -> i64 {
        self.seqs.last().copied().unwrap_or(0)
    }
}

pub async fn run(admin: Arc<Admin>, server_pids: Vec<u32>, args: Args) -> anyhow::Result<()> {
    if args.rooms == 0 || args.tabs == 0 || args.users < args.rooms || args.rate <= 0.0 {
        bail!("need at least one room and one tab, users >= rooms, and a positive rate");
    }
    if args.drop > args.users * args.tabs - args.rooms {
        bail!("need drop <= users * tabs - rooms (the rooms' senders never drop)");
    }
    let titles: Vec<String> = (0..args.rooms).map(|r| format!("storm-room-{r}")).collect();
    let rooms = admin.rooms(&titles).await?;
    let names: Vec<String> = (0..args.users).map(|u| format!("storm-u{u}")).collect();
    eprintln!("signing in {} users…", names.len());
    let cookies = admin.sessions(&names).await?;
    eprintln!("making sure each user is in their room…");
    let mut joining = Vec::new();
    let gate = Arc::new(Semaphore::new(JOIN_CONCURRENCY));
    for (user, cookie) in cookies.iter().enumerate() {
        let (url, cookie, room) = (admin.url.clone(), cookie.clone(), rooms[user % args.rooms]);
        let gate = Arc::clone(&gate);
        joining.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let (mut socket, memberships) = socket::open_member(&url, &cookie).await?;
            if !memberships.contains(&room) {
                socket::join(&mut socket, room).await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in joining {
        task.await??;
    }

    // Wave 1: every socket at once.
    let sockets = args.users * args.tabs;
    let before = server_stats::sample_all(&server_pids).ok();
    let started = Instant::now();
    let mut opening = Vec::with_capacity(sockets);
    for index in 0..sockets {
        let user = index % args.users;
        let (url, cookie, room) = (
            admin.url.clone(),
            cookies[user].clone(),
            rooms[user % args.rooms],
        );
        opening.push(tokio::spawn(async move {
            let mut stream = socket::open(&url, &cookie).await?;
            let held = greeting(&mut stream, room).await?;
            Ok::<_, anyhow::Error>((stream, held, started.elapsed()))
        }));
    }
    let mut open = Vec::with_capacity(sockets);
    let mut greeted_in = Vec::with_capacity(sockets);
    for task in opening {
        let (stream, held, took) = task.await??;
        open.push((stream, held));
        greeted_in.push(took);
    }
    let storm = started.elapsed();
    let after = server_stats::sample_all(&server_pids).ok();
    greeted_in.sort_unstable();
    println!(
        "storm: {sockets} sockets ({} users × {} tabs, {} rooms)",
        args.users, args.tabs, args.rooms
    );
    println!(
        "connect: all greeted in {:.2} s (p50 {:.2} s, p99 {:.2} s)",
        storm.as_secs_f64(),
        greeted_in[sockets / 2].as_secs_f64(),
        greeted_in[sockets * 99 / 100].as_secs_f64()
    );
    if let (Some(before), Some(after)) = (before, after)
        && !server_pids.is_empty()
    {
        println!(
            "connect: server CPU {:.2} s; RSS {:.1} MB",
            after.cpu_seconds - before.cpu_seconds,
            after.rss_bytes as f64 / 1e6
        );
    }

    // Wave 2. The first `rooms` sockets (one per room: user r is in room r) send; every socket
    // reads, and the last `drop` ones drop once everyone is reading, then come back.
    let (stop_sending_tx, stop_sending) = watch::channel(false);
    let (stop_reading_tx, stop_reading) = watch::channel(false);
    let (drop_tx, dropped) = watch::channel(false);
    let (back_tx, mut back) = mpsc::unbounded_channel::<Instant>();
    let ready = Arc::new(Barrier::new(sockets + 1));
    let period = Duration::from_secs_f64(args.rooms as f64 / args.rate);
    let mut tasks = Vec::with_capacity(sockets);
    for (index, (stream, held)) in open.into_iter().enumerate() {
        let user = index % args.users;
        let client = Client {
            room: rooms[user % args.rooms],
            url: admin.url.clone(),
            cookie: cookies[user].clone(),
        };
        let role = if index < args.rooms {
            Role::Sender(period, stop_sending.clone())
        } else if index >= sockets - args.drop {
            Role::Dropper(dropped.clone(), back_tx.clone())
        } else {
            Role::Reader
        };
        let (ready, stop) = (Arc::clone(&ready), stop_reading.clone());
        tasks.push(tokio::spawn(async move {
            client.keep_up(stream, held, role, ready, stop).await
        }));
    }
    drop(back_tx);
    ready.wait().await;
    // Let the senders get going, so that the dropped sockets hold some messages before.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let dropped_at = Instant::now();
    drop_tx.send_replace(true);
    // Every dropped socket says when it is back; one that fails ends its task (and drops its
    // sender), so this ends either way.
    let mut slowest_back = Duration::ZERO;
    let mut reconnected = 0usize;
    while reconnected < args.drop {
        let Some(at) = back.recv().await else {
            break;
        };
        slowest_back = slowest_back.max(at.duration_since(dropped_at));
        reconnected += 1;
    }
    // Messages keep coming for at least `away_seconds` after the drop, then stop; everyone
    // reads on for 2 s more. A socket still behind after that counts what it lacks as lost:
    // the check errs on the side of reporting a loss.
    tokio::time::sleep_until(dropped_at + Duration::from_secs(args.away_seconds)).await;
    stop_sending_tx.send_replace(true);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_reading_tx.send_replace(true);
    let mut outcomes = Vec::with_capacity(sockets);
    for task in tasks {
        outcomes.push(task.await??);
    }

    // Every room's newest seq, as any of its sockets saw it.
    let room_index = |room: RoomId| rooms.iter().position(|r| *r == room).unwrap_or(0);
    let mut newest = vec![0i64; args.rooms];
    for outcome in &outcomes {
        let r = room_index(outcome.room);
        newest[r] = newest[r].max(outcome.held.newest());
    }
    let (mut lost, mut live, mut fetched) = (0u64, 0u64, 0u64);
    for outcome in &outcomes {
        let Some(from) = outcome.from_seq else {
            continue;
        };
        lost += (from + 1..=newest[room_index(outcome.room)])
            .filter(|seq| !outcome.held.seqs.contains(seq))
            .count() as u64;
        live += outcome.live;
        fetched += outcome.fetched;
    }
    println!(
        "drop: {} sockets dropped at once; {reconnected} reconnected and caught up within \
         {:.2} s of the drop",
        args.drop,
        slowest_back.as_secs_f64(),
    );
    println!(
        "catch-up: {fetched} messages fetched with `missed`, {live} arrived live after \
         reconnecting; lost: {lost}"
    );
    Ok(())
}

enum Role {
    /// Posts one message per period to its room until told to stop.
    Sender(Duration, watch::Receiver<bool>),
    /// Drops its connection when told, reconnects at once and catches up, then says when.
    Dropper(watch::Receiver<bool>, mpsc::UnboundedSender<Instant>),
    /// Only reads.
    Reader,
}

struct Client {
    room: RoomId,
    url: String,
    cookie: String,
}

struct Outcome {
    room: RoomId,
    held: Held,
    /// A dropped socket: the newest seq it held before dropping.
    from_seq: Option<i64>,
    /// Messages a reconnected socket got live, and with `missed`.
    live: u64,
    fetched: u64,
}

/// Reads a greeting: `hello` was read by `socket::open`; the room's `joined` comes next.
async fn greeting(stream: &mut Stream, room: RoomId) -> anyhow::Result<Held> {
    loop {
        let event = socket::next_as::<Glance>(stream)
            .await
            .context("during the greeting")?;
        if event.kind == "joined" && event.room.is_some_and(|info| info.id == room) {
            let seqs = event.recent.iter().map(|message| message.seq);
            return Ok(Held {
                seqs: seqs.collect(),
            });
        }
    }
}

impl Client {
    /// Reads (and sends, or drops and comes back, by `role`) until `stop`.
    async fn keep_up(
        self,
        mut stream: Stream,
        mut held: Held,
        role: Role,
        ready: Arc<Barrier>,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Outcome> {
        ready.wait().await;
        let mut outcome = Outcome {
            room: self.room,
            held: Held::default(),
            from_seq: None,
            live: 0,
            fetched: 0,
        };
        let (mut sending, mut dropping) = match role {
            Role::Sender(period, stop) => (Some((tokio::time::interval(period), stop)), None),
            Role::Dropper(signal, back) => (None, Some((signal, back))),
            Role::Reader => (None, None),
        };
        let mut request = 1u64;
        let run = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        loop {
            let tick = async {
                match &mut sending {
                    Some((ticker, stop)) if !*stop.borrow() => {
                        ticker.tick().await;
                    }
                    _ => std::future::pending::<()>().await,
                }
            };
            let drop_now = async {
                match &mut dropping {
                    Some((signal, _)) => {
                        let _ = signal.wait_for(|dropped| *dropped).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                event = socket::next_as::<Heard>(&mut stream) => {
                    match event? {
                        Heard::Message { message } if message.room_id == self.room => {
                            held.seqs.insert(message.seq);
                            if outcome.from_seq.is_some() {
                                outcome.live += 1;
                            }
                        }
                        Heard::Error { message } => bail!("refused: {message}"),
                        _ => {}
                    }
                }
                () = tick => {
                    let command = ClientCommand::Send {
                        request_id: RequestId(request),
                        room_id: self.room,
                        body: format!("storm {request}"),
                        nonce: format!("{run:x}-{request}"),
                    };
                    socket::send(&mut stream, &command).await?;
                    request += 1;
                }
                () = drop_now => {
                    // Gone without a close frame, as a lost connection is.
                    drop(stream);
                    let from = held.newest();
                    outcome.from_seq = Some(from);
                    let (back, live, fetched) =
                        tokio::time::timeout(RECONNECT_LIMIT, self.reconnect(from, &mut held))
                            .await
                            .context("no greeting or catch-up within a minute")??;
                    stream = back;
                    outcome.live = live;
                    outcome.fetched = fetched;
                    if let Some((_, back)) = dropping.take() {
                        let _ = back.send(Instant::now());
                    }
                }
                _ = stop.changed() => break,
            }
        }
        outcome.held = held;
        Ok(outcome)
    }

    /// Opens a new socket and fills the hole since `from` with `missed`, a page at a time; returns
    /// the socket and how many messages came live and by `missed`.
    async fn reconnect(&self, from: i64, held: &mut Held) -> anyhow::Result<(Stream, u64, u64)> {
        let room = self.room;
        let mut stream = socket::open(&self.url, &self.cookie).await?;
        let mut live = 0;
        let mut fetched = 0;
        let greeted = greeting(&mut stream, room).await?;
        held.seqs.extend(greeted.seqs);
        let mut after = from;
        let mut request = 1u64;
        loop {
            socket::send(
                &mut stream,
                &ClientCommand::Missed {
                    request_id: RequestId(request),
                    room_id: room,
                    after_seq: after,
                    before_seq: None,
                },
            )
            .await?;
            let page = loop {
                match socket::next_as::<Heard>(&mut stream)
                    .await
                    .context("during catch-up")?
                {
                    Heard::Missed {
                        request_id,
                        messages,
                    } if request_id == RequestId(request) => break messages,
                    Heard::Message { message } if message.room_id == room => {
                        held.seqs.insert(message.seq);
                        live += 1;
                    }
                    Heard::Error { message } => bail!("missed refused: {message}"),
                    _ => {}
                }
            };
            fetched += page.len() as u64;
            held.add(&page);
            if page.len() < HISTORY_PAGE {
                return Ok((stream, live, fetched));
            }
            after = page.last().map_or(after, |message| message.seq);
            request += 1;
        }
    }
}
