//! The username and twice-typed password of a new account (set-up and sign-up pages).

use leptos::prelude::*;
use protocol::{MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS};

#[component]
pub fn NewAccountFields(username_label: &'static str) -> impl IntoView {
    view! {
        <label>
            {username_label} <input
                name="username"
                autocomplete="username"
                maxlength=MAX_USERNAME_CHARS.to_string()
                required
                autofocus
            />
        </label>
        <label>
            "Password"
            <input type="password" name="password" autocomplete="new-password" minlength=MIN_PASSWORD_CHARS.to_string() required />
        </label>
        <label>
            "Repeat password"
            <input
                type="password"
                name="password_confirm"
                autocomplete="new-password"
                minlength=MIN_PASSWORD_CHARS.to_string()
                required
            />
        </label>
    }
}
