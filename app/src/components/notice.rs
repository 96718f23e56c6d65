//! Success and error notices carried in a redirect's query string as codes (`?notice=…`,
//! `?error=…`). Codes, not text, so a crafted link cannot put arbitrary words on our page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the user reads for each code a form handler may redirect with.
fn text_for(code: &str) -> &'static str {
    match code {
        "invalid_credentials" => "Wrong username or password.",
        "rate_limited" => "Too many attempts. Wait a minute and try again.",
        "invalid_username" => "Usernames are 1 to 32 letters, digits, dots, dashes or underscores.",
        "weak_password" => "Passwords need at least 8 characters.",
        "password_mismatch" => "The two passwords differ.",
        "username_taken" => "That username is taken.",
        "cannot_change_self" => "You cannot remove your own admin role or disable yourself.",
        "not_found" => "No such user.",
        "signup_closed" => "Sign-up is closed; ask an admin for an account.",
        "user_created" => "User created.",
        "roles_updated" => "Roles updated.",
        "password_reset" => "Password reset.",
        "user_disabled" => "User disabled; their sessions have ended.",
        "user_enabled" => "User enabled.",
        "invalid_title" => "Room titles are 1 to 80 characters.",
        "room_not_found" => "No such room.",
        "room_created" => "Room created.",
        "room_renamed" => "Room renamed.",
        "room_updated" => "Room updated.",
        "room_deleted" => "Room deleted.",
        _ => "Something went wrong.",
    }
}

/// Shows the `notice` and `error` codes of the current URL, if any.
#[component]
pub fn Notices() -> impl IntoView {
    let query = use_query_map();
    view! {
        {move || {
            query
                .read()
                .get("error")
                .map(|code| {
                    view! {
                        <p class="notice error" role="alert" data-testid="error">
                            {text_for(&code)}
                        </p>
                    }
                })
        }}
        {move || {
            query
                .read()
                .get("notice")
                .map(|code| {
                    view! {
                        <p class="notice ok" role="status" data-testid="notice">
                            {text_for(&code)}
                        </p>
                    }
                })
        }}
    }
}
