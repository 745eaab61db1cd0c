//! Plain words for every failure the loader reports: what was expected, what was
//! found, in the schema's own names, with a suggestion where one helps.

use serde_json::Value;

use super::place::{Kind, definition_name, describe};
use super::sources::{Source, Sources};
use super::span::Target;
use super::suggest::nearest;
use crate::document::{Format, yaml_syntax_error, yaml_to_json};
use crate::error::{Location, SchemaFailure};

/// The primitive type names.
const PRIMITIVES: [&str; 6] = ["boolean", "integer", "number", "string", "any", "bytes"];
/// The prefixes a definition's key may start with.
const DEFINITION_KINDS: [&str; 7] = ["struct", "union", "fn", "errors", "headers", "info", "_ext"];
/// Words people use for a function's result.
const RESULT_SYNONYMS: [&str; 6] = ["result", "results", "return", "returns", "output", "=>"];

/// A failure in words.
#[derive(Debug)]
pub(crate) struct Message {
    /// The sentence after `error:`.
    pub(crate) title: String,
    /// A few words under the caret.
    pub(crate) label: String,
    /// What the caret goes under.
    pub(crate) target: Target,
    /// What to do about it, when there is something specific to say.
    pub(crate) help: Option<String>,
    /// Where to point instead of the failure's location (a syntax error's position).
    pub(crate) at: Option<Location>,
    /// The definition's key, to underline instead of its whole list item.
    pub(crate) key: Option<String>,
}

impl Message {
    fn new(title: String, label: &str, target: Target) -> Message {
        Message {
            title,
            label: label.to_string(),
            target,
            help: None,
            at: None,
            key: None,
        }
    }

    fn help(mut self, help: impl Into<Option<String>>) -> Message {
        self.help = help.into();
        self
    }
}

/// What a failure's message is built from.
struct Facts<'a> {
    failure: &'a SchemaFailure,
    source: Option<&'a Source>,
    sources: &'a Sources,
    /// The schema key of the definition the path starts in.
    definition: Option<String>,
}

impl Facts<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.failure.data.get(key).and_then(Value::as_str)
    }

    fn count(&self, key: &str) -> u64 {
        self.failure
            .data
            .get(key)
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }

    fn place(&self) -> String {
        describe(&self.failure.path, self.definition.as_deref())
    }

    fn parent_place(&self) -> String {
        let path = &self.failure.path;
        describe(
            &path[..path.len().saturating_sub(1)],
            self.definition.as_deref(),
        )
    }

    /// The definition, as shown: `` `fn.add` `` or `definition 2`.
    fn def(&self) -> String {
        let index = self.index().unwrap_or(0);
        definition_name(index, self.definition.as_deref())
    }

    fn index(&self) -> Option<usize> {
        let index = self.failure.path.first()?.as_u64()?;
        usize::try_from(index).ok()
    }

    fn kind(&self) -> Kind {
        self.definition.as_deref().map_or(Kind::Other, Kind::of)
    }

    fn last_key(&self) -> Option<&str> {
        self.failure.path.last().and_then(Value::as_str)
    }

    fn value(&self) -> Option<&Value> {
        self.source?.value_at(&self.failure.path)
    }

    /// Struct, union and function names of the schema, for suggestions.
    fn type_names(&self) -> Vec<String> {
        let mut names: Vec<String> = PRIMITIVES.iter().map(|p| p.to_string()).collect();
        names.extend(
            self.sources
                .definition_keys()
                .into_iter()
                .filter(|key| matches!(Kind::of(key), Kind::Struct | Kind::Union | Kind::Function)),
        );
        names
    }
}

/// The failure's message, using the documents in `sources` when they are there.
pub(crate) fn describe_failure(failure: &SchemaFailure, sources: &Sources) -> Message {
    let source = sources.get(&failure.document);
    let in_path = failure.path.get(1).and_then(Value::as_str);
    let definition = match (source, failure.path.first().and_then(Value::as_u64)) {
        (Some(source), Some(index)) => usize::try_from(index)
            .ok()
            .and_then(|index| source.definition(index)),
        _ => None,
    }
    .or_else(|| {
        in_path
            .filter(|key| crate::parse::is_schema_key(key))
            .map(String::from)
    });
    let facts = Facts {
        failure,
        source,
        sources,
        definition,
    };
    let mut message = message(&facts);
    if failure.path.len() == 1 {
        message.key = facts.definition.clone();
    }
    message
}

fn message(facts: &Facts<'_>) -> Message {
    let failure = facts.failure;
    match failure.reason.as_str() {
        "TypeUnexpected" => type_unexpected(facts),
        "PathCollision" => path_collision(facts),
        "StringRegexMatchFailed" => string_mismatch(facts),
        "TypeUnknown" => type_unknown(facts),
        "ObjectSizeUnexpected" => object_size(facts),
        "ArrayLengthUnexpected" => array_length(facts),
        "ObjectKeyRegexMatchCountUnexpected" => key_count(facts),
        "ObjectKeyDisallowed" => key_disallowed(facts),
        "KeyRegexMatchFailed" => key_mismatch(facts),
        "RequiredObjectKeyMissing" => key_missing(facts),
        "EmptyArrayDisallowed" => empty_list(facts),
        "DuplicateField" => duplicate_field(facts),
        "RecursiveTypeUnterminated" => unterminated(facts),
        "TypeExtensionImplementationMissing" => Message::new(
            format!(
                "unknown type extension `{}`",
                facts.str("name").unwrap_or_default()
            ),
            "not a type extension",
            Target::Key,
        )
        .help("the only type extension is `_ext.Select_`".to_string()),
        "JsonInvalid" => syntax(facts),
        "FileNamePatternInvalid" => Message::new(
            format!("`{}` is not a schema file", failure.document),
            "",
            Target::Key,
        )
        .help(
            "a schema directory holds only `*.telepact.yaml` and `*.telepact.json` files"
                .to_string(),
        ),
        "DirectoryDisallowed" => Message::new(
            format!(
                "`{}` is a directory inside the schema directory",
                failure.document
            ),
            "",
            Target::Key,
        )
        .help("a schema directory holds only schema files; move the subdirectory out".to_string()),
        "RegexInvalid" => Message::new(
            format!("{} is not a valid regular expression", facts.place()),
            "invalid pattern",
            Target::Value,
        ),
        other => Message::new(
            format!("{} is invalid ({other})", facts.place()),
            "here",
            Target::Key,
        ),
    }
}

/// The protocol's JSON type tags in words.
fn kind_words(tag: &str) -> &str {
    match tag {
        "Array" => "a list",
        "Object" => "an object",
        "String" => "a string",
        "Number" => "a number",
        "Boolean" => "a boolean",
        "Null" => "null",
        "StringOrArrayOrObject" => "a type",
        other => other,
    }
}

fn first_key(data: Option<&Value>) -> &str {
    data.and_then(Value::as_object)
        .and_then(|object| object.keys().next())
        .map_or("", String::as_str)
}

fn type_unexpected(facts: &Facts<'_>) -> Message {
    let data = &facts.failure.data;
    let expected = kind_words(first_key(data.get("expected")));
    let found = match (facts.value(), facts.source) {
        (None, Some(_)) if !facts.failure.path.is_empty() => "nothing",
        _ => kind_words(first_key(data.get("actual"))),
    };
    let place = facts.place();
    let title = format!("{place} must be {expected}, found {found}");
    let message = Message::new(title, &format!("expected {expected}"), Target::Value);
    let help = match (facts.failure.path.len(), expected) {
        _ if facts.last_key() == Some("_errors") => Some(
            "`_errors` is a pattern naming the `errors.` sets the function may return, such as `^errors\\.Validation_$`"
                .to_string(),
        ),
        (0, _) => Some("a schema document is a list of definitions, such as `- struct.Tree: {id: integer}`".to_string()),
        (1, _) => Some("each item of the list is one definition, such as `struct.Tree: {id: integer}`".to_string()),
        (_, "a type") => Some("a type is a name (`integer`, `struct.Tree`, `string?` for nullable), a list `[T]` or a map `{string: T}`".to_string()),
        (2, "a list") if matches!(facts.kind(), Kind::Union | Kind::Errors | Kind::Function) => {
            Some("tags are listed as `- Tag: {field: type}`".to_string())
        }
        (2, "an object") => Some("fields are written `name: type`, such as `{id: integer, note!: string}`".to_string()),
        (3, "an object") if facts.failure.path.last().is_some_and(Value::is_u64) => {
            Some("each item of the list is one tag with its fields, such as `- NotFound: {id: integer}`".to_string())
        }
        _ => None,
    };
    message.help(help)
}

fn path_collision(facts: &Facts<'_>) -> Message {
    let data = &facts.failure.data;
    let other_path: Vec<Value> = data
        .get("path")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let other_doc = data
        .get("document")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let other_definition = facts.sources.get(other_doc).and_then(|source| {
        let index = usize::try_from(other_path.first()?.as_u64()?).ok()?;
        source.definition(index)
    });
    let other_place = describe(&other_path, other_definition.as_deref());
    let name = facts.last_key().unwrap_or_default();
    let path = &facts.failure.path;
    if path.len() == 2 {
        let title = if Kind::of(name) == Kind::Other && name.starts_with("info.") {
            format!(
                "a schema has one `info.` definition, but {} repeats {other_place}",
                facts.def()
            )
        } else {
            format!("`{name}` is defined twice")
        };
        return Message::new(title, "defined again here", Target::Key);
    }
    let title = format!("{} repeats {other_place}", facts.place());
    let help = match facts.kind() {
        Kind::Errors => {
            "an error may be declared once: in one `errors.` set, and not again in the result of a function that set applies to"
        }
        Kind::Headers => "each header may be declared by one `headers.` definition",
        _ => "each name may be declared once",
    };
    Message::new(title, "declared again here", Target::Key).help(help.to_string())
}

fn string_mismatch(facts: &Facts<'_>) -> Message {
    let text = facts.value().and_then(Value::as_str);
    if facts.failure.path.len() == 1 {
        let key = facts.definition.clone().unwrap_or_default();
        return Message::new(
            format!("`{key}` is not a valid definition name"),
            "invalid name",
            Target::Key,
        )
        .help(format!(
            "after `{}.` comes a name of letters, digits and `_` that starts with a letter or `_`, such as `struct.Tree`",
            key.split('.').next().unwrap_or("struct")
        ));
    }
    let regex = facts.str("regex").unwrap_or_default();
    if regex.starts_with("^(.*?)") {
        return Message::new(
            format!("the type of {} spans several lines", facts.place()),
            "one line expected",
            Target::Value,
        )
        .help("write a type name on one line, such as `string` or `struct.Tree?`".to_string());
    }
    if text == Some("") {
        return Message::new(
            format!("{} has an empty type", facts.place()),
            "type expected",
            Target::Value,
        )
        .help("write a type, such as `string` or `struct.Tree`".to_string());
    }
    let shown = text.map_or_else(String::new, |text| format!(" `{text}`"));
    let help = text
        .and_then(|text| suggest_type(facts, text))
        .unwrap_or_else(|| {
            "a type is one of `boolean`, `integer`, `number`, `string`, `any`, `bytes`, or a `struct.`, `union.` or `fn.` name defined in the schema".to_string()
        });
    Message::new(
        format!("{} has an unknown type{shown}", facts.place()),
        "not a type",
        Target::Value,
    )
    .help(help)
}

/// `did you mean ...?` for a misspelt type name (keeping a `?` suffix).
fn suggest_type(facts: &Facts<'_>, text: &str) -> Option<String> {
    let (name, suffix) = match text.strip_suffix('?') {
        Some(name) => (name, "?"),
        None => (text, ""),
    };
    let names = facts.type_names();
    let found = nearest(name, names.iter().map(String::as_str)).or_else(|| {
        // A definition named without its kind: `Tree` for `struct.Tree`.
        names.iter().map(String::as_str).find(|known| {
            known
                .split_once('.')
                .is_some_and(|(_, bare)| bare.eq_ignore_ascii_case(name))
        })
    })?;
    Some(format!("did you mean `{found}{suffix}`?"))
}

fn type_unknown(facts: &Facts<'_>) -> Message {
    let name = facts.str("name").unwrap_or_default();
    let names = facts.type_names();
    let help = match nearest(name, names.iter().map(String::as_str)) {
        Some(found) => format!("did you mean `{found}`?"),
        None => format!("define `{name}` in the schema, or refer to a type that is defined"),
    };
    Message::new(
        format!("{} refers to `{name}`, which is not defined", facts.place()),
        "not defined",
        Target::Value,
    )
    .help(help)
}

fn object_size(facts: &Facts<'_>) -> Message {
    let actual = facts.count("actual");
    let keys = if actual == 1 { "key" } else { "keys" };
    if facts.failure.path.last().is_some_and(Value::is_u64) && facts.failure.path.len() == 3 {
        let title = format!(
            "{} must have exactly one tag, found {actual} {keys}",
            facts.place()
        );
        return Message::new(title, "one tag expected", Target::Key)
            .help("give each tag its own list item: `- Tag: {field: type}`".to_string());
    }
    Message::new(
        format!(
            "the map type of {} must have exactly one key, found {actual} {keys}",
            facts.place()
        ),
        "one key expected",
        Target::Value,
    )
    .help("a map type is written `{string: T}`".to_string())
}

fn array_length(facts: &Facts<'_>) -> Message {
    let actual = facts.count("actual");
    let types = if actual == 1 { "type" } else { "types" };
    Message::new(
        format!(
            "the list type of {} must hold exactly one element type, found {actual} {types}",
            facts.place()
        ),
        "one element type expected",
        Target::Value,
    )
    .help("a list type is written `[T]`, such as `[string]`".to_string())
}

fn listed(keys: &[&str]) -> String {
    let shown: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    if shown.is_empty() {
        "no keys".to_string()
    } else {
        shown.join(", ")
    }
}

fn key_count(facts: &Facts<'_>) -> Message {
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
    let help = suggestion.unwrap_or_else(|| format!("a {what} key starts with {example}"));
    Message::new(title, &format!("no {what} here"), Target::Key).help(help)
}

fn suggest_definition_key(key: &str) -> Option<String> {
    let (prefix, name) = key.split_once('.')?;
    let kind = nearest(prefix, DEFINITION_KINDS)?;
    Some(format!("did you mean `{kind}.{name}`?"))
}

fn suggest_tag(key: &str) -> Option<String> {
    let mut chars = key.chars();
    let first = chars.next()?;
    first.is_ascii_lowercase().then(|| {
        format!(
            "did you mean `{}{}`? tags start with a capital letter",
            first.to_ascii_uppercase(),
            chars.as_str()
        )
    })
}

fn key_disallowed(facts: &Facts<'_>) -> Message {
    let key = facts.last_key().unwrap_or_default();
    let parent = facts.parent_place();
    let title = format!("{parent} has an unexpected key `{key}`");
    let message = Message::new(title, "not allowed here", Target::Key);
    if facts.failure.path.len() > 2 {
        return message.help("a map type has the one key `string`: `{string: T}`".to_string());
    }
    let kind = facts.kind();
    let is_internal = facts
        .definition
        .as_deref()
        .is_some_and(|def| def.ends_with('_'));
    if kind == Kind::Function && key == "_errors" && !is_internal {
        return message.help(
            "only internal functions (names ending in `_`) choose their errors with `_errors`"
                .to_string(),
        );
    }
    let allowed: &[&str] = match kind {
        Kind::Function => &["->", "///", "_errors"],
        _ => &["///"],
    };
    let suggestion = nearest(key, allowed.iter().copied()).or_else(|| {
        (kind == Kind::Function && RESULT_SYNONYMS.contains(&key.to_lowercase().as_str()))
            .then_some("->")
    });
    let help = match suggestion {
        Some(found) => format!("did you mean `{found}`?"),
        None => {
            let listing: Vec<String> = allowed.iter().map(|key| format!("`{key}`")).collect();
            format!(
                "besides its name, {} may hold only {}",
                facts.def(),
                listing.join(", ")
            )
        }
    };
    message.help(help)
}

fn key_mismatch(facts: &Facts<'_>) -> Message {
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

fn key_missing(facts: &Facts<'_>) -> Message {
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

fn empty_list(facts: &Facts<'_>) -> Message {
    let (title, help) = match facts.kind() {
        Kind::Errors => (
            format!("{} declares no errors", facts.def()),
            "list at least one error, such as `- NotFound: {}`",
        ),
        Kind::Function => (
            format!("the result of {} lists no tags", facts.def()),
            "a function's result lists at least `Ok_`, such as `->: [{Ok_: {}}]`",
        ),
        _ => (
            format!("{} has no tags", facts.def()),
            "a union lists at least one tag, such as `- Tag: {}`",
        ),
    };
    Message::new(title, "empty", Target::Value).help(help.to_string())
}

fn duplicate_field(facts: &Facts<'_>) -> Message {
    let field = facts.str("field").unwrap_or_default();
    Message::new(
        format!("`{field}` is declared more than once in {}", facts.place()),
        "repeated in here",
        Target::Key,
    )
    .help(format!(
        "`{field}` and `{field}!` name the same field: keep one"
    ))
}

fn unterminated(facts: &Facts<'_>) -> Message {
    let whole = matches!(facts.kind(), Kind::Struct | Kind::Union);
    let place = if whole { facts.def() } else { facts.place() };
    Message::new(
        format!("{place} is infinitely recursive: every value of it must contain another, without end"),
        "infinitely recursive",
        Target::Key,
    )
    .help("make one of the fields on the cycle optional (`field!`), nullable (`T?`) or a list, so a value can stop".to_string())
}

fn syntax(facts: &Facts<'_>) -> Message {
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
        _ => message(
            format!("`{name}` holds YAML that has no JSON form"),
            "dates, `.inf`, `.nan`, repeated keys, non-string keys and several documents in one file have no JSON form; quote such values",
        ),
    }
}

/// Where and why a text is neither JSON nor YAML. Text that starts like JSON is read
/// as JSON, so a missing comma is reported in JSON's terms.
fn syntax_error(source: &Source) -> Option<(Location, String)> {
    let text = source.text.as_str();
    let looks_like_json = text.trim_start().starts_with(['[', '{']);
    if source.format == Format::Json || looks_like_json {
        let error = serde_json::from_str::<Value>(text).err()?;
        let words = error.to_string();
        let words = words
            .rsplit_once(" at line ")
            .map_or(words.as_str(), |(words, _)| words)
            .to_string();
        let location = Location {
            row: error.line().max(1),
            col: error.column().max(1),
        };
        return Some((location, words));
    }
    yaml_syntax_error(text)
}
