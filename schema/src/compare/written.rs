//! Type expressions as a schema writes them, and as the protocol's tool prints them.

use serde_json::{Map, Value};

use crate::model::{Schema, TypeExpr, TypeKind};

/// The type expression as written in a schema: `"boolean?"`, `["struct.Item"]`,
/// `{"string": "integer"}`.
pub(super) fn written_type(schema: &Schema, ty: &TypeExpr) -> Value {
    let name = match &ty.kind {
        TypeKind::Array(item) => return Value::Array(vec![written_type(schema, item)]),
        TypeKind::Object(item) => {
            let mut map = Map::new();
            map.insert("string".to_string(), written_type(schema, item));
            return Value::Object(map);
        }
        TypeKind::Boolean => "boolean",
        TypeKind::Integer => "integer",
        TypeKind::Number => "number",
        TypeKind::String => "string",
        TypeKind::Bytes => "bytes",
        TypeKind::Any => "any",
        TypeKind::Select => "_ext.Select_",
        TypeKind::MockCall => "_ext.Call_",
        TypeKind::MockStub => "_ext.Stub_",
        TypeKind::Struct(id) => &schema.struct_def(*id).name,
        TypeKind::Union(id) => &schema.union_def(*id).name,
        TypeKind::FunctionLink(id) => &schema.function(*id).name,
    };
    let suffix = if ty.nullable { "?" } else { "" };
    Value::String(format!("{name}{suffix}"))
}

/// A JSON value the way Python's `str` shows the parsed value: strings bare at the top,
/// quoted with `'` inside lists and maps (`['boolean']`, `{'string': 'integer'}`).
pub(super) fn python_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => {
            let mut out = String::new();
            write_python(&mut out, other);
            out
        }
    }
}

fn write_python(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => {
            out.push('\'');
            out.push_str(text);
            out.push('\'');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push('\'');
                out.push_str(key);
                out.push_str("': ");
                write_python(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::python_text;
    use serde_json::json;

    #[test]
    fn shows_values_as_python_prints_them() {
        assert_eq!(python_text(&json!("boolean?")), "boolean?");
        assert_eq!(python_text(&json!(["struct.A"])), "['struct.A']");
        assert_eq!(
            python_text(&json!({"string": ["integer"]})),
            "{'string': ['integer']}"
        );
    }
}
