//! The `telepact` binary, run as a user runs it: exit codes, stdout and stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use telepact::{FunctionRouter, Server};
use telepact_schema::{Schema, pseudo_json_text};
use telepact_test_support::{conformance_dir, record_vectors};

const BAKERY_API: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../api");

/// The environment variables `telepact mock` reads, as the reference CLI does.
const MOCK_VARIABLES: [&str; 9] = [
    "TELEPACT_HTTP_URL",
    "TELEPACT_DIRECTORY",
    "MOCK_SERVER_PORT",
    "MOCK_SERVER_PATH",
    "GENERATED_COLLECTION_LENGTH_MIN",
    "GENERATED_COLLECTION_LENGTH_MAX",
    "DISABLE_OPTIONAL_FIELD_GENERATION",
    "DISABLE_MESSAGE_RESPONSE_GENERATION",
    "DISABLE_RANDOMIZE_OPTIONAL_FIELD_GENERATION",
];

/// `telepact` with an environment that leaves only the arguments to decide.
fn telepact_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_telepact"));
    command.env_remove("RUST_BACKTRACE");
    for variable in MOCK_VARIABLES {
        command.env_remove(variable);
    }
    command
}

fn telepact(args: &[&str]) -> Output {
    telepact_command()
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A failure: exit status 2 and one `error: ...` message, no panic.
fn assert_fails_with(output: &Output, message_start: &str) {
    let stderr = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {message_start}")),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A loopback port nothing listens on (as of the call).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// An empty scratch folder named `name`.
fn scratch_dir(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), format!("cli/{name}"))
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

#[path = "cli/codegen.rs"]
mod codegen;
#[path = "cli/compare.rs"]
mod compare;
#[path = "cli/fetch.rs"]
mod fetch;
#[path = "cli/mock.rs"]
mod mock;
