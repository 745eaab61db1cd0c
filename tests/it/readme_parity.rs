//! The README's "Coming from another Telepact library" table: every Rust name a row
//! gives is still in the sources (a rename that leaves the table behind fails here).

use std::fs;
use std::path::Path;

const WORKSPACE: &str = env!("CARGO_MANIFEST_DIR");
const HEADING: &str = "## Coming from another Telepact library";

#[test]
fn readme_names_only_rust_items_that_exist() {
    let sources = sources(&["runtime/src", "schema/src", "cli/src"]);
    let mut unknown = Vec::new();
    for (reference, rust) in rows() {
        for name in rust_names(&rust) {
            if !item_exists(&sources, &name) {
                unknown.push(name);
            }
        }
        if rust.starts_with("the same") {
            for flag in flags(&reference).filter(|flag| flag != "version") {
                if !sources.contains(&format!("{flag}:")) {
                    unknown.push(format!("--{flag}"));
                }
            }
        }
    }
    assert!(unknown.is_empty(), "not in the sources: {unknown:?}");
}

/// The table's rows as (reference cell, Rust cell).
fn rows() -> Vec<(String, String)> {
    let readme = fs::read_to_string(Path::new(WORKSPACE).join("README.md")).expect("README");
    let start = readme.find(HEADING).expect("the README has the section");
    let rest = &readme[start + HEADING.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let rows: Vec<(String, String)> = section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            match cells.as_slice() {
                [reference, rust] => Some((reference.trim().to_string(), rust.trim().to_string())),
                _ => None,
            }
        })
        .collect();
    assert!(rows.len() > 40, "the table has {} rows", rows.len());
    rows
}

/// The Rust items a cell names: each code span's paths (`Type::method`, `module::Type`)
/// and type names, arguments left out. Lower-case words alone (argument and field
/// names) and flags are not items.
fn rust_names(cell: &str) -> Vec<String> {
    let spans = cell.split('`').skip(1).step_by(2);
    let mut names = Vec::new();
    for span in spans.filter(|span| !span.starts_with("--") && !is_variable(span)) {
        let without_arguments = strip_parenthesised(span);
        for word in
            without_arguments.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        {
            let word = word.trim_matches(':');
            let starts_upper = word.chars().next().is_some_and(char::is_uppercase);
            if word.contains("::") || starts_upper {
                names.push(word.to_string());
            }
        }
    }
    names
}

/// Whether the span is an environment variable's name (`MOCK_SERVER_PORT`).
fn is_variable(span: &str) -> bool {
    span.len() > 1 && span.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// `text` without what its parentheses hold.
fn strip_parenthesised(text: &str) -> String {
    let mut depth = 0usize;
    let mut kept = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    kept
}

/// The flags a cell names, as the field names clap derives them from.
fn flags(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split_whitespace()
        .filter_map(|word| word.trim_matches('`').strip_prefix("--"))
        .map(|flag| flag.replace('-', "_"))
}

/// Whether `path` is in the sources: each capitalised segment as a word, a last
/// lower-case segment as a function or a field. Lower-case segments before it are
/// modules and crates.
fn item_exists(sources: &str, path: &str) -> bool {
    let segments: Vec<&str> = path.split("::").collect();
    segments.iter().enumerate().all(|(index, segment)| {
        let last = index + 1 == segments.len();
        if segment.chars().next().is_some_and(char::is_uppercase) {
            contains_word(sources, segment)
        } else if last {
            let function = format!("fn {segment}");
            let declared = |after: &str| sources.contains(&format!("{function}{after}"));
            declared("(") || declared("<") || sources.contains(&format!("pub {segment}:"))
        } else {
            true
        }
    })
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !is_ident(before) && !is_ident(after)
    })
}

/// Every `.rs` file under the given folders of the workspace, joined.
fn sources(folders: &[&str]) -> String {
    let mut text = String::new();
    let mut pending: Vec<_> = folders
        .iter()
        .map(|f| Path::new(WORKSPACE).join(f))
        .collect();
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("a source folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&fs::read_to_string(&path).expect("a source file"));
                text.push('\n');
            }
        }
    }
    text
}
