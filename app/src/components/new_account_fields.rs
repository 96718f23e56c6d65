//! The username and twice-typed password of a new account (set-up and sign-up pages).

use leptos::prelude::*;

#[component]
pub fn NewAccountFields(username_label: &'static str) -> impl IntoView {
    view! {
        <label>
            {username_label} <input name="username" autocomplete="username" required autofocus />
        </label>
        <label>
            "Password"
            <input type="password" name="password" autocomplete="new-password" minlength="8" required />
        </label>
        <label>
            "Repeat password"
            <input
                type="password"
                name="password_confirm"
                autocomplete="new-password"
                minlength="8"
                required
            />
        </label>
    }
}
