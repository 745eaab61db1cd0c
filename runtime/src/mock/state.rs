//! The mock's memory (stubs, recorded calls, the random sequence) and the answers of
//! its functions.

use serde_json::{Map, Value, json};
use telepact_schema::Schema;

use super::MockOptions;
use super::footprint;
use super::matching::{MATCH_STEPS, Matcher, OutOfSteps};
use super::verify::{Call, Times, ok, one_entry, verify, verify_no_more_interactions};
use crate::message::{Headers, Message};
use crate::random::{GenerateOptions, Generator, RandomGenerator};
use crate::validate::{Reason, ValidationFailure, cases_json};
use telepact_schema::ShortestDepths;

/// One stub: answers calls of `function` whose argument matches.
#[derive(Debug, Clone)]
struct Stub {
    function: String,
    argument: Map<String, Value>,
    result: Map<String, Value>,
    strict: bool,
    /// How many more calls it answers; `None` for any number. A stub is dropped when
    /// this reaches 0: it would never answer again.
    remaining: Option<u64>,
    /// Its estimated bytes (see [`footprint`]), given back when it is dropped.
    cost: usize,
}

impl Stub {
    fn matches(
        &self,
        function: &str,
        argument: &Map<String, Value>,
        matcher: &mut Matcher,
    ) -> Result<bool, OutOfSteps> {
        if self.function != function {
            return Ok(false);
        }
        if self.strict {
            matcher.maps_equal(&self.argument, argument)
        } else {
            matcher.is_sub_map(&self.argument, argument)
        }
    }
}

/// Why the mock answers a call `ErrorUnknown_`; the server logs it with the case id.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// A call or stub would take the records past [`MockOptions::memory_limit`].
    #[error(
        "the mock's memory limit ({limit} bytes of recorded calls and stubs) is reached; \
         fn.clearCalls_ and fn.clearStubs_ make room"
    )]
    MemoryFull { limit: usize },
    /// Matching the request with the stubs or the recorded calls ran past its budget.
    #[error(
        "matching the request with the stubs or the recorded calls took more than \
         {MATCH_STEPS} comparisons of their values; the mock gave up"
    )]
    MatchTooLong,
}

impl From<OutOfSteps> for Refused {
    fn from(OutOfSteps: OutOfSteps) -> Self {
        Refused::MatchTooLong
    }
}

/// Everything a mock remembers between calls.
#[derive(Debug)]
pub(crate) struct MockState {
    /// Oldest first; the newest matching stub answers.
    stubs: Vec<Stub>,
    calls: Vec<Call>,
    random: RandomGenerator,
    /// How the schema's definitions end soonest (for tight generation).
    depths: ShortestDepths,
    /// The estimated bytes of `stubs` and of `calls` (see [`footprint`]).
    stubs_cost: usize,
    calls_cost: usize,
    memory_limit: usize,
}

impl MockState {
    pub(crate) fn new(options: &MockOptions, depths: ShortestDepths) -> Self {
        MockState {
            stubs: Vec::new(),
            calls: Vec::new(),
            random: RandomGenerator::new(
                options.collection_length_min,
                options.collection_length_max,
            ),
            depths,
            stubs_cost: 0,
            calls_cost: 0,
            memory_limit: options.memory_limit,
        }
    }

    /// Refuses `cost` more bytes when they would not fit within the memory limit.
    fn check_room(&self, cost: usize) -> Result<(), Refused> {
        let used = self.stubs_cost + self.calls_cost;
        if used.saturating_add(cost) > self.memory_limit {
            return Err(Refused::MemoryFull {
                limit: self.memory_limit,
            });
        }
        Ok(())
    }

    /// `fn.createStub_`.
    pub(crate) fn create_stub(
        &mut self,
        payload: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Refused> {
        let count = payload.get("count!").and_then(Value::as_i64);
        let remaining = match count {
            None => None,
            Some(count) => match u64::try_from(count) {
                Ok(count) => Some(count),
                Err(_) => {
                    let reason = Reason::NumberOutOfRange;
                    return Ok(invalid_argument("fn.createStub_", "count!", reason));
                }
            },
        };
        let stub = payload.get("stub").and_then(Value::as_object);
        let call = stub.and_then(|s| s.iter().find(|(key, _)| key.starts_with("fn.")));
        let (Some((function, argument)), Some(result)) = (
            call,
            stub.and_then(|s| s.get("->")).and_then(Value::as_object),
        ) else {
            return Ok(invalid_argument(
                "fn.createStub_",
                "stub",
                object_expected(),
            ));
        };
        if answered_by_the_mock_itself(function) {
            let path = ["fn.createStub_", "stub", function.as_str()];
            return Ok(invalid_at(&path, Reason::FunctionUnknown));
        }
        if remaining == Some(0) {
            // It would answer no call: nothing to keep.
            return Ok(ok());
        }
        let argument = argument.as_object().cloned().unwrap_or_default();
        let cost = footprint::of_record(function, &[&argument, result]);
        self.check_room(cost)?;
        self.stubs_cost += cost;
        self.stubs.push(Stub {
            function: function.clone(),
            argument,
            result: result.clone(),
            strict: flag(payload, "strictMatch!"),
            remaining,
            cost,
        });
        Ok(ok())
    }

    /// `fn.verify_`.
    pub(crate) fn verify(
        &mut self,
        payload: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Refused> {
        let call = payload.get("call").and_then(Value::as_object);
        let Some((function, argument)) =
            call.and_then(|c| c.iter().find(|(k, _)| k.starts_with("fn.")))
        else {
            return Ok(invalid_argument("fn.verify_", "call", object_expected()));
        };
        if answered_by_the_mock_itself(function) {
            let path = ["fn.verify_", "call", function.as_str()];
            return Ok(invalid_at(&path, Reason::FunctionUnknown));
        }
        let argument = argument.as_object().cloned().unwrap_or_default();
        let times = Times::from_json(payload.get("count!"));
        // As a stub's `count!`: no number of calls is below zero.
        if let Some(tag) = times.negative() {
            let path = ["fn.verify_", "count!", tag, "times"];
            return Ok(invalid_at(&path, Reason::NumberOutOfRange));
        }
        let strict = flag(payload, "strictMatch!");
        let mut matcher = Matcher::with_steps(MATCH_STEPS);
        let verified = verify(
            &mut self.calls,
            function,
            &argument,
            strict,
            times,
            &mut matcher,
        );
        Ok(verified?)
    }

    /// `fn.verifyNoMoreInteractions_`.
    pub(crate) fn verify_no_more_interactions(&self) -> Map<String, Value> {
        verify_no_more_interactions(&self.calls)
    }

    /// `fn.clearStubs_`.
    pub(crate) fn clear_stubs(&mut self) -> Map<String, Value> {
        // A new list, not a cleared one: the room the old one took is given back.
        self.stubs = Vec::new();
        self.stubs_cost = 0;
        ok()
    }

    /// `fn.clearCalls_`.
    pub(crate) fn clear_calls(&mut self) -> Map<String, Value> {
        self.calls = Vec::new();
        self.calls_cost = 0;
        ok()
    }

    /// `fn.setRandomSeed_`.
    pub(crate) fn set_random_seed(&mut self, payload: &Map<String, Value>) -> Map<String, Value> {
        let seed = payload.get("seed").and_then(Value::as_i64).unwrap_or(0);
        self.random.set_seed(seed);
        ok()
    }

    /// The result of the newest stub that answers a call of `function` with
    /// `argument`, counted against the stub's `count!`; a stub whose count runs out is
    /// dropped, and the room it took given back.
    fn stubbed_result(
        &mut self,
        function: &str,
        argument: &Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, OutOfSteps> {
        let mut matcher = Matcher::with_steps(MATCH_STEPS);
        let mut found = None;
        for (index, stub) in self.stubs.iter().enumerate().rev() {
            if stub.matches(function, argument, &mut matcher)? {
                found = Some(index);
                break;
            }
        }
        let Some(index) = found else {
            return Ok(None);
        };
        let stub = &mut self.stubs[index];
        let Some(remaining) = stub.remaining.as_mut() else {
            return Ok(Some(stub.result.clone()));
        };
        *remaining = remaining.saturating_sub(1);
        if *remaining > 0 {
            return Ok(Some(stub.result.clone()));
        }
        let used_up = self.stubs.remove(index);
        self.stubs_cost = self.stubs_cost.saturating_sub(used_up.cost);
        Ok(Some(used_up.result))
    }

    /// A call of one of the schema's functions: recorded, then answered by the newest
    /// matching stub (its result completed with generated required fields), by a
    /// generated `Ok_` when generation is on, or with `ErrorNoMatchingStub_`. A call
    /// the records have no room for is neither recorded nor answered; one whose
    /// matching runs out of steps is recorded, not answered.
    pub(crate) fn answer(
        &mut self,
        schema: &Schema,
        options: &MockOptions,
        request: &Message,
    ) -> Result<Message, Refused> {
        let function = request.target().to_string();
        let no_argument = Map::new();
        // Borrowed: a call refused for room is not copied, an accepted one once.
        let argument = request.payload().unwrap_or(&no_argument);
        let cost = footprint::of_record(&function, &[argument]);
        self.check_room(cost)?;
        self.calls_cost += cost;
        self.calls.push(Call {
            function: function.clone(),
            argument: argument.clone(),
            verified: false,
        });
        let Some((id, definition)) = schema.function_by_name(&function) else {
            return Ok(Message::new(
                Headers::new(),
                "ErrorNoMatchingStub_",
                Map::new(),
            ));
        };
        if let Some(blueprint) = self.stubbed_result(&function, argument)? {
            let generate = GenerateOptions {
                include_optional_fields: false,
                randomize_optional_fields: options.randomize_optional_fields,
                always_include_required_fields: true,
                limits: options.limits,
            };
            let mut generator =
                Generator::new(schema, &self.depths, &mut self.random, generate, &function);
            let body = generator.result(id, Some(&blueprint));
            let body = body.as_object().cloned().unwrap_or_default();
            return Ok(answer_naming_bytes(Message::from_body(
                Headers::new(),
                body,
            )));
        }
        let generation_asked = request.headers.get("@gen_") == Some(&Value::Bool(true));
        if !options.generate_responses && !generation_asked {
            return Ok(Message::new(
                Headers::new(),
                "ErrorNoMatchingStub_",
                Map::new(),
            ));
        }
        let generate = GenerateOptions {
            include_optional_fields: options.include_optional_fields,
            randomize_optional_fields: options.randomize_optional_fields,
            always_include_required_fields: true,
            limits: options.limits,
        };
        let ok_fields = definition.result.tags.get("Ok_").map(|tag| &tag.fields);
        let mut generator =
            Generator::new(schema, &self.depths, &mut self.random, generate, &function);
        let ok = match ok_fields {
            Some(fields) => generator.fields(fields, None),
            None => Map::new(),
        };
        Ok(answer_naming_bytes(Message::new(Headers::new(), "Ok_", ok)))
    }
}

/// `answer`, its base64 strings at `bytes` places said to be bytes, generated or a
/// stub's alike: the server names them in `@base64_` from the body as it is sent
/// (after `@select_`), in a JSON answer, and sends them raw in a binary one.
fn answer_naming_bytes(mut answer: Message) -> Message {
    answer.mark_bytes();
    answer
}

/// Whether `function` is one of the protocol's own (`fn.ping_`, `fn.api_`, the mock's
/// `fn.createStub_`...): the server answers those before any stub is looked at, and
/// records no call of them, so a stub or a verification of one could never apply.
fn answered_by_the_mock_itself(function: &str) -> bool {
    function.ends_with('_')
}

fn flag(payload: &Map<String, Value>, name: &str) -> bool {
    payload.get(name) == Some(&Value::Bool(true))
}

/// `ErrorInvalidRequestBody_` for an argument the schema accepts but the mock cannot
/// use (a negative `count!`).
fn invalid_argument(function: &str, argument: &str, reason: Reason) -> Map<String, Value> {
    invalid_at(&[function, argument], reason)
}

/// `ErrorInvalidRequestBody_` for the value at `path` (keys from the body's root).
fn invalid_at(path: &[&str], reason: Reason) -> Map<String, Value> {
    let failure = ValidationFailure {
        path: path.iter().map(|key| json!(key)).collect(),
        reason,
    };
    one_entry(
        "ErrorInvalidRequestBody_",
        json!({ "cases": cases_json(&[failure]) }),
    )
}

/// Only reached if validation let a malformed stub or call through.
fn object_expected() -> Reason {
    Reason::TypeUnexpected {
        actual: "Object",
        expected: "Object",
    }
}
