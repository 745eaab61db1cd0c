//! How the conformance vectors compare JSON.

use serde_json::Value;

/// JSON equality as the vectors mean it: `1` equals `1.0` (integers compare exactly,
/// other numbers by value), booleans are not numbers; with `set_compare`, arrays of
/// objects are compared as multisets, at every depth.
pub fn json_eq(a: &Value, b: &Value, set_compare: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if set_compare && y.iter().all(Value::is_object) {
                multiset_eq(x, y, set_compare)
            } else {
                x.iter().zip(y).all(|(a, b)| json_eq(a, b, set_compare))
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w, set_compare)))
        }
        _ => a == b,
    }
}

/// Whether `x` and `y` hold the same items in any order, items compared by
/// [`json_eq`] (with `set_compare` inside them).
pub fn multiset_eq(x: &[Value], y: &[Value], set_compare: bool) -> bool {
    let mut unmatched: Vec<&Value> = y.iter().collect();
    x.len() == y.len()
        && x.iter().all(|item| {
            let found = unmatched
                .iter()
                .position(|other| json_eq(item, other, set_compare));
            found.map(|i| unmatched.swap_remove(i)).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value_and_object_arrays_as_sets_only_when_asked() {
        assert!(json_eq(
            &json!({"a": [1, 2.5]}),
            &json!({"a": [1.0, 2.5]}),
            false
        ));
        assert!(!json_eq(&json!(u64::MAX), &json!(u64::MAX - 1), false));
        assert!(!json_eq(&json!(true), &json!(1), false));
        let (x, y) = (json!([{"a": 1}, {"b": 2}]), json!([{"b": 2}, {"a": 1}]));
        assert!(!json_eq(&x, &y, false));
        assert!(json_eq(&x, &y, true));
        assert!(!json_eq(&json!([1, 2]), &json!([2, 1]), true));
        assert!(!multiset_eq(
            &[json!(1), json!(1)],
            &[json!(1), json!(2)],
            false
        ));
    }
}
