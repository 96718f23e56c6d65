//! The open room: header, timeline, outbox and composer.
//!
//! The timeline scrolls like a chat: it opens at the newest message and stays pinned to the
//! bottom while the reader is there; a reader scrolled up is not moved by new messages but
//! shown a "new messages" button. Scrolling near the top loads the previous page, and the view
//! is kept where it was while the page is prepended (the browser's own scroll anchoring is off,
//! as not every browser has it).
//!
//! A message opened in place (a search result, a permalink) is scrolled to and highlighted;
//! the reader is not pinned then, and the hole between its page and the room's latest
//! messages shows a "load newer" line that fills a page at a time as they scroll down to it.

use super::attention;
use super::composer::Composer;
use super::handle::{Chat, Panel};
use super::links::{permalink, plain_click};
use super::message_body::MessageBody;
use super::notify_control::NotifyControl;
use super::outbox::Pending;
use super::panels::{Members, confirm};
use super::state::{ChatState, Connection};
use super::time::{clock, day_label, local, machine_readable};
use super::timeline::Entry;
use crate::components::keyed_list::KeyedList;
use crate::components::show_if::ShowIf;
use chrono::NaiveDate;
use leptos::html;
use leptos::prelude::*;
use protocol::{ChatMessage, MessageId, RoomId, RoomKind};

/// How close to the bottom (px) still counts as "at the bottom".
const PINNED_SLACK: i32 = 48;
/// How close to the top (px) starts loading the previous page; and how close the "load newer"
/// line must come to the bottom to load the next page of a hole.
const LOAD_OLDER_WITHIN: i32 = 300;
/// Messages by one author less than this far apart (and on one day) form a run: name and time
/// are shown once, on the first.
const RUN_SECONDS: i64 = 5 * 60;

/// One line of the timeline as drawn: a day heading, or an entry (`true`: a message that
/// continues its author's run).
#[derive(Debug, Clone, PartialEq)]
enum Row {
    Day(NaiveDate),
    Line(Entry, bool),
    /// The hole after a page opened around a message, after this seq.
    Newer(i64),
}

impl Row {
    fn key(&self) -> String {
        match self {
            Row::Day(day) => format!("d{day}"),
            Row::Line(entry, false) => entry.key(),
            Row::Line(entry, true) => format!("{}+", entry.key()),
            Row::Newer(after) => format!("h{after}"),
        }
    }
}

/// The timeline with a heading before the first message of each day, and each message marked
/// when it continues the run of the message before it. The "new messages" line (before
/// `first_new`) starts a new run, like a day does. `hole_after` is where a hole waits for the
/// reader (see [`Row::Newer`]).
fn rows(timeline: &[Entry], first_new: Option<i64>, hole_after: Option<i64>) -> Vec<Row> {
    let mut rows = Vec::with_capacity(timeline.len() + 4);
    let mut current_day = None;
    let mut previous: Option<&ChatMessage> = None;
    for entry in timeline {
        let mut continues = false;
        match entry {
            Entry::Message(message) => {
                let day = local(message.created_at).date();
                if current_day != Some(day) {
                    current_day = Some(day);
                    rows.push(Row::Day(day));
                    previous = None;
                }
                continues = first_new != Some(message.seq)
                    && previous.is_some_and(|before| {
                        before.author.id == message.author.id
                            && !before.deleted
                            && (message.created_at - before.created_at).num_seconds() < RUN_SECONDS
                    });
                previous = Some(message);
            }
            // A notice between two messages ends the run.
            Entry::Notice { .. } => previous = None,
        }
        rows.push(Row::Line(entry.clone(), continues));
        if let Entry::Message(message) = entry
            && hole_after == Some(message.seq)
        {
            rows.push(Row::Newer(message.seq));
            previous = None;
        }
    }
    rows
}

/// The seq of the lowest message wholly inside the list's visible part, if any.
#[cfg(feature = "hydrate")]
fn lowest_in_view(list: &web_sys::HtmlOListElement) -> Option<i64> {
    use wasm_bindgen::JsCast;
    let bottom = list.get_bounding_client_rect().bottom();
    let lines = list.query_selector_all("li.message[data-seq]").ok()?;
    (0..lines.length()).rev().find_map(|index| {
        let line = lines.item(index)?.dyn_into::<web_sys::Element>().ok()?;
        (line.get_bounding_client_rect().bottom() <= bottom + 1.0)
            .then(|| line.get_attribute("data-seq")?.parse().ok())
            .flatten()
    })
}

#[cfg(not(feature = "hydrate"))]
fn lowest_in_view<T>(_list: &T) -> Option<i64> {
    None
}

/// Whether the "load newer" line is in view, or within [`LOAD_OLDER_WITHIN`] below it.
#[cfg(feature = "hydrate")]
fn hole_in_reach(list: &web_sys::HtmlOListElement) -> bool {
    let Ok(Some(line)) = list.query_selector("[data-testid=load-newer]") else {
        return false;
    };
    let bottom = list.get_bounding_client_rect().bottom();
    line.get_bounding_client_rect().top() < bottom + f64::from(LOAD_OLDER_WITHIN)
}

#[cfg(not(feature = "hydrate"))]
fn hole_in_reach<T>(_list: &T) -> bool {
    false
}

/// The seqs of the first and the last message drawn: a new first one means older messages were
/// prepended, a new last one that newer ones arrived (an edit changes neither).
fn edge_seqs(timeline: &[Entry]) -> (Option<i64>, Option<i64>) {
    let seq = |entry: &Entry| match entry {
        Entry::Message(message) => Some(message.seq),
        Entry::Notice { .. } => None,
    };
    let first = timeline.iter().find_map(seq);
    let last = timeline.iter().rev().find_map(seq);
    (first, last)
}

#[component]
pub fn OpenRoom(id: RoomId) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let title = Memo::new(move |_| state.with(|s| s.display_title(id)));
    let kind = Memo::new(move |_| state.with(|s| s.room(id).map(|room| room.kind)));
    let members_open = move || chat.panel.get() == Panel::Members;
    let member_count =
        move || state.with(|s| s.joined.get(&id).map_or(0, |room| room.members.len()));
    let timeline = Memo::new(move |_| {
        state.with(|s| {
            s.joined
                .get(&id)
                .map(|room| room.timeline.clone())
                .unwrap_or_default()
        })
    });
    let outbox = Memo::new(move |_| {
        state.with(|s| {
            s.outbox
                .messages()
                .iter()
                .filter(|pending| pending.room_id == id)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let list: NodeRef<html::Ol> = NodeRef::new();
    let editing = RwSignal::new(None::<MessageId>);
    // The first message the "new messages" line marks, while the room is open.
    let first_new = Memo::new(move |_| {
        state.with(|s| {
            let me = s.me.as_ref()?.id;
            s.joined.get(&id)?.first_new(me).map(|message| message.seq)
        })
    });
    let has_new_line = Memo::new(move |_| {
        state.with(|s| {
            s.joined
                .get(&id)
                .is_some_and(|room| room.new_since.is_some())
        })
    });
    // "Jump to first unread" asked for a message not loaded yet: pages load until it is.
    let jumping = StoredValue::new(false);
    // A message opened in place, once it is held: its seq, and which opening it was.
    let highlighted = Memo::new(move |_| state.with(|s| s.highlighted(id)));
    let opened = Memo::new(move |_| {
        state.with(|s| {
            let seq = s.highlighted(id)?;
            Some((seq, s.jump?.serial))
        })
    });
    let scrolled_to = StoredValue::new(None::<u64>);
    // Where the hole after an opened page waits for the reader, and whether it is loading.
    let hole_after = Memo::new(move |_| state.with(|s| s.joined.get(&id)?.newer_hole()));
    let loading_newer = Memo::new(move |_| {
        state.with(|s| s.joined.get(&id).is_some_and(|r| r.sync.loading_newer()))
    });

    // Scroll bookkeeping, updated on every scroll and every redraw.
    // A room opened at a message does not start at its newest.
    let pinned = StoredValue::new(!state.with_untracked(|s| s.opening_message(id)));
    let drawn_height = StoredValue::new(0);
    let drawn_edges = StoredValue::new((None::<i64>, None::<i64>));
    let unseen = RwSignal::new(false);
    let scroll_to_bottom = move || {
        if let Some(list) = list.get_untracked() {
            list.set_scroll_top(list.scroll_height());
        }
        pinned.set_value(true);
        unseen.set(false);
    };
    // What is on screen in a page the user is looking at is read: everything, at the bottom;
    // up to the lowest message fully in view, scrolled up.
    let mark_seen = move || {
        let Some(list) = list.try_get_untracked().flatten() else {
            return;
        };
        // Nothing counts as seen before the message being opened is on screen, nor while
        // search results cover the room.
        let covered = state.try_with_untracked(|s| s.opening_message(id) || s.search.is_some());
        if !attention::attended() || covered != Some(false) {
            return;
        }
        let up_to = if pinned.try_get_value() == Some(true) {
            None
        } else {
            let Some(seq) = lowest_in_view(&list) else {
                return;
            };
            Some(seq)
        };
        if state.try_with_untracked(|s| s.has_unseen(id, up_to)) == Some(true) {
            state.update(|s| s.seen(id, up_to));
        }
    };
    let scroll_to_first_new = move || {
        let Some(list) = list.get_untracked() else {
            return;
        };
        if let Ok(Some(line)) = list.query_selector("[data-testid=new-line]") {
            line.scroll_into_view_with_bool(true);
            jumping.set_value(false);
        } else if state.with_untracked(|s| s.joined.get(&id).is_some_and(|room| !room.beginning)) {
            jumping.set_value(true);
            chat.act(|s| s.load_older(id));
        }
    };
    #[cfg(feature = "hydrate")]
    {
        let focused = window_event_listener(leptos::ev::focus, move |_| mark_seen());
        let shown = window_event_listener(leptos::ev::visibilitychange, move |_| mark_seen());
        on_cleanup(move || {
            focused.remove();
            shown.remove();
        });
    }

    // Redraws are handled once the browser has laid them out, in an animation frame; changes
    // before that frame share it. The frame is cancelled when the room's view is disposed
    // (another room opened): it must never touch this view's values once they are gone.
    let frame = StoredValue::new(None::<AnimationFrameRequestHandle>);
    on_cleanup(move || {
        if let Some(frame) = frame.try_get_value().flatten() {
            frame.cancel();
        }
    });
    Effect::new(move |_| {
        timeline.track();
        outbox.track();
        opened.track();
        let Some(list) = list.get() else { return };
        if frame.get_value().is_some() {
            return;
        }
        let requested = request_animation_frame_with_handle(move || {
            frame.set_value(None);
            let edges = timeline.with_untracked(|timeline| edge_seqs(timeline));
            let height = list.scroll_height();
            let (first_before, last_before) = drawn_edges.get_value();
            let prepended = first_before.is_some() && first_before != edges.0;
            // The first drawing appends nothing: it is what the room opened with.
            let appended = last_before.is_some() && last_before != edges.1;
            if pinned.get_value() {
                list.set_scroll_top(height);
            } else if prepended {
                // Keep the messages on screen where they were.
                list.set_scroll_top(list.scroll_top() + height - drawn_height.get_value());
            } else if appended {
                unseen.set(true);
            }
            if let Some((seq, serial)) = opened.get_untracked()
                && scrolled_to.get_value() != Some(serial)
                && let Ok(Some(line)) =
                    list.query_selector(&format!("li.message[data-seq='{seq}']"))
            {
                scrolled_to.set_value(Some(serial));
                scroll_to_middle(&line);
                pinned.set_value(false);
                // The keyboard continues from the message (it takes focus without scrolling).
                focus_quietly(&line);
            }
            drawn_height.set_value(list.scroll_height());
            drawn_edges.set_value(edges);
            let loading = state
                .with_untracked(|s| s.joined.get(&id).is_some_and(|room| room.loading_older()));
            if jumping.get_value() && !loading {
                scroll_to_first_new();
            }
            mark_seen();
        });
        frame.set_value(requested.ok());
    });

    // A scroll event can be dispatched to the list after it left the page (another room
    // opened), when this view's values are gone: then it does nothing.
    let on_scroll = move |_| {
        let Some(list) = list.try_get_untracked().flatten() else {
            return;
        };
        let at_bottom =
            list.scroll_height() - list.scroll_top() - list.client_height() < PINNED_SLACK;
        if pinned.try_set_value(at_bottom).is_some() {
            return;
        }
        drawn_height.try_set_value(list.scroll_height());
        if at_bottom {
            unseen.try_set(false);
        }
        mark_seen();
        // Checked without updating: every scroll event near the top must not redraw the room.
        let can_load = state.try_with_untracked(|s| {
            s.joined
                .get(&id)
                .is_some_and(|room| !room.beginning && !room.loading_older())
        }) == Some(true);
        if can_load && list.scroll_top() < LOAD_OLDER_WITHIN {
            chat.act(|s| s.load_older(id));
        }
        if hole_after.try_get_untracked().flatten().is_some()
            && loading_newer.try_get_untracked() == Some(false)
            && hole_in_reach(&list)
        {
            chat.act(|s| s.load_newer(id, now()));
        }
    };

    let history_edge = move || {
        let (beginning, loading) = state.with(|s| {
            s.joined
                .get(&id)
                .map_or((true, false), |room| (room.beginning, room.loading_older()))
        });
        if beginning {
            view! { <span class="aside" data-testid="beginning">"Beginning of the room"</span> }
                .into_any()
        } else if loading {
            view! {
                <span class="aside loading" data-testid="loading-older">
                    "Loading older messages…"
                </span>
            }
            .into_any()
        } else {
            view! {
                <button
                    class="small"
                    data-testid="load-older"
                    on:click=move |_| chat.act(|s| s.load_older(id))
                >
                    "Load older messages"
                </button>
            }
            .into_any()
        }
    };

    let leave = move |_| {
        let private = kind.get_untracked() == Some(RoomKind::Closed);
        let question = format!(
            "Leave {}? Only its managers can add you back.",
            title.get_untracked()
        );
        if !private || confirm(&question) {
            chat.act(|s| Some(s.leave(id)));
        }
    };
    view! {
        <header class="room-head">
            <h1 data-testid="room-title">{move || title.get()}</h1>
            {move || {
                let (class, label) = match kind.get()? {
                    RoomKind::StaffOnly => ("badge staff", "staff only"),
                    RoomKind::Closed => ("badge closed", "closed"),
                    RoomKind::Direct => ("badge closed", "direct"),
                    RoomKind::Open => return None,
                };
                Some(view! { <span class=class data-testid="room-kind">{label}</span> })
            }}
            <button
                class="link-button members-button"
                aria-expanded=move || members_open().to_string()
                data-testid="members-button"
                on:click=move |_| chat.panel.update(|panel| {
                    *panel = if *panel == Panel::Members { Panel::None } else { Panel::Members };
                })
            >
                {move || match member_count() {
                    1 => "1 member".to_owned(),
                    n => format!("{n} members"),
                }}
            </button>
            <NotifyControl id />
            <ShowIf when=move || kind.get() != Some(RoomKind::Direct)>
                <button class="small" data-testid="leave" on:click=leave>
                    "Leave"
                </button>
            </ShowIf>
        </header>
        <div class="room-body">
        <div class="timeline-column">
        <ShowIf when=move || has_new_line.get()>
            <div class="unread-bar">
                <button
                    type="button"
                    class="link-button"
                    data-testid="jump-unread"
                    on:click=move |_| scroll_to_first_new()
                >
                    "Jump to first unread"
                </button>
            </div>
        </ShowIf>
        <div class="timeline-frame">
            <ol class="timeline" node_ref=list data-testid="timeline" on:scroll=on_scroll>
                <li class="history-edge">{history_edge}</li>
                <KeyedList
                    each=move || {
                        timeline.with(|timeline| rows(timeline, first_new.get(), hole_after.get()))
                    }
                    key=Row::key
                    let:row
                >
                    {match row {
                        Row::Day(day) => {
                            view! {
                                <li class="day" data-testid="day">
                                    <span>{move || day_label(day, chat.today.get())}</span>
                                </li>
                            }
                                .into_any()
                        }
                        Row::Line(Entry::Message(message), continues) => {
                            let seq = message.seq;
                            view! {
                                <ShowIf when=move || first_new.get() == Some(seq)>
                                    <li class="new-line" data-testid="new-line" role="separator">
                                        <span>"New messages"</span>
                                    </li>
                                </ShowIf>
                                <MessageLine message editing continues highlighted />
                            }
                                .into_any()
                        }
                        Row::Newer(_) => {
                            view! {
                                <li class="history-edge" data-testid="load-newer">
                                    {move || if loading_newer.get() {
                                        view! {
                                            <span class="aside loading">"Loading newer messages…"</span>
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <button
                                                class="small"
                                                on:click=move |_| chat.act(|s| s.load_newer(id, now()))
                                            >
                                                "Load newer messages"
                                            </button>
                                        }
                                            .into_any()
                                    }}
                                </li>
                            }
                                .into_any()
                        }
                        Row::Line(Entry::Notice { text, .. }, _) => {
                            view! { <li class="notice-line" data-testid="member-notice">{text}</li> }
                                .into_any()
                        }
                    }}
                </KeyedList>
                <KeyedList each=move || outbox.get() key=|p| (p.nonce.clone(), p.failed.clone()) let:pending>
                    <PendingLine pending />
                </KeyedList>
            </ol>
            <ShowIf when=move || unseen.get()>
                <button class="new-messages" data-testid="new-messages" on:click=move |_| scroll_to_bottom()>
                    "New messages ↓"
                </button>
            </ShowIf>
        </div>
        <p class="typing" data-testid="typing">{move || state.with(|s| s.typing.line(id))}</p>
        // Your own message always brings you to the bottom.
        <Composer id title sent=Callback::new(move |()| pinned.set_value(true)) />
        </div>
        <ShowIf when=members_open>
            <Members id />
        </ShowIf>
        </div>
    }
    .into_any()
}

/// One posted message, with its author's (and admins') actions, or the form editing it.
#[component]
fn MessageLine(
    message: ChatMessage,
    editing: RwSignal<Option<MessageId>>,
    continues: bool,
    /// The seq of the message opened in place, highlighted, if any.
    highlighted: Memo<Option<i64>>,
) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let id = message.id;
    let me = state.with_untracked(|s| s.me.as_ref().map(|me| me.id));
    let own = me == Some(message.author.id);
    let may_delete = state.with_untracked(|s| s.may_delete(&message));
    let mentions = message.mentions.clone();
    let deleted = message.deleted;
    let (author_id, author_name) = (message.author.id, message.author.username.clone());
    let edited = message.edited_at.is_some() && !deleted;
    let body = message.body.clone();
    let (room, seq) = (message.room_id, message.seq);
    let is_highlighted = move || highlighted.get() == Some(seq);
    let author_name_for_link = author_name.clone();
    // "Link copied" for a moment after a click; without a clipboard (a page not served over
    // HTTPS or from localhost) the click follows the link instead, opening the message here.
    let copied = RwSignal::new(false);
    let copy_link = move |event: leptos::ev::MouseEvent| {
        if plain_click(&event) && copy_to_clipboard(&permalink(room, seq), copied) {
            event.prevent_default();
        }
    };
    let field: NodeRef<html::Input> = NodeRef::new();
    // The edit field takes the keyboard as soon as it appears (`autofocus` only works on load).
    Effect::new(move |_| {
        if let Some(field) = field.get() {
            let _ = field.focus();
        }
    });

    let save = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(field) = field.get() {
            let text = field.value();
            chat.act(|s| s.edit(id, &text));
        }
        editing.set(None);
    };
    let delete = move |_| {
        if confirm("Delete this message? Everyone in the room will see that it was deleted.") {
            chat.act(|s| Some(s.delete(id)));
        }
    };
    let content = move || {
        if deleted {
            view! { <p class="body tombstone" data-testid="tombstone">"This message was deleted."</p> }
                .into_any()
        } else if editing.get() == Some(id) {
            view! {
                <form class="edit" on:submit=save>
                    <input
                        node_ref=field
                        type="text"
                        value=body.clone()
                        aria-label="Edit message"
                        maxlength=protocol::MAX_MESSAGE_CHARS.to_string()
                        data-testid="edit-field"
                        on:keydown=move |event| {
                            if event.key() == "Escape" {
                                editing.set(None);
                            }
                        }
                    />
                    <button type="submit" class="small">"Save"</button>
                    <button type="button" class="small link-button" on:click=move |_| editing.set(None)>
                        "Cancel"
                    </button>
                </form>
            }
                .into_any()
        } else {
            view! { <MessageBody body=body.clone() mentions=mentions.clone() me /> }.into_any()
        }
    };

    view! {
        <li
            class="message"
            class:own=own
            class:deleted=deleted
            class:continues=continues
            class:highlighted=is_highlighted
            tabindex=move || is_highlighted().then_some("-1")
            data-testid="message"
            data-seq=message.seq.to_string()
        >
            <div class="meta">
                {if own {
                    view! { <span class="author">{author_name}</span> }.into_any()
                } else {
                    view! {
                        <button
                            class="author link-button"
                            title=format!("Message {author_name}")
                            data-testid="author"
                            on:click=move |_| chat.message(vec![author_id])
                        >
                            {author_name.clone()}
                        </button>
                    }
                    .into_any()
                }}
                <time datetime=machine_readable(message.created_at)>{clock(message.created_at)}</time>
                {edited.then(|| view! { <span class="edited" data-testid="edited">"edited"</span> })}
                {(!deleted)
                    .then(|| {
                        view! {
                            <span class="actions">
                                <a
                                    class="permalink"
                                    href=permalink(room, seq)
                                    aria-label=format!("Copy a link to {author_name_for_link}'s message")
                                    data-testid="copy-link"
                                    on:click=copy_link
                                >
                                    {move || if copied.get() { "Link copied" } else { "Copy link" }}
                                </a>
                                <span class="sr-only" role="status">
                                    {move || copied.get().then_some("Link copied")}
                                </span>
                                {own
                                    .then(|| {
                                        view! {
                                            <button
                                                class="link-button"
                                                data-testid="edit"
                                                on:click=move |_| editing.set(Some(id))
                                            >
                                                "Edit"
                                            </button>
                                        }
                                    })}
                                {(own || may_delete)
                                    .then(|| {
                                        view! {
                                            <button
                                                class="link-button"
                                                data-testid="delete"
                                                on:click=delete
                                            >
                                                "Delete"
                                            </button>
                                        }
                                    })}
                            </span>
                        }
                    })}
            </div>
            {content}
        </li>
    }
    .into_any()
}

/// A message in the outbox: on its way, or refused with the reason and a retry.
#[component]
fn PendingLine(pending: Pending) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let online = move || state.with(|s| s.connection == Connection::Online);
    let nonce = pending.nonce.clone();
    let status = match pending.failed.clone() {
        Some(reason) => {
            let (retry, discard) = (nonce.clone(), nonce);
            view! {
                <span class="failed">"Not sent: " {reason}</span>
                <span class="actions">
                    <button class="link-button" data-testid="retry" on:click=move |_| chat.act(|s| s.retry(&retry))>
                        "Retry"
                    </button>
                    <button
                        class="link-button"
                        on:click=move |_| state.update(|s: &mut ChatState| s.discard(&discard))
                    >
                        "Discard"
                    </button>
                </span>
            }
            .into_any()
        }
        None => view! {
            <span class="aside">
                {move || if online() { "Sending…" } else { "Waiting for the connection…" }}
            </span>
        }
        .into_any(),
    };
    view! {
        <li class="message own pending" data-testid="pending">
            <div class="meta">{status}</div>
            <p class="body">{pending.body.clone()}</p>
        </li>
    }
    .into_any()
}

/// Scrolls the timeline so that `line` is in its middle.
fn scroll_to_middle(line: &leptos::web_sys::Element) {
    #[cfg(feature = "hydrate")]
    {
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Center);
        line.scroll_into_view_with_scroll_into_view_options(&options);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = line;
}

/// Puts `path`, made absolute on this site, on the clipboard and says so in `copied` for a
/// moment; `false` when this page has no clipboard (it is not a secure context).
fn copy_to_clipboard(path: &str, copied: RwSignal<bool>) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let navigator = window().navigator();
        let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
            .is_ok_and(|clipboard| !clipboard.is_undefined());
        let Ok(origin) = window().location().origin() else {
            return false;
        };
        if !has_clipboard {
            return false;
        }
        let written = navigator.clipboard().write_text(&format!("{origin}{path}"));
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(written).await.is_ok() {
                copied.try_set(true);
                gloo_timers::future::TimeoutFuture::new(COPIED_SHOWN_MS).await;
                copied.try_set(false);
            }
        });
        true
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (path, copied);
        false
    }
}

/// How long "Link copied" shows.
#[cfg(feature = "hydrate")]
const COPIED_SHOWN_MS: u32 = 2000;

/// Focuses `element` without scrolling it.
fn focus_quietly(element: &leptos::web_sys::Element) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(element) = element.dyn_ref::<web_sys::HtmlElement>() {
            let options = web_sys::FocusOptions::new();
            options.set_prevent_scroll(true);
            let _ = element.focus_with_options(&options);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = element;
}

/// Milliseconds on the page's steady clock, as the follow-ups take them.
fn now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}
