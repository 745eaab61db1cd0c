//! Messages about keys: definitions and tags that name nothing, keys that are not
//! allowed, invalid field and header names, required keys that are missing.

use serde_json::Value;

use super::{Facts, Message};
use crate::diagnostics::place::Kind;
use crate::diagnostics::span::Target;
use crate::diagnostics::suggest::nearest;

/// The prefixes a definition's key may start with.
const DEFINITION_KINDS: [&str; 7] = ["struct", "union", "fn", "errors", "headers", "info", "_ext"];
/// Words people use for a function's result.
const RESULT_SYNONYMS: [&str; 6] = ["result", "results", "return", "returns", "output", "=>"];

fn listed(keys: &[&str]) -> String {
    let shown: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    if shown.is_empty() {
        "no keys".to_string()
    } else {
        shown.join(", ")
    }
}

pub(super) fn key_count(facts: &Facts<'_>) -> Message {
    let data = &facts.failure.data;
    let keys: Vec<&str> = data
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| keys.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let actual = facts.count("actual");
    let is_definition = facts.failure.path.len() == 1;
    let (what, example) = if is_definition {
        (
            "definition",
            "`struct.`, `union.`, `fn.`, `errors.`, `headers.`, `info.` or `_ext.`",
        )
    } else {
        ("tag", "a capital letter (`Ok_`, `NotFound`)")
    };
    if actual > 1 {
        let title = format!(
            "{} names {actual} {what}s at once: {}",
            facts.place(),
            listed(&keys)
        );
        return Message::new(title, "one expected", Target::Key)
            .help(format!("give each {what} its own list item"));
    }
    let title = match keys.as_slice() {
        [] => format!("{} is empty: it names no {what}", facts.place()),
        [key] => format!(
            "{} names no {what}: `{key}` is not a {what} key",
            facts.place()
        ),
        _ => format!(
            "{} names no {what}: none of {} is a {what} key",
            facts.place(),
            listed(&keys)
        ),
    };
    let suggestion = keys.iter().find_map(|key| {
        if is_definition {
            suggest_definition_key(key)
        } else {
            suggest_tag(key)
        }
    });
    let help = match (suggestion, keys.is_empty(), is_definition) {
        (Some(suggestion), _, _) => suggestion,
        (None, true, false) => {
            "each item names one tag with its fields, such as `- NotFound: {id: integer}`"
                .to_string()
        }
        (None, _, _) => format!("a {what} key starts with {example}"),
    };
    let label = if keys.is_empty() {
        format!("no {what} here")
    } else {
        format!("not a {what}")
    };
    let mut message = Message::new(title, &label, Target::Key).help(help);
    if let [key] = keys.as_slice() {
        message.key = Some(key.to_string());
    }
    message
}

fn suggest_definition_key(key: &str) -> Option<String> {
    let (prefix, name) = key.split_once('.')?;
    let kind = nearest(prefix, DEFINITION_KINDS)?;
    Some(format!("did you mean `{kind}.{name}`?"))
}

/// The tag a key was likely meant to be: capitalised, without other characters.
fn suggest_tag(key: &str) -> Option<String> {
    let kept: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut chars = kept.chars();
    let first = chars.next().filter(char::is_ascii_alphabetic)?;
    let fixed = format!("{}{}", first.to_ascii_uppercase(), chars.as_str());
    (fixed != key).then(|| {
        format!("did you mean `{fixed}`? a tag is a capital letter, then letters, digits or `_`")
    })
}

pub(super) fn key_disallowed(facts: &Facts<'_>) -> Message {
    let key = facts.last_key().unwrap_or_default();
    let parent = facts.parent_place();
    let title = format!("{parent} has an unexpected key `{key}`");
    let message = Message::new(title, "not allowed here", Target::Key);
    if facts.failure.path.len() > 2 {
        return message.help("a map type has the one key `string`: `{string: T}`".to_string());
    }
    let kind = facts.kind();
    if kind == Kind::Function && key == "_errors" {
        return message.help(
            "only internal functions (a name ending in `_`, or `$internal: true`) choose their errors with `_errors`"
                .to_string(),
        );
    }
    let (allowed, listing): (&[&str], &str) = match kind {
        Kind::Function => (
            &["->", "///", "_errors", "_ignoreIfDuplicate"],
            "`->`, `///`, `_ignoreIfDuplicate` and `$` options",
        ),
        Kind::Struct => (
            &["///", "_ignoreIfDuplicate"],
            "`///`, `_ignoreIfDuplicate` and `$` options",
        ),
        _ => (&["///"], "`///`"),
    };
    let suggestion = nearest(key, allowed.iter().copied()).or_else(|| {
        (kind == Kind::Function && RESULT_SYNONYMS.contains(&key.to_lowercase().as_str()))
            .then_some("->")
    });
    let help = match suggestion {
        Some(found) => format!("did you mean `{found}`?"),
        None => format!("besides its name, {} may hold only {listing}", facts.def()),
    };
    message.help(help)
}

pub(super) fn key_mismatch(facts: &Facts<'_>) -> Message {
    let key = facts.last_key().unwrap_or_default();
    let is_header = facts
        .str("regex")
        .is_some_and(|regex| regex.starts_with("^@"));
    let (what, rule, suggestion) = if is_header {
        let fixed = format!("@{}", key.trim_start_matches('@'));
        let suggestion = (fixed != key && fixed.len() > 1).then_some(fixed);
        (
            "header",
            "a header name is `@` followed by a lowercase letter, then letters, digits or `_`",
            suggestion,
        )
    } else {
        let trimmed: String = key
            .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
            .to_string();
        let mut chars = trimmed.chars();
        let fixed = chars
            .next()
            .map(|first| format!("{}{}", first.to_ascii_lowercase(), chars.as_str()));
        let suggestion = fixed.filter(|fixed| fixed != key);
        (
            "field",
            "a field name starts with a lowercase letter, then letters, digits or `_`; a final `!` makes it optional",
            suggestion,
        )
    };
    let parent = facts.parent_place();
    let parent = parent.strip_prefix("the fields of ").unwrap_or(&parent);
    let title = format!("`{key}` is not a valid {what} name in {parent}");
    let help = match suggestion {
        Some(fixed) => format!("did you mean `{fixed}`? {rule}"),
        None => rule.to_string(),
    };
    Message::new(title, &format!("invalid {what} name"), Target::Key).help(help)
}

pub(super) fn key_missing(facts: &Facts<'_>) -> Message {
    let key = facts.str("key").unwrap_or_default();
    match key {
        "->" if facts.kind() == Kind::Headers => Message::new(
            format!("{} has no response headers `->`", facts.def()),
            "`->` expected",
            Target::Key,
        )
        .help("add `->: {}` when the response has no headers".to_string()),
        "->" => Message::new(
            format!("function {} has no result `->`", facts.def()),
            "`->` expected",
            Target::Key,
        )
        .help("a function lists its result after `->`, such as `->: [{Ok_: {}}]`".to_string()),
        "Ok_" => Message::new(
            format!("{} has no `Ok_` tag", facts.parent_place()),
            "`Ok_` expected",
            Target::Key,
        )
        .help(
            "a function's result must include the success case `Ok_`, such as `- Ok_: {}`"
                .to_string(),
        ),
        "string" => Message::new(
            format!("the map type of {} is not keyed by `string`", facts.place()),
            "`string` key expected",
            Target::Value,
        )
        .help("a map type is written `{string: T}`".to_string()),
        other => Message::new(
            format!("{} has no `{other}`", facts.place()),
            &format!("`{other}` expected"),
            Target::Key,
        ),
    }
}
