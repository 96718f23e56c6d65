//! The accounts and rooms a run needs, made through the admin forms like a person would.

use anyhow::{Context, bail};
use protocol::{RoomId, RoomInfo};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
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
    pub async fn sign_in(url: &str, name: &str, password: &str) -> anyhow::Result<Admin> {
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

    async fn list_rooms(&self) -> anyhow::Result<Vec<RoomInfo>> {
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
    pub async fn sessions(self: &Arc<Self>, names: &[String]) -> anyhow::Result<Vec<String>> {
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut tasks = Vec::new();
        for name in names {
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
                log_in(&admin.http, &admin.url, &name, USER_PASSWORD).await
            }));
        }
        let mut cookies = Vec::new();
        for task in tasks {
            cookies.push(task.await??);
        }
        Ok(cookies)
    }
}
