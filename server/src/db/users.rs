//! Accounts: the `users` table and its queries.

use chrono::Utc;
use protocol::{RoomId, UserId};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect, SqlErr};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub username: String,
        /// Lower-cased `username`, unique: lookups and uniqueness ignore case.
        #[sea_orm(unique)]
        pub username_key: String,
        pub password_hash: String,
        pub is_admin: bool,
        pub is_staff: bool,
        pub disabled: bool,
        /// The room the user had open last (see `set_last_room`).
        pub last_room_id: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::Model as User;
use entity::{ActiveModel, Column, Entity};

/// The key a username is stored and looked up under.
pub fn username_key(username: &str) -> String {
    username.to_lowercase()
}

/// What creating an account needs; the password is already hashed.
#[derive(Debug)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_staff: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username taken")]
    UsernameTaken,
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub async fn create(db: &DatabaseConnection, new: NewUser<'_>) -> Result<User, CreateUserError> {
    let now = Utc::now();
    let user = ActiveModel {
        username: Set(new.username.to_owned()),
        username_key: Set(username_key(new.username)),
        password_hash: Set(new.password_hash),
        is_admin: Set(new.is_admin),
        is_staff: Set(new.is_staff),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    user.insert(db).await.map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => CreateUserError::UsernameTaken,
        _ => CreateUserError::Db(err),
    })
}

pub async fn count(db: &DatabaseConnection) -> Result<u64, DbErr> {
    Entity::find().count(db).await
}

pub async fn find_by_username(
    db: &DatabaseConnection,
    username: &str,
) -> Result<Option<User>, DbErr> {
    Entity::find()
        .filter(Column::UsernameKey.eq(username_key(username)))
        .one(db)
        .await
}

pub async fn find_by_id<C: ConnectionTrait>(db: &C, id: UserId) -> Result<Option<User>, DbErr> {
    Entity::find_by_id(id.0).one(db).await
}

/// Every account, ordered by username (ignoring case).
pub async fn list(db: &DatabaseConnection) -> Result<Vec<User>, DbErr> {
    Entity::find()
        .order_by_asc(Column::UsernameKey)
        .all(db)
        .await
}

/// One boolean property of an account that admins switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Admin,
    Staff,
    Disabled,
}

/// Sets `flag` to `value`; `false` when no such user exists.
pub async fn set_flag<C: ConnectionTrait>(
    db: &C,
    id: UserId,
    flag: Flag,
    value: bool,
) -> Result<bool, DbErr> {
    let column = match flag {
        Flag::Admin => Column::IsAdmin,
        Flag::Staff => Column::IsStaff,
        Flag::Disabled => Column::Disabled,
    };
    let result = Entity::update_many()
        .col_expr(column, Expr::value(value))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Locks a user's row until the transaction ends and returns it as committed (see
/// `rooms::lock`); `None` when no such user exists.
pub async fn lock<C: ConnectionTrait>(db: &C, id: UserId) -> Result<Option<User>, DbErr> {
    Ok(Entity::update_many()
        .col_expr(Column::Id, Expr::col(Column::Id))
        .filter(Column::Id.eq(id.0))
        .exec_with_returning(db)
        .await?
        .pop())
}

/// Locks these users' rows (see [`lock`]) and returns the ones that exist, as committed.
pub async fn lock_many<C: ConnectionTrait>(db: &C, ids: &[UserId]) -> Result<Vec<User>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Entity::update_many()
        .col_expr(Column::Id, Expr::col(Column::Id))
        .filter(Column::Id.is_in(ids.iter().map(|id| id.0)))
        .exec_with_returning(db)
        .await
}

/// Up to `limit` active users whose name contains `query` (ignoring case; `%` and `_` are
/// matched as themselves), by name.
pub async fn search(db: &DatabaseConnection, query: &str, limit: u64) -> Result<Vec<User>, DbErr> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::LikeExpr;
    let mut pattern = String::from("%");
    for c in username_key(query).chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Entity::find()
        .filter(Column::Disabled.eq(false))
        .filter(Column::UsernameKey.like(LikeExpr::new(pattern).escape('\\')))
        .order_by_asc(Column::UsernameKey)
        .limit(limit)
        .all(db)
        .await
}

/// Remembers the room `user` has open, for their next page load on any device.
pub async fn set_last_room(
    db: &DatabaseConnection,
    user: UserId,
    room: RoomId,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastRoomId, Expr::value(room.0))
        .filter(Column::Id.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// The users with these ids (any that exist). Columns as [`members`] reads them.
pub fn members_with_ids(ids: &[UserId]) -> Select<Entity> {
    shown_as_members(Entity::find().filter(Column::Id.is_in(ids.iter().map(|id| id.0))))
}

/// `query` narrowed to the columns that show a member: id, then name, as [`members`] reads
/// them.
pub fn shown_as_members(query: Select<Entity>) -> Select<Entity> {
    query
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
}

/// Runs a query of [`members_with_ids`] or `rooms::members_named`.
pub async fn members<C: ConnectionTrait>(
    db: &C,
    query: Select<Entity>,
) -> Result<Vec<protocol::Member>, DbErr> {
    Ok(query
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, username)| member(id, username))
        .collect())
}

/// A user as members are shown, from the columns that show them.
pub fn member(id: i64, username: String) -> protocol::Member {
    protocol::Member {
        id: UserId(id),
        username,
    }
}

/// The users with these ids (any that exist), as members are shown.
pub async fn members_by_id<C: ConnectionTrait>(
    db: &C,
    ids: &[UserId],
) -> Result<Vec<protocol::Member>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    members(db, members_with_ids(ids)).await
}

/// Replaces the password hash; `false` when no such user exists.
pub async fn set_password_hash(
    db: &DatabaseConnection,
    id: UserId,
    hash: String,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

impl User {
    pub fn summary(&self) -> protocol::UserSummary {
        protocol::UserSummary {
            id: protocol::UserId(self.id),
            username: self.username.clone(),
            is_admin: self.is_admin,
            is_staff: self.is_staff,
        }
    }

    pub fn member(&self) -> protocol::Member {
        member(self.id, self.username.clone())
    }

    pub fn admin_view(&self) -> protocol::AdminUserView {
        protocol::AdminUserView {
            id: protocol::UserId(self.id),
            username: self.username.clone(),
            is_admin: self.is_admin,
            is_staff: self.is_staff,
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}
