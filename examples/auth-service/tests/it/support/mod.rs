//! Starts the example service in-process on 127.0.0.1:0 with an injectable clock and a
//! chosen store, and calls it over HTTP (typed client or raw requests).

#![allow(dead_code)]

use std::sync::Arc;

use serde_json::Value;
use telepact::client::ClientOptions;
use telepact::http::HttpOptions;
use telepact_auth::http::HttpAuthOptions;
use telepact_auth::{
    AuthConfig, Authenticator, CredentialStore, JwtKey, JwtKeys, ManualClock, MemoryStore,
    MemoryUsers, PasswordParams, User,
};
use telepact_auth_example::api::{
    Auth, AuthApiKey, AuthBearer, AuthPassword, AuthSession, Client, LoginInput, LoginOk,
    LoginOutput, MeInput, MeOutput, RefreshInput, RefreshOutput, RequestHeaders,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The answer to a call whose credentials were missing or not accepted.
pub(crate) const UNAUTHENTICATED: &str = "Valid authentication is required.";

/// Signs `username` in with their password; any answer but `Ok_` fails the test.
pub(crate) async fn login(service: &Service, username: &str) -> LoginOk {
    let answer = service
        .client()
        .login_with(LoginInput::default(), password(username))
        .await
        .expect("the call completes");
    match answer
        .output
        .known()
        .expect("a result tag the schema declares")
    {
        LoginOutput::Ok(ok) => ok,
        other => panic!("login failed: {other:?}"),
    }
}

/// Whether `fn.me` accepts the credentials: `Ok_` is yes, the protocol's
/// `ErrorUnauthenticated_` is no; any other answer fails the test.
pub(crate) async fn accepted(service: &Service, headers: RequestHeaders) -> bool {
    let answer = service.client().me_with(MeInput {}, headers).await.unwrap();
    match answer
        .output
        .known()
        .expect("a result tag the schema declares")
    {
        MeOutput::Ok(_) => true,
        MeOutput::ErrorUnauthenticated(refused) => {
            assert_eq!(refused.message.as_deref(), Some(UNAUTHENTICATED));
            false
        }
        other => panic!("fn.me neither accepted nor refused: {other:?}"),
    }
}

/// Whether `fn.refresh` takes the refresh token: `Ok_` is yes, `ErrorUnauthenticated_`
/// saying the token is not valid is no; any other answer fails the test.
pub(crate) async fn refreshes(service: &Service, token: &str) -> bool {
    let input = RefreshInput {
        refresh_token: token.into(),
    };
    let answer = service.client().refresh(input).await.unwrap();
    match answer
        .output
        .known()
        .expect("a result tag the schema declares")
    {
        RefreshOutput::Ok(_) => true,
        RefreshOutput::ErrorUnauthenticated(refused) => {
            assert_eq!(
                refused.message.as_deref(),
                Some("The refresh token is not valid.")
            );
            false
        }
        other => panic!("fn.refresh neither accepted nor refused: {other:?}"),
    }
}

pub(crate) const ISSUER: &str = "telepact-auth-example";
pub(crate) const AUDIENCE: &str = "telepact-auth-example";
pub(crate) const KEY_ID: &str = "test-key-1";
pub(crate) const KEY_SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

/// A test account.
pub(crate) struct TestUser {
    pub username: &'static str,
    pub password: &'static str,
    pub user_id: &'static str,
    pub tenant: &'static str,
    pub roles: &'static [&'static str],
    pub scopes: &'static [&'static str],
}

pub(crate) const USERS: &[TestUser] = &[
    TestUser {
        username: "alice",
        password: "alice-pw-1",
        user_id: "u-alice",
        tenant: "acme",
        roles: &["admin", "member"],
        scopes: &["keys:write", "profile:read", "users:read"],
    },
    TestUser {
        username: "bob",
        password: "bob-pw-2",
        user_id: "u-bob",
        tenant: "acme",
        roles: &["member"],
        scopes: &["keys:write", "profile:read"],
    },
    TestUser {
        username: "carol",
        password: "carol-pw-3",
        user_id: "u-carol",
        tenant: "globex",
        roles: &["member"],
        scopes: &["profile:read"],
    },
];

pub(crate) fn password_of(username: &str) -> &'static str {
    USERS
        .iter()
        .find(|user| user.username == username)
        .map(|user| user.password)
        .unwrap_or("no such user")
}

pub(crate) fn test_keys() -> JwtKeys {
    JwtKeys::new(JwtKey::new(KEY_ID, KEY_SECRET).expect("a long enough secret"))
}

/// What a test service is made of; change fields before [`Setup::start`].
pub(crate) struct Setup {
    pub store: Arc<dyn CredentialStore>,
    pub keys: JwtKeys,
    pub clock: ManualClock,
    pub config: AuthConfig,
    pub http_auth: HttpAuthOptions,
}

impl Setup {
    pub(crate) fn new() -> Setup {
        let mut config = AuthConfig::new(ISSUER, AUDIENCE);
        config.password = PasswordParams::insecure_for_tests();
        config.jwt.ttl = 300;
        config.refresh_ttl = 3600;
        config.session_ttl = 1800;
        Setup {
            store: Arc::new(MemoryStore::new()),
            keys: test_keys(),
            clock: ManualClock::starting_now(),
            config,
            http_auth: HttpAuthOptions::default(),
        }
    }

    pub(crate) fn with_store(mut self, store: Arc<dyn CredentialStore>) -> Setup {
        self.store = store;
        self
    }

    pub(crate) fn with_clock(mut self, clock: ManualClock) -> Setup {
        self.clock = clock;
        self
    }

    pub(crate) async fn start(self) -> Service {
        let users = MemoryUsers::new();
        let auth = Authenticator::new(self.config, self.keys, Arc::new(users.clone()), self.store)
            .expect("the authenticator builds")
            .with_clock(Arc::new(self.clock.clone()));
        for account in USERS {
            let hash = auth
                .passwords()
                .hash(account.password)
                .expect("hashing works");
            let user = User {
                user_id: account.user_id.to_string(),
                tenant: account.tenant.to_string(),
                roles: account.roles.iter().map(|r| r.to_string()).collect(),
                scopes: account.scopes.iter().map(|s| s.to_string()).collect(),
                disabled: false,
            };
            users.insert(account.username, hash, user);
        }
        let server =
            telepact_auth_example::server(auth.clone(), users.clone()).expect("the server builds");
        let app = telepact_auth::http::router(server, &HttpOptions::default(), self.http_auth);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(telepact_auth::http::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Service {
            url: format!("http://127.0.0.1:{port}/api/telepact"),
            clock: self.clock,
            auth,
            users,
            stop: Some(stop),
            task: Some(task),
        }
    }
}

/// A running service; stopped when dropped or by [`Service::stop`].
pub(crate) struct Service {
    pub url: String,
    pub clock: ManualClock,
    pub auth: Authenticator,
    pub users: MemoryUsers,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Service {
    pub(crate) async fn start() -> Service {
        Setup::new().start().await
    }

    pub(crate) fn client(&self) -> Client {
        Client::new(telepact::Client::http(&self.url, ClientOptions::default()).expect("a url"))
    }

    /// Stops serving and waits for the server task to end.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// POSTs `body` with extra HTTP headers.
    pub(crate) async fn post(&self, headers: &[(&str, &str)], body: Value) -> Raw {
        let (status, set_cookie, bytes) = self.post_bytes(headers, body).await;
        let text = String::from_utf8(bytes).expect("a UTF-8 body");
        Raw {
            status,
            set_cookie,
            message: serde_json::from_str(&text).expect("a JSON body"),
            text,
        }
    }

    /// POSTs `body` and returns the status, the `Set-Cookie` line and the body as sent
    /// (binary when the request asked for it).
    pub(crate) async fn post_bytes(
        &self,
        headers: &[(&str, &str)],
        body: Value,
    ) -> (u16, Option<String>, Vec<u8>) {
        let mut request = plain_http_client().post(&self.url).body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.expect("a body");
        (status, set_cookie, bytes.to_vec())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A raw HTTP answer.
pub(crate) struct Raw {
    pub status: u16,
    pub set_cookie: Option<String>,
    pub message: Value,
    pub text: String,
}

impl Raw {
    /// The result tag (`Ok_`, `ErrorUnauthenticated_`).
    pub(crate) fn tag(&self) -> &str {
        self.message[1]
            .as_object()
            .and_then(|body| body.keys().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub(crate) fn payload(&self) -> &Value {
        &self.message[1][self.tag()]
    }
}

pub(crate) fn call(function: &str, payload: Value) -> Value {
    serde_json::json!([{}, { function: payload }])
}

pub(crate) fn password(username: &str) -> RequestHeaders {
    with_auth(Auth::Password(AuthPassword {
        username: username.into(),
        password: password_of(username).into(),
    }))
}

pub(crate) fn wrong_password(username: &str) -> RequestHeaders {
    with_auth(Auth::Password(AuthPassword {
        username: username.into(),
        password: "not-the-password".into(),
    }))
}

pub(crate) fn bearer(token: &str) -> RequestHeaders {
    with_auth(Auth::Bearer(AuthBearer {
        token: token.into(),
    }))
}

pub(crate) fn api_key(key: &str) -> RequestHeaders {
    with_auth(Auth::ApiKey(AuthApiKey { key: key.into() }))
}

pub(crate) fn session(id: &str, csrf: &str) -> RequestHeaders {
    with_auth(Auth::Session(AuthSession {
        id: id.into(),
        csrf: csrf.into(),
    }))
}

fn with_auth(auth: Auth) -> RequestHeaders {
    RequestHeaders {
        auth: Some(auth),
        ..RequestHeaders::default()
    }
}

/// A `reqwest` client for requests written by hand: reqwest's TLS is built without a
/// crypto provider in this workspace, so it gets the runtime's (see
/// `telepact::client::tls`).
pub(crate) fn plain_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(telepact::client::tls::plain_http_config().expect("a TLS setup"))
        .build()
        .expect("client builds")
}
