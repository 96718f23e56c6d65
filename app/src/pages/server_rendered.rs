//! What the WASM's router shows for a page only the server renders (log-in, sign-up, set-up,
//! the admin pages): that page, loaded from the server. Links to them leave the router alone
//! (`rel="external"`), so this is for any other way in, such as a link in a message.

use leptos::prelude::*;

#[component]
pub fn ServerRendered() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    load_from_server();
    view! {
        <main class="centered">
            <p class="loading">"Loading…"</p>
        </main>
    }
}

/// Loads the router's address from the server, in the history entry the router made for it.
#[cfg(feature = "hydrate")]
fn load_from_server() {
    // Never while hydrating: the server sends these pages without the bundle, so a page being
    // hydrated here is one the server and this build disagree about, and loading it again
    // would only repeat that.
    if Owner::current_shared_context().is_some_and(|shared| shared.during_hydration()) {
        return;
    }
    // The router's address, not the location bar's, which the router updates (pushing a
    // history entry) only once the page is drawn: hence a turn later, in that entry. Reloaded
    // when the bar shows it already: going to the same address with a `#fragment` would only
    // scroll.
    let location = leptos_router::hooks::use_location();
    let search = location.search.get_untracked();
    let href = format!(
        "{}{}{search}{}",
        location.pathname.get_untracked(),
        if search.is_empty() { "" } else { "?" },
        location.hash.get_untracked(),
    );
    set_timeout(
        move || {
            let bar = window().location();
            let wanted = bar.origin().map(|origin| origin + &href);
            let _ = if bar.href().ok() == wanted.ok() {
                bar.reload()
            } else {
                bar.replace(&href)
            };
        },
        std::time::Duration::ZERO,
    );
}
