//! What each user has read and wants to hear of: per membership the last read seq and a
//! notification level; per user the room they had open last; per message the users it
//! mentions (resolved when stored), so unread and mention counts are one indexed scan.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Longest stored mention list: `,` plus up to 64 ids of up to 20 digits, each with its `,`.
const MENTIONS_CHARS: u32 = 1 + 64 * 21;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per statement: SQLite alters a table one column at a time.
        for (table, column) in [
            (
                "room_members",
                big_integer("last_read_seq").default(0).to_owned(),
            ),
            ("room_members", string_len_null("notify", 16).to_owned()),
            ("users", big_integer_null("last_room_id").to_owned()),
            (
                "messages",
                string_len_null("mentions", MENTIONS_CHARS).to_owned(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        // Whatever was posted before read positions existed counts as read: nobody should
        // meet a room's whole past as unread.
        manager
            .exec_stmt(
                Query::update()
                    .table("room_members")
                    .value(
                        "last_read_seq",
                        Expr::expr(
                            Query::select()
                                .column("last_seq")
                                .from("rooms")
                                .and_where(
                                    Expr::col(("rooms", "id")).equals(("room_members", "room_id")),
                                )
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("messages", "mentions"),
            ("users", "last_room_id"),
            ("room_members", "notify"),
            ("room_members", "last_read_seq"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
