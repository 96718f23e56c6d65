//! What a form did, or why it was refused: the codes the server's form handlers redirect with
//! (`?notice=…`, `?error=…`) and the text the pages show for each. One enum on both sides, so a
//! code the server sends always has a text, and a crafted link can show only our own words.

use crate::limits::{MAX_TITLE_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS};
use serde::{Deserialize, Serialize};

/// One notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    InvalidCredentials,
    RateLimited,
    InvalidUsername,
    WeakPassword,
    PasswordMismatch,
    UsernameTaken,
    CannotChangeSelf,
    NotFound,
    SignupClosed,
    UserCreated,
    RolesUpdated,
    PasswordReset,
    UserDisabled,
    UserEnabled,
    InvalidTitle,
    RoomNotFound,
    RoomCreated,
    RoomRenamed,
    RoomUpdated,
    RoomDeleted,
}

impl Notice {
    /// Every notice, for tests and lookups.
    pub const ALL: [Notice; 20] = [
        Notice::InvalidCredentials,
        Notice::RateLimited,
        Notice::InvalidUsername,
        Notice::WeakPassword,
        Notice::PasswordMismatch,
        Notice::UsernameTaken,
        Notice::CannotChangeSelf,
        Notice::NotFound,
        Notice::SignupClosed,
        Notice::UserCreated,
        Notice::RolesUpdated,
        Notice::PasswordReset,
        Notice::UserDisabled,
        Notice::UserEnabled,
        Notice::InvalidTitle,
        Notice::RoomNotFound,
        Notice::RoomCreated,
        Notice::RoomRenamed,
        Notice::RoomUpdated,
        Notice::RoomDeleted,
    ];

    /// The code in the query string.
    pub fn code(self) -> &'static str {
        match self {
            Notice::InvalidCredentials => "invalid_credentials",
            Notice::RateLimited => "rate_limited",
            Notice::InvalidUsername => "invalid_username",
            Notice::WeakPassword => "weak_password",
            Notice::PasswordMismatch => "password_mismatch",
            Notice::UsernameTaken => "username_taken",
            Notice::CannotChangeSelf => "cannot_change_self",
            Notice::NotFound => "not_found",
            Notice::SignupClosed => "signup_closed",
            Notice::UserCreated => "user_created",
            Notice::RolesUpdated => "roles_updated",
            Notice::PasswordReset => "password_reset",
            Notice::UserDisabled => "user_disabled",
            Notice::UserEnabled => "user_enabled",
            Notice::InvalidTitle => "invalid_title",
            Notice::RoomNotFound => "room_not_found",
            Notice::RoomCreated => "room_created",
            Notice::RoomRenamed => "room_renamed",
            Notice::RoomUpdated => "room_updated",
            Notice::RoomDeleted => "room_deleted",
        }
    }

    /// The notice with this code, if any.
    pub fn from_code(code: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|notice| notice.code() == code)
    }

    /// A refusal (shown as an error) rather than a report of what was done.
    pub fn is_error(self) -> bool {
        !matches!(
            self,
            Notice::UserCreated
                | Notice::RolesUpdated
                | Notice::PasswordReset
                | Notice::UserDisabled
                | Notice::UserEnabled
                | Notice::RoomCreated
                | Notice::RoomRenamed
                | Notice::RoomUpdated
                | Notice::RoomDeleted
        )
    }

    /// `error=<code>` or `notice=<code>`, for a redirect's query string.
    pub fn query(self) -> String {
        let key = if self.is_error() { "error" } else { "notice" };
        format!("{key}={}", self.code())
    }

    /// What the user reads.
    pub fn text(self) -> String {
        match self {
            Notice::InvalidCredentials => "Wrong username or password.".into(),
            Notice::RateLimited => "Too many attempts. Wait a minute and try again.".into(),
            Notice::InvalidUsername => format!(
                "Usernames are 1 to {MAX_USERNAME_CHARS} letters, digits, dots, dashes or \
                 underscores."
            ),
            Notice::WeakPassword => {
                format!("Passwords need at least {MIN_PASSWORD_CHARS} characters.")
            }
            Notice::PasswordMismatch => "The two passwords differ.".into(),
            Notice::UsernameTaken => "That username is taken.".into(),
            Notice::CannotChangeSelf => {
                "You cannot remove your own admin role or disable yourself.".into()
            }
            Notice::NotFound => "No such user.".into(),
            Notice::SignupClosed => "Sign-up is closed; ask an admin for an account.".into(),
            Notice::UserCreated => "User created.".into(),
            Notice::RolesUpdated => "Roles updated.".into(),
            Notice::PasswordReset => "Password reset.".into(),
            Notice::UserDisabled => "User disabled; their sessions have ended.".into(),
            Notice::UserEnabled => "User enabled.".into(),
            Notice::InvalidTitle => format!("Room titles are 1 to {MAX_TITLE_CHARS} characters."),
            Notice::RoomNotFound => "No such room.".into(),
            Notice::RoomCreated => "Room created.".into(),
            Notice::RoomRenamed => "Room renamed.".into(),
            Notice::RoomUpdated => "Room updated.".into(),
            Notice::RoomDeleted => "Room deleted.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_and_has_a_text() {
        for notice in Notice::ALL {
            assert_eq!(Notice::from_code(notice.code()), Some(notice));
            assert!(notice.text().ends_with('.'));
            let serialized = serde_json::to_string(&notice).unwrap_or_default();
            assert_eq!(serialized, format!("\"{}\"", notice.code()), "serde agrees");
        }
        assert_eq!(Notice::from_code("<script>"), None);
    }

    #[test]
    fn texts_say_the_limits() {
        assert!(Notice::InvalidTitle.text().contains("80"));
        assert!(Notice::InvalidUsername.text().contains("32"));
        assert!(Notice::WeakPassword.text().contains('8'));
    }
}
