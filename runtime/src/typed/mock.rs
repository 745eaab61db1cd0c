//! Typed stubs and verifications over a [`MockServer`], and a client that calls it in
//! process: a test stubs a function of its schema with the generated types, calls it
//! through the generated client and verifies the call, with no HTTP and no JSON.
//!
//! Stubs and verifications go through the mock's own functions (`fn.createStub_`,
//! `fn.verify_`, ...), so they are validated against the schema like any request.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::call::FunctionInput;
use crate::client::{Client, ClientError, ClientOptions, TransportError};
use crate::message::{Headers, Message};
use crate::mock::{MockError, MockOptions, MockServer};
use crate::non_finite;
use crate::schema::Schema;

/// A mock of a schema driven with typed values. Cheap to clone; clones share stubs and
/// recorded calls.
#[derive(Clone)]
pub struct Mock {
    server: MockServer,
    /// Calls the mock's own functions.
    control: Client,
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock").finish_non_exhaustive()
    }
}

/// How a stub matches and how long it lasts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubOptions {
    strict: bool,
    count: Option<u32>,
}

impl StubOptions {
    /// Match only calls whose argument equals the stub's (by default a call matches
    /// when the stub's argument is contained in it: optional fields the stub leaves
    /// out match anything).
    #[must_use]
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Answer this many matching calls, then no more (by default, every one).
    #[must_use]
    pub fn count(mut self, calls: u32) -> Self {
        self.count = Some(calls);
        self
    }
}

/// How many matching calls a verification wants (`union.CallCountCriteria_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Times {
    /// Exactly `times` calls.
    Exact {
        /// The number of calls.
        times: i64,
    },
    /// No more than `times` calls.
    AtMost {
        /// The number of calls.
        times: i64,
    },
    /// `times` calls or more.
    AtLeast {
        /// The number of calls.
        times: i64,
    },
}

impl Times {
    /// Exactly `times` matching calls.
    pub fn exactly(times: i64) -> Times {
        Times::Exact { times }
    }

    /// At most `times` matching calls.
    pub fn at_most(times: i64) -> Times {
        Times::AtMost { times }
    }

    /// At least `times` matching calls.
    pub fn at_least(times: i64) -> Times {
        Times::AtLeast { times }
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Times::Exact { times } => write!(f, "exactly {times}"),
            Times::AtMost { times } => write!(f, "at most {times}"),
            Times::AtLeast { times } => write!(f, "at least {times}"),
        }
    }
}

/// Why a verification failed (`union.VerificationFailure_`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum VerificationFailure {
    /// Fewer calls matched than wanted.
    TooFewMatchingCalls(MatchingCalls),
    /// More calls matched than wanted.
    TooManyMatchingCalls(MatchingCalls),
}

/// What a failed verification counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingCalls {
    /// The count the verification wanted.
    pub wanted: Times,
    /// How many recorded calls matched.
    pub found: i64,
    /// The calls the mock recorded, oldest first, each `{"fn.x": {..argument..}}`: all
    /// of them, or as many as fit in 4 MiB when the records hold more.
    #[serde(rename = "allCalls")]
    pub all_calls: Vec<Value>,
}

impl VerificationFailure {
    /// What the mock counted.
    pub fn counts(&self) -> &MatchingCalls {
        let (VerificationFailure::TooFewMatchingCalls(counts)
        | VerificationFailure::TooManyMatchingCalls(counts)) = self;
        counts
    }
}

impl fmt::Display for VerificationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let MatchingCalls {
            wanted,
            found,
            all_calls,
        } = self.counts();
        write!(
            f,
            "wanted {wanted} matching {}, found {found}; calls:",
            calls(*wanted)
        )?;
        for call in all_calls {
            write!(f, " {call}")?;
        }
        Ok(())
    }
}

/// The most recorded calls a verification's message lists.
const CALLS_LISTED: usize = 10;

/// A failed verification of `function`, for a person: what was wanted, the calls of
/// that function the mock recorded (the first few), and how many of others.
fn verification_message(function: &str, argument: &Value, failure: &VerificationFailure) -> String {
    let MatchingCalls {
        wanted,
        found,
        all_calls,
    } = failure.counts();
    let of_function: Vec<&Value> = all_calls
        .iter()
        .filter(|call| call.get(function).is_some())
        .collect();
    let mut message = format!(
        "{function}: wanted {wanted} {} with an argument containing {argument}, found {found}",
        calls(*wanted)
    );
    match of_function.len() {
        0 => message.push_str(&format!("; no call of {function} was recorded")),
        recorded => {
            message.push_str(&format!("; its {recorded} recorded:"));
            for call in of_function.iter().take(CALLS_LISTED) {
                message.push_str(&format!(" {}", call[function]));
            }
            if recorded > CALLS_LISTED {
                message.push_str(&format!(" and {} more", recorded - CALLS_LISTED));
            }
        }
    }
    match all_calls.len() - of_function.len() {
        0 => {}
        1 => message.push_str(" (and 1 call of another function)"),
        others => message.push_str(&format!(" (and {others} calls of other functions)")),
    }
    message
}

/// "call" or "calls", as `times` asks.
fn calls(times: Times) -> &'static str {
    let (Times::Exact { times } | Times::AtMost { times } | Times::AtLeast { times }) = times;
    if times == 1 { "call" } else { "calls" }
}

/// Why a typed stub or verification did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockCallError {
    /// The recorded calls do not satisfy the verification.
    #[error("{}", verification_message(function, argument, failure))]
    Verification {
        /// The function verified.
        function: &'static str,
        /// The argument the calls were to contain (or equal, for a strict verification);
        /// boxed, to keep the error small.
        argument: Box<Value>,
        /// What the mock counted.
        failure: VerificationFailure,
    },
    /// `verify_no_more_interactions` found calls no verification matched.
    #[error("calls never verified: {}", Value::Array(.0.clone()))]
    UnverifiedCalls(Vec<Value>),
    /// The typed input or result did not serialize to a JSON object, or holds a NaN or
    /// an infinity (JSON has no such number; `serde_json` would write `null`).
    #[error("{function}: the stub or call does not serialize: {reason}")]
    Encode {
        /// The function stubbed or verified.
        function: &'static str,
        /// What serde reported.
        reason: String,
    },
    /// The mock refused the request (a stub whose result the schema does not allow, say).
    #[error("the mock answered {request} with {answer}")]
    Refused {
        /// The mock function called (`fn.createStub_`, ...).
        request: &'static str,
        /// The mock's answer.
        answer: Value,
    },
    /// The in-process call itself failed.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl Mock {
    /// A mock of `schema` with the default [`MockOptions`]: calls no stub matches get a
    /// generated `Ok_`.
    pub fn new(schema: impl Into<Arc<Schema>>) -> Result<Mock, MockError> {
        Mock::with_options(schema, MockOptions::default())
    }

    /// A mock of `schema` with `options`.
    pub fn with_options(
        schema: impl Into<Arc<Schema>>,
        options: MockOptions,
    ) -> Result<Mock, MockError> {
        let server = MockServer::new(schema, options)?;
        let control = in_process_client(&server, ClientOptions::default());
        Ok(Mock { server, control })
    }

    /// The mock server, to serve over a transport or to send raw requests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// A client that calls the mock in process: requests are processed by the mock
    /// directly, with no transport in between. Wrap it in a generated `Client`.
    pub fn client(&self) -> Client {
        self.client_with_options(ClientOptions::default())
    }

    /// Like [`client`](Self::client), with client options (binary encoding, say).
    pub fn client_with_options(&self, options: ClientOptions) -> Client {
        in_process_client(&self.server, options)
    }

    /// Answers calls of `I`'s function whose argument contains `input`'s with `output`;
    /// the newest matching stub answers. Fields `output` leaves out are generated.
    pub async fn stub<I: FunctionInput>(
        &self,
        input: I,
        output: I::Output,
    ) -> Result<(), MockCallError> {
        self.stub_with(input, output, StubOptions::default()).await
    }

    /// Like [`stub`](Self::stub), with strict matching or a call count.
    pub async fn stub_with<I: FunctionInput>(
        &self,
        input: I,
        output: I::Output,
        options: StubOptions,
    ) -> Result<(), MockCallError> {
        let argument = to_json(I::NAME, &input)?;
        self.stub_matching::<I>(argument, output, options).await
    }

    /// Like [`stub_with`](Self::stub_with), the argument to match given as JSON: part
    /// of one, leaving out fields the typed input must carry (`json!({})` matches
    /// every call of the function). The mock refuses an argument its schema does not
    /// allow ([`MockCallError::Refused`]).
    pub async fn stub_matching<I: FunctionInput>(
        &self,
        argument: Value,
        output: I::Output,
        options: StubOptions,
    ) -> Result<(), MockCallError> {
        let mut stub = Map::new();
        stub.insert(I::NAME.into(), argument);
        stub.insert("->".into(), to_json(I::NAME, &output)?);
        let mut payload = Map::new();
        payload.insert("stub".into(), Value::Object(stub));
        if options.strict {
            payload.insert("strictMatch!".into(), Value::Bool(true));
        }
        if let Some(count) = options.count {
            payload.insert("count!".into(), json!(count));
        }
        self.expect_ok("fn.createStub_", payload).await.map(drop)
    }

    /// Checks that `times` recorded calls of `I`'s function have an argument containing
    /// `input`'s; those calls count as verified.
    pub async fn verify<I: FunctionInput>(
        &self,
        input: I,
        times: Times,
    ) -> Result<(), MockCallError> {
        self.verify_calls(input, times, false).await
    }

    /// Like [`verify`](Self::verify), counting only calls whose argument equals `input`'s.
    pub async fn verify_strict<I: FunctionInput>(
        &self,
        input: I,
        times: Times,
    ) -> Result<(), MockCallError> {
        self.verify_calls(input, times, true).await
    }

    /// Like [`verify`](Self::verify), the argument given as JSON: part of one, leaving
    /// out fields the typed input must carry (`json!({})` counts every call of the
    /// function).
    pub async fn verify_matching<I: FunctionInput>(
        &self,
        argument: Value,
        times: Times,
    ) -> Result<(), MockCallError> {
        self.verify_argument::<I>(argument, times, false).await
    }

    /// Fails with [`MockCallError::UnverifiedCalls`] when a recorded call was never
    /// matched by a verification.
    pub async fn verify_no_more_interactions(&self) -> Result<(), MockCallError> {
        let answer = self
            .expect_ok("fn.verifyNoMoreInteractions_", Map::new())
            .await?;
        match answer {
            Ok(()) => Ok(()),
            Err(failure) => {
                let calls = failure
                    .get("additionalUnverifiedCalls")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                Err(MockCallError::UnverifiedCalls(calls))
            }
        }
    }

    /// Restarts the mock's random values at `seed`: the answers it generates from then
    /// on are the same on every run.
    pub async fn set_random_seed(&self, seed: i64) -> Result<(), MockCallError> {
        let mut payload = Map::new();
        payload.insert("seed".into(), json!(seed));
        self.expect_ok("fn.setRandomSeed_", payload).await.map(drop)
    }

    /// Removes every stub.
    pub async fn clear_stubs(&self) -> Result<(), MockCallError> {
        self.expect_ok("fn.clearStubs_", Map::new()).await.map(drop)
    }

    /// Forgets every recorded call.
    pub async fn clear_calls(&self) -> Result<(), MockCallError> {
        self.expect_ok("fn.clearCalls_", Map::new()).await.map(drop)
    }

    async fn verify_calls<I: FunctionInput>(
        &self,
        input: I,
        times: Times,
        strict: bool,
    ) -> Result<(), MockCallError> {
        let argument = to_json(I::NAME, &input)?;
        self.verify_argument::<I>(argument, times, strict).await
    }

    async fn verify_argument<I: FunctionInput>(
        &self,
        argument: Value,
        times: Times,
        strict: bool,
    ) -> Result<(), MockCallError> {
        let mut call = Map::new();
        // Kept for the message of a failed verification.
        call.insert(I::NAME.into(), argument.clone());
        let mut payload = Map::new();
        payload.insert("call".into(), Value::Object(call));
        payload.insert("count!".into(), to_json(I::NAME, &times)?);
        if strict {
            payload.insert("strictMatch!".into(), Value::Bool(true));
        }
        let Err(failure) = self.expect_ok("fn.verify_", payload).await? else {
            return Ok(());
        };
        let reason = failure.get("reason").cloned().unwrap_or(Value::Null);
        match serde_json::from_value(reason.clone()) {
            Ok(failure) => Err(MockCallError::Verification {
                function: I::NAME,
                argument: Box::new(argument),
                failure,
            }),
            Err(_) => Err(MockCallError::Refused {
                request: "fn.verify_",
                answer: reason,
            }),
        }
    }

    /// Calls one of the mock's functions: `Ok(Ok(()))` for `Ok_`,
    /// `Ok(Err(payload))` for `ErrorVerificationFailure`, any other answer refused.
    async fn expect_ok(
        &self,
        request: &'static str,
        payload: Map<String, Value>,
    ) -> Result<Result<(), Map<String, Value>>, MockCallError> {
        let response = self
            .control
            .request(Message::new(Headers::new(), request, payload))
            .await?;
        let (tag, answer) = match response.body().iter().next() {
            Some((tag, answer)) => (tag.as_str(), answer),
            None => ("", &Value::Null),
        };
        match (tag, answer) {
            ("Ok_", _) => Ok(Ok(())),
            ("ErrorVerificationFailure", Value::Object(failure)) => Ok(Err(failure.clone())),
            _ => Err(MockCallError::Refused {
                request,
                answer: Value::Object(response.into_body()),
            }),
        }
    }
}

fn to_json<T: Serialize>(function: &'static str, value: &T) -> Result<Value, MockCallError> {
    non_finite::to_value(value).map_err(|reason| MockCallError::Encode { function, reason })
}

/// A client whose transport hands each request to `server` in this process.
fn in_process_client(server: &MockServer, options: ClientOptions) -> Client {
    let server = server.clone();
    let transport = move |request: Vec<u8>| {
        let server = server.clone();
        async move { Ok::<_, TransportError>(server.process(&request).await.bytes) }
    };
    Client::with_options(transport, options)
}
