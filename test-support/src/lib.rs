//! What the workspace's tests share about their surroundings: where the conformance
//! vectors are, how many cases each vector file must yield, how the vectors compare
//! JSON ([`json_eq`]), what happens when
//! something a test needs (the vectors, `redis-server`, `nats-server`) is missing, and
//! where and how tests run `cargo` on crates of their own; and the throwaway
//! [`RedisServer`] and [`NatsServer`] the store and transport tests run against. With
//! the `client` feature, a client transport that counts MessagePack answers
//! (`count_msgpack_answers`).
//!
//! A missing prerequisite is a skip: a `SKIP:` line on stderr, written past the test
//! harness's output capture so it shows for passing tests too. With
//! `TELEPACT_REQUIRE_ALL=1` (CI sets it) a skip is a failure instead. When
//! `TELEPACT_CONFORMANCE_SUMMARY` names a file, skips and vector counts are appended to
//! it, one line each, for the test command to print at the end.
//!
//! [`assert_causes_shown_once`] holds each crate's errors to one rule: a message says
//! what failed at its own layer, and its cause is `source()`, never both.

mod error_causes;
mod http;
mod json;
mod lines;
#[cfg(feature = "client")]
mod msgpack_answers;
mod servers;
mod usage;

pub use error_causes::assert_causes_shown_once;
#[cfg(feature = "raw-websocket")]
pub use http::raw_websocket;
pub use http::{http_exchange, status_line};
pub use json::{json_eq, multiset_eq};
pub use lines::lines_of;
#[cfg(feature = "client")]
pub use msgpack_answers::{MsgpackAnswers, count_msgpack_answers};
pub use servers::{NatsServer, RedisServer};
pub use usage::assert_usage_error_line;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Names the folder holding the conformance vectors.
pub const CONFORMANCE_DIR_VAR: &str = "TELEPACT_CONFORMANCE_DIR";
/// Set to `1` to turn every skip into a failure.
pub const REQUIRE_ALL_VAR: &str = "TELEPACT_REQUIRE_ALL";
/// Names a file that collects one line per skip and per vector file checked.
pub const SUMMARY_VAR: &str = "TELEPACT_CONFORMANCE_SUMMARY";

/// How many cases each vector file holds. A harness for a new file adds its line here.
pub const EXPECTED_CASES: &[(&str, usize)] = &[
    ("server.json", 1495),
    ("auth.json", 8),
    ("garbage.json", 17),
    ("binary.json", 16),
    ("binary_rotation.json", 8),
    ("parse.json", 163),
    ("mock.json", 1258),
    ("mockgen.json", 9),
    ("test_client.json", 12),
    ("api_examples.json/auth_cases", 1),
    ("api_examples.json/mock_cases", 1),
    ("compare.json", 19),
];

/// The number of cases `file` must yield.
///
/// # Panics
///
/// When `file` has no line in [`EXPECTED_CASES`], so a new harness cannot forget its
/// line.
pub fn expected_cases(file: &str) -> usize {
    EXPECTED_CASES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, count)| *count)
        .unwrap_or_else(|| panic!("{file} has no line in EXPECTED_CASES"))
}

/// Whether skips are failures (`TELEPACT_REQUIRE_ALL=1`).
pub fn require_all() -> bool {
    std::env::var_os(REQUIRE_ALL_VAR).is_some_and(|value| value == "1")
}

/// Skips the calling test: prints `SKIP: {reason}` to stderr and records it.
///
/// # Panics
///
/// Under `TELEPACT_REQUIRE_ALL=1`, with `reason`: a missing prerequisite fails the test.
pub fn skip(reason: &str) {
    if require_all() {
        panic!("{reason} (required: {REQUIRE_ALL_VAR}=1)");
    }
    let line = format!("SKIP: {reason}");
    let _ = writeln!(std::io::stderr(), "{line}");
    append_summary(&line);
}

/// The conformance folder: `TELEPACT_CONFORMANCE_DIR`, or `shared/telepact-conformance`
/// beside the workspace. `None` after a [`skip`] when it holds no vectors.
///
/// # Panics
///
/// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`]).
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = conformance_path();
    if dir.join("server.json").is_file() {
        Some(dir)
    } else {
        skip(&format!(
            "conformance vectors not found at {}",
            dir.display()
        ));
        None
    }
}

/// Where the conformance folder should be, whether or not it is there.
pub fn conformance_path() -> PathBuf {
    std::env::var_os(CONFORMANCE_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("../shared/telepact-conformance"))
}

/// The benchmark data beside the conformance folder, or `None` after a [`skip`].
///
/// # Panics
///
/// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`]).
pub fn bench_data_dir() -> Option<PathBuf> {
    let dir = workspace_dir().join("../shared/bench/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("benchmark data not found at {}", dir.display()));
        None
    }
}

/// The `redis-server` program on `PATH` (or in `/usr/sbin` and the like), or `None`
/// after a [`skip`].
///
/// # Panics
///
/// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`]).
pub fn redis_server() -> Option<PathBuf> {
    program("redis-server")
}

/// The `nats-server` program on `PATH` (or in `/usr/sbin` and the like), or `None`
/// after a [`skip`].
///
/// # Panics
///
/// Where it would skip, under `TELEPACT_REQUIRE_ALL=1` (see [`skip`]).
pub fn nats_server() -> Option<PathBuf> {
    program("nats-server")
}

/// Where system packages install servers, searched after `PATH`: Debian's `nats-server`
/// is in `/usr/sbin`, which only root's `PATH` holds, so another user's tests would
/// skip with the program installed.
const SYSTEM_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin"];

fn program(name: &str) -> Option<PathBuf> {
    let found = find_program(name, std::env::var_os("PATH"), SYSTEM_DIRS);
    if found.is_none() {
        let dirs = SYSTEM_DIRS.join(", ");
        skip(&format!("{name} not found on PATH nor in {dirs}"));
    }
    found
}

/// The file `name` in the first of the folders of `path`, then of `system_dirs`, that
/// holds one.
fn find_program(
    name: &str,
    path: Option<std::ffi::OsString>,
    system_dirs: &[&str],
) -> Option<PathBuf> {
    let on_path: Vec<PathBuf> =
        path.map_or_else(Vec::new, |path| std::env::split_paths(&path).collect());
    on_path
        .into_iter()
        .chain(system_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Checks that a vector file yielded its expected number of cases and records the
/// outcome: `conformance: {file} ({how}) {passed}/{expected}`. The caller still fails
/// the test on its own failures.
///
/// # Panics
///
/// When `checked` is not the expected count, or `file` has no line in
/// [`EXPECTED_CASES`].
pub fn record_vectors(file: &str, how: &str, checked: usize, passed: usize) {
    let expected = expected_cases(file);
    let line = format!("conformance: {file} ({how}) {passed}/{expected}");
    let _ = writeln!(std::io::stderr(), "{line}");
    append_summary(&line);
    assert_eq!(
        checked, expected,
        "{file} ({how}): {checked} cases checked, {expected} expected"
    );
}

fn append_summary(line: &str) {
    let Some(path) = std::env::var_os(SUMMARY_VAR) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(&path));
    // One write per line: test threads and binaries append to the same file.
    if let Ok(mut file) = file {
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Rustc flags of the crates checked by [`nested_cargo`] and trybuild: the ones trybuild
/// (1.0.119, `src/rustflags.rs`) gives its test build, which these replace (compare them on
/// a trybuild upgrade). A dependency checked with other flags is a unit of its own,
/// checked again.
pub const NESTED_RUSTFLAGS: &[&str] = &[
    "--cfg",
    "trybuild",
    "--verbose",
    "-A",
    "dead_code",
    "--diagnostic-width=140",
];

/// The environment of every `cargo` a test runs on a crate of its own, trybuild's
/// included: the unit settings they share, so that a dependency is one unit for all.
///
/// - `CARGO_ENCODED_RUSTFLAGS`: [`NESTED_RUSTFLAGS`] for the crates of the target (cargo
///   prefers it to the flags trybuild passes with `--config`, which differ between its
///   two runs, so trybuild too checks its dependencies once).
/// - `CARGO_PROFILE_DEV_DEBUG=false`: no debug info, for build dependencies and proc
///   macros too (trybuild's project declares no profile, so they would get full debug
///   info); only the compiler's verdict matters in these builds.
/// - `CARGO_INCREMENTAL=0`, as trybuild sets it.
pub fn nested_cargo_env() -> [(&'static str, String); 3] {
    [
        ("CARGO_ENCODED_RUSTFLAGS", NESTED_RUSTFLAGS.join("\u{1f}")),
        ("CARGO_PROFILE_DEV_DEBUG", "false".to_string()),
        ("CARGO_INCREMENTAL", "0".to_string()),
    ]
}

/// Whether this process runs with [`nested_cargo_env`] (a test that runs trybuild runs
/// itself again with it when not).
pub fn has_nested_cargo_env() -> bool {
    nested_cargo_env()
        .iter()
        .all(|(name, value)| std::env::var_os(name).is_some_and(|set| set == **value))
}

/// The directory `name` under `target_tmpdir` (a test's `CARGO_TARGET_TMPDIR`), made
/// empty: what a test writes there stays until the next run of the same test, under
/// the target directory rather than the system's temp dir, where nothing removes it.
///
/// # Panics
///
/// When the directory cannot be made.
pub fn scratch_dir(target_tmpdir: &str, name: impl AsRef<Path>) -> PathBuf {
    let dir = Path::new(target_tmpdir).join(name);
    // Absent on a first run; anything else shows up when the directory is made.
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(error) = std::fs::create_dir_all(&dir) {
        panic!(
            "cannot make the scratch directory {}: {error}",
            dir.display()
        );
    }
    dir
}

/// The target directory shared by every `cargo` a test runs on a crate of its own:
/// trybuild's, `tests/trybuild` in the outer target directory (`target_tmpdir` is the
/// test's `CARGO_TARGET_TMPDIR`, `tmp` in the outer target directory).
///
/// The compile tests (trybuild), the schema-drift copies of the bakery and the guarded
/// crate of the codegen tests need the same dependencies (the runtime without default
/// features, serde, serde_json; `telepact-codegen` as build dependency). In one directory,
/// with one set of unit settings ([`nested_cargo_env`], trybuild's `--target`, manifests
/// with no profile and the same features for a dependency they share), whichever test
/// comes first checks or builds them and the others find them fresh. Crates sharing it
/// need distinct package names; cargo's lock on the directory serialises runs that
/// overlap.
pub fn nested_target_dir(target_tmpdir: &Path) -> PathBuf {
    target_tmpdir
        .parent()
        .unwrap_or(target_tmpdir)
        .join("tests/trybuild")
}

/// `cargo {subcommand} --offline` in `crate_dir`, in [`nested_target_dir`] with
/// [`nested_cargo_env`] and trybuild's `--target` (the host's, named: the target's units
/// then go to `<tuple>/debug`, apart from the build scripts' and proc macros').
pub fn nested_cargo(subcommand: &str, crate_dir: &Path, target_tmpdir: &Path) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", nested_target_dir(target_tmpdir))
        .envs(nested_cargo_env())
        .env_remove("RUSTFLAGS")
        // Cargo sets it for a test of a package with a build script; the nested crate's
        // rustc would read that package's generated code where its own is missing.
        .env_remove("OUT_DIR")
        .args([subcommand, "--offline", "--target", &host_tuple()]);
    cargo
}

/// The host's target tuple, from `rustc -vV`.
///
/// # Panics
///
/// When `rustc -vV` (or `$RUSTC -vV`) cannot be run, or names no host.
pub fn host_tuple() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server installed in a system folder the user's `PATH` leaves out is found
    /// there, rather than its tests skipped as if it were missing; `PATH` comes first.
    #[test]
    fn a_program_outside_path_is_found_in_the_system_folders() {
        let root =
            std::env::temp_dir().join(format!("telepact-find-program-{}", std::process::id()));
        let (on_path, system) = (root.join("bin"), root.join("sbin"));
        for dir in [&on_path, &system] {
            std::fs::create_dir_all(dir).expect("a folder");
        }
        std::fs::write(system.join("a-server"), "").expect("written");
        let system_dirs = [system.to_str().expect("UTF-8")];
        let path = Some(on_path.clone().into_os_string());
        let found = find_program("a-server", path.clone(), &system_dirs);
        assert_eq!(found, Some(system.join("a-server")));
        std::fs::write(on_path.join("a-server"), "").expect("written");
        let found = find_program("a-server", path.clone(), &system_dirs);
        assert_eq!(found, Some(on_path.join("a-server")));
        assert_eq!(find_program("no-server", path, &system_dirs), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
