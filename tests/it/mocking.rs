//! The bakery's schema mocked in process with the generated types, and the README's
//! mocking example.

use serde_json::json;
use telepact::typed::standard::ErrorUnauthorized;
use telepact::typed::{
    MatchingCalls, MockCallError, Reply, StubOptions, Times, UnknownResult, VerificationFailure,
};
use telepact_bakery::api::{
    ApproveSpecialInput, ApproveSpecialOk, ApproveSpecialOutput, Client, Mock, MyShiftInput,
    MyShiftOutput,
};

use crate::support::signed_in;

// The example's `main` is public for its own crate (documented), not for this one.
#[allow(unreachable_pub)]
#[path = "../../examples/mocking.rs"]
mod mocking_example;

#[test]
fn the_readme_mocking_example_runs() {
    mocking_example::main().expect("the example's calls and verifications succeed");
}

/// The README's "Mocking and testing" example is `examples/mocking.rs`, past its header.
#[test]
fn the_readme_shows_the_mocking_example() {
    let example = include_str!("../../examples/mocking.rs");
    let body = &example[example
        .find("use telepact::typed::Times;")
        .expect("the example's imports")..];
    let readme = include_str!("../../README.md");
    let section = &readme[readme
        .find("## Mocking and testing")
        .expect("the README section")..];
    let block = format!("```rust\n{body}```\n");
    assert!(
        section.contains(&block),
        "README.md's mocking example differs from examples/mocking.rs"
    );
}

fn mock_client(mock: &Mock) -> Client {
    mock.client().with_headers(signed_in("tester", "anything"))
}

/// A seed makes the generated answers repeat.
#[tokio::test]
async fn a_seeded_mock_answers_the_same_again() {
    let mock = Mock::new().expect("the bakery schema takes the mock definitions");
    let client = mock_client(&mock);
    let mut answers = Vec::new();
    for _ in 0..2 {
        mock.set_random_seed(42).await.expect("seeded");
        let answer = client.my_shift(MyShiftInput {}).await.expect("answered");
        answers.push(answer.output);
    }
    assert_eq!(answers[0], answers[1]);
}

/// The generated mock's clients are the generated `Client`, with options too.
#[tokio::test]
async fn a_typed_mock_gives_typed_clients_in_binary_too() {
    let mock = Mock::new().expect("the bakery schema takes the mock definitions");
    let options = telepact::client::ClientOptions::default().binary(true);
    let client: Client = mock
        .client_with_options(options)
        .with_headers(signed_in("tester", "anything"));
    let answer = client
        .my_shift(MyShiftInput {})
        .await
        .expect("the call completes");
    assert!(
        matches!(answer.output, Reply::Known(MyShiftOutput::Ok(_))),
        "{answer:?}"
    );
    mock.verify(MyShiftInput {}, Times::exactly(1))
        .await
        .expect("one call");
}

#[tokio::test]
async fn a_typed_mock_reports_what_it_counted() {
    let mock = Mock::new().expect("the bakery schema takes the mock definitions");
    let client = mock_client(&mock);
    client
        .my_shift(MyShiftInput {})
        .await
        .expect("the call completes");

    let error = mock
        .verify(ApproveSpecialInput {}, Times::exactly(1))
        .await
        .expect_err("fn.approveSpecial was never called");
    assert_eq!(
        error.to_string(),
        "fn.approveSpecial: wanted exactly 1 call with an argument containing {}, found 0; \
         no call of fn.approveSpecial was recorded (and 1 call of another function)"
    );
    let MockCallError::Verification {
        function, failure, ..
    } = error
    else {
        panic!("not a verification failure: {error}");
    };
    assert_eq!(function, "fn.approveSpecial");
    assert_eq!(
        failure,
        VerificationFailure::TooFewMatchingCalls(MatchingCalls {
            wanted: Times::exactly(1),
            found: 0,
            all_calls: vec![json!({"fn.myShift": {}})],
        })
    );

    let error = mock
        .verify_no_more_interactions()
        .await
        .expect_err("fn.myShift is unverified");
    let MockCallError::UnverifiedCalls(calls) = error else {
        panic!("not the unverified calls: {error}");
    };
    assert_eq!(calls, vec![json!({"fn.myShift": {}})]);

    mock.verify(MyShiftInput {}, Times::at_most(1))
        .await
        .expect("one call");
    let error = mock
        .verify(MyShiftInput {}, Times::at_least(2))
        .await
        .expect_err("only one call");
    assert_eq!(
        error.to_string(),
        "fn.myShift: wanted at least 2 calls with an argument containing {}, found 1; \
         its 1 recorded: {}"
    );
    assert!(
        matches!(
            error,
            MockCallError::Verification {
                failure: VerificationFailure::TooFewMatchingCalls(MatchingCalls { found: 1, .. }),
                ..
            }
        ),
        "{error}"
    );
    mock.verify_no_more_interactions()
        .await
        .expect("every call verified");
    mock.clear_calls().await.expect("cleared");
    mock.verify(MyShiftInput {}, Times::exactly(0))
        .await
        .expect("no calls left");
}

/// A strict verification's message says the argument was to equal the one given, as it
/// counted only equal calls: "containing" sent a reader looking for calls that contain it.
#[tokio::test]
async fn a_failed_strict_verification_says_it_wanted_an_equal_argument() {
    let mock = Mock::new().expect("the bakery schema takes the mock definitions");
    mock_client(&mock)
        .my_shift(MyShiftInput {})
        .await
        .expect("the call completes");
    let error = mock
        .verify_strict(MyShiftInput {}, Times::at_least(2))
        .await
        .expect_err("only one call");
    assert_eq!(
        error.to_string(),
        "fn.myShift: wanted at least 2 calls with an argument equal to {}, found 1; \
         its 1 recorded: {}"
    );
    assert!(
        matches!(error, MockCallError::Verification { strict: true, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_typed_stub_with_a_count_answers_that_many_calls_then_an_unknown_tag() {
    let options = telepact::mock::MockOptions::default().generate_responses(false);
    let mock = Mock::with_options(options).expect("the bakery schema takes the mock definitions");
    let approved = ApproveSpecialOutput::Ok(ApproveSpecialOk {
        message: "approved".into(),
    });
    mock.stub_with(
        ApproveSpecialInput {},
        approved.clone(),
        StubOptions::default().strict().count(1),
    )
    .await
    .expect("the stub fits the schema");
    let client = mock_client(&mock);

    let first = client
        .approve_special(ApproveSpecialInput {})
        .await
        .expect("the call completes");
    assert_eq!(first.output, approved);
    // The used-up stub leaves the mock's ErrorNoMatchingStub_, a tag the bakery's types
    // do not have: the typed client reads it as unknown rather than failing.
    let second = client
        .approve_special(ApproveSpecialInput {})
        .await
        .expect("the call completes");
    assert_eq!(
        second.output,
        Reply::Unknown(UnknownResult {
            tag: "ErrorNoMatchingStub_".into(),
            payload: serde_json::Map::new(),
        })
    );
    mock.verify_strict(ApproveSpecialInput {}, Times::exactly(2))
        .await
        .expect("both calls recorded");

    mock.clear_stubs().await.expect("cleared");
    let refused = MyShiftOutput::ErrorUnauthorized(ErrorUnauthorized {
        message: Some("not on the rota".into()),
    });
    mock.stub(MyShiftInput {}, refused.clone())
        .await
        .expect("an error result is a stub too");
    let shift = client
        .my_shift(MyShiftInput {})
        .await
        .expect("the call completes");
    assert_eq!(shift.output, refused);
}

/// A mock in another process (here: served over HTTP on loopback, as `telepact mock`
/// serves one) is stubbed and verified with the generated types through
/// `MockControl`, and called through the generated client over the same HTTP.
#[tokio::test]
async fn a_mock_served_over_http_is_driven_with_typed_values() {
    use telepact::client::{Client as RawClient, ClientOptions};
    use telepact::http::{HttpOptions, router};
    use telepact::mock::MockServer;
    use telepact::typed::MockControl;

    let mock = MockServer::new(telepact_bakery::api::schema())
        .expect("the bakery schema takes the mock definitions");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let options = HttpOptions::default();
    let address = listener.local_addr().expect("bound");
    let url = format!("http://{address}{}", options.path);
    let served = router(mock, &options);
    let serving = tokio::spawn(async move { axum::serve(listener, served).await });

    let raw = |url: &str| RawClient::http(url, ClientOptions::default()).expect("a client");
    let control = MockControl::new(raw(&url));
    let client = Client::new(raw(&url)).with_headers(signed_in("tester", "anything"));
    let denied = MyShiftOutput::ErrorUnauthorized(ErrorUnauthorized {
        message: Some("not on the rota".into()),
    });
    control
        .stub(MyShiftInput {}, denied.clone())
        .await
        .expect("stubbed over HTTP");
    let answer = client.my_shift(MyShiftInput {}).await.expect("answered");
    assert_eq!(answer.output, Reply::Known(denied));
    control
        .verify(MyShiftInput {}, Times::exactly(1))
        .await
        .expect("the call was recorded");
    let error = control
        .verify(ApproveSpecialInput {}, Times::at_least(1))
        .await
        .expect_err("never called");
    assert!(
        matches!(error, MockCallError::Verification { .. }),
        "{error}"
    );
    serving.abort();

    // A mock that cannot be reached is the client's error, not a verification's.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port, closed again");
    let closed = format!("http://{closed}{}", options.path);
    let error = MockControl::new(raw(&closed))
        .verify(MyShiftInput {}, Times::exactly(1))
        .await
        .expect_err("no mock serves");
    assert!(matches!(error, MockCallError::Client(_)), "{error}");
}
