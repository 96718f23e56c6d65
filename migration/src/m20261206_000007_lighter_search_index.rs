//! A cheaper SQLite search index: every post pays for keeping it, so it keeps only what the
//! search reads. PostgreSQL is unchanged.
//!
//! The FTS5 table `message_search` is built again with
//! - `case_sensitive 1`: `search_text` is folded already (by `protocol::search::fold`, as every
//!   query word is), so folding each trigram a second time in the tokenizer was work for nothing;
//! - `columnsize=0`: searches order by message id, never by rank, so the per-message token
//!   counts (one more row written for every post) are not kept;
//! - `automerge` 16 and `crisismerge` 32: segments are merged in bigger, rarer steps, so a
//!   trigram's entry is copied fewer times on its way to the biggest segment.
//!
//! The triggers of `m20261205_000006_message_search` name the table, not its options, so they
//! go on feeding the new one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const LIGHTER: &[&str] = &[
    "DROP TABLE message_search",
    "CREATE VIRTUAL TABLE message_search USING fts5(search_text, content='messages', \
     content_rowid='id', tokenize='trigram case_sensitive 1', columnsize=0)",
    "INSERT INTO message_search(message_search, rank) VALUES ('automerge', 16)",
    "INSERT INTO message_search(message_search, rank) VALUES ('crisismerge', 32)",
    "INSERT INTO message_search(message_search) VALUES ('rebuild')",
];

const AS_BEFORE: &[&str] = &[
    "DROP TABLE message_search",
    "CREATE VIRTUAL TABLE message_search USING fts5(search_text, content='messages', \
     content_rowid='id', tokenize='trigram')",
    "INSERT INTO message_search(message_search) VALUES ('rebuild')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The table is dropped and built again in one transaction: no moment without an index.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, LIGHTER).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, AS_BEFORE).await
    }
}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        return Ok(());
    }
    for sql in statements {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
