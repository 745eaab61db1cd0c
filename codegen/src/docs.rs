//! Schema docstrings (`///`) as rustdoc attributes that render well and do not trip
//! rustdoc, rustc or clippy in the users' crate that includes the code:
//! - no doctests: a fenced code block rustdoc would compile as Rust is tagged `text`
//!   (as is one whose info string rustdoc warns of, `compile-fail`), any other keeps
//!   its language alone (rustdoc warns of what may follow it, `title="x"`),
//!   an indented code block becomes a fenced `text` one, and other deep indentation is
//!   capped (so it makes no indented code block); a docstring that still holds one
//!   (indented code inside a quote) is hidden from doctest collection
//!   (`cfg_attr(not(doctest), doc = ..)`);
//! - stray `[x]` is escaped (not a broken link), as is a link whose target rustdoc would
//!   resolve as a Rust path (`[guide](guide)`, its text on one line or more) or whose
//!   target Markdown takes for none (`[x](a(b)`, its parentheses unpaired), `<` too (`<id>` is not an unclosed HTML
//!   tag), and bare URLs are wrapped in `<>`;
//! - tabs become four spaces (clippy warns of tabs in doc comments), a lone carriage
//!   return ends a line (rustc refuses one in a doc comment), and characters that change
//!   the direction of text are written as their code points (rustc refuses them).

mod prose;

use std::ops::Range;

use proc_macro2::TokenStream;
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

use prose::{escape_path_links, escape_prose};
use quote::quote;

/// Outside a fence, indentation deeper than this would make an indented code block,
/// which rustdoc compiles as a doctest.
const MAX_INDENT: usize = 3;

/// `#[doc = "..."]` attributes for a docstring, one per line.
pub(crate) fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else {
        return TokenStream::new();
    };
    let Rustdoc { lines, holds_code } = rustdoc(doc);
    // A docstring of whitespace alone would be an empty `///`, which clippy warns of.
    if lines.iter().all(|line| line.trim().is_empty()) {
        return TokenStream::new();
    }
    if holds_code {
        quote! { #( #[cfg_attr(not(doctest), doc = #lines)] )* }
    } else {
        quote! { #( #[doc = #lines] )* }
    }
}

/// A docstring as rustdoc lines.
struct Rustdoc {
    /// Each line with a leading space (so it renders as `/// text`).
    lines: Vec<String>,
    /// Whether rustdoc would still find Rust code to test in them.
    holds_code: bool,
}

fn rustdoc(doc: &str) -> Rustdoc {
    let doc = plain_text(doc);
    let raw: Vec<&str> = doc.lines().map(str::trim_end).collect();
    // Spaces only: a line may start with other whitespace, several bytes long.
    let indent = raw
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let dedented: Vec<&str> = raw
        .iter()
        .map(|line| line.get(indent..).unwrap_or(""))
        .collect();
    let mut fence = None;
    let text = fence_indented_code(&dedented.join("\n"));
    let code = lines_of_indented_code(&text);
    let mut body: Vec<String> = text
        .split('\n')
        .zip(code)
        .map(|(line, code)| match code {
            true => line.to_string(),
            false => rewrite_line(line, &mut fence),
        })
        .collect();
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    while body.first().is_some_and(|l| l.trim().is_empty()) {
        body.remove(0);
    }
    // HTML first: an HTML block escaped no longer holds the lines after it, which may
    // then make a code block to tag.
    let text = escape_html(escape_path_links(body.join("\n")));
    let (text, holds_code) = tag_rust_code_blocks(&text);
    Rustdoc {
        lines: text.split('\n').map(|line| format!(" {line}")).collect(),
        holds_code,
    }
}

/// The docstring with tabs as spaces, every line ending a `\n`, and the characters rustc
/// refuses in a doc comment (those that change the direction of text) as `U+XXXX`.
fn plain_text(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    let mut chars = doc.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' => out.push_str("    "),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            c if changes_direction(c) => out.push_str(&format!("U+{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The characters of rustc's `text_direction_codepoint_in_comment` and
/// `text_direction_codepoint_in_literal` lints, which deny them by default.
pub(crate) fn changes_direction(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An open code fence: its character and its length.
#[derive(Clone, Copy)]
struct Fence {
    mark: char,
    length: usize,
}

/// For each line of `text`, whether it is in an indented code block left as one (in a
/// quote, see [`fence_indented_code`]): its code is shown as it is, so it is not
/// escaped as prose is (a URL wrapped in `<>`, `[x]` as `\[x\]`).
fn lines_of_indented_code(text: &str) -> Vec<bool> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let line_of = |at: usize| {
        starts
            .partition_point(|&start| start <= at)
            .saturating_sub(1)
    };
    let mut code = vec![false; starts.len()];
    let indented = Event::Start(Tag::CodeBlock(CodeBlockKind::Indented));
    for (event, range) in Parser::new_ext(text, RUSTDOC_OPTIONS).into_offset_iter() {
        if event == indented && !range.is_empty() {
            code[line_of(range.start)..=line_of(range.end - 1)].fill(true);
        }
    }
    code
}

/// `text` with each Markdown indented code block made a fenced `text` block, which
/// keeps it code: rustdoc would compile the indented block as a doctest, and capping its
/// indentation ([`rewrite_line`]) would make it prose. A block in a quote is left as it
/// is (its lines do not start with spaces); it hides the docs from doctests instead.
fn fence_indented_code(text: &str) -> String {
    let indented = Event::Start(Tag::CodeBlock(CodeBlockKind::Indented));
    let blocks: Vec<Range<usize>> = Parser::new_ext(text, RUSTDOC_OPTIONS)
        .into_offset_iter()
        .filter(|(event, _)| *event == indented)
        .map(|(_, range)| range)
        .collect();
    let mut out = text.to_string();
    for block in blocks.into_iter().rev() {
        // The parser's range starts after the first line's indentation.
        let start = text[..block.start].rfind('\n').map_or(0, |at| at + 1);
        let width = block.start - start;
        if !text[start..block.start].bytes().all(|b| b == b' ') {
            continue;
        }
        let end = block.end - usize::from(text[..block.end].ends_with('\n'));
        out.replace_range(start..end, &fenced(&text[start..end], width));
    }
    out
}

/// The lines of an indented code block whose code starts `width` spaces in (four past
/// the list item holding it, if any) as a fenced `text` block at the item's indentation.
/// The fence is longer than any run of backticks opening a line of the code.
fn fenced(block: &str, width: usize) -> String {
    let code: Vec<&str> = block
        .split('\n')
        .map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            &line[spaces.min(width)..]
        })
        .collect();
    let longest_run = code
        .iter()
        .map(|line| line.trim_start().chars().take_while(|&c| c == '`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest_run + 1).max(3));
    let item_indent = " ".repeat(width.saturating_sub(4));
    let mut lines = vec![format!("{item_indent}{fence}text")];
    let indented = |line: &&str| {
        if line.is_empty() {
            String::new()
        } else {
            format!("{item_indent}{line}")
        }
    };
    lines.extend(code.iter().map(indented));
    lines.push(format!("{item_indent}{fence}"));
    lines.join("\n")
}

/// A line of prose with its indentation capped and its text escaped, a fence with its
/// indentation capped (four spaces would make it an indented code block), or a line
/// inside a fenced code block as it is (inside a list item, its indentation keeps it
/// there).
fn rewrite_line(line: &str, fence: &mut Option<Fence>) -> String {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    let capped = " ".repeat(indent.min(MAX_INDENT));
    match (*fence, fence_of(trimmed)) {
        (Some(open), Some((mark, length)))
            if mark == open.mark
                && length >= open.length
                && trimmed.trim_start_matches(mark).trim().is_empty() =>
        {
            *fence = None;
            format!("{capped}{trimmed}")
        }
        (Some(_), _) => line.to_string(),
        // A backtick after a run of backticks makes a code span, not a fence
        // (``` ```a``` ```), as Markdown reads it.
        (None, Some((mark, length))) if mark == '~' || !trimmed[length..].contains('`') => {
            *fence = Some(Fence { mark, length });
            format!("{capped}{trimmed}")
        }
        (None, _) => format!("{capped}{}", escape_prose(trimmed)),
    }
}

/// The mark and length of the fence `text` starts with, if it does.
fn fence_of(text: &str) -> Option<(char, usize)> {
    ['`', '~'].into_iter().find_map(|mark| {
        let length = text.chars().take_while(|&c| c == mark).count();
        (length >= 3).then_some((mark, length))
    })
}

/// The Markdown extensions rustdoc reads docs with.
const RUSTDOC_OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS);

/// Tags `text` every fenced code block rustdoc would compile as Rust, leaves every other
/// fence its language alone ([`fence_info`]), and says whether any other block rustdoc
/// would compile (an indented one) is left. Read with rustdoc's own Markdown parser, so
/// code blocks inside quotes and lists are found as rustdoc finds them.
fn tag_rust_code_blocks(text: &str) -> (String, bool) {
    let mut info_ranges = Vec::new();
    let mut holds_code = false;
    for (event, range) in Parser::new_ext(text, RUSTDOC_OPTIONS).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let Some(tag) = fence_info(&info) else {
                    continue;
                };
                let opening = &text[range.start..];
                let line_end = opening.find('\n').unwrap_or(opening.len());
                let fence = opening[..line_end].find(['`', '~']);
                match fence.and_then(|at| fence_of(&opening[at..line_end]).map(|f| (at, f))) {
                    Some((at, (_, length))) => {
                        let info = range.start + at + length..range.start + line_end;
                        info_ranges.push((info, tag.to_string()));
                    }
                    None => holds_code |= is_rust(&info),
                }
            }
            Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => holds_code = true,
            _ => {}
        }
    }
    let mut out = text.to_string();
    for (range, tag) in info_ranges.into_iter().rev() {
        out.replace_range(range, &tag);
    }
    (out, holds_code)
}

/// The info string to give a fence in place of `info`, or `None` to leave it: `text`
/// for one rustdoc would read as Rust or warns of, else the language alone, which is all
/// rustdoc shows: rustdoc reads the words after it as its own attributes, and warns of
/// characters it does not take there (`json title="x"`, `yaml # note`). A language of
/// such characters (`json=1`) is `text` too.
fn fence_info(info: &str) -> Option<&str> {
    if is_rust(info) || rustdoc_refuses(info) {
        return Some("text");
    }
    let language = info.split([',', ' ', '\t']).find(|word| !word.is_empty())?;
    let plain = language.starts_with(|c: char| c.is_ascii_alphanumeric())
        && language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+.#".contains(c));
    match (plain, info.trim() == language) {
        (true, true) => None,
        // Alone, a word of rustdoc's own (`ignore`) would make the block Rust.
        (true, false) if !is_rust(language) => Some(language),
        _ => Some("text"),
    }
}

/// Escapes the `<` that opens each piece of HTML rustdoc would read (`<id>` is an HTML
/// tag never closed, and rustdoc warns): a schema's docs are text, not HTML. Read with
/// rustdoc's own Markdown parser, so a `<` in code or in a link (`<https://x.y>`) stays.
/// Escaping the tag that opens an HTML block may leave HTML in the lines after it, read
/// again on the next pass.
fn escape_html(mut text: String) -> String {
    loop {
        let openings: Vec<usize> = Parser::new_ext(&text, RUSTDOC_OPTIONS)
            .into_offset_iter()
            .filter(|(event, _)| matches!(event, Event::Html(_) | Event::InlineHtml(_)))
            .filter_map(|(_, range)| Some(range.start + text.get(range)?.find('<')?))
            .collect();
        if openings.is_empty() {
            return text;
        }
        for at in openings.into_iter().rev() {
            text.insert(at, '\\');
        }
    }
}

/// Whether rustdoc reads a fence's info string as Rust: when it is empty, names `rust`,
/// or holds only rustdoc's own words (`ignore`, `no_run`, `edition2021`, ...).
fn is_rust(info: &str) -> bool {
    let mut words = info.split([',', ' ', '\t']).filter(|word| !word.is_empty());
    words.clone().any(|word| word == "rust") || words.all(is_rustdoc_word)
}

/// Whether rustdoc's `invalid_codeblock_attributes` warns of a fence's info string,
/// whatever language it names: for a near miss of one of its own words (`compile-fail`,
/// `No_Run`) or an edition written `rust2021`.
fn rustdoc_refuses(info: &str) -> bool {
    const NEAR_MISSES: [&str; 12] = [
        "compile-fail",
        "compile_fail",
        "compilefail",
        "should-panic",
        "should_panic",
        "shouldpanic",
        "no-run",
        "no_run",
        "norun",
        "test-harness",
        "test_harness",
        "testharness",
    ];
    info.split([',', ' ', '\t']).any(|word| {
        (NEAR_MISSES.contains(&word.to_lowercase().as_str()) && !is_rustdoc_word(word))
            || matches!(word, "rust2015" | "rust2018" | "rust2021" | "rust2024")
    })
}

fn is_rustdoc_word(word: &str) -> bool {
    matches!(
        word,
        "should_panic" | "no_run" | "ignore" | "test_harness" | "compile_fail" | "standalone_crate"
    ) || word.starts_with("ignore-")
        || word.starts_with("edition")
        || (word.len() == 5
            && word.starts_with('E')
            && word[1..].bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests;
