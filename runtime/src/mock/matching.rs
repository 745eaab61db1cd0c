//! How stubs and verifications match call arguments: a partial match finds the
//! expected value inside the actual one (objects by key, arrays element by element in
//! any order); a strict match needs equality.
//!
//! A partial match of two arrays compares every element of one with the elements of
//! the other, so its work grows with the product of their sizes. The mock matches with
//! a budget of comparisons for each request, and does it under the lock on its records:
//! without one, a stub and a call of half a million items each would hold every other
//! call for many minutes.

use serde_json::{Map, Value};

/// The most comparisons of two values one request may make while it is matched with
/// the stubs or the recorded calls: well past what a test suite's calls need (a
/// verification over a million small recorded calls takes a few million), and a small
/// fraction of a second.
pub(crate) const MATCH_STEPS: u64 = 50_000_000;

/// Matching ran past its budget of comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutOfSteps;

/// Matches values while counting the comparisons it makes against a budget.
#[derive(Debug)]
pub(crate) struct Matcher {
    steps_left: u64,
}

impl Matcher {
    /// A matcher allowed `steps` comparisons.
    pub(crate) fn with_steps(steps: u64) -> Self {
        Matcher { steps_left: steps }
    }

    fn step(&mut self) -> Result<(), OutOfSteps> {
        self.steps_left = self.steps_left.checked_sub(1).ok_or(OutOfSteps)?;
        Ok(())
    }

    /// Whether every entry of `part` matches the same key of `whole` (a missing key
    /// counts as `null`).
    pub(crate) fn is_sub_map(
        &mut self,
        part: &Map<String, Value>,
        whole: &Map<String, Value>,
    ) -> Result<bool, OutOfSteps> {
        for (key, expected) in part {
            if !self.contains(expected, whole.get(key).unwrap_or(&Value::Null))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether `actual` contains `expected`: sub-maps for objects, every expected
    /// element contained in some actual element for arrays, equality otherwise.
    pub(crate) fn contains(
        &mut self,
        expected: &Value,
        actual: &Value,
    ) -> Result<bool, OutOfSteps> {
        self.step()?;
        match (expected, actual) {
            (Value::Object(part), Value::Object(whole)) => self.is_sub_map(part, whole),
            (Value::Array(part), Value::Array(whole)) => {
                'elements: for element in part {
                    for candidate in whole {
                        if self.contains(element, candidate)? {
                            continue 'elements;
                        }
                    }
                    return Ok(false);
                }
                Ok(true)
            }
            _ => self.equal(expected, actual),
        }
    }

    /// JSON equality where `1` equals `1.0`.
    pub(crate) fn equal(&mut self, a: &Value, b: &Value) -> Result<bool, OutOfSteps> {
        self.step()?;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => Ok(numbers_equal(x, y)),
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (a, b) in x.iter().zip(y) {
                    if !self.equal(a, b)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Value::Object(x), Value::Object(y)) => self.maps_equal(x, y),
            _ => Ok(a == b),
        }
    }

    /// [`equal`](Self::equal) for two objects.
    pub(crate) fn maps_equal(
        &mut self,
        x: &Map<String, Value>,
        y: &Map<String, Value>,
    ) -> Result<bool, OutOfSteps> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (key, a) in x {
            let Some(b) = y.get(key) else {
                return Ok(false);
            };
            if !self.equal(a, b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Whether two numbers are the same number, as the reference compares them: exactly,
/// so an integer past 2^53 is not equal to the float nearest it.
fn numbers_equal(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    match (whole(x), whole(y)) {
        (Some(x), Some(y)) => x == y,
        // Neither whole, or one of them not: no whole number equals a fraction.
        _ => x.as_f64() == y.as_f64(),
    }
}

/// The whole number `number` is exactly, written as an integer (i64 or u64) or as an
/// integral float: below 2^127 one converts to i128 without loss.
fn whole(number: &serde_json::Number) -> Option<i128> {
    if let Some(integer) = number.as_i64() {
        return Some(i128::from(integer));
    }
    if let Some(integer) = number.as_u64() {
        return Some(i128::from(integer));
    }
    let float = number.as_f64()?;
    let fits = float.is_finite() && float.fract() == 0.0 && float.abs() < 2f64.powi(127);
    fits.then_some(float as i128)
}

/// [`Matcher::is_sub_map`] without a budget, for the test client: both sides are the
/// test's own expectation and the answer to its call, not a stranger's input.
pub(crate) fn is_sub_map(part: &Map<String, Value>, whole: &Map<String, Value>) -> bool {
    Matcher::with_steps(u64::MAX)
        .is_sub_map(part, whole)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contains(expected: &Value, actual: &Value) -> bool {
        Matcher::with_steps(MATCH_STEPS).contains(expected, actual) == Ok(true)
    }

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
        assert!(!contains(&json!(true), &json!(1)));
    }

    /// An integer matches the float of the same value, and only that: past 2^53 the
    /// nearest float is another number.
    #[test]
    fn numbers_match_exactly_whether_integer_or_float() {
        assert!(contains(&json!(2), &json!(2.0)));
        assert!(contains(&json!(-3.0), &json!(-3)));
        assert!(contains(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!contains(&json!(2), &json!(2.5)));
        let above = (1_u64 << 53) + 1;
        assert!(!contains(&json!(above), &json!(9_007_199_254_740_992.0)));
        assert!(!contains(&json!(9_007_199_254_740_992.0), &json!(above)));
        assert!(!contains(
            &json!(u64::MAX),
            &json!(18_446_744_073_709_551_616.0)
        ));
        assert!(!contains(&json!(-1), &json!(u64::MAX)));
    }

    #[test]
    fn the_budget_counts_every_comparison() {
        // The lists, then each of the three expected items against all three actual
        // ones (its match is the last), each pair taking two steps (contains, equal).
        let expected = json!([0, 0, 0]);
        let actual = json!([1, 1, 0]);
        assert_eq!(
            Matcher::with_steps(19).contains(&expected, &actual),
            Ok(true)
        );
        assert_eq!(
            Matcher::with_steps(18).contains(&expected, &actual),
            Err(OutOfSteps)
        );
        let long = json!([[1, 2, 3]]);
        assert_eq!(Matcher::with_steps(2).equal(&long, &long), Err(OutOfSteps));
    }
}
