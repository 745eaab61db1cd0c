//! How the workspace's binaries report a wrong argument.

use std::process::Output;

/// Asserts that `output`, of a binary run with `args`, is a usage error as the binaries
/// here report one: status 2 and a single `error: ...` line on stderr that contains
/// `expected`. Returns that line for further checks.
///
/// # Panics
///
/// When `output` is anything else: the test fails.
pub fn assert_usage_error_line(output: &Output, args: &[&str], expected: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(expected), "{args:?}: {stderr}");
    lines[0].to_string()
}
