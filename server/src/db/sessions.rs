//! Log-in sessions: the `sessions` table, keyed by the SHA-256 of the cookie's token.

use super::users::{self, User};
use chrono::{DateTime, Utc};
use protocol::UserId;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub user_id: i64,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::db::users::entity::Entity",
            from = "Column::UserId",
            to = "crate::db::users::entity::Column::Id"
        )]
        User,
    }

    impl Related<crate::db::users::entity::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

pub async fn create(
    db: &DatabaseConnection,
    token_hash: String,
    user: UserId,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user.0),
        created_at: Set(Utc::now()),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The user of each live session among `token_hashes` (at most [`super::keys::MAX_KEYS`]), in one
/// query: a session unknown, expired, or whose user is disabled is left out.
pub async fn users_of(
    db: &DatabaseConnection,
    token_hashes: &[String],
) -> Result<Vec<(String, User)>, DbErr> {
    let found = Entity::find()
        .filter(Column::TokenHash.is_in(super::keys::padded(token_hashes)))
        .find_also_related(users::entity::Entity)
        .all(db)
        .await?;
    let now = Utc::now();
    Ok(found
        .into_iter()
        .filter_map(|(session, user)| match user {
            Some(user) if session.expires_at > now && !user.disabled => {
                Some((session.token_hash, user))
            }
            _ => None,
        })
        .collect())
}

/// Deletes one session; whose it was, if it existed.
pub async fn delete(db: &DatabaseConnection, token_hash: &str) -> Result<Option<UserId>, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::TokenHash.eq(token_hash))
        .exec_with_returning(db)
        .await?;
    Ok(deleted.first().map(|session| UserId(session.user_id)))
}

/// Ends every session of a user (on disable or password reset).
pub async fn delete_for_user(db: &DatabaseConnection, user: UserId) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::UserId.eq(user.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user but one (the one changing its own password); which ended.
pub async fn delete_others(
    db: &DatabaseConnection,
    user: UserId,
    keep: &str,
) -> Result<Vec<String>, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::TokenHash.ne(keep))
        .exec_with_returning(db)
        .await?;
    Ok(deleted
        .into_iter()
        .map(|session| session.token_hash)
        .collect())
}

/// Deletes sessions past their expiry (they already let nobody in); whose and which they were.
pub async fn delete_expired(db: &DatabaseConnection) -> Result<Vec<(UserId, String)>, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(Utc::now()))
        .exec_with_returning(db)
        .await?;
    Ok(deleted
        .into_iter()
        .map(|session| (UserId(session.user_id), session.token_hash))
        .collect())
}
