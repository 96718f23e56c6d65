//! The machine's floor for fan-out: what one `send` per delivery costs on this machine, with
//! no database, no protocol and no authentication, so Whisper's figures can be read against
//! what no server design that writes each delivery as its own `send` can beat.
//!
//! `floor-serve` is a bare broadcaster (run it as its own process, pinned like Whisper's
//! server); `floor-load` drives it with the shapes of `fanout`. On loopback the kernel runs the
//! receiving side's TCP in the sender's context, so the server's CPU per delivery includes
//! the receiver's share of the stack, as it does for Whisper.
//!
//! The wire is lines over plain TCP: a client sends its room's number, the server answers `ok`
//! once it is a member, and every later line a client sends goes to every member of its room,
//! the sender included. A line carries the sender's clock, room, number and count, so each
//! delivery yields a latency and the load checks that each member gets every sender's lines
//! in order, none missing, none from another room.

use crate::pacing::{Quiet, Schedule, Sending, Shape, sender_rank};
use crate::report::print_latency;
use crate::server_stats;
use anyhow::{Context, bail};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Barrier, mpsc, watch};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:3400")]
    listen: SocketAddr,
    /// How a delivery reaches its socket: `direct` writes it from the task that read the
    /// message (one `send` per delivery while the socket keeps up); `task` hands it to the
    /// socket's own writer task through a channel, which writes what it finds queued when it
    /// wakes (a wake-up per delivery while sockets keep up, as in most servers).
    #[arg(long, value_enum, default_value_t = Writes::Direct)]
    writes: Writes,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Writes {
    Direct,
    Task,
}

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    #[arg(long, default_value = "127.0.0.1:3400")]
    addr: SocketAddr,
    #[command(flatten)]
    shape: Shape,
    /// Bytes per delivered line; Whisper's `message` frames in `fanout` are about 200.
    #[arg(long, default_value_t = 256)]
    bytes: usize,
}

/// `send` calls that wrote something, and deliveries: printed when the broadcaster stops, so a
/// run shows how many deliveries each `send` carried.
static SENDS: AtomicU64 = AtomicU64::new(0);
static DELIVERIES: AtomicU64 = AtomicU64::new(0);

/// Runs the broadcaster on one thread until SIGTERM or Ctrl-C, then prints its counts.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(args.listen)?;
    eprintln!(
        "floor: serving on {} ({:?} writes)",
        args.listen, args.writes
    );
    serve_on(listener, args.writes, async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = terminate.recv() => {}
            interrupted = tokio::signal::ctrl_c() => interrupted?,
        }
        let (sends, deliveries) = (
            SENDS.load(Ordering::Relaxed),
            DELIVERIES.load(Ordering::Relaxed),
        );
        eprintln!(
            "floor: {deliveries} deliveries in {sends} sends ({:.3} a send)",
            deliveries as f64 / sends.max(1) as f64
        );
        Ok(())
    })
}

/// Serves on `listener` (one thread) until `until` ends.
fn serve_on(
    listener: std::net::TcpListener,
    writes: Writes,
    until: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let rooms: Rooms = Rc::default();
        let accepting = async {
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                tokio::task::spawn_local(member(stream, Rc::clone(&rooms), writes));
            }
        };
        tokio::select! {
            accepted = accepting => accepted,
            done = until => done,
        }
    })
}

type Rooms = Rc<RefCell<HashMap<u64, Vec<Outlet>>>>;

/// Where a room's deliveries go for one socket.
#[derive(Clone)]
enum Outlet {
    Direct(Rc<Direct>),
    /// Queued for the socket's own writer task ([`write_loop`]).
    Task(mpsc::UnboundedSender<Rc<[u8]>>),
}

impl Outlet {
    fn deliver(&self, line: &Rc<[u8]>) {
        DELIVERIES.fetch_add(1, Ordering::Relaxed);
        match self {
            Outlet::Direct(direct) => direct.deliver(line),
            Outlet::Task(queue) => {
                // The writer is gone only with its socket, which leaves its room next.
                let _ = queue.send(Rc::clone(line));
            }
        }
    }

    fn is(&self, other: &Outlet) -> bool {
        match (self, other) {
            (Outlet::Direct(one), Outlet::Direct(other)) => Rc::ptr_eq(one, other),
            (Outlet::Task(one), Outlet::Task(other)) => one.same_channel(other),
            _ => false,
        }
    }
}

/// A socket written from the broadcasting task itself. What the socket cannot take at once
/// waits in `pending`, and everything after it queues behind it, for a flusher task.
struct Direct {
    stream: Rc<TcpStream>,
    pending: RefCell<Vec<u8>>,
    /// A flusher task owns the socket's writes until `pending` is empty.
    flushing: Cell<bool>,
}

impl Direct {
    fn deliver(self: &Rc<Self>, line: &[u8]) {
        if self.flushing.get() {
            self.pending.borrow_mut().extend_from_slice(line);
            return;
        }
        let written = match self.stream.try_write(line) {
            Ok(written) => {
                SENDS.fetch_add(1, Ordering::Relaxed);
                written
            }
            // A full socket (`WouldBlock`) or a broken one: the flusher waits for the first and
            // gives up on the second, whose member is about to leave its room.
            Err(_) => 0,
        };
        if written < line.len() {
            self.pending
                .borrow_mut()
                .extend_from_slice(&line[written..]);
            self.flushing.set(true);
            tokio::task::spawn_local(Rc::clone(self).flush());
        }
    }

    /// Writes out what the socket could not take at once, and what queued behind it.
    async fn flush(self: Rc<Self>) {
        loop {
            let waiting = std::mem::take(&mut *self.pending.borrow_mut());
            if waiting.is_empty() || write_shared(&self.stream, &waiting).await.is_err() {
                self.flushing.set(false);
                return;
            }
        }
    }
}

/// Writes all of `bytes` to a stream other tasks also hold (only one of them writes at a time).
async fn write_shared(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(written) => {
                SENDS.fetch_add(1, Ordering::Relaxed);
                bytes = &bytes[written..];
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// One client: its join, then every line it sends, to every member of its room; it leaves
/// its room however its connection ends.
async fn member(stream: TcpStream, rooms: Rooms, writes: Writes) -> anyhow::Result<()> {
    let stream = Rc::new(stream);
    let mut reader = BufReader::with_capacity(4096, ReadHalf(Rc::clone(&stream)));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    let room: u64 = std::str::from_utf8(&line)?.trim().parse()?;
    let outlet = match writes {
        Writes::Direct => Outlet::Direct(Rc::new(Direct {
            stream: Rc::clone(&stream),
            pending: RefCell::default(),
            flushing: Cell::new(false),
        })),
        Writes::Task => {
            let (queue, frames) = mpsc::unbounded_channel();
            tokio::task::spawn_local(write_loop(Rc::clone(&stream), frames));
            Outlet::Task(queue)
        }
    };
    rooms
        .borrow_mut()
        .entry(room)
        .or_default()
        .push(outlet.clone());
    outlet.deliver(&Rc::from(&b"ok\n"[..]));
    let relayed = async {
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            let shared: Rc<[u8]> = Rc::from(&line[..]);
            // Delivering never touches `rooms`: a flush it starts runs later, as its own task.
            for member in rooms.borrow().get(&room).into_iter().flatten() {
                member.deliver(&shared);
            }
        }
    };
    let ended: anyhow::Result<()> = relayed.await;
    if let Some(members) = rooms.borrow_mut().get_mut(&room) {
        members.retain(|member| !member.is(&outlet));
    }
    ended
}

/// A socket's writer task: everything queued when it wakes goes out in one write.
async fn write_loop(stream: Rc<TcpStream>, mut frames: mpsc::UnboundedReceiver<Rc<[u8]>>) {
    let mut batch = Vec::new();
    while let Some(frame) = frames.recv().await {
        batch.extend_from_slice(&frame);
        while let Ok(frame) = frames.try_recv() {
            batch.extend_from_slice(&frame);
        }
        if write_shared(&stream, &batch).await.is_err() {
            return;
        }
        batch.clear();
    }
}

/// Reads through a shared stream, so its writes can go on from other tasks.
struct ReadHalf(Rc<TcpStream>);

impl tokio::io::AsyncRead for ReadHalf {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        loop {
            std::task::ready!(self.0.poll_read_ready(cx))?;
            match self.0.try_read_buf(buf) {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                other => return std::task::Poll::Ready(other.map(|_| ())),
            }
        }
    }
}

/// What one load client saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    sent: u64,
    last_receipt_us: u64,
}

/// What a load run measured.
struct Summary {
    sent: u64,
    expected: u64,
    /// Delivery latencies in µs, sorted: one per delivery.
    latencies_us: Vec<u32>,
    /// First send to last delivery, or the sending time if longer.
    seconds: f64,
    server_cpu_seconds: f64,
    total: Duration,
}

pub async fn load(server_pids: Vec<u32>, args: LoadArgs) -> anyhow::Result<()> {
    if server_pids.is_empty() {
        bail!("pass the broadcaster's process id as --server-pid: its CPU is what is measured");
    }
    let own_before = server_stats::sample(std::process::id())?;
    let summary = measure(&server_pids, &args).await?;
    let own = server_stats::sample(std::process::id())?.cpu_seconds - own_before.cpu_seconds;
    let got = summary.latencies_us.len() as u64;
    let cpu = summary.server_cpu_seconds;
    println!(
        "floor: rooms={} clients/room={} senders={} rate={}/s for {} s, {} bytes a line",
        args.shape.rooms,
        args.shape.clients_per_room,
        args.shape.senders,
        args.shape.rate,
        args.shape.seconds,
        args.bytes
    );
    println!("messages sent: {}", summary.sent);
    println!(
        "deliveries: {got} of {} expected; lost: {}",
        summary.expected,
        summary.expected.saturating_sub(got)
    );
    println!(
        "deliveries/s: {:.0} (offered: {:.0}/s)",
        got as f64 / summary.seconds,
        args.shape.offered()
    );
    print_latency("latency ms", &summary.latencies_us);
    println!(
        "server CPU: {cpu:.1} s over {:.1} s ({:.0}% of one core); deliveries per server CPU-second: {:.0}",
        summary.total.as_secs_f64(),
        100.0 * cpu / summary.total.as_secs_f64(),
        got as f64 / cpu.max(0.001)
    );
    println!("load generator CPU: {own:.1} s (it shares the machine with the server)");
    Ok(())
}

async fn measure(server_pids: &[u32], args: &LoadArgs) -> anyhow::Result<Summary> {
    if args.shape.senders > args.shape.rooms * args.shape.clients_per_room
        || args.shape.rate <= 0.0
        || args.bytes < 64
    {
        bail!("need senders <= rooms * clients-per-room, a positive rate and at least 64 bytes");
    }
    let clients = args.shape.rooms * args.shape.clients_per_room;
    let ready = Arc::new(Barrier::new(clients + 1));
    let (stop_tx, stop) = watch::channel(false);
    let epoch = Instant::now();
    let period = Duration::from_secs_f64(1.0 / args.shape.rate);
    let mut tasks = Vec::new();
    for index in 0..clients {
        let room = (index / args.shape.clients_per_room) as u64;
        let sending = sender_rank(index, clients, args.shape.senders).map(|rank| Sending {
            period,
            rank,
            senders: args.shape.senders,
        });
        let (ready, stop) = (Arc::clone(&ready), stop.clone());
        let (addr, bytes) = (args.addr, args.bytes);
        tasks.push(tokio::spawn(async move {
            let me = Client { room, index, bytes };
            load_client(addr, me, sending, ready, stop, epoch).await
        }));
    }
    ready.wait().await;
    eprintln!(
        "{clients} clients joined; sending for {} s…",
        args.shape.seconds
    );

    let start = Instant::now();
    let start_us = epoch.elapsed().as_micros() as u64;
    let before = server_stats::sample_all(server_pids)?;
    tokio::time::sleep(Duration::from_secs(args.shape.seconds)).await;
    stop_tx.send_replace(true);
    let mut tallies = Vec::new();
    for task in tasks {
        tallies.push(task.await??);
    }
    let after = server_stats::sample_all(server_pids)?;
    let total = start.elapsed();

    let sent: u64 = tallies.iter().map(|t| t.sent).sum();
    let mut latencies_us: Vec<u32> = tallies
        .iter()
        .flat_map(|t| t.latencies_us.iter().copied())
        .collect();
    latencies_us.sort_unstable();
    let last_us = tallies.iter().map(|t| t.last_receipt_us).max();
    let seconds = Duration::from_micros(last_us.unwrap_or(start_us).saturating_sub(start_us))
        .as_secs_f64()
        .max(args.shape.seconds as f64);
    Ok(Summary {
        sent,
        expected: sent * args.shape.clients_per_room as u64,
        latencies_us,
        seconds,
        server_cpu_seconds: after.cpu_seconds - before.cpu_seconds,
        total,
    })
}

/// Who a load client is, and how long its lines are.
struct Client {
    room: u64,
    /// Its number among all clients: the sender named in its lines.
    index: usize,
    bytes: usize,
}

/// One load client: joins its room, sends on its schedule if it is a sender, and checks every
/// line it receives: from its own room, and from each sender the next one, none skipped.
async fn load_client(
    addr: SocketAddr,
    me: Client,
    sending: Option<Sending>,
    ready: Arc<Barrier>,
    mut stop: watch::Receiver<bool>,
    epoch: Instant,
) -> anyhow::Result<Tally> {
    let stream = TcpStream::connect(addr)
        .await
        .context("connecting to `floor-serve`")?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(4096, read);
    write.write_all(format!("{}\n", me.room).as_bytes()).await?;
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    if line != b"ok\n" {
        bail!("expected ok, got {:?}", String::from_utf8_lossy(&line));
    }
    line.clear();
    ready.wait().await;

    let mut tally = Tally::default();
    let mut schedule = Schedule::new(sending.as_ref());
    let mut quiet = Quiet::default();
    // The number of the next line expected from each sender heard so far.
    let mut next_from: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::with_capacity(me.bytes);
    loop {
        tokio::select! {
            read = reader.read_until(b'\n', &mut line) => {
                let now_us = epoch.elapsed().as_micros() as u64;
                if read? == 0 {
                    break;
                }
                quiet.heard();
                let Some([sent_us, room, sender, number]) = parse_line(&line) else {
                    bail!("unreadable line {:?}", String::from_utf8_lossy(&line));
                };
                let expected = next_from.entry(sender).or_insert(1);
                if room != me.room || number != *expected {
                    bail!(
                        "client {} of room {} got line {number} of sender {sender} in room {room}, \
                         expecting line {expected}",
                        me.index, me.room
                    );
                }
                *expected += 1;
                tally.latencies_us.push(now_us.saturating_sub(sent_us) as u32);
                tally.last_receipt_us = now_us;
                line.clear();
            }
            () = schedule.tick(), if !quiet.stopped() => {
                tally.sent += 1;
                out.clear();
                let stamp = epoch.elapsed().as_micros();
                out.extend_from_slice(
                    format!("{stamp} {} {} {}", me.room, me.index, tally.sent).as_bytes(),
                );
                out.resize(me.bytes.max(out.len() + 1) - 1, b' ');
                out.push(b'\n');
                write.write_all(&out).await?;
            }
            _ = stop.changed(), if !quiet.stopped() => quiet.stop(),
            () = quiet.elapsed() => break,
        }
    }
    Ok(tally)
}

/// A line's sending time (µs), room, sender and number.
fn parse_line(line: &[u8]) -> Option<[u64; 4]> {
    let mut fields = std::str::from_utf8(line).ok()?.split_ascii_whitespace();
    let mut parsed = [0; 4];
    for field in &mut parsed {
        *field = fields.next()?.parse().ok()?;
    }
    Some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member gets every line of its room (its own too) once and in order, whichever way
    /// the broadcaster writes; each load client checks the order and the room of each line it
    /// gets, and the total catches any line missing at the end. A floor that lost deliveries
    /// would flatter itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_member_gets_every_line_of_its_room_in_order() -> anyhow::Result<()> {
        for writes in [Writes::Direct, Writes::Task] {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            // The broadcaster runs until the test process ends.
            std::thread::spawn(move || serve_on(listener, writes, std::future::pending()));
            let args = LoadArgs {
                addr,
                shape: Shape {
                    rooms: 3,
                    clients_per_room: 4,
                    senders: 3,
                    rate: 40.0,
                    seconds: 1,
                },
                bytes: 64,
            };
            let summary = measure(&[std::process::id()], &args).await?;
            assert!(
                summary.sent >= 3 * 30,
                "{writes:?}: sent only {}",
                summary.sent
            );
            assert_eq!(
                summary.latencies_us.len() as u64,
                summary.sent * 4,
                "{writes:?}: deliveries"
            );
        }
        Ok(())
    }

    /// A socket that cannot take a line at once gets it, and everything after it, later and
    /// in order: the floor's `pending` path, which a reader that keeps up never reaches.
    #[test]
    fn a_full_socket_gets_its_lines_later_in_order() -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        tokio::task::LocalSet::new().block_on(&runtime, async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let reader = TcpStream::connect(listener.local_addr()?).await?;
            let (written_to, _) = listener.accept().await?;
            let direct = Rc::new(Direct {
                stream: Rc::new(written_to),
                pending: RefCell::default(),
                flushing: Cell::new(false),
            });
            // 20 MB with nobody reading: more than the kernel buffers of a loopback connection.
            const LINES: usize = 20_000;
            let line = |n: usize| format!("{n:0>999}\n");
            let mut filled_up = false;
            for n in 0..LINES {
                direct.deliver(line(n).as_bytes());
                filled_up |= direct.flushing.get();
            }
            assert!(
                filled_up,
                "the socket never filled up: the test proves nothing"
            );
            let mut lines = BufReader::new(reader).lines();
            for n in 0..LINES {
                let got = lines.next_line().await?.context("connection ended early")?;
                assert_eq!(got, line(n).trim_end(), "line {n}");
            }
            anyhow::Ok(())
        })
    }
}
