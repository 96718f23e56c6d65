//! The binary's commands besides serving: `whisper create-user` adds an account from a script
//! or a terminal; `whisper backup` copies a live SQLite database.

use crate::db::{self, users};
use crate::http::auth::{password, validate};
use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::io::{BufRead, IsTerminal};
use std::path::Path;

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

/// How to back up PostgreSQL, which `whisper backup` leaves to PostgreSQL's own tool.
const POSTGRES_BACKUP: &str = "whisper backup copies SQLite databases. For PostgreSQL use \
    pg_dump, which takes a consistent snapshot while the server runs: \
    pg_dump --format=custom --file=whisper.dump \"$DATABASE_URL\" (restore with pg_restore)";

/// `whisper backup PATH`: a consistent copy of the live SQLite database in a new file.
///
/// `VACUUM INTO` reads one snapshot (a read transaction, which under WAL does not block the
/// running server's writes) and writes it compacted to `to`; the copy is a database file
/// ready to use as `DATABASE_URL`.
pub async fn backup(database_url: &str, to: &Path) -> anyhow::Result<()> {
    if !database_url.starts_with("sqlite:") {
        bail!(POSTGRES_BACKUP);
    }
    if to.exists() {
        bail!("{} exists already; name a new file", to.display());
    }
    let target = to
        .to_str()
        .context("the backup's path must be valid UTF-8")?;
    let db = db::open_sqlite_read_only(database_url)
        .await
        .context("opening the database")?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .context("copying the database")?;
    let bytes = std::fs::metadata(to).map(|meta| meta.len()).unwrap_or(0);
    println!("backed up to {} ({bytes} bytes)", to.display());
    Ok(())
}
