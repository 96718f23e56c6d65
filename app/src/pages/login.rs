use crate::components::notice::Notices;
use crate::viewer::ViewerResource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The log-in form. Where to go afterwards travels in `?next=` (set by the server's gate).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    // An attribute, not a property: the page is sent as HTML and never hydrated.
    let next = query
        .read_untracked()
        .get("next")
        .unwrap_or_else(|| "/".into());
    let viewer = use_context::<ViewerResource>();
    view! {
        <main class="centered">
            <form class="card auth-card" method="post" action="/auth/login" data-testid="login-form">
                <h1>"Sign in to Whisper"</h1>
                <Notices />
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required autofocus />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                    />
                </label>
                <input type="hidden" name="next" value=next />
                <button type="submit">"Sign in"</button>
                <Suspense>
                    {move || Suspend::new(async move {
                        let ViewerResource(viewer) = viewer?;
                        viewer
                            .await
                            .ok()
                            .filter(|viewer| viewer.open_signup)
                            .map(|_| {
                                view! {
                                    <p class="aside">
                                        "No account yet? " <a href="/signup">"Sign up"</a>
                                    </p>
                                }
                            })
                    })}
                </Suspense>
            </form>
        </main>
    }
}
