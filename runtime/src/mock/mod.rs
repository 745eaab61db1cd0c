//! A mock server for any schema: answers every function from stubs (or generated
//! data), records the calls it gets, and verifies them on request, through the mock
//! definitions (`fn.createStub_`, `fn.verify_`, `fn.verifyNoMoreInteractions_`,
//! `fn.clearStubs_`, `fn.clearCalls_`, `fn.setRandomSeed_`).
//!
//! ```
//! use telepact::mock::MockServer;
//! use telepact::schema::Schema;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let schema = Schema::from_text(
//!     r#"[{"fn.greet": {"name": "string"}, "->": [{"Ok_": {"text": "string"}}]}]"#,
//! )?;
//! let mock = MockServer::new(schema)?;
//!
//! let stub = br#"[{}, {"fn.createStub_": {"stub": {"fn.greet": {"name": "ada"}, "->": {"Ok_": {"text": "hi ada"}}}}}]"#;
//! assert_eq!(mock.process(stub).await.bytes, br#"[{},{"Ok_":{}}]"#);
//!
//! let call = br#"[{}, {"fn.greet": {"name": "ada"}}]"#;
//! assert_eq!(mock.process(call).await.bytes, br#"[{},{"Ok_":{"text":"hi ada"}}]"#);
//!
//! let verify = br#"[{}, {"fn.verify_": {"call": {"fn.greet": {}}, "count!": {"Exact": {"times": 1}}}}]"#;
//! assert_eq!(mock.process(verify).await.bytes, br#"[{},{"Ok_":{}}]"#);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Stubs and calls are validated like any request (required fields may be left
//! out). A call matches a stub when the stub's argument is contained in the call's
//! (objects by key, arrays element by element), or equals it with `strictMatch!`; the
//! newest matching stub answers, and `count!` limits how many calls it answers (a stub
//! that has answered them is dropped, its room given back).
//!
//! The mock keeps every call for `fn.verify_` and every stub until cleared, within
//! [`MockOptions::memory_limit`]: a call or stub past it is answered `ErrorUnknown_`
//! (the log says why) and not kept, so a mock open to a network cannot be made to
//! hold more. Matching compares every element of a stub's array with the call's, so
//! one request may make at most 50 million comparisons while it is matched with the
//! stubs or the recorded calls; past that it is answered `ErrorUnknown_` too (a call
//! is kept all the same), rather than hold every other call behind it. A failed
//! verification lists the first 4 MiB of recorded calls, as the memory limit counts
//! them, not all of them, and none nested too deep for its answer to be read.

mod footprint;
mod matching;
mod state;
#[cfg(test)]
mod tests;
mod verify;

use std::sync::Arc;

use serde_json::Map;
use telepact_schema::{LoadError, Schema};
use tokio::sync::Mutex;

use crate::budget::GenerationLimits;
use crate::message::{Headers, Message};
use crate::router::{FunctionRouter, HandlerError};
use crate::server::{Authenticated, BuildError, ErrorHook, ProcessError, Response, Server};
pub(crate) use matching::is_sub_map;
use state::{MockState, Refused};
use telepact_schema::ShortestDepths;

/// How a [`MockServer`] answers calls no stub matches, what it generates, and who
/// hears of its errors.
#[derive(Clone)]
#[non_exhaustive]
pub struct MockOptions {
    /// Answer unmatched calls with a generated `Ok_` (default `true`); when `false`
    /// only requests with the header `"@gen_": true` get one, the others
    /// `ErrorNoMatchingStub_`.
    pub generate_responses: bool,
    /// Generate optional fields in generated `Ok_` results (default `true`).
    pub include_optional_fields: bool,
    /// Flip a coin for each optional field (default `true`).
    pub randomize_optional_fields: bool,
    /// Fewest items of a generated array or object (default 0).
    pub collection_length_min: u32,
    /// Generated arrays and objects have fewer items than this unless it equals the
    /// minimum (default 3).
    pub collection_length_max: u32,
    /// Bounds the size of one generated result.
    pub limits: GenerationLimits,
    /// Bytes the recorded calls and stubs may take together, as the mock estimates them
    /// from their values (default 256 MiB). A call or stub that would pass it is
    /// answered `ErrorUnknown_` and not recorded, until `fn.clearCalls_` or
    /// `fn.clearStubs_` makes room.
    pub memory_limit: usize,
    /// Called with every error the mock's server meets (an unparsable request, a
    /// call it answers `ErrorUnknown_`, ...), as [`ServerBuilder::on_error`] is; set
    /// it with [`on_error`](Self::on_error). Default: none (the log still says why).
    ///
    /// [`ServerBuilder::on_error`]: crate::ServerBuilder::on_error
    pub on_error: Option<ErrorHook>,
    /// Report each call to the `metrics` facade, as
    /// [`ServerBuilder::metrics`](crate::ServerBuilder::metrics) does (default `false`).
    pub metrics: bool,
}

impl std::fmt::Debug for MockOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOptions")
            .field("generate_responses", &self.generate_responses)
            .field("include_optional_fields", &self.include_optional_fields)
            .field("randomize_optional_fields", &self.randomize_optional_fields)
            .field("collection_length_min", &self.collection_length_min)
            .field("collection_length_max", &self.collection_length_max)
            .field("limits", &self.limits)
            .field("memory_limit", &self.memory_limit)
            .field("on_error", &self.on_error.is_some())
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// The default [`MockOptions::memory_limit`]: 256 MiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            generate_responses: true,
            include_optional_fields: true,
            randomize_optional_fields: true,
            collection_length_min: 0,
            collection_length_max: 3,
            limits: GenerationLimits::default(),
            memory_limit: DEFAULT_MEMORY_LIMIT,
            on_error: None,
            metrics: false,
        }
    }
}

impl MockOptions {
    /// Sets the `on_error` field: `hook` hears of every error the mock's server meets,
    /// as the hook of [`ServerBuilder::on_error`](crate::ServerBuilder::on_error) does.
    #[must_use]
    pub fn on_error(mut self, hook: impl Fn(&ProcessError) + Send + Sync + 'static) -> Self {
        self.on_error = Some(Arc::new(hook));
        self
    }
}

crate::__option_setters!(MockOptions {
    generate_responses: bool,
    include_optional_fields: bool,
    randomize_optional_fields: bool,
    collection_length_min: u32,
    collection_length_max: u32,
    limits: GenerationLimits,
    memory_limit: usize,
    metrics: bool,
});

/// Why a mock could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// The schema with the mock definitions added does not load (it defines one of
    /// their names itself, say); `source()` says why.
    #[error("the schema cannot take the mock definitions")]
    Schema(#[from] LoadError),
    /// The server could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// A mock of a schema: a [`Server`] whose functions answer from stubs. Cheap to clone;
/// clones share stubs and calls. Serve it over HTTP with `telepact::http::router(mock, ..)`
/// (or any transport through [`server`](Self::server)), or call [`process`](Self::process).
#[derive(Clone)]
pub struct MockServer {
    server: Server,
}

impl MockServer {
    /// A mock of `schema` (loaded with [`Schema::mock_from_dir`] or plain: the mock
    /// definitions are added when missing) with the default [`MockOptions`]: calls no
    /// stub matches get a generated `Ok_`. Its own functions need no credentials; for
    /// a schema with `union.Auth_`, calls of the schema's functions must carry
    /// `@auth_`, and any credentials are accepted.
    ///
    /// The mock keeps the schema it is given, as [`Server::builder`] does: pass it by
    /// value (or an `Arc` of it) rather than a clone, a schema of thousands of
    /// functions being tens of megabytes. A plain schema is loaded again, whole, with
    /// the mock definitions, for each mock built from it: to build many mocks, load it
    /// once with them ([`Schema::mock_from_dir`], or keep what
    /// [`Schema::with_mock_definitions`] returns) and give each mock an `Arc` of it.
    ///
    /// # Errors
    ///
    /// [`MockError::Schema`] when the mock definitions cannot be added to the schema (it
    /// defines one of their names itself: see [`Schema::with_mock_definitions`]). A mock
    /// builds its own routes and auth hook, so [`MockError::Build`] does not occur.
    pub fn new(schema: impl Into<Arc<Schema>>) -> Result<MockServer, MockError> {
        MockServer::with_options(schema, MockOptions::default())
    }

    /// Like [`new`](Self::new), with `options`.
    ///
    /// # Errors
    ///
    /// As [`MockServer::new`].
    pub fn with_options(
        schema: impl Into<Arc<Schema>>,
        options: MockOptions,
    ) -> Result<MockServer, MockError> {
        let schema = schema.into();
        let schema = if schema.has_mock_definitions() {
            schema
        } else {
            Arc::new(schema.with_mock_definitions()?)
        };
        let state = Arc::new(Mutex::new(MockState::new(
            &options,
            ShortestDepths::of(&schema),
        )));
        let on_error = options.on_error.clone();
        let metrics = options.metrics;
        let router = routes(&schema, &state, Arc::new(options));
        let mut builder = Server::builder(Arc::clone(&schema), router)
            .auth_required(false)
            .metrics(metrics);
        if let Some(hook) = on_error {
            builder = builder.on_error(move |error: &ProcessError| hook(error));
        }
        let builder = if schema.has_auth() {
            builder
                .on_auth(|_headers: Headers| async { Ok::<_, HandlerError>(Authenticated::new()) })
        } else {
            builder
        };
        Ok(MockServer {
            server: builder.build()?,
        })
    }

    /// The server answering for the mock (to serve over a transport).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Processes one request message into a response.
    pub async fn process(&self, bytes: &[u8]) -> Response {
        self.server.process(bytes).await
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").finish_non_exhaustive()
    }
}

#[cfg(feature = "axum")]
impl crate::http::Processor for MockServer {
    fn process(
        &self,
        body: crate::http::Body,
        transport: axum::http::Extensions,
    ) -> impl std::future::Future<Output = Response> + Send + '_ {
        crate::http::Processor::process(&self.server, body, transport)
    }
}

/// The mock's memory, which calls take in turn.
type Shared = Arc<Mutex<MockState>>;

/// One of the mock's own functions: the state and the request payload to a result.
type MockFunction = fn(
    &mut MockState,
    &Map<String, serde_json::Value>,
) -> Result<Map<String, serde_json::Value>, Refused>;

/// Runs `answer` on the state once the calls before have. Matching a call may take the
/// whole match budget (tens of millions of comparisons, most of a second): on a tokio
/// runtime it runs on the blocking pool, and the calls behind it wait for the state
/// without a thread, so that the async workers go on serving; without one (a fuzzer's
/// executor), in place. A panic in an earlier call does not lose the stubs.
async fn with_state<T: Send + 'static>(
    state: &Shared,
    answer: impl FnOnce(&mut MockState) -> T + Send + 'static,
) -> Result<T, HandlerError> {
    let mut guard = Arc::clone(state).lock_owned().await;
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return Ok(answer(&mut guard));
    };
    match runtime.spawn_blocking(move || answer(&mut guard)).await {
        Ok(answered) => Ok(answered),
        Err(ended) if ended.is_panic() => std::panic::resume_unwind(ended.into_panic()),
        Err(_) => Err("the runtime is shutting down".into()),
    }
}

fn routes(schema: &Arc<Schema>, state: &Shared, options: Arc<MockOptions>) -> FunctionRouter {
    let mut router = FunctionRouter::new();
    for function in schema.functions().iter().filter(|f| !f.name.ends_with('_')) {
        let (schema, state) = (Arc::clone(schema), Arc::clone(state));
        let options = Arc::clone(&options);
        router.insert(function.name.clone(), move |request: Message| {
            let (schema, state) = (Arc::clone(&schema), Arc::clone(&state));
            let options = Arc::clone(&options);
            async move {
                let answer = move |s: &mut MockState| s.answer(&schema, &options, &request);
                with_state(&state, answer)
                    .await?
                    .map_err(HandlerError::from)
            }
        });
    }
    let mock_functions: [(&str, MockFunction); 6] = [
        ("fn.createStub_", |s, p| s.create_stub(p)),
        ("fn.verify_", |s, p| s.verify(p)),
        ("fn.verifyNoMoreInteractions_", |s, _| {
            Ok(s.verify_no_more_interactions())
        }),
        ("fn.clearStubs_", |s, _| Ok(s.clear_stubs())),
        ("fn.clearCalls_", |s, _| Ok(s.clear_calls())),
        ("fn.setRandomSeed_", |s, p| Ok(s.set_random_seed(p))),
    ];
    for (name, answer) in mock_functions {
        let state = Arc::clone(state);
        router.insert(name, move |request: Message| {
            let payload = request.payload().cloned().unwrap_or_default();
            let state = Arc::clone(&state);
            async move {
                let body = with_state(&state, move |s| answer(s, &payload)).await?;
                let body = body.map_err(HandlerError::from)?;
                Ok(Message::from_body(Headers::new(), body))
            }
        });
    }
    router
}
