//! Messages: the `messages` table, ordered within each room by `seq`.

use super::keys::MAX_KEYS;
use super::read_state;
use super::rooms;
use super::users;
use crate::metrics::Metrics;
use chrono::Utc;
use prometheus_client::metrics::histogram::Histogram;
use protocol::{ChatMessage, Member, MessageId, RoomId};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Asterisk, CaseStatement, ExprTrait, Query, UnionType};
use sea_orm::{
    Condition, ConnectionTrait, DatabaseTransaction, DbBackend, FromQueryResult, JoinType,
    QueryOrder, QuerySelect, QueryTrait, SqlErr, Statement, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub room_id: i64,
        pub seq: i64,
        pub author_id: i64,
        pub body: String,
        pub created_at: DateTimeUtc,
        pub edited_at: Option<DateTimeUtc>,
        pub deleted_at: Option<DateTimeUtc>,
        pub nonce: Option<String>,
        /// The members it mentions, as `db::read_state::mentions_column` writes them.
        pub mentions: Option<String>,
        /// The text as searches compare it ([`protocol::search::fold`]); `None` once deleted.
        /// Indexed by `db::search`'s index, kept in step by the statements that write it.
        pub search_text: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::db::users::entity::Entity",
            from = "Column::AuthorId",
            to = "crate::db::users::entity::Column::Id"
        )]
        Author,
    }

    impl Related<crate::db::users::entity::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Author.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

/// A message as clients see it, with its author's name: every column of `messages` but the
/// search text, which no page shows. Pages and searches read only these ([`shown`]).
#[derive(FromQueryResult)]
pub(super) struct Shown {
    id: i64,
    room_id: i64,
    seq: i64,
    author_id: i64,
    author_name: String,
    body: String,
    created_at: DateTimeUtc,
    edited_at: Option<DateTimeUtc>,
    deleted_at: Option<DateTimeUtc>,
    nonce: Option<String>,
    mentions: Option<String>,
}

impl Shown {
    /// A message as stored, by `author`.
    fn of(message: entity::Model, author: Member) -> Self {
        Self {
            id: message.id,
            room_id: message.room_id,
            seq: message.seq,
            author_id: author.id.0,
            author_name: author.username,
            body: message.body,
            created_at: message.created_at,
            edited_at: message.edited_at,
            deleted_at: message.deleted_at,
            nonce: message.nonce,
            mentions: message.mentions,
        }
    }
}

/// `query` narrowed to the columns of [`Shown`] (read it with `.into_model::<Shown>()`): a page
/// decodes no search text and no author's whole row.
pub(super) fn shown(query: Select<Entity>) -> Select<Entity> {
    query
        .select_only()
        .columns([
            Column::Id,
            Column::RoomId,
            Column::Seq,
            Column::AuthorId,
            Column::Body,
            Column::CreatedAt,
            Column::EditedAt,
            Column::DeletedAt,
            Column::Nonce,
            Column::Mentions,
        ])
        .column_as(users::entity::Column::Username, "author_name")
        .join(JoinType::InnerJoin, entity::Relation::Author.def())
}

fn to_chat(message: Shown, mentions: Vec<Member>) -> ChatMessage {
    let deleted = message.deleted_at.is_some();
    ChatMessage {
        id: MessageId(message.id),
        room_id: RoomId(message.room_id),
        seq: message.seq,
        author: users::member(message.author_id, message.author_name),
        // Deleting blanks the stored text too; this is a second guard.
        body: if deleted { String::new() } else { message.body },
        created_at: message.created_at,
        edited_at: message.edited_at,
        deleted,
        nonce: message.nonce,
        mentions,
    }
}

/// The members of `room` that `body` mentions by `@name`, as committed now, in the order the
/// text first names them. Names of non-members mention nobody: a closed room's message never
/// reaches, or reveals the room to, someone outside it.
pub async fn resolve_mentions<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    body: &str,
) -> Result<Vec<Member>, DbErr> {
    let names = protocol::mention::names(body);
    let mut found = users::members_named(db, room, &names).await?;
    found.sort_by_key(|user| names.iter().position(|name| *name == user.username_key));
    Ok(found.iter().map(users::User::member).collect())
}

/// One message as read from the database, with the members it mentions.
async fn chat_of<C: ConnectionTrait>(
    db: &C,
    message: entity::Model,
    author: Member,
) -> Result<ChatMessage, DbErr> {
    let ids = read_state::mentioned_ids(message.mentions.as_deref());
    let mentions = users::members_by_id(db, &ids).await?;
    Ok(to_chat(Shown::of(message, author), mentions))
}

fn member_ids(members: &[Member]) -> Vec<protocol::UserId> {
    members.iter().map(|member| member.id).collect()
}

/// Messages as read from the database, with the members they mention looked up in one query
/// for all of them.
pub(super) async fn with_mentions<C: ConnectionTrait>(
    db: &C,
    rows: Vec<Shown>,
) -> Result<Vec<ChatMessage>, DbErr> {
    let mut ids: Vec<protocol::UserId> = rows
        .iter()
        .flat_map(|message| read_state::mentioned_ids(message.mentions.as_deref()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let known = users::members_by_id(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|message| {
            let mentions = read_state::mentioned_ids(message.mentions.as_deref())
                .into_iter()
                .filter_map(|id| known.iter().find(|member| member.id == id).cloned())
                .collect();
            to_chat(message, mentions)
        })
        .collect())
}

/// Most posts committed in one transaction.
const MAX_BATCH: usize = 256;

/// Posts queued while the previous batch commits.
const QUEUE: usize = 4096;

/// Stores messages through one writer task that commits them in batches ("group commit").
///
/// Every post costs a seq bump and an insert, but a transaction's begin and commit are paid once
/// per batch: under load, posts that arrive while a batch commits ride the next one together.
/// With SQLite this also keeps writers out of each other's way: SQLite allows one writer, and a
/// connection that finds the file locked sleeps in its busy handler (1 ms, 2 ms, 5 ms, …), which
/// under load added seconds of latency. An idle writer commits a lone post at once, so a quiet
/// room pays no batching delay.
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<PendingPost>,
}

struct PendingPost {
    room: RoomId,
    author: Member,
    body: String,
    nonce: String,
    done: oneshot::Sender<Result<Option<Posted>, DbErr>>,
}

/// What became of a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Stored now, as the room's next seq: everyone must be told.
    New(ChatMessage),
    /// The author's nonce was already stored: this is that message, and nobody needs telling
    /// again but the client that retried.
    Duplicate(ChatMessage),
}

impl MessageWriter {
    /// Starts the writer task, timing its commits into `metrics`.
    pub fn start(db: DatabaseConnection, metrics: &Metrics) -> MessageWriter {
        let (queue, pending) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(db, pending, metrics.commit_seconds.clone()));
        MessageWriter { queue }
    }

    /// Stores a message as the room's next seq, once committed, unless the author already
    /// posted with this nonce; `None` when the author is not a member of the room when the post
    /// commits (or the room does not exist). Nobody may be told about
    /// the message before this returns.
    pub async fn post(
        &self,
        room: RoomId,
        author: &Member,
        body: &str,
        nonce: &str,
    ) -> Result<Option<Posted>, DbErr> {
        let (done, result) = oneshot::channel();
        let post = PendingPost {
            room,
            author: author.clone(),
            body: body.to_owned(),
            nonce: nonce.to_owned(),
            done,
        };
        let stopped = || DbErr::Custom("message writer stopped".into());
        self.queue.send(post).await.map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

async fn write_batches(
    db: DatabaseConnection,
    mut pending: mpsc::Receiver<PendingPost>,
    commit_seconds: Histogram,
) {
    while let Some(first) = pending.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match pending.try_recv() {
                Ok(post) => batch.push(post),
                Err(_) => break,
            }
        }
        // Retried sends are rare, so a batch first goes in without looking for stored nonces;
        // the unique index on (author, nonce) refuses it (rolling back) if one is a retry, and
        // it goes again looking. That second try can still meet a nonce another node stored
        // between its look and its insert; a third finds that one too.
        let started = Instant::now();
        let mut outcome = write_batch(&db, &batch, NonceCheck::Skip).await;
        for _ in 0..2 {
            if !outcome.as_ref().is_err_and(|err| {
                matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
            }) {
                break;
            }
            outcome = write_batch(&db, &batch, NonceCheck::Look).await;
        }
        commit_seconds.observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(stored) => {
                for (post, message) in batch.into_iter().zip(stored) {
                    let _ = post.done.send(Ok(message));
                }
            }
            Err(err) => {
                tracing::error!(%err, posts = batch.len(), "storing messages failed");
                for post in batch {
                    let _ = post.done.send(Err(DbErr::Custom(err.to_string())));
                }
            }
        }
    }
}

/// Whether a batch looks for its nonces among the stored messages before inserting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NonceCheck {
    Skip,
    Look,
}

/// One transaction with a fixed number of statements however big the batch: one `UPDATE`
/// moves every involved room's `last_seq` past its posts, and one multi-row `INSERT` stores the
/// messages with the seqs that frees. Bump and insert share the transaction, so seqs have no
/// gaps and no duplicates however many nodes post at once. (Per-post statements cost a thread
/// hop each in the SQLite driver; under CPU contention those hops, not SQLite, set the pace.)
/// With [`NonceCheck::Look`] a `SELECT` first finds the nonces already stored.
async fn write_batch(
    db: &DatabaseConnection,
    batch: &[PendingPost],
    check: NonceCheck,
) -> Result<Vec<Option<Posted>>, DbErr> {
    let txn = db.begin().await?;
    match write_batch_in(&txn, batch, check).await {
        Ok(stored) => {
            txn.commit().await?;
            Ok(stored)
        }
        Err(err) => {
            // Rolled back now, not when dropped: a retry must not wait on this try's locks.
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(%rollback, "rolling back a failed batch failed");
            }
            Err(err)
        }
    }
}

async fn write_batch_in(
    txn: &DatabaseTransaction,
    batch: &[PendingPost],
    check: NonceCheck,
) -> Result<Vec<Option<Posted>>, DbErr> {
    // Nonces already stored, and nonces repeated within the batch, post nothing new.
    let mut stored_before: HashMap<(i64, String), entity::Model> = HashMap::new();
    if check == NonceCheck::Look {
        // A write first, for SQLite's sake: a transaction that reads and then writes fails at
        // once (not after the busy wait) if another connection committed in between. Moving
        // every room of the batch by zero takes the write lock without changing anything.
        let mut rooms: Vec<(i64, i64)> = batch.iter().map(|post| (post.room.0, 0)).collect();
        rooms.sort_unstable();
        rooms.dedup();
        move_last_seq(txn, &rooms, 1).await?;
        let stored = Entity::find()
            .filter(batch.iter().fold(Condition::any(), |any, post| {
                any.add(
                    Condition::all()
                        .add(Column::AuthorId.eq(post.author.id.0))
                        .add(Column::Nonce.eq(post.nonce.as_str())),
                )
            }))
            .all(txn)
            .await?;
        for message in stored {
            if let Some(nonce) = message.nonce.clone() {
                stored_before.insert((message.author_id, nonce), message);
            }
        }
    }
    let mut first_of_nonce: HashMap<(i64, &str), usize> = HashMap::new();
    let mut fate: Vec<Fate> = batch
        .iter()
        .enumerate()
        .map(|(index, post)| {
            let key = (post.author.id.0, post.nonce.as_str());
            let first = *first_of_nonce.entry(key).or_insert(index) == index;
            if first && !stored_before.contains_key(&(key.0, post.nonce.clone())) {
                Fate::Store
            } else {
                Fate::Repeat
            }
        })
        .collect();

    let counts = posts_per_room(batch, &fate);
    if counts.is_empty() {
        // Only retries: nothing to store.
        let mut answers = Vec::with_capacity(batch.len());
        for post in batch {
            let key = (post.author.id.0, post.nonce.clone());
            answers.push(match stored_before.get(&key) {
                Some(message) => {
                    let message = chat_of(txn, message.clone(), post.author.clone()).await?;
                    Some(Posted::Duplicate(message))
                }
                None => None,
            });
        }
        return Ok(answers);
    }
    // The bump comes first: with SQLite it takes the write lock, so nothing read below can go
    // stale before the commit.
    let mut bumped = move_last_seq(txn, &counts, 1).await?;
    // Only members post, as of this transaction: a membership ended a moment ago (a removal, a
    // room turned staff-only) refuses the post even if this node's hub has not heard yet. Rare;
    // the refused posts' seqs are given back, so the room keeps no gap.
    refuse_non_members(txn, batch, &mut fate).await?;
    let stored_counts = posts_per_room(batch, &fate);
    if stored_counts != counts {
        let given_back: Vec<(i64, i64)> = counts
            .iter()
            .map(|(room, count)| {
                let kept = stored_counts
                    .iter()
                    .find(|(id, _)| id == room)
                    .map_or(0, |(_, kept)| *kept);
                (*room, count - kept)
            })
            .collect();
        bumped = move_last_seq(txn, &given_back, -1).await?;
    }
    // The first seq each room's posts take, counting up. Rooms that no longer exist are absent.
    let mut next_seq: HashMap<i64, i64> = bumped
        .iter()
        .filter_map(|room| {
            let count = stored_counts.iter().find(|(id, _)| *id == room.id)?.1;
            Some((room.id, room.last_seq - count + 1))
        })
        .collect();
    // Mentions resolve against the members as of this transaction; most posts name nobody and
    // cost nothing here.
    let mut mentions: Vec<Vec<Member>> = Vec::with_capacity(batch.len());
    for (post, fate) in batch.iter().zip(&fate) {
        mentions.push(if *fate == Fate::Store && post.body.contains('@') {
            resolve_mentions(txn, post.room, &post.body).await?
        } else {
            Vec::new()
        });
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(batch.len());
    let mut seqs = Vec::with_capacity(batch.len());
    for ((post, fate), mentions) in batch.iter().zip(&fate).zip(&mentions) {
        let seq = match fate {
            Fate::Store => next_seq.get_mut(&post.room.0).map(|next| {
                *next += 1;
                *next - 1
            }),
            Fate::Repeat | Fate::Refused => None,
        };
        if let Some(seq) = seq {
            rows.push(ActiveModel {
                room_id: Set(post.room.0),
                seq: Set(seq),
                author_id: Set(post.author.id.0),
                body: Set(post.body.clone()),
                search_text: Set(Some(protocol::search::fold(&post.body))),
                created_at: Set(now),
                nonce: Set(Some(post.nonce.clone())),
                mentions: Set(read_state::mentions_column(&member_ids(mentions))),
                ..Default::default()
            });
        }
        seqs.push(seq);
    }
    let inserted = if rows.is_empty() {
        Vec::new()
    } else {
        Entity::insert_many(rows).exec_with_returning(txn).await?
    };

    // Repeats within the batch answer with the message their first occurrence stored.
    for message in &inserted {
        if let Some(nonce) = &message.nonce {
            stored_before.insert((message.author_id, nonce.clone()), message.clone());
        }
    }
    let mut stored: HashMap<(i64, i64), entity::Model> = inserted
        .into_iter()
        .map(|message| ((message.room_id, message.seq), message))
        .collect();
    let mut answers = Vec::with_capacity(batch.len());
    for (((post, seq), fate), mentions) in batch.iter().zip(seqs).zip(&fate).zip(mentions) {
        answers.push(match (fate, seq) {
            (Fate::Store, Some(seq)) => stored.remove(&(post.room.0, seq)).map(|message| {
                Posted::New(to_chat(Shown::of(message, post.author.clone()), mentions))
            }),
            (Fate::Repeat, _) => {
                let key = (post.author.id.0, post.nonce.clone());
                match stored_before.get(&key) {
                    Some(message) => {
                        let message = chat_of(txn, message.clone(), post.author.clone()).await?;
                        Some(Posted::Duplicate(message))
                    }
                    None => None,
                }
            }
            (Fate::Store, None) | (Fate::Refused, _) => None,
        });
    }
    Ok(answers)
}

/// What a batch does with one post.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Stored as the room's next seq.
    Store,
    /// Its nonce was stored before (or earlier in the batch): answered with that message.
    Repeat,
    /// Its author is not a member of the room (or the room is gone): nothing stored.
    Refused,
}

/// Posts to store per room, in first-seen order.
fn posts_per_room(batch: &[PendingPost], fate: &[Fate]) -> Vec<(i64, i64)> {
    let mut counts: Vec<(i64, i64)> = Vec::new();
    for (post, _) in batch
        .iter()
        .zip(fate)
        .filter(|(_, fate)| **fate == Fate::Store)
    {
        match counts.iter_mut().find(|(room, _)| *room == post.room.0) {
            Some((_, count)) => *count += 1,
            None => counts.push((post.room.0, 1)),
        }
    }
    counts
}

/// Moves each room's `last_seq` by `sign` × its count, in one `UPDATE`; the rooms as updated.
async fn move_last_seq(
    txn: &DatabaseTransaction,
    counts: &[(i64, i64)],
    sign: i64,
) -> Result<Vec<rooms::Room>, DbErr> {
    use rooms::entity::{Column as RoomColumn, Entity as RoomEntity};
    let Some(by) = counts
        .iter()
        .fold(None::<CaseStatement>, |case, (room, count)| {
            let when = RoomColumn::Id.eq(*room);
            Some(match case {
                None => Expr::case(when, sign * count),
                Some(case) => case.case(when, sign * count),
            })
        })
    else {
        return Ok(Vec::new());
    };
    RoomEntity::update_many()
        .col_expr(
            RoomColumn::LastSeq,
            Expr::col(RoomColumn::LastSeq).add(by.finally(0i64)),
        )
        .filter(RoomColumn::Id.is_in(counts.iter().map(|(room, _)| *room)))
        .exec_with_returning(txn)
        .await
}

/// Marks [`Fate::Refused`] the posts to store whose author is not a member of the room now
/// (one `SELECT` for the whole batch).
async fn refuse_non_members(
    txn: &DatabaseTransaction,
    batch: &[PendingPost],
    fate: &mut [Fate],
) -> Result<(), DbErr> {
    use rooms::member_entity::{Column as MemberColumn, Entity as MemberEntity};
    let mut pairs: Vec<(i64, i64)> = batch
        .iter()
        .zip(fate.iter())
        .filter(|(_, fate)| **fate == Fate::Store)
        .map(|(post, _)| (post.room.0, post.author.id.0))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let members: HashSet<(i64, i64)> = MemberEntity::find()
        .filter(pairs.iter().fold(Condition::any(), |any, (room, user)| {
            any.add(
                Condition::all()
                    .add(MemberColumn::RoomId.eq(*room))
                    .add(MemberColumn::UserId.eq(*user)),
            )
        }))
        .select_only()
        .column(MemberColumn::RoomId)
        .column(MemberColumn::UserId)
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    for (post, fate) in batch.iter().zip(fate.iter_mut()) {
        if *fate == Fate::Store && !members.contains(&(post.room.0, post.author.id.0)) {
            *fate = Fate::Refused;
        }
    }
    Ok(())
}

/// Up to `limit` messages of a room with seq below `before_seq`, oldest first, and whether they
/// reach back to the room's first message. Keyset paging on the (room_id, seq) index: as fast
/// at seq 1,000,000 as at seq 100.
pub async fn before(
    db: &DatabaseConnection,
    room: RoomId,
    before_seq: i64,
    limit: u64,
) -> Result<(Vec<ChatMessage>, bool), DbErr> {
    let query = Entity::find()
        .filter(Column::RoomId.eq(room.0))
        .filter(Column::Seq.lt(before_seq))
        .order_by_desc(Column::Seq)
        // One more than asked: whether it exists tells if older messages remain.
        .limit(limit + 1);
    let mut rows = shown(query).into_model::<Shown>().all(db).await?;
    let complete = rows.len() as u64 <= limit;
    rows.truncate(limit as usize);
    rows.reverse();
    Ok((with_mentions(db, rows).await?, complete))
}

/// Up to `limit` messages of a room with seq above `after_seq` (and below `before_seq`, when
/// given), oldest first: the pages a reconnecting client fills its holes with.
pub async fn after(
    db: &DatabaseConnection,
    room: RoomId,
    after_seq: i64,
    before_seq: Option<i64>,
    limit: u64,
) -> Result<Vec<ChatMessage>, DbErr> {
    let query = Entity::find()
        .filter(Column::RoomId.eq(room.0))
        .filter(Column::Seq.gt(after_seq))
        .filter(Column::Seq.lt(before_seq.unwrap_or(i64::MAX)))
        .order_by_asc(Column::Seq)
        .limit(limit);
    let rows = shown(query).into_model::<Shown>().all(db).await?;
    with_mentions(db, rows).await
}

/// One message with its author.
pub async fn find(
    db: &DatabaseConnection,
    id: MessageId,
) -> Result<Option<(entity::Model, Member)>, DbErr> {
    let found = Entity::find_by_id(id.0)
        .find_also_related(users::entity::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(message, author)| Some((message, author?.member()))))
}

/// Replaces the text of `author`'s message and stamps it edited, unless it was deleted
/// meanwhile (`None`). The condition is part of the `UPDATE`, so an edit racing a deletion
/// cannot write text into the tombstone.
pub async fn edit(
    db: &DatabaseConnection,
    id: MessageId,
    author: Member,
    body: &str,
    mentions: &[Member],
) -> Result<Option<ChatMessage>, DbErr> {
    let mentions = read_state::mentions_column(&member_ids(mentions));
    let updated = Entity::update_many()
        .col_expr(Column::Body, Expr::value(body))
        .col_expr(
            Column::SearchText,
            Expr::value(protocol::search::fold(body)),
        )
        .col_expr(Column::Mentions, Expr::value(mentions))
        .col_expr(Column::EditedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.0))
        .filter(Column::AuthorId.eq(author.id.0))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    reread(db, id, author, updated.rows_affected).await
}

/// Deletes a message, keeping its seq as a tombstone: the text is erased, not hidden. `None`
/// if it was already deleted.
pub async fn delete(
    db: &DatabaseConnection,
    id: MessageId,
    author: Member,
) -> Result<Option<ChatMessage>, DbErr> {
    let updated = Entity::update_many()
        .col_expr(Column::Body, Expr::value(""))
        .col_expr(Column::SearchText, Expr::value(None::<String>))
        .col_expr(Column::Mentions, Expr::value(None::<String>))
        .col_expr(Column::DeletedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.0))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    reread(db, id, author, updated.rows_affected).await
}

/// The message as an update left it, if the update changed it.
async fn reread(
    db: &DatabaseConnection,
    id: MessageId,
    author: Member,
    rows_affected: u64,
) -> Result<Option<ChatMessage>, DbErr> {
    if rows_affected == 0 {
        return Ok(None);
    }
    match Entity::find_by_id(id.0).one(db).await? {
        Some(message) => Ok(Some(chat_of(db, message, author).await?)),
        None => Ok(None),
    }
}

/// The latest `limit` messages of each of `rooms` (distinct), oldest first, in one query per
/// [`MAX_KEYS`] rooms: one arm per room, each walking its room's `(room_id, seq)` index back
/// from the newest, joined by `UNION ALL`. (One `WHERE room_id IN (…)` with a window over each
/// room would read every room's whole history to number its rows.)
pub async fn latest_of_each<C: ConnectionTrait>(
    db: &C,
    rooms: &[RoomId],
    limit: u64,
) -> Result<HashMap<RoomId, Vec<ChatMessage>>, DbErr> {
    let mut rows = Vec::new();
    for some in rooms.chunks(MAX_KEYS) {
        let statement = latest_pages(db.get_database_backend(), some, limit);
        rows.extend(Shown::find_by_statement(statement).all(db).await?);
    }
    let mut pages: HashMap<RoomId, Vec<ChatMessage>> = HashMap::new();
    for message in with_mentions(db, rows).await? {
        pages.entry(message.room_id).or_default().push(message);
    }
    for page in pages.values_mut() {
        page.sort_unstable_by_key(|message| message.seq);
    }
    Ok(pages)
}

/// The statement of [`latest_of_each`] for one to [`MAX_KEYS`] rooms. Its arms are padded to a
/// power of two (so that few statement texts serve every count, as [`super::keys::padded`]
/// does for `IN`) with room 0, which no room is (ids start at 1): a padding arm finds nothing.
fn latest_pages(backend: DbBackend, rooms: &[RoomId], limit: u64) -> Statement {
    let arms = rooms.len().next_power_of_two();
    let padding = std::iter::repeat(RoomId(0));
    let mut arms = rooms.iter().copied().chain(padding).take(arms).enumerate();
    let arm = |(at, room): (usize, RoomId)| {
        let page = Entity::find()
            .filter(Column::RoomId.eq(room.0))
            .order_by_desc(Column::Seq)
            .limit(limit);
        // SQLite takes `ORDER BY` and `LIMIT` in a compound's arms only inside a subquery.
        Query::select()
            .column(Asterisk)
            .from_subquery(shown(page).into_query(), format!("page{at}"))
            .to_owned()
    };
    let mut query = arm(arms.next().unwrap_or((0, RoomId(0))));
    for next in arms {
        query.union(UnionType::All, arm(next));
    }
    backend.build(&query)
}
