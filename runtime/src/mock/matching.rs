//! How stubs and verifications match call arguments: a partial match finds the
//! expected value inside the actual one (objects by key, arrays element by element in
//! any order); a strict match needs equality.

use serde_json::{Map, Value};

/// Whether every entry of `part` matches the same key of `whole` (a missing key
/// counts as `null`).
pub(crate) fn is_sub_map(part: &Map<String, Value>, whole: &Map<String, Value>) -> bool {
    part.iter()
        .all(|(key, expected)| contains(expected, whole.get(key).unwrap_or(&Value::Null)))
}

/// Whether `actual` contains `expected`: sub-maps for objects, every expected element
/// contained in some actual element for arrays, equality otherwise.
pub(crate) fn contains(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(part), Value::Object(whole)) => is_sub_map(part, whole),
        (Value::Array(part), Value::Array(whole)) => part
            .iter()
            .all(|element| whole.iter().any(|candidate| contains(element, candidate))),
        _ => json_equal(expected, actual),
    }
}

/// JSON equality where `1` equals `1.0`.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => maps_equal(x, y),
        _ => a == b,
    }
}

/// [`json_equal`] for two objects.
pub(crate) fn maps_equal(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    x.len() == y.len()
        && x.iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arrays_match_elements_in_any_order() {
        assert!(contains(
            &json!([{"a": 1}, 2]),
            &json!([2, {"a": 1.0, "b": 3}])
        ));
        assert!(!contains(&json!([3]), &json!([1, 2])));
    }

    #[test]
    fn a_missing_key_matches_only_null() {
        let whole = json!({"b": 1});
        assert!(is_sub_map(
            json!({"a": null}).as_object().unwrap(),
            whole.as_object().unwrap()
        ));
        assert!(!is_sub_map(
            json!({"a": 1}).as_object().unwrap(),
            whole.as_object().unwrap()
        ));
    }

    #[test]
    fn booleans_are_not_numbers() {
        assert!(!json_equal(&json!(true), &json!(1)));
    }
}
