//! The runtime client's `fn.login` / `fn.refresh` authoriser against this service, in
//! process over HTTP, through the example's generated typed client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use telepact::client::authorise::{
    AuthoriseError, BasicPlacement, BearerAuthoriser, LoginNames, TelepactLogin, TokenPlacement,
    login_authoriser,
};
use telepact::client::{ClientOptions, HttpTransport, Transport, TransportError};
use telepact::clock::ManualClock;
use telepact::typed::CallError;
use telepact::{BoxFuture, ClientError};
use telepact_auth::http::HttpAuthOptions;
use telepact_auth::{
    AuthConfig, Authenticator, JwtKey, JwtKeys, MemoryStore, MemoryUsers, PasswordParams, User,
};
use telepact_auth_example::api::{Client, LogoutInput, MeInput, MeOutput};
use tokio::sync::oneshot;

const PASSWORD: &str = "alice-pw-1";

/// The example service on loopback with a clock the test moves.
struct Service {
    url: String,
    clock: ManualClock,
    _stop: oneshot::Sender<()>,
}

impl Service {
    async fn start() -> Service {
        let mut config = AuthConfig::new("telepact-auth-example", "telepact-auth-example");
        config.password = PasswordParams::insecure_for_tests();
        config.jwt.ttl = 300;
        config.refresh_ttl = 3600;
        let clock = ManualClock::starting_now();
        let keys = JwtKeys::new(
            JwtKey::new(
                "test-key",
                b"0123456789abcdef0123456789abcdef-test".to_vec(),
            )
            .expect("a long enough secret"),
        );
        let users = MemoryUsers::new();
        let auth = Authenticator::new(
            config,
            keys,
            Arc::new(users.clone()),
            Arc::new(MemoryStore::new()),
        )
        .expect("the authenticator builds")
        .with_clock(Arc::new(clock.clone()));
        let hash = auth.passwords().hash(PASSWORD).expect("hashing works");
        let alice = User {
            user_id: "u-alice".into(),
            tenant: "acme".into(),
            roles: ["member".to_string()].into(),
            scopes: ["profile:read".to_string()].into(),
            disabled: false,
        };
        users.insert("alice", hash, alice);
        let server = telepact_auth_example::server(auth, users).expect("the server builds");
        let app = telepact_auth::http::router(
            server,
            &telepact::http::HttpOptions::default(),
            HttpAuthOptions::default(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(telepact_auth::http::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Service {
            url: format!("http://127.0.0.1:{port}/api/telepact"),
            clock,
            _stop: stop,
        }
    }

    /// A runtime client without authoriser that logs the functions it calls.
    fn recorded_client(&self) -> (telepact::Client, Calls) {
        let calls = Calls::default();
        let transport = Recording {
            http: HttpTransport::new(&self.url).expect("a valid url"),
            calls: calls.clone(),
        };
        (
            telepact::Client::with_options(transport, ClientOptions::default()),
            calls,
        )
    }

    /// The server's clock, for a client that shares its time.
    fn client_clock(&self) -> ManualClock {
        self.clock.clone()
    }
}

/// The functions called, in order.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Recording {
    http: HttpTransport,
    calls: Calls,
}

impl Transport for Recording {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        self.send_with_headers(request, http::HeaderMap::new())
    }

    fn send_with_headers(
        &self,
        request: Vec<u8>,
        headers: http::HeaderMap,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let sent: Value = serde_json::from_slice(&request).unwrap_or(Value::Null);
        let function = sent[1]
            .as_object()
            .and_then(|body| body.keys().next().cloned())
            .unwrap_or_default();
        self.calls.0.lock().unwrap().push(function);
        self.http.send_with_headers(request, headers)
    }
}

async fn me(client: &Client) -> MeOutput {
    client
        .me(MeInput {})
        .await
        .expect("the call completes")
        .output
        .known()
        .expect("a result tag the schema declares")
}

fn signed_in_as_alice(output: &MeOutput) -> bool {
    matches!(output, MeOutput::Ok(me) if me.user_id == "u-alice")
}

#[tokio::test]
async fn the_typed_client_signs_in_once_and_sends_the_bearer_token() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let client = Client::new(
        base.clone()
            .with_authoriser(login_authoriser(base, "alice", PASSWORD)),
    );

    let first = me(&client).await;
    let second = me(&client).await;

    assert!(signed_in_as_alice(&first), "{first:?}");
    assert!(
        matches!(&second, MeOutput::Ok(me) if me.method == "Bearer"),
        "{second:?}"
    );
    assert_eq!(calls.take(), ["fn.login", "fn.me", "fn.me"]);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let clock = service.client_clock();
    let authoriser = login_authoriser(base.clone(), "alice", PASSWORD)
        .margin(Duration::from_secs(30))
        .clock(clock.clone());
    let client = Client::new(base.with_authoriser(authoriser));
    me(&client).await;

    for seconds in [250, 25] {
        // 50 s left, then 25 s: only the second is inside the margin.
        clock.advance(Duration::from_secs(seconds));
        assert!(signed_in_as_alice(&me(&client).await));
    }

    assert_eq!(
        calls.take(),
        ["fn.login", "fn.me", "fn.me", "fn.refresh", "fn.me"]
    );
}

#[tokio::test]
async fn a_refused_token_is_refreshed_and_the_call_retried() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let client = Client::new(
        base.clone()
            .with_authoriser(login_authoriser(base, "alice", PASSWORD)),
    );
    me(&client).await;

    // The server's time moves past the access token's life; the client's does not.
    service.clock.advance_secs(400);
    let output = me(&client).await;

    assert!(signed_in_as_alice(&output), "{output:?}");
    assert_eq!(
        calls.take(),
        ["fn.login", "fn.me", "fn.me", "fn.refresh", "fn.me"]
    );
}

#[tokio::test]
async fn after_a_logout_the_authoriser_signs_in_again() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let client = Client::new(
        base.clone()
            .with_authoriser(login_authoriser(base, "alice", PASSWORD)),
    );
    client.logout(LogoutInput {}).await.expect("logged out");

    let output = me(&client).await;

    assert!(signed_in_as_alice(&output), "{output:?}");
    let expected = [
        "fn.login",
        "fn.logout",
        "fn.me",
        "fn.refresh",
        "fn.login",
        "fn.me",
    ];
    assert_eq!(calls.take(), expected);
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let client = Client::new(
        base.clone()
            .with_authoriser(login_authoriser(base, "alice", "guess")),
    );

    let error = client.me(MeInput {}).await.expect_err("no credential");

    let CallError::Client(ClientError::Authorise(inner)) = &error else {
        panic!("expected an authorisation error, got {error:?}");
    };
    assert!(matches!(
        inner.as_ref(),
        AuthoriseError::SignInRefused { result, .. } if result == "ErrorUnauthenticated_"
    ));
    assert_eq!(
        inner.to_string(),
        "fn.login answered ErrorUnauthenticated_ (are the username and password right?)"
    );
    assert!(!format!("{error:?}").contains("guess"));
    assert_eq!(calls.take(), ["fn.login"]);
}

#[tokio::test]
async fn http_basic_and_bearer_headers_work_too() {
    let service = Service::start().await;
    let (base, calls) = service.recorded_client();
    let mut names = LoginNames::default();
    names.password = BasicPlacement::HttpBasic;
    let source = TelepactLogin::new(base.clone(), "alice", PASSWORD).names(names);
    let authoriser = BearerAuthoriser::new(source).placement(TokenPlacement::HttpBearer);
    let client = Client::new(base.with_authoriser(authoriser));

    let output = me(&client).await;

    assert!(signed_in_as_alice(&output), "{output:?}");
    assert_eq!(calls.take(), ["fn.login", "fn.me"]);
}
