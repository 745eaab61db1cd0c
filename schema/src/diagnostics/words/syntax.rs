//! Messages about documents that are not schema text at all: syntax errors (located
//! by the parser), empty documents, YAML without a JSON form.

use serde_json::Value;

use super::{Facts, Message};
use crate::diagnostics::sources::Source;
use crate::diagnostics::span::Target;
use crate::document::{
    Format, REPEATED_KEY, json_from_str, yaml_json_problem, yaml_syntax_error, yaml_to_json,
};
use crate::error::Location;

pub(super) fn syntax(facts: &Facts<'_>) -> Message {
    let name = &facts.failure.document;
    let text = facts.source.map_or("", |source| source.text.as_str());
    let message =
        |title: String, help: &str| Message::new(title, "", Target::Key).help(help.to_string());
    let only_comments = text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
    if only_comments && !text.trim().is_empty() {
        return message(
            format!("`{name}` holds only comments, no definitions"),
            "a schema document is a list of definitions, such as `- struct.Tree: {id: integer}`",
        );
    }
    if text.trim().is_empty() {
        return message(
            format!("`{name}` is empty or not UTF-8 text"),
            "a schema document is a list of definitions, such as `- struct.Tree: {id: integer}`",
        );
    }
    if let Some((at, words)) = facts.source.and_then(syntax_error) {
        let format = match facts.source.map(|source| source.format) {
            Some(Format::Json) => "JSON",
            _ if text.trim_start().starts_with(['[', '{']) => "JSON",
            _ => "YAML",
        };
        let mut found = message(
            format!("`{name}` is not valid {format}: {words}"),
            "fix the syntax here; a schema document is a list of definitions",
        );
        found.at = Some(at);
        found.target = Target::Point;
        return found;
    }
    match yaml_to_json(text) {
        Some(value) if !value.is_array() => {
            let kind = match value {
                Value::Null => "nothing",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                _ => "an object",
            };
            message(
                format!("`{name}` must be a list of definitions, found {kind}"),
                "a schema document is a list of definitions, such as `- struct.Tree: {id: integer}`",
            )
        }
        _ => {
            let help = "a schema is JSON written as YAML: dates, `.inf`, `.nan`, repeated keys, non-string keys and several documents in one file have no JSON form";
            match yaml_json_problem(text) {
                Some((at, why)) => {
                    let mut found = message(format!("`{name}` has no JSON form: {why}"), help);
                    found.at = Some(at);
                    found
                }
                None => message(format!("`{name}` holds YAML that has no JSON form"), help),
            }
        }
    }
}

/// Where and why a text is neither JSON nor YAML. Text that starts like JSON is read
/// as JSON, so a missing comma is reported in JSON's terms.
fn syntax_error(source: &Source) -> Option<(Location, String)> {
    let text = source.text.as_str();
    let looks_like_json = text.trim_start().starts_with(['[', '{']);
    if source.format == Format::Json || looks_like_json {
        let error = json_from_str(text).err()?;
        let words = error.to_string();
        let words = words
            .rsplit_once(" at line ")
            .map_or(words.as_str(), |(words, _)| words)
            .to_string();
        let mut location = Location {
            row: error.line().max(1),
            col: error.column().max(1),
        };
        if words.starts_with(REPEATED_KEY) {
            location.col = key_start(text, location);
        }
        return Some((location, words));
    }
    yaml_syntax_error(text)
}

/// The column of the opening quote of the key whose closing quote is at `at`: the
/// JSON reader notices a repeated key once it has read it to its end.
fn key_start(text: &str, at: Location) -> usize {
    let Some(line) = text.lines().nth(at.row - 1) else {
        return at.col;
    };
    let bytes = line.as_bytes();
    let closing = (at.col - 1).min(bytes.len());
    let mut index = closing;
    while index > 0 {
        index -= 1;
        let backslashes = bytes[..index]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if bytes[index] == b'"' && backslashes % 2 == 0 {
            return index + 1;
        }
    }
    at.col
}
