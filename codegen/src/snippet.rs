//! Rust snippets written by the user (attributes, extern paths, the runtime path),
//! checked before syn parses them: syn parses nesting, and chains of prefix operators
//! and keywords (`!!!x`, `|| || x`, `return return x`), by recursion, so a snippet
//! nested a few hundred deep would overflow the stack, and prettyplease would print it
//! in time quadratic in its depth.

use proc_macro2::{Punct, Spacing, TokenStream, TokenTree, token_stream};

/// How deep a snippet may nest `(`, `[`, `{` and `<`, counted together.
pub(crate) const MAX_NESTING: usize = 32;

/// How many tokens a snippet may have, which bounds syn's recursion on chains that
/// open no bracket. Attributes and paths written by hand have a few dozen.
pub(crate) const MAX_TOKENS: usize = 200;

/// How much of a snippet an error message quotes.
const QUOTED_CHARS: usize = 80;

/// Refuses a snippet nested deeper than [`MAX_NESTING`] or longer than [`MAX_TOKENS`];
/// the error is the reason, for the caller to name its option with. A snippet that does
/// not lex passes: the parser reports it next. The lexer and this walk keep their own
/// stacks, so neither recurses.
pub(crate) fn check_bounds(snippet: &str) -> Result<(), String> {
    let Ok(tokens) = snippet.parse::<TokenStream>() else {
        return Ok(());
    };
    let mut groups = vec![OpenGroup::new(tokens)];
    // Angle brackets open in every group on the stack.
    let mut angles = 0;
    let mut tokens_read = 0;
    while let Some(group) = groups.last_mut() {
        let token = group.tokens.next();
        tokens_read += usize::from(token.is_some());
        if tokens_read > MAX_TOKENS {
            return Err(format!("it is longer than {MAX_TOKENS} tokens"));
        }
        match token {
            Some(TokenTree::Group(inner)) => {
                group.previous = None;
                groups.push(OpenGroup::new(inner.stream()));
            }
            Some(TokenTree::Punct(punct)) => {
                let before = group.angles;
                group.read(&punct);
                // `angles` counts `before` among its own.
                angles = angles - before + group.angles;
            }
            Some(_) => group.previous = None,
            None => {
                angles -= group.angles;
                groups.pop();
            }
        }
        // The outermost stream is not a bracket.
        if groups.len().saturating_sub(1) + angles > MAX_NESTING {
            return Err(format!(
                "it nests `(`, `[`, `{{` and `<` deeper than {MAX_NESTING} levels"
            ));
        }
    }
    Ok(())
}

/// A snippet as an error message shows it: quoted, and cut short when long (a refused
/// snippet may be many kilobytes).
pub(crate) fn quoted(snippet: &str) -> String {
    match snippet.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{:?}...", &snippet[..end]),
        None => format!("{snippet:?}"),
    }
}

/// A token stream being walked, with the angle brackets opened in it.
struct OpenGroup {
    tokens: token_stream::IntoIter,
    angles: usize,
    previous: Option<(char, Spacing)>,
}

impl OpenGroup {
    fn new(tokens: TokenStream) -> Self {
        OpenGroup {
            tokens: tokens.into_iter(),
            angles: 0,
            previous: None,
        }
    }

    /// Counts the angle brackets `punct` opens or closes. A `>` that ends `->` or `=>`
    /// closes none, and one with none open (a comparison) none either.
    fn read(&mut self, punct: &Punct) {
        let after_arrow_start = matches!(self.previous, Some(('-' | '=', Spacing::Joint)));
        match punct.as_char() {
            '<' => self.angles += 1,
            '>' if !after_arrow_start => self.angles = self.angles.saturating_sub(1),
            _ => {}
        }
        self.previous = Some((punct.as_char(), punct.spacing()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
        format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn nesting_within_the_limit_passes() {
        for (open, close) in [("(", ")"), ("[", "]"), ("{", "}"), ("B<", ">")] {
            let snippet = nested(open, "x", close, MAX_NESTING);
            assert_eq!(check_bounds(&snippet), Ok(()), "{snippet}");
        }
    }

    #[test]
    fn nesting_past_the_limit_is_refused_whatever_the_brackets() {
        for (open, close) in [
            ("(", ")"),
            ("[", "]"),
            ("{", "}"),
            ("B<", ">"),
            ("([<", ">])"),
        ] {
            let snippet = nested(open, "x", close, 3_000);
            let reason = check_bounds(&snippet).unwrap_err();
            assert!(reason.contains("deeper than 32 levels"), "{reason}");
        }
        // Half of each kind is too deep together.
        let mixed = nested("(", &nested("B<", "x", ">", 17), ")", 17);
        assert!(check_bounds(&mixed).is_err());
    }

    #[test]
    fn closed_brackets_and_arrows_do_not_count() {
        let siblings = "(x)".repeat(50);
        assert_eq!(check_bounds(&siblings), Ok(()));
        let generics = "A<B>, ".repeat(30);
        assert_eq!(check_bounds(&generics), Ok(()));
        // A `->` cannot close the angle bracket it follows, so it hides no depth.
        let arrows = nested("A<fn() -> ", "x", ">", 40);
        assert!(check_bounds(&arrows).is_err());
        // Brackets inside a string literal are text, not nesting.
        let text = format!("#[doc = \"{}\"]", "(".repeat(1_000));
        assert_eq!(check_bounds(&text), Ok(()));
    }

    #[test]
    fn chains_that_open_no_bracket_are_bounded_by_their_tokens() {
        for link in ["!", "- ", "& ", "|| ", "return "] {
            let chain = format!("#[doc = {}1]", link.repeat(3_000));
            let reason = check_bounds(&chain).unwrap_err();
            assert_eq!(reason, "it is longer than 200 tokens", "{link}");
        }
        let longest = format!("#[doc = {}1]", "!".repeat(MAX_TOKENS - 5));
        assert_eq!(check_bounds(&longest), Ok(()));
    }

    #[test]
    fn long_snippets_are_quoted_short() {
        assert_eq!(quoted("#[derive(Hash)]"), "\"#[derive(Hash)]\"");
        let long = quoted(&"(".repeat(10_000));
        assert_eq!(long, format!("{:?}...", "(".repeat(QUOTED_CHARS)));
    }
}
