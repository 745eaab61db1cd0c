//! How the conformance vectors compare JSON.

use serde_json::{Number, Value};

/// JSON equality as the vectors mean it: `1` equals `1.0` (whole numbers compare
/// exactly, an integer and a float only when the float is that integer; other numbers
/// by value), booleans are not numbers; with `set_compare`, arrays of
/// objects are compared as multisets, at every depth.
pub fn json_eq(a: &Value, b: &Value, set_compare: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (whole(x), whole(y)) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
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

/// The whole number `number` is exactly, integer or integral float. Compared as
/// floats, `9223372036854775807` would equal `9.223372036854776e18`, so an answer that
/// lost an integer's last digits on the way through a float would pass.
fn whole(number: &Number) -> Option<i128> {
    if let Some(integer) = number.as_i64() {
        return Some(i128::from(integer));
    }
    if let Some(integer) = number.as_u64() {
        return Some(i128::from(integer));
    }
    // Every integral float below 2^127 converts to an i128 exactly.
    let float = number.as_f64()?;
    let fits = float.is_finite() && float.fract() == 0.0 && float.abs() < 2f64.powi(127);
    fits.then_some(float as i128)
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
        assert!(json_eq(&json!(-3), &json!(-3.0), false));
        assert!(!json_eq(&json!(1), &json!(1.5), false));
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

    /// An integer past 2^53 and the float nearest it are different numbers: an answer
    /// that sent `i64::MAX` through a float is not the one the vectors expect.
    #[test]
    fn an_integer_does_not_equal_a_float_that_rounded_it() {
        let rounded = json!(9_223_372_036_854_775_807_f64);
        assert!(!json_eq(&json!(i64::MAX), &rounded, false));
        assert!(!json_eq(&rounded, &json!(i64::MAX), false));
        let nearest = json!(9_007_199_254_740_992_f64);
        assert!(!json_eq(&json!(9_007_199_254_740_993_u64), &nearest, false));
        assert!(json_eq(&json!(9_007_199_254_740_992_u64), &nearest, false));
        assert!(json_eq(
            &json!(i64::MIN),
            &json!(-9_223_372_036_854_775_808_f64),
            false
        ));
        assert!(!json_eq(&json!(u64::MAX), &json!(-1), false));
    }
}
