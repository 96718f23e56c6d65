use crate::components::new_account_fields::NewAccountFields;
use crate::components::notice::Notices;
use leptos::prelude::*;

/// First run only: creates the first admin. The server serves this page only while no account
/// exists; afterwards `/setup` is a 404.
#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <main class="centered">
            <form class="card auth-card" method="post" action="/auth/setup" data-testid="setup-form">
                <h1>"Welcome to Whisper"</h1>
                <p class="aside">
                    "No accounts exist yet. Create the first administrator; this page disappears afterwards."
                </p>
                <Notices />
                <NewAccountFields username_label="Admin username" />

                <button type="submit">"Create admin and sign in"</button>
            </form>
        </main>
    }
}
