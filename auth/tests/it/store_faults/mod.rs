//! The toolkit on a Redis that fails: stopped, stalled (`DEBUG SLEEP`), refusing writes
//! for a while (`CLIENT PAUSE WRITE`) or full (`maxmemory 1` under `noeviction`). Nothing
//! is accepted that should be refused, credentials that could not be checked are answered
//! `ErrorUnknown_` and never `ErrorUnauthenticated_`, and service resumes with Redis.

#![cfg(feature = "redis")]

mod hook;
mod refresh;
mod throttle;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Headers, Message, Refusal, Server};
use telepact_auth::store::RedisStore;
use telepact_auth::{AuthError, Authenticator, Identity, ManualClock, TokenPair};
use telepact_test_support::RedisServer;

use crate::authenticator::authenticator;

/// A `redis-server` child the tests make fail in each way.
pub(crate) struct FaultyRedis {
    server: RedisServer,
}

impl FaultyRedis {
    /// `None` (after a skip) without `redis-server`.
    pub(crate) fn start() -> Option<Self> {
        RedisServer::start_debuggable().map(|server| FaultyRedis { server })
    }

    /// A store on this Redis under `prefix`.
    pub(crate) async fn store(&self, prefix: &str) -> RedisStore {
        RedisStore::connect(&self.server.url(), prefix)
            .await
            .expect("the store connects")
    }

    /// Runs an administrative command on a connection of its own.
    async fn admin(&self, args: &[&str]) {
        let client = redis::Client::open(self.server.url()).expect("a valid url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("an admin connection");
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        let () = command
            .query_async(&mut connection)
            .await
            .expect("the admin command runs");
    }

    /// Makes Redis hold every write command (reads go on) for `duration`: the writes run
    /// once the pause ends, after their callers gave up on them.
    pub(crate) async fn pause_writes(&self, duration: Duration) {
        let millis = duration.as_millis().to_string();
        self.admin(&["CLIENT", "PAUSE", &millis, "WRITE"]).await;
    }

    /// Makes Redis answer nothing for `duration` (`DEBUG SLEEP`), and returns once it
    /// sleeps.
    pub(crate) fn stall(&self, duration: Duration) {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.server.port())).expect("a connection");
        let command = format!("DEBUG SLEEP {}\r\n", duration.as_secs_f64());
        stream.write_all(command.as_bytes()).expect("sent");
        // Read the answer (`+OK` once it wakes) on a thread of its own.
        std::thread::spawn(move || {
            let mut answer = [0u8; 16];
            let _ = stream.read(&mut answer);
        });
        std::thread::sleep(Duration::from_millis(100));
    }

    /// Makes Redis refuse every write as out of memory, as a full Redis under
    /// `noeviction` does, until [`make_room`](Self::make_room).
    pub(crate) async fn fill(&self) {
        self.admin(&["CONFIG", "SET", "maxmemory", "1"]).await;
    }

    /// Lifts [`fill`](Self::fill).
    pub(crate) async fn make_room(&self) {
        self.admin(&["CONFIG", "SET", "maxmemory", "0"]).await;
    }

    /// Kills Redis (its data goes with it).
    pub(crate) fn kill(&mut self) {
        self.server.kill();
    }

    /// Starts Redis again on its port, empty.
    pub(crate) fn restart(&mut self) {
        self.server.restart();
    }
}

/// A schema with the credentials the tests send and a sign-in pair.
const SCHEMA: &str = r#"[
  {"union.Auth_": [
    {"Bearer": {"token": "string"}},
    {"Password": {"username": "string", "password": "string"}}
  ]},
  {"fn.me": {}, "->": [{"Ok_": {"userId": "string"}}]},
  {"fn.login": {}, "->": [{"Ok_": {"accessToken": "string", "refreshToken": "string", "expiresIn": "integer"}}]},
  {"fn.refresh": {"refreshToken": "string"}, "$authenticated": false,
   "->": [{"Ok_": {"accessToken": "string", "refreshToken": "string", "expiresIn": "integer"}}]}
]"#;

/// A server over an authenticator on `store`, as a service wires one.
pub(crate) struct Service {
    pub(crate) auth: Authenticator,
    pub(crate) server: Server,
    pub(crate) clock: ManualClock,
}

impl Service {
    pub(crate) fn on(store: RedisStore) -> Service {
        let clock = ManualClock::starting_now();
        let auth = authenticator(Arc::new(store), &clock);
        let (login, refresh) = (auth.clone(), auth.clone());
        let router = FunctionRouter::new()
            .route("fn.me", |request: Message| async move {
                let user_id = caller(&request)?.user_id.clone();
                Ok(ok(json!({ "userId": user_id })))
            })
            .route("fn.login", move |request: Message| {
                let auth = login.clone();
                async move {
                    let tokens = auth.issue_tokens(caller(&request)?).await?;
                    Ok(ok(pair(&tokens)))
                }
            })
            .route("fn.refresh", move |request: Message| {
                let auth = refresh.clone();
                async move {
                    let argument = request.payload().and_then(|body| body.get("refreshToken"));
                    let token = argument.and_then(Value::as_str);
                    let token = token.unwrap_or_default();
                    match auth.refresh(token).await {
                        Ok(tokens) => Ok(ok(pair(&tokens))),
                        Err(failed @ (AuthError::Store(_) | AuthError::Internal(_))) => {
                            Err(failed.into())
                        }
                        Err(_refused) => Err(Refusal::Unauthenticated.into()),
                    }
                }
            });
        let schema = Schema::from_text(SCHEMA).expect("the schema loads");
        let server = Server::builder(schema, router)
            .on_auth(auth.hook())
            .build()
            .expect("the server builds");
        Service {
            auth,
            server,
            clock,
        }
    }

    /// The answer to `function` called with `auth` as `@auth_`.
    pub(crate) async fn call(&self, auth: &Value, function: &str, body: Value) -> Value {
        let request = json!([{"@auth_": auth}, {function: body}]);
        let bytes = serde_json::to_vec(&request).expect("encodes");
        let answer = self.server.process(&bytes).await;
        serde_json::from_slice(&answer.bytes).expect("a JSON answer")
    }

    /// The answer to `fn.me` with `auth`.
    pub(crate) async fn me(&self, auth: &Value) -> Value {
        self.call(auth, "fn.me", json!({})).await
    }
}

fn caller(request: &Message) -> Result<&Identity, HandlerError> {
    request
        .extensions
        .get::<Identity>()
        .ok_or_else(|| Refusal::Unauthenticated.into())
}

fn ok(payload: Value) -> Message {
    let Value::Object(payload) = payload else {
        return Message::new(Headers::new(), "Ok_", Map::new());
    };
    Message::new(Headers::new(), "Ok_", payload)
}

fn pair(tokens: &TokenPair) -> Value {
    json!({
        "accessToken": tokens.access_token,
        "refreshToken": tokens.refresh_token,
        "expiresIn": tokens.expires_in,
    })
}

pub(crate) fn bearer(token: &str) -> Value {
    json!({"Bearer": {"token": token}})
}

pub(crate) fn password(username: &str, password: &str) -> Value {
    json!({"Password": {"username": username, "password": password}})
}

/// The result tag of an answer: `Ok_`, `ErrorUnknown_`, ...
pub(crate) fn tag(answer: &Value) -> &str {
    answer[1]
        .as_object()
        .and_then(|result| result.keys().next())
        .map_or("", String::as_str)
}

/// An answer that says the credentials could not be checked: `ErrorUnknown_` with the
/// case id the log has.
pub(crate) fn unchecked(answer: &Value) -> bool {
    answer
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty())
}
