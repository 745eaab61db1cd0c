//! `fn.*` definitions: the argument struct, the `->` result union and `_errors`.

use std::sync::{Arc, OnceLock};

use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Value, json};

use super::defs::{ParsedUnion, UnionRules, docstring, parse_struct, parse_union};
use super::entries::Entry;
use super::sink::{Sink, json_path};
use super::types::Scope;
use crate::model::Field;

const RESULT_KEY: &str = "->";
const ERRORS_KEY: &str = "_errors";
/// Internal functions accept only the standard validation errors by default.
const INTERNAL_ERRORS_REGEX: &str = r"^errors\.Validation_$";
/// Other functions accept every error set by default.
const PUBLIC_ERRORS_REGEX: &str = r"^errors\..*$";

/// A function definition before its result receives the error tags.
#[derive(Debug)]
pub(crate) struct ParsedFunction {
    pub(crate) doc: Option<String>,
    pub(crate) args: IndexMap<String, Field>,
    pub(crate) result: ParsedUnion,
    pub(crate) errors_regex: String,
    /// `errors_regex`, compiled (shared, so its match cache is reused).
    pub(crate) errors_matcher: Arc<Regex>,
    pub(crate) internal: bool,
    pub(crate) unauthenticated: bool,
}

/// Internal: the name ends in `_` or the definition says `$internal: true`.
pub(crate) fn is_internal(entry: &Entry<'_>) -> bool {
    entry.key.ends_with('_') || entry.def.get("$internal") == Some(&Value::Bool(true))
}

/// Parses a function; each part is checked only when the previous ones added no
/// failure. A part naming a definition that failed on its own adds none (that failure
/// is reported once, with its definition), so the next part is still checked.
pub(crate) fn parse_function(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    scope: &Scope<'_>,
) -> Option<ParsedFunction> {
    let before = sink.failures.len();
    let args = parse_struct(sink, entry, &[RESULT_KEY, ERRORS_KEY], scope);
    if sink.failures.len() != before {
        return None;
    }
    let result = parse_result(sink, entry, scope);
    if sink.failures.len() != before {
        return None;
    }
    let internal = is_internal(entry);
    let (errors_regex, errors_matcher) = parse_errors_regex(sink, entry, internal)?;
    Some(ParsedFunction {
        doc: docstring(entry.def),
        args: args?,
        result: result?,
        errors_regex,
        errors_matcher,
        internal,
        unauthenticated: entry.def.get("$authenticated") == Some(&Value::Bool(false)),
    })
}

fn parse_result(sink: &mut Sink<'_>, entry: &Entry<'_>, scope: &Scope<'_>) -> Option<ParsedUnion> {
    if !entry.def.contains_key(RESULT_KEY) {
        let data = json!({"key": RESULT_KEY});
        sink.push(
            entry.doc,
            json_path![entry.index],
            "RequiredObjectKeyMissing",
            data,
        );
        return None;
    }
    let rules = UnionRules {
        key: RESULT_KEY,
        other_keys_allowed: true,
        required_tags: &["Ok_"],
    };
    parse_union(sink, entry, &rules, scope)
}

/// Compiles an `_errors` pattern; the two defaults are compiled once per process.
fn compile(pattern: &str) -> Option<Arc<Regex>> {
    static INTERNAL: OnceLock<Option<Arc<Regex>>> = OnceLock::new();
    static PUBLIC: OnceLock<Option<Arc<Regex>>> = OnceLock::new();
    let build = || Regex::new(pattern).ok().map(Arc::new);
    match pattern {
        INTERNAL_ERRORS_REGEX => INTERNAL.get_or_init(build).clone(),
        PUBLIC_ERRORS_REGEX => PUBLIC.get_or_init(build).clone(),
        _ => build(),
    }
}

fn parse_errors_regex(
    sink: &mut Sink<'_>,
    entry: &Entry<'_>,
    internal: bool,
) -> Option<(String, Arc<Regex>)> {
    let regex_path = json_path![entry.index, ERRORS_KEY];
    let pattern = match entry.def.get(ERRORS_KEY) {
        Some(_) if !internal => {
            sink.push(entry.doc, regex_path, "ObjectKeyDisallowed", json!({}));
            return None;
        }
        None if internal => INTERNAL_ERRORS_REGEX,
        None => PUBLIC_ERRORS_REGEX,
        Some(Value::String(pattern)) => pattern,
        Some(other) => {
            sink.type_unexpected(entry.doc, regex_path, other, "String");
            return None;
        }
    };
    match compile(pattern) {
        Some(regex) => Some((pattern.to_string(), regex)),
        None => {
            // The reference has no reason for this; name the offending pattern.
            let data = json!({"regex": pattern});
            sink.push(entry.doc, regex_path, "RegexInvalid", data);
            None
        }
    }
}
