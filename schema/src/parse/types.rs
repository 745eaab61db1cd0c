//! Type expressions: `"T"`, `"T?"`, `["T"]`, `{"string": "T"}`.

use std::collections::HashSet;

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::sink::{Sink, join};
use crate::model::{TypeExpr, TypeKind, TypeName};

/// The type-name pattern, as reported in failures.
pub(crate) const TYPE_NAME_REGEX: &str =
    r"^(boolean|integer|number|string|any|bytes)|((fn|(union|struct|_ext))\.([a-zA-Z_]\w*))$";

/// The nullable-suffix pattern, as reported in failures.
const NULLABLE_REGEX: &str = r"^(.*?)(\?)?$";

/// The names a type expression may refer to.
pub(crate) struct Scope<'a> {
    /// Struct, union and function keys, and `_ext.Select_`, with their ids.
    pub(crate) names: &'a IndexMap<String, TypeName>,
    /// Every defined schema key (a reference to one missing from `names` failed
    /// elsewhere and is not reported again).
    pub(crate) defined: &'a HashSet<String>,
}

/// What a type name means.
pub(crate) enum NameMeaning {
    Primitive(TypeKind),
    Custom(String),
}

/// Parses a type name the way the reference does: a primitive name matches as a
/// prefix (`"integer"`), a custom name must be `kind.Identifier` exactly.
pub(crate) fn parse_type_name(name: &str) -> Option<NameMeaning> {
    let primitives = [
        ("boolean", TypeKind::Boolean),
        ("integer", TypeKind::Integer),
        ("number", TypeKind::Number),
        ("string", TypeKind::String),
        ("any", TypeKind::Any),
        ("bytes", TypeKind::Bytes),
    ];
    for (word, kind) in primitives {
        if name.starts_with(word) {
            return Some(NameMeaning::Primitive(kind));
        }
    }
    let (kind, ident) = name.split_once('.')?;
    let kind_ok = matches!(kind, "fn" | "union" | "struct" | "_ext");
    let mut chars = ident.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_alphanumeric() || c == '_');
    (kind_ok && first_ok && rest_ok).then(|| NameMeaning::Custom(name.to_string()))
}

/// Parses the type expression `value` found at `path` of document `doc`.
/// `None` when it is invalid (the failure is in `sink`, unless it was reported
/// already for the definition it names).
pub(crate) fn parse_type(
    sink: &mut Sink<'_>,
    doc: usize,
    path: &[Value],
    value: &Value,
    scope: &Scope<'_>,
) -> Option<TypeExpr> {
    match value {
        Value::String(text) => parse_named(sink, doc, path, text, scope),
        Value::Array(items) => {
            if items.len() != 1 {
                let data = json!({"actual": items.len(), "expected": 1});
                sink.push(doc, path.to_vec(), "ArrayLengthUnexpected", data);
                return None;
            }
            let element = parse_type(sink, doc, &join(path, 0), &items[0], scope)?;
            Some(TypeExpr {
                kind: TypeKind::Array(Box::new(element)),
                nullable: false,
            })
        }
        Value::Object(map) => {
            if map.len() != 1 {
                let data = json!({"actual": map.len(), "expected": 1});
                sink.push(doc, path.to_vec(), "ObjectSizeUnexpected", data);
                return None;
            }
            let (key, inner) = map.iter().next()?;
            if key != "string" {
                let data = json!({"key": "string"});
                sink.push(doc, path.to_vec(), "RequiredObjectKeyMissing", data);
                sink.push(
                    doc,
                    join(path, key.as_str()),
                    "ObjectKeyDisallowed",
                    json!({}),
                );
                return None;
            }
            let element = parse_type(sink, doc, &join(path, key.as_str()), inner, scope)?;
            Some(TypeExpr {
                kind: TypeKind::Object(Box::new(element)),
                nullable: false,
            })
        }
        _ => {
            sink.type_unexpected(doc, path.to_vec(), value, "StringOrArrayOrObject");
            None
        }
    }
}

fn parse_named(
    sink: &mut Sink<'_>,
    doc: usize,
    path: &[Value],
    text: &str,
    scope: &Scope<'_>,
) -> Option<TypeExpr> {
    // `.` stops at line breaks in the reference's pattern.
    let single_line = text.strip_suffix('\n').unwrap_or(text);
    if single_line.contains('\n') {
        let data = json!({"regex": NULLABLE_REGEX});
        sink.push(doc, path.to_vec(), "StringRegexMatchFailed", data);
        return None;
    }
    let (name, nullable) = match single_line.strip_suffix('?') {
        Some(name) => (name, true),
        None => (single_line, false),
    };
    let kind = match parse_type_name(name) {
        None => {
            let data = json!({"regex": TYPE_NAME_REGEX});
            sink.push(doc, path.to_vec(), "StringRegexMatchFailed", data);
            return None;
        }
        Some(NameMeaning::Primitive(kind)) => kind,
        Some(NameMeaning::Custom(name)) => resolve_custom(sink, doc, path, &name, scope)?,
    };
    Some(TypeExpr { kind, nullable })
}

fn resolve_custom(
    sink: &mut Sink<'_>,
    doc: usize,
    path: &[Value],
    name: &str,
    scope: &Scope<'_>,
) -> Option<TypeKind> {
    match scope.names.get(name) {
        Some(TypeName::Struct(id)) => Some(TypeKind::Struct(*id)),
        Some(TypeName::Union(id)) => Some(TypeKind::Union(*id)),
        Some(TypeName::Function(id)) => Some(TypeKind::FunctionLink(*id)),
        Some(TypeName::Select) => Some(TypeKind::Select),
        Some(TypeName::MockCall) => Some(TypeKind::MockCall),
        Some(TypeName::MockStub) => Some(TypeKind::MockStub),
        None if scope.defined.contains(name) => None,
        None => {
            sink.push(doc, path.to_vec(), "TypeUnknown", json!({"name": name}));
            None
        }
    }
}
