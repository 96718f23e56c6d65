//! Rules for usernames and passwords, shared by set-up, sign-up, the admin area and the CLI.

use protocol::{MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS, Notice};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Username,
    Password,
}

/// The same text the pages show (the CLI prints it).
impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.notice().text())
    }
}

impl std::error::Error for Invalid {}

impl Invalid {
    /// The notice the pages show for this.
    pub fn notice(self) -> Notice {
        match self {
            Invalid::Username => Notice::InvalidUsername,
            Invalid::Password => Notice::WeakPassword,
        }
    }
}

pub fn username(name: &str) -> Result<(), Invalid> {
    let ok = (1..=MAX_USERNAME_CHARS).contains(&name.chars().count())
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
