//! The README's "Start a new app from a schema" walkthrough, put together from its code
//! blocks into a crate of its own, builds: a reader who copies the four steps gets an app
//! that compiles, and an API the README names but the crates no longer have fails here.

use std::fs;
use std::path::Path;

use telepact_test_support::{nested_cargo, nested_target_dir};

const WORKSPACE: &str = env!("CARGO_MANIFEST_DIR");
const TARGET_TMPDIR: &str = env!("CARGO_TARGET_TMPDIR");

#[test]
fn the_readme_walkthrough_builds() {
    let readme = include_str!("../../README.md");
    let section = section(readme, "## Start a new app from a schema");
    let blocks = code_blocks(section);
    let schema = block(&blocks, "yaml", "fn.addItem:");
    let dependencies = block(&blocks, "toml", "[build-dependencies]");
    let build_script = block(&blocks, "rust", "telepact_codegen::configure().compile_dir");
    let handler = block(&blocks, "rust", "impl Handler for Todo");
    let serving = block(&blocks, "rust", "#[tokio::main]");

    let app = nested_target_dir(Path::new(TARGET_TMPDIR)).join("telepact-readme-todo");
    let _ = fs::remove_dir_all(&app);
    fs::create_dir_all(app.join("api")).unwrap();
    fs::create_dir_all(app.join("src")).unwrap();
    fs::write(app.join("api/todo.telepact.yaml"), schema).unwrap();
    fs::write(app.join("build.rs"), build_script).unwrap();
    fs::write(app.join("src/main.rs"), format!("{handler}\n{serving}")).unwrap();
    fs::copy(
        Path::new(WORKSPACE).join("Cargo.lock"),
        app.join("Cargo.lock"),
    )
    .unwrap();
    let manifest = manifest(dependencies, Path::new(WORKSPACE));
    fs::write(app.join("Cargo.toml"), manifest).unwrap();

    let output = nested_cargo("check", &app, Path::new(TARGET_TMPDIR))
        .arg("--quiet")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the walkthrough's app does not build:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Without step 2's build script, the first error says what is missing.
    fs::remove_file(app.join("build.rs")).unwrap();
    let output = nested_cargo("check", &app, Path::new(TARGET_TMPDIR))
        .arg("--quiet")
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let first_error = stderr.lines().find(|line| line.starts_with("error"));
    assert!(
        first_error.is_some_and(|line| line.contains("the package needs a build.rs")),
        "{stderr}"
    );
}

/// The text of the README from `heading` to the next heading of its level.
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme.find(heading).expect("the README has the section");
    let rest = &readme[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// The section's fenced code blocks as (language, code), the list's indentation removed.
fn code_blocks(section: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in section.lines() {
        let text = line.trim_start();
        match (text.strip_prefix("```"), &mut open) {
            (Some(""), Some(_)) => blocks.extend(open.take()),
            (Some(language), None) => open = Some((language.to_string(), String::new())),
            (_, Some((_, code))) => {
                let indent = line.len() - text.len();
                code.push_str(&line[indent.min(3)..]);
                code.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The one block in `language` that holds `marker`.
fn block<'a>(blocks: &'a [(String, String)], language: &str, marker: &str) -> &'a str {
    let found: Vec<&str> = blocks
        .iter()
        .filter(|(lang, code)| lang == language && code.contains(marker))
        .map(|(_, code)| code.as_str())
        .collect();
    assert_eq!(found.len(), 1, "one {language} block holds {marker:?}");
    found[0]
}

/// The app's manifest: step 2's dependency lines, with the workspace's crates taken from
/// their folders. Cargo still checks each version the README gives against the crate's
/// own, so a README that names a version or feature the crates do not have fails here.
fn manifest(dependencies: &str, root: &Path) -> String {
    let lines: Vec<String> = dependencies
        .lines()
        .map(|line| from_workspace(line, root))
        .collect();
    format!(
        r#"[package]
name = "telepact-readme-todo"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

{}
"#,
        lines.join("\n")
    )
}

/// A dependency line on `telepact` or `telepact-codegen` given the crate's folder as its
/// path too (`telepact = { version = "0.1", path = ".../runtime" }`); others unchanged.
fn from_workspace(line: &str, root: &Path) -> String {
    let Some((name, requirement)) = line.split_once(" = ") else {
        return line.to_string();
    };
    let folder = match name {
        "telepact" => "runtime",
        "telepact-codegen" => "codegen",
        _ => return line.to_string(),
    };
    let path = root.join(folder).display().to_string();
    match requirement.strip_prefix('{') {
        Some(table) => format!("{name} = {{ path = {path:?},{table}"),
        None => format!("{name} = {{ path = {path:?}, version = {requirement} }}"),
    }
}
