//! Finding messages by their text: one query per page over `messages.search_text` (see the
//! `m20261205_000006_message_search` migration), with the access policy's read rule in its
//! `WHERE` clause, newest first by message id, keyset-paged.
//!
//! Words of three characters or more go to the index: on SQLite an FTS5 `MATCH` of each as a
//! quoted string (so nothing in them is query syntax), which the query walks newest first and
//! stops after a page; on PostgreSQL `LIKE '%word%'` (wildcards escaped), which the `pg_trgm`
//! index answers. Shorter words have no trigram to look up, so they are checked on the rows
//! the rest of the query narrows down to (`instr` / `strpos`): the other words, the author, or
//! the room. A query without a word for the index reads the messages newest first a stretch at
//! a time ([`WINDOW`] messages, at most [`WINDOWS_PER_PAGE`] a page), so that a page costs a
//! bounded scan however rare its words (or author) are; its `next` then says where to go on.

use super::messages::{self, entity as message_entity};
use super::rooms::{self, Room};
use crate::chat::access::ReadScope;
use protocol::{ChatMessage, MessageId, RoomId, RoomKind, UserId};
use sea_orm::entity::prelude::*;
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, QueryOrder, Statement, TransactionTrait, Value,
};

/// What to look for, already resolved to ids.
#[derive(Debug, Clone)]
pub struct Filter<'a> {
    /// Who searches, and what the policy lets them read.
    pub user: UserId,
    pub scope: ReadScope,
    /// Folded words, every one of which must occur.
    pub indexed_words: Vec<&'a str>,
    pub short_words: Vec<&'a str>,
    /// Only messages by this author.
    pub author: Option<UserId>,
    /// Only messages in these rooms.
    pub rooms: Option<Vec<RoomId>>,
    /// Only messages older than this one (where the previous page stopped).
    pub before: Option<MessageId>,
}

/// Messages a query without a word for the index reads per stretch.
pub const WINDOW: u64 = 25_000;

/// Stretches such a query reads for one page at most.
pub const WINDOWS_PER_PAGE: usize = 4;

/// How a query without a word for the index reads the messages: stretches of `size`, at most
/// `per_page` of them for one page.
#[derive(Debug, Clone, Copy)]
struct Windows {
    size: u64,
    per_page: usize,
}

/// One page of matches, newest first, each with its room; and the `before` of the next page,
/// when more may follow.
pub async fn find(
    db: &DatabaseConnection,
    filter: &Filter<'_>,
    limit: usize,
) -> Result<(Vec<(ChatMessage, Room)>, Option<MessageId>), DbErr> {
    let windows = Windows {
        size: WINDOW,
        per_page: WINDOWS_PER_PAGE,
    };
    find_with(db, filter, limit, windows).await
}

async fn find_with(
    db: &DatabaseConnection,
    filter: &Filter<'_>,
    limit: usize,
    windows: Windows,
) -> Result<(Vec<(ChatMessage, Room)>, Option<MessageId>), DbErr> {
    if filter.rooms.as_ref().is_some_and(Vec::is_empty) {
        return Ok((Vec::new(), None));
    }
    let (ids, next) = if !filter.indexed_words.is_empty() {
        let statement = matching_ids(db.get_database_backend(), filter, None, limit + 1);
        let mut ids = ids_of(db, statement).await?;
        let next = (ids.len() > limit).then(|| {
            ids.truncate(limit);
            MessageId(ids[limit - 1])
        });
        (ids, next)
    } else {
        windowed_ids(db, filter, limit, windows).await?
    };
    if ids.is_empty() {
        return Ok((Vec::new(), next));
    }
    // Deleted since the ids were read: not found either.
    let query = message_entity::Entity::find()
        .filter(message_entity::Column::Id.is_in(ids))
        .filter(message_entity::Column::DeletedAt.is_null())
        .order_by_desc(message_entity::Column::Id);
    let rows = messages::shown(query)
        .into_model::<messages::Shown>()
        .all(db)
        .await?;
    let found = messages::with_mentions(db, rows).await?;
    let mut room_ids: Vec<i64> = found.iter().map(|message| message.room_id.0).collect();
    room_ids.sort_unstable();
    room_ids.dedup();
    let found_rooms = rooms::entity::Entity::find()
        .filter(rooms::entity::Column::Id.is_in(room_ids))
        .all(db)
        .await?;
    let hits = found
        .into_iter()
        .filter_map(|message| {
            let room = found_rooms
                .iter()
                .find(|room| room.id == message.room_id.0)?
                .clone();
            Some((message, room))
        })
        .collect();
    Ok((hits, next))
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// The ids a matching query finds.
///
/// On PostgreSQL the query is planned for its values every time. Statements are prepared and
/// cached, and after a few runs PostgreSQL may switch to one generic plan that cannot tell a
/// common word from a rare one: at a million messages that plan took seconds where the right
/// one (walk the newest messages, or look the rare word up in the trigram index) takes well
/// under one millisecond.
async fn ids_of(db: &DatabaseConnection, statement: Statement) -> Result<Vec<i64>, DbErr> {
    let rows = if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
        let rows = IdRow::find_by_statement(statement).all(&txn).await?;
        txn.commit().await?;
        rows
    } else {
        IdRow::find_by_statement(statement).all(db).await?
    };
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// The matches of a query with no word for the index, read a [`WINDOW`] of messages at a time (by
/// the primary key, newest first) until a page is full or [`WINDOWS_PER_PAGE`] were read.
async fn windowed_ids(
    db: &DatabaseConnection,
    filter: &Filter<'_>,
    limit: usize,
    windows: Windows,
) -> Result<(Vec<i64>, Option<MessageId>), DbErr> {
    let backend = db.get_database_backend();
    let mut ids: Vec<i64> = Vec::new();
    let mut before = filter.before.map_or(i64::MAX, |before| before.0);
    for _ in 0..windows.per_page {
        let window = WindowRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT MIN(id) AS low, COUNT(*) AS counted FROM \
                 (SELECT id FROM messages WHERE id < {} ORDER BY id DESC LIMIT {}) w",
                if backend == DbBackend::Postgres {
                    "$1"
                } else {
                    "?"
                },
                windows.size
            ),
            [before.into()],
        ))
        .one(db)
        .await?;
        let Some(WindowRow {
            low: Some(low),
            counted,
        }) = window
        else {
            return Ok((ids, None));
        };
        let mut stretch = filter.clone();
        stretch.before = Some(MessageId(before));
        let statement = matching_ids(backend, &stretch, Some(low), limit + 1 - ids.len());
        ids.extend(ids_of(db, statement).await?);
        if ids.len() > limit {
            ids.truncate(limit);
            let last = MessageId(ids[limit - 1]);
            return Ok((ids, Some(last)));
        }
        if counted < windows.size as i64 {
            return Ok((ids, None));
        }
        before = low;
    }
    Ok((ids, Some(MessageId(before))))
}

#[derive(FromQueryResult)]
struct WindowRow {
    low: Option<i64>,
    counted: i64,
}

/// SQL text with its values, written left to right: SQLite numbers `?` by position, so each
/// value is bound where its placeholder is written.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a placeholder for `value`.
    fn bind(&mut self, value: impl Into<Value>) {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => {
                let at = format!("${}", self.values.len());
                self.text.push_str(&at);
            }
            _ => self.text.push('?'),
        }
    }
}

/// The ids of up to `limit` matching messages, newest first (from id `from` on, when given).
fn matching_ids(
    backend: DbBackend,
    filter: &Filter<'_>,
    from: Option<i64>,
    limit: usize,
) -> Statement {
    let mut sql = Sql {
        backend,
        text: String::new(),
        values: Vec::new(),
    };
    let fts = backend == DbBackend::Sqlite && !filter.indexed_words.is_empty();
    // On SQLite the index leads (`CROSS JOIN` keeps the planner from starting elsewhere): it
    // yields matches newest first and the query stops at a page.
    if fts {
        sql.push(
            "SELECT m.id AS id FROM message_search s CROSS JOIN messages m ON m.id = s.rowid ",
        );
    } else {
        sql.push("SELECT m.id AS id FROM messages m ");
    }
    // Without the index or a chosen room, SQLite must walk the messages newest first and stop
    // at a page, too; left to itself it starts from the user's memberships and reads all of
    // each room's messages in the stretch before sorting them.
    let walk_messages = backend == DbBackend::Sqlite && !fts && filter.rooms.is_none();
    // The read rule, as `ReadScope::admits` states it (its test holds it to the policy): a
    // member of the room (this join), and no staff-only room unless the viewer is staff.
    sql.push(if walk_messages { "CROSS JOIN" } else { "JOIN" });
    sql.push(" room_members rm ON rm.room_id = m.room_id AND rm.user_id = ");
    sql.bind(filter.user.0);
    sql.push(" JOIN rooms r ON r.id = m.room_id WHERE m.deleted_at IS NULL AND m.search_text IS NOT NULL");
    if !filter.scope.staff_only_rooms {
        sql.push(" AND r.kind <> ");
        sql.bind(RoomKind::StaffOnly.as_str());
    }
    if fts {
        sql.push(" AND s.message_search MATCH ");
        sql.bind(fts_query(&filter.indexed_words));
    } else {
        for word in &filter.indexed_words {
            sql.push(" AND m.search_text LIKE ");
            sql.bind(format!("%{}%", like_escaped(word)));
        }
    }
    for word in &filter.short_words {
        sql.push(match backend {
            DbBackend::Postgres => " AND strpos(m.search_text, ",
            _ => " AND instr(m.search_text, ",
        });
        sql.bind((*word).to_owned());
        sql.push(") > 0");
    }
    if let Some(author) = filter.author {
        sql.push(" AND m.author_id = ");
        sql.bind(author.0);
    }
    if let Some(rooms) = &filter.rooms {
        sql.push(" AND m.room_id IN (");
        for (index, room) in rooms.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(room.0);
        }
        sql.push(")");
    }
    let id = if fts { "s.rowid" } else { "m.id" };
    if let Some(before) = filter.before {
        sql.push(&format!(" AND {id} < "));
        sql.bind(before.0);
    }
    if let Some(from) = from {
        sql.push(&format!(" AND {id} >= "));
        sql.bind(from);
    }
    sql.push(&format!(" ORDER BY {id} DESC LIMIT {limit}"));
    Statement::from_sql_and_values(backend, sql.text, sql.values)
}

/// An FTS5 query requiring every word, each a quoted string (a `"` inside doubled), so that
/// nothing in a word is read as an operator.
fn fts_query(words: &[&str]) -> String {
    words
        .iter()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` with `LIKE`'s wildcards (and its escape character, PostgreSQL's default `\`) escaped.
fn like_escaped(word: &str) -> String {
    let mut escaped = String::with_capacity(word.len());
    for c in word.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{messages::entity as message, rooms, users};
    use sea_orm::ActiveModelTrait;
    use sea_orm::ActiveValue::Set;

    /// A fresh SQLite file with one user, a member of room A but not of room B, and `count`
    /// messages alternating between the two (odd ids in A); the user's id.
    async fn alternating(count: i64) -> (DatabaseConnection, UserId, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("whisper-search-{}-{count}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let db = crate::db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        let user = users::create(
            &db,
            users::NewUser {
                username: "ada",
                password_hash: String::new(),
                is_admin: false,
                is_staff: false,
            },
        )
        .await
        .unwrap();
        let user_id = UserId(user.id);
        let a = rooms::create(&db, "a", RoomKind::Open, None).await.unwrap();
        let b = rooms::create(&db, "b", RoomKind::Open, None).await.unwrap();
        rooms::add_member(&db, &a, user_id).await.unwrap();
        for n in 1..=count {
            let (room, body) = if n % 2 == 1 {
                (&a, "hi from a")
            } else {
                (&b, "hi from b")
            };
            message::ActiveModel {
                room_id: Set(room.id),
                seq: Set(n),
                author_id: Set(user.id),
                body: Set(body.into()),
                search_text: Set(Some(body.into())),
                created_at: Set(chrono::Utc::now()),
                ..Default::default()
            }
            .insert(&db)
            .await
            .unwrap();
        }
        (db, user_id, path)
    }

    /// Every page of a search for `word`, as (ids, next).
    async fn pages(
        db: &DatabaseConnection,
        user: UserId,
        word: &str,
        limit: usize,
        windows: Windows,
    ) -> Vec<(Vec<i64>, Option<MessageId>)> {
        let mut filter = Filter {
            user,
            scope: ReadScope {
                staff_only_rooms: false,
            },
            indexed_words: Vec::new(),
            short_words: vec![word],
            author: None,
            rooms: None,
            before: None,
        };
        let mut pages = Vec::new();
        loop {
            let (hits, next) = find_with(db, &filter, limit, windows).await.unwrap();
            let ids = hits.iter().map(|(message, _)| message.id.0).collect();
            pages.push((ids, next));
            match next {
                Some(next) => filter.before = Some(next),
                None => return pages,
            }
        }
    }

    /// A query with no word for the index reads a bounded stretch per page, stops at a full
    /// page, goes on where it stopped, and finds every readable match once.
    #[tokio::test]
    async fn short_words_page_through_bounded_windows() {
        let (db, user, path) = alternating(30).await;
        let windows = Windows {
            size: 4,
            per_page: 2,
        };
        // A full page within two windows: it ends at its last hit.
        let found = pages(&db, user, "hi", 3, windows).await;
        assert_eq!(found[0], (vec![29, 27, 25], Some(MessageId(25))));
        let all: Vec<i64> = found.iter().flat_map(|(ids, _)| ids.clone()).collect();
        assert_eq!(
            all,
            (1..=30).rev().filter(|n| n % 2 == 1).collect::<Vec<_>>()
        );
        // Two windows read without filling a page: it ends where they ended.
        let found = pages(&db, user, "hi", 10, windows).await;
        assert_eq!(found[0], (vec![29, 27, 25, 23], Some(MessageId(23))));
        // Nothing anywhere: empty pages that still go on, until the oldest message.
        let found = pages(&db, user, "zz", 10, windows).await;
        assert!(found.iter().all(|(ids, _)| ids.is_empty()));
        assert_eq!(found.len(), 4, "30 messages, 8 a page");
        db.close().await.unwrap();
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn words_are_quoted_and_escaped() {
        assert_eq!(fts_query(&["a\"b", "not"]), "\"a\"\"b\" \"not\"");
        assert_eq!(like_escaped("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
