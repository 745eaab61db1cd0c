//! `fn.verify_` and `fn.verifyNoMoreInteractions_` over the recorded calls.

use serde_json::{Map, Value, json};

use super::matching::{is_sub_map, maps_equal};

/// One call the mock received.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) function: String,
    pub(crate) argument: Map<String, Value>,
    pub(crate) verified: bool,
}

impl Call {
    fn to_json(&self) -> Value {
        let mut call = Map::new();
        call.insert(self.function.clone(), Value::Object(self.argument.clone()));
        Value::Object(call)
    }
}

/// How many matching calls a verification wants (`union.CallCountCriteria_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Times {
    Exact(i64),
    AtMost(i64),
    AtLeast(i64),
}

impl Times {
    /// Reads a validated `union.CallCountCriteria_` value; absent means at least once.
    pub(crate) fn from_json(value: Option<&Value>) -> Times {
        let Some((tag, payload)) = value
            .and_then(Value::as_object)
            .and_then(|m| m.iter().next())
        else {
            return Times::AtLeast(1);
        };
        let times = payload.get("times").and_then(Value::as_i64).unwrap_or(0);
        match tag.as_str() {
            "Exact" => Times::Exact(times),
            "AtMost" => Times::AtMost(times),
            _ => Times::AtLeast(times),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Times::Exact(times) => json!({"Exact": {"times": times}}),
            Times::AtMost(times) => json!({"AtMost": {"times": times}}),
            Times::AtLeast(times) => json!({"AtLeast": {"times": times}}),
        }
    }
}

/// Counts the calls of `function` matching `argument` (marking them verified) and
/// answers `Ok_` or `ErrorVerificationFailure`.
pub(crate) fn verify(
    calls: &mut [Call],
    function: &str,
    argument: &Map<String, Value>,
    strict: bool,
    times: Times,
) -> Map<String, Value> {
    let mut found: i64 = 0;
    for call in calls.iter_mut().filter(|c| c.function == function) {
        let matched = if strict {
            maps_equal(&call.argument, argument)
        } else {
            is_sub_map(argument, &call.argument)
        };
        if matched {
            call.verified = true;
            found += 1;
        }
    }
    let failure = match times {
        Times::Exact(n) if found > n => Some("TooManyMatchingCalls"),
        Times::Exact(n) if found < n => Some("TooFewMatchingCalls"),
        Times::AtMost(n) if found > n => Some("TooManyMatchingCalls"),
        Times::AtLeast(n) if found < n => Some("TooFewMatchingCalls"),
        _ => None,
    };
    let Some(failure) = failure else {
        return ok();
    };
    let all_calls: Vec<Value> = calls.iter().map(Call::to_json).collect();
    let reason =
        json!({failure: {"wanted": times.to_json(), "found": found, "allCalls": all_calls}});
    one_entry("ErrorVerificationFailure", json!({ "reason": reason }))
}

/// `Ok_` when every call was verified, else the unverified ones.
pub(crate) fn verify_no_more_interactions(calls: &[Call]) -> Map<String, Value> {
    let unverified: Vec<Value> = calls
        .iter()
        .filter(|c| !c.verified)
        .map(Call::to_json)
        .collect();
    if unverified.is_empty() {
        return ok();
    }
    one_entry(
        "ErrorVerificationFailure",
        json!({ "additionalUnverifiedCalls": unverified }),
    )
}

pub(crate) fn ok() -> Map<String, Value> {
    one_entry("Ok_", json!({}))
}

pub(crate) fn one_entry(key: &str, value: Value) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    map
}
