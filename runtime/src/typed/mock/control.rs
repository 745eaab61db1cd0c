//! [`MockControl`]: typed stubs and verifications sent to a mock's own functions
//! (`fn.createStub_`, `fn.verify_`, ...), so they are validated against the schema like
//! any request.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::outcome::{MockCallError, StubOptions, Times};
use crate::client::Client;
use crate::message::{Headers, Message};
use crate::non_finite;
use crate::typed::call::FunctionInput;

/// Stubs and verifies a mock's calls with the generated types, through a [`Client`]
/// that reaches the mock: in this process (what [`Mock`](super::Mock) dereferences to)
/// or in another ([`MockControl::new`]). Cheap to clone.
#[derive(Clone, Debug)]
pub struct MockControl {
    client: Client,
}

impl MockControl {
    /// Drives the mock `client` calls: a [`MockServer`](crate::mock::MockServer) in
    /// another process (`telepact mock`, say), reached over any transport. Stubs and
    /// verifications are sent as requests to the mock's own functions.
    pub fn new(client: Client) -> MockControl {
        MockControl { client }
    }

    /// Answers calls of `I`'s function whose argument contains `input`'s with `output`;
    /// the newest matching stub answers. Fields `output` leaves out are generated.
    ///
    /// # Errors
    ///
    /// As [`stub_with`](Self::stub_with).
    pub async fn stub<I: FunctionInput>(
        &self,
        input: I,
        output: I::Output,
    ) -> Result<(), MockCallError> {
        self.stub_with(input, output, StubOptions::default()).await
    }

    /// Like [`stub`](Self::stub), with strict matching or a call count.
    ///
    /// # Errors
    ///
    /// - [`MockCallError::Encode`] when `input` or `output` does not serialize to a JSON
    ///   object, or holds a NaN or an infinity.
    /// - [`MockCallError::Refused`] when the mock refuses the stub (a result its schema
    ///   does not allow, say).
    /// - [`MockCallError::Client`] when the mock cannot be called.
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
    ///
    /// # Errors
    ///
    /// As [`stub_with`](Self::stub_with), with [`MockCallError::Encode`] for `output`
    /// alone.
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
    ///
    /// # Errors
    ///
    /// - [`MockCallError::Verification`] when the recorded calls do not satisfy `times`,
    ///   with what the mock counted.
    /// - [`MockCallError::Encode`] when `input` does not serialize to a JSON object, or
    ///   holds a NaN or an infinity.
    /// - [`MockCallError::Refused`] when the mock refuses the verification.
    /// - [`MockCallError::Client`] when the mock cannot be called.
    pub async fn verify<I: FunctionInput>(
        &self,
        input: I,
        times: Times,
    ) -> Result<(), MockCallError> {
        self.verify_calls(input, times, false).await
    }

    /// Like [`verify`](Self::verify), counting only calls whose argument equals `input`'s.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
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
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify); the argument is JSON already, so
    /// [`MockCallError::Encode`] does not occur.
    pub async fn verify_matching<I: FunctionInput>(
        &self,
        argument: Value,
        times: Times,
    ) -> Result<(), MockCallError> {
        self.verify_argument::<I>(argument, times, false).await
    }

    /// Fails with [`MockCallError::UnverifiedCalls`] when a recorded call was never
    /// matched by a verification.
    ///
    /// # Errors
    ///
    /// [`MockCallError::UnverifiedCalls`] with those calls; [`MockCallError::Refused`]
    /// when the answer is neither `Ok_` nor a verification failure;
    /// [`MockCallError::Client`] when the mock cannot be called.
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
    ///
    /// # Errors
    ///
    /// [`MockCallError::Refused`] when the answer is not `Ok_` (the client reaches
    /// something other than a mock, say); [`MockCallError::Client`] when the mock
    /// cannot be called.
    pub async fn set_random_seed(&self, seed: i64) -> Result<(), MockCallError> {
        let mut payload = Map::new();
        payload.insert("seed".into(), json!(seed));
        self.expect_ok("fn.setRandomSeed_", payload).await.map(drop)
    }

    /// Removes every stub.
    ///
    /// # Errors
    ///
    /// [`MockCallError::Refused`] when the answer is not `Ok_` (the client reaches
    /// something other than a mock, say); [`MockCallError::Client`] when the mock
    /// cannot be called.
    pub async fn clear_stubs(&self) -> Result<(), MockCallError> {
        self.expect_ok("fn.clearStubs_", Map::new()).await.map(drop)
    }

    /// Forgets every recorded call.
    ///
    /// # Errors
    ///
    /// [`MockCallError::Refused`] when the answer is not `Ok_` (the client reaches
    /// something other than a mock, say); [`MockCallError::Client`] when the mock
    /// cannot be called.
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
                strict,
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
            .client
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
