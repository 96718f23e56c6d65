//! The server's side of [`app::backend::Backend`]: what the pages' server functions read.

use crate::db::{rooms, users};
use app::backend::Backend;
use protocol::{AdminUserView, RoomInfo};
use sea_orm::DatabaseConnection;

pub struct ServerBackend {
    pub db: DatabaseConnection,
    pub open_signup: bool,
}

#[async_trait::async_trait]
impl Backend for ServerBackend {
    async fn list_users(&self) -> Result<Vec<AdminUserView>, String> {
        users::list(&self.db)
            .await
            .map(|all| all.iter().map(users::User::admin_view).collect())
            .map_err(|err| {
                tracing::error!(%err, "listing users failed");
                "could not load users".to_owned()
            })
    }

    async fn list_rooms(&self) -> Result<Vec<RoomInfo>, String> {
        rooms::managed(&self.db)
            .await
            .map(|all| all.iter().map(rooms::Room::info).collect())
            .map_err(|err| {
                tracing::error!(%err, "listing rooms failed");
                "could not load rooms".to_owned()
            })
    }

    fn open_signup(&self) -> bool {
        self.open_signup
    }
}
