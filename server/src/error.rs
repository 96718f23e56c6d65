//! Internal failures of HTTP handlers. They are logged with their cause and answered with a
//! plain 500; the cause never reaches the client. Expected refusals (bad input, no permission)
//! are not errors here: handlers answer those themselves with a redirect or a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Hash(#[from] crate::http::auth::password::HashError),
    #[error(transparent)]
    Session(#[from] crate::http::auth::session::SessionError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error; it has been logged.",
        )
            .into_response()
    }
}

impl From<crate::db::users::CreateUserError> for AppError {
    fn from(err: crate::db::users::CreateUserError) -> Self {
        match err {
            crate::db::users::CreateUserError::Db(db) => AppError::Db(db),
            // Callers handle a taken name themselves; reaching here is a bug, but still a 500.
            taken => AppError::Db(sea_orm::DbErr::Custom(taken.to_string())),
        }
    }
}
