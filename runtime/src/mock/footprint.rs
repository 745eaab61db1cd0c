//! What the mock's records cost in memory, as the mock counts it against
//! [`MockOptions::memory_limit`](super::MockOptions::memory_limit).
//!
//! The count is an estimate from the shape of each value (its text and a fixed cost
//! per value, entry, allocation and record), not the allocator's own figure. The costs
//! were set against the resident memory of a release `telepact mock` recording calls
//! under load (4 December 2026): it grew by 823 bytes a call of `fn.greet` with
//! `{"name": "ada lovelace", "tags!": ["one", "two"]}`, and by 2,653 with twenty tags
//! (`"tag00"` to `"tag19"`); this counts 995 and 2,817. The heap holds more than the
//! values' own sizes: the allocator's headers and rounding, and the gaps the answered
//! requests leave between the records kept.

use serde_json::{Map, Value};

/// A `serde_json::Value` (32 bytes) where it sits, with its share of the slack of the
/// list or map holding it.
const VALUE_COST: usize = 48;

/// What one allocation costs beyond its bytes: the allocator's header, its rounding
/// to 16 bytes, and its share of the heap's gaps.
const ALLOCATION_COST: usize = 48;

/// An object's entry beyond its key's text and its value: the key's `String`, the
/// hash and the slots of the map's table.
const ENTRY_COST: usize = 64;

/// A record beyond its values: its slot in the list of calls or stubs, the function's
/// name and the record's own allocations.
const RECORD_COST: usize = 256;

/// The estimated bytes of a call or stub of `function` holding `maps` (its argument,
/// and a stub's result).
pub(super) fn of_record(function: &str, maps: &[&Map<String, Value>]) -> usize {
    RECORD_COST + function.len() + maps.iter().map(|map| of_map(map)).sum::<usize>()
}

/// The estimated bytes `value` holds.
fn of_value(value: &Value) -> usize {
    VALUE_COST
        + match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
            Value::String(text) => text.len() + ALLOCATION_COST,
            Value::Array(items) => ALLOCATION_COST + items.iter().map(of_value).sum::<usize>(),
            Value::Object(map) => of_map(map),
        }
}

/// The estimated bytes the entries of `map` hold, with its two tables.
fn of_map(map: &Map<String, Value>) -> usize {
    let entries: usize = map
        .iter()
        .map(|(key, value)| ENTRY_COST + key.len() + ALLOCATION_COST + of_value(value))
        .sum();
    2 * ALLOCATION_COST + entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_and_nesting_add_to_the_estimate() {
        let small = of_value(&json!({"id": 1}));
        let longer_key = of_value(&json!({"identifier": 1}));
        let text = of_value(&json!({"id": "a".repeat(1000)}));
        let nested = of_value(&json!({"id": {"id": 1}}));
        assert_eq!(longer_key - small, "identifier".len() - "id".len());
        assert!(text >= small + 1000, "{text} against {small}");
        assert!(
            nested > small + of_value(&json!(1)),
            "{nested} against {small}"
        );
        assert_eq!(of_value(&json!([1, 2])) - of_value(&json!([1])), VALUE_COST);
    }

    /// The two calls the costs were set against, as the module's documentation counts them.
    #[test]
    fn the_calibration_calls_cost_what_the_documentation_says() {
        let call = |tags: Vec<String>| {
            let argument = json!({"name": "ada lovelace", "tags!": tags});
            of_record("fn.greet", &[argument.as_object().expect("an object")])
        };
        assert_eq!(call(vec!["one".into(), "two".into()]), 995);
        assert_eq!(call((0..20).map(|i| format!("tag{i:02}")).collect()), 2_817);
    }
}
