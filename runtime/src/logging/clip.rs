//! Text a client chose, cut to a length a log line can hold: a function name or an
//! `@id_` may be as long as the request body allows (a megabyte), and a log line
//! holding it whole would let any client fill the log.

use std::borrow::Cow;

use serde_json::Value;

/// The most bytes of a client's text a log field keeps.
pub(crate) const KEPT_BYTES: usize = 128;

/// `text` whole when it is short; else its first [`KEPT_BYTES`] (cut at a character
/// boundary) and how long it was.
pub(crate) fn clipped(text: &str) -> Cow<'_, str> {
    if text.len() <= KEPT_BYTES {
        return Cow::Borrowed(text);
    }
    let mut end = KEPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} bytes)", &text[..end], text.len()))
}

/// An `@id_` as a log field holds it: a string's text, any other value's JSON, clipped
/// as [`clipped`] clips text. The server's span and the client's write it alike.
pub(crate) fn clipped_id(id: &Value) -> Cow<'_, str> {
    match id {
        Value::String(text) => clipped(text),
        other => Cow::Owned(clipped(&other.to_string()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_at_a_character_boundary_and_says_its_length() {
        assert_eq!(clipped("fn.ping_"), "fn.ping_");
        let exact = "x".repeat(KEPT_BYTES);
        assert_eq!(clipped(&exact), exact.as_str());
        let long = format!("{}é{}", "a".repeat(KEPT_BYTES - 1), "b".repeat(1000));
        let kept = clipped(&long);
        assert_eq!(
            kept,
            format!("{}… ({} bytes)", "a".repeat(KEPT_BYTES - 1), long.len())
        );
    }
}
