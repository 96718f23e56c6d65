//! A message's text as drawn: plain text, with each `@name` the server resolved to a member
//! highlighted (the reader's own mentions stand out) and a button to message that person.
//! Text is never read as HTML.

use super::handle::Chat;
use leptos::prelude::*;
use protocol::{Member, UserId, mention};

/// One piece of a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    /// A mention of a member, as written (`@Ada`).
    Mention {
        written: String,
        member: Member,
    },
}

/// The text cut at its resolved mentions; an `@name` that mentions nobody stays text.
pub fn pieces(body: &str, mentions: &[Member]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut from = 0;
    for (range, name) in mention::spans(body) {
        let Some(member) = mentions
            .iter()
            .find(|member| member.username.eq_ignore_ascii_case(name))
        else {
            continue;
        };
        if range.start > from {
            pieces.push(Piece::Text(body[from..range.start].to_owned()));
        }
        pieces.push(Piece::Mention {
            written: body[range.clone()].to_owned(),
            member: member.clone(),
        });
        from = range.end;
    }
    if from < body.len() {
        pieces.push(Piece::Text(body[from..].to_owned()));
    }
    pieces
}

#[component]
pub fn MessageBody(body: String, mentions: Vec<Member>, me: Option<UserId>) -> impl IntoView {
    let chat = use_context::<Chat>();
    let mentions_me = mentions.iter().any(|member| Some(member.id) == me);
    let drawn = pieces(&body, &mentions)
        .into_iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.into_any(),
            Piece::Mention { written, member } if Some(member.id) == me => view! {
                <mark class="mention me" data-testid="mention">{written}</mark>
            }
            .into_any(),
            Piece::Mention { written, member } => {
                let label = format!("Message {}", member.username);
                view! {
                    <button
                        type="button"
                        class="mention link-button"
                        title=label
                        data-testid="mention"
                        on:click=move |_| {
                            if let Some(chat) = chat {
                                chat.message(vec![member.id]);
                            }
                        }
                    >
                        {written}
                    </button>
                }
                .into_any()
            }
        })
        .collect_view();
    view! { <p class="body" class:mentions-me=mentions_me>{drawn}</p> }
}

#[cfg(test)]
mod tests {
    use super::{Piece, pieces};
    use crate::chat::fixtures::member;

    #[test]
    fn only_resolved_names_are_mentions() {
        let ada = member(3, "ada");
        let cut = pieces("hi @Ada and @nobody, bye", std::slice::from_ref(&ada));
        assert_eq!(
            cut,
            [
                Piece::Text("hi ".into()),
                Piece::Mention {
                    written: "@Ada".into(),
                    member: ada
                },
                Piece::Text(" and @nobody, bye".into()),
            ]
        );
        assert_eq!(pieces("<b>@x</b>", &[]), [Piece::Text("<b>@x</b>".into())]);
    }
}
