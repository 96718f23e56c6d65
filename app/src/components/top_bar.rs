//! The bar across the top of every signed-in page: brand, who is signed in, admin link, log-out.

use crate::api::get_viewer;
use leptos::prelude::*;

#[component]
pub fn TopBar() -> impl IntoView {
    let viewer = Resource::new(|| (), |_| get_viewer());
    view! {
        <header class="top-bar">
            <a class="brand" href="/">
                "Whisper"
            </a>
            <Suspense>
                {move || Suspend::new(async move {
                    let user = viewer.await.ok().and_then(|viewer| viewer.user);
                    user.map(|user| {
                        view! {
                            <nav class="top-nav">
                                {user
                                    .is_admin
                                    .then(|| {
                                        view! {
                                            <a href="/admin/users" data-testid="admin-link">
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
                            </nav>
                        }
                    })
                })}
            </Suspense>
        </header>
    }
}
