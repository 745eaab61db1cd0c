//! Each error that has a cause says only what failed at its own layer, and the binary's
//! one error line reads the cause once.

use telepact::ErrorChain;
use telepact_auth::AuthError;
use telepact_auth::store::SqliteStore;
use telepact_auth_example::SetupError;

/// The set-up's errors that have a cause: a credential store the toolkit cannot use.
fn errors_with_causes() -> Vec<(&'static str, SetupError)> {
    let unopenable =
        SqliteStore::open("/nonexistent/dir/credentials.sqlite3").expect_err("no such directory");
    vec![(
        "the auth toolkit",
        SetupError::from(AuthError::from(unopenable)),
    )]
}

#[test]
fn no_message_repeats_its_cause() {
    for (name, error) in errors_with_causes() {
        telepact_test_support::assert_causes_shown_once(name, &error);
    }
    let (_, error) = errors_with_causes().remove(0);
    let chain = ErrorChain(&error).to_string();
    assert_eq!(chain.matches("credentials.sqlite3").count(), 1, "{chain}");
    assert!(
        chain.starts_with("credential store failed: sqlite store could not create its file: "),
        "{chain}"
    );
}
