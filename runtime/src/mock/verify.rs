//! `fn.verify_` and `fn.verifyNoMoreInteractions_` over the recorded calls.

use serde_json::{Map, Value, json};

use super::footprint;
use super::matching::{Matcher, OutOfSteps};
use crate::validate::{BODY_LEVELS, map_nests_deeper_than};

/// How many lists and maps a listed call's argument may open, itself counted, for the
/// answer to stay within what a client reads: a `fn.verify_` failure's body, its
/// payload, the reason, the criterion, the list and the call hold it six levels down,
/// a `fn.verifyNoMoreInteractions_` failure's (body, payload, list, call) four.
const VERIFY_ARGUMENT_LEVELS: u16 = BODY_LEVELS - 6;
const UNVERIFIED_ARGUMENT_LEVELS: u16 = BODY_LEVELS - 4;

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

    /// The criterion's tag when its number of calls is below zero.
    pub(crate) fn negative(self) -> Option<&'static str> {
        match self {
            Times::Exact(times) if times < 0 => Some("Exact"),
            Times::AtMost(times) if times < 0 => Some("AtMost"),
            Times::AtLeast(times) if times < 0 => Some("AtLeast"),
            _ => None,
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
/// answers `Ok_` or `ErrorVerificationFailure`. A matcher out of steps marks none.
pub(crate) fn verify(
    calls: &mut [Call],
    function: &str,
    argument: &Map<String, Value>,
    strict: bool,
    times: Times,
    matcher: &mut Matcher,
) -> Result<Map<String, Value>, OutOfSteps> {
    let mut matching = Vec::new();
    for (index, call) in calls.iter().enumerate() {
        if call.function != function {
            continue;
        }
        let matched = if strict {
            matcher.maps_equal(&call.argument, argument)?
        } else {
            matcher.is_sub_map(argument, &call.argument)?
        };
        if matched {
            matching.push(index);
        }
    }
    for &index in &matching {
        calls[index].verified = true;
    }
    let found = i64::try_from(matching.len()).unwrap_or(i64::MAX);
    let failure = match times {
        Times::Exact(n) if found > n => Some("TooManyMatchingCalls"),
        Times::Exact(n) if found < n => Some("TooFewMatchingCalls"),
        Times::AtMost(n) if found > n => Some("TooManyMatchingCalls"),
        Times::AtLeast(n) if found < n => Some("TooFewMatchingCalls"),
        _ => None,
    };
    let Some(failure) = failure else {
        return Ok(ok());
    };
    let all_calls = listed(calls.iter(), VERIFY_ARGUMENT_LEVELS);
    let reason =
        json!({failure: {"wanted": times.to_json(), "found": found, "allCalls": all_calls}});
    Ok(one_entry(
        "ErrorVerificationFailure",
        json!({ "reason": reason }),
    ))
}

/// `Ok_` when every call was verified, else the unverified ones.
pub(crate) fn verify_no_more_interactions(calls: &[Call]) -> Map<String, Value> {
    let mut unverified = calls.iter().filter(|c| !c.verified).peekable();
    if unverified.peek().is_none() {
        return ok();
    }
    one_entry(
        "ErrorVerificationFailure",
        json!({ "additionalUnverifiedCalls": listed(unverified, UNVERIFIED_ARGUMENT_LEVELS) }),
    )
}

/// The most bytes of recorded calls, as the mock counts them against its memory limit,
/// that one failed verification lists: the records may hold hundreds of MiB, and a
/// request of a few bytes should not copy them all into its answer.
pub(crate) const LISTED_CALLS_BYTES: usize = 4 * 1024 * 1024;

/// The first of `calls`, up to [`LISTED_CALLS_BYTES`] of them, as `_ext.Call_` values,
/// leaving out those whose argument opens more than `levels` lists and maps (a request
/// may nest deeper than its argument can be listed). The first call that fits is listed
/// whatever its size (at most a request's), so a failure always shows one when it can.
fn listed<'c>(calls: impl Iterator<Item = &'c Call>, levels: u16) -> Vec<Value> {
    let mut room = LISTED_CALLS_BYTES;
    let mut full = false;
    let mut listed = Vec::new();
    let mut left_out = 0_usize;
    for call in calls {
        if full || map_nests_deeper_than(&call.argument, levels) {
            left_out += 1;
            continue;
        }
        let cost = footprint::of_record(&call.function, &[&call.argument]);
        full = !listed.is_empty() && cost > room;
        if full {
            left_out += 1;
            continue;
        }
        room = room.saturating_sub(cost);
        listed.push(call.to_json());
    }
    if left_out > 0 {
        // At `debug`: any caller may ask for failed verifications as often as it likes.
        tracing::debug!(
            listed = listed.len(),
            left_out,
            "a failed verification lists the first recorded calls it can"
        );
    }
    listed
}

pub(crate) fn ok() -> Map<String, Value> {
    one_entry("Ok_", json!({}))
}

pub(crate) fn one_entry(key: &str, value: Value) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    map
}
