//! The machine's floor for fan-out: what one `send` per delivery costs on this machine, with
//! no database, no protocol and no authentication, so Whisper's figures can be read against
//! what no server design that writes each delivery as its own `send` can beat.
//!
//! `floor serve` is a bare broadcaster (run it as its own process, pinned like Whisper's
//! server); `floor load` drives it with the shapes of `fanout`. On loopback the kernel runs the
//! receiving side's TCP in the sender's context, so the server's CPU per delivery includes
//! the receiver's share of the stack, as it does for Whisper.
//!
//! The wire is lines over plain TCP: a client sends its room's number, the server answers `ok`
//! once it is a member, and every later line a client sends goes to every member of its room,
//! the sender included. A line carries the sender's clock, so each delivery yields a latency.

use crate::fanout::print_latency;
use crate::pacing::{Quiet, Schedule, Sending, Shape, sender_rank};
use crate::server_stats;
use anyhow::{Context, bail};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Barrier, mpsc, watch};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:3400")]
    listen: SocketAddr,
    /// How a delivery reaches its socket: `direct` writes it from the task that read the
    /// message (a `send` per delivery, nothing else); `task` hands it to the socket's own
    /// writer task through a channel (a wake-up per delivery, as most servers do).
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
    /// Bytes per delivered line. A message event of `fanout` is about this size as JSON.
    #[arg(long, default_value_t = 256)]
    bytes: usize,
}

/// Runs the broadcaster on one thread until killed.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(args.listen)?;
    eprintln!(
        "floor: serving on {} ({:?} writes)",
        args.listen, args.writes
    );
    serve_on(listener, args.writes)
}

fn serve_on(listener: std::net::TcpListener, writes: Writes) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        listener.set_nonblocking(true)?;
        let listener = TcpListener::from_std(listener)?;
        let rooms: Rooms = Rc::default();
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::task::spawn_local(member(stream, Rc::clone(&rooms), writes));
        }
    })
}

type Rooms = Rc<RefCell<HashMap<u64, Vec<Rc<Outlet>>>>>;

/// Where a room's deliveries go for one socket.
enum Outlet {
    /// Written from the broadcasting task; what the socket could not take yet waits in
    /// `pending` for a flusher task.
    Direct {
        stream: Rc<TcpStream>,
        pending: RefCell<Vec<u8>>,
        /// A flusher task owns the socket's writes until `pending` is empty.
        flushing: Cell<bool>,
    },
    /// Queued for the socket's own writer task.
    Task(mpsc::UnboundedSender<Rc<[u8]>>),
}

impl Outlet {
    fn deliver(self: &Rc<Self>, line: &Rc<[u8]>) {
        match &**self {
            Outlet::Direct {
                stream,
                pending,
                flushing,
            } => {
                if flushing.get() {
                    pending.borrow_mut().extend_from_slice(line);
                    return;
                }
                let written = stream.try_write(line).unwrap_or(0);
                if written < line.len() {
                    pending.borrow_mut().extend_from_slice(&line[written..]);
                    flushing.set(true);
                    tokio::task::spawn_local(flush(Rc::clone(self)));
                }
            }
            Outlet::Task(queue) => {
                let _ = queue.send(Rc::clone(line));
            }
        }
    }
}

/// Writes out what a direct outlet's socket could not take at once, and what queued behind it.
async fn flush(outlet: Rc<Outlet>) {
    let Outlet::Direct {
        stream,
        pending,
        flushing,
    } = &*outlet
    else {
        return;
    };
    loop {
        let waiting = std::mem::take(&mut *pending.borrow_mut());
        if waiting.is_empty() || write_all(stream, &waiting).await.is_err() {
            flushing.set(false);
            return;
        }
    }
}

/// `write_all` on a stream shared between tasks (only one of them writes at a time).
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        stream.writable().await?;
        match stream.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// One client: its join, then every line it sends, to every member of its room.
async fn member(stream: TcpStream, rooms: Rooms, writes: Writes) -> anyhow::Result<()> {
    let stream = Rc::new(stream);
    let mut reader = BufReader::with_capacity(4096, ReadHalf(Rc::clone(&stream)));
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    let room: u64 = std::str::from_utf8(&line)?.trim().parse()?;
    let outlet = Rc::new(match writes {
        Writes::Direct => Outlet::Direct {
            stream: Rc::clone(&stream),
            pending: RefCell::default(),
            flushing: Cell::new(false),
        },
        Writes::Task => {
            let (queue, frames) = mpsc::unbounded_channel();
            tokio::task::spawn_local(write_loop(Rc::clone(&stream), frames));
            Outlet::Task(queue)
        }
    });
    rooms
        .borrow_mut()
        .entry(room)
        .or_default()
        .push(Rc::clone(&outlet));
    outlet.deliver(&Rc::from(&b"ok\n"[..]));
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            break;
        }
        let shared: Rc<[u8]> = Rc::from(&line[..]);
        let members = rooms.borrow().get(&room).cloned().unwrap_or_default();
        for member in &members {
            member.deliver(&shared);
        }
    }
    if let Some(members) = rooms.borrow_mut().get_mut(&room) {
        members.retain(|member| !Rc::ptr_eq(member, &outlet));
    }
    Ok(())
}

/// A socket's writer task: everything queued when it wakes goes out in one write.
async fn write_loop(stream: Rc<TcpStream>, mut frames: mpsc::UnboundedReceiver<Rc<[u8]>>) {
    let mut batch = Vec::new();
    while let Some(frame) = frames.recv().await {
        batch.extend_from_slice(&frame);
        while let Ok(frame) = frames.try_recv() {
            batch.extend_from_slice(&frame);
        }
        if write_all(&stream, &batch).await.is_err() {
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
    let summary = measure(&server_pids, &args).await?;
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
    Ok(())
}

async fn measure(server_pids: &[u32], args: &LoadArgs) -> anyhow::Result<Summary> {
    if args.shape.senders > args.shape.rooms * args.shape.clients_per_room
        || args.shape.rate <= 0.0
        || args.bytes < 32
    {
        bail!("need senders <= rooms * clients-per-room, a positive rate and at least 32 bytes");
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
            load_client(addr, room, bytes, sending, ready, stop, epoch).await
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

async fn load_client(
    addr: SocketAddr,
    room: u64,
    bytes: usize,
    sending: Option<Sending>,
    ready: Arc<Barrier>,
    mut stop: watch::Receiver<bool>,
    epoch: Instant,
) -> anyhow::Result<Tally> {
    let stream = TcpStream::connect(addr)
        .await
        .context("connecting to `floor serve`")?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(4096, read);
    write.write_all(format!("{room}\n").as_bytes()).await?;
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
    let mut out = Vec::with_capacity(bytes);
    loop {
        tokio::select! {
            read = reader.read_until(b'\n', &mut line) => {
                let now_us = epoch.elapsed().as_micros() as u64;
                if read? == 0 {
                    break;
                }
                quiet.heard();
                let sent_us = std::str::from_utf8(&line)
                    .ok()
                    .and_then(|text| text.split(' ').next())
                    .and_then(|stamp| stamp.parse::<u64>().ok());
                if let Some(sent_us) = sent_us {
                    tally.latencies_us.push(now_us.saturating_sub(sent_us) as u32);
                    tally.last_receipt_us = now_us;
                }
                line.clear();
            }
            () = schedule.tick(), if !quiet.stopped() => {
                out.clear();
                out.extend_from_slice(epoch.elapsed().as_micros().to_string().as_bytes());
                out.resize(bytes - 1, b' ');
                out.push(b'\n');
                write.write_all(&out).await?;
                tally.sent += 1;
            }
            _ = stop.changed(), if !quiet.stopped() => quiet.stop(),
            () = quiet.elapsed() => break,
        }
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line reaches every member of its room (the sender too) exactly once, whichever
    /// way the broadcaster writes: a floor that lost deliveries would flatter itself.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_member_gets_every_line_once() -> anyhow::Result<()> {
        for writes in [Writes::Direct, Writes::Task] {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = listener.local_addr()?;
            // The broadcaster runs until the test process ends.
            std::thread::spawn(move || serve_on(listener, writes));
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
            assert_eq!(summary.expected, summary.sent * 4);
            assert_eq!(
                summary.latencies_us.len() as u64,
                summary.expected,
                "{writes:?}: deliveries"
            );
        }
        Ok(())
    }
}
