//! A client for tests: sends a request and asserts that the response body contains an
//! expected pseudo-JSON body (or does not).
//!
//! ```
//! use serde_json::{Map, json};
//! use telepact::mock::MockServer;
//! use telepact::schema::Schema;
//! use telepact::test_client::{Expect, TestClient};
//! use telepact::{Client, Headers, Message};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {"sum": "integer"}}]}]"#)?;
//! let mock = MockServer::new(schema)?;
//! // A mock (like a server) is a transport to itself: the client calls it in process.
//! let tester = TestClient::new(Client::new(mock));
//!
//! let mut args = Map::new();
//! args.insert("x".into(), json!(1));
//! let expected = json!({"Ok_": {}});
//! let response = tester
//!     .assert_request(Message::new(Headers::new(), "fn.add", args), expected.as_object().unwrap(), Expect::Match)
//!     .await?;
//! assert!(response.body()["Ok_"]["sum"].is_i64());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};
use telepact_schema::{LoadError, Schema};
use tokio::sync::OnceCell;

use crate::budget::GenerationLimits;
use crate::client::{Client, ClientError};
use crate::message::{Headers, Message};
use crate::mock::is_sub_map;
use crate::random::{GenerateOptions, Generator, RandomGenerator};
use crate::validate::{Compiled, name_result_bytes};
use telepact_schema::ShortestDepths;

/// The sizes of the collections a [`TestClient`] generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestClientOptions {
    /// Fewest items of a generated array or object (default 0).
    pub collection_length_min: u32,
    /// Generated arrays and objects have fewer items than this unless it equals the
    /// minimum (default 3).
    pub collection_length_max: u32,
}

impl Default for TestClientOptions {
    fn default() -> Self {
        TestClientOptions {
            collection_length_min: 0,
            collection_length_max: 3,
        }
    }
}

crate::__option_setters!(TestClientOptions {
    collection_length_min: u32,
    collection_length_max: u32,
});

/// What [`TestClient::assert_request`] expects of the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The body contains the expected body: the response is answered as it came.
    Match,
    /// The body does not contain it: a stand-in for the result the test expected not to
    /// get is answered.
    NoMatch,
}

/// Why an assertion did not hold or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestClientError {
    /// The request failed (transport, timeout, an unreadable response).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The response body does not contain the expected body.
    #[error("expected the response body to contain {expected}, got {actual}")]
    Mismatch {
        /// The body (or pattern) asked for.
        expected: Value,
        /// The body that came back.
        actual: Value,
    },
    /// The response body contains the body expected not to match.
    #[error("expected the response body not to contain {expected}, got {actual}")]
    UnexpectedMatch {
        /// The body (or pattern) that must not match.
        expected: Value,
        /// The body that came back.
        actual: Value,
    },
    /// `fn.api_` answered something other than `Ok_` with the schema: the answer's tag
    /// (`ErrorUnauthenticated_`, say, where the schema is not public).
    #[error("the server did not give its schema: fn.api_ answered {0}")]
    SchemaNotGiven(String),
    /// The schema `fn.api_` gave does not load.
    #[error("the server's schema does not load")]
    Schema(#[from] LoadError),
}

/// Wraps a [`Client`] to assert responses. The first assertion fetches the server's
/// schema through `fn.api_`.
pub struct TestClient {
    client: Client,
    random: Mutex<RandomGenerator>,
    schema: OnceCell<Arc<ServerSchema>>,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("client", &self.client)
            .field("schema_fetched", &self.schema.initialized())
            .finish_non_exhaustive()
    }
}

/// The server's schema, as `fn.api_` tells it.
struct ServerSchema {
    schema: Arc<Schema>,
    depths: ShortestDepths,
    /// Its functions' results, to name the bytes of a stand-in.
    compiled: Compiled,
}

impl TestClient {
    /// Wraps `client` with the default [`TestClientOptions`]; filled-in fields are
    /// drawn from a generator seeded with 0.
    pub fn new(client: Client) -> Self {
        TestClient::with_options(client, TestClientOptions::default())
    }

    /// Like [`new`](Self::new), with `options`.
    pub fn with_options(client: Client, options: TestClientOptions) -> Self {
        TestClient {
            client,
            random: Mutex::new(RandomGenerator::new(
                options.collection_length_min,
                options.collection_length_max,
            )),
            schema: OnceCell::new(),
        }
    }

    /// Restarts the generator of filled-in fields.
    pub fn set_seed(&self, seed: i64) {
        self.random
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_seed(seed);
    }

    /// Sends `request` and checks whether the response body contains `expected`, as a
    /// mock stub's argument matches a call: an object's keys each contain the actual
    /// value (a missing key reads as `null`), each element of an array is contained in
    /// some element of the actual array (in any order; duplicates not counted), and
    /// other values are equal (`1` equals `1.0`).
    ///
    /// With [`Expect::Match`], answers the response when it matches. With
    /// [`Expect::NoMatch`], answers `expected` completed with generated required fields
    /// (with the real response's headers, `@base64_` naming the stand-in's own bytes)
    /// when the response does not match: a stand-in for the result the test expected not
    /// to get. A function the server's schema does not list (`fn.api_` leaves out the
    /// internal ones) has no results to draw from: its response is answered as it came.
    ///
    /// # Errors
    ///
    /// - [`TestClientError::Mismatch`] when `expect_match` is set and the body does not
    ///   contain `expected`; [`TestClientError::UnexpectedMatch`] when it is not and the
    ///   body does.
    /// - [`TestClientError::Client`] when the request, or the first assertion's
    ///   `fn.api_` call, fails (see [`Client::request`]).
    /// - [`TestClientError::SchemaNotGiven`] when, on the first assertion, `fn.api_`
    ///   does not answer `Ok_`, and [`TestClientError::Schema`] when the schema it gives
    ///   does not load.
    pub async fn assert_request(
        &self,
        request: Message,
        expected: &Map<String, Value>,
        expect: Expect,
    ) -> Result<Message, TestClientError> {
        let expect_match = expect == Expect::Match;
        let schema = self.schema().await?;
        let function = request.target().to_string();
        let response = self.client.request(request).await?;
        let matched = is_sub_map(expected, response.body());
        let mismatch = |response: Message| {
            let expected = Value::Object(expected.clone());
            let actual = Value::Object(response.into_body());
            if expect_match {
                TestClientError::Mismatch { expected, actual }
            } else {
                TestClientError::UnexpectedMatch { expected, actual }
            }
        };
        if matched != expect_match {
            return Err(mismatch(response));
        }
        if expect_match {
            return Ok(response);
        }
        let ServerSchema {
            schema,
            depths,
            compiled,
        } = &*schema;
        let Some((id, _)) = schema.function_by_name(&function) else {
            return Ok(response);
        };
        let options = GenerateOptions {
            include_optional_fields: false,
            randomize_optional_fields: false,
            always_include_required_fields: true,
            limits: GenerationLimits::default(),
        };
        let body = {
            let mut random = self.random.lock().unwrap_or_else(PoisonError::into_inner);
            Generator::new(schema, depths, &mut random, options, &function)
                .result(id, Some(expected))
        };
        let body = body.as_object().cloned().unwrap_or_default();
        let mut stand_in = Message::from_body(response.headers, body);
        // The response's `@base64_` named the bytes of its own body.
        name_result_bytes(compiled, id, &mut stand_in);
        Ok(stand_in)
    }

    async fn schema(&self) -> Result<Arc<ServerSchema>, TestClientError> {
        let schema = self
            .schema
            .get_or_try_init(|| async {
                let request = Message::new(Headers::new(), "fn.api_", Map::new());
                let response = self.client.request(request).await?;
                let api = response
                    .body()
                    .get("Ok_")
                    .and_then(|ok| ok.get("api"))
                    .ok_or_else(|| {
                        TestClientError::SchemaNotGiven(response.target().to_string())
                    })?;
                let schema = Arc::new(Schema::from_text(&api.to_string())?);
                let depths = ShortestDepths::of(&schema);
                let compiled = Compiled::shared(&schema);
                Ok::<_, TestClientError>(Arc::new(ServerSchema {
                    schema,
                    depths,
                    compiled,
                }))
            })
            .await?;
        Ok(Arc::clone(schema))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mock::MockServer;

    fn tester() -> TestClient {
        let schema = Schema::from_text(
            r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {"sum": "integer"}}]}]"#,
        )
        .expect("schema loads");
        let mock = MockServer::new(schema).expect("mock builds");
        TestClient::new(Client::new(mock))
    }

    /// Nothing to draw a stand-in from: the answer that did not match comes back as it
    /// came, not as an error saying it matched.
    #[tokio::test]
    async fn a_function_the_schema_lacks_answers_its_response_when_no_match_is_expected() {
        let tester = tester();
        let expected = json!({"Ok_": {}});
        let expected = expected.as_object().expect("an object");
        let request = Message::new(Headers::new(), "fn.nope", Map::new());
        let response = tester
            .assert_request(request, expected, Expect::NoMatch)
            .await
            .expect("no match, as expected");
        assert_eq!(response.target(), "ErrorInvalidRequestBody_");

        let request = Message::new(Headers::new(), "fn.nope", Map::new());
        let refused = tester
            .assert_request(request, expected, Expect::Match)
            .await;
        assert!(
            matches!(refused, Err(TestClientError::Mismatch { .. })),
            "{refused:?}"
        );
    }

    /// A stand-in's `@base64_` names its own bytes, not those of the response it stands
    /// in for: here the response's optional bytes, which a stand-in leaves out, and the
    /// required ones it generates.
    #[tokio::test]
    async fn a_stand_in_names_its_own_bytes() {
        let schema = Schema::from_text(
            r#"[{"fn.file": {}, "->": [{"Ok_": {"data": "bytes", "thumb!": "bytes"}}]}]"#,
        )
        .expect("schema loads");
        let mock = MockServer::with_options(
            schema,
            crate::mock::MockOptions::default().randomize_optional_fields(false),
        )
        .expect("mock builds");
        let tester = TestClient::new(Client::new(mock));
        let call = || Message::new(Headers::new(), "fn.file", Map::new());
        let anything = json!({"Ok_": {}});
        let response = tester
            .assert_request(call(), anything.as_object().expect("object"), Expect::Match)
            .await
            .expect("answered");
        assert_eq!(
            response.header("@base64_"),
            Some(&json!({"Ok_": {"data": true, "thumb!": true}})),
            "the mock's answer names both"
        );

        let other = json!({"Ok_": {"data": "AAAA"}});
        let stand_in = tester
            .assert_request(call(), other.as_object().expect("object"), Expect::NoMatch)
            .await
            .expect("no match, as expected");
        assert_eq!(stand_in.body(), other.as_object().expect("object"));
        assert_eq!(
            stand_in.header("@base64_"),
            Some(&json!({"Ok_": {"data": true}}))
        );
        let marked = stand_in.marked_bytes().expect("the header fits the body");
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].bytes, [0, 0, 0]);
    }

    /// Over a binary client, packed or not, assertions read the body as over JSON: the
    /// client decodes it, bytes as base64 named in `@base64_`.
    #[tokio::test]
    async fn assertions_hold_over_a_binary_client() {
        let schema = Schema::from_text(
            r#"[{"fn.file": {"n": "integer"}, "->": [{"Ok_": {"data": "bytes", "n": "integer"}}]}]"#,
        )
        .expect("schema loads");
        let mock = MockServer::new(schema).expect("mock builds");
        for packed in [false, true] {
            let options = crate::client::ClientOptions::default()
                .binary(true)
                .packed(packed);
            let tester = TestClient::new(Client::with_options(mock.clone(), options));
            let mut args = Map::new();
            args.insert("n".into(), json!(1));
            let call = || Message::new(Headers::new(), "fn.file", args.clone());
            let anything = json!({"Ok_": {}});
            for _ in 0..2 {
                let response = tester
                    .assert_request(call(), anything.as_object().expect("object"), Expect::Match)
                    .await
                    .expect("answered");
                assert!(response.headers.contains_key("@bin_"), "{response:?}");
                assert_eq!(response.marked_bytes().expect("named").len(), 1);
            }
            let other = json!({"Ok_": {"n": -1}});
            let stand_in = tester
                .assert_request(call(), other.as_object().expect("object"), Expect::NoMatch)
                .await
                .expect("no match, as expected");
            assert_eq!(stand_in.body()["Ok_"]["n"], json!(-1));
            assert_eq!(stand_in.marked_bytes().expect("named").len(), 1);
        }
    }

    /// A client whose server answers every request with `answer`.
    fn answering(answer: &'static str) -> TestClient {
        let transport = move |_request: Vec<u8>| async move { Ok(answer.as_bytes().to_vec()) };
        TestClient::new(Client::new(transport))
    }

    async fn first_assertion(tester: &TestClient) -> Result<Message, TestClientError> {
        let expected = json!({"Ok_": {}});
        let expected = expected.as_object().expect("an object");
        let request = Message::new(Headers::new(), "fn.ping_", Map::new());
        tester
            .assert_request(request, expected, Expect::Match)
            .await
    }

    /// The two ways of not getting a schema are told apart: what `fn.api_` answered
    /// instead, or why the schema it gave does not load (as the error's source).
    #[tokio::test]
    async fn a_schema_not_given_or_not_loading_says_which() {
        let refused = answering(r#"[{}, {"ErrorUnauthenticated_": {}}]"#);
        match first_assertion(&refused).await {
            Err(TestClientError::SchemaNotGiven(tag)) => assert_eq!(tag, "ErrorUnauthenticated_"),
            other => panic!("{other:?}"),
        }
        let broken = answering(r#"[{}, {"Ok_": {"api": [{"fn.x": 1}]}}]"#);
        match first_assertion(&broken).await {
            Err(error @ TestClientError::Schema(_)) => {
                let cause = std::error::Error::source(&error).expect("the load error");
                assert!(cause.is::<LoadError>(), "{cause}");
            }
            other => panic!("{other:?}"),
        }
    }
}
