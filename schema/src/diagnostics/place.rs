//! Names a failure's JSON path in the schema's own terms: "field `id` of
//! `struct.Tree`", "result tag `Ok_` of `fn.add`", rather than `[0,"struct.Tree","id"]`.

use serde_json::Value;

/// What a definition holds under its schema key, which decides how its path reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    Struct,
    Union,
    Function,
    Errors,
    Headers,
    Other,
}

impl Kind {
    pub(crate) fn of(key: &str) -> Kind {
        let prefix = key.split(['.', '<']).next().unwrap_or_default();
        match prefix {
            "struct" => Kind::Struct,
            "union" => Kind::Union,
            "fn" => Kind::Function,
            "errors" => Kind::Errors,
            "headers" => Kind::Headers,
            _ => Kind::Other,
        }
    }
}

/// How the object under a definition's key (or `->`) is laid out.
#[derive(Clone, Copy, PartialEq)]
enum Body {
    /// `name: type` pairs: struct fields, function arguments, headers.
    Fields,
    /// A list of `Tag: {fields}` objects: unions, error sets, function results.
    Tags,
    Opaque,
}

/// The definition a failure is in, as the reader knows it: `struct.Tree`, or its
/// position when its key is unknown.
pub(crate) fn definition_name(index: usize, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("`{key}`"),
        None => format!("definition {}", index + 1),
    }
}

/// The body under `section` (the schema key or `->`) of a definition of `kind`.
fn body(kind: Kind, section: &str, key: &str, def: &str) -> Option<(Body, String)> {
    let is_own = section == key;
    if !is_own && section != "->" {
        return None;
    }
    let described = match (kind, is_own) {
        (Kind::Struct, true) => (Body::Fields, format!("the fields of {def}")),
        (Kind::Union | Kind::Errors, true) => (Body::Tags, format!("the tags of {def}")),
        (Kind::Function, true) => (Body::Fields, format!("the arguments of {def}")),
        (Kind::Function, false) => (Body::Tags, format!("the result of {def}")),
        (Kind::Headers, true) => (Body::Fields, format!("the request headers of {def}")),
        (Kind::Headers, false) => (Body::Fields, format!("the response headers of {def}")),
        (Kind::Other, true) => (Body::Opaque, def.to_string()),
        _ => return None,
    };
    Some(described)
}

/// The word for one entry of a field list.
fn field_word(kind: Kind, section: &str, key: &str) -> &'static str {
    match (kind, section == key) {
        (Kind::Function, true) => "argument",
        (Kind::Headers, true) => "request header",
        (Kind::Headers, false) => "response header",
        _ => "field",
    }
}

/// The word for one tag of a tag list.
fn tag_word(kind: Kind) -> &'static str {
    match kind {
        Kind::Function => "result tag",
        Kind::Errors => "error",
        _ => "tag",
    }
}

/// Reads the rest of a path inside a type expression: `[T]` elements and
/// `{string: T}` values.
fn inside_type(mut place: String, rest: &[Value]) -> String {
    for segment in rest {
        place = match segment {
            Value::Number(_) => format!("the element type of {place}"),
            Value::String(key) if key == "string" => format!("the value type of {place}"),
            Value::String(key) => format!("key `{key}` of {place}"),
            other => format!("{other} of {place}"),
        };
    }
    place
}

/// The place `path` points at, in words. `definition` is the schema key of the
/// definition at `path[0]`, when known.
pub(crate) fn describe(path: &[Value], definition: Option<&str>) -> String {
    let Some(index) = path.first().and_then(Value::as_u64) else {
        return "the document".to_string();
    };
    let index = usize::try_from(index).unwrap_or(usize::MAX);
    let def = definition_name(index, definition);
    let Some(section) = path.get(1).and_then(Value::as_str) else {
        return def;
    };
    let Some(key) = definition else {
        return inside_type(format!("key `{section}` of {def}"), &path[2..]);
    };
    let kind = Kind::of(key);
    let Some((layout, body_place)) = body(kind, section, key, &def) else {
        return inside_type(format!("key `{section}` of {def}"), &path[2..]);
    };
    let rest = &path[2..];
    match layout {
        Body::Fields => match rest.split_first() {
            None => body_place,
            Some((Value::String(field), rest)) => {
                let word = field_word(kind, section, key);
                inside_type(format!("{word} `{field}` of {def}"), rest)
            }
            Some(_) => inside_type(body_place, rest),
        },
        Body::Tags => describe_tag(kind, &def, body_place, rest),
        Body::Opaque => inside_type(body_place, rest),
    }
}

/// A place inside a tag list: `[k]`, `[k, Tag]`, `[k, Tag, field, ...]`.
fn describe_tag(kind: Kind, def: &str, body_place: String, rest: &[Value]) -> String {
    let word = tag_word(kind);
    let Some(position) = rest.first().and_then(Value::as_u64) else {
        return inside_type(body_place, rest);
    };
    let Some(tag) = rest.get(1).and_then(Value::as_str) else {
        return inside_type(format!("{word} {} of {def}", position + 1), &rest[1..]);
    };
    let tag_place = format!("{word} `{tag}` of {def}");
    match rest.get(2).and_then(Value::as_str) {
        None => inside_type(tag_place, &rest[2..]),
        Some(field) => inside_type(format!("field `{field}` of {tag_place}"), &rest[3..]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::describe;

    fn place(path: serde_json::Value, def: Option<&str>) -> String {
        describe(path.as_array().unwrap(), def)
    }

    #[test]
    fn paths_read_as_schema_names() {
        let tree = Some("struct.Tree");
        assert_eq!(place(json!([]), None), "the document");
        assert_eq!(place(json!([2]), None), "definition 3");
        assert_eq!(
            place(json!([0, "struct.Tree"]), tree),
            "the fields of `struct.Tree`"
        );
        assert_eq!(
            place(json!([0, "struct.Tree", "id"]), tree),
            "field `id` of `struct.Tree`"
        );
        assert_eq!(
            place(json!([0, "struct.Tree", "ids", 0]), tree),
            "the element type of field `ids` of `struct.Tree`"
        );
        let add = Some("fn.add");
        assert_eq!(place(json!([1, "->"]), add), "the result of `fn.add`");
        assert_eq!(
            place(json!([1, "_errors"]), add),
            "key `_errors` of `fn.add`"
        );
        assert_eq!(
            place(json!([1, "->", 0, "Ok_", "sum"]), add),
            "field `sum` of result tag `Ok_` of `fn.add`"
        );
        assert_eq!(
            place(json!([1, "fn.add", "x"]), add),
            "argument `x` of `fn.add`"
        );
        assert_eq!(
            place(json!([0, "->", "@id"]), Some("headers.Id")),
            "response header `@id` of `headers.Id`"
        );
        assert_eq!(
            place(json!([0, "union.U", 1]), Some("union.U")),
            "tag 2 of `union.U`"
        );
    }
}
