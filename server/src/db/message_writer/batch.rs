//! One batch of posts in one transaction, written once for both of the writer's connections:
//! which posts are new, retried or refused, the seqs they take and the messages they become
//! ([`write`]); the retries when a post's nonce turns out to be stored ([`commit`]).
//!
//! A connection brings two things: [`Transaction`], which runs the statements built here and
//! reads their rows, and [`Connection`], which wraps [`write`] in a transaction of its own.

use crate::db::messages::{self, entity};
use crate::db::{read_state, rooms, users};
use chrono::Utc;
use prometheus_client::metrics::histogram::Histogram;
use protocol::{ChatMessage, Member, RoomId};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{CaseStatement, ExprTrait, Query};
use sea_orm::{Condition, DbBackend, QuerySelect, QueryTrait, Statement};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Most posts committed in one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// A post waiting for the writer, with where its outcome goes.
pub(super) struct PendingPost {
    pub room: RoomId,
    pub author: Member,
    pub body: String,
    pub nonce: String,
    pub done: oneshot::Sender<Result<Option<Posted>, DbErr>>,
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

/// What one post's [`write`] gives: its message, or `None` if it was refused.
type Stored = Option<Posted>;

/// The statements of one batch's transaction, as one connection runs them: each method takes
/// a statement built here for [`Transaction::backend`] and reads its rows.
pub(super) trait Transaction {
    type Error;
    fn backend(&self) -> DbBackend;
    /// Rows of two integers.
    async fn pairs(&self, statement: Statement) -> Result<Vec<(i64, i64)>, Self::Error>;
    /// Rows of the columns [`users::members`] reads: id, then name.
    async fn members(&self, statement: Statement) -> Result<Vec<Member>, Self::Error>;
    /// Rows of every column of `messages`.
    async fn messages(&self, statement: Statement) -> Result<Vec<entity::Model>, Self::Error>;
}

/// A connection the writer commits batches on.
pub(super) trait Connection {
    type Error: std::fmt::Display;
    /// Whether `err` is a unique index refusing a row. In a batch that is the index on
    /// (author, nonce), refusing a retried send: the seqs it inserts were freed in the same
    /// transaction, so the index on (room, seq) cannot refuse them.
    fn is_unique_violation(err: &Self::Error) -> bool;
    /// [`write`] in a transaction of its own: committed if it succeeds, rolled back at once if
    /// not (a retry must not wait on this try's locks).
    async fn write(
        &mut self,
        batch: &[PendingPost],
        check: NonceCheck,
    ) -> Result<Vec<Stored>, Self::Error>;
}

/// `first`, and the posts queued behind it, up to [`MAX_BATCH`]: the next batch.
pub(super) fn gather(
    first: PendingPost,
    pending: &mut mpsc::Receiver<PendingPost>,
) -> Vec<PendingPost> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match pending.try_recv() {
            Ok(post) => batch.push(post),
            Err(_) => break,
        }
    }
    batch
}

/// Stores `batch` and answers each of its posts; the time it took goes into `commit_seconds`.
///
/// Retried sends are rare, so a batch first goes in without looking for stored nonces; the
/// unique index on (author, nonce) refuses it (rolling back) if one is a retry, and it goes
/// again looking. That second try can still meet a nonce another node stored between its look
/// and its insert; a third finds that one too.
pub(super) async fn commit<C: Connection>(
    connection: &mut C,
    batch: Vec<PendingPost>,
    commit_seconds: &Histogram,
) {
    let started = Instant::now();
    let mut outcome = connection.write(&batch, NonceCheck::Skip).await;
    for _ in 0..2 {
        if !outcome.as_ref().is_err_and(C::is_unique_violation) {
            break;
        }
        outcome = connection.write(&batch, NonceCheck::Look).await;
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

/// Whether a batch looks for its nonces among the stored messages before inserting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NonceCheck {
    Skip,
    Look,
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

/// One batch, inside the caller's transaction, in a fixed number of statements however big the
/// batch: one `UPDATE` moves every involved room's `last_seq` past its posts, and one multi-row
/// `INSERT` stores the messages with the seqs that frees. Bump and insert share the
/// transaction, so seqs have no gaps and no duplicates however many nodes post at once. With
/// [`NonceCheck::Look`] a `SELECT` first finds the nonces already stored.
pub(super) async fn write<T: Transaction>(
    txn: &T,
    batch: &[PendingPost],
    check: NonceCheck,
) -> Result<Vec<Stored>, T::Error> {
    let backend = txn.backend();
    // Nonces already stored, and nonces repeated within the batch, post nothing new.
    let mut stored_before: HashMap<(i64, String), entity::Model> = HashMap::new();
    if check == NonceCheck::Look {
        // A write first, for connections whose transactions do not hold the write lock from
        // their start (SQLite through sqlx, in memory; PostgreSQL): moving every room of the
        // batch by zero locks the rooms' rows without changing anything. In SQLite, a
        // transaction that reads and then writes fails at once (not after the busy wait) if
        // another connection committed in between; in PostgreSQL, the row locks make the look
        // below see any post another node committed to these rooms meanwhile.
        let mut rooms: Vec<(i64, i64)> = batch.iter().map(|post| (post.room.0, 0)).collect();
        rooms.sort_unstable();
        rooms.dedup();
        txn.pairs(move_last_seq(backend, &rooms, 1)).await?;
        for message in txn.messages(with_nonces(backend, batch)).await? {
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
                Some(message) => Some(duplicate(txn, message.clone(), &post.author).await?),
                None => None,
            });
        }
        return Ok(answers);
    }
    // The bump comes first: it takes the write lock (SQLite through sqlx) or the rooms' row
    // locks (PostgreSQL), so nothing read below can go stale before the commit.
    let mut bumped = txn.pairs(move_last_seq(backend, &counts, 1)).await?;
    // Only members post, as of this transaction: a membership ended a moment ago (a removal, a
    // room turned staff-only) refuses the post even if this node's hub has not heard yet. Rare;
    // the refused posts' seqs are given back, so the room keeps no gap.
    let members: HashSet<(i64, i64)> = txn
        .pairs(members_among(backend, batch, &fate))
        .await?
        .into_iter()
        .collect();
    for (post, fate) in batch.iter().zip(fate.iter_mut()) {
        if *fate == Fate::Store && !members.contains(&(post.room.0, post.author.id.0)) {
            *fate = Fate::Refused;
        }
    }
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
        bumped = txn.pairs(move_last_seq(backend, &given_back, -1)).await?;
    }
    // The first seq each room's posts take, counting up. Rooms that no longer exist are absent.
    let mut next_seq: HashMap<i64, i64> = bumped
        .iter()
        .filter_map(|(room, last_seq)| {
            let count = stored_counts.iter().find(|(id, _)| id == room)?.1;
            Some((*room, last_seq - count + 1))
        })
        .collect();
    // Mentions resolve against the members as of this transaction; most posts name nobody and
    // cost nothing here.
    let mut mentions: Vec<Vec<Member>> = Vec::with_capacity(batch.len());
    for (post, fate) in batch.iter().zip(&fate) {
        mentions.push(if *fate == Fate::Store && post.body.contains('@') {
            mentioned(txn, post.room, &post.body).await?
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
            let ids = messages::member_ids(mentions);
            rows.push(entity::ActiveModel {
                room_id: Set(post.room.0),
                seq: Set(seq),
                author_id: Set(post.author.id.0),
                body: Set(post.body.clone()),
                search_text: Set(Some(protocol::search::fold(&post.body))),
                created_at: Set(now),
                nonce: Set(Some(post.nonce.clone())),
                mentions: Set(read_state::mentions_column(&ids)),
                ..Default::default()
            });
        }
        seqs.push(seq);
    }
    let inserted = if rows.is_empty() {
        Vec::new()
    } else {
        txn.messages(insert(backend, rows)).await?
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
                Posted::New(messages::chat_message(
                    message,
                    post.author.clone(),
                    mentions,
                ))
            }),
            (Fate::Repeat, _) => {
                let key = (post.author.id.0, post.nonce.clone());
                match stored_before.get(&key) {
                    Some(message) => Some(duplicate(txn, message.clone(), &post.author).await?),
                    None => None,
                }
            }
            (Fate::Store, None) | (Fate::Refused, _) => None,
        });
    }
    Ok(answers)
}

/// A retried post's answer: the message its nonce stored, with the members it mentions.
async fn duplicate<T: Transaction>(
    txn: &T,
    message: entity::Model,
    author: &Member,
) -> Result<Posted, T::Error> {
    let ids = read_state::mentioned_ids(message.mentions.as_deref());
    let mut mentions = Vec::new();
    if !ids.is_empty() {
        let statement = users::members_with_ids(&ids).build(txn.backend());
        mentions = messages::in_stored_order(&ids, &txn.members(statement).await?);
    }
    Ok(Posted::Duplicate(messages::chat_message(
        message,
        author.clone(),
        mentions,
    )))
}

/// The members of `room` that `body` mentions, as [`messages::resolve_mentions`] finds them.
async fn mentioned<T: Transaction>(
    txn: &T,
    room: RoomId,
    body: &str,
) -> Result<Vec<Member>, T::Error> {
    let names = protocol::mention::names(body);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let statement = rooms::members_named(room, &names).build(txn.backend());
    Ok(messages::in_order_named(
        txn.members(statement).await?,
        &names,
    ))
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

/// Moves each room's `last_seq` by `sign` × its count, in one `UPDATE` (of no room, if `counts`
/// is empty); its rows are the rooms as updated: (id, `last_seq`).
fn move_last_seq(backend: DbBackend, counts: &[(i64, i64)], sign: i64) -> Statement {
    use rooms::entity::{Column as RoomColumn, Entity as RoomEntity};
    let by = counts
        .iter()
        .fold(None::<CaseStatement>, |case, (room, count)| {
            let when = RoomColumn::Id.eq(*room);
            Some(match case {
                None => Expr::case(when, sign * count),
                Some(case) => case.case(when, sign * count),
            })
        })
        .map_or(Expr::value(0i64), |by| by.finally(0i64).into());
    let mut update = RoomEntity::update_many()
        .col_expr(RoomColumn::LastSeq, Expr::col(RoomColumn::LastSeq).add(by))
        .filter(RoomColumn::Id.is_in(counts.iter().map(|(room, _)| *room)))
        .into_query();
    update.returning(Query::returning().columns([RoomColumn::Id, RoomColumn::LastSeq]));
    backend.build(&update)
}

/// The stored messages with the nonces of `batch`'s authors: every column.
fn with_nonces(backend: DbBackend, batch: &[PendingPost]) -> Statement {
    use entity::{Column, Entity};
    Entity::find()
        .filter(batch.iter().fold(Condition::any(), |any, post| {
            any.add(
                Condition::all()
                    .add(Column::AuthorId.eq(post.author.id.0))
                    .add(Column::Nonce.eq(post.nonce.as_str())),
            )
        }))
        .build(backend)
}

/// Which (room, author) pairs of the posts to store are memberships now: rows of (room, user).
fn members_among(backend: DbBackend, batch: &[PendingPost], fate: &[Fate]) -> Statement {
    use rooms::member_entity::{Column as MemberColumn, Entity as MemberEntity};
    let mut pairs: Vec<(i64, i64)> = batch
        .iter()
        .zip(fate)
        .filter(|(_, fate)| **fate == Fate::Store)
        .map(|(post, _)| (post.room.0, post.author.id.0))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    MemberEntity::find()
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
        .build(backend)
}

/// Stores `rows` (not empty); its rows are the messages as stored, every column.
fn insert(backend: DbBackend, rows: Vec<entity::ActiveModel>) -> Statement {
    let mut insert = entity::Entity::insert_many(rows).into_query();
    insert.returning_all();
    backend.build(&insert)
}
