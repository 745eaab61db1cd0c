//! JSON text read as a [`Value`], refusing an object that repeats a key: `serde_json`
//! keeps the last one, which would drop a definition's field or tag without a word.
//! YAML documents refuse repeated keys too.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// How the error of a repeated key begins.
pub(crate) const REPEATED_KEY: &str = "the key `";

/// `text` as JSON, failing (with the line and column of the repeated key) where an
/// object repeats a key.
pub(crate) fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// Reads one value, as `Value`'s own `Deserialize` does, but for repeated keys.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Value, D::Error> {
        reader.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON text holds no NaN or infinity, so every float it yields has a `Number`.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut list = Vec::new();
        while let Some(item) = items.next_element_seed(self)? {
            list.push(item);
        }
        Ok(Value::Array(list))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(A::Error::custom(format_args!(
                    "{REPEATED_KEY}{key}` appears twice in one object"
                )));
            }
            let value = entries.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::from_str;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"[{"a": [1, -2, 3.5, 18446744073709551615, "x", null, true]}, {}]"#;
        assert_eq!(
            from_str(text).expect("valid"),
            serde_json::from_str::<serde_json::Value>(text).expect("valid")
        );
    }

    #[test]
    fn a_repeated_key_is_refused_where_it_is_repeated() {
        let error = from_str("[{\"struct.X\": {\"a\": \"string\",\n \"a\": \"integer\"}}]")
            .expect_err("a repeated key");
        assert!(
            error
                .to_string()
                .starts_with("the key `a` appears twice in one object"),
            "{error}"
        );
        assert_eq!(error.line(), 2);
        assert_eq!(
            from_str(r#"{"a": {"b": 1}, "c": {"b": 2}}"#).ok(),
            Some(json!({"a": {"b": 1}, "c": {"b": 2}}))
        );
    }
}
