//! Shared pieces of the authoriser tests: an in-process Telepact server that accepts
//! the tokens a test registers, a counting token source, and a log capture.

#![allow(dead_code)]

#[cfg(feature = "http-client")]
pub(crate) mod endpoint;
pub(crate) use crate::log_capture;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use telepact::client::TransportError;
use telepact::client::authorise::{AuthoriseError, Token, TokenSource};
use telepact::schema::Schema;
use telepact::{Authenticated, Client, FunctionRouter, HandlerError, Headers, Message, Server};

const SCHEMA: &str = r#"[
    {"union.Auth_": [
        {"Bearer": {"token": "string"}},
        {"Password": {"username": "string", "password": "string"}},
        {"ApiKey": {"key": "string"}}
    ]},
    {"fn.whoami": {}, "->": [{"Ok_": {"method": "string"}}]}
]"#;

/// The credentials the server accepts, and every `@auth_` it was sent.
#[derive(Clone, Default)]
pub(crate) struct Gate {
    tokens: Arc<Mutex<HashSet<String>>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Gate {
    pub(crate) fn accept(&self, token: &str) {
        self.tokens.lock().unwrap().insert(token.to_string());
    }

    pub(crate) fn revoke(&self, token: &str) {
        self.tokens.lock().unwrap().remove(token);
    }

    /// Every `@auth_` sent, in order (`null` for none).
    pub(crate) fn seen(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }

    /// The bearer tokens sent, in order.
    pub(crate) fn seen_tokens(&self) -> Vec<String> {
        self.seen()
            .iter()
            .filter_map(|auth| auth.pointer("/Bearer/token").and_then(Value::as_str))
            .map(str::to_string)
            .collect()
    }

    fn allows(&self, auth: Option<&Value>) -> bool {
        let Some(auth) = auth else { return false };
        if let Some(token) = auth.pointer("/Bearer/token").and_then(Value::as_str) {
            return self.tokens.lock().unwrap().contains(token);
        }
        auth.pointer("/Password/password") == Some(&json!("alice-pw"))
            || auth.pointer("/ApiKey/key") == Some(&json!("key-1"))
    }
}

/// An in-process server guarded by `gate`, and a client calling it directly.
pub(crate) fn guarded_client(gate: &Gate) -> Client {
    let schema = Schema::from_text(SCHEMA).expect("the test schema loads");
    let router = FunctionRouter::new().route("fn.whoami", |request: Message| async move {
        let method = request
            .headers
            .get("@auth_")
            .and_then(Value::as_object)
            .and_then(|auth| auth.keys().next().cloned())
            .unwrap_or_default();
        Ok::<_, HandlerError>(ok(json!({ "method": method })))
    });
    let hook_gate = gate.clone();
    let server = Server::builder(schema, router)
        .on_auth(move |headers: Headers| {
            let allowed = hook_gate.allows(headers.get("@auth_"));
            async move {
                match allowed {
                    true => Ok(Authenticated::new()),
                    false => Err(HandlerError::from("credentials rejected")),
                }
            }
        })
        .build()
        .expect("the server builds");
    let server = Arc::new(server);
    let seen = gate.seen.clone();
    Client::new(move |bytes: Vec<u8>| {
        let server = server.clone();
        let sent: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        seen.lock()
            .unwrap()
            .push(sent.pointer("/0/@auth_").cloned().unwrap_or(Value::Null));
        async move { Ok::<_, TransportError>(server.process(&bytes).await.bytes) }
    })
}

pub(crate) fn ok(payload: Value) -> Message {
    let payload = payload.as_object().cloned().unwrap_or_default();
    Message::new(Headers::new(), "Ok_", payload)
}

pub(crate) fn whoami() -> Message {
    Message::new(Headers::new(), "fn.whoami", Map::new())
}

/// A token source issuing `prefix-1`, `prefix-2`, ... that live `lifetime`, each
/// registered with the gate; counts its fetches.
#[derive(Clone)]
pub(crate) struct Issuer {
    pub prefix: &'static str,
    pub lifetime: Duration,
    pub gate: Gate,
    pub fetches: Arc<AtomicUsize>,
}

impl Issuer {
    pub(crate) fn new(prefix: &'static str, lifetime: Duration, gate: &Gate) -> Self {
        Issuer {
            prefix,
            lifetime,
            gate: gate.clone(),
            fetches: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn issue(&self, now: SystemTime) -> Token {
        let number = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let access = format!("{}-{number}", self.prefix);
        self.gate.accept(&access);
        Token::new(access).expires_in(now, self.lifetime)
    }
}

impl TokenSource for Issuer {
    fn fetch(
        &self,
        _previous: Option<Token>,
        now: SystemTime,
    ) -> telepact::BoxFuture<'_, Result<Token, AuthoriseError>> {
        let token = self.issue(now);
        Box::pin(async move { Ok(token) })
    }
}

/// An empty directory for one test's files (see [`telepact_test_support::scratch_dir`]).
pub(crate) fn scratch_dir(name: &str) -> std::path::PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), format!("authorise/{name}"))
}
