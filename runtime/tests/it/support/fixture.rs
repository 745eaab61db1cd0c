//! The conformance test server's behaviour (see the conformance README): a header-driven
//! handler for every function, a header override, middleware, hooks, an alternate server
//! and, optionally, an auth hook and a schema validator. Shared by the
//! `conformance_server` example and the conformance tests.
//!
//! The fixture records hook calls per request, so it serves one request at a time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value, json};
use telepact::schema::{Schema, pseudo_json_text};
use telepact::{
    Authenticated, BoxFuture, FunctionRouter, HandlerError, Headers, Message, Middleware, Response,
    Server,
};

/// How the fixture is started.
#[derive(Debug, Clone, Default)]
pub(crate) struct FixtureOptions {
    /// Serve `auth.json`: require authentication through the token hook.
    pub auth: bool,
    /// Serve `fn.validateSchema` (`parse.json`); `Directory` inputs resolve against
    /// `base_dir`.
    pub validate_schemas: bool,
    pub base_dir: Option<PathBuf>,
}

/// What the on-error hook saw during the current request.
#[derive(Debug, Default)]
struct ErrorLog {
    /// One entry per reported error: its cause's text, if it had one.
    reported: Vec<Option<String>>,
}

/// The conformance test server.
pub(crate) struct Fixture {
    primary: Server,
    alternate: Option<Server>,
    use_alternate: Arc<AtomicBool>,
    errors: Arc<Mutex<ErrorLog>>,
}

/// A fixture behind the HTTP router (`telepact::http::router`).
#[cfg(feature = "axum")]
#[allow(dead_code)] // the in-process replays serve no HTTP
#[derive(Clone)]
pub(crate) struct SharedFixture(pub Arc<Fixture>);

#[cfg(feature = "axum")]
impl telepact::http::Processor for SharedFixture {
    async fn process(&self, body: telepact::http::Body, _transport: http::Extensions) -> Response {
        self.0.handle(&body).await
    }
}

impl Fixture {
    /// Loads the schema directory and builds the servers.
    pub(crate) fn load(schema_dir: &Path, options: FixtureOptions) -> Result<Fixture, String> {
        let schema = Schema::from_dir(schema_dir).map_err(|e| e.to_string())?;
        let alternate_schema = alternate_schema(schema_dir).ok();
        let use_alternate = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(Mutex::new(ErrorLog::default()));
        let primary = build_server(schema, &options, &use_alternate, &errors)?;
        let alternate = match alternate_schema {
            Some(schema) => Some(build_server(schema, &options, &use_alternate, &errors)?),
            None => None,
        };
        Ok(Fixture {
            primary,
            alternate,
            use_alternate,
            errors,
        })
    }

    /// Processes one request as the test server does.
    pub(crate) async fn handle(&self, bytes: &[u8]) -> Response {
        let expectation = Expectation::from_request(bytes);
        if let Ok(mut log) = self.errors.lock() {
            log.reported.clear();
        }
        let response = match (&self.alternate, self.use_alternate.load(Ordering::SeqCst)) {
            (Some(alternate), true) => alternate.process(bytes).await,
            _ => {
                self.primary
                    .process_with(bytes, |headers| {
                        headers.insert("@override".to_string(), json!("new"));
                    })
                    .await
            }
        };
        let met = match self.errors.lock() {
            Ok(log) => expectation.met_by(&log.reported),
            Err(_) => false,
        };
        if met {
            response
        } else {
            with_assertion_error(response)
        }
    }
}

/// The on-error expectation a request arms with `@assertOnError*_` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    None,
    /// The error must wrap the middleware's own error.
    Nested,
    /// The error must have no cause.
    Standalone,
}

impl Expectation {
    fn from_request(bytes: &[u8]) -> Expectation {
        let Ok(Value::Array(parts)) = serde_json::from_slice::<Value>(bytes) else {
            return Expectation::None;
        };
        let Some(Value::Object(headers)) = parts.first() else {
            return Expectation::None;
        };
        if headers.get("@assertOnErrorNested_") == Some(&json!(true)) {
            Expectation::Nested
        } else if headers.get("@assertOnErrorStandalone_") == Some(&json!(true)) {
            Expectation::Standalone
        } else {
            Expectation::None
        }
    }

    fn met_by(self, reported: &[Option<String>]) -> bool {
        match self {
            Expectation::None => true,
            Expectation::Nested => reported
                .iter()
                .any(|cause| cause.as_deref() == Some(MIDDLEWARE_ERROR)),
            Expectation::Standalone => reported.iter().any(Option::is_none),
        }
    }
}

fn with_assertion_error(response: Response) -> Response {
    let Ok(Value::Array(mut parts)) = serde_json::from_slice::<Value>(&response.bytes) else {
        return response;
    };
    if let Some(Value::Object(headers)) = parts.first_mut() {
        headers.insert("@assertionError".to_string(), json!(true));
    }
    let bytes = serde_json::to_vec(&parts).unwrap_or(response.bytes);
    Response { bytes, ..response }
}

/// The alternate server's schema: the primary one plus one extra struct.
fn alternate_schema(schema_dir: &Path) -> Result<Schema, String> {
    let mut documents = Vec::new();
    let entries = std::fs::read_dir(schema_dir).map_err(|e| e.to_string())?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        documents.push((name, text));
    }
    documents.push((
        "backwardsCompatibleChange.telepact.json".to_string(),
        r#"[{"struct.BackwardsCompatibleChange": {}}]"#.to_string(),
    ));
    Schema::from_documents(documents).map_err(|e| e.to_string())
}

fn build_server(
    schema: Schema,
    options: &FixtureOptions,
    use_alternate: &Arc<AtomicBool>,
    errors: &Arc<Mutex<ErrorLog>>,
) -> Result<Server, String> {
    let mut router = FunctionRouter::new();
    for function in schema.functions() {
        if !function.internal {
            router.insert(function.name.clone(), answer_from_headers);
        }
    }
    if options.validate_schemas {
        let base_dir = options.base_dir.clone().unwrap_or_default();
        router.insert("fn.validateSchema", move |request: Message| {
            let base_dir = base_dir.clone();
            async move { Ok::<_, HandlerError>(validate_schema(&request, &base_dir)) }
        });
    }
    let toggle = Arc::clone(use_alternate);
    let error_log = Arc::clone(errors);
    let builder = Server::builder(schema, router)
        .auth_required(options.auth)
        .middleware(ToggleMiddleware { toggle })
        .on_error(move |error| {
            let cause = std::error::Error::source(error).map(ToString::to_string);
            if let Ok(mut log) = error_log.lock() {
                log.reported.push(cause);
            }
        })
        .on_request(|request| {
            if request.headers.get("@onRequestError_") == Some(&json!(true)) {
                return Err("on-request hook failed as asked".into());
            }
            Ok(())
        })
        .on_response(|response| {
            if response.headers.get("@onResponseError_") == Some(&json!(true)) {
                return Err("on-response hook failed as asked".into());
            }
            Ok(())
        });
    let builder = if options.auth {
        builder.on_auth(token_auth)
    } else {
        builder
    };
    builder.build().map_err(|e| e.to_string())
}

/// The middleware's own error, which a nested on-error report must wrap.
const MIDDLEWARE_ERROR: &str = "middleware failed as asked";

/// Routes, then toggles the alternate server or fails when the request asks to.
struct ToggleMiddleware {
    toggle: Arc<AtomicBool>,
}

impl Middleware for ToggleMiddleware {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        Box::pin(async move {
            let toggle_requested =
                request.headers.get("@toggleAlternateServer_") == Some(&json!(true));
            let throw_requested = request.headers.get("@throwError_") == Some(&json!(true));
            let result = router.call(request).await;
            if toggle_requested {
                self.toggle.fetch_xor(true, Ordering::SeqCst);
            }
            if throw_requested {
                return Err(MIDDLEWARE_ERROR.into());
            }
            result
        })
    }
}

/// The auth server's hook: token `ok` passes, `unauthorized` passes with a result that
/// makes the handler answer `ErrorUnauthorized_`, anything else fails.
fn token_auth(headers: Headers) -> BoxFuture<'static, Result<Authenticated, HandlerError>> {
    let token = headers
        .get("@auth_")
        .and_then(|auth| auth.get("Token"))
        .and_then(|token| token.get("token"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Box::pin(async move {
        match token.as_deref() {
            Some("ok") => Ok(Authenticated::new().header("@ok_", json!({}))),
            Some("unauthorized") => Ok(Authenticated::new()
                .header("@result", json!({"ErrorUnauthorized_": {"message!": "a"}}))),
            _ => Err("invalid token".into()),
        }
    })
}

/// The handler every non-internal function gets: it answers from the request headers.
async fn answer_from_headers(request: Message) -> Result<Message, HandlerError> {
    let headers = &request.headers;
    let mut response_headers = match headers.get("@responseHeader") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    if let Some(value) = headers.get("@onResponseError_") {
        response_headers.insert("@onResponseError_".to_string(), value.clone());
    }
    let body = if let Some(ok) = headers.get("@ok_") {
        one_entry("Ok_", ok.clone())
    } else if let Some(result) = headers.get("@result") {
        match result {
            Value::Object(map) => map.clone(),
            other => one_entry("@result", other.clone()),
        }
    } else if headers.contains_key("@throw") {
        return Err("handler failed as asked".into());
    } else if headers.contains_key("@error") {
        one_entry("ErrorExample2", json!({"field1": "Boom!"}))
    } else if headers.get("@override") != Some(&json!("new")) {
        one_entry("ErrorUnknown_", json!({}))
    } else {
        one_entry("Ok_", json!({}))
    };
    Ok(Message::from_body(response_headers.into(), body))
}

fn one_entry(key: &str, value: Value) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    map
}

/// `fn.validateSchema`: loads the schema in `input` and reports its failures.
fn validate_schema(request: &Message, base_dir: &Path) -> Message {
    let input = request
        .payload()
        .and_then(|p| p.get("input"))
        .and_then(Value::as_object);
    let outcome = match input.and_then(|i| i.iter().next()) {
        Some((tag, payload)) => load_input(tag, payload, base_dir),
        None => Ok(()),
    };
    let body = match outcome {
        Ok(()) => one_entry("Ok_", json!({})),
        Err(cases) => one_entry("ErrorValidationFailure", json!({ "cases": cases })),
    };
    Message::from_body(Headers::new(), body)
}

fn load_input(tag: &str, payload: &Value, base_dir: &Path) -> Result<(), Value> {
    let loaded = match tag {
        "PseudoJson" => {
            let schema = payload
                .get("schema")
                .map(pseudo_json_text)
                .unwrap_or_default();
            match payload.get("extend!") {
                Some(extend) => Schema::from_documents([
                    ("default".to_string(), schema),
                    ("extend".to_string(), pseudo_json_text(extend)),
                ]),
                None => Schema::from_text(&schema),
            }
        }
        "Json" => {
            let text = payload.get("schema").and_then(Value::as_str).unwrap_or("");
            Schema::from_text(text)
        }
        "Directory" => {
            let dir = payload
                .get("schemaDirectory")
                .and_then(Value::as_str)
                .unwrap_or("");
            Schema::from_dir(base_dir.join(dir))
        }
        _ => return Ok(()),
    };
    match loaded {
        Ok(_) => Ok(()),
        Err(error) => match error.failures() {
            Some(failures) => Err(failures.to_json()),
            None => Err(json!([])),
        },
    }
}
