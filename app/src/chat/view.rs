//! The chat page: the sidebar on the left (a drawer on a phone), the open room or a panel on
//! the right.

use super::handle::{Chat, Panel};
use super::jump::JumpStatus;
use super::open_room::OpenRoom;
use super::panels::{BrowseRooms, NewMessage, NewRoom};
use super::reading::Counts;
use super::search_box::SearchBox;
use super::search_results::{MessageUnavailable, SearchResults};
use super::sidebar::Sidebar;
use super::state::ChatState;
use crate::components::show_if::ShowIf;
use crate::viewer::ViewerResource;
use leptos::prelude::*;
use leptos_meta::Title;

/// A string no other page load will make: the prefix of this page's message nonces.
fn page_nonce() -> String {
    #[cfg(feature = "hydrate")]
    {
        let random = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        format!("{:x}-{random:x}", js_sys::Date::now() as u64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// The tab's title: the unread total first, so a tab in the background shows it.
fn tab_title(total: Counts) -> String {
    match (total.unread, total.mentions) {
        (0, _) => "Whisper".to_owned(),
        (unread, 0) => format!("({unread}) Whisper"),
        (unread, mentions) => format!("({unread}, @{mentions}) Whisper"),
    }
}

/// The chat page; `open_message` (a permalink's room and seq) opens that message in its room.
#[component]
pub fn ChatPage(
    #[prop(default = None)] open_message: Option<(protocol::RoomId, i64)>,
) -> impl IntoView {
    let state = RwSignal::new(ChatState::new(page_nonce()));
    if let Some((room, seq)) = open_message {
        state.update_untracked(|state| {
            state.open_message(room, seq);
        });
    }
    let socket = StoredValue::new(None);
    let today = RwSignal::new(super::time::today());
    #[cfg(feature = "hydrate")]
    {
        use super::saved_outbox;
        if let Some(saved) = saved_outbox::load() {
            state.update_untracked(|state| state.restore(saved));
        }
        // Kept in step with the outbox (the memo skips events that leave it unchanged).
        let to_save = Memo::new(move |_| state.with(ChatState::outbox_to_save));
        Effect::new(move |_| to_save.with(|saved| saved_outbox::store(saved.as_ref())));
        let (sender, receiver) = futures_channel::mpsc::unbounded();
        socket.set_value(Some(sender));
        leptos::task::spawn_local(super::connection::run(state, receiver));
        leptos::task::spawn_local(super::time::follow_today(today));
    }
    Chat::provide(state, today, socket);
    let total = Memo::new(move |_| state.with(ChatState::total_counts));
    view! {
        <Title text=move || tab_title(total.get()) />
        <div class="chat">
            <Sidebar />
            <RoomPane />
        </div>
    }
}

#[component]
fn RoomPane() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let active = Memo::new(move |_| state.with(|s| s.active));
    let alert = Memo::new(move |_| state.with(|s| s.alert.clone()));
    let announcement = Memo::new(move |_| state.with(|s| s.announcement.clone()));
    let panel = chat.panel;
    let searching = Memo::new(move |_| state.with(|s| s.search.is_some()));
    let unavailable = Memo::new(move |_| {
        state.with(|s| {
            s.jump
                .is_some_and(|jump| jump.status == JumpStatus::Unavailable)
        })
    });
    view! {
        <section class="room-pane">
            <div class="pane-bar">
                <button
                    class="small menu-toggle"
                    aria-controls="sidebar"
                    aria-expanded=move || chat.drawer.get().to_string()
                    data-testid="menu"
                    on:click=move |_| chat.drawer.update(|open| *open = !*open)
                >
                    "☰ Conversations"
                </button>
                <SearchBox />
            </div>
            // New messages in the open room are read out politely; loaded history never is.
            <p class="sr-only" role="status" aria-live="polite" data-testid="announcer">
                {move || announcement.get()}
            </p>
            {move || {
                alert
                    .get()
                    .map(|alert| {
                        view! {
                            <div
                                class="notice"
                                class:error=alert.is_error
                                class:ok=!alert.is_error
                                role="alert"
                                data-testid="chat-alert"
                            >
                                <span>{alert.text}</span>
                                <button
                                    class="link-button dismiss"
                                    aria-label="Dismiss"
                                    on:click=move |_| state.update(ChatState::dismiss_alert)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
            <ShowIf when=move || unavailable.get()>
                <MessageUnavailable />
            </ShowIf>
            <ShowIf when=move || searching.get() && !unavailable.get()>
                <SearchResults />
            </ShowIf>
            // Covered, not taken down, while results show: the room keeps its scroll position
            // and the composer what was typed in it.
            <div class="pane-main" class:covered=move || searching.get() || unavailable.get()>
                {move || match (panel.get(), active.get()) {
                    (Panel::Browse, _) => view! { <BrowseRooms /> }.into_any(),
                    (Panel::NewRoom, _) => view! { <NewRoom /> }.into_any(),
                    (Panel::NewMessage, _) => view! { <NewMessage /> }.into_any(),
                    (_, Some(id)) => view! { <OpenRoom id /> }.into_any(),
                    (_, None) => view! { <Welcome /> }.into_any(),
                }}
            </div>
        </section>
    }
    .into_any()
}

/// What the room pane shows with no room open.
#[component]
fn Welcome() -> impl IntoView {
    let Some(ViewerResource(viewer)) = use_context::<ViewerResource>() else {
        return ().into_any();
    };
    view! {
        <div class="placeholder">
            <Suspense>
                {move || Suspend::new(async move {
                    viewer
                        .await
                        .ok()
                        .and_then(|viewer| viewer.user)
                        .map(|user| {
                            view! { <h1 data-testid="welcome">"Welcome, " {user.username} "."</h1> }
                        })
                })}
            </Suspense>
            <p class="aside">
                "Pick a room to join it, or start a direct message from someone's name. Your rooms stay joined across tabs and devices."
            </p>
        </div>
    }
    .into_any()
}
