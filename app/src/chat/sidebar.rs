//! The sidebar: the user's rooms, then the open rooms they may join, then their direct
//! conversations by last activity. On a phone it is a drawer over the room pane.

use super::handle::{Chat, Panel};
use super::presence_dot::PresenceDot;
use super::reading::Counts;
use super::state::{ChatState, Connection};
use crate::components::keyed_list::KeyedList;
use crate::components::show_if::ShowIf;
use leptos::prelude::*;
use protocol::{RoomId, RoomInfo, RoomKind};

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
pub fn Sidebar() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    // The user's rooms first, then the ones they may join.
    let listed = Memo::new(move |_| {
        state.with(|s| {
            let mut rooms = s.my_rooms();
            rooms.extend(s.joinable_rooms());
            rooms
        })
    });
    let direct = Memo::new(move |_| state.with(ChatState::direct_rooms));
    let online = move || state.with(|s| s.connection == Connection::Online);
    let may_create = move || state.with(|s| s.may_create_rooms);
    let no_rooms = move || {
        if !online() {
            view! { <p class="aside">"Loading rooms…"</p> }.into_any()
        } else if may_create() {
            view! {
                <p class="aside" data-testid="no-rooms">
                    "No rooms yet. "
                    <button class="link-button" on:click=move |_| chat.show(Panel::NewRoom)>
                        "Create one"
                    </button>
                </p>
            }
            .into_any()
        } else {
            view! {
                <p class="aside" data-testid="no-rooms">"No rooms yet. An admin can create some."</p>
            }
            .into_any()
        }
    };
    let any_room = move || listed.with(|rooms| !rooms.is_empty());
    // The drawer, once open on a phone, takes the keyboard; Escape gives it back to the
    // button that opened it.
    Effect::new(move |was_open: Option<bool>| {
        let open = chat.drawer.get();
        if was_open.is_some() && was_open != Some(open) {
            let target = if open {
                "#sidebar button"
            } else {
                "[data-testid=menu]"
            };
            focus_first(target);
        }
        open
    });
    view! {
        <aside
            class="sidebar"
            id="sidebar"
            class:open=move || chat.drawer.get()
            aria-label="Conversations"
            on:keydown=move |event| {
                if event.key() == "Escape" && chat.drawer.get_untracked() {
                    chat.drawer.set(false);
                }
            }
        >
            <div class="sidebar-head">
                <h2>"Whisper"</h2>
                <ConnectionPill state />
            </div>
            <noscript>
                <p class="notice error">"Chat needs JavaScript."</p>
            </noscript>
            <section class="sidebar-section" aria-labelledby="rooms-heading">
                <div class="section-head">
                    <h3 id="rooms-heading">"Rooms"</h3>
                    <ShowIf when=may_create>
                        <button
                            class="icon-button"
                            aria-label="New room"
                            title="New room"
                            data-testid="new-room"
                            on:click=move |_| chat.show(Panel::NewRoom)
                        >
                            "+"
                        </button>
                    </ShowIf>
                </div>
                <ShowIf when=any_room fallback=no_rooms>
                    <ul class="room-list" data-testid="room-list">
                        <KeyedList each=move || listed.get() key=|room| (room.id, room.title.clone(), room.kind) let:room>
                            <RoomItem room />
                        </KeyedList>
                    </ul>
                </ShowIf>
                <button class="link-button browse" data-testid="browse-rooms" on:click=move |_| chat.show(Panel::Browse)>
                    "Browse rooms"
                </button>
            </section>
            <section class="sidebar-section" aria-labelledby="direct-heading">
                <div class="section-head">
                    <h3 id="direct-heading">"Direct messages"</h3>
                    <button
                        class="icon-button"
                        aria-label="New message"
                        title="New message"
                        data-testid="new-message"
                        on:click=move |_| chat.show(Panel::NewMessage)
                    >
                        "+"
                    </button>
                </div>
                <ShowIf
                    when=move || direct.with(|d| !d.is_empty())
                    fallback=|| view! {
                        <p class="aside" data-testid="no-direct">
                            "No direct messages yet — start one from someone's name."
                        </p>
                    }
                >
                    <ul class="room-list" data-testid="direct-list">
                        <KeyedList each=move || direct.get() key=|id| *id let:id>
                            <DirectItem id />
                        </KeyedList>
                    </ul>
                </ShowIf>
            </section>
        </aside>
        <div class="drawer-scrim" class:open=move || chat.drawer.get() on:click=move |_| chat.drawer.set(false)></div>
    }
    .into_any()
}

/// Moves the keyboard to the first element matching `selector`, if any, once the page has
/// drawn the change that showed it.
fn focus_first(selector: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Ok(Some(found)) = document().query_selector(selector)
            && let Ok(found) = found.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = found.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
}

/// A room's unread badge, and its mention badge (`@3`) when some of them mention the user.
fn unread(state: RwSignal<ChatState>, id: RoomId) -> impl IntoView {
    let counts = Memo::new(move |_| state.with(|s| s.counts(id)));
    move || {
        let Counts { unread, mentions } = counts.get();
        let label = match (unread, mentions) {
            (0, _) => return None,
            (1, 0) => "1 unread message".to_owned(),
            (n, 0) => format!("{n} unread messages"),
            (n, m) => format!("{n} unread, {m} mentioning you"),
        };
        let title = label.clone();
        Some(view! {
            <span class="counts" title=title>
                <span class="sr-only">{label}</span>
                {(mentions > 0).then(|| view! {
                    <span class="mentions" data-testid="mentions" aria-hidden="true">
                        {format!("@{mentions}")}
                    </span>
                })}
                <span class="unread" data-testid="unread" aria-hidden="true">{unread}</span>
            </span>
        })
    }
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
    let badge = match room.kind {
        RoomKind::StaffOnly => Some(view! { <span class="badge staff">"staff"</span> }.into_any()),
        RoomKind::Closed => Some(view! { <span class="badge closed">"closed"</span> }.into_any()),
        RoomKind::Open | RoomKind::Direct => None,
    };
    view! {
        <li>
            <button
                class="room"
                class:joined=joined
                class:active=active
                aria-current=move || active().then_some("true")
                data-testid="room"
                data-title=room.title.clone()
                data-room-id=id.to_string()
                on:click=move |_| chat.open_room(id)
            >
                <span class="room-title">{room.title.clone()}</span>
                {badge}
                {unread(state, id)}
                <span class="joined-mark" title="Joined">
                    {move || if joined() { "●" } else { "" }}
                </span>
            </button>
        </li>
    }
    .into_any()
}

#[component]
fn DirectItem(id: RoomId) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let title = Memo::new(move |_| state.with(|s| s.display_title(id)));
    let active = move || state.with(|s| s.active == Some(id));
    // Whether anyone else in it is online; notes to self have nobody else.
    let others = Memo::new(move |_| {
        state.with(|s| {
            let me = s.me.as_ref().map(|me| me.id);
            let members = s
                .joined
                .get(&id)
                .map(|room| room.members.clone())
                .unwrap_or_default();
            let others: Vec<_> = members.into_iter().filter(|m| Some(m.id) != me).collect();
            (!others.is_empty()).then(|| others.iter().any(|m| s.online.contains(&m.id)))
        })
    });
    view! {
        <li>
            <button
                class="room joined direct"
                class:active=active
                aria-current=move || active().then_some("true")
                data-testid="direct"
                data-title=move || title.get()
                on:click=move |_| chat.open_room(id)
            >
                {move || others.get().map(|online| view! { <PresenceDot online /> })}
                <span class="room-title">{move || title.get()}</span>
                {unread(state, id)}
            </button>
        </li>
    }
    .into_any()
}
