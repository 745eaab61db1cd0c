//! The workspace's `rust-version` is a promise: every package it builds, dependencies
//! included, builds with that compiler. Newer standard library items in the workspace's
//! own code are clippy's `incompatible_msrv` lint, which reads the same field.

use telepact_test_support::host_tuple;

const DECLARED: &str = env!("CARGO_PKG_RUST_VERSION");

#[test]
fn every_locked_package_builds_with_the_declared_rust_version() {
    let declared = version(DECLARED).expect("the workspace declares a rust-version");
    // The host's packages only: those of other platforms need not be downloaded.
    let platform = host_tuple();
    let metadata = crate::support::cargo_metadata(&["--locked", "--filter-platform", &platform]);

    let newer: Vec<String> = metadata["packages"]
        .as_array()
        .expect("a package list")
        .iter()
        .filter_map(|package| {
            let needs = package["rust_version"].as_str()?;
            let name = package["name"].as_str()?;
            let release = package["version"].as_str()?;
            (version(needs)? > declared).then(|| format!("{name} {release} needs {needs}"))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "the workspace declares rust-version {DECLARED}, but {}",
        newer.join("; ")
    );
}

/// `1.89` or `1.89.0` as numbers to compare.
fn version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(str::parse::<u32>);
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}
