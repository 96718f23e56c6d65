//! What the server functions need from the server, as a trait the `server` crate implements.
//!
//! The server crate depends on this crate (it renders these pages), so the pages cannot call
//! into it directly; instead the server provides an `Arc<dyn Backend>` as Leptos context.

use protocol::{AdminUserView, RoomInfo, UserSummary};
use std::sync::Arc;

/// Server-side services the pages read from.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every account, for the admin area, ordered by username.
    async fn list_users(&self) -> Result<Vec<AdminUserView>, String>;
    /// Every room, for the admin area, ordered by title.
    async fn list_rooms(&self) -> Result<Vec<RoomInfo>, String>;
    /// Whether anyone may create their own account on the sign-up page.
    fn open_signup(&self) -> bool;
}

/// The backend as the server provides it in context.
pub type SharedBackend = Arc<dyn Backend>;

/// The signed-in user of the request being served, put into the request's extensions by the
/// server's session middleware (`None` when nobody is signed in).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<UserSummary>);
