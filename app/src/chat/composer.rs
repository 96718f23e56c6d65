//! The message field under the open room, with `@` completion: typing `@` and part of a name
//! offers the room's matching members (arrows move, Enter or Tab takes one, Escape closes).

use super::handle::Chat;
use crate::components::show_if::ShowIf;
use leptos::html;
use leptos::prelude::*;
use protocol::{Member, RoomId, mention};
use std::ops::Range;

/// Most names the completion offers at once.
const OFFERED: usize = 8;

/// The members whose name starts with (then contains) what was typed, case-insensitively.
pub fn candidates(members: &[Member], typed: &str) -> Vec<Member> {
    let typed = typed.to_lowercase();
    let name = |member: &Member| member.username.to_lowercase();
    let mut found: Vec<Member> = members
        .iter()
        .filter(|member| name(member).starts_with(&typed))
        .cloned()
        .collect();
    found.extend(
        members
            .iter()
            .filter(|member| !name(member).starts_with(&typed) && name(member).contains(&typed))
            .cloned(),
    );
    found.truncate(OFFERED);
    found
}

/// The byte offset of the `utf16`th UTF-16 unit of `text` (how the browser counts a cursor).
pub fn byte_offset(text: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        if units >= utf16 {
            return at;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// Milliseconds on the page's clock.
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// The completion open under the field: where the mention being typed is, and what it offers.
#[derive(Debug, Clone, PartialEq)]
struct Completion {
    range: Range<usize>,
    offered: Vec<Member>,
    selected: usize,
}

#[component]
pub fn Composer(id: RoomId, title: Memo<String>, sent: Callback<()>) -> impl IntoView {
    let Some(chat) = use_context::<Chat>() else {
        return ().into_any();
    };
    let state = chat.state;
    let input: NodeRef<html::Input> = NodeRef::new();
    let completion = RwSignal::new(None::<Completion>);

    let update_completion = move || {
        let Some(field) = input.get_untracked() else {
            return;
        };
        let text = field.value();
        let cursor = field
            .selection_start()
            .ok()
            .flatten()
            .map_or(text.len(), |at| byte_offset(&text, at as usize));
        let found = mention::typing_at(&text, cursor).and_then(|(range, typed)| {
            let offered = state.with_untracked(|s| {
                let me = s.me.as_ref().map(|me| me.id);
                let others: Vec<Member> = s
                    .joined
                    .get(&id)
                    .map(|room| room.members.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|member| Some(member.id) != me)
                    .collect();
                candidates(&others, typed)
            });
            (!offered.is_empty()).then_some(Completion {
                range,
                offered,
                selected: 0,
            })
        });
        completion.set(found);
    };

    let accept = move |member: Member| {
        let (Some(field), Some(open)) = (input.get_untracked(), completion.get_untracked()) else {
            return;
        };
        let text = field.value();
        let inserted = format!("@{} ", member.username);
        let after = &text[open.range.end.min(text.len())..];
        let after = after.strip_prefix(' ').unwrap_or(after);
        let replaced = format!("{}{inserted}{after}", &text[..open.range.start]);
        field.set_value(&replaced);
        let cursor =
            text[..open.range.start].encode_utf16().count() + inserted.encode_utf16().count();
        let _ = field.set_selection_range(cursor as u32, cursor as u32);
        completion.set(None);
        let _ = field.focus();
    };

    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        // An input method composing a character owns Enter and the arrows.
        if event.is_composing() {
            return;
        }
        let Some(open) = completion.get_untracked() else {
            return;
        };
        let count = open.offered.len();
        match event.key().as_str() {
            "ArrowDown" => {
                event.prevent_default();
                completion.update(|c| {
                    if let Some(c) = c {
                        c.selected = (c.selected + 1) % count;
                    }
                });
            }
            "ArrowUp" => {
                event.prevent_default();
                completion.update(|c| {
                    if let Some(c) = c {
                        c.selected = (c.selected + count - 1) % count;
                    }
                });
            }
            "Enter" | "Tab" => {
                event.prevent_default();
                if let Some(member) = open.offered.get(open.selected) {
                    accept(member.clone());
                }
            }
            "Escape" => {
                event.prevent_default();
                completion.set(None);
            }
            _ => {}
        }
    };

    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(field) = input.get() else { return };
        let body = field.value();
        chat.act(|s| s.compose(&body));
        field.set_value("");
        completion.set(None);
        sent.run(());
    };

    let list_id = format!("mentions-{id}");
    let list_ref = list_id.clone();
    let option_id = move |index: usize| format!("mention-{id}-{index}");
    view! {
        <form class="composer" on:submit=submit>
            <ShowIf when=move || completion.with(Option::is_some)>
                <ul class="completion" id=list_ref.clone() role="listbox" aria-label="People to mention" data-testid="completion">
                    {move || {
                        completion
                            .get()
                            .map(|open| {
                                open.offered
                                    .into_iter()
                                    .enumerate()
                                    .map(|(index, member)| {
                                        let selected = index == open.selected;
                                        let name = member.username.clone();
                                        view! {
                                            <li
                                                id=option_id(index)
                                                role="option"
                                                aria-selected=selected.to_string()
                                                class:selected=selected
                                                data-testid="completion-option"
                                                // Before the field's blur: a click must land.
                                                on:mousedown=move |event| {
                                                    event.prevent_default();
                                                    accept(member.clone());
                                                }
                                            >
                                                "@"
                                                {name}
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </ul>
            </ShowIf>
            <input
                node_ref=input
                type="text"
                name="body"
                placeholder=move || format!("Message {}", title.get())
                aria-label="Message"
                autocomplete="off"
                role="combobox"
                aria-autocomplete="list"
                aria-controls=move || completion.with(Option::is_some).then(|| list_id.clone())
                aria-expanded=move || completion.with(Option::is_some).to_string()
                aria-activedescendant=move || {
                    completion.with(|c| c.as_ref().map(|c| option_id(c.selected)))
                }
                maxlength=protocol::MAX_MESSAGE_CHARS.to_string()
                data-testid="composer"
                on:input=move |_| {
                    update_completion();
                    let typed = input.get_untracked().is_some_and(|field| !field.value().trim().is_empty());
                    if typed {
                        chat.act(|s| s.typing(id, now_ms()));
                    }
                }
                on:click=move |_| update_completion()
                // The caret moved without typing: what is offered follows it.
                on:keyup=move |event| {
                    if matches!(event.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                        update_completion();
                    }
                }
                on:keydown=on_keydown
                on:blur=move |_| completion.set(None)
            />
            <button type="submit">"Send"</button>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::{byte_offset, candidates};
    use crate::chat::fixtures::member;

    #[test]
    fn names_starting_with_the_text_come_first() {
        let members = [member(1, "bob"), member(2, "Ada"), member(3, "dada")];
        let names = |typed| -> Vec<String> {
            candidates(&members, typed)
                .into_iter()
                .map(|m| m.username)
                .collect()
        };
        assert_eq!(names("ad"), ["Ada", "dada"]);
        assert_eq!(names(""), ["bob", "Ada", "dada"]);
        assert!(names("zz").is_empty());
    }

    #[test]
    fn browser_cursors_count_utf16() {
        assert_eq!(byte_offset("é @a", 2), 3);
        assert_eq!(byte_offset("😀@a", 2), 4);
        assert_eq!(byte_offset("ab", 9), 2);
    }
}
