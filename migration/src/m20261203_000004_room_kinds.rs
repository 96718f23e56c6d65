//! Rooms get a kind (open, staff-only, closed, direct) in place of the staff-only flag, a
//! creator (who manages the room), and, for direct conversations, the key of their set of
//! participants, unique so that one set of people has one conversation whoever starts it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Longest direct key: eight ids of up to 20 digits, with the commas between them.
const DIRECT_KEY_CHARS: u32 = 8 * 21;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per statement: SQLite alters a table one column at a time.
        for column in [
            string_len("kind", 16).default("open").to_owned(),
            big_integer_null("created_by").to_owned(),
            string_len_null("direct_key", DIRECT_KEY_CHARS).to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table("rooms").add_column(column).to_owned())
                .await?;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table("rooms")
                    .value("kind", "staff_only")
                    .and_where(Expr::col("staff_only").eq(true))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("rooms")
                    .drop_column("staff_only")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_rooms_direct_key")
                    .table("rooms")
                    .col("direct_key")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_rooms_direct_key")
                    .table("rooms")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("rooms")
                    .add_column(boolean("staff_only").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("rooms")
                    .value("staff_only", true)
                    .and_where(Expr::col("kind").eq("staff_only"))
                    .to_owned(),
            )
            .await?;
        // Private conversations have no place in the older schema.
        manager
            .exec_stmt(
                Query::delete()
                    .from_table("rooms")
                    .and_where(Expr::col("kind").is_in(["closed", "direct"]))
                    .to_owned(),
            )
            .await?;
        for column in ["direct_key", "created_by", "kind"] {
            manager
                .alter_table(Table::alter().table("rooms").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
