//! The auth example's workers behind the gateway, sharing one Redis.

use super::*;

use telepact::typed::Reply;
use telepact::typed::standard::ErrorUnauthenticated;
use telepact_auth::store::RedisStore;
use telepact_auth::{
    AuthConfig, Authenticator, CredentialStore, JwtKeys, MemoryUsers, PasswordHasher,
    PasswordParams, ThrottleLimits, User,
};
use telepact_auth_example::api::{
    Auth, AuthBearer, AuthPassword, Client, ListUsersInput, ListUsersOutput, LoginInput, LoginOk,
    LoginOutput, LogoutInput, LogoutOutput, MeInput, MeOutput, RefreshInput, RefreshOk,
    RefreshOutput, RequestHeaders,
};

use telepact_auth::http::nats::CredentialBridge;
use telepact_auth::http::{HttpAuthOptions, IpNet};
use telepact_test_support::RedisServer;

mod http_credentials;

const SUBJECT: &str = "telepact.auth";

/// `workers` auth workers on `redis` behind one queue group, and a gateway; answers
/// the gateway's URL and the workers.
async fn start(nats_url: &str, redis: &RedisServer, workers: usize) -> (String, Vec<nats::Worker>) {
    start_with(
        nats_url,
        redis,
        workers,
        ThrottleLimits::default(),
        Vec::new(),
    )
    .await
}

/// The one origin whose pages the test services take cookies from, with CORS.
const BOARD_ORIGIN: &str = "https://board.example.com";

/// [`start`] with the failed-login limits `throttle` and the gateway behind
/// `trusted_proxies`. The workers trust the gateway's caller addresses and read the HTTP
/// credentials it forwards, as `run.sh` starts them; the pages of [`BOARD_ORIGIN`] may
/// call with the cookie.
async fn start_with(
    nats_url: &str,
    redis: &RedisServer,
    workers: usize,
    throttle: ThrottleLimits,
    trusted_proxies: Vec<IpNet>,
) -> (String, Vec<nats::Worker>) {
    let mut started = Vec::new();
    for _ in 0..workers {
        let store: Arc<dyn CredentialStore> = Arc::new(
            RedisStore::connect(&redis.url(), "telepact-auth:")
                .await
                .expect("connects to redis"),
        );
        let users = demo_users();
        let keys = JwtKeys::load_or_create(&*store)
            .await
            .expect("a shared key");
        let issuer = telepact_auth_example::ISSUER;
        let config = AuthConfig::new(issuer, issuer).throttle(throttle);
        let auth = Authenticator::new(config, keys, Arc::new(users.clone()), store)
            .expect("an authenticator");
        let server = telepact_auth_example::server(auth, users).expect("the auth example builds");
        let client = nats::connect(nats_url, Duration::from_secs(5))
            .await
            .expect("connects");
        let options = nats::WorkerOptions::default()
            .trust_peer_address(true)
            .header_bridge(CredentialBridge::new(&server, board_pages()));
        started.push(
            nats::serve_with(server, client, SUBJECT, "auth", options)
                .await
                .expect("subscribes"),
        );
    }
    let client = nats::connect(nats_url, Duration::from_secs(5))
        .await
        .expect("connects");
    // As run.sh starts it: HTTP credentials and the caller's address sent on.
    let options = nats::GatewayOptions::default().forward_peer_address(true);
    let http_auth = board_pages().trusted_proxies(trusted_proxies);
    let gateway = telepact_auth::http::nats::gateway(
        client,
        SUBJECT,
        &HttpOptions::default(),
        &http_auth,
        options,
    )
    .expect("a good subject");
    (serve(gateway).await, started)
}

/// The HTTP credential options of the test services: cookies from [`BOARD_ORIGIN`].
fn board_pages() -> HttpAuthOptions {
    HttpAuthOptions::default().allowed_origins([BOARD_ORIGIN])
}

/// A client of the gateway at `url` whose connections come from `address`.
fn client_from(url: &str, address: &str) -> Client {
    client_via(url, address, reqwest::header::HeaderMap::new())
}

/// A proxy at `address` calling the gateway at `url` for the client `forwarded_for`.
fn proxy_for(url: &str, address: &str, forwarded_for: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let forwarded_for = forwarded_for.parse().expect("a header value");
    headers.insert("x-forwarded-for", forwarded_for);
    client_via(url, address, headers)
}

fn client_via(url: &str, address: &str, headers: reqwest::header::HeaderMap) -> Client {
    // Plain HTTP; reqwest sets TLS up all the same, without system certificates here.
    let tls = telepact::client::tls::plain_http_config().expect("a TLS setup");
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .default_headers(headers)
        .local_address(address.parse::<std::net::IpAddr>().ok())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds");
    let transport = HttpTransport::with_client(http, url).expect("a valid url");
    Client::new(telepact::Client::with_options(
        transport,
        ClientOptions::default(),
    ))
}

/// Through the gateway, failed logins count against the caller's address as they do
/// against a single server's peer: whichever worker answers (the count is in the
/// shared store), too many from one address lock that address out, not another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_count_per_caller_address_across_workers() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let throttle = ThrottleLimits::default().per_address(2).per_account(100);
    let (url, workers) = start_with(&nats_server.url(), &redis, 2, throttle, Vec::new()).await;
    lock_out(&client_from(&url, "127.0.0.1")).await;
    // From another address, carol signs in.
    login(&client_from(&url, "127.0.0.2"), "carol").await;
    for worker in workers {
        worker.drain().await.expect("drains");
    }
}

/// Two failed logins from `guesser`, past a per-address limit of 2: then the right
/// password, from that caller, is refused all the same.
async fn lock_out(guesser: &Client) {
    let refused = LoginOutput::ErrorUnauthenticated(unauthenticated());
    for username in ["alice", "bob"] {
        let guess = with(Auth::Password(AuthPassword {
            username: username.into(),
            password: "a wrong guess".into(),
        }));
        let answer = guesser.login_with(LoginInput::default(), guess).await;
        assert_eq!(answer.expect("the call completes").output, refused);
    }
    let answer = guesser
        .login_with(LoginInput::default(), password("carol"))
        .await;
    assert_eq!(answer.expect("the call completes").output, refused);
}

/// Behind a trusted proxy (`--trusted-proxy`), the caller is the one its
/// `X-Forwarded-For` names: failed logins for one forwarded client lock out that
/// client, not the proxy's other clients. From a peer that is not a trusted proxy
/// the header counts for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_failed_logins_count_per_forwarded_client() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let throttle = ThrottleLimits::default().per_address(2).per_account(100);
    let proxy = telepact_auth::http::parse_trusted_proxy("127.0.0.2").expect("an address");
    let (url, workers) = start_with(&nats_server.url(), &redis, 2, throttle, vec![proxy]).await;
    lock_out(&proxy_for(&url, "127.0.0.2", "203.0.113.9")).await;
    // The proxy's other client signs in; so does the locked-out one's address
    // written by a peer that is no trusted proxy (127.0.0.1 counts as itself).
    login(&proxy_for(&url, "127.0.0.2", "203.0.113.10"), "carol").await;
    login(&proxy_for(&url, "127.0.0.1", "203.0.113.9"), "carol").await;
    for worker in workers {
        worker.drain().await.expect("drains");
    }
}

/// The demo users (passwords from the README), hashed with cheap parameters: the
/// shipped argon2 cost takes seconds a login in an unoptimised build.
fn demo_users() -> MemoryUsers {
    let hasher =
        PasswordHasher::new(PasswordParams::insecure_for_tests()).expect("valid parameters");
    let users = MemoryUsers::new();
    for (username, roles) in [
        ("alice", &["admin", "member"][..]),
        ("bob", &["member"][..]),
        ("carol", &["member"][..]),
    ] {
        let user = User {
            user_id: format!("u-{username}"),
            tenant: "acme".into(),
            roles: roles.iter().map(|role| role.to_string()).collect(),
            scopes: ["keys:write".to_string(), "profile:read".to_string()].into(),
            disabled: false,
        };
        users.insert(
            username,
            hasher.hash(password_of(username)).expect("hashes"),
            user,
        );
    }
    users
}

fn password_of(username: &str) -> &'static str {
    match username {
        "alice" => "wonderland",
        "bob" => "builder-bob",
        _ => "carol-globex",
    }
}

fn with(auth: Auth) -> RequestHeaders {
    RequestHeaders {
        auth: Some(auth),
        ..RequestHeaders::default()
    }
}

/// A demo user's password credential.
fn password(username: &str) -> RequestHeaders {
    with(Auth::Password(AuthPassword {
        username: username.into(),
        password: password_of(username).into(),
    }))
}

fn bearer(token: &str) -> RequestHeaders {
    with(Auth::Bearer(AuthBearer {
        token: token.into(),
    }))
}

fn unauthenticated() -> ErrorUnauthenticated {
    ErrorUnauthenticated {
        message: Some("Valid authentication is required.".into()),
    }
}

fn refresh_refused() -> RefreshOutput {
    RefreshOutput::ErrorUnauthenticated(ErrorUnauthenticated {
        message: Some("The refresh token is not valid.".into()),
    })
}

async fn login(client: &Client, username: &str) -> LoginOk {
    match client
        .login_with(LoginInput::default(), password(username))
        .await
        .expect("the call completes")
        .output
        .into_known()
        .expect("a result tag of this schema")
    {
        LoginOutput::Ok(ok) => ok,
        other => panic!("{username} could not sign in: {other:?}"),
    }
}

async fn me(client: &Client, token: &str) -> MeOutput {
    client
        .me_with(MeInput {}, bearer(token))
        .await
        .expect("the call completes")
        .output
        .into_known()
        .expect("a result tag of this schema")
}

async fn refresh(client: &Client, token: &str) -> RefreshOutput {
    let input = RefreshInput {
        refresh_token: token.into(),
    };
    client
        .refresh(input)
        .await
        .expect("the call completes")
        .output
        .into_known()
        .expect("a result tag of this schema")
}

/// Sign in, call, be refused a role, refresh, log out, through the gateway to two
/// workers; returns how many of the 7 answers were MessagePack (`None` when
/// nats-server or redis-server is missing).
async fn run_the_auth_flow(options: ClientOptions) -> Option<usize> {
    let nats_server = NatsServer::start()?;
    let redis = RedisServer::start()?;
    let (url, workers) = start(&nats_server.url(), &redis, 2).await;
    let (client, binary_responses) = counting_client(&url, options);
    let client = Client::new(client);

    let tokens = login(&client, "alice").await;
    let alice = match me(&client, &tokens.access_token).await {
        MeOutput::Ok(alice) => alice,
        other => panic!("alice's token is accepted, not answered with {other:?}"),
    };
    assert_eq!(
        (alice.user_id.as_str(), alice.method.as_str()),
        ("u-alice", "Bearer")
    );
    let listed = client
        .list_users_with(ListUsersInput {}, password("bob"))
        .await
        .expect("the call completes");
    assert_eq!(
        listed.output,
        ListUsersOutput::ErrorUnauthorized(telepact::typed::standard::ErrorUnauthorized {
            message: Some(telepact_auth::NOT_PERMITTED.into()),
        })
    );
    let RefreshOutput::Ok(RefreshOk {
        access_token,
        refresh_token,
        ..
    }) = refresh(&client, &tokens.refresh_token).await
    else {
        panic!("the refresh token is taken");
    };
    let logout = client
        .logout_with(LogoutInput {}, bearer(&access_token))
        .await
        .expect("the call completes");
    assert!(
        matches!(logout.output.as_known(), Some(LogoutOutput::Ok(_))),
        "{:?}",
        logout.output
    );
    // Whichever worker answers, the logout is seen: the store is shared.
    assert_eq!(
        me(&client, &access_token).await,
        MeOutput::ErrorUnauthenticated(unauthenticated())
    );
    assert_eq!(refresh(&client, &refresh_token).await, refresh_refused());
    for worker in workers {
        worker.drain().await.expect("drains");
    }
    Some(binary_responses.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_flow_through_the_gateway_over_json() {
    let binary = run_the_auth_flow(ClientOptions::default()).await;
    assert!(matches!(binary, None | Some(0)), "{binary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_auth_flow_through_the_gateway_over_binary() {
    // The 4 `Ok_` answers come back as MessagePack; the 3 refusals (errors) as JSON.
    let binary = run_the_auth_flow(ClientOptions::default().binary(true)).await;
    assert!(matches!(binary, None | Some(4)), "{binary:?}");
}

/// Redis killed (SIGKILL) and started again on the same port and files while the
/// workers run: no call is accepted on a revoked token meanwhile, logins resume,
/// and the revocation made before the restart still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_no_revocation_and_logins_resume() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("auth-redis-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let Some(mut redis) = RedisServer::start_persistent(&dir) else {
        return;
    };
    let (url, workers) = start(&nats_server.url(), &redis, 2).await;
    let client =
        Client::new(telepact::Client::http(&url, ClientOptions::default()).expect("a valid url"));
    let bounded = tokio::time::timeout(Duration::from_secs(120), async {
        let revoked = login(&client, "alice").await;
        let logout = client
            .logout_with(LogoutInput {}, bearer(&revoked.access_token))
            .await
            .expect("the call completes");
        assert!(matches!(
            logout.output.as_known(),
            Some(LogoutOutput::Ok(_))
        ));
        let kept = login(&client, "bob").await;

        redis.kill();
        // Without the store nothing revoked can be accepted: the check fails closed,
        // answered `ErrorUnknown_` (the credentials could not be checked, so a client
        // holding a good token keeps it). And it fails closed promptly: the worker
        // answers, well within the gateway's deadline, instead of waiting for Redis.
        let during = client
            .me_with(MeInput {}, bearer(&revoked.access_token))
            .await
            .expect("the worker answers while Redis is down");
        assert!(
            matches!(during.output.as_known(), Some(MeOutput::ErrorUnknown(_))),
            "{:?}",
            during.output
        );

        redis.restart();
        let restarted = Instant::now();
        let carol = loop {
            let answer = client
                .login_with(LoginInput::default(), password("carol"))
                .await;
            if let Ok(answer) = answer
                && let Reply::Known(LoginOutput::Ok(ok)) = answer.output
            {
                break ok;
            }
            assert!(
                restarted.elapsed() < Duration::from_secs(30),
                "logins did not resume within 30 s of the restart"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Each worker reconnects on its own: wait for a run of answers that only
        // healthy workers give (2 workers: 10 in a row all land on one with p < 0.2 %).
        // A worker still reconnecting may keep a call past the gateway's deadline
        // (a 504): that is not healthy yet either.
        let mut in_a_row = 0;
        while in_a_row < 10 {
            let answer = client
                .me_with(MeInput {}, bearer(&carol.access_token))
                .await;
            match answer.map(|answer| answer.output.into_known()) {
                Ok(Ok(MeOutput::Ok(_))) => in_a_row += 1,
                _ => in_a_row = 0,
            }
            assert!(
                restarted.elapsed() < Duration::from_secs(30),
                "calls did not answer steadily within 30 s of the restart"
            );
        }
        for _ in 0..4 {
            assert_eq!(
                me(&client, &revoked.access_token).await,
                MeOutput::ErrorUnauthenticated(unauthenticated())
            );
            assert_eq!(
                refresh(&client, &revoked.refresh_token).await,
                refresh_refused()
            );
            let MeOutput::Ok(bob) = me(&client, &kept.access_token).await else {
                panic!("bob's token from before the restart is still good");
            };
            assert_eq!(bob.user_id, "u-bob");
        }
    })
    .await;
    for worker in workers {
        worker.drain().await.expect("drains");
    }
    let _ = std::fs::remove_dir_all(&dir);
    bounded.expect("the test finishes within 120 s");
}
