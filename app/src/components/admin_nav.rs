//! Tabs between the admin pages.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn AdminNav() -> impl IntoView {
    let location = use_location();
    let current = move |path: &'static str| location.pathname.with(|p| p == path);
    view! {
        <nav class="tabs" aria-label="Admin sections">
            <a href="/admin/users" class:current=move || current("/admin/users")>
                "Users"
            </a>
            <a href="/admin/rooms" class:current=move || current("/admin/rooms")>
                "Rooms"
            </a>
        </nav>
    }
}
