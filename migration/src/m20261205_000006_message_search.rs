//! Message search: `messages.search_text`, the text as searches compare it (folded by
//! `protocol::search::fold`; `NULL` once deleted), and an index over it that finds any
//! substring of three characters or more.
//!
//! - SQLite: an FTS5 table with the `trigram` tokenizer whose content is `messages.search_text`
//!   (nothing stored twice), kept in step by triggers, so every write of a message updates it
//!   in that write's own transaction.
//! - PostgreSQL: a `pg_trgm` GIN index on `search_text`, which `LIKE '%word%'` uses.
//!
//! The text is folded in Rust rather than by the database's `lower()`: SQLite's folds ASCII
//! only, and PostgreSQL's depends on the database's locale. Existing messages are folded here,
//! in pages, before the index is built. On PostgreSQL, `CREATE EXTENSION pg_trgm` needs the
//! `CREATE` privilege on the database (pg_trgm is a trusted extension: the database's owner
//! has it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Messages folded per round trip while filling the column.
const FILL_PAGE: u64 = 1000;

const SQLITE_INDEX: &[&str] = &[
    "CREATE VIRTUAL TABLE message_search USING fts5(search_text, content='messages', \
     content_rowid='id', tokenize='trigram')",
    "INSERT INTO message_search(message_search) VALUES ('rebuild')",
    // Every row goes in (a deleted message's NULL as an empty document), as `rebuild` puts
    // them: the index mirrors the table row for row, so each 'delete' finds what it removes.
    "CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN \
       INSERT INTO message_search(rowid, search_text) VALUES (new.id, new.search_text); \
     END",
    "CREATE TRIGGER message_search_update AFTER UPDATE OF search_text ON messages BEGIN \
       INSERT INTO message_search(message_search, rowid, search_text) \
         VALUES ('delete', old.id, old.search_text); \
       INSERT INTO message_search(rowid, search_text) VALUES (new.id, new.search_text); \
     END",
    "CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN \
       INSERT INTO message_search(message_search, rowid, search_text) \
         VALUES ('delete', old.id, old.search_text); \
     END",
];

const SQLITE_DROP: &[&str] = &[
    "DROP TRIGGER IF EXISTS message_search_delete",
    "DROP TRIGGER IF EXISTS message_search_update",
    "DROP TRIGGER IF EXISTS message_search_insert",
    "DROP TABLE IF EXISTS message_search",
];

const POSTGRES_INDEX: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX messages_search_text_trgm ON messages USING gin (search_text gin_trgm_ops)",
];

const POSTGRES_DROP: &[&str] = &["DROP INDEX IF EXISTS messages_search_text_trgm"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on SQLite too (sea-orm wraps only PostgreSQL's by default): a failure
    /// halfway leaves no column behind to trip the next try, and the fill commits once.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .add_column(ColumnDef::new("search_text").text().null())
                    .to_owned(),
            )
            .await?;
        fill(manager).await?;
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_INDEX,
            _ => SQLITE_INDEX,
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_DROP,
            _ => SQLITE_DROP,
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("messages")
                    .drop_column("search_text")
                    .to_owned(),
            )
            .await
    }
}

/// Folds the text of every message not deleted into `search_text`, a page at a time.
async fn fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut after: i64 = 0;
    loop {
        let page = Query::select()
            .columns(["id", "body"])
            .from("messages")
            .and_where(Expr::col("id").gt(after))
            .and_where(Expr::col("deleted_at").is_null())
            .order_by("id", Order::Asc)
            .limit(FILL_PAGE)
            .to_owned();
        let rows = db.query_all(&page).await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let body: String = row.try_get("", "body")?;
            let update = Query::update()
                .table("messages")
                .value("search_text", protocol::search::fold(&body))
                .and_where(Expr::col("id").eq(id))
                .to_owned();
            db.execute(&update).await?;
            after = id;
        }
    }
}
