//! Where each line of a document starts, found once per rendering and shared by every
//! failure in that document: a failure's row and column then turn into a byte offset,
//! and its excerpt into the few lines it shows, without reading the text before it.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use super::sources::Sources;

/// A document's text with the byte offset where each of its lines starts.
#[derive(Debug)]
pub(crate) struct LinedText<'a> {
    pub(crate) text: &'a str,
    /// 0, then the offset after each `\n` (the last is the text's length when the
    /// text ends with a newline).
    starts: Vec<usize>,
    /// Where each quoted text without a quote inside starts, by its content.
    quoted: OnceCell<HashMap<&'a str, Vec<usize>>>,
    /// Where characters are, for columns far into a line.
    chars: OnceCell<CharIndex>,
}

/// Characters between every [`CHARS_PER_MARK`] characters are walked; the columns of a
/// failure on a long line (a minified document is one) are found from a mark.
const CHARS_PER_MARK: usize = 256;

/// Where characters of the text are, in bytes.
#[derive(Debug)]
struct CharIndex {
    /// The byte offset of character 0, [`CHARS_PER_MARK`], twice that, ...
    marks: Vec<usize>,
    /// How many characters come before each line.
    line_starts: Vec<usize>,
}

impl CharIndex {
    fn new(text: &str) -> Self {
        let (mut marks, mut line_starts) = (Vec::new(), vec![0]);
        for (count, (at, c)) in text.char_indices().enumerate() {
            if count % CHARS_PER_MARK == 0 {
                marks.push(at);
            }
            if c == '\n' {
                line_starts.push(count + 1);
            }
        }
        CharIndex { marks, line_starts }
    }
}

/// The whole lines of a text that hold some ranges: what the excerpt renderer is given,
/// since it reads all the text it is given for each excerpt.
#[derive(Debug, PartialEq)]
pub(crate) struct Window<'a> {
    /// The row of its first line, from 1.
    pub(crate) row: usize,
    /// Where it starts in the whole text.
    pub(crate) offset: usize,
    pub(crate) text: &'a str,
}

impl Window<'_> {
    /// `range` of the whole text, as a range of the window.
    pub(crate) fn shift(&self, range: &Range<usize>) -> Range<usize> {
        range.start.saturating_sub(self.offset)..range.end.saturating_sub(self.offset)
    }
}

impl<'a> LinedText<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let after_newlines = text.match_indices('\n').map(|(at, _)| at + 1);
        LinedText {
            text,
            starts: std::iter::once(0).chain(after_newlines).collect(),
            quoted: OnceCell::new(),
            chars: OnceCell::new(),
        }
    }

    /// Where `"name"` first appears at or after `from`. Without a quote in `name`,
    /// its two quotes are consecutive ones, so an index of those pairs (built on first
    /// use) answers without reading the rest of the text, as a search would each time
    /// in YAML, whose keys are mostly written without quotes.
    pub(crate) fn find_quoted(&self, name: &str, from: usize) -> Option<usize> {
        if name.contains('"') {
            let quoted = format!("\"{name}\"");
            return self.text.get(from..)?.find(&quoted).map(|at| from + at);
        }
        let pairs = self.quoted.get_or_init(|| quoted_pairs(self.text));
        let starts = pairs.get(name)?;
        let first = starts.partition_point(|start| *start < from);
        starts.get(first).copied()
    }

    /// The byte range of line `row` (from 1; 0 reads as 1) without its `\n`; `None`
    /// past the last line.
    pub(crate) fn line(&self, row: usize) -> Option<Range<usize>> {
        let index = row.saturating_sub(1);
        let start = *self.starts.get(index)?;
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        Some(start..end)
    }

    /// The byte offset of `column` (from 0, in characters) of line `row` (from 1; 0
    /// reads as 1): the line's end for the column just past its last character, `None`
    /// past that or past the last line.
    pub(crate) fn offset(&self, row: usize, column: usize) -> Option<usize> {
        let range = self.line(row)?;
        let line = self.text.get(range.clone())?;
        if column < CHARS_PER_MARK {
            let within = line.char_indices().nth(column).map(|(at, _)| at);
            return within
                .or((line.chars().count() == column).then_some(line.len()))
                .map(|at| range.start + at);
        }
        let index = self.chars.get_or_init(|| CharIndex::new(self.text));
        let wanted = index.line_starts.get(row.saturating_sub(1))? + column;
        let mark = *index.marks.get(wanted / CHARS_PER_MARK)?;
        let at = self
            .text
            .get(mark..)?
            .char_indices()
            .nth(wanted % CHARS_PER_MARK);
        // Past the text's last character is its end; past the line's end is no column.
        let at = at.map_or(self.text.len(), |(at, _)| mark + at);
        (at <= range.end).then_some(at)
    }

    /// The index (from 0) of the line holding byte `offset`.
    fn index_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1)
    }

    fn start_of(&self, index: usize) -> usize {
        self.starts.get(index).copied().unwrap_or(self.text.len())
    }

    /// The lines from the one holding the first range's start to the one holding the
    /// last range's end, so that the renderer finds every range in the same lines,
    /// with the same numbers, as in the whole text.
    pub(crate) fn window(&self, ranges: &[Range<usize>]) -> Window<'a> {
        let low = ranges.iter().map(|range| range.start).min().unwrap_or(0);
        let high = ranges.iter().map(|range| range.end).max().unwrap_or(0);
        let mut first = self.index_of(low);
        // The renderer sizes line numbers by the lines it sees before the last end,
        // and sees none in a window that ends where it starts: one line more keeps
        // the count the whole text gives.
        if first > 0 && high <= self.start_of(first) {
            first -= 1;
        }
        let offset = self.start_of(first);
        let end = self.start_of(self.index_of(high) + 1);
        Window {
            row: first + 1,
            offset,
            text: self.text.get(offset..end).unwrap_or_default(),
        }
    }
}

/// The start of every pair of consecutive quotes, by the text between them.
fn quoted_pairs(text: &str) -> HashMap<&str, Vec<usize>> {
    let quotes: Vec<usize> = text.match_indices('"').map(|(at, _)| at).collect();
    let mut pairs: HashMap<&str, Vec<usize>> = HashMap::new();
    for pair in quotes.windows(2) {
        if let [open, close] = *pair
            && let Some(inside) = text.get(open + 1..close)
        {
            pairs.entry(inside).or_default().push(open);
        }
    }
    pairs
}

/// Every document's lines for one rendering, each found on first use.
#[derive(Debug)]
pub(crate) struct Texts<'a> {
    by_name: BTreeMap<&'a str, (&'a str, OnceCell<LinedText<'a>>)>,
}

impl<'a> Texts<'a> {
    pub(crate) fn new(sources: &'a Sources) -> Self {
        let by_name = sources
            .iter()
            .map(|(name, source)| (name, (source.text.as_str(), OnceCell::new())))
            .collect();
        Texts { by_name }
    }

    /// The document named `name`, with its lines.
    pub(crate) fn get(&self, name: &str) -> Option<&LinedText<'a>> {
        let (text, lines) = self.by_name.get(name)?;
        Some(lines.get_or_init(|| LinedText::new(text)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn quoted_names_are_found_as_a_search_finds_them(
            text in "[\"ab: \n]{0,40}",
            name in "[\"ab]{0,3}",
            from in 0usize..41,
        ) {
            let from = from.min(text.len());
            let searched = text[from..].find(&format!("\"{name}\"")).map(|at| from + at);
            prop_assert_eq!(LinedText::new(&text).find_quoted(&name, from), searched);
        }
    }

    proptest! {
        #[test]
        fn columns_far_into_a_line_are_found_as_a_walk_finds_them(
            text in "([aé\n]{0,300}\n?){1,4}",
            row in 0usize..6,
            column in 0usize..700,
        ) {
            let lines = LinedText::new(&text);
            let walked = lines.line(row).and_then(|range| {
                let line = &text[range.clone()];
                let within = line.char_indices().nth(column).map(|(at, _)| at);
                within
                    .or((line.chars().count() == column).then_some(line.len()))
                    .map(|at| range.start + at)
            });
            prop_assert_eq!(lines.offset(row, column), walked);
        }
    }

    #[test]
    fn lines_start_after_each_newline() {
        let text = "- a\r\n\n  bc\nd";
        let lines = LinedText::new(text);
        assert_eq!(lines.starts, [0, 5, 6, 11]);
        let shown = |row| lines.line(row).map(|range| &text[range]);
        assert_eq!(shown(0), Some("- a\r"));
        assert_eq!(shown(1), Some("- a\r"));
        assert_eq!(shown(2), Some(""));
        assert_eq!(shown(3), Some("  bc"));
        assert_eq!(shown(4), Some("d"));
        assert_eq!(shown(5), None);
        assert_eq!(lines.index_of(0), 0);
        assert_eq!(lines.index_of(4), 0);
        assert_eq!(lines.index_of(5), 1);
        assert_eq!(lines.index_of(12), 3);
    }

    #[test]
    fn a_text_ending_in_a_newline_has_an_empty_last_line() {
        let lines = LinedText::new("a\n");
        assert_eq!(lines.starts, [0, 2]);
        assert_eq!(lines.line(2), Some(2..2));
        assert_eq!(lines.line(3), None);
        let empty = LinedText::new("");
        assert_eq!(empty.line(1), Some(0..0));
    }

    #[test]
    fn windows_hold_whole_lines_from_the_first_start_to_the_last_end() {
        let text = "zero\none\ntwo\nthree\n";
        let lines = LinedText::new(text);
        let window = |ranges: &[(usize, usize)]| {
            let ranges: Vec<Range<usize>> =
                ranges.iter().map(|(start, end)| *start..*end).collect();
            let found = lines.window(&ranges);
            (found.row, found.offset, found.text)
        };
        assert_eq!(window(&[(5, 8)]), (2, 5, "one\n"));
        assert_eq!(window(&[(9, 10), (5, 6)]), (2, 5, "one\ntwo\n"));
        // An end at the next line's start (a caret under a newline) takes that line.
        assert_eq!(window(&[(8, 9)]), (2, 5, "one\ntwo\n"));
        // An empty range at a line start takes the line before it.
        assert_eq!(window(&[(19, 19)]), (4, 13, "three\n"));
        assert_eq!(window(&[(0, 0)]), (1, 0, "zero\n"));
        let found = lines.window(&[9..12, 9..12]);
        assert_eq!(&found.text[found.shift(&(9..12))], "two");
    }
}
