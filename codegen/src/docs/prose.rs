//! Prose lines of a docstring made safe for rustdoc: stray brackets escaped, links to
//! Rust paths unmade, bare URLs wrapped.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Parser, Tag, TagEnd};

use super::RUSTDOC_OPTIONS;

/// Escapes the brackets of each link whose target rustdoc would resolve as a Rust path
/// and [`escape_prose`] could not see whole: its text runs onto another line
/// (`[the\nguide](guide)`), or holds another such link, whose brackets escaped leave
/// it one (`[a [b](c)](d)`), read on the next pass. Read with rustdoc's own Markdown
/// parser, so a link in code stays as it is.
pub(super) fn escape_path_links(mut text: String) -> String {
    loop {
        let escapes = path_link_brackets(&text);
        if escapes.is_empty() {
            return text;
        }
        for at in escapes.into_iter().rev() {
            text.insert(at, '\\');
        }
    }
}

/// The `[` and `]` of each link in `text` whose target rustdoc would resolve as a Rust
/// path, in order.
fn path_link_brackets(text: &str) -> Vec<usize> {
    let mut brackets = Vec::new();
    // The open link's `[` and where its text reaches so far.
    let mut open: Option<(usize, usize)> = None;
    for (event, range) in Parser::new_ext(text, RUSTDOC_OPTIONS).into_offset_iter() {
        match event {
            Event::Start(Tag::Link {
                link_type: LinkType::Inline,
                dest_url,
                ..
            }) if is_rust_path(&dest_url) => open = Some((range.start, range.start + 1)),
            Event::End(TagEnd::Link) => {
                let Some((start, text_end)) = open.take() else {
                    continue;
                };
                if let Some(close) = text[text_end..].find(']') {
                    brackets.extend([start, text_end + close]);
                }
            }
            _ => {
                if let Some((_, text_end)) = &mut open {
                    *text_end = (*text_end).max(range.end);
                }
            }
        }
    }
    brackets
}

/// Escapes `[x]` that is not a `[x](url)` link and wraps bare URLs, outside code
/// spans: a run of backticks up to the next run of as many (``` ``a ` b`` ```); a run
/// never closed is text. A bracket pair may hold code (``[`Foo`]``, a link rustdoc
/// resolves), so brackets are paired across code spans, never inside one. A link is
/// left whole: a URL in its text (`[https://x.y](https://x.y)`) is no bare URL to
/// rustdoc, and wrapped it would be a link inside a link, which breaks both.
pub(super) fn escape_prose(text: &str) -> String {
    let spans = code_spans(text);
    let mut masked = text.as_bytes().to_vec();
    for span in &spans {
        masked[span.clone()].fill(b' ');
    }
    let Brackets { escapes, links } = brackets(text, &masked);
    let mut escapes = escapes.into_iter().peekable();
    let mut out = String::with_capacity(text.len());
    let mut prose = 0;
    for kept in kept_whole(spans, links, text.len()) {
        let mut piece = String::with_capacity(kept.start - prose);
        while let Some(at) = escapes.next_if(|&at| at < kept.start) {
            piece.push_str(&text[prose..at]);
            piece.push('\\');
            prose = at;
        }
        piece.push_str(&text[prose..kept.start]);
        out.push_str(&wrap_urls(&piece));
        out.push_str(&text[kept.clone()]);
        prose = kept.end;
    }
    out
}

/// The links and the code spans outside them, in order, then an empty range at `end`,
/// the end of the line: the parts of the line kept as they are.
fn kept_whole(spans: Vec<Range<usize>>, links: Vec<Range<usize>>, end: usize) -> Vec<Range<usize>> {
    let mut kept: Vec<Range<usize>> = Vec::with_capacity(spans.len() + links.len() + 1);
    let mut links = links.into_iter().peekable();
    for span in spans {
        while let Some(link) = links.next_if(|link| link.start < span.start) {
            kept.push(link);
        }
        // A code span in a link's text is kept with it.
        if kept.last().is_none_or(|last| last.end < span.end) {
            kept.push(span);
        }
    }
    kept.extend(links);
    kept.push(end..end);
    kept
}

/// The code spans of `text`, in order.
fn code_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some((start, ticks)) = backtick_run(text, at) {
        match closing_run(text, start + ticks, ticks) {
            Some(end) => {
                spans.push(start..end + ticks);
                at = end + ticks;
            }
            None => at = start + ticks,
        }
    }
    spans
}

/// The start and length of the first run of backticks in `text` from `from`.
fn backtick_run(text: &str, from: usize) -> Option<(usize, usize)> {
    let start = from + text[from..].find('`')?;
    let ticks = text[start..].len() - text[start..].trim_start_matches('`').len();
    Some((start, ticks))
}

/// The start of the first run of exactly `ticks` backticks in `text` from `from`.
fn closing_run(text: &str, mut from: usize, ticks: usize) -> Option<usize> {
    while let Some((start, length)) = backtick_run(text, from) {
        if length == ticks {
            return Some(start);
        }
        from = start + length;
    }
    None
}

/// The brackets of a line: where a `\\` goes before a bracket of a `[x]` that is not a
/// `[x](url)` link, and where each such link is.
struct Brackets {
    escapes: Vec<usize>,
    links: Vec<Range<usize>>,
}

/// The [`Brackets`] of `text`; `masked` is `text` with its code spans blanked, so only
/// brackets outside them pair.
fn brackets(text: &str, masked: &[u8]) -> Brackets {
    let find = |from: usize, byte: u8| {
        let rest = masked.get(from..).unwrap_or_default();
        rest.iter().position(|&b| b == byte).map(|p| p + from)
    };
    let mut found = Brackets {
        escapes: Vec::new(),
        links: Vec::new(),
    };
    // Once no `]` (or `)`) is left past a point, none is past a later one: not looking
    // again keeps a docstring of many unclosed brackets from costing its length squared.
    let mut closes_left = true;
    let mut parens_left = true;
    let mut i = 0;
    while i < masked.len() {
        let open = masked[i] == b'[';
        let close = (open && closes_left).then(|| find(i, b']')).flatten();
        closes_left &= !open || close.is_some();
        let Some(close) = close else {
            i += 1;
            continue;
        };
        let opens_target = masked.get(close + 1) == Some(&b'(');
        let any_close = (opens_target && parens_left)
            .then(|| find(close + 2, b')'))
            .flatten();
        parens_left &= !opens_target || any_close.is_some();
        let target_end = any_close.and_then(|_| target_end(masked, close + 2));
        match target_end {
            // A link to a URL, its target read as the URL it is.
            Some(end) if is_url_destination(&text[close + 2..end]) => {
                found.links.push(i..end + 1);
                i = end + 1;
            }
            // Not a link to a URL: rustdoc would read it as a path to resolve.
            _ => {
                found.escapes.extend([i, close]);
                i = close + 1;
            }
        }
    }
    found
}

/// Most parentheses a link destination nests, as rustdoc's Markdown parser reads one.
const MAX_NESTED_PARENS: usize = 32;

/// Where the destination starting at `from` ends: at the `)` closing the one before
/// `from`, Markdown pairing those between (`Foo_(bar)`) and skipping escaped ones.
/// `None` when none closes it (`c(d`), or when they nest deeper than Markdown reads,
/// which also keeps a line of many `[a](` from costing its length squared.
fn target_end(masked: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0;
    let mut escaped = false;
    for (at, &byte) in masked.iter().enumerate().skip(from) {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'(' if depth == MAX_NESTED_PARENS => return None,
            b'(' => depth += 1,
            b')' if depth == 0 => return Some(at),
            b')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Whether `target`, between a link's parentheses, makes the link one to a URL: a
/// destination Markdown takes (one word, or one and a quoted title: `https://x.y
/// "About"`; `[a](our docs.html)` is no link, and rustdoc resolves its `[a]`) that rustdoc
/// does not read as a Rust path.
fn is_url_destination(target: &str) -> bool {
    let target = target.trim();
    let one_destination = match target.split_once(char::is_whitespace) {
        None => true,
        Some((_, title)) => title.trim_start().starts_with(['"', '\'', '(']),
    };
    one_destination && !is_rust_path(target)
}

/// Whether rustdoc reads a link's target as a Rust path to resolve (and warns when it
/// resolves to nothing, which a schema's `[guide](guide)` does): as rustdoc decides, no
/// `/`, and before any `#` only the characters of a path.
pub(super) fn is_rust_path(target: &str) -> bool {
    let path = target
        .split('#')
        .next()
        .unwrap_or_default()
        .replace('`', "");
    let path = path.trim();
    !target.contains('/')
        && !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_alphanumeric() || ":_<>, !*&;@()".contains(c))
}

fn wrap_urls(text: &str) -> String {
    text.split(' ').map(wrap_url).collect::<Vec<_>>().join(" ")
}

/// `word` with its bare URLs wrapped in `<>`, wherever they start in it (rustdoc's
/// `bare_urls` finds one after `(` or `"` too); trailing punctuation stays outside,
/// and a link's destination or an autolink is left as it is.
fn wrap_url(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut rest = word;
    while let Some(start) = url_start(rest, 0) {
        let (before, url_on) = rest.split_at(start);
        out.push_str(before);
        let destination = before.ends_with("](") && !before.ends_with("\\](");
        if destination || before.ends_with('<') {
            out.push_str(url_on);
            return out;
        }
        let end = url_end(url_on);
        out.push('<');
        out.push_str(&url_on[..end]);
        out.push('>');
        rest = &url_on[end..];
    }
    out.push_str(rest);
    out
}

/// Where the first `http://` or `https://` in `text` at or past `from` starts. Reads
/// no further than that: a word of many URLs is read once, not once for each.
fn url_start(text: &str, from: usize) -> Option<usize> {
    text[from..]
        .match_indices("http")
        .map(|(at, _)| at + from)
        .find(|&at| starts_url(&text[at..]))
}

fn starts_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// Where the URL `text` starts with ends: before a character that cannot be in it or the
/// next URL, less trailing punctuation and any `)` with no `(` to close.
fn url_end(text: &str) -> usize {
    let mut end = text
        .char_indices()
        .skip(1)
        .find(|&(at, c)| "<>\\\"`".contains(c) || starts_url(&text[at..]))
        .map_or(text.len(), |(at, _)| at);
    let url = &text[..end];
    let opened = url.matches('(').count();
    let mut closed = url.matches(')').count();
    while let Some(last) = text[..end].chars().last() {
        let unbalanced = last == ')' && closed > opened;
        if !(".,;:!?'".contains(last) || unbalanced) {
            break;
        }
        closed -= usize::from(last == ')');
        end -= last.len_utf8();
    }
    end
}
