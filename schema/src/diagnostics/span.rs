//! Finds the text to underline: the key or value token that starts at a failure's
//! location (failures locate where a key or list element starts).

use std::ops::Range;

use super::lines::LinedText;
use crate::error::Location;

/// What the caret goes under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Target {
    /// The token at the location: a key, or a list element.
    Key,
    /// The value after the key at the location, when it is on the same line.
    Value,
    /// The one character at the location (where a parser stopped).
    Point,
}

/// Byte offset of 1-based `location` in the text; `None` when the text is shorter.
fn offset(lines: &LinedText<'_>, location: Location) -> Option<usize> {
    lines.offset(location.row, location.col.saturating_sub(1))
}

/// The byte range to underline in `text` for a failure at `location`.
pub(crate) fn span(
    lines: &LinedText<'_>,
    location: Location,
    target: Target,
) -> Option<Range<usize>> {
    let start = offset(lines, location)?;
    let text = lines.text;
    if target == Target::Point {
        let width = text[start..].chars().next().map_or(0, char::len_utf8);
        return Some(start..start + width);
    }
    let key = token(text, start);
    if target == Target::Key {
        return Some(key);
    }
    let after_key = &text[key.end..];
    let gap = after_key.len() - after_key.trim_start_matches([' ', '\t']).len();
    let Some(rest) = after_key[gap..].strip_prefix(':') else {
        return Some(key);
    };
    let value_start = key.end + gap + 1 + (rest.len() - rest.trim_start_matches([' ', '\t']).len());
    let value = token(text, value_start);
    Some(if value.is_empty() { key } else { value })
}

/// Where the key `name` (quoted, or bare before a `:`, or bare) first appears at or
/// after `location`: a definition located by its list item is shown by its key, a
/// repeated field by its second key.
pub(crate) fn find_name(
    lines: &LinedText<'_>,
    location: Location,
    name: &str,
) -> Option<Range<usize>> {
    let start = offset(lines, location)?;
    let rest = &lines.text[start..];
    let yaml_key = format!("{name}:");
    let (at, len) = lines
        .find_quoted(name, start)
        .map(|at| (at, name.len() + 2))
        .or_else(|| rest.find(&yaml_key).map(|at| (start + at, name.len())))
        .or_else(|| rest.find(name).map(|at| (start + at, name.len())))?;
    Some(at..at + len)
}

/// The token starting at `start`: a quoted string, a flow list or object on one line,
/// or a plain word up to a delimiter. Never empty unless the line ends at `start`.
/// Each scan stops at its token's end or the line's, whichever comes first: a
/// minified document is one line, with every failure on it.
fn token(text: &str, start: usize) -> Range<usize> {
    let rest = &text[start..];
    let len = match rest.chars().next() {
        None | Some('\n' | '\r') => 0,
        Some(quote @ ('"' | '\'')) => quoted_len(rest, quote),
        Some(open @ ('[' | '{')) => flow_len(rest, open),
        Some(first) => plain_len(rest).max(first.len_utf8()),
    };
    start..start + len
}

fn ends_line(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// A quoted string up to its closing quote (or the line end).
fn quoted_len(rest: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            c if ends_line(c) => return i,
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return i + 1,
            _ => escaped = false,
        }
    }
    rest.len()
}

/// A bracketed value up to its matching close (or the line end).
fn flow_len(rest: &str, open: char) -> usize {
    let close = if open == '[' { ']' } else { '}' };
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        if ends_line(c) {
            return rest[..i].trim_end().len();
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return i + 1;
            }
        }
    }
    rest.trim_end().len()
}

/// A plain word: up to `: `, a flow delimiter, a comment or the line end.
fn plain_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    for (i, c) in rest.char_indices() {
        let next = bytes.get(i + 1).copied();
        let ends_key = c == ':' && matches!(next, None | Some(b' ' | b'\t' | b'\n' | b'\r'));
        let comment = c == '#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t');
        if ends_line(c) || ends_key || comment || matches!(c, ',' | ']' | '}') {
            return rest[..i].trim_end().len();
        }
    }
    rest.trim_end().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, row: usize, col: usize, target: Target) -> &str {
        let range = span(&LinedText::new(text), Location { row, col }, target).unwrap();
        &text[range]
    }

    #[test]
    fn keys_and_values_are_found_in_yaml_and_json() {
        let yaml = "- struct.Tree:\n    id: \"integr\"  # typo\n    age: integr\n";
        assert_eq!(shown(yaml, 2, 5, Target::Key), "id");
        assert_eq!(shown(yaml, 2, 5, Target::Value), "\"integr\"");
        assert_eq!(shown(yaml, 3, 5, Target::Value), "integr");
        assert_eq!(shown(yaml, 1, 3, Target::Value), "struct.Tree");
        let json = r#"[{"struct.Tree": {"id": ["integr"], "n": 1}}]"#;
        assert_eq!(shown(json, 1, 19, Target::Key), "\"id\"");
        assert_eq!(shown(json, 1, 19, Target::Value), "[\"integr\"]");
        assert_eq!(shown(json, 1, 37, Target::Value), "1");
        let lines = LinedText::new(json);
        let found = find_name(&lines, Location { row: 1, col: 2 }, "struct.Tree").unwrap();
        assert_eq!(&json[found], "\"struct.Tree\"");
    }
}
