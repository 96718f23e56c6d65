//! Server functions: the data the pages load. Each checks who is asking on its own, whatever the
//! page gate already decided.

use leptos::prelude::*;
use protocol::{AdminUserView, RoomInfo, UserSummary};
use serde::{Deserialize, Serialize};

// Every server function here answers as `JsonText` (`output = JsonText`): one left on Leptos's
// default codec would bring a second JSON decoder back into the WASM (`api/json_text.rs`).
mod json_text;
use json_text::JsonText;

/// Who is looking at the page, and what the site offers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: Option<UserSummary>,
    pub open_signup: bool,
}

#[cfg(feature = "ssr")]
async fn signed_in_user() -> Result<Option<UserSummary>, ServerFnError> {
    use crate::backend::CurrentUser;
    let axum::Extension(CurrentUser(user)) =
        leptos_axum::extract::<axum::Extension<CurrentUser>>().await?;
    Ok(user)
}

#[cfg(feature = "ssr")]
fn backend() -> Result<crate::backend::SharedBackend, ServerFnError> {
    use_context::<crate::backend::SharedBackend>()
        .ok_or_else(|| ServerFnError::new("backend missing from context"))
}

/// The signed-in user (if any) and site options for the page chrome.
#[server(prefix = "/api", endpoint = "viewer", output = JsonText)]
pub async fn get_viewer() -> Result<Viewer, ServerFnError> {
    Ok(Viewer {
        user: signed_in_user().await?,
        open_signup: backend()?.open_signup(),
    })
}

/// Fails (with status 403) unless an admin is asking.
#[cfg(feature = "ssr")]
async fn require_admin() -> Result<(), ServerFnError> {
    match signed_in_user().await? {
        Some(user) if user.is_admin => Ok(()),
        _ => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(axum::http::StatusCode::FORBIDDEN);
            }
            Err(ServerFnError::new("admins only"))
        }
    }
}

/// All accounts; admins only.
#[server(prefix = "/api", endpoint = "list_users", output = JsonText)]
pub async fn list_users() -> Result<Vec<AdminUserView>, ServerFnError> {
    require_admin().await?;
    backend()?.list_users().await.map_err(ServerFnError::new)
}

/// All rooms; admins only (everyone else gets the room list over the WebSocket).
#[server(prefix = "/api", endpoint = "list_rooms", output = JsonText)]
pub async fn list_rooms() -> Result<Vec<RoomInfo>, ServerFnError> {
    require_admin().await?;
    backend()?.list_rooms().await.map_err(ServerFnError::new)
}
