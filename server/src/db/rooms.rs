//! Rooms and who is in them: the `rooms` and `room_members` tables.

use super::users;
use chrono::Utc;
use protocol::{Member, RoomId, RoomInfo, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder, QuerySelect, TryInsertResult};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rooms")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub title: String,
        pub staff_only: bool,
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

    pub fn info(&self) -> RoomInfo {
        RoomInfo {
            id: RoomId(self.id),
            title: self.title.clone(),
            staff_only: self.staff_only,
        }
    }
}

pub async fn create(db: &DatabaseConnection, title: &str, staff_only: bool) -> Result<Room, DbErr> {
    ActiveModel {
        title: Set(title.to_owned()),
        staff_only: Set(staff_only),
        last_seq: Set(0),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Every room, by title.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<Room>, DbErr> {
    Entity::find().order_by_asc(Column::Title).all(db).await
}

pub async fn find<C: ConnectionTrait>(db: &C, id: RoomId) -> Result<Option<Room>, DbErr> {
    Entity::find_by_id(id.0).one(db).await
}

/// Renames a room; the updated room, or `None` when it does not exist.
pub async fn rename(
    db: &DatabaseConnection,
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

/// Sets the staff-only flag; the updated room, or `None` when it does not exist.
pub async fn set_staff_only<C: ConnectionTrait>(
    db: &C,
    id: RoomId,
    staff_only: bool,
) -> Result<Option<Room>, DbErr> {
    Entity::update_many()
        .col_expr(Column::StaffOnly, Expr::value(staff_only))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    find(db, id).await
}

/// Deletes a room with its memberships and messages; `false` when it did not exist.
pub async fn delete(db: &DatabaseConnection, id: RoomId) -> Result<bool, DbErr> {
    Ok(Entity::delete_by_id(id.0).exec(db).await?.rows_affected == 1)
}

/// Makes `user` a member; `false` when they already were.
pub async fn add_member<C: ConnectionTrait>(
    db: &C,
    room: RoomId,
    user: UserId,
) -> Result<bool, DbErr> {
    let inserted = MemberEntity::insert(member_entity::ActiveModel {
        room_id: Set(room.0),
        user_id: Set(user.0),
        joined_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([MemberColumn::RoomId, MemberColumn::UserId])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// Ends a membership; `false` when there was none.
pub async fn remove_member(
    db: &DatabaseConnection,
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

/// The room and whether `user` is a member of it, as committed now; `None` when the room does
/// not exist. The facts [`crate::chat::access::decide`] needs besides the user.
pub async fn membership(
    db: &DatabaseConnection,
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

/// The members of a room, by username.
pub async fn members(db: &DatabaseConnection, room: RoomId) -> Result<Vec<Member>, DbErr> {
    Ok(MemberEntity::find()
        .filter(MemberColumn::RoomId.eq(room.0))
        .find_also_related(users::entity::Entity)
        .order_by_asc(users::entity::Column::UsernameKey)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(_, user)| user.map(|user| user.member()))
        .collect())
}

/// The rooms a user is a member of.
pub async fn rooms_of(db: &DatabaseConnection, user: UserId) -> Result<Vec<Room>, DbErr> {
    let rows = MemberEntity::find()
        .filter(MemberColumn::UserId.eq(user.0))
        .find_also_related(Entity)
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(_, room)| room).collect())
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
        .filter(Column::StaffOnly.eq(true))
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
