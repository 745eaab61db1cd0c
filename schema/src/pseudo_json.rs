//! The canonical text of a schema given as a value (a "pseudo-JSON" schema, e.g. the
//! `schema` of a `fn.validateSchema` request).
//!
//! Failures are located by row and column in a document's text, so a schema that
//! arrives as a value must be written out the same way everywhere for locations to
//! agree across implementations: this is the layout of Python's `json.dumps` with its
//! defaults (`", "` and `": "` separators, everything outside printable ASCII escaped).

use serde_json::Value;

/// Writes `value` as the canonical schema text (see the module docs).
///
/// ```
/// let text = telepact_schema::pseudo_json_text(&serde_json::json!([{"struct.Café": {}}]));
/// assert_eq!(text, r#"[{"struct.Caf\u00e9": {}}]"#);
/// ```
pub fn pseudo_json_text(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}
fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Python writes exponents with a sign and at least two digits (`1e+16`, `1e-07`);
/// otherwise the texts agree.
fn write_number(out: &mut String, n: &serde_json::Number) {
    let text = n.to_string();
    let Some((mantissa, exponent)) = text.split_once('e') else {
        out.push_str(&text);
        return;
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent.strip_prefix('+').unwrap_or(exponent)),
    };
    out.push_str(mantissa);
    out.push('e');
    out.push(sign);
    if digits.len() < 2 {
        out.push('0');
    }
    out.push_str(digits);
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::pseudo_json_text;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps_defaults() {
        let value =
            json!({"a": [1, 2.5, null, true], "b\n": "\u{1F600}\u{7f}\t", "c": {}, "d": []});
        assert_eq!(
            pseudo_json_text(&value),
            r#"{"a": [1, 2.5, null, true], "b\n": "\ud83d\ude00\u007f\t", "c": {}, "d": []}"#
        );
        assert_eq!(pseudo_json_text(&json!(1e16)), "1e+16");
        assert_eq!(pseudo_json_text(&json!(1e-7)), "1e-07");
    }
}
