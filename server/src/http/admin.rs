//! The admin area's form handlers; the pages themselves live in the `app` crate
//! (`pages/admin_users.rs`, `pages/admin_rooms.rs`). The gate already refuses non-admins; every
//! handler checks again through [`Admin`].
//!
//! # Layout
//!
//! - [`users`]: create users, grant and revoke roles, reset passwords, disable.
//! - [`rooms`]: create, rename, delete rooms and switch staff-only.

pub mod rooms;
pub mod users;

use app::backend::CurrentUser;
use axum::Extension;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use protocol::UserSummary;

/// The signed-in admin making the request; any other caller is refused with 403.
pub struct Admin(pub UserSummary);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Extension::<CurrentUser>::from_request_parts(parts, state).await {
            Ok(Extension(CurrentUser(Some(user)))) if user.is_admin => Ok(Admin(user)),
            _ => Err(StatusCode::FORBIDDEN),
        }
    }
}

/// A form field carrying a boolean (`value=true|false`).
#[derive(Debug, serde::Deserialize)]
pub struct FlagForm {
    pub value: bool,
}
