//! The accounts and rooms a run needs, made through the admin forms like a person would.

use anyhow::{Context, bail};
use protocol::RoomId;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Every bench user's password.
pub const USER_PASSWORD: &str = "bench-password";
/// Log-ins and account creations in flight at once (each costs the server an argon2 hash).
const SETUP_CONCURRENCY: usize = 4;

pub struct Admin {
    pub url: String,
    http: reqwest::Client,
    pub cookie: String,
    /// Where users' session cookies are kept between runs (see [`Admin::sessions`]).
    session_cache: Option<PathBuf>,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Logs `name` in; returns the session cookie (`whisper_session=…`).
pub async fn log_in(
    http: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{url}/auth/login"))
        .form(&[("username", name), ("password", password)])
        .send()
        .await?;
    session_cookie(&response).with_context(|| {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        format!(
            "log-in as {name} failed ({} → {location}); is the server's log-in rate limit raised?",
            response.status()
        )
    })
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| {
            value.starts_with("whisper_session=") && !value.starts_with("whisper_session=;")
        })
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
}

impl Admin {
    /// Runs first-run set-up with these credentials when the server has no account yet;
    /// otherwise logs in.
    pub async fn sign_in(
        url: &str,
        name: &str,
        password: &str,
        session_cache: Option<PathBuf>,
    ) -> anyhow::Result<Admin> {
        let http = client();
        let setup = http
            .post(format!("{url}/auth/setup"))
            .form(&[
                ("username", name),
                ("password", password),
                ("password_confirm", password),
            ])
            .send()
            .await
            .with_context(|| format!("is the server running at {url}?"))?;
        let cookie = match session_cookie(&setup) {
            Some(cookie) => cookie,
            None => log_in(&http, url, name, password).await?,
        };
        Ok(Admin {
            url: url.to_owned(),
            http,
            cookie,
            session_cache,
        })
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<String> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await?;
        Ok(response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned())
    }

    /// The ids of rooms with these titles, creating the missing ones.
    pub async fn rooms(&self, titles: &[String]) -> anyhow::Result<Vec<RoomId>> {
        let mut known = self.list_rooms().await?;
        for title in titles {
            if !known.iter().any(|room| &room.title == title) {
                self.post("/admin/rooms", &[("title", title)]).await?;
            }
        }
        known = self.list_rooms().await?;
        titles
            .iter()
            .map(|title| {
                known
                    .iter()
                    .find(|room| &room.title == title)
                    .map(|room| room.id)
                    .with_context(|| format!("room {title} missing"))
            })
            .collect()
    }

    async fn list_rooms(&self) -> anyhow::Result<Vec<ListedRoom>> {
        let response = self
            .http
            .post(format!("{}/api/list_rooms", self.url))
            .header(COOKIE, &self.cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "listing rooms failed: {} (is --admin an admin?)",
                response.status()
            );
        }
        Ok(response.json().await?)
    }

    /// Creates the users that do not exist yet and logs every one in; returns their cookies in
    /// the order given.
    ///
    /// With a session cache, a user found in it is not logged in again: each log-in costs the
    /// server an argon2 hash (about 40 ms here), so thousands of them take minutes. The cache
    /// only holds for the database it was written against (or a copy of it).
    pub async fn sessions(self: &Arc<Self>, names: &[String]) -> anyhow::Result<Vec<String>> {
        let mut cached = match &self.session_cache {
            Some(path) => read_session_cache(path)?,
            None => HashMap::new(),
        };
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut tasks = Vec::new();
        for name in names {
            if cached.contains_key(name) {
                continue;
            }
            let (admin, gate, name) = (Arc::clone(self), Arc::clone(&gate), name.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await?;
                let created = admin
                    .post(
                        "/admin/users",
                        &[("username", &name), ("password", USER_PASSWORD)],
                    )
                    .await?;
                if !created.contains("user_created") && !created.contains("username_taken") {
                    bail!("creating {name} failed: {created}");
                }
                let cookie = log_in(&admin.http, &admin.url, &name, USER_PASSWORD).await?;
                Ok((name, cookie))
            }));
        }
        let mut fresh = Vec::new();
        for task in tasks {
            fresh.push(task.await??);
        }
        if let Some(path) = &self.session_cache
            && !fresh.is_empty()
        {
            append_session_cache(path, &fresh)?;
        }
        cached.extend(fresh);
        names
            .iter()
            .map(|name| cached.get(name).cloned().context("no session"))
            .collect()
    }
}

/// The cache file: one `name cookie` line per user.
fn read_session_cache(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, cookie)| (name.to_owned(), cookie.to_owned()))
        .collect())
}

fn append_session_cache(path: &Path, sessions: &[(String, String)]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    for (name, cookie) in sessions {
        writeln!(file, "{name} {cookie}")?;
    }
    Ok(())
}

/// What the bench reads of a room in the admin's list: its id and title, so that it also sets
/// up builds from before rooms had kinds (issue 15 compares against one).
#[derive(serde::Deserialize)]
struct ListedRoom {
    id: RoomId,
    title: String,
}
