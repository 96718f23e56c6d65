//! What counts as text: a message or a title made only of characters nobody can see (spaces,
//! zero-width and other invisible format characters) is empty. Shared, so the composer and the
//! server agree on what "empty" means.

/// Whether `c` shows nothing on its own: whitespace, zero-width characters, joiners, direction
/// marks and isolates, variation selectors, the soft hyphen and the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Whether nothing of `text` would be visible.
pub fn is_blank(text: &str) -> bool {
    text.chars().all(is_invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_invisible_characters_count_as_blank() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\n"));
        assert!(is_blank("\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}"));
        assert!(is_blank("\u{3164}\u{FE0F} \u{00AD}"));
        assert!(!is_blank("a\u{200B}"));
        assert!(!is_blank("👍"));
        assert!(!is_blank("👩\u{200D}💻"), "a joined emoji is visible");
        assert!(!is_blank("中"));
    }
}
