//! The docstring rewriting, checked against rustdoc's own Markdown parser.

use super::prose::is_rust_path;
use super::*;
use proptest::prelude::*;

/// Pieces of Markdown that make and break code blocks.
const PIECES: [&str; 27] = [
    "```",
    "~~~",
    "````",
    "```rust",
    "```json",
    "```no_run",
    "~~~ignore",
    ">",
    "> ",
    "-",
    "- ",
    "1. ",
    "*",
    "  ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "\r",
    "x",
    "let a = 1;",
    "[a]",
    "`",
    "<b>",
    "</b>",
    "<id>",
    "<https://x.y>",
];

/// Whether rustdoc would find Rust to compile in `lines` (the docs' lines, each with
/// the leading space rustdoc takes off).
fn rust_code_in(lines: &[String]) -> bool {
    let text: Vec<&str> = lines.iter().map(|line| &line[1..]).collect();
    Parser::new_ext(&text.join("\n"), RUSTDOC_OPTIONS).any(|event| match event {
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => is_rust(&info),
        Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)) => true,
        _ => false,
    })
}

proptest! {
    #[test]
    fn rustdoc_finds_no_rust_code_unless_the_docs_are_hidden_from_doctests(
        pieces in prop::collection::vec(prop::sample::select(&PIECES[..]), 0..40)
    ) {
        let docs = rustdoc(&pieces.concat());
        prop_assert!(docs.holds_code || !rust_code_in(&docs.lines), "{:?}", docs.lines);
    }
}

/// Whether rustdoc would read HTML in `lines` (and check its tags).
fn html_in(lines: &[String]) -> bool {
    let text: Vec<&str> = lines.iter().map(|line| &line[1..]).collect();
    Parser::new_ext(&text.join("\n"), RUSTDOC_OPTIONS)
        .any(|event| matches!(event, Event::Html(_) | Event::InlineHtml(_)))
}

proptest! {
    #[test]
    fn rustdoc_finds_no_html_in_the_docs(
        pieces in prop::collection::vec(prop::sample::select(&PIECES[..]), 0..40)
    ) {
        let docs = rustdoc(&pieces.concat());
        prop_assert!(!html_in(&docs.lines), "{:?}", docs.lines);
    }
}

#[test]
fn angle_brackets_are_escaped_and_links_kept() {
    let lines = rustdoc_lines("Reads the item <id>, <b>not</b> bold; see <https://x.y> and `<a>`.");
    assert_eq!(
        lines,
        vec![" Reads the item \\<id>, \\<b>not\\</b> bold; see <https://x.y> and `<a>`."]
    );
}

fn rustdoc_lines(doc: &str) -> Vec<String> {
    let docs = rustdoc(doc);
    assert!(!docs.holds_code, "{:?} holds code", docs.lines);
    docs.lines
}

/// The fence lines of rustdoc lines: the opening ones with the language they ended with.
fn fence_lines(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with(" ```"))
        .collect()
}

/// clippy's `empty_docs` warns of a `///` with nothing after it.
#[test]
fn a_docstring_of_whitespace_alone_gives_no_doc_attribute() {
    for doc in ["", "   ", "\n\t\n", " \r\n "] {
        assert!(super::doc_attrs(Some(doc)).is_empty(), "{doc:?}");
    }
}

#[test]
fn lines_get_one_leading_space_and_lose_blank_edges() {
    assert_eq!(rustdoc_lines(" One.  \n Two.\n\n"), vec![" One.", " Two."]);
}

#[test]
fn untagged_fences_become_text() {
    let lines = rustdoc_lines("```\n    {\"a\": 1}\n```");
    assert_eq!(lines, vec![" ```text", "     {\"a\": 1}", " ```"]);
}

#[test]
fn fences_of_tildes_become_text_and_indented_ones_are_code() {
    let lines = rustdoc_lines("Example:\n~~~\n{\"x\": 1}\n~~~");
    assert_eq!(lines, vec![" Example:", " ~~~text", " {\"x\": 1}", " ~~~"]);
    // Indented, a fence is the code of an indented code block, shown as it is.
    let lines = rustdoc_lines("Example:\n\n    ```\n    {\"x\": 1}\n    ```\nAfter.");
    assert_eq!(
        lines,
        vec![
            " Example:",
            " ",
            " ````text",
            " ```",
            " {\"x\": 1}",
            " ```",
            " ````",
            " After."
        ]
    );
}

#[test]
fn fences_rustdoc_reads_as_rust_become_text_and_others_keep_their_language() {
    let lines = rustdoc_lines("```rust\nlet x = 1;\n```\n```no_run\nf();\n```\n```json\n{}\n```");
    assert_eq!(
        fence_lines(&lines),
        [" ```text", " ```", " ```text", " ```", " ```json", " ```"]
    );
}

/// rustdoc's `invalid_codeblock_attributes` warned of these in any fence.
#[test]
fn fences_with_words_rustdoc_refuses_become_text() {
    let lines = rustdoc_lines(
        "```compile-fail\nf();\n```\n```json,No_Run\n{}\n```\n```rust2021\ng();\n```\n```json\n[]\n```",
    );
    assert_eq!(
        fence_lines(&lines),
        [
            " ```text", " ```", " ```text", " ```", " ```text", " ```", " ```json", " ```"
        ]
    );
}

/// rustdoc's `invalid_codeblock_attributes` warned of the `=` of a title and of the
/// `#` of a note after a fence's language.
#[test]
fn a_fence_keeps_its_language_alone() {
    let lines = rustdoc_lines(
        "```json title=\"request.json\"\n{}\n```\n``` yaml # a note\na: 1\n```\n```json=1\n{}\n```\n```c++\nx\n```",
    );
    assert_eq!(
        fence_lines(&lines),
        [
            " ```json", " ```", " ```yaml", " ```", " ```text", " ```", " ```c++", " ```"
        ]
    );
}

#[test]
fn a_fence_inside_a_quote_or_a_list_becomes_text() {
    let lines = rustdoc_lines("> ```\n> f();\n> ```\n\n- item\n\n  ```\n  g();\n  ```\n- other");
    assert_eq!(lines[0], " > ```text");
    assert_eq!(lines[6..], ["   ```text", "   g();", "   ```", " - other"]);
}

/// The code was escaped as prose: its URL wrapped in `<>` and its `[id]` shown as
/// `\[id\]`.
#[test]
fn indented_code_inside_a_quote_is_shown_as_it_is() {
    let docs = rustdoc("Run:\n\n>     curl 'https://x.y/[id]'\n>     <b>\n\nThen [x].");
    assert!(docs.holds_code);
    assert_eq!(
        docs.lines,
        vec![
            " Run:",
            " ",
            " >     curl 'https://x.y/[id]'",
            " >     <b>",
            " ",
            " Then \\[x\\]."
        ]
    );
}

#[test]
fn indented_code_inside_a_quote_hides_the_docs_from_doctests() {
    let docs = rustdoc("Quoted:\n\n>     let x = 1;");
    assert!(docs.holds_code);
    let attrs = super::doc_attrs(Some("Quoted:\n\n>     let x = 1;")).to_string();
    assert!(attrs.contains("cfg_attr (not (doctest)"), "{attrs}");
}

#[test]
fn stray_brackets_are_escaped_and_links_kept() {
    let lines = rustdoc_lines("The [required] field, see [doc](https://x.y) and `[a]`.");
    assert_eq!(
        lines,
        vec![" The \\[required\\] field, see [doc](https://x.y) and `[a]`."]
    );
}

/// rustdoc resolves a link to `guide` or `crate::x` as a Rust path, and warned when
/// none was there; an unclosed `[x](` is no link, and `[x]` one to resolve.
#[test]
fn links_to_rust_paths_are_escaped_and_links_to_urls_kept() {
    let lines = rustdoc_lines(
        "[guide](guide), [x](crate::x#y), [u](https://x.y), [a](#part), [m](mailto:a@b.c), [z](z [w](https://w.x",
    );
    assert_eq!(
        lines,
        vec![
            " \\[guide\\](guide), \\[x\\](crate::x#y), [u](https://x.y), [a](#part), [m](mailto:a@b.c), \\[z\\](z \\[w\\](<https://w.x>"
        ]
    );
}

/// rustdoc's `broken_intra_doc_links` warned of the `[d]` after a code span of two
/// backticks holding one.
#[test]
fn code_spans_of_several_backticks_end_at_as_many() {
    let lines = rustdoc_lines("Code ``a ` [b] c`` then [d], ``` `[e]` and `[f]`.");
    assert_eq!(
        lines,
        vec![" Code ``a ` [b] c`` then \\[d\\], ``` `[e]` and `[f]`."]
    );
}

/// rustdoc resolved `[`Foo`]` as a link to the Rust item `Foo`, and warned when
/// none was there: brackets holding a code span pair as any others do.
#[test]
fn brackets_around_code_spans_are_escaped_unless_a_link_to_a_url() {
    let lines = rustdoc_lines(
        "See [`Foo`], [`a`, `b`], [`Foo`][], [`Foo`](Foo), [`Foo`](https://x.y) and `[c]`.",
    );
    assert_eq!(
        lines,
        vec![
            " See \\[`Foo`\\], \\[`a`, `b`\\], \\[`Foo`\\]\\[\\], \\[`Foo`\\](Foo), [`Foo`](https://x.y) and `[c]`."
        ]
    );
}

/// A URL as a link's text was wrapped in `<>`, which made it a link inside the link
/// and broke both.
#[test]
fn a_url_in_a_links_text_is_left_as_it_is() {
    let line =
        "See [https://x.y](https://x.y), [`a` https://a.b](https://a.b/[c]) and https://d.e.";
    assert_eq!(
        rustdoc_lines(line),
        vec![
            " See [https://x.y](https://x.y), [`a` https://a.b](https://a.b/[c]) and <https://d.e>."
        ]
    );
}

/// A line opening with a code span of three backticks was taken for a fence: it
/// and the lines after it were left unescaped, and rustdoc resolved their `[x]`.
#[test]
fn a_code_span_opening_a_line_is_no_fence() {
    let lines = rustdoc_lines("```a``` takes [`b`],\nand [c].");
    assert_eq!(lines, vec![" ```a``` takes \\[`b`\\],", " and \\[c\\]."]);
}

/// A target of two words is no link to Markdown, which left `[see]` for rustdoc to
/// resolve; a destination and its title is one.
#[test]
fn a_target_markdown_takes_for_no_destination_is_escaped() {
    let lines = rustdoc_lines("[see](our docs.html) and [u](https://x.y \"Title\")");
    assert_eq!(
        lines,
        vec![" \\[see\\](our docs.html) and [u](https://x.y \"Title\")"]
    );
}

#[test]
fn a_line_starting_with_wide_whitespace_keeps_its_text() {
    let lines = rustdoc_lines("  one\n\u{3000}two");
    assert_eq!(lines, vec!["   one", "    two"]);
}

#[test]
fn tabs_become_spaces() {
    let lines = rustdoc_lines("\tIndented.\n\t\tMore,\tand on.");
    assert_eq!(lines, vec![" Indented.", "    More,    and on."]);
}

#[test]
fn bare_urls_are_wrapped_and_deep_indentation_capped() {
    let lines = rustdoc_lines("See https://x.y/z\n        continued, not code");
    assert_eq!(
        lines,
        vec![" See <https://x.y/z>", "    continued, not code"]
    );
}

/// rustdoc's `bare_urls` warned of a URL in parentheses or quotes, left bare.
#[test]
fn urls_after_punctuation_are_wrapped_without_it() {
    let lines =
        rustdoc_lines("The spec (https://x.y/spec), \"https://x.y/(a)\"; https://a.b,https://c.d.");
    assert_eq!(
        lines,
        vec![" The spec (<https://x.y/spec>), \"<https://x.y/(a)>\"; <https://a.b>,<https://c.d>."]
    );
    let kept = "[doc](https://x.y) and <https://x.y>";
    assert_eq!(rustdoc_lines(kept), vec![format!(" {kept}")]);
}

/// One word of many URLs is wrapped URL by URL without a frame of the stack each.
#[test]
fn a_word_of_many_urls_is_wrapped_in_one_pass() {
    let word = "https://a.b".repeat(200_000);
    let lines = rustdoc_lines(&word);
    assert_eq!(lines, vec![format!(" {}", "<https://a.b>".repeat(200_000))]);
}

/// Brackets never closed are read once each, not once for each that comes before.
#[test]
fn many_unclosed_brackets_are_escaped_in_one_pass() {
    let open = "[".repeat(200_000);
    assert_eq!(rustdoc_lines(&open), vec![format!(" {open}")]);
    let links = rustdoc_lines(&"[a](".repeat(100_000));
    assert_eq!(links, vec![format!(" {}", "\\[a\\](".repeat(100_000))]);
}

#[test]
fn an_indented_code_block_becomes_a_text_fence_keeping_its_indentation() {
    let lines =
        rustdoc_lines("Run:\n\n    indented code block\n      deeper\n\n    [x] <y>\nAfter.");
    assert_eq!(
        lines,
        vec![
            " Run:",
            " ",
            " ```text",
            " indented code block",
            "   deeper",
            " ",
            " [x] <y>",
            " ```",
            " After."
        ]
    );
}

#[test]
fn an_indented_code_block_in_a_list_item_stays_in_it_and_outfences_its_backticks() {
    let lines = rustdoc_lines("- item\n\n      ```\n      code\n- next");
    assert_eq!(
        lines,
        vec![
            " - item",
            " ",
            "   ````text",
            "   ```",
            "   code",
            "   ````",
            " - next"
        ]
    );
}

#[test]
fn a_lone_carriage_return_ends_a_line_and_direction_marks_are_written_out() {
    let lines = rustdoc_lines("one\rtwo\r\nthree \u{202E}four\u{2066}");
    assert_eq!(lines, vec![" one", " two", " three U+202EfourU+2066"]);
}

/// rustdoc resolved the target of a link whose text runs onto the next line as a Rust
/// path, and warned when it named nothing: each line was escaped alone, and neither
/// held the whole `[text](target)`.
#[test]
fn a_link_to_a_rust_path_split_across_lines_is_escaped() {
    let lines = rustdoc_lines("See [the\nguide](guide) and [the\nsite](https://x.y).");
    assert_eq!(
        lines,
        vec![
            " See \\[the",
            " guide\\](guide) and [the",
            " site](https://x.y)."
        ]
    );
}

/// Markdown takes no destination with a `(` left open (`c(d`), which left `[x]` a
/// shortcut link for rustdoc to resolve; parentheses that pair are the destination's.
#[test]
fn a_link_target_whose_parentheses_do_not_pair_is_no_link() {
    let lines = rustdoc_lines("[x](https://a.b/c(d) and [w](https://a.b/W_(b)) or [v](f(g(h)");
    assert_eq!(
        lines,
        vec![" \\[x\\](<https://a.b/c(d)> and [w](https://a.b/W_(b)) or \\[v\\](f(g(h)"]
    );
}

/// Pieces of Markdown that make and break links.
const LINK_PIECES: [&str; 12] = [
    "[a",
    "]",
    "](b)",
    "](b(c))",
    "(",
    ")",
    "\n",
    " ",
    "`",
    "https://x.y",
    "\\",
    "x",
];

/// Whether rustdoc would resolve a link's target in `lines` as a Rust path.
fn path_link_in(lines: &[String]) -> bool {
    let text: Vec<&str> = lines.iter().map(|line| &line[1..]).collect();
    Parser::new_ext(&text.join("\n"), RUSTDOC_OPTIONS).any(|event| {
        matches!(event, Event::Start(Tag::Link { dest_url, .. }) if is_rust_path(&dest_url))
    })
}

proptest! {
    #[test]
    fn rustdoc_finds_no_link_to_a_rust_path_in_the_docs(
        pieces in prop::collection::vec(prop::sample::select(&LINK_PIECES[..]), 0..30)
    ) {
        let docs = rustdoc(&pieces.concat());
        prop_assert!(!path_link_in(&docs.lines), "{:?}", docs.lines);
    }
}
