//! The results panel of a message search, and the page shown for a message that cannot be
//! opened (a permalink to a room the user is not in, or a message that does not exist).

use super::handle::{Chat, Panel};
use super::links::{permalink, plain_click};
use super::search::SearchStatus;
use super::search_box::back_to_the_room;
use super::time::{clock, day_label, local, machine_readable};
use crate::components::keyed_list::KeyedList;
use crate::components::show_if::ShowIf;
use leptos::prelude::*;
use protocol::{Fragment, SearchHit};

#[component]
pub fn SearchResults() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let search = Memo::new(move |_| state.with(|s| s.search.clone()));
    let heading = move || {
        search.with(|search| {
            search
                .as_ref()
                .map(|search| format!("Results for “{}”", search.query))
        })
    };
    let status = move || search.with(|search| search.as_ref().map(|search| search.status.clone()));
    let close = move |_| state.update(|s| s.close_search());
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            state.update(|s| s.close_search());
            back_to_the_room();
        }
    };
    let hits = move || {
        search.with(|search| {
            search
                .as_ref()
                .map(|search| search.hits.clone())
                .unwrap_or_default()
        })
    };
    let more =
        move || search.with(|search| search.as_ref().is_some_and(|search| search.next.is_some()));
    let body = move || match status() {
        Some(SearchStatus::Failed(why)) => view! {
            <p class="notice error" role="alert" data-testid="search-error">{why}</p>
        }
        .into_any(),
        Some(SearchStatus::Loaded) if hits().is_empty() && !more() => view! {
            <p class="aside empty" role="status" data-testid="search-empty">"No messages match."</p>
        }
        .into_any(),
        // A query of short words alone reads the newest messages a stretch at a time.
        Some(SearchStatus::Loaded) if hits().is_empty() => view! {
            <p class="aside empty" role="status" data-testid="search-empty">
                "No matches among the newest messages."
            </p>
        }
        .into_any(),
        _ => ().into_any(),
    };
    let loading = move || status() == Some(SearchStatus::Loading);
    view! {
        <section
            class="panel search-results"
            aria-label="Search results"
            data-testid="search-results"
            on:keydown=on_keydown
        >
            <header class="panel-head">
                <h2>{heading}</h2>
                <button
                    class="link-button"
                    aria-label="Close search results"
                    title="Close (Esc)"
                    data-testid="close-search"
                    on:click=close
                >
                    "×"
                </button>
            </header>
            {body}
            <ol class="hits" aria-busy=move || loading().to_string()>
                <KeyedList
                    each=hits
                    key=|hit| hit.message.id
                    let:hit
                >
                    <Hit hit />
                </KeyedList>
            </ol>
            <ShowIf when=loading>
                <p class="aside loading" role="status" data-testid="search-loading">"Searching…"</p>
            </ShowIf>
            <ShowIf when=move || more() && !loading()>
                <button
                    class="small"
                    data-testid="more-results"
                    on:click=move |_| chat.act(|s| s.more_results())
                >
                    {move || if hits().is_empty() { "Search older messages" } else { "Load more results" }}
                </button>
            </ShowIf>
        </section>
    }
    .into_any()
}

/// One result: where and by whom, then the snippet with its matches marked. The whole line
/// is a link to the message, opened in place.
#[component]
fn Hit(hit: SearchHit) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let message = hit.message;
    let (room, seq) = (message.room_id, message.seq);
    let room_name = chat.state.with_untracked(|s| {
        if s.room(room).is_some() {
            s.display_title(room)
        } else {
            hit.room_title.clone()
        }
    });
    let at = local(message.created_at);
    let when = format!(
        "{} {}",
        day_label(at.date(), chat.today.get_untracked()),
        clock(message.created_at)
    );
    let open = move |event: leptos::ev::MouseEvent| {
        // A new tab or window opens the permalink by itself.
        if !plain_click(&event) {
            return;
        }
        event.prevent_default();
        chat.show(Panel::None);
        chat.act(|s| s.open_message(room, seq));
    };
    view! {
        <li class="hit" data-testid="hit">
            <a href=permalink(room, seq) on:click=open>
                <span class="hit-meta">
                    <span class="hit-room">{room_name}</span>
                    <span class="author">{message.author.username.clone()}</span>
                    <time datetime=machine_readable(message.created_at)>{when}</time>
                </span>
                <span class="hit-text">
                    {hit.snippet.into_iter().map(fragment).collect_view()}
                </span>
            </a>
        </li>
    }
    .into_any()
}

/// A snippet piece as text (never HTML), a match inside `<mark>`.
fn fragment(fragment: Fragment) -> AnyView {
    if fragment.hit {
        view! { <mark>{fragment.text}</mark> }.into_any()
    } else {
        fragment.text.into_any()
    }
}

#[component]
pub fn MessageUnavailable() -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    view! {
        <div class="placeholder" role="status" data-testid="message-unavailable">
            <h1>"This message is not available"</h1>
            <p class="aside">
                "It may have been deleted, or it is in a room you are not a member of."
            </p>
            <button class="small" on:click=move |_| chat.state.update(|s| s.dismiss_jump())>
                "Back to your rooms"
            </button>
        </div>
    }
    .into_any()
}
