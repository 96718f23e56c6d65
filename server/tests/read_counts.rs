//! The unread and mention counts every tab shows never drift from the database.
//!
//! A property test (proptest, with shrinking) drives random interleavings of sends (some
//! mentioning someone), edits (adding or dropping a mention), deletes, leaves and joins, reads
//! from either of a user's two tabs, and reconnects, through the real client reducer
//! (`app::chat::state::ChatState`) on real sockets. After every step, with every tab caught up,
//! each tab's counts must equal a recount from the stored messages and read positions — on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use app::chat::reading::Counts;
use app::chat::state::ChatState;
use common::{Client, Tab, TestServer, server_with_users};
use proptest::prelude::*;
use proptest::test_runner::{Config as Cases, TestCaseError, TestRunner};
use protocol::{ClientCommand, RoomId, RoomKind, UserId};
use sea_orm::EntityTrait;
use whisper::config::Config;
use whisper::db::{messages, rooms};

on_both_databases!(counts_never_drift_from_the_database);

const PEOPLE: [&str; 3] = ["ada", "ben", "cy"];
const TABS: usize = 2;

#[derive(Debug, Clone)]
enum Step {
    Send {
        user: usize,
        mention: Option<usize>,
    },
    Edit {
        user: usize,
        nth: usize,
        mention: Option<usize>,
    },
    Delete {
        user: usize,
        nth: usize,
    },
    Leave {
        user: usize,
    },
    Join {
        user: usize,
    },
    Read {
        user: usize,
        tab: usize,
    },
    Reconnect {
        user: usize,
        tab: usize,
    },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let user = 0..PEOPLE.len();
    let tab = 0..TABS;
    let mention = proptest::option::of(0..PEOPLE.len());
    let step = prop_oneof![
        6 => (user.clone(), mention.clone()).prop_map(|(user, mention)| Step::Send { user, mention }),
        2 => (user.clone(), 0..8usize, mention).prop_map(|(user, nth, mention)| Step::Edit { user, nth, mention }),
        2 => (user.clone(), 0..8usize).prop_map(|(user, nth)| Step::Delete { user, nth }),
        1 => user.clone().prop_map(|user| Step::Leave { user }),
        2 => user.clone().prop_map(|user| Step::Join { user }),
        4 => (user.clone(), tab.clone()).prop_map(|(user, tab)| Step::Read { user, tab }),
        2 => (user, tab).prop_map(|(user, tab)| Step::Reconnect { user, tab }),
    ];
    proptest::collection::vec(step, 1..28)
}

/// One browser tab: a socket and the client's own state, fed every event.
struct Browser {
    tab: Tab,
    state: ChatState,
}

/// A steady fake clock: far enough apart that every throttle and grace period has passed.
struct Clock(f64);

impl Clock {
    fn tick(&mut self) -> f64 {
        self.0 += 10_000.0;
        self.0
    }
}

impl Browser {
    async fn open(server: &TestServer, client: &Client, name: &str) -> Browser {
        let (tab, hello) = Tab::open(server, client).await;
        // Every page's nonces are its own, as a browser's random prefix makes them.
        let mut state = ChatState::new(format!("{name}-{}", rand_suffix()));
        state.apply(hello);
        Browser { tab, state }
    }

    async fn send(&mut self, commands: Vec<ClientCommand>) {
        for command in commands {
            self.tab
                .send_raw(&serde_json::to_string(&command).unwrap())
                .await;
        }
    }

    /// Applies everything that arrived and sends what the client wants to send; `true` when
    /// something happened.
    async fn pump(&mut self, clock: &mut Clock) -> bool {
        let events = self.tab.drain().await;
        let busy = !events.is_empty();
        for event in events {
            self.state.apply(event);
        }
        let commands = self.state.follow_ups(clock.tick());
        let sent = !commands.is_empty();
        self.send(commands).await;
        busy || sent
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct World<'a> {
    server: &'a TestServer,
    clients: &'a [Client],
    ids: Vec<UserId>,
    room: RoomId,
    browsers: Vec<Vec<Browser>>,
    clock: Clock,
}

impl World<'_> {
    /// Until no tab hears or sends anything more.
    async fn settle(&mut self) {
        for _ in 0..50 {
            let mut busy = false;
            for browser in self.browsers.iter_mut().flatten() {
                busy |= browser.pump(&mut self.clock).await;
            }
            if !busy {
                return;
            }
        }
        panic!("the tabs never went quiet");
    }

    async fn member(&self, user: usize) -> bool {
        rooms::is_member(&self.server.state.db, self.room, self.ids[user])
            .await
            .unwrap()
    }

    /// The stored messages of `user` still standing, oldest first.
    async fn own_messages(&self, user: usize) -> Vec<protocol::MessageId> {
        messages::after(&self.server.state.db, self.room, 0, None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|message| message.author.id == self.ids[user] && !message.deleted)
            .map(|message| message.id)
            .collect()
    }

    fn body(&self, mention: Option<usize>) -> String {
        let n = rand_suffix();
        match mention {
            Some(who) => format!("note {n} for @{}", PEOPLE[who]),
            None => format!("note {n}"),
        }
    }

    async fn run(&mut self, step: &Step) {
        let room = self.room;
        match *step {
            Step::Send { user, mention } => {
                if self.member(user).await {
                    let body = self.body(mention);
                    let browser = &mut self.browsers[user][0];
                    browser.state.open(room);
                    let commands = browser.state.compose(&body);
                    browser.send(commands).await;
                }
            }
            Step::Edit { user, nth, mention } => {
                let own = self.own_messages(user).await;
                if self.member(user).await && !own.is_empty() {
                    let body = self.body(mention);
                    let browser = &mut self.browsers[user][0];
                    let command = browser.state.edit(own[nth % own.len()], &body);
                    browser.send(command.into_iter().collect()).await;
                }
            }
            Step::Delete { user, nth } => {
                let own = self.own_messages(user).await;
                if self.member(user).await && !own.is_empty() {
                    let browser = &mut self.browsers[user][1];
                    let command = browser.state.delete(own[nth % own.len()]);
                    browser.send(vec![command]).await;
                }
            }
            Step::Leave { user } => {
                if self.member(user).await {
                    let browser = &mut self.browsers[user][1];
                    let command = browser.state.leave(room);
                    browser.send(vec![command]).await;
                }
            }
            Step::Join { user } => {
                if !self.member(user).await {
                    let browser = &mut self.browsers[user][0];
                    let command = browser.state.open(room);
                    browser.send(command.into_iter().collect()).await;
                }
            }
            Step::Read { user, tab } => {
                self.browsers[user][tab].state.seen(room, None);
            }
            Step::Reconnect { user, tab } => {
                // The same page's state on a new socket, as after a dropped connection.
                let (socket, hello) = Tab::open(self.server, &self.clients[user]).await;
                let browser = &mut self.browsers[user][tab];
                browser.state.disconnected();
                browser.tab = socket;
                browser.state.apply(hello);
            }
        }
        self.settle().await;
    }

    /// Every tab of every member shows the recount; no tab of a non-member holds the room.
    async fn check(&self, after: &Step) -> Result<(), TestCaseError> {
        let db = &self.server.state.db;
        let stored = messages::after(db, self.room, 0, None, 10_000)
            .await
            .unwrap();
        for (user, browsers) in self.browsers.iter().enumerate() {
            let id = self.ids[user];
            let member = rooms::member_entity::Entity::find_by_id((self.room.0, id.0))
                .one(db)
                .await
                .unwrap();
            for (tab, browser) in browsers.iter().enumerate() {
                let what = format!("{} tab {tab} after {after:?}", PEOPLE[user]);
                let Some(member) = &member else {
                    prop_assert!(
                        !browser.state.joined.contains_key(&self.room),
                        "{what}: not a member"
                    );
                    continue;
                };
                let mut expected = Counts::default();
                for message in &stored {
                    if message.seq > member.last_read_seq
                        && message.author.id != id
                        && !message.deleted
                    {
                        expected.unread += 1;
                        if message.mentions.iter().any(|m| m.id == id) {
                            expected.mentions += 1;
                        }
                    }
                }
                prop_assert_eq!(browser.state.counts(self.room), expected, "{}", what);
            }
        }
        Ok(())
    }
}

async fn case(
    server: &TestServer,
    clients: &[Client],
    ids: &[UserId],
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let mut browsers = Vec::new();
    for (user, client) in clients.iter().enumerate() {
        let mut tabs = Vec::new();
        for _ in 0..TABS {
            tabs.push(Browser::open(server, client, PEOPLE[user]).await);
        }
        browsers.push(tabs);
    }
    // A fresh open room, created by the first person (who is in it from the start).
    let title = format!("room {}", rand_suffix());
    let create = browsers[0][0]
        .state
        .create_room(&title, RoomKind::Open, Vec::new());
    browsers[0][0].send(vec![create]).await;
    let mut world = World {
        server,
        clients,
        ids: ids.to_vec(),
        room: RoomId(0),
        browsers,
        clock: Clock(0.0),
    };
    world.settle().await;
    world.room = world.browsers[0][0]
        .state
        .active
        .expect("the new room opened");
    for user in 1..PEOPLE.len() {
        world.run(&Step::Join { user }).await;
    }
    world.check(&Step::Join { user: 0 }).await?;
    for step in steps {
        world.run(step).await;
        world.check(step).await?;
    }
    Ok(())
}

async fn counts_never_drift_from_the_database(db: String) {
    let mut config = Config::for_database(&db);
    config.sends_per_second = 10_000;
    config.joins_per_second = 10_000;
    let (server, mut admin, clients) = server_with_users(config, &PEOPLE).await;
    let mut ids = Vec::new();
    for name in PEOPLE {
        ids.push(server.user_id(&mut admin, name).await);
    }
    let handle = tokio::runtime::Handle::current();
    let cases: u32 = std::env::var("READ_COUNT_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(12);
    let mut runner = TestRunner::new(Cases {
        cases,
        failure_persistence: None,
        ..Cases::default()
    });
    tokio::task::block_in_place(|| {
        runner
            .run(&steps(), |steps| {
                handle.block_on(case(&server, &clients, &ids, &steps))
            })
            .unwrap();
    });
}
