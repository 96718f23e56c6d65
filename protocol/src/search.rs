//! Message search: what a query means, shared by the server (which runs it) and the page
//! (which checks it before sending and highlights what it found).
//!
//! A query is words separated by whitespace. Every word must occur in a message, as a
//! substring, after both are folded by [`fold`] (Unicode lower case): nothing in a word is
//! syntax, so quotes, `NOT`, `*`, `-` and parentheses are just characters to find. Two words
//! are filters instead: `from:name` (messages by that user) and `in:title` (messages in rooms
//! whose title contains `title`, or is exactly it when one is).

use crate::dto::ChatMessage;
use crate::limits::{MAX_SEARCH_CHARS, MAX_SEARCH_WORDS};
use serde::{Deserialize, Serialize};

/// The text a search compares: each character in Unicode lower case on its own (never by
/// context, so a word folds the same inside a longer one), with Greek final sigma as sigma.
/// Matching ignores case in every script the same way on every database: the index stores text
/// folded by this too.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(fold_char).collect()
}

/// One character, folded as [`fold`] folds it.
fn fold_char(c: char) -> impl Iterator<Item = char> {
    c.to_lowercase()
        .map(|lower| if lower == 'ς' { 'σ' } else { lower })
}

/// A query, split into what it asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Words that must all occur, folded, without repeats (a word contained in another is
    /// dropped: the longer one implies it).
    pub words: Vec<String>,
    /// `from:` — a username, as typed.
    pub from: Option<String>,
    /// `in:` — part of a room title, as typed.
    pub room: Option<String>,
}

/// Why a query is refused before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryProblem {
    /// Nothing to look for.
    Empty,
    /// More than [`MAX_SEARCH_CHARS`] characters.
    TooLong,
    /// More than [`MAX_SEARCH_WORDS`] words (filters included).
    TooManyWords,
}

impl QueryProblem {
    /// What the user is told.
    pub fn text(self) -> &'static str {
        match self {
            QueryProblem::Empty => "Type a word to search for.",
            QueryProblem::TooLong => "Searches are limited to 200 characters.",
            QueryProblem::TooManyWords => "Searches are limited to 10 words.",
        }
    }
}

/// Words of fewer characters than this cannot use the trigram index: they are matched by
/// scanning the messages the rest of the query (or the chosen room) narrows down to.
pub const INDEXED_WORD_CHARS: usize = 3;

impl Query {
    /// Splits `text` into words and filters. `from:` or `in:` with nothing after it is a word.
    pub fn parse(text: &str) -> Result<Query, QueryProblem> {
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(QueryProblem::TooLong);
        }
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() > MAX_SEARCH_WORDS {
            return Err(QueryProblem::TooManyWords);
        }
        let mut query = Query::default();
        for part in parts {
            let folded_prefix = |prefix: &str| {
                part.get(..prefix.len())
                    .filter(|head| head.eq_ignore_ascii_case(prefix))
                    .map(|_| &part[prefix.len()..])
                    .filter(|rest| !rest.is_empty())
            };
            // The last of a repeated filter counts.
            if let Some(name) = folded_prefix("from:").map(|name| name.trim_start_matches('@'))
                && !name.is_empty()
            {
                query.from = Some(name.to_owned());
            } else if let Some(title) =
                folded_prefix("in:").map(|title| title.trim_start_matches('#'))
                && !title.is_empty()
            {
                query.room = Some(title.to_owned());
            } else {
                query.words.push(fold(part));
            }
        }
        // Longest first, so that a word inside a longer one (kept already) is dropped.
        query
            .words
            .sort_by_key(|word| std::cmp::Reverse(word.chars().count()));
        let mut kept: Vec<String> = Vec::new();
        for word in query.words {
            if !kept.iter().any(|longer| longer.contains(word.as_str())) {
                kept.push(word);
            }
        }
        query.words = kept;
        if query.words.is_empty() && query.from.is_none() {
            return Err(QueryProblem::Empty);
        }
        Ok(query)
    }

    /// The words the trigram index can find.
    pub fn indexed_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|word| word.chars().count() >= INDEXED_WORD_CHARS)
            .map(String::as_str)
    }

    /// The words too short for the index.
    pub fn short_words(&self) -> impl Iterator<Item = &str> {
        self.words
            .iter()
            .filter(|word| word.chars().count() < INDEXED_WORD_CHARS)
            .map(String::as_str)
    }
}

/// One search result: the message, its room's stored title (empty for a direct conversation,
/// which the page names after its people), and a snippet of its text with the matches marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message: ChatMessage,
    pub room_title: String,
    pub snippet: Vec<Fragment>,
}

/// One piece of a result's snippet: text, and whether it is a match to highlight. The page
/// renders each piece as text (never as HTML), the matches inside `<mark>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragment {
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

/// Characters of context a snippet keeps before its first match.
const CONTEXT_BEFORE: usize = 40;

/// Longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 200;

/// `body` cut to at most [`SNIPPET_CHARS`] characters around its first match of `words`
/// (folded, as [`Query::words`]), in fragments with every match marked. An ellipsis marks
/// where text was cut off.
pub fn snippet(body: &str, words: &[String]) -> Vec<Fragment> {
    let chars: Vec<char> = body.chars().collect();
    let hits = matched_chars(&chars, words);
    let first = hits.iter().position(|hit| *hit).unwrap_or(0);
    let start = first.saturating_sub(CONTEXT_BEFORE);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    // Near the end, show more of what comes before instead.
    let start = end.saturating_sub(SNIPPET_CHARS).min(start);
    let mut fragments: Vec<Fragment> = Vec::new();
    if start > 0 {
        fragments.push(Fragment {
            text: "…".into(),
            hit: false,
        });
    }
    for index in start..end {
        match fragments.last_mut() {
            Some(last) if last.hit == hits[index] && (index > start || start == 0) => {
                last.text.push(chars[index]);
            }
            _ => fragments.push(Fragment {
                text: chars[index].to_string(),
                hit: hits[index],
            }),
        }
    }
    if end < chars.len() {
        match fragments.last_mut() {
            Some(last) if !last.hit => last.text.push('…'),
            _ => fragments.push(Fragment {
                text: "…".into(),
                hit: false,
            }),
        }
    }
    fragments
}

/// Which characters of `chars` are part of a match of one of `words`, comparing folded text.
/// Folding can turn one character into several (`İ` → `i̇`), so matches are found in the
/// folded text and mapped back to the characters they came from.
fn matched_chars(chars: &[char], words: &[String]) -> Vec<bool> {
    let mut folded: Vec<char> = Vec::with_capacity(chars.len());
    let mut origin: Vec<usize> = Vec::with_capacity(chars.len());
    for (index, c) in chars.iter().enumerate() {
        for lower in fold_char(*c) {
            folded.push(lower);
            origin.push(index);
        }
    }
    let mut hits = vec![false; chars.len()];
    for word in words {
        let word: Vec<char> = word.chars().collect();
        if word.is_empty() || word.len() > folded.len() {
            continue;
        }
        for start in 0..=folded.len() - word.len() {
            if folded[start..start + word.len()] == word[..] {
                for at in &origin[start..start + word.len()] {
                    hits[*at] = true;
                }
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(query: &str) -> Vec<String> {
        Query::parse(query).unwrap().words
    }

    #[test]
    fn syntax_characters_are_just_text() {
        assert_eq!(words("NOT \"a*b\" -x (y"), ["\"a*b\"", "not", "-x", "(y"]);
    }

    #[test]
    fn filters_are_split_off_and_words_folded() {
        let query = Query::parse("From:@Bob IN:#Gen Ünïcode").unwrap();
        assert_eq!(query.words, ["ünïcode"]);
        assert_eq!(query.from.as_deref(), Some("Bob"));
        assert_eq!(query.room.as_deref(), Some("Gen"));
        assert_eq!(words("from: in:"), ["from:", "in:"]);
        assert_eq!(words("from:@ in:#"), ["from:@", "in:#"]);
    }

    #[test]
    fn words_inside_longer_words_are_dropped() {
        assert_eq!(words("deploy dep DEPLOY ploy x"), ["deploy", "x"]);
    }

    #[test]
    fn problem_texts_name_the_limits() {
        assert!(
            QueryProblem::TooLong
                .text()
                .contains(&MAX_SEARCH_CHARS.to_string())
        );
        assert!(
            QueryProblem::TooManyWords
                .text()
                .contains(&MAX_SEARCH_WORDS.to_string())
        );
    }

    #[test]
    fn limits_are_refused() {
        assert_eq!(Query::parse("   "), Err(QueryProblem::Empty));
        assert_eq!(Query::parse("in:general"), Err(QueryProblem::Empty));
        assert!(Query::parse("from:bob").is_ok());
        let long = "x".repeat(MAX_SEARCH_CHARS + 1);
        assert_eq!(Query::parse(&long), Err(QueryProblem::TooLong));
        let many = ["word"; MAX_SEARCH_WORDS + 1].join(" ");
        assert_eq!(Query::parse(&many), Err(QueryProblem::TooManyWords));
    }

    #[test]
    fn snippets_mark_every_match_in_any_case_and_script() {
        let marked = |fragments: Vec<Fragment>| -> String {
            fragments
                .iter()
                .map(|f| {
                    if f.hit {
                        format!("[{}]", f.text)
                    } else {
                        f.text.clone()
                    }
                })
                .collect()
        };
        assert_eq!(
            marked(snippet("Deploy the DEPLOYER", &words("deploy"))),
            "[Deploy] the [DEPLOY]ER"
        );
        assert_eq!(
            marked(snippet("東京で会いましょう", &words("東京"))),
            "[東京]で会いましょう"
        );
        assert_eq!(marked(snippet("İstanbul", &words("i̇st"))), "[İst]anbul");
        // A final sigma is a sigma: the word matches inside a longer one, and is marked.
        assert_eq!(fold("ΟΔΟΣ"), fold("ΟΔΟΣΤ")[..fold("ΟΔΟΣ").len()]);
        assert_eq!(marked(snippet("ΟΔΟΣ οδός", &words("οδοσ"))), "[ΟΔΟΣ] οδός");
        let long = format!("{} needle {}", "a".repeat(300), "b".repeat(300));
        let cut = marked(snippet(&long, &words("needle")));
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("[needle]"));
        assert!(cut.chars().count() <= SNIPPET_CHARS + 4);
    }
}
