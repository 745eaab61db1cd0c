//! The published crates as `cargo package` would upload them: what each package holds
//! (its sources, not the repository's tests and their data) and what its manifest
//! tells a user on crates.io and docs.rs.

use serde_json::Value;

const WORKSPACE: &str = env!("CARGO_MANIFEST_DIR");

/// Each published package and the files it ships beside `src/` and its manifest.
const PUBLISHED: [(&str, &[&str]); 5] = [
    ("telepact-schema", &[]),
    // The golden module the crate docs' second example compiles against.
    (
        "telepact-codegen",
        &["tests/generated/api.rs", "tests/generated/api.parts/"],
    ),
    ("telepact", &[]),
    ("telepact-auth", &[]),
    ("telepact-cli", &["build.rs", "calculator/"]),
];

/// What every package holds: its crates.io page, the licence's text, and what cargo
/// adds (the manifest as written and as normalised, the lock file, and the commit it
/// was packaged from).
const PACKAGE_FILES: [&str; 6] = [
    "README.md",
    "LICENSE",
    "Cargo.toml",
    "Cargo.toml.orig",
    "Cargo.lock",
    ".cargo_vcs_info.json",
];

/// The crates.io categories the packages may name: slugs from crates.io's list, which
/// files a crate under an unknown one nowhere.
const CATEGORIES: [&str; 11] = [
    "asynchronous",
    "authentication",
    "command-line-utilities",
    "development-tools::build-utils",
    "development-tools::testing",
    "encoding",
    "network-programming",
    "parser-implementations",
    "web-programming::http-client",
    "web-programming::http-server",
    "web-programming::websocket",
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
        assert!(
            files.iter().any(|file| file == "README.md"),
            "{package}'s package has no README.md for its crates.io page: {files:?}"
        );
        // The licence (Apache-2.0) asks that its text go with the work.
        assert!(
            files.iter().any(|file| file == "LICENSE"),
            "{package}'s package has no LICENSE: {files:?}"
        );
        for file in files {
            let shipped = file.starts_with("src/")
                || PACKAGE_FILES.contains(&file.as_str())
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
    let mut command = crate::support::workspace_cargo();
    command
        .args([
            "package",
            "--list",
            "--offline",
            "--locked",
            "--allow-dirty",
        ])
        .args(["-p", package]);
    let what = format!("cargo package --list -p {package}");
    String::from_utf8_lossy(&crate::support::cargo_stdout(command, &what))
        .lines()
        .map(str::to_string)
        .collect()
}

/// The workspace's packages as `cargo metadata` describes them.
fn workspace_packages() -> Vec<Value> {
    crate::support::cargo_metadata(&["--no-deps", "--offline"])["packages"]
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

/// The dev-dependencies a published crate's doc examples compile against.
const DOC_EXAMPLE_DEPENDENCIES: [(&str, &str); 1] = [("telepact-codegen", "telepact")];

#[test]
fn path_dependencies_of_published_packages_name_their_version() {
    let packages = workspace_packages();
    let mut unversioned = Vec::new();
    for (package, _) in PUBLISHED {
        let manifest = published_package(&packages, package);
        for dependency in manifest["dependencies"].as_array().expect("dependencies") {
            // A path dev-dependency without a version is dropped from the package, fine
            // for the tests it leaves behind but not for a doc example that needs it.
            let is_dev = dependency["kind"] == "dev";
            let for_docs = DOC_EXAMPLE_DEPENDENCIES.contains(&(package, name(dependency)));
            if dependency["path"].is_string() && (!is_dev || for_docs) && dependency["req"] == "*" {
                unversioned.push(format!("{package} -> {}", dependency["name"]));
            }
        }
    }
    assert!(
        unversioned.is_empty(),
        "path dependencies without a version, which the package drops or crates.io cannot resolve: {unversioned:?}"
    );
}

#[test]
fn published_packages_describe_themselves_to_crates_io() {
    let packages = workspace_packages();
    let mut problems = Vec::new();
    for (package, _) in PUBLISHED {
        let manifest = published_package(&packages, package);
        for field in ["description", "license", "readme", "rust_version"] {
            if !manifest[field].is_string() {
                problems.push(format!("{package} has no {field}"));
            }
        }
        let keywords = strings(&manifest["keywords"]);
        if !(1..=5).contains(&keywords.len()) {
            problems.push(format!(
                "{package} has {} keywords, not 1 to 5",
                keywords.len()
            ));
        }
        for keyword in keywords.iter().filter(|keyword| !is_keyword(keyword)) {
            problems.push(format!(
                "{package}'s keyword {keyword:?} is not one crates.io takes"
            ));
        }
        let has_features = manifest["features"]
            .as_object()
            .is_some_and(|features| !features.is_empty());
        let docs_rs = &manifest["metadata"]["docs"]["rs"];
        if has_features && docs_rs["all-features"] != true {
            problems.push(format!(
                "docs.rs would leave some of {package}'s features out"
            ));
        }
        let categories = strings(&manifest["categories"]);
        if !(1..=5).contains(&categories.len()) {
            problems.push(format!(
                "{package} has {} categories, not 1 to 5",
                categories.len()
            ));
        }
        for category in categories
            .iter()
            .filter(|c| !CATEGORIES.contains(&c.as_str()))
        {
            problems.push(format!(
                "{package}'s category {category:?} is not in CATEGORIES"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn readmes_depend_on_the_crates_versions_and_features() {
    let packages = workspace_packages();
    let mut problems = Vec::new();
    for readme in [
        "README.md",
        "schema/README.md",
        "codegen/README.md",
        "runtime/README.md",
        "auth/README.md",
    ] {
        let text = std::fs::read_to_string(format!("{WORKSPACE}/{readme}")).expect("the README");
        for (name, version, features) in text.lines().filter_map(dependency_line) {
            let Some(package) = packages.iter().find(|package| package["name"] == name) else {
                continue;
            };
            let release = package["version"].as_str().expect("a version");
            if !release.starts_with(&version)
                || release[version.len()..].starts_with(|c: char| c.is_ascii_digit())
            {
                problems.push(format!(
                    "{readme}: {name} = {version:?}, but it is {release}"
                ));
            }
            for feature in features
                .iter()
                .filter(|feature| package["features"][feature].is_null())
            {
                problems.push(format!("{readme}: {name} has no feature {feature:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A Cargo.toml line `name = "0.1"` or `name = { version = "0.1", features = ["a"] }`
/// as (name, version, features).
fn dependency_line(line: &str) -> Option<(String, String, Vec<String>)> {
    let (name, requirement) = line.trim().split_once(" = ")?;
    let quoted = |text: &str| text.split('"').nth(1).map(str::to_string);
    if !requirement.starts_with('{') {
        return Some((name.to_string(), quoted(requirement)?, Vec::new()));
    }
    let version = quoted(requirement.split_once("version = ")?.1)?;
    let features = requirement
        .split_once("features = [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| {
            list.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some((name.to_string(), version, features))
}

/// crates.io's rule: up to 20 ASCII letters, digits, `_`, `-` or `+`, starting with a letter.
fn is_keyword(keyword: &str) -> bool {
    keyword.len() <= 20
        && keyword.starts_with(|c: char| c.is_ascii_alphabetic())
        && keyword
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
}

/// A dependency's package name, as `cargo metadata` gives it.
fn name(dependency: &Value) -> &str {
    dependency["name"].as_str().unwrap_or_default()
}

/// A JSON array's strings.
fn strings(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.as_str().map(str::to_string))
        .collect()
}
