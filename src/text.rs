//! Names people read: package, owner and file names, versions, Git refs, the names of customers,
//! tokens and collections. Each must look the way it is stored. Control characters can hide or
//! rewrite what a terminal or log shows, and Unicode's bidirectional formatting characters make
//! text display in another order than it is stored ("Trojan Source", CVE-2021-42574): an
//! upload named `invoice\u{202E}gpj.exe` shows as `invoiceexe.jpg`. Every format and the
//! management API refuse them through this one check, whatever else their own rules allow.

use crate::error::{Error, Result};

/// Unicode's bidirectional formatting characters: the embeddings and overrides (U+202A–U+202E),
/// the isolates (U+2066–U+2069) and the implicit marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// The first character of `value` that changes how text is shown rather than showing itself:
/// a control character (C0, DEL, C1) or a bidirectional formatting character.
pub fn hidden_char(value: &str) -> Option<char> {
    value
        .chars()
        .find(|&c| c.is_control() || is_bidi_control(c))
}

/// How a refusal names such a character: its code point and kind, never the character itself.
pub fn describe(c: char) -> String {
    let kind = if is_bidi_control(c) {
        "a bidirectional formatting character"
    } else {
        "a control character"
    };
    format!("U+{:04X} ({kind})", u32::from(c))
}

/// Refuses (400) a name or version holding a character [`hidden_char`] finds; `what` names the
/// field ("package name", "version", …).
pub fn check_visible(what: &str, value: &str) -> Result<()> {
    match hidden_char(value) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(format!(
            "{what} {value:?} contains {}; control and bidirectional formatting characters are not allowed",
            describe(c)
        ))),
    }
}

/// At most `max_bytes` of `value`, cut at a character boundary: for text that comes from outside
/// and is stored or shown, so its size is ours to decide.
pub fn clip(value: &str, max_bytes: usize) -> &str {
    if value.len() <= max_bytes {
        return value;
    }
    let mut end = max_bytes;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_control_characters_are_found() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
            '\0', '\n', '\u{7F}', '\u{85}',
        ] {
            let value = format!("1.0{c}0");
            assert_eq!(hidden_char(&value), Some(c), "{:04X}", u32::from(c));
        }
        for ok in ["1.0.0", "ünïcode", "名前", "dev-feature/x", "a\u{200D}b"] {
            assert_eq!(hidden_char(ok), None, "{ok}");
            check_visible("version", ok).unwrap();
        }
    }

    #[test]
    fn clip_cuts_at_character_boundaries() {
        assert_eq!(clip("push", 10), "push");
        assert_eq!(clip("push", 2), "pu");
        assert_eq!(clip("äöü", 3), "ä");
        assert_eq!(clip("äöü", 1), "");
    }

    #[test]
    fn refusals_name_the_code_point_without_echoing_it() {
        let err = check_visible("file name", "invoice\u{202E}gpj.exe").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::Validation(_)));
        assert!(
            text.contains("U+202E (a bidirectional formatting character)"),
            "{text}"
        );
        assert!(text.starts_with("file name "), "{text}");
        assert!(!text.contains('\u{202E}'), "{text}");
        let text = check_visible("version", "1\u{7}").unwrap_err().to_string();
        assert!(text.contains("U+0007 (a control character)"), "{text}");
    }
}
