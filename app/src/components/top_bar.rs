//! The bar across the top of every signed-in page: brand, who is signed in, admin link, log-out
//! (here, or on every device).

use crate::viewer::ViewerResource;
use leptos::prelude::*;

#[component]
pub fn TopBar() -> impl IntoView {
    let viewer = use_context::<ViewerResource>();
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                "Whisper"
            </a>
            <Suspense>
                {move || Suspend::new(async move {
                    let user = match viewer {
                        Some(ViewerResource(viewer)) => viewer.await.ok().and_then(|v| v.user),
                        None => None,
                    };
                    user.map(|user| {
                        view! {
                            <nav class="top-nav">
                                {user
                                    .is_admin
                                    .then(|| {
                                        view! {
                                            // A page the server renders alone: a full load,
                                            // not the WASM's router.
                                            <a href="/admin/users" rel="external" data-testid="admin-link">
                                                "Admin"
                                            </a>
                                        }
                                    })}
                                <span class="who" data-testid="signed-in-as">
                                    {user.username}
                                </span>
                                <form method="post" action="/auth/logout">
                                    <button type="submit" class="link-button">
                                        "Log out"
                                    </button>
                                </form>
                                // Ends every session of the account, on every device: what to
                                // do after leaving a session signed in somewhere else.
                                <form method="post" action="/auth/logout_everywhere">
                                    <button
                                        type="submit"
                                        class="link-button"
                                        title="Sign out on every device"
                                    >
                                        "Log out everywhere"
                                    </button>
                                </form>
                            </nav>
                        }
                    })
                })}
            </Suspense>
        </header>
    }
}
