//! Rooms and who is in them: the `rooms` and `room_members` tables.

use super::users;
use chrono::Utc;
use protocol::{Member, RoomId, RoomInfo, RoomKind, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, JoinType, QueryOrder, QuerySelect, TryInsertResult};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rooms")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub title: String,
        /// The room's kind as [`protocol::RoomKind::as_str`] writes it; read with
        /// [`super::Room::kind`].
        pub kind: String,
        /// Who created it; `None` for rooms older than creators, and for direct conversations.
        pub created_by: Option<i64>,
        /// A direct conversation's participants, as [`super::direct_key`] writes them; unique,
        /// so one set of people has one conversation. `None` for every other room.
        #[sea_orm(unique)]
        pub direct_key: Option<String>,
        /// Seq of the newest message (0 when empty).
        pub last_seq: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member_entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "room_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub room_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub joined_at: DateTimeUtc,
        /// Every message up to this seq is read (see `db::read_state`).
        pub last_read_seq: i64,
        /// The member's notification level (`protocol::NotifyLevel::as_str`); `None` for the
        /// room's default.
        pub notify: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::db::users::entity::Entity",
            from = "Column::UserId",
            to = "crate::db::users::entity::Column::Id"
        )]
        User,
        #[sea_orm(
            belongs_to = "super::entity::Entity",
            from = "Column::RoomId",
            to = "super::entity::Column::Id"
        )]
        Room,
    }

    impl Related<crate::db::users::entity::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl Related<super::entity::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Room.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as Room;
use entity::{ActiveModel, Column, Entity};
use member_entity::{Column as MemberColumn, Entity as MemberEntity};

impl Room {
    pub fn id(&self) -> RoomId {
        RoomId(self.id)
    }

    /// The room's kind (see [`kind_named`]).
    pub fn kind(&self) -> RoomKind {
        kind_named(&self.kind)
    }

    pub fn info(&self) -> RoomInfo {
        info(self.id, self.title.clone(), &self.kind, self.created_by)
    }
}

/// A room as listed, from its columns.
fn info(id: i64, title: String, kind: &str, created_by: Option<i64>) -> RoomInfo {
    RoomInfo {
        id: RoomId(id),
        title,
        kind: kind_named(kind),
        created_by: created_by.map(UserId),
    }
}

/// The kind stored as `name`. A value this build does not know (written by a newer one) counts
/// as closed: members only, the safe reading.
fn kind_named(name: &str) -> RoomKind {
    RoomKind::parse(name).unwrap_or(RoomKind::Closed)
}

/// The key a direct conversation between these people is stored under: their ids, sorted,
/// without repeats, joined by commas ("3,7,12").
pub fn direct_key(people: &[UserId]) -> String {
    let mut ids: Vec<i64> = people.iter().map(|user| user.0).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Stores a new room (not a direct conversation: see [`create_direct`]).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    title: &str,
    kind: RoomKind,
    created_by: Option<UserId>,
) -> Result<Room, DbErr> {
    ActiveModel {
        title: Set(title.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        created_by: Set(created_by.map(|user| user.0)),
        direct_key: Set(None),
        last_seq: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Stores the direct conversation with this key, unless one exists (`None`: then someone
/// else stored it first, maybe a moment ago; [`find_direct`] finds it). The unique key makes
/// the database the judge when two people start the same conversation at once.
pub async fn create_direct<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<Room>, DbErr> {
    let inserted = Entity::insert(ActiveModel {
        title: Set(String::new()),
        kind: Set(RoomKind::Direct.as_str().to_owned()),
        created_by: Set(None),
        direct_key: Set(Some(key.to_owned())),
        last_seq: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([Column::DirectKey])
    .exec_with_returning(db)
    .await;
    match inserted {
        Ok(TryInsertResult::Inserted(room)) => Ok(Some(room)),
        Ok(TryInsertResult::Conflicted | TryInsertResult::Empty) => Ok(None),
        // What some backends answer for a row the conflict clause skipped.
        Err(DbErr::RecordNotInserted | DbErr::RecordNotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The direct conversation stored under `key`, if any.
pub async fn find_direct<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<Room>, DbErr> {
    Entity::find()
        .filter(Column::DirectKey.eq(key))
        .one(db)
        .await
}

/// The kinds of room everyone sees listed, member or not (`chat::access::listed_to_everyone`,
/// whose tests check that the two agree).
pub const PUBLIC_KINDS: [RoomKind; 2] = [RoomKind::Open, RoomKind::StaffOnly];

/// Every open and staff-only room (the rooms everyone may see listed), by title.
pub async fn public(db: &DatabaseConnection) -> Result<Vec<RoomInfo>, DbErr> {
    let rows = Entity::find()
        .filter(Column::Kind.is_in(PUBLIC_KINDS.map(RoomKind::as_str)))
        .order_by_asc(Column::Title)
        // Only what a listing shows: every greeting reads this list.
        .select_only()
        .columns([Column::Id, Column::Title, Column::Kind, Column::CreatedBy])
        .into_tuple::<(i64, String, String, Option<i64>)>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, kind, created_by)| info(id, title, &kind, created_by))
        .collect())
}

/// Every room but direct conversations (the admin area's list), by title.
pub async fn managed(db: &DatabaseConnection) -> Result<Vec<Room>, DbErr> {
    Entity::find()
        .filter(Column::Kind.ne(RoomKind::Direct.as_str()))
        .order_by_asc(Column::Title)
        .all(db)
        .await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: RoomId) -> Result<Option<Room>, DbErr> {
    Entity::find_by_id(id.0).one(db).await
}

/// Renames a room; the updated room, or `None` when it does not exist.
pub async fn rename<C: ConnectionTrait>(
    db: &C,
    id: RoomId,
    title: &str,
) -> Result<Option<Room>, DbErr> {
    Entity::update_many()
        .col_expr(Column::Title, Expr::value(title))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    find(db, id).await
}

/// Sets a room's kind; the updated room, or `None` when it does not exist.
pub async fn set_kind<C: ConnectionTrait>(
    db: &C,
    id: RoomId,
    kind: RoomKind,
) -> Result<Option<Room>, DbErr> {
    Entity::update_many()
        .col_expr(Column::Kind, Expr::value(kind.as_str()))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    find(db, id).await
}

/// Deletes a room with its memberships and messages; `false` when it did not exist.
pub async fn delete<C: ConnectionTrait>(db: &C, id: RoomId) -> Result<bool, DbErr> {
    Ok(Entity::delete_by_id(id.0).exec(db).await?.rows_affected == 1)
}

/// Makes `user` a member of `room` (locked: see [`lock`]); `false` when they already were.
/// What was posted before they came counts as read: a new member meets the room's history,
/// not a pile of unread messages.
pub async fn add_member<C: ConnectionTrait>(
    db: &C,
    room: &Room,
    user: UserId,
) -> Result<bool, DbErr> {
    let inserted = MemberEntity::insert(member_entity::ActiveModel {
        room_id: Set(room.id),
        user_id: Set(user.0),
        joined_at: Set(Utc::now()),
        last_read_seq: Set(room.last_seq),
        notify: Set(None),
    })
    .on_conflict_do_nothing_on([MemberColumn::RoomId, MemberColumn::UserId])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// Ends a membership; `false` when there was none.
pub async fn remove_member<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    user: UserId,
) -> Result<bool, DbErr> {
    let result = MemberEntity::delete_many()
        .filter(MemberColumn::RoomId.eq(room.0))
        .filter(MemberColumn::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whether `user` is a member of `room`, as committed now.
pub async fn is_member<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    user: UserId,
) -> Result<bool, DbErr> {
    Ok(MemberEntity::find_by_id((room.0, user.0))
        .one(db)
        .await?
        .is_some())
}

/// The room and whether `user` is a member of it, as committed now; `None` when the room does
/// not exist. The facts [`crate::chat::access::decide`] needs besides the user.
pub async fn membership<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    user: UserId,
) -> Result<Option<(Room, bool)>, DbErr> {
    let Some(found) = find(db, room).await? else {
        return Ok(None);
    };
    let member = MemberEntity::find_by_id((room.0, user.0)).one(db).await?;
    Ok(Some((found, member.is_some())))
}

/// Locks a room's row until the transaction ends and returns it as committed; `None` when it
/// does not exist. A no-op `UPDATE`, the one lock both SQLite (the write lock) and PostgreSQL
/// (the row) take the same way: a membership decided under it cannot race a change of the
/// room's kind.
pub async fn lock<C: ConnectionTrait>(db: &C, id: RoomId) -> Result<Option<Room>, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Id, Expr::col(Column::Id))
        .filter(Column::Id.eq(id.0))
        .exec_with_returning(db)
        .await?
        .pop())
}

/// The members of `room` whose username keys are among `keys`, as committed when run: the
/// people a message's `@name`s mention. Run it with [`users::members`].
pub fn members_named(room: RoomId, keys: &[String]) -> Select<users::entity::Entity> {
    use sea_orm::sea_query::Query;
    use users::entity::{Column as UserColumn, Entity as UserEntity};
    let members = Query::select()
        .column(MemberColumn::UserId)
        .from(MemberEntity)
        .and_where(MemberColumn::RoomId.eq(room.0))
        .to_owned();
    users::shown_as_members(
        UserEntity::find()
            .filter(UserColumn::Id.in_subquery(members))
            .filter(UserColumn::UsernameKey.is_in(keys.iter().map(String::as_str))),
    )
}

/// The members of each of `rooms` (at most [`super::keys::MAX_KEYS`]), by username, in one query.
pub async fn members_of_each<C: ConnectionTrait>(
    db: &C,
    rooms: &[RoomId],
) -> Result<Vec<(RoomId, Member)>, DbErr> {
    let ids: Vec<i64> = rooms.iter().map(|room| room.0).collect();
    Ok(MemberEntity::find()
        .filter(MemberColumn::RoomId.is_in(super::keys::padded(&ids)))
        .join(JoinType::InnerJoin, member_entity::Relation::User.def())
        .select_only()
        .column(MemberColumn::RoomId)
        .column(users::entity::Column::Id)
        .column(users::entity::Column::Username)
        .order_by_asc(users::entity::Column::UsernameKey)
        .into_tuple::<(i64, i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(room, id, username)| (RoomId(room), users::member(id, username)))
        .collect())
}

/// The rooms a user is a member of.
pub async fn rooms_of(db: &DatabaseConnection, user: UserId) -> Result<Vec<Room>, DbErr> {
    Ok(rooms_of_each(db, &[user])
        .await?
        .into_iter()
        .map(|(_, room)| room)
        .collect())
}

/// Each of `users`' rooms (at most [`super::keys::MAX_KEYS`] users), in one query.
pub async fn rooms_of_each(
    db: &DatabaseConnection,
    users: &[UserId],
) -> Result<Vec<(UserId, Room)>, DbErr> {
    let ids: Vec<i64> = users.iter().map(|user| user.0).collect();
    let rows = MemberEntity::find()
        .filter(MemberColumn::UserId.is_in(super::keys::padded(&ids)))
        .find_also_related(Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(member, room)| Some((UserId(member.user_id), room?)))
        .collect())
}

/// Every (user, room id) membership of these users (any number), in one query: the ids only,
/// where [`rooms_of_each`] reads the rooms.
pub async fn room_ids_of_each(
    db: &DatabaseConnection,
    users: &[UserId],
) -> Result<Vec<(UserId, RoomId)>, DbErr> {
    let ids: Vec<i64> = users.iter().map(|user| user.0).collect();
    Ok(MemberEntity::find()
        .filter(MemberColumn::UserId.is_in(super::keys::padded(&ids)))
        .select_only()
        .column(MemberColumn::UserId)
        .column(MemberColumn::RoomId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(user, room)| (UserId(user), RoomId(room)))
        .collect())
}

/// Those of `candidates` who share a room with `user` (themselves included, if they are in a
/// room): whose presence `user` may know.
pub async fn fellows_among(
    db: &DatabaseConnection,
    user: UserId,
    candidates: &[UserId],
) -> Result<Vec<UserId>, DbErr> {
    use sea_orm::sea_query::Query;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let my_rooms = Query::select()
        .column(MemberColumn::RoomId)
        .from(MemberEntity)
        .and_where(MemberColumn::UserId.eq(user.0))
        .to_owned();
    Ok(MemberEntity::find()
        .filter(MemberColumn::UserId.is_in(candidates.iter().map(|user| user.0)))
        .filter(MemberColumn::RoomId.in_subquery(my_rooms))
        .select_only()
        .column(MemberColumn::UserId)
        .distinct()
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(UserId)
        .collect())
}

/// Locks the rows of a room's members (see [`lock`]) and returns them as committed.
pub async fn lock_members<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
) -> Result<Vec<users::User>, DbErr> {
    use sea_orm::sea_query::Query;
    let member_ids = Query::select()
        .column(MemberColumn::UserId)
        .from(MemberEntity)
        .and_where(MemberColumn::RoomId.eq(room.0))
        .to_owned();
    users::entity::Entity::update_many()
        .col_expr(
            users::entity::Column::Id,
            Expr::col(users::entity::Column::Id),
        )
        .filter(users::entity::Column::Id.in_subquery(member_ids))
        .exec_with_returning(db)
        .await
}

/// Ends these users' memberships of a room.
pub async fn remove_members<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    members: &[UserId],
) -> Result<(), DbErr> {
    if members.is_empty() {
        return Ok(());
    }
    MemberEntity::delete_many()
        .filter(MemberColumn::RoomId.eq(room.0))
        .filter(MemberColumn::UserId.is_in(members.iter().map(|user| user.0)))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes a user from every staff-only room (they lost staff); returns those rooms.
pub async fn remove_from_staff_rooms<C: ConnectionTrait>(
    db: &C,
    user: UserId,
) -> Result<Vec<RoomId>, DbErr> {
    let rooms: Vec<RoomId> = MemberEntity::find()
        .filter(MemberColumn::UserId.eq(user.0))
        .inner_join(Entity)
        .filter(Column::Kind.eq(RoomKind::StaffOnly.as_str()))
        .select_only()
        .column(MemberColumn::RoomId)
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .map(RoomId)
        .collect();
    if !rooms.is_empty() {
        MemberEntity::delete_many()
            .filter(MemberColumn::UserId.eq(user.0))
            .filter(MemberColumn::RoomId.is_in(rooms.iter().map(|room| room.0)))
            .exec(db)
            .await?;
    }
    Ok(rooms)
}
