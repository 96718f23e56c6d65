//! `whisper create-user`: adds an account from a script or a terminal.

use crate::db::{self, users};
use crate::http::auth::{password, validate};
use anyhow::{Context, bail};
use std::io::{BufRead, IsTerminal};

pub async fn create_user(
    database_url: &str,
    name: &str,
    admin: bool,
    staff: bool,
) -> anyhow::Result<()> {
    validate::username(name)?;
    let password = read_password()?;
    validate::password(&password)?;
    let db = db::connect(database_url)
        .await
        .context("opening the database")?;
    let created = users::create(
        &db,
        users::NewUser {
            username: name,
            password_hash: password::hash(password).await?,
            is_admin: admin,
            is_staff: staff,
        },
    )
    .await;
    match created {
        Ok(user) => {
            println!(
                "created user {} (id {}, admin: {admin}, staff: {staff})",
                user.username, user.id
            );
            Ok(())
        }
        Err(users::CreateUserError::UsernameTaken) => bail!("username {name:?} is taken"),
        Err(err) => Err(err.into()),
    }
}

/// From the terminal without echo (asked twice), or the first line of piped standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
