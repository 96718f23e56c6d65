//! `@name` mentions in message text. The server resolves them to users when it stores a
//! message; the client finds the same spans to offer completions and to highlight them, so both
//! read a mention the same way.

use crate::limits::MAX_USERNAME_CHARS;
use std::ops::Range;

/// Most users one message mentions; names past these are left as plain text.
pub const MAX_MENTIONS: usize = 64;

/// Whether `c` may appear in a username (as sign-up allows them).
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Each `@name` in `text`: the byte range of the whole mention (with its `@`) and the name.
/// A mention starts at the beginning or after a character that cannot be part of a name (so
/// `ada@example.com` mentions nobody), and a trailing `.`, `-` or `_` is punctuation, not name
/// ("thanks @ada.").
pub fn spans(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && previous.is_none_or(|before| !is_name_char(before));
        previous = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let length = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        let name = rest[..length].trim_end_matches(['.', '-', '_']);
        if !name.is_empty() && name.len() <= MAX_USERNAME_CHARS {
            found.push((at..at + 1 + name.len(), name));
        }
    }
    found
}

/// The distinct names `text` mentions, lowercased (as usernames are looked up), at most
/// [`MAX_MENTIONS`].
pub fn names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, name) in spans(text) {
        let key = name.to_lowercase();
        if !names.contains(&key) {
            names.push(key);
        }
        if names.len() == MAX_MENTIONS {
            break;
        }
    }
    names
}

/// The partial mention being typed at byte `cursor` of `text`, for completion: its byte range
/// (from the `@`) and what follows the `@` so far (maybe nothing).
pub fn typing_at(text: &str, cursor: usize) -> Option<(Range<usize>, &str)> {
    let before = text.get(..cursor)?;
    let at = before.rfind('@')?;
    let typed = &before[at + 1..];
    if !typed.chars().all(is_name_char) || typed.len() > MAX_USERNAME_CHARS {
        return None;
    }
    let starts = before[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !is_name_char(c));
    starts.then_some((at..cursor, typed))
}

#[cfg(test)]
mod tests {
    use super::{names, spans, typing_at};

    #[test]
    fn finds_mentions_as_people_write_them() {
        let text = "hi @Ada, ask @ben.k. not ada@example.com or a lone @ (@dee)";
        let found: Vec<&str> = spans(text).into_iter().map(|(_, name)| name).collect();
        assert_eq!(found, ["Ada", "ben.k", "dee"]);
        let (range, _) = &spans(text)[0];
        assert_eq!(&text[range.clone()], "@Ada");
        assert_eq!(names("@Ada @ada @ADA @bo"), ["ada", "bo"]);
        assert!(
            spans("émoji@ada 😀@ada").len() == 1,
            "a letter before @ is part of a word"
        );
    }

    #[test]
    fn names_are_bounded() {
        let many: String = (0..100).map(|i| format!("@u{i} ")).collect();
        assert_eq!(names(&many).len(), super::MAX_MENTIONS);
        let long = format!("@{}", "a".repeat(40));
        assert!(spans(&long).is_empty());
    }

    #[test]
    fn the_mention_being_typed() {
        assert_eq!(typing_at("hello @ad", 9), Some((6..9, "ad")));
        assert_eq!(typing_at("@", 1), Some((0..1, "")));
        assert_eq!(typing_at("mail a@b", 8), None);
        assert_eq!(typing_at("@ada said", 9), None);
    }
}
