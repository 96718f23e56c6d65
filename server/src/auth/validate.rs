//! Rules for usernames and passwords, shared by set-up, sign-up, the admin area and the CLI.

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted: argon2 would take anything, but a megabyte "password" is a
/// denial-of-service attempt, not a password.
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("usernames are 1 to 32 letters, digits, dots, dashes or underscores")]
    Username,
    #[error("passwords need at least 8 characters")]
    Password,
}

impl Invalid {
    /// The notice code the pages show for this (see `app/src/components/notice.rs`).
    pub fn code(self) -> &'static str {
        match self {
            Invalid::Username => "invalid_username",
            Invalid::Password => "weak_password",
        }
    }
}

pub fn username(name: &str) -> Result<(), Invalid> {
    let ok = (1..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok { Ok(()) } else { Err(Invalid::Username) }
}

pub fn password(password: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(Invalid::Password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("alice").is_ok());
        assert!(username("A.b-c_9").is_ok());
        assert_eq!(username(""), Err(Invalid::Username));
        assert_eq!(username("has space"), Err(Invalid::Username));
        assert_eq!(username("<script>"), Err(Invalid::Username));
        assert_eq!(username(&"x".repeat(33)), Err(Invalid::Username));
    }

    #[test]
    fn passwords() {
        assert!(password("12345678").is_ok());
        assert_eq!(password("1234567"), Err(Invalid::Password));
        assert_eq!(password(&"x".repeat(1025)), Err(Invalid::Password));
    }
}
