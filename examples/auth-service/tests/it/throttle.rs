//! Failed logins are limited per account and per client address.

use crate::support;

use serde_json::json;
use support::{Service, Setup, password, wrong_password};
use telepact_auth::ThrottleLimits;
use telepact_auth_example::api::{MeInput, MeOutput};

async fn signs_in(service: &Service, headers: telepact_auth_example::api::RequestHeaders) -> bool {
    let answer = service.client().me_with(MeInput {}, headers).await.unwrap();
    matches!(answer.output.as_known(), Some(MeOutput::Ok(_)))
}

#[tokio::test]
async fn an_account_locks_after_five_failures_until_the_window_after_next_passes() {
    let service = Service::start().await;
    for _ in 0..5 {
        assert!(!signs_in(&service, wrong_password("bob")).await);
    }
    assert!(
        !signs_in(&service, password("bob")).await,
        "the right password is refused too"
    );
    assert!(
        signs_in(&service, password("alice")).await,
        "other accounts are unaffected"
    );
    // Failures count in their window and the next.
    service.clock.advance_secs(15 * 60);
    assert!(!signs_in(&service, password("bob")).await);
    service.clock.advance_secs(15 * 60);
    assert!(signs_in(&service, password("bob")).await);
}

#[tokio::test]
async fn an_address_locks_across_accounts_and_cannot_be_spoofed_in_headers() {
    let mut setup = Setup::new();
    setup.config.throttle = ThrottleLimits::default()
        .per_account(100)
        .per_address(4)
        .window(600);
    let service = setup.start().await;
    for n in 0..4 {
        // Each guess claims another address in a header; only the connection's counts.
        let message = json!([
            {"@peerAddress": format!("10.0.0.{n}"),
             "@auth_": {"Password": {"username": format!("guess{n}"), "password": "x"}}},
            {"fn.me": {}}
        ]);
        assert_eq!(
            service.post(&[], message).await.tag(),
            "ErrorUnauthenticated_"
        );
    }
    assert!(
        !signs_in(&service, password("carol")).await,
        "this address is locked"
    );
    service.clock.advance_secs(2 * 600);
    assert!(signs_in(&service, password("carol")).await);
}
