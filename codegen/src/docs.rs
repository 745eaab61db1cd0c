//! Schema docstrings (`///`) as rustdoc attributes that render well and do not trip
//! rustdoc: untagged code fences become `text` (not doctests), deep indentation is
//! capped (not an indented doctest), stray `[x]` is escaped (not a broken link),
//! bare URLs are wrapped in `<>` and tabs become four spaces (clippy warns of tabs in
//! doc comments, in the users' crate that includes the code).

use proc_macro2::TokenStream;
use quote::quote;

/// Outside a fence, indentation deeper than this would make an indented code block,
/// which rustdoc compiles as a doctest.
const MAX_INDENT: usize = 3;

/// `#[doc = "..."]` attributes for a docstring, one per line.
pub(crate) fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else {
        return TokenStream::new();
    };
    let lines = rustdoc_lines(doc);
    quote! { #( #[doc = #lines] )* }
}

/// The docstring's lines, each with a leading space (so they render as `/// text`).
pub(crate) fn rustdoc_lines(doc: &str) -> Vec<String> {
    let doc = doc.replace('\t', "    ");
    let raw: Vec<&str> = doc.lines().map(str::trim_end).collect();
    let indent = raw
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in raw {
        let line = line.get(indent..).unwrap_or("").to_string();
        out.push(format!(" {}", rewrite_line(&line, &mut in_fence)));
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    out
}

fn rewrite_line(line: &str, in_fence: &mut bool) -> String {
    let trimmed = line.trim_start();
    if trimmed.starts_with("```") {
        let opening = !*in_fence;
        *in_fence = !*in_fence;
        if opening && trimmed.trim_start_matches('`').trim().is_empty() {
            return format!("{line}text");
        }
        return line.to_string();
    }
    if *in_fence {
        return line.to_string();
    }
    let indent = (line.len() - trimmed.len()).min(MAX_INDENT);
    format!("{}{}", " ".repeat(indent), escape_prose(trimmed))
}

/// Escapes `[x]` that is not a `[x](url)` link and wraps bare URLs, outside `code`.
fn escape_prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, segment) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(segment);
        } else {
            out.push_str(&wrap_urls(&escape_brackets(segment)));
        }
    }
    out
}

fn escape_brackets(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '['
            && let Some(close) = chars[i..].iter().position(|&c| c == ']').map(|p| p + i)
        {
            let is_link = chars.get(close + 1) == Some(&'(');
            let inner: String = chars[i + 1..close].iter().collect();
            if is_link {
                out.push('[');
                out.push_str(&inner);
                out.push(']');
            } else {
                out.push_str(&format!("\\[{inner}\\]"));
            }
            i = close + 1;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn wrap_urls(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<{word}>")
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::rustdoc_lines;

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
    fn stray_brackets_are_escaped_and_links_kept() {
        let lines = rustdoc_lines("The [required] field, see [doc](https://x.y) and `[a]`.");
        assert_eq!(
            lines,
            vec![" The \\[required\\] field, see [doc](https://x.y) and `[a]`."]
        );
    }

    #[test]
    fn tabs_become_spaces() {
        let lines = rustdoc_lines("\tIndented.\n\t\tMore,\tand on.");
        assert_eq!(lines, vec![" Indented.", "    More,    and on."]);
    }

    #[test]
    fn bare_urls_are_wrapped_and_deep_indentation_capped() {
        let lines = rustdoc_lines("See https://x.y/z\n\n        not code");
        assert_eq!(lines, vec![" See <https://x.y/z>", " ", "    not code"]);
    }
}
