use protocol::MAX_USERNAME_CHARS;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(big_pk_auto("id"))
                    // As typed at creation, shown everywhere.
                    .col(string_len("username", MAX_USERNAME_CHARS as u32))
                    // Lower-cased username: uniqueness and log-in lookups ignore case.
                    .col(string_len_uniq("username_key", MAX_USERNAME_CHARS as u32))
                    .col(string("password_hash"))
                    .col(boolean("is_admin").default(false))
                    .col(boolean("is_staff").default(false))
                    .col(boolean("disabled").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("users").to_owned())
            .await
    }
}
