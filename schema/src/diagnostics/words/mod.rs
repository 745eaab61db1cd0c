//! Plain words for every failure the loader reports: what was expected, what was
//! found, in the schema's own names, with a suggestion where one helps.

mod keys;
mod syntax;

use serde_json::Value;

use super::place::{Kind, definition_name, describe};
use super::sources::{Source, Sources};
use super::span::Target;
use super::suggest::nearest;
use crate::error::{Location, SchemaFailure};
use crate::parse::merge;
use crate::standard;
use keys::{key_count, key_disallowed, key_mismatch, key_missing};
use syntax::syntax;

/// The primitive type names.
pub(super) const PRIMITIVES: [&str; 6] = ["boolean", "integer", "number", "string", "any", "bytes"];

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
            title: with_quotes_cut(title),
            label: label.to_string(),
            target,
            help: None,
            at: None,
            key: None,
        }
    }

    fn help(mut self, help: impl Into<Option<String>>) -> Message {
        self.help = help.into().map(with_quotes_cut);
        self
    }
}

/// The most characters a message shows of one `quoted` name, type or value: the schema
/// may hold one of megabytes, and a message is one line.
const QUOTED_CHARS: usize = 80;

/// `text` with each `quoted` part past [`QUOTED_CHARS`] cut to them, and `…`.
fn with_quotes_cut(text: String) -> String {
    let too_long =
        |part: &str| part.len() > QUOTED_CHARS && part.chars().nth(QUOTED_CHARS).is_some();
    if !text.split('`').skip(1).step_by(2).any(too_long) {
        return text;
    }
    let mut shown = String::new();
    for (index, part) in text.split('`').enumerate() {
        if index > 0 {
            shown.push('`');
        }
        if index % 2 == 1 && too_long(part) {
            shown.extend(part.chars().take(QUOTED_CHARS));
            shown.push('…');
        } else {
            shown.push_str(part);
        }
    }
    shown
}

/// What a failure's message is built from.
struct Facts<'a> {
    failure: &'a SchemaFailure,
    source: Option<&'a Source>,
    sources: &'a Sources,
    /// The schema key of the definition the path starts in.
    definition: Option<String>,
    /// Whether help may suggest a type name, which costs a look at every one.
    suggest: Suggestions,
}

/// Whether a failure's help suggests a defined type name for a misspelt one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suggestions {
    Made,
    Skipped,
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

    /// Primitive, struct, union and function names, for suggestions.
    fn type_names(&self) -> &[String] {
        match self.suggest {
            Suggestions::Made => self.sources.type_names(),
            Suggestions::Skipped => &[],
        }
    }
}

/// The failure's message, using the documents in `sources` when they are there.
pub(crate) fn describe_failure(
    failure: &SchemaFailure,
    sources: &Sources,
    suggest: Suggestions,
) -> Message {
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
        suggest,
    };
    let mut message = message(&facts);
    if failure.path.len() == 1 && message.key.is_none() {
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
        "ErrorTagsPastLimit" => error_tags_past_limit(facts),
        "DocumentNameReserved" => Message::new(
            format!(
                "the document name `{}` is reserved for the standard definitions",
                failure.document
            ),
            "",
            Target::Key,
        )
        .help("give the document another name".to_string()),
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

/// Too many copies of error tags: the functions, the sets and the limit in words.
fn error_tags_past_limit(facts: &Facts<'_>) -> Message {
    let number = |key: &str| {
        let value = facts.failure.data.get(key).and_then(Value::as_u64);
        value.unwrap_or_default()
    };
    let title = format!(
        "the functions' results would hold {} copies of `errors.` tags, past this schema's limit of {}",
        number("copies"),
        number("limit")
    );
    Message::new(title, "copied most", Target::Key).help(format!(
        "every public function's result takes every tag of every `errors.` set; a schema may \
         ask for {} copies, and one more for each {} bytes of its text",
        merge::ERROR_TAG_COPIES,
        merge::TEXT_BYTES_PER_COPY
    ))
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
        (4, "an object") if facts.failure.path.get(2).is_some_and(Value::is_u64) => {
            Some("a tag holds its fields as an object, such as `- NotFound: {id: integer}`, or `{}` for none".to_string())
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
    let is_standard =
        |document: &str| document == standard::INTERNAL_NAME || document == standard::AUTH_NAME;
    if is_standard(&facts.failure.document) || is_standard(other_doc) {
        return Message::new(
            format!("`{name}` is a standard definition; a schema cannot define it again"),
            "defined again here",
            Target::Key,
        )
        .help(
            "rename the definition; the standard definitions come with every schema".to_string(),
        );
    }
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
        .and_then(collection_in_a_string)
        .or_else(|| text.and_then(|text| suggest_type(facts, text)))
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

/// For a list or object type written inside a string (`"[string]"`): how to write it.
fn collection_in_a_string(text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(inner) = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
    {
        let element = inner.trim().trim_matches(['"', '\'']);
        return Some(format!(
            "a list type is a list holding its element's type, not a string: `[\"{element}\"]` in JSON, `[{element}]` in YAML"
        ));
    }
    (text.starts_with('{') && text.ends_with('}')).then(|| {
        "an object type is an object from `string` to its values' type, not a string: `{\"string\": \"number\"}` in JSON, `{string: number}` in YAML".to_string()
    })
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
    let place = facts.place();
    let place = place.strip_prefix("the fields of ").unwrap_or(&place);
    let mut message = Message::new(
        format!("`{field}` is declared more than once in {place}"),
        "declared again here",
        Target::Key,
    )
    .help(format!(
        "`{field}` and `{field}!` name the same field: keep one"
    ));
    // Point at the second key with this name.
    let same_name = |key: &&String| key.split('!').next() == Some(field);
    message.key = facts
        .value()
        .and_then(Value::as_object)
        .and_then(|body| body.keys().filter(same_name).nth(1).cloned());
    message
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
