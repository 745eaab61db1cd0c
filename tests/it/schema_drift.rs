//! Schema drift is a compile error: a copy of this app whose schema renames `pastry`
//! no longer builds, and the compiler points at the handler code that used the field.
//! A schema mistake stops the build in the build script, with the failures rendered.

use std::fs;
use std::path::{Path, PathBuf};

use telepact_test_support::{nested_cargo, nested_target_dir};

const WORKSPACE: &str = env!("CARGO_MANIFEST_DIR");
const TARGET_TMPDIR: &str = env!("CARGO_TARGET_TMPDIR");

#[test]
fn renaming_a_result_field_breaks_the_build_of_the_handler() {
    let copy = copy_of_the_app("telepact-bakery");
    let schema = copy.join("api/auth.telepact.yaml");
    let text = fs::read_to_string(&schema).unwrap();
    assert!(text.contains("pastry:"), "the schema still has the field");
    fs::write(&schema, text.replace("pastry:", "treat:")).unwrap();

    let output = check(&copy);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert!(!output.status.success(), "the drifted app must not build");
    assert!(
        stderr.contains("src/board.rs"),
        "the error points at the handler:\n{stderr}"
    );
    assert!(
        stderr.contains("pastry"),
        "the error names the field:\n{stderr}"
    );
}

#[test]
fn a_typo_and_a_missing_result_stop_the_build_script_with_the_rendered_failures() {
    let copy = copy_of_the_app("telepact-bakery-typo");
    let schema = copy.join("api/auth.telepact.yaml");
    let text = fs::read_to_string(&schema).unwrap();
    let result = "- fn.approveSpecial: {}\n  ->:\n    - Ok_:\n        message: \"string\"\n";
    assert!(text.contains(result), "the schema still has the function");
    let broken = text
        .replace("station: \"string\"", "station: \"strng\"")
        .replace(result, "- fn.approveSpecial: {}\n");
    fs::write(&schema, broken).unwrap();

    let output = check(&copy);
    assert!(!output.status.success(), "the broken schema must not build");
    // Cargo indents the build script's output by two spaces.
    let stderr: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(|line| {
            line.strip_prefix("  ")
                .unwrap_or(line)
                .trim_end()
                .to_string()
        })
        .collect();
    let expected = "\
Error: invalid Telepact schema:

error: field `station` of result tag `Ok_` of `fn.myShift` has an unknown type `strng`
 --> api/auth.telepact.yaml:9:18
  |
9 |         station: \"strng\"
  |                  ^^^^^^^ not a type
  |
  = help: did you mean `string`?

error: function `fn.approveSpecial` has no result `->`
  --> api/auth.telepact.yaml:11:3
   |
11 | - fn.approveSpecial: {}
   |   ^^^^^^^^^^^^^^^^^ `->` expected
   |
   = help: a function lists its result after `->`, such as `->: [{Ok_: {}}]`

error: the schema has 2 errors";
    let stderr = stderr.join("\n");
    assert!(stderr.contains(expected), "{stderr}");
}

/// Checks the copy's library. `cargo check` runs the build script and type-checks the
/// handlers, which is all these tests ask, without generating code for the dependency tree.
/// It runs in trybuild's target dir with trybuild's settings (see
/// `telepact_test_support::nested_target_dir`): the runtime, serde and serde_json are checked
/// once for both copies and the compile tests, and `telepact-codegen` built once for both
/// copies and codegen's guarded crate.
fn check(copy: &Path) -> std::process::Output {
    nested_cargo("check", copy, Path::new(TARGET_TMPDIR))
        .args(["--quiet", "--lib"])
        .output()
        .expect("cargo runs")
}

/// The app's sources in a fresh folder beside trybuild's projects, as package `name`
/// (crates sharing the target dir need distinct names, or their build scripts' outputs
/// mix), depending on this workspace's crates by path.
fn copy_of_the_app(name: &str) -> PathBuf {
    let root = Path::new(WORKSPACE);
    let copy = nested_target_dir(Path::new(TARGET_TMPDIR)).join(name);
    let _ = fs::remove_dir_all(&copy);
    for folder in ["src", "api"] {
        copy_dir(&root.join(folder), &copy.join(folder));
    }
    fs::copy(root.join("build.rs"), copy.join("build.rs")).unwrap();
    fs::copy(root.join("Cargo.lock"), copy.join("Cargo.lock")).unwrap();
    fs::write(copy.join("Cargo.toml"), manifest(root, name)).unwrap();
    copy
}

fn manifest(root: &Path, name: &str) -> String {
    let path = |crate_dir: &str| root.join(crate_dir).display().to_string();
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

# What the library needs (`cargo check --lib` checks nothing else): not the binary's
# HTTP server, command line or log output. The dependencies the compile tests' trybuild
# project shares with it have its features (serde's derive, serde_json's preserve_order),
# and there is no `[profile]`: trybuild's project has none, and a profile setting of
# its own would make every dependency a unit of its own.
[dependencies]
telepact = {{ path = "{runtime}", default-features = false }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["preserve_order"] }}
thiserror = "2"
tracing = {{ version = "0.1", default-features = false, features = ["std"] }}
constant_time_eq = "0.6"

[build-dependencies]
telepact-codegen = {{ path = "{codegen}" }}
"#,
        runtime = path("runtime"),
        codegen = path("codegen"),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}
