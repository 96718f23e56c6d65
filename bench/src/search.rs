//! Search latency on a large database: optionally fills rooms with generated text through the
//! server itself (so the index is kept the way posts keep it), then times first pages of
//! several kinds of query, one at a time, over the admin's WebSocket.
//!
//! The text: 6–20 words a message from a list of common words drawn with a skew (a few words
//! are in most messages, as in real chat), 5 % of messages with a Japanese phrase, and rare
//! words in about one message in 5,000. Each room has one author of its own (`searcher-N`), so
//! `from:` narrows to a share of the rooms.

use crate::setup::Admin;
use crate::socket;
use anyhow::{Context, bail};
use futures_util::StreamExt;
use protocol::{ClientCommand, RequestId, RoomId, ServerEvent};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rooms to fill and search ("Search 1", …).
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Authors; each room has one, room `i` author `i % authors`.
    #[arg(long, default_value_t = 10)]
    authors: usize,
    /// Messages to post first, spread evenly over the rooms (0: search what is there).
    #[arg(long, default_value_t = 0)]
    fill: u64,
    /// Queries timed of each kind (0: only fill).
    #[arg(long, default_value_t = 200)]
    queries: u32,
}

/// Common words, most frequent first.
const COMMON: &[&str] = &[
    "the",
    "and",
    "ok",
    "that",
    "go",
    "have",
    "for",
    "not",
    "with",
    "you",
    "this",
    "but",
    "from",
    "they",
    "will",
    "would",
    "there",
    "their",
    "what",
    "about",
    "which",
    "when",
    "make",
    "like",
    "time",
    "just",
    "know",
    "take",
    "people",
    "into",
    "year",
    "your",
    "good",
    "some",
    "could",
    "them",
    "see",
    "other",
    "than",
    "then",
    "now",
    "look",
    "only",
    "come",
    "its",
    "over",
    "think",
    "also",
    "back",
    "up",
    "after",
    "use",
    "two",
    "how",
    "our",
    "work",
    "first",
    "well",
    "way",
    "even",
    "new",
    "want",
    "because",
    "any",
    "these",
    "give",
    "day",
    "most",
    "deploy",
    "release",
    "meeting",
    "review",
    "branch",
    "server",
    "client",
    "database",
    "migration",
    "ticket",
    "customer",
    "design",
    "budget",
    "schedule",
    "lunch",
    "coffee",
    "weekend",
    "holiday",
    "report",
    "issue",
    "feature",
    "bug",
    "test",
    "build",
    "pipeline",
    "incident",
    "rollback",
    "dashboard",
    "metrics",
    "latency",
    "memory",
    "cache",
    "queue",
    "index",
    "search",
    "backup",
];

/// Words in about one message in 5,000 each.
const RARE: &[&str] = &[
    "zanzibar",
    "quixotic",
    "flibbertigibbet",
    "obsequious",
    "kerfuffle",
    "brouhaha",
    "lollygag",
    "snollygoster",
    "bumfuzzle",
    "cattywampus",
];

/// Japanese phrases, in 5 % of messages.
const CJK: &[&str] = &[
    "東京で会議",
    "新しい機能",
    "今日は晴れ",
    "データベース移行",
    "明日また",
];

/// A small fixed-seed generator (splitmix64): the same text on every run.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One message's text.
    fn message(&mut self) -> String {
        let count = 6 + self.below(15);
        let mut words: Vec<&str> = (0..count)
            .map(|_| {
                // Cubing a uniform draw skews it towards the front of the list.
                let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
                COMMON[((u * u * u) * COMMON.len() as f64) as usize % COMMON.len()]
            })
            .collect();
        if self.below(20) == 0 {
            words.push(CJK[self.below(CJK.len())]);
        }
        if self.below(500) == 0 {
            words.push(RARE[self.below(RARE.len())]);
        }
        words.join(" ")
    }
}

/// Messages a filling author keeps on their way before waiting for their copies back.
const WINDOW: usize = 512;

pub async fn run(admin: Arc<Admin>, args: Args) -> anyhow::Result<()> {
    let titles: Vec<String> = (1..=args.rooms).map(|i| format!("Search {i}")).collect();
    let rooms = admin.rooms(&titles).await?;
    let names: Vec<String> = (0..args.authors).map(|i| format!("searcher-{i}")).collect();
    let cookies = admin.sessions(&names).await?;
    if args.fill > 0 {
        fill(&admin.url, &rooms, &cookies, args.fill).await?;
    }
    if args.queries == 0 {
        return Ok(());
    }
    // The admin searches, a member of every room (joined after the fill: a socket that does
    // not read what a million posts bring it is closed as too slow).
    let mut searcher = socket::open(&admin.url, &admin.cookie).await?;
    for room in &rooms {
        socket::join(&mut searcher, *room).await?;
    }

    let mut request = 1;
    let words = |list: &[&str]| -> Vec<String> {
        list.iter()
            .filter(|word| word.chars().count() > 2)
            .map(|word| word.to_string())
            .collect()
    };
    // Each kind: its label, its queries (taken in turn), and whether it is asked in one room
    // (chosen from the menu) instead of all.
    let kinds: Vec<(&str, Vec<String>, bool)> = vec![
        ("common word", words(&COMMON[..20]), false),
        ("rare word", words(RARE), false),
        (
            "two words",
            COMMON[60..80]
                .iter()
                .zip(COMMON[5..25].iter())
                .map(|(a, b)| format!("{a} {b}"))
                .collect(),
            false,
        ),
        (
            "from: and a word",
            (0..args.authors)
                .map(|i| format!("from:searcher-{i} {}", COMMON[60 + i % 40]))
                .collect(),
            false,
        ),
        ("Japanese", words(CJK), false),
        ("part of a word", words(&["ploy", "atab", "edul"]), false),
        (
            "short word alone",
            vec!["ok".into(), "go".into(), "up".into()],
            false,
        ),
        (
            "short word in one room",
            vec!["ok".into(), "go".into()],
            true,
        ),
    ];
    println!("| query | p50 | p99 | max | hits on the first page (mean) |");
    println!("|---|---|---|---|---|");
    for (label, queries, in_one_room) in kinds {
        let mut micros = Vec::with_capacity(args.queries as usize);
        let mut hits_total = 0;
        for i in 0..args.queries {
            let query = queries[i as usize % queries.len()].clone();
            let started = Instant::now();
            socket::send(
                &mut searcher,
                &ClientCommand::Search {
                    request_id: RequestId(request),
                    query,
                    room_id: in_one_room.then(|| rooms[i as usize % rooms.len()]),
                    before: None,
                },
            )
            .await?;
            loop {
                match socket::next_as::<ServerEvent>(&mut searcher).await? {
                    ServerEvent::SearchResults {
                        request_id, hits, ..
                    } if request_id == RequestId(request) => {
                        hits_total += hits.len();
                        break;
                    }
                    ServerEvent::Error { code, message, .. } => {
                        if code == protocol::ErrorCode::RateLimited {
                            // Run the server with a generous search limit; see BENCHMARKS.md.
                            bail!("rate limited: {message}");
                        }
                        bail!("search refused: {message}");
                    }
                    _ => {}
                }
            }
            micros.push(started.elapsed().as_micros() as u64);
            request += 1;
            // Stay under the per-user search limit's refill.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        micros.sort_unstable();
        let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
        println!(
            "| {label} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} |",
            at(0.5),
            at(0.99),
            at(1.0),
            hits_total as f64 / f64::from(args.queries)
        );
    }
    Ok(())
}

/// Posts `total` generated messages, room `i`'s by author `i % authors`, each author as fast
/// as the server takes them (a window of posts on their way), and reports the rate.
async fn fill(url: &str, rooms: &[RoomId], cookies: &[String], total: u64) -> anyhow::Result<()> {
    let per_room = total / rooms.len() as u64;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (author, cookie) in cookies.iter().enumerate() {
        let mine: Vec<RoomId> = rooms
            .iter()
            .enumerate()
            .filter(|(i, _)| i % cookies.len() == author)
            .map(|(_, room)| *room)
            .collect();
        let (url, cookie) = (url.to_owned(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            let mut socket = socket::open(&url, &cookie).await?;
            for room in &mine {
                socket::join(&mut socket, *room).await?;
            }
            let (mut sink, mut stream) = socket.split();
            let mut words = Words(author as u64 + 1);
            let count = per_room as usize * mine.len();
            let mut sent = 0;
            let mut back = 0;
            while back < count {
                while sent < count && sent - back < WINDOW {
                    let room = mine[sent % mine.len()];
                    socket::send(
                        &mut sink,
                        &ClientCommand::Send {
                            request_id: RequestId(sent as u64),
                            room_id: room,
                            body: words.message(),
                            nonce: format!("fill-{author}-{sent}-{}", started.elapsed().as_nanos()),
                        },
                    )
                    .await?;
                    sent += 1;
                }
                match stream.next().await.context("socket closed")?? {
                    tokio_tungstenite::tungstenite::Message::Text(text) => {
                        match serde_json::from_str::<ServerEvent>(&text)? {
                            ServerEvent::Message { .. } => back += 1,
                            ServerEvent::Error { message, .. } => bail!("post refused: {message}"),
                            _ => {}
                        }
                    }
                    _ => continue,
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let posted = per_room * rooms.len() as u64;
    println!(
        "filled {posted} messages in {seconds:.1} s ({:.0} posts/s)",
        posted as f64 / seconds
    );
    Ok(())
}
