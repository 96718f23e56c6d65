use crate::chat::view::ChatPage;
use crate::components::top_bar::TopBar;
use leptos::prelude::*;

/// The signed-in landing page: the chat.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <div class="app-shell">
            <TopBar />
            <ChatPage />
        </div>
    }
}
