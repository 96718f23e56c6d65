use crate::chat::view::ChatPage;
use crate::components::top_bar::TopBar;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use protocol::RoomId;

/// A permalink, `/r/{room}/{seq}`: the chat, opened at that message. An address that names no
/// message (not numbers) opens the chat as it is.
#[component]
pub fn PermalinkPage() -> impl IntoView {
    let params = use_params_map();
    let target = params.with_untracked(|params| {
        let room = params.get("room")?.parse().ok()?;
        let seq = params.get("seq")?.parse().ok()?;
        Some((RoomId(room), seq))
    });
    view! {
        <div class="app-shell">
            <TopBar />
            <ChatPage open_message=target />
        </div>
    }
}
