use crate::components::new_account_fields::NewAccountFields;
use crate::components::notice::Notices;
use crate::viewer::ViewerResource;
use leptos::prelude::*;

/// Self-service account creation, offered only when the server runs with open sign-up.
#[component]
pub fn SignupPage() -> impl IntoView {
    let viewer = use_context::<ViewerResource>();
    view! {
        <main class="centered">
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let open = match viewer {
                        Some(ViewerResource(viewer)) => {
                            viewer.await.is_ok_and(|viewer| viewer.open_signup)
                        }
                        None => false,
                    };
                    if open {
                        view! {
                            <form class="card auth-card" method="post" action="/auth/signup">
                                <h1>"Create your Whisper account"</h1>
                                <Notices />
                                <NewAccountFields username_label="Username" />

                                <button type="submit">"Sign up"</button>
                                <p class="aside">
                                    "Have an account? " <a href="/login">"Sign in"</a>
                                </p>
                            </form>
                        }
                            .into_any()
                    } else {
                        view! {
                            <div class="card auth-card">
                                <h1>"Sign-up is closed"</h1>
                                <p>"Ask an administrator for an account."</p>
                                <p>
                                    <a href="/login">"Sign in"</a>
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                })}
            </Suspense>
        </main>
    }
}
