//! Invisible and illegal characters in text (MiniMax rejects T2A text with more than 10 % of
//! them, code 1042).
//!
//! A character counts as **invisible or illegal** when it is, by Unicode general category
//! (Unicode 16):
//! - a control character (`Cc`), except tab (U+0009), line feed (U+000A) and carriage return
//!   (U+000D), which are ordinary line layout;
//! - a format character (`Cf`): zero-width space, joiners, byte order mark, soft hyphen,
//!   bidirectional marks and the like;
//! - unassigned (`Cn`) or private use (`Co`);
//! - or U+FFFD, the replacement character left behind by broken encodings.
//!
//! Counting is per Unicode scalar value (a Rust `char`), and the ratio is invisible characters
//! over all characters.
//!
//! ```
//! use minimax_errors::validate::text::{invisible_count, is_invisible};
//! assert!(is_invisible('\u{200B}'));
//! assert!(!is_invisible('\n'));
//! assert_eq!(invisible_count("你好\u{FEFF}world\u{0007}"), 2);
//! ```

use unicode_general_category::{GeneralCategory, get_general_category};

/// Whether `c` is an invisible or illegal character (see the module documentation).
pub fn is_invisible(c: char) -> bool {
    // Fast paths for the bulk of real text: printable ASCII and the CJK ideographs block, both
    // fully assigned and visible, skip the table lookup.
    match c {
        ' '..='~' | '\t' | '\n' | '\r' => false,
        '\0'..='\u{7F}' => true,
        '\u{4E00}'..='\u{9FFF}' => false,
        '\u{FFFD}' => true,
        _ => matches!(
            get_general_category(c),
            GeneralCategory::Control
                | GeneralCategory::Format
                | GeneralCategory::Unassigned
                | GeneralCategory::PrivateUse
                | GeneralCategory::Surrogate
        ),
    }
}

/// The number of invisible or illegal characters in `text`.
pub fn invisible_count(text: &str) -> usize {
    text.chars().filter(|&c| is_invisible(c)).count()
}

/// Counts characters and invisible characters in one pass: `(total, invisible)`.
pub fn char_and_invisible_counts(text: &str) -> (usize, usize) {
    let mut total = 0;
    let mut invisible = 0;
    for c in text.chars() {
        total += 1;
        invisible += usize::from(is_invisible(c));
    }
    (total, invisible)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_of_characters() {
        for c in [
            'a', ' ', '\t', '\n', '\r', '中', 'é', '😀', '。', 'ア', '한',
        ] {
            assert!(!is_invisible(c), "{c:?} is visible");
        }
        for c in [
            '\0',
            '\u{7}',
            '\u{7F}',
            '\u{85}',
            '\u{200B}',
            '\u{200D}',
            '\u{FEFF}',
            '\u{AD}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{378}',
            '\u{10FFFF}',
        ] {
            assert!(is_invisible(c), "{c:?} is invisible");
        }
    }

    #[test]
    fn counts_per_scalar_value() {
        assert_eq!(char_and_invisible_counts("a\u{200B}b"), (3, 1));
        assert_eq!(char_and_invisible_counts(""), (0, 0));
        // A flag emoji is two scalar values, both visible.
        assert_eq!(char_and_invisible_counts("🇨🇳"), (2, 0));
    }
}
