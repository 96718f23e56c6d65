//! Accounts over real HTTP: first-run set-up, log-in and log-out, page gating, the admin area's
//! authorization, disabled users, log-in rate limits and cross-site refusal. Every test runs on
//! SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Tab, TestServer, location};
use reqwest::StatusCode;
use whisper::config::Config;

on_both_databases!(
    setup_happens_once,
    login_logout_and_gating,
    admin_area_is_for_admins_only,
    disabled_user_is_locked_out_at_once,
    login_attempts_are_rate_limited_per_username,
    behind_a_trusted_proxy_each_client_has_its_own_log_in_budget,
    next_never_leaves_the_site,
    over_long_usernames_are_refused_up_front,
    cross_site_posts_are_refused,
    usernames_ignore_case,
    health_probes,
);

/// Before any account exists every page leads to /setup; afterwards /setup is gone for good.
async fn setup_happens_once(db: String) {
    let server = TestServer::start(db).await;
    let mut visitor = server.client();
    assert_eq!(location(&visitor.get("/").await), "/setup");
    assert_eq!(location(&visitor.get("/login").await), "/setup");
    assert!(visitor.page("/setup").await.contains("Create admin"));

    let mismatch = visitor
        .post_form(
            "/auth/setup",
            &[
                ("username", "root"),
                ("password", "s3cret-pass"),
                ("password_confirm", "other-pass"),
            ],
        )
        .await;
    assert_eq!(location(&mismatch), "/setup?error=password_mismatch");

    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    assert!(admin.page("/").await.contains("Welcome, root"));

    assert_eq!(visitor.get("/setup").await.status(), StatusCode::NOT_FOUND);
    let again = visitor
        .post_form(
            "/auth/setup",
            &[
                ("username", "intruder"),
                ("password", "s3cret-pass"),
                ("password_confirm", "s3cret-pass"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let denied = visitor
        .post_form(
            "/auth/login",
            &[("username", "intruder"), ("password", "s3cret-pass")],
        )
        .await;
    assert_eq!(location(&denied), "/login?error=invalid_credentials");
}

/// Wrong credentials give one message whatever was wrong; the right ones lead back to the page
/// first asked for; log-out ends the session for good.
async fn login_logout_and_gating(db: String) {
    let server = TestServer::start(db).await;
    server.setup_admin("root", "s3cret-pass").await;

    let mut visitor = server.client();
    assert_eq!(location(&visitor.get("/").await), "/login");
    assert_eq!(
        location(&visitor.get("/admin/users").await),
        "/login?next=%2Fadmin%2Fusers"
    );

    let wrong_password = visitor
        .post_form(
            "/auth/login",
            &[
                ("username", "root"),
                ("password", "nope-nope"),
                ("next", "/admin/users"),
            ],
        )
        .await;
    let wrong_username = visitor
        .post_form(
            "/auth/login",
            &[
                ("username", "rooot"),
                ("password", "s3cret-pass"),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(
        location(&wrong_password),
        "/login?error=invalid_credentials&next=%2Fadmin%2Fusers"
    );
    assert_eq!(location(&wrong_username), location(&wrong_password));
    assert!(visitor.cookie.is_none());

    let ok = visitor
        .post_form(
            "/auth/login",
            &[
                ("username", "root"),
                ("password", "s3cret-pass"),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(location(&ok), "/admin/users");
    let cookie = visitor.cookie.clone().expect("session cookie");
    let set_cookie = ok.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(visitor.page("/admin/users").await.contains("root"));
    assert_eq!(
        location(&visitor.get("/login").await),
        "/",
        "signed-in users skip the log-in page"
    );

    // An open redirect through `next` is not possible.
    let mut other = server.client();
    let offsite = other
        .post_form(
            "/auth/login",
            &[
                ("username", "root"),
                ("password", "s3cret-pass"),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&offsite), "/");

    assert_eq!(
        location(&visitor.post_form("/auth/logout", &[]).await),
        "/login"
    );
    assert!(visitor.cookie.is_none());
    visitor.cookie = Some(cookie);
    assert_eq!(
        location(&visitor.get("/").await),
        "/login",
        "the old cookie is dead"
    );
}

/// Non-admins get 403 on every admin page and action, and the server function refuses them.
async fn admin_area_is_for_admins_only(db: String) {
    let server = TestServer::start(db).await;
    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    server.create_user(&mut admin, "bob", "bobs-password").await;
    let mut bob = server.login("bob", "bobs-password").await;

    assert!(
        !bob.page("/").await.contains("/admin/users"),
        "no admin link for bob"
    );
    assert!(
        admin.page("/").await.contains("/admin/users"),
        "admin link for admins"
    );
    assert_eq!(
        bob.get("/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    let create = bob
        .post_form(
            "/admin/users",
            &[("username", "mallory"), ("password", "mallorys-pw")],
        )
        .await;
    assert_eq!(create.status(), StatusCode::FORBIDDEN);
    let users = bob.post_form("/api/list_users", &[]).await;
    assert!(
        !users.status().is_success(),
        "server function refuses non-admins: {}",
        users.status()
    );

    let listing = admin.page("/admin/users").await;
    assert!(listing.contains("bob") && !listing.contains("mallory"));
    let users = admin.post_form("/api/list_users", &[]).await;
    assert_eq!(users.status(), StatusCode::OK);
    let users: Vec<protocol::AdminUserView> = users.json().await.unwrap();
    let bob_id = users.iter().find(|u| u.username == "bob").unwrap().id;
    assert!(!users.iter().find(|u| u.username == "bob").unwrap().is_staff);

    // Granting staff and admin works, and bob sees the admin area once he is one.
    let staff = admin
        .post_form(
            &format!("/admin/users/{bob_id}/staff"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&staff), "/admin/users?notice=roles_updated");
    let grant = admin
        .post_form(
            &format!("/admin/users/{bob_id}/admin"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&grant), "/admin/users?notice=roles_updated");
    let users: Vec<protocol::AdminUserView> = bob
        .post_form("/api/list_users", &[])
        .await
        .json()
        .await
        .unwrap();
    let bob_view = users.iter().find(|u| u.username == "bob").unwrap();
    assert!(bob_view.is_staff && bob_view.is_admin);

    // Password reset: the old one stops working, the new one works.
    let reset = admin
        .post_form(
            &format!("/admin/users/{bob_id}/password"),
            &[("password", "new-password")],
        )
        .await;
    assert_eq!(location(&reset), "/admin/users?notice=password_reset");
    let old = server
        .client()
        .post_form(
            "/auth/login",
            &[("username", "bob"), ("password", "bobs-password")],
        )
        .await;
    assert_eq!(location(&old), "/login?error=invalid_credentials");
    server.login("bob", "new-password").await;

    // Admins cannot lock themselves out.
    let root_id = users.iter().find(|u| u.username == "root").unwrap().id;
    let demote_self = admin
        .post_form(
            &format!("/admin/users/{root_id}/admin"),
            &[("value", "false")],
        )
        .await;
    assert_eq!(
        location(&demote_self),
        "/admin/users?error=cannot_change_self"
    );

    // Bad input is refused with a reason, not a crash.
    let taken = admin
        .post_form(
            "/admin/users",
            &[("username", "BOB"), ("password", "whatever-pw")],
        )
        .await;
    assert_eq!(location(&taken), "/admin/users?error=username_taken");
    let bad_name = admin
        .post_form(
            "/admin/users",
            &[("username", "<b>x</b>"), ("password", "whatever-pw")],
        )
        .await;
    assert_eq!(location(&bad_name), "/admin/users?error=invalid_username");
    let short = admin
        .post_form(
            "/admin/users",
            &[("username", "carol"), ("password", "short")],
        )
        .await;
    assert_eq!(location(&short), "/admin/users?error=weak_password");
    let missing = admin
        .post_form("/admin/users/999999/staff", &[("value", "true")])
        .await;
    assert_eq!(location(&missing), "/admin/users?error=not_found");
    let garbage = admin
        .post_form(
            &format!("/admin/users/{bob_id}/staff"),
            &[("value", "maybe")],
        )
        .await;
    assert!(garbage.status().is_client_error());
}

/// Disabling ends the user's sessions and live sockets at once, and they cannot log in again
/// until enabled.
async fn disabled_user_is_locked_out_at_once(db: String) {
    let server = TestServer::start(db).await;
    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    server.create_user(&mut admin, "bob", "bobs-password").await;
    let mut bob = server.login("bob", "bobs-password").await;
    assert!(bob.page("/").await.contains("Welcome, bob"));

    let (mut socket, _) = Tab::open(&server, &bob).await;

    let bob_id = server.user_id(&mut admin, "bob").await;
    let disable = admin
        .post_form(
            &format!("/admin/users/{bob_id}/disabled"),
            &[("value", "true")],
        )
        .await;
    assert_eq!(location(&disable), "/admin/users?notice=user_disabled");

    assert_eq!(location(&bob.get("/").await), "/login");
    assert_eq!(socket.closed().await, 1008, "policy close on disable");
    // And the old session cannot open a new socket.
    let mut retry = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/ws", server.addr),
    )
    .unwrap();
    retry
        .headers_mut()
        .insert("cookie", bob.cookie.clone().unwrap().parse().unwrap());
    match tokio_tungstenite::connect_async(retry).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("a disabled user's upgrade must be refused, got {other:?}"),
    }
    let again = server
        .client()
        .post_form(
            "/auth/login",
            &[("username", "bob"), ("password", "bobs-password")],
        )
        .await;
    assert_eq!(location(&again), "/login?error=invalid_credentials");

    let enable = admin
        .post_form(
            &format!("/admin/users/{bob_id}/disabled"),
            &[("value", "false")],
        )
        .await;
    assert_eq!(location(&enable), "/admin/users?notice=user_enabled");
    server.login("bob", "bobs-password").await;
}

/// After five attempts in a minute one username is refused, even with the right password.
async fn login_attempts_are_rate_limited_per_username(db: String) {
    let server = TestServer::start(db).await;
    server.setup_admin("root", "s3cret-pass").await;
    let mut visitor = server.client();
    for _ in 0..5 {
        let response = visitor
            .post_form(
                "/auth/login",
                &[("username", "root"), ("password", "guess-guess")],
            )
            .await;
        assert_eq!(location(&response), "/login?error=invalid_credentials");
    }
    let limited = visitor
        .post_form(
            "/auth/login",
            &[("username", "ROOT"), ("password", "s3cret-pass")],
        )
        .await;
    assert_eq!(location(&limited), "/login?error=rate_limited");
    assert!(visitor.cookie.is_none());
}

/// Behind a load balancer every request comes from the balancer's address: with it configured
/// as a trusted proxy, the per-address log-in limit counts the client `X-Forwarded-For` names;
/// without, the header is ignored (a client could write any address into it).
async fn behind_a_trusted_proxy_each_client_has_its_own_log_in_budget(db: String) {
    async fn attempt(server: &TestServer, forwarded_for: &str, username: &str) -> String {
        let response = server
            .client()
            .http
            .post(server.url("/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .form(&[("username", username), ("password", "guess-guess")])
            .send()
            .await
            .unwrap();
        location(&response)
    }
    let limited = "/login?error=rate_limited";
    let mut config = Config::for_database(db);
    config.login_per_ip_per_minute = 2;
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let server = TestServer::start_with(config.clone()).await;
    server.setup_admin("root", "s3cret-pass").await;
    for (index, client) in ["203.0.113.1", "203.0.113.2"].iter().enumerate() {
        for round in 0..2 {
            let answer = attempt(&server, client, &format!("user{index}{round}")).await;
            assert_ne!(answer, limited, "{client} has a budget of its own");
        }
    }
    assert_eq!(attempt(&server, "203.0.113.1", "someone").await, limited);

    config.trusted_proxies.clear();
    let untrusting = TestServer::start_with(config).await;
    attempt(&untrusting, "203.0.113.1", "a").await;
    attempt(&untrusting, "203.0.113.2", "b").await;
    assert_eq!(
        attempt(&untrusting, "203.0.113.3", "c").await,
        limited,
        "an untrusted header changes nothing"
    );
}

/// `next` after log-in stays on this site whatever it hides: a tab or line break a browser
/// would drop (turning `/\t/evil.example` into `//evil.example`), or a header injection.
async fn next_never_leaves_the_site(db: String) {
    let server = TestServer::start(db).await;
    server.setup_admin("root", "s3cret-pass").await;
    for next in [
        "/\t/evil.example",
        "/\r\nSet-Cookie: stolen=1",
        "/\\evil.example",
    ] {
        let mut visitor = server.client();
        let response = visitor
            .post_form(
                "/auth/login",
                &[
                    ("username", "root"),
                    ("password", "s3cret-pass"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(location(&response), "/", "for {next:?}");
        assert!(visitor.cookie.is_some(), "signed in");
    }
}

/// A username longer than any account can have is refused at once (not kept by the per-name
/// limiter, nor hashed against), with the usual answer.
async fn over_long_usernames_are_refused_up_front(db: String) {
    let server = TestServer::start(db).await;
    server.setup_admin("root", "s3cret-pass").await;
    let mut visitor = server.client();
    let long = "x".repeat(100_000);
    let response = visitor
        .post_form(
            "/auth/login",
            &[("username", &long), ("password", "whatever1")],
        )
        .await;
    assert_eq!(location(&response), "/login?error=invalid_credentials");
}

/// A form posted from another site's page is refused before it does anything.
async fn cross_site_posts_are_refused(db: String) {
    let server = TestServer::start(db).await;
    let mut admin = server.setup_admin("root", "s3cret-pass").await;
    let forged = admin
        .post_form_from(
            "http://evil.example",
            "/admin/users",
            &[("username", "eve"), ("password", "eves-password")],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let own = format!("http://{}", server.addr);
    let same_site = admin
        .post_form_from(
            &own,
            "/admin/users",
            &[("username", "eve"), ("password", "eves-password")],
        )
        .await;
    assert_eq!(location(&same_site), "/admin/users?notice=user_created");
    assert!(admin.page("/admin/users").await.contains("eve"));
}

/// Usernames are unique and log in regardless of case, but display as typed.
async fn usernames_ignore_case(db: String) {
    let server = TestServer::start(db).await;
    let mut admin = server.setup_admin("Root", "s3cret-pass").await;
    assert!(admin.page("/").await.contains("Welcome, Root"));
    server.login("rOOt", "s3cret-pass").await;
}

async fn health_probes(db: String) {
    let server = TestServer::start(db).await;
    let mut visitor = server.client();
    assert_eq!(visitor.page("/healthz").await, "ok");
    assert_eq!(visitor.page("/readyz").await, "ready");
}

/// Pages carry a Content-Security-Policy that lets only their own nonce-tagged inline scripts
/// run and forbids framing; every response carries the other security headers, and responses
/// that are not pages a policy that lets nothing run.
#[tokio::test]
async fn security_headers_on_pages_and_everything_else() {
    let database = common::fresh_database(common::Backend::Sqlite)
        .await
        .unwrap();
    let server = TestServer::start(database.url.clone()).await;
    server.setup_admin("root", "s3cret-pass").await;
    let mut visitor = server.client();

    let page = visitor.get("/login").await;
    let status = page.status();
    let headers = page.headers().clone();
    let policy = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = page.text().await.unwrap();
    assert_eq!(status, 200, "the log-in page loads: {body}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("a nonce in the page's policy: {policy}\n{body}"));
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the policy's nonce"
    );
    assert!(policy.contains("frame-ancestors 'none'"));
    assert!(!policy.contains("unsafe-inline"));

    for response in [headers, visitor.get("/healthz").await.headers().clone()] {
        assert_eq!(response["x-frame-options"], "DENY");
        assert_eq!(response["x-content-type-options"], "nosniff");
        assert_eq!(response["referrer-policy"], "same-origin");
    }
    let probe = visitor.get("/healthz").await;
    let locked = probe.headers()["content-security-policy"].to_str().unwrap();
    assert!(locked.starts_with("default-src 'none'"), "{locked}");
}
