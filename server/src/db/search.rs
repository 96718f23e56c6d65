//! Finding messages by their text: one query per page over `messages.search_text` (see the
//! `m20261205_000006_message_search` migration), with the access policy's read rule in its
//! `WHERE` clause, newest first by message id, keyset-paged.
//!
//! Words of three characters or more go to the index: on SQLite an FTS5 `MATCH` of each as a
//! quoted string (so nothing in them is query syntax), which the query walks newest first and
//! stops after a page; on PostgreSQL `LIKE '%word%'` (wildcards escaped), which the `pg_trgm`
//! index answers. Shorter words have no trigram to look up, so they are checked on the rows
//! the rest of the query narrows down to (`instr` / `strpos`): the other words, the author, or
//! the room. A query of short words alone, with none of those, reads the messages newest first
//! a stretch at a time ([`WINDOW`] messages, at most [`WINDOWS_PER_PAGE`] a page), so that a
//! page costs a bounded scan however rare the word; its `next` then says where to go on.

use super::messages::{self, entity as message_entity};
use super::rooms::{self, Room};
use super::users;
use crate::chat::access::ReadScope;
use protocol::{ChatMessage, MessageId, RoomId, RoomKind, UserId};
use sea_orm::entity::prelude::*;
use sea_orm::{DbBackend, FromQueryResult, QueryOrder, Statement, Value};

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
    /// Only messages older than this one (the previous page's last).
    pub before: Option<MessageId>,
}

/// Messages a query of short words alone reads per stretch.
pub const WINDOW: u64 = 25_000;

/// Stretches such a query reads for one page at most.
pub const WINDOWS_PER_PAGE: usize = 4;

/// One page of matches, newest first, each with its room; and the `before` of the next page,
/// when more may follow.
pub async fn find(
    db: &DatabaseConnection,
    filter: &Filter<'_>,
    limit: usize,
) -> Result<(Vec<(ChatMessage, Room)>, Option<MessageId>), DbErr> {
    if filter.rooms.as_ref().is_some_and(Vec::is_empty) {
        return Ok((Vec::new(), None));
    }
    let narrowed =
        !filter.indexed_words.is_empty() || filter.author.is_some() || filter.rooms.is_some();
    let (ids, next) = if narrowed {
        let statement = matching_ids(db.get_database_backend(), filter, None, limit + 1);
        let mut ids = ids_of(db, statement).await?;
        let next = (ids.len() > limit).then(|| {
            ids.truncate(limit);
            MessageId(ids[limit - 1])
        });
        (ids, next)
    } else {
        windowed_ids(db, filter, limit).await?
    };
    if ids.is_empty() {
        return Ok((Vec::new(), next));
    }
    let rows = message_entity::Entity::find()
        .filter(message_entity::Column::Id.is_in(ids))
        .order_by_desc(message_entity::Column::Id)
        .find_also_related(users::entity::Entity)
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

async fn ids_of(db: &DatabaseConnection, statement: Statement) -> Result<Vec<i64>, DbErr> {
    Ok(IdRow::find_by_statement(statement)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect())
}

/// The matches of a query that nothing narrows, read a [`WINDOW`] of messages at a time (by
/// the primary key, newest first) until a page is full or [`WINDOWS_PER_PAGE`] were read.
async fn windowed_ids(
    db: &DatabaseConnection,
    filter: &Filter<'_>,
    limit: usize,
) -> Result<(Vec<i64>, Option<MessageId>), DbErr> {
    let backend = db.get_database_backend();
    let mut ids: Vec<i64> = Vec::new();
    let mut before = filter.before.map_or(i64::MAX, |before| before.0);
    for _ in 0..WINDOWS_PER_PAGE {
        let window = WindowRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT MIN(id) AS low, COUNT(*) AS counted FROM \
                 (SELECT id FROM messages WHERE id < {} ORDER BY id DESC LIMIT {WINDOW}) w",
                if backend == DbBackend::Postgres {
                    "$1"
                } else {
                    "?"
                }
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
        if counted < WINDOW as i64 {
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
    sql.push("JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ");
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

    #[test]
    fn words_are_quoted_and_escaped() {
        assert_eq!(fts_query(&["a\"b", "not"]), "\"a\"\"b\" \"not\"");
        assert_eq!(like_escaped("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
