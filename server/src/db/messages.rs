//! Messages: the `messages` table, ordered within each room by `seq`.

use super::keys::MAX_KEYS;
use super::read_state;
use super::rooms;
use super::users;
use chrono::Utc;
use protocol::{ChatMessage, Member, MessageId, RoomId};
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Asterisk, Query, UnionType};
use sea_orm::{
    ConnectionTrait, DbBackend, FromQueryResult, JoinType, QueryOrder, QuerySelect, QueryTrait,
    Statement,
};
use std::collections::HashMap;

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

use entity::{Column, Entity};

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
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let found = users::members(db, rooms::members_named(room, &names)).await?;
    Ok(in_order_named(found, &names))
}

/// `found`, the members named by `names` (username keys), in the order `names` gives them.
pub(super) fn in_order_named(mut found: Vec<Member>, names: &[String]) -> Vec<Member> {
    found.sort_by_cached_key(|member| {
        let key = users::username_key(&member.username);
        names.iter().position(|name| *name == key)
    });
    found
}

/// A message as stored, by `author`, mentioning `mentions`, as clients see it.
pub(super) fn chat_message(
    message: entity::Model,
    author: Member,
    mentions: Vec<Member>,
) -> ChatMessage {
    to_chat(Shown::of(message, author), mentions)
}

/// One message as read from the database, with the members it mentions.
async fn chat_of<C: ConnectionTrait>(
    db: &C,
    message: entity::Model,
    author: Member,
) -> Result<ChatMessage, DbErr> {
    let ids = read_state::mentioned_ids(message.mentions.as_deref());
    let known = users::members_by_id(db, &ids).await?;
    Ok(chat_message(message, author, in_stored_order(&ids, &known)))
}

/// The members with `ids` (a message's mentions, as stored) among `known`, in the order of
/// `ids`: the order the text named them. Ids of users who no longer exist are skipped.
pub(super) fn in_stored_order(ids: &[protocol::UserId], known: &[Member]) -> Vec<Member> {
    ids.iter()
        .filter_map(|id| known.iter().find(|member| member.id == *id).cloned())
        .collect()
}

pub(super) fn member_ids(members: &[Member]) -> Vec<protocol::UserId> {
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
            let ids = read_state::mentioned_ids(message.mentions.as_deref());
            let mentions = in_stored_order(&ids, &known);
            to_chat(message, mentions)
        })
        .collect())
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
