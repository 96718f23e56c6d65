//! The search field above the pane: a query, an optional room from a menu, Enter to search.
//! `/` (outside a text field) or Ctrl+K (Cmd+K) anywhere focuses it; Escape in it closes the
//! results and returns to the open room.

use super::handle::{Chat, Panel};
use crate::components::keyed_list::KeyedList;
use leptos::html;
use leptos::prelude::*;
use protocol::{MAX_SEARCH_CHARS, RoomId};

/// Whether a key press should focus the search field: `/` typed outside any text field, or
/// Ctrl+K / Cmd+K anywhere.
#[cfg(feature = "hydrate")]
fn wants_search(event: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    if (event.ctrl_key() || event.meta_key()) && event.key().eq_ignore_ascii_case("k") {
        return true;
    }
    if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return false;
    }
    let typing = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || element.has_attribute("contenteditable")
        });
    !typing
}

/// Gives the keyboard back to the open room's composer (if a room is open), as Escape from
/// the search leaves it: once the room is shown again, in the next frame.
pub fn back_to_the_room() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let composer = document()
            .query_selector("[data-testid=composer]")
            .ok()
            .flatten()
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        match composer {
            Some(composer) => {
                let _ = composer.focus();
            }
            None => {
                if let Some(active) = document()
                    .active_element()
                    .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = active.blur();
                }
            }
        }
    });
}

#[component]
pub fn SearchBox() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let field: NodeRef<html::Input> = NodeRef::new();
    let room = RwSignal::new(None::<RoomId>);
    #[cfg(feature = "hydrate")]
    {
        let keys = window_event_listener(leptos::ev::keydown, move |event| {
            if wants_search(&event)
                && let Some(field) = field.get_untracked()
            {
                event.prevent_default();
                let _ = field.focus();
                field.select();
            }
        });
        on_cleanup(move || keys.remove());
    }
    // The rooms to search in: the user's, by the sidebar's names.
    let rooms = Memo::new(move |_| {
        state.with(|s| {
            let mut rooms: Vec<(RoomId, String)> = s
                .joined
                .keys()
                .map(|id| (*id, s.display_title(*id)))
                .collect();
            rooms.sort_by_key(|(_, title)| title.to_lowercase());
            rooms
        })
    });
    // A room the user left is no longer one to search in.
    Effect::new(move |_| {
        if let Some(chosen) = room.get()
            && !rooms.with(|rooms| rooms.iter().any(|(id, _)| *id == chosen))
        {
            room.set(None);
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(field) = field.get_untracked() else {
            return;
        };
        let query = field.value();
        chat.show(Panel::None);
        chat.act(|s| s.search_messages(&query, room.get_untracked()));
    };
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            state.update(|s| s.close_search());
            back_to_the_room();
        }
    };
    view! {
        <form class="search-box" role="search" on:submit=submit data-testid="search-form">
            <input
                node_ref=field
                type="search"
                name="q"
                aria-label="Search messages"
                placeholder="Search messages  ( / )"
                maxlength=MAX_SEARCH_CHARS.to_string()
                autocomplete="off"
                data-testid="search-field"
                on:keydown=on_keydown
            />
            <select
                aria-label="Search in"
                data-testid="search-room"
                // Again after the options are drawn anew (a room renamed), so the menu keeps
                // showing the room searches are in.
                prop:value=move || {
                    rooms.track();
                    room.get().map(|id| id.to_string()).unwrap_or_default()
                }
                on:change=move |event| {
                    room.set(event_target_value(&event).parse().ok().map(RoomId));
                }
            >
                <option value="">"All rooms"</option>
                <KeyedList each=move || rooms.get() key=|(id, title)| (*id, title.clone()) let:entry>
                    <option value=entry.0.0.to_string()>{entry.1}</option>
                </KeyedList>
            </select>
            <button type="submit" class="small">"Search"</button>
        </form>
    }
    .into_any()
}
