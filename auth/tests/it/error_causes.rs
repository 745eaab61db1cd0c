//! Each error that has a cause says only what failed at its own layer, and a person (a
//! log line, `ErrorChain`, `anyhow`'s `{:#}`) reads the cause once, through `source()`.

use telepact::ErrorChain;
use telepact_auth::AuthError;
use telepact_auth::store::SqliteStore;

/// The auth errors that have a cause: a credential store that cannot be opened.
fn errors_with_causes() -> Vec<(&'static str, AuthError)> {
    let unopenable =
        SqliteStore::open("/nonexistent/dir/credentials.sqlite3").expect_err("no such directory");
    vec![("a credential store", AuthError::from(unopenable))]
}

#[test]
fn no_message_repeats_its_cause() {
    for (name, error) in errors_with_causes() {
        telepact_test_support::assert_causes_shown_once(name, &error);
    }
}

/// The backend's own error is the store error's source, not text folded into its
/// message: a caller can walk to it (and downcast it).
#[cfg(unix)]
#[test]
fn a_backend_failure_is_the_store_errors_source() {
    let dir = std::env::temp_dir().join(format!("store-cause-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join("not-a-database.sqlite3");
    std::fs::write(&path, vec![b'x'; 4096]).expect("writes");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("owner-only");
    let error = SqliteStore::open(&path).expect_err("not a database");
    let _ = std::fs::remove_dir_all(&dir);
    let store = std::error::Error::source(&error).expect("the backend's error");
    assert_eq!(error.to_string(), "sqlite store could not create its table");
    assert!(store.to_string().contains("not a database"), "{store}");
}

#[test]
fn a_store_failure_is_read_with_its_cause_once() {
    let (_, error) = errors_with_causes().remove(0);
    assert_eq!(error.to_string(), "credential store failed");
    let chain = ErrorChain(&error).to_string();
    assert!(
        chain.starts_with(
            "credential store failed: sqlite store could not create its file: \
             /nonexistent/dir/credentials.sqlite3: "
        ),
        "{chain}"
    );
}
