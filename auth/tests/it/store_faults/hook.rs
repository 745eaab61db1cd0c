//! What the server answers credentials it could not check for want of the store, and
//! what a client's login authoriser makes of that answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use telepact::client::authorise::login_authoriser;
use telepact::client::{ClientError, TransportError};
use telepact::{Client, Message};

use super::{FaultyRedis, Service, bearer, password, tag, unchecked};
use crate::authenticator::{PASSWORD, sign_in};

/// How long each fault lasts: past the store's 2 s wait for an answer.
const FAULT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy)]
enum Fault {
    Stopped,
    Stalled,
    WritesPaused,
    Full,
}

impl Fault {
    async fn begin(self, redis: &mut FaultyRedis) {
        match self {
            Fault::Stopped => redis.kill(),
            Fault::Stalled => redis.stall(FAULT),
            Fault::WritesPaused => redis.pause_writes(FAULT).await,
            Fault::Full => redis.fill().await,
        }
    }

    async fn end(self, redis: &mut FaultyRedis) {
        match self {
            Fault::Stopped => redis.restart(),
            Fault::Stalled | Fault::WritesPaused => tokio::time::sleep(FAULT).await,
            Fault::Full => redis.make_room().await,
        }
    }
}

/// A valid token and the right password, sent while Redis fails in each way, are never
/// answered `ErrorUnauthenticated_` (a client takes that to mean they are no good, and
/// drops them): where the store was needed they are answered `ErrorUnknown_` with a case
/// id. A forged token and a wrong password are never accepted. Once Redis is back, both
/// good credentials work. Every hook error answered `ErrorUnauthenticated_` before.
#[tokio::test]
async fn good_credentials_are_answered_error_unknown_never_unauthenticated_while_redis_fails() {
    let Some(mut redis) = FaultyRedis::start() else {
        return;
    };
    for (n, fault) in [
        Fault::Stopped,
        Fault::Stalled,
        Fault::WritesPaused,
        Fault::Full,
    ]
    .into_iter()
    .enumerate()
    {
        let service = Service::on(redis.store(&format!("fault-{n}:")).await);
        let tokens = service
            .auth
            .issue_tokens(&sign_in(&service.auth).await)
            .await
            .expect("tokens while Redis works");
        let mut forged = tokens.access_token.clone();
        forged.push('x');
        let good = [bearer(&tokens.access_token), password("ada", PASSWORD)];
        let bad = [bearer(&forged), password("ada", "wrong")];

        fault.begin(&mut redis).await;
        let (good_answers, bad_answers) =
            tokio::join!(futures_join(&service, &good), futures_join(&service, &bad));
        for answer in &good_answers {
            assert!(
                tag(answer) == "Ok_" || unchecked(answer),
                "{fault:?}: a good credential got {answer}"
            );
        }
        assert!(
            good_answers.iter().any(unchecked),
            "{fault:?}: the store was needed: {good_answers:?}"
        );
        for answer in &bad_answers {
            assert_ne!(
                tag(answer),
                "Ok_",
                "{fault:?}: a bad credential got {answer}"
            );
        }
        fault.end(&mut redis).await;

        for credential in &good {
            let answer = answered_ok_within(&service, credential, Duration::from_secs(10)).await;
            assert_eq!(
                tag(&answer),
                "Ok_",
                "{fault:?}: after Redis is back: {answer}"
            );
        }
        assert_eq!(
            tag(&service.me(&bad[0]).await),
            "ErrorUnauthenticated_",
            "{fault:?}"
        );
    }
}

/// The answers to `fn.me` with each credential, sent at once.
async fn futures_join(service: &Service, credentials: &[Value; 2]) -> Vec<Value> {
    let (first, second) = tokio::join!(service.me(&credentials[0]), service.me(&credentials[1]));
    vec![first, second]
}

/// The first `Ok_` answer to `fn.me` with `credential` within `bound`, or the last answer.
async fn answered_ok_within(service: &Service, credential: &Value, bound: Duration) -> Value {
    let started = std::time::Instant::now();
    loop {
        let answer = service.me(credential).await;
        if tag(&answer) == "Ok_" || started.elapsed() > bound {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A typed client signed in through `login_authoriser` keeps its token through a Redis
/// outage: the calls made meanwhile are answered `ErrorUnknown_`, and the authoriser
/// neither refreshes nor signs in again, so the first call after Redis is back succeeds
/// with the same token. When the outage answered `ErrorUnauthenticated_`, the client
/// dropped its token and spent its refresh token on `fn.refresh`, then tried to sign in
/// again; with Redis back empty that refresh token was gone, and it had to sign in anew.
#[tokio::test]
async fn a_login_authorisers_token_outlives_a_redis_outage() {
    let Some(mut redis) = FaultyRedis::start() else {
        return;
    };
    let service = Arc::new(Service::on(redis.store("outage:").await));
    let ada = SignedIn::new(&service).await;
    redis.kill();
    for _ in 0..2 {
        let answer = ada.me().await.expect("answered");
        assert_eq!(answer.target(), "ErrorUnknown_", "{answer:?}");
    }
    redis.restart();
    assert_eq!(ada.me().await.expect("answered").target(), "Ok_");

    assert_eq!(
        ada.calls().as_slice(),
        ["fn.login", "fn.me", "fn.me", "fn.me", "fn.me"]
    );
}

/// Ada's client, signed in through a login authoriser (`fn.login`, then `fn.me`
/// answered), calling `service` in process, with the functions it called in order.
pub(super) struct SignedIn {
    client: Client,
    calls: Arc<Mutex<Vec<String>>>,
}

impl SignedIn {
    pub(super) async fn new(service: &Arc<Service>) -> SignedIn {
        let (base, calls) = recorded_client(service);
        let authoriser =
            login_authoriser(base.clone(), "ada", PASSWORD).clock(service.clock.clone());
        let signed_in = SignedIn {
            client: base.with_authoriser(authoriser),
            calls,
        };
        assert_eq!(signed_in.me().await.expect("answered").target(), "Ok_");
        signed_in
    }

    /// Moves the service's clock past the access token's life: the next call refreshes.
    pub(super) fn expire_token(&self, service: &Service) {
        let lifetime = service.auth.config().jwt.ttl;
        let lifetime = u64::try_from(lifetime).expect("positive");
        service.clock.advance_secs(lifetime);
    }

    pub(super) async fn me(&self) -> Result<Message, ClientError> {
        let me = Message::new(Default::default(), "fn.me", Default::default());
        self.client.request(me).await
    }

    /// A call that fails because its refresh was answered `ErrorUnknown_`.
    pub(super) async fn me_fails_unknown(&self) {
        let failed = self.me().await.expect_err("no token to send");
        let chain = telepact::ErrorChain(&failed).to_string();
        assert!(chain.contains("ErrorUnknown_"), "{chain}");
    }

    pub(super) fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

/// A client calling `service` in process, and the functions it called, in order.
fn recorded_client(service: &Arc<Service>) -> (Client, Arc<Mutex<Vec<String>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (service, recorded) = (Arc::clone(service), Arc::clone(&calls));
    let client = Client::new(move |bytes: Vec<u8>| {
        let service = Arc::clone(&service);
        let sent: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let function = sent[1]
            .as_object()
            .and_then(|body| body.keys().next().cloned());
        recorded.lock().unwrap().push(function.unwrap_or_default());
        async move { Ok::<_, TransportError>(service.server.process(&bytes).await.bytes) }
    });
    (client, calls)
}

/// A refresh that meets a full Redis (its claim of the refresh token refused as out of
/// memory) fails the call with the refresh's `ErrorUnknown_`, and the authoriser keeps
/// its refresh token: the next call, Redis having room again, refreshes with it. The
/// authoriser signed in again instead, sending the password to a server that could
/// not count the attempt, and dropped the refresh token.
#[tokio::test]
async fn a_login_authoriser_keeps_its_refresh_token_when_the_refresh_could_not_be_done() {
    let Some(redis) = FaultyRedis::start() else {
        return;
    };
    let service = Arc::new(Service::on(redis.store("full:").await));
    let ada = SignedIn::new(&service).await;
    ada.expire_token(&service);

    redis.fill().await;
    ada.me_fails_unknown().await;
    redis.make_room().await;
    assert_eq!(ada.me().await.expect("answered").target(), "Ok_");

    assert_eq!(
        ada.calls().as_slice(),
        ["fn.login", "fn.me", "fn.refresh", "fn.refresh", "fn.me"]
    );
}
