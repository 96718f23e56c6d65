//! The writer on a sea-orm connection (`db::connect_writer`): for PostgreSQL one of its own; for
//! SQLite in memory, the pool `main` opened (only the pool that made an in-memory database can
//! reach it). A task takes each batch through sea-orm's transaction.

use super::batch::{self, Connection, NonceCheck, PendingPost, Posted, Transaction};
use super::commit_window::CommitWindow;
use crate::db::messages::entity;
use prometheus_client::metrics::histogram::Histogram;
use protocol::Member;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, FromQueryResult,
    SqlErr, Statement, TransactionTrait,
};
use std::time::Instant;
use tokio::sync::mpsc;

/// Starts the task that commits what arrives on `pending`, until every sender is gone.
pub(super) fn start(
    db: DatabaseConnection,
    mut pending: mpsc::Receiver<PendingPost>,
    commit_seconds: Histogram,
) {
    tokio::spawn(async move {
        let mut db = db;
        let mut window = CommitWindow::default();
        while let Some(first) = pending.recv().await {
            let wait = window.reserve(Instant::now(), pending.len());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let batch = batch::gather(first, &mut pending);
            batch::commit(&mut db, batch, &commit_seconds).await;
        }
    });
}

impl Connection for DatabaseConnection {
    type Error = DbErr;

    fn is_unique_violation(err: &DbErr) -> bool {
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
    }

    async fn write(
        &mut self,
        batch: &[PendingPost],
        check: NonceCheck,
    ) -> Result<Vec<Option<Posted>>, DbErr> {
        let txn = self.begin().await?;
        match batch::write(&txn, batch, check).await {
            Ok(stored) => {
                txn.commit().await?;
                Ok(stored)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(%rollback, "rolling back a failed batch failed");
                }
                Err(err)
            }
        }
    }
}

impl Transaction for DatabaseTransaction {
    type Error = DbErr;

    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn pairs(&self, statement: Statement) -> Result<Vec<(i64, i64)>, DbErr> {
        self.query_all_raw(statement)
            .await?
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect()
    }

    async fn members(&self, statement: Statement) -> Result<Vec<Member>, DbErr> {
        self.query_all_raw(statement)
            .await?
            .iter()
            .map(|row| {
                let (id, username) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                Ok(crate::db::users::member(id, username))
            })
            .collect()
    }

    async fn messages(&self, statement: Statement) -> Result<Vec<entity::Model>, DbErr> {
        entity::Model::find_by_statement(statement).all(self).await
    }
}
