//! Whisper's database schema as sea-orm migrations, for SQLite and PostgreSQL alike.
//!
//! The server applies every pending migration when it starts (`Migrator::up`), so a fresh SQLite
//! file or an empty PostgreSQL database becomes usable without a separate step. Migrations use
//! string identifiers and schema helpers only, never the server's entities, so an old migration
//! keeps compiling however the entities change.
//!
//! # Layout
//!
//! One file per migration, named `mYYYYMMDD_HHMMSS_verb_object.rs`, each with `up` and `down`.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_users;
mod m20261122_000002_create_sessions;
mod m20261122_000003_create_rooms_and_messages;
mod m20261203_000004_room_kinds;
mod m20261204_000005_read_state;
mod m20261205_000006_message_search;
mod m20261206_000007_lighter_search_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_sessions::Migration),
            Box::new(m20261122_000003_create_rooms_and_messages::Migration),
            Box::new(m20261203_000004_room_kinds::Migration),
            Box::new(m20261204_000005_read_state::Migration),
            Box::new(m20261205_000006_message_search::Migration),
            Box::new(m20261206_000007_lighter_search_index::Migration),
        ]
    }
}
