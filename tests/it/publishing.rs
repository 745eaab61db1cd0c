//! The published crates as `cargo package` would upload them: what each package holds
//! (its sources, not the repository's tests and their data) and what its manifest
//! tells a user on crates.io and docs.rs.

use std::process::Command;

use serde_json::Value;

const WORKSPACE: &str = env!("CARGO_MANIFEST_DIR");

/// Each published package and the files it ships beside `src/` and its manifest.
const PUBLISHED: [(&str, &[&str]); 5] = [
    ("telepact-schema", &["README.md"]),
    // The golden module the crate docs' second example compiles against.
    (
        "telepact-codegen",
        &[
            "README.md",
            "tests/generated/api.rs",
            "tests/generated/api.parts/",
        ],
    ),
    ("telepact", &["README.md"]),
    ("telepact-auth", &["README.md"]),
    ("telepact-cli", &["README.md", "build.rs", "calculator/"]),
];

/// What cargo adds to every package: the manifest as written and as normalised, the
/// lock file, and the commit it was packaged from.
const CARGO_FILES: [&str; 4] = [
    "Cargo.toml",
    "Cargo.toml.orig",
    "Cargo.lock",
    ".cargo_vcs_info.json",
];

#[test]
fn published_packages_hold_their_sources_and_nothing_only_the_repository_reads() {
    let mut strays = Vec::new();
    for (package, extras) in PUBLISHED {
        let files = package_files(package);
        assert!(
            files
                .iter()
                .any(|file| file == "src/lib.rs" || file == "src/main.rs"),
            "{package}'s package has no src/lib.rs or src/main.rs: {files:?}"
        );
        for file in files {
            let shipped = file.starts_with("src/")
                || CARGO_FILES.contains(&file.as_str())
                || extras.iter().any(|extra| match extra.strip_suffix('/') {
                    Some(folder) => file.starts_with(&format!("{folder}/")),
                    None => file == *extra,
                });
            if !shipped {
                strays.push(format!("{package}: {file}"));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "files a user of the crate never reads: {strays:?}"
    );
}

/// The files `cargo package` would put in `package`'s `.crate`.
fn package_files(package: &str) -> Vec<String> {
    let output = cargo()
        .args([
            "package",
            "--list",
            "--offline",
            "--locked",
            "--allow-dirty",
        ])
        .args(["-p", package])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo package --list -p {package} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The workspace's packages as `cargo metadata` describes them.
fn workspace_packages() -> Vec<Value> {
    let output = cargo()
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    metadata["packages"]
        .as_array()
        .expect("a package list")
        .clone()
}

/// `package`'s entry in [`workspace_packages`].
fn published_package<'a>(packages: &'a [Value], package: &str) -> &'a Value {
    packages
        .iter()
        .find(|candidate| candidate["name"] == package)
        .unwrap_or_else(|| panic!("{package} is a workspace member"))
}

#[test]
fn path_dependencies_of_published_packages_name_their_version() {
    let packages = workspace_packages();
    let mut unversioned = Vec::new();
    for (package, _) in PUBLISHED {
        let manifest = published_package(&packages, package);
        for dependency in manifest["dependencies"].as_array().expect("dependencies") {
            // A path dev-dependency without a version is dropped from the package.
            let is_dev = dependency["kind"] == "dev";
            if dependency["path"].is_string() && !is_dev && dependency["req"] == "*" {
                unversioned.push(format!("{package} -> {}", dependency["name"]));
            }
        }
    }
    assert!(
        unversioned.is_empty(),
        "path dependencies crates.io cannot resolve: {unversioned:?}"
    );
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(WORKSPACE);
    command
}
