//! What the room pane shows besides a room: browsing rooms to join, creating a room, starting
//! a direct conversation, and the open room's members with its managers' settings. Each takes
//! the keyboard when it opens and closes with Escape.

use super::handle::{Chat, Panel};
use super::presence_dot::PresenceDot;
use super::state::ChatState;
use crate::components::keyed_list::KeyedList;
use crate::components::show_if::ShowIf;
use leptos::html;
use leptos::prelude::*;
use protocol::{MAX_DIRECT_MEMBERS, MAX_TITLE_CHARS, Member, RoomId, RoomKind, UserId};

/// The browser's confirmation dialog; the server render never asks.
pub fn confirm(question: &str) -> bool {
    window().confirm_with_message(question).unwrap_or(false)
}

/// A panel's frame: heading, close button, Escape closes it, the first field takes focus.
#[component]
fn PanelFrame(title: &'static str, testid: &'static str, children: Children) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let frame: NodeRef<html::Section> = NodeRef::new();
    // The panel takes the keyboard as it opens: its first field, or its main button.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(frame) = frame.get() {
            use wasm_bindgen::JsCast;
            // A panel with neither (browsing, a member list) takes the focus itself, so that
            // Escape and Tab start from it.
            let first = frame
                .query_selector("input, button.primary")
                .ok()
                .flatten()
                .and_then(|first| first.dyn_into::<web_sys::HtmlElement>().ok());
            let _ = match first {
                Some(first) => first.focus(),
                None => frame.focus(),
            };
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = frame;
    });
    view! {
        <section
            class="panel card"
            tabindex="-1"
            node_ref=frame
            aria-labelledby=format!("{testid}-heading")
            data-testid=testid
            on:keydown=move |event| {
                if event.key() == "Escape" {
                    chat.show(Panel::None);
                }
            }
        >
            <header class="panel-head">
                <h2 id=format!("{testid}-heading")>{title}</h2>
                <button class="link-button" aria-label="Close" on:click=move |_| chat.show(Panel::None)>
                    "×"
                </button>
            </header>
            {children()}
        </section>
    }
    .into_any()
}

/// Rooms the user may join, with a join button each.
#[component]
pub fn BrowseRooms() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let rooms = Memo::new(move |_| chat.state.with(ChatState::joinable_rooms));
    let staff = move || {
        chat.state
            .with(|s| s.me.as_ref().is_some_and(|me| me.is_staff))
    };
    view! {
        <PanelFrame title="Browse rooms" testid="browse">
            <ShowIf
                when=move || rooms.with(|r| !r.is_empty())
                fallback=|| view! { <p class="aside" data-testid="browse-empty">"You are in every room there is to join."</p> }
            >
                <ul class="browse-list">
                    <KeyedList each=move || rooms.get() key=|room| room.id let:room>
                        <li>
                            <span class="room-title">{room.title.clone()}</span>
                            {(room.kind == RoomKind::StaffOnly).then(|| view! { <span class="badge staff">"staff"</span> })}
                            <ShowIf
                                when=move || room.kind != RoomKind::StaffOnly || staff()
                                fallback=|| view! { <span class="aside">"Staff only"</span> }
                            >
                                <button class="small" data-testid="browse-join" on:click=move |_| chat.open_room(room.id)>
                                    "Join"
                                </button>
                            </ShowIf>
                        </li>
                    </KeyedList>
                </ul>
            </ShowIf>
        </PanelFrame>
    }
    .into_any()
}

/// Searches users by name and lets the user pick some (at most `limit`), shown as chips.
#[component]
fn UserPicker(
    picked: RwSignal<Vec<Member>>,
    limit: usize,
    label: &'static str,
    /// A room whose members are not offered (they are in it already).
    #[prop(optional)]
    members_of: Option<RoomId>,
) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let me = move || state.with(|s| s.me.as_ref().map(|me| me.id));
    // Every keystroke waits a moment; only the last query of a burst is asked.
    let generation = StoredValue::new(0u64);
    let search = move |query: String| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        set_timeout(
            move || {
                if generation.try_get_value() == Some(mine) {
                    chat.act(|s| Some(s.find_users(&query)));
                }
            },
            std::time::Duration::from_millis(200),
        );
    };
    Effect::new(move |_| chat.act(|s| Some(s.find_users(""))));
    let found = Memo::new(move |_| {
        let me = me();
        state.with(|s| {
            let inside = |user: &Member| {
                members_of
                    .and_then(|room| s.joined.get(&room))
                    .is_some_and(|room| room.members.iter().any(|m| m.id == user.id))
            };
            s.found_users
                .clone()
                .unwrap_or_default()
                .into_iter()
                .filter(|user| Some(user.id) != me && !inside(user))
                .collect::<Vec<_>>()
        })
    });
    let toggle = move |user: Member| {
        picked.update(|picked| {
            if let Some(at) = picked.iter().position(|p| p.id == user.id) {
                picked.remove(at);
            } else if picked.len() < limit {
                picked.push(user);
            }
        })
    };
    view! {
        <div class="picker">
            <label>
                {label}
                <input
                    type="search"
                    autocomplete="off"
                    placeholder="Search by name"
                    data-testid="user-search"
                    on:input=move |event| search(event_target_value(&event))
                    // Enter picks nothing and must not submit the form around the picker.
                    on:keydown=move |event| {
                        if event.key() == "Enter" {
                            event.prevent_default();
                        }
                    }
                />
            </label>
            <ul class="chips" aria-label="Picked">
                <KeyedList each=move || picked.get() key=|user| user.id let:user>
                    <li class="chip">
                        {user.username.clone()}
                        <button
                            type="button"
                            class="link-button"
                            aria-label=format!("Remove {}", user.username)
                            on:click={
                                let user = user.clone();
                                move |_| toggle(user.clone())
                            }
                        >
                            "×"
                        </button>
                    </li>
                </KeyedList>
            </ul>
            <ul class="found" data-testid="user-results">
                <KeyedList each=move || found.get() key=|user| user.id let:user>
                    {
                        let id = user.id;
                        let name = user.username.clone();
                        let label = name.clone();
                        let online = Signal::derive(move || state.with(|s| s.found_online.contains(&id)));
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="found-user"
                                    aria-pressed=move || picked.with(|p| p.iter().any(|u| u.id == id)).to_string()
                                    data-testid="user-result"
                                    data-name=name
                                    on:click=move |_| toggle(user.clone())
                                >
                                    <PresenceDot online />
                                    {label}
                                </button>
                            </li>
                        }
                    }
                </KeyedList>
            </ul>
            <ShowIf when=move || state.with(|s| s.found_users.as_ref().is_some_and(Vec::is_empty))>
                <p class="aside">"Nobody by that name."</p>
            </ShowIf>
        </div>
    }
    .into_any()
}

/// The form creating a room: title, kind, first members.
#[component]
pub fn NewRoom() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let title: NodeRef<html::Input> = NodeRef::new();
    let closed = RwSignal::new(false);
    let picked = RwSignal::new(Vec::<Member>::new());
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(field) = title.get() else { return };
        let kind = if closed.get() {
            RoomKind::Closed
        } else {
            RoomKind::Open
        };
        let members: Vec<UserId> = picked.get().iter().map(|m| m.id).collect();
        let text = field.value();
        chat.act(|s| Some(s.create_room(&text, kind, members)));
        chat.show(Panel::None);
    };
    view! {
        <PanelFrame title="New room" testid="new-room-panel">
            <form class="stack" on:submit=submit>
                <label>
                    "Title"
                    <input node_ref=title name="title" required maxlength=MAX_TITLE_CHARS.to_string() autocomplete="off" data-testid="new-room-title" />
                </label>
                <fieldset class="kinds">
                    <legend>"Who can see it"</legend>
                    <label class="check">
                        <input type="radio" name="kind" checked=move || !closed.get() on:change=move |_| closed.set(false) />
                        "Open — anyone can find and join it"
                    </label>
                    <label class="check">
                        <input type="radio" name="kind" data-testid="kind-closed" checked=move || closed.get() on:change=move |_| closed.set(true) />
                        "Closed — only the people you add"
                    </label>
                </fieldset>
                <UserPicker picked limit=protocol::MAX_ADDED_MEMBERS label="Add people" />
                <button type="submit" class="primary" data-testid="create-room">"Create room"</button>
            </form>
        </PanelFrame>
    }
    .into_any()
}

/// The user picker starting a direct conversation.
#[component]
pub fn NewMessage() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let picked = RwSignal::new(Vec::<Member>::new());
    let start = move |_| {
        let with: Vec<UserId> = picked.get().iter().map(|m| m.id).collect();
        chat.message(with);
    };
    view! {
        <PanelFrame title="New message" testid="new-message-panel">
            <UserPicker picked limit=MAX_DIRECT_MEMBERS - 1 label="To" />
            <p class="aside">"Pick no one for notes to yourself."</p>
            <button class="primary" data-testid="start-direct" on:click=start>
                "Start conversation"
            </button>
        </PanelFrame>
    }
    .into_any()
}

/// The open room's members — a name opens a direct conversation — and, for its managers,
/// renaming, switching between open and closed, adding and removing people, deleting it.
#[component]
pub fn Members(id: RoomId) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let members = Memo::new(move |_| {
        state.with(|s| {
            s.joined
                .get(&id)
                .map(|room| room.members.clone())
                .unwrap_or_default()
        })
    });
    let me = move || state.with(|s| s.me.as_ref().map(|me| me.id));
    let manages = Memo::new(move |_| state.with(|s| s.manages(id)));
    let kind = Memo::new(move |_| state.with(|s| s.room(id).map(|room| room.kind)));
    let remove = move |member: Member| {
        let title = state.with_untracked(|s| s.display_title(id));
        if confirm(&format!("Remove {} from {title}?", member.username)) {
            chat.act(|s| Some(s.remove_member(id, member.id)));
        }
    };
    view! {
        <PanelFrame title="Members" testid="members-panel">
            <ul class="member-list" data-testid="member-list">
                <KeyedList each=move || members.get() key=|member| member.id let:member>
                    {
                        let mine = me() == Some(member.id);
                        let name = member.username.clone();
                        let target = member.clone();
                        let who = member.id;
                        let online = Signal::derive(move || mine || state.with(|s| s.online.contains(&who)));
                        view! {
                            <li data-testid="member" data-name=name.clone()>
                                <PresenceDot online />
                                <span class="member-name">{name.clone()} {mine.then_some(" (you)")}</span>
                                {(!mine).then(|| view! {
                                    <button class="small" data-testid="message-member" on:click=move |_| chat.message(vec![member.id])>
                                        "Message"
                                    </button>
                                })}
                                <ShowIf when=move || manages.get() && !mine>
                                    {
                                        let target = target.clone();
                                        view! {
                                            <button class="small danger" data-testid="remove-member" on:click=move |_| remove(target.clone())>
                                                "Remove"
                                            </button>
                                        }
                                    }
                                </ShowIf>
                            </li>
                        }
                    }
                </KeyedList>
            </ul>
            <ShowIf when=move || manages.get()>
                <Manage id kind />
            </ShowIf>
        </PanelFrame>
    }
    .into_any()
}

/// A room's settings, for its managers.
#[component]
fn Manage(id: RoomId, kind: Memo<Option<RoomKind>>) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let title: NodeRef<html::Input> = NodeRef::new();
    let picked = RwSignal::new(Vec::<Member>::new());
    let current = state.with_untracked(|s| {
        s.room(id)
            .map(|room| room.title.clone())
            .unwrap_or_default()
    });
    let rename = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(field) = title.get() {
            let text = field.value();
            chat.act(|s| Some(s.rename_room(id, &text)));
        }
    };
    let add = move |_| {
        let users: Vec<UserId> = picked.get().iter().map(|m| m.id).collect();
        if !users.is_empty() {
            chat.act(|s| Some(s.add_members(id, users)));
            picked.set(Vec::new());
        }
    };
    let switch = move |_| {
        let opening = kind.get() == Some(RoomKind::Closed);
        // Opening a closed room shows its whole history to everyone: asked first.
        let question =
            "Make this room open? Everyone will be able to find it, join it and read its history.";
        if opening && !confirm(question) {
            return;
        }
        let to = if opening {
            RoomKind::Open
        } else {
            RoomKind::Closed
        };
        chat.act(|s| Some(s.set_room_kind(id, to)));
    };
    let delete = move |_| {
        let title = state.with_untracked(|s| s.display_title(id));
        if confirm(&format!(
            "Delete {title} and all its messages for everyone? This cannot be undone."
        )) {
            chat.act(|s| Some(s.delete_room(id)));
            chat.show(Panel::None);
        }
    };
    view! {
        <div class="manage" data-testid="manage">
            <h3>"Manage"</h3>
            <form class="inline-form" on:submit=rename>
                <label>
                    "Title"
                    <input node_ref=title value=current maxlength=MAX_TITLE_CHARS.to_string() required data-testid="rename-field" />
                </label>
                <button type="submit" class="small">"Rename"</button>
            </form>
            <ShowIf when=move || matches!(kind.get(), Some(RoomKind::Open | RoomKind::Closed))>
                <button class="small" data-testid="switch-kind" on:click=switch>
                    {move || if kind.get() == Some(RoomKind::Closed) {
                        "Make open (anyone can join)"
                    } else {
                        "Make closed (members only)"
                    }}
                </button>
            </ShowIf>
            <UserPicker picked limit=protocol::MAX_ADDED_MEMBERS label="Add people" members_of=id />
            <button class="small" data-testid="add-members" on:click=add>"Add"</button>
            <button class="small danger" data-testid="delete-room" on:click=delete>"Delete room"</button>
        </div>
    }
    .into_any()
}
