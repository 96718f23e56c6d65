//! What the WASM's router shows for a page only the server renders (log-in, sign-up, set-up,
//! the admin pages): that page, loaded from the server. Links to them leave the router alone
//! (`rel="external"`), so this is for any other way in, such as a link in a message.

use leptos::prelude::*;

#[component]
pub fn ServerRendered() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        // The router's address, not the location bar's: the router updates the bar only once
        // the page is drawn. Never while hydrating: the server sends these pages without the
        // bundle, so a page being hydrated here is one the server and this build disagree
        // about, and loading it again would only repeat that.
        let hydrating =
            Owner::current_shared_context().is_some_and(|shared| shared.during_hydration());
        if !hydrating {
            let location = leptos_router::hooks::use_location();
            let href = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            let _ = window().location().assign(&href);
        }
    }
    view! {
        <main class="centered">
            <p class="loading">"Loading…"</p>
        </main>
    }
}
