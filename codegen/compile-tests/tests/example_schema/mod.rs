//! The conformance `example` schema (every type in every position, recursive function
//! links) generates code that compiles without warnings and can be implemented, every
//! valid payload of the conformance vectors round-trips through its types, and those
//! the server refuses for a reason the types check do not read into them.

#![deny(warnings)]

include!(concat!(env!("OUT_DIR"), "/example.rs"));

mod vectors {
    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}

use example::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use telepact::HandlerError;
use telepact::typed::standard::{ApiInput, ApiOutput, PingInput, PingOutput};
use telepact_test_support::json_eq;

struct Echo;

impl Handler for Echo {
    async fn example(
        &self,
        input: ExampleInput,
        _: &mut Context,
    ) -> Result<ExampleOutput, HandlerError> {
        Ok(ExampleOutput::Ok(ExampleOk {
            required: input.required,
            optional: input.optional,
        }))
    }

    async fn test(&self, input: TestInput, _: &mut Context) -> Result<TestOutput, HandlerError> {
        Ok(TestOutput::Ok(TestOk { value: input.value }))
    }

    async fn get_big_list(
        &self,
        _: GetBigListInput,
        _: &mut Context,
    ) -> Result<GetBigListOutput, HandlerError> {
        Ok(GetBigListOutput::Ok(GetBigListOk { items: Vec::new() }))
    }

    async fn deep_example(
        &self,
        input: DeepExampleInput,
        _: &mut Context,
    ) -> Result<DeepExampleOutput, HandlerError> {
        let follow = telepact::typed::Call(DeepExampleInput {
            value: input.value.clone(),
        });
        Ok(DeepExampleOutput::Ok(DeepExampleOk {
            value: input.value,
            follow: Some(follow),
        }))
    }

    async fn self_link(
        &self,
        input: SelfLinkInput,
        _: &mut Context,
    ) -> Result<SelfLinkOutput, HandlerError> {
        Ok(SelfLinkOutput::Ok(SelfLinkOk {
            follow_self: telepact::typed::Call(input),
        }))
    }

    async fn circular_link1(
        &self,
        _: CircularLink1Input,
        _: &mut Context,
    ) -> Result<CircularLink1Output, HandlerError> {
        Err("unused".into())
    }

    async fn circular_link2(
        &self,
        _: CircularLink2Input,
        context: &mut Context,
    ) -> Result<CircularLink2Output, HandlerError> {
        context.response_headers.out = context.headers()?.r#in;
        Err("unused".into())
    }
}

/// Reads `wire` as a `T` and writes it back; the error says what differed.
fn round_trip<T: Serialize + DeserializeOwned>(wire: &Value) -> Result<(), String> {
    let typed: T =
        serde_json::from_value(wire.clone()).map_err(|e| format!("does not read {wire}: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    if json_eq(&back, wire, false) {
        Ok(())
    } else {
        Err(format!("{wire} came back as {back}"))
    }
}

/// Round-trips a request payload (as the function's input) or a result body.
fn round_trip_as(function: &str, request: bool, wire: &Value) -> Option<Result<(), String>> {
    Some(match (function, request) {
        ("fn.test", true) => round_trip::<TestInput>(wire),
        ("fn.test", false) => round_trip::<TestOutput>(wire),
        ("fn.example", true) => round_trip::<ExampleInput>(wire),
        ("fn.example", false) => round_trip::<ExampleOutput>(wire),
        ("fn.getBigList", true) => round_trip::<GetBigListInput>(wire),
        ("fn.getBigList", false) => round_trip::<GetBigListOutput>(wire),
        ("fn.deepExample", true) => round_trip::<DeepExampleInput>(wire),
        ("fn.deepExample", false) => round_trip::<DeepExampleOutput>(wire),
        ("fn.ping_", true) => round_trip::<PingInput>(wire),
        ("fn.ping_", false) => round_trip::<PingOutput>(wire),
        ("fn.api_", true) => round_trip::<ApiInput>(wire),
        ("fn.api_", false) => round_trip::<ApiOutput>(wire),
        _ => return None,
    })
}

/// Every case the server answered `Ok_`: its request payload and (unless a selection or
/// `@unsafe_` changed the result) its result body round-trip through the generated types.
fn round_trip_vectors() {
    let text = std::fs::read_to_string(vectors::SERVER_VECTORS).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let (mut checked, mut failures) = (0, Vec::new());
    for case in &cases {
        let (Some(request), Some(response)) =
            (case["request"].as_array(), case["response"].as_array())
        else {
            continue;
        };
        let (Some((function, payload)), Some(result)) = (
            request[1].as_object().and_then(|b| b.iter().next()),
            response[1].as_object(),
        ) else {
            continue;
        };
        if !result.contains_key("Ok_") {
            continue;
        }
        let trimmed = ["@select_", "@unsafe_"]
            .iter()
            .any(|h| request[0].get(h).is_some());
        let mut check = |is_request: bool, wire: &Value| {
            if let Some(outcome) = round_trip_as(function, is_request, wire) {
                checked += 1;
                if let Err(reason) = outcome {
                    failures.push(format!(
                        "case {} {}: {reason}",
                        case["suite"], case["index"]
                    ));
                }
            }
        };
        check(true, payload);
        if !trimmed {
            check(false, &response[1]);
        }
    }
    println!(
        "{checked} conformance payloads round-tripped, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 300, "only {checked} payloads checked");
}

/// Reads `wire` as a request payload (the function's input) or a result body.
fn reads_as(function: &str, request: bool, wire: &Value) -> Option<bool> {
    fn reads<T: DeserializeOwned>(wire: &Value) -> bool {
        serde_json::from_value::<T>(wire.clone()).is_ok()
    }
    Some(match (function, request) {
        ("fn.test", true) => reads::<TestInput>(wire),
        ("fn.test", false) => reads::<TestOutput>(wire),
        ("fn.example", true) => reads::<ExampleInput>(wire),
        ("fn.example", false) => reads::<ExampleOutput>(wire),
        ("fn.deepExample", true) => reads::<DeepExampleInput>(wire),
        ("fn.deepExample", false) => reads::<DeepExampleOutput>(wire),
        _ => return None,
    })
}

/// Whether the generated types leave `reason` unchecked: a key they do not know is
/// passed over (a newer server's field), `any` is a `Value`, which holds `null`, a
/// `number` an `f64`, which holds integers past 64 bits, and a struct reads from a
/// list of its fields in order, as serde's derive reads one.
fn unchecked(reason: &Value) -> bool {
    let unexpected = &reason["TypeUnexpected"];
    reason.get("ObjectKeyDisallowed").is_some()
        || reason.get("NumberOutOfRange").is_some()
        || unexpected["expected"].get("Any").is_some()
        || (unexpected["actual"].get("Array").is_some()
            && unexpected["expected"].get("Object").is_some())
}

/// The payload of a case the server refused as invalid (a request's arguments, or the
/// result its handler gave), when every reason given is one the types check.
fn refused_payload(case: &Value) -> Option<(&str, bool, Value)> {
    let request = case["request"].as_array()?;
    let (function, payload) = request[1].as_object()?.iter().next()?;
    let (tag, refusal) = case["response"][1].as_object()?.iter().next()?;
    let cases = refusal["cases"].as_array()?;
    if cases.iter().any(|failure| unchecked(&failure["reason"])) {
        return None;
    }
    match tag.as_str() {
        "ErrorInvalidRequestBody_" => Some((function, true, payload.clone())),
        "ErrorInvalidResponseBody_" => {
            let ok = request[0].get("@ok_")?;
            Some((function, false, serde_json::json!({ "Ok_": ok })))
        }
        _ => None,
    }
}

/// Every payload the server refused for a reason the generated types check does not
/// read into them: what a typed client takes from an answer, the validator takes too.
fn refuse_invalid_vectors() {
    let text = std::fs::read_to_string(vectors::SERVER_VECTORS).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let (mut checked, mut read) = (0, Vec::new());
    for case in &cases {
        let Some((function, request, wire)) = refused_payload(case) else {
            continue;
        };
        if let Some(reads) = reads_as(function, request, &wire) {
            checked += 1;
            if reads {
                read.push(format!("case {} {}: {wire}", case["suite"], case["index"]));
            }
        }
    }
    assert!(
        read.is_empty(),
        "read, though refused:\n{}",
        read.join("\n")
    );
    assert!(checked > 200, "only {checked} refused payloads checked");
}

#[test]
fn the_example_schema_code_serves_and_round_trips_the_vectors() {
    let router = example::router(Echo);
    assert!(router.contains("fn.example"));
    let value = example::Value {
        bool: Some(true),
        ..example::Value::default()
    };
    assert_eq!(
        serde_json::to_value(&value).unwrap(),
        serde_json::json!({"bool!": true})
    );
    round_trip_vectors();
    refuse_invalid_vectors();
}
