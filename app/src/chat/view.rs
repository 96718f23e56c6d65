//! The chat page: the room list on the left, the open room on the right.

use super::handle::Chat;
use super::open_room::OpenRoom;
use super::state::{ChatState, Connection};
use crate::viewer::ViewerResource;
use leptos::prelude::*;
use protocol::RoomInfo;

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

#[component]
pub fn ChatPage() -> impl IntoView {
    let state = RwSignal::new(ChatState::new(page_nonce()));
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
    view! {
        <div class="chat">
            <RoomList />
            <RoomPane />
        </div>
    }
}

#[component]
fn ConnectionPill(state: RwSignal<ChatState>) -> impl IntoView {
    let connection = Memo::new(move |_| state.with(|s| s.connection));
    view! {
        <span
            class="pill"
            class:online=move || connection.get() == Connection::Online
            data-testid="connection"
        >
            {move || match connection.get() {
                Connection::Connecting => "Connecting…",
                Connection::Online => "Online",
                Connection::Reconnecting => "Reconnecting…",
            }}
        </span>
    }
}

#[component]
fn RoomList() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let rooms = Memo::new(move |_| state.with(|s| s.rooms.clone()));
    let empty = move || {
        let (online, admin) = state.with(|s| {
            (
                s.connection == Connection::Online,
                s.me.as_ref().is_some_and(|me| me.is_admin),
            )
        });
        if !online {
            view! { <p class="aside">"Loading rooms…"</p> }.into_any()
        } else if admin {
            view! {
                <p class="aside" data-testid="no-rooms">
                    "No rooms yet. " <a href="/admin/rooms">"Create one"</a>
                </p>
            }
            .into_any()
        } else {
            view! {
                <p class="aside" data-testid="no-rooms">
                    "No rooms yet. An admin can create some."
                </p>
            }
            .into_any()
        }
    };
    view! {
        <aside class="sidebar">
            <div class="sidebar-head">
                <h2>"Rooms"</h2>
                <ConnectionPill state />
            </div>
            <noscript>
                <p class="notice error">"Chat needs JavaScript."</p>
            </noscript>
            <Show when=move || rooms.with(|rooms| !rooms.is_empty()) fallback=empty>
                <ul class="room-list" data-testid="room-list">
                    <For
                        each=move || rooms.get()
                        key=|room| (room.id, room.title.clone(), room.staff_only)
                        let:room
                    >
                        <RoomItem room />
                    </For>
                </ul>
            </Show>
        </aside>
    }
    .into_any()
}

#[component]
fn RoomItem(room: RoomInfo) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let id = room.id;
    let joined = move || state.with(|s| s.joined.contains_key(&id));
    let active = move || state.with(|s| s.active == Some(id));
    let unread = move || state.with(|s| s.joined.get(&id).map_or(0, |room| room.unread));
    view! {
        <li>
            <button
                class="room"
                class:joined=joined
                class:active=active
                data-testid="room"
                data-title=room.title.clone()
                on:click=move |_| chat.act(|s| s.open(id))
            >
                <span class="room-title">{room.title.clone()}</span>
                {room.staff_only.then(|| view! { <span class="badge staff">"staff"</span> })}
                {move || {
                    let count = unread();
                    (count > 0)
                        .then(|| view! { <span class="unread" data-testid="unread">{count}</span> })
                }}
                <span class="joined-mark" title="Joined">
                    {move || if joined() { "●" } else { "" }}
                </span>
            </button>
        </li>
    }
    .into_any()
}

#[component]
fn RoomPane() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let active = Memo::new(move |_| state.with(|s| s.active));
    let alert = Memo::new(move |_| state.with(|s| s.alert.clone()));
    view! {
        <section class="room-pane">
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
            {move || match active.get() {
                Some(id) => view! { <OpenRoom id /> }.into_any(),
                None => view! { <Welcome /> }.into_any(),
            }}
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
            <p class="aside">"Pick a room on the left to join it. Your rooms stay joined across tabs and devices."</p>
        </div>
    }
    .into_any()
}
