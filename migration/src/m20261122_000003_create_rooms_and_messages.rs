use protocol::MAX_TITLE_CHARS;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("rooms")
                    .col(big_pk_auto("id"))
                    .col(string_len("title", MAX_TITLE_CHARS as u32))
                    .col(boolean("staff_only").default(false))
                    // Seq of the room's newest message; bumped in the same transaction that
                    // stores a message, which gives every room one total order.
                    .col(big_integer("last_seq").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("room_members")
                    .col(big_integer("room_id"))
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("joined_at"))
                    .primary_key(Index::create().col("room_id").col("user_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("room_members", "room_id")
                            .to("rooms", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("room_members", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // "Which rooms is this user in" runs on every connect.
        manager
            .create_index(
                Index::create()
                    .name("idx_room_members_user_id")
                    .table("room_members")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("messages")
                    .col(big_pk_auto("id"))
                    .col(big_integer("room_id"))
                    .col(big_integer("seq"))
                    .col(big_integer("author_id"))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("edited_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    // Client-chosen id of the send; a retried send with the same nonce is the
                    // same message.
                    .col(string_len_null("nonce", 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from("messages", "room_id")
                            .to("rooms", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("messages", "author_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Keyset paging by (room, seq): "latest 50" and "50 before S" are index range scans.
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_room_seq")
                    .table("messages")
                    .col("room_id")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_author_nonce")
                    .table("messages")
                    .col("author_id")
                    .col("nonce")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["messages", "room_members", "rooms"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
