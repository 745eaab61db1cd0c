//! Load failures for a person: each failure as a compiler shows an error (location,
//! source line, a caret under the offending key or value, plain words, `help:`),
//! rendered with `annotate-snippets`, the renderer rustc uses.
//!
//! The protocol's form ([`SchemaFailure::to_json`](crate::SchemaFailure::to_json))
//! is untouched: this only reads it.

mod lines;
mod place;
mod sources;
mod span;
mod suggest;
mod words;

use std::ops::Range;
use std::path::Path;

use crate::error::{Location, SchemaFailure, SchemaFailures};
use crate::standard;
use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Origin, Renderer, Snippet};
use lines::{LinedText, Texts};
pub(crate) use sources::Sources;
use span::{Target, find_name, span};
pub use suggest::nearest;
use words::{Message, Suggestions, describe_failure};

/// The failure's plain-words sentence, e.g. "field `id` of `struct.Tree` has an
/// unknown type `integr`".
pub(crate) fn title(failure: &SchemaFailure, sources: &Sources) -> String {
    describe_failure(failure, sources, Suggestions::Skipped).title
}

/// How many failures a rendering shows. Past a hundred the rest are rarely read, and
/// each excerpt costs the renderer the length of the lines it shows: a minified
/// document holds every failure on one line.
const MAX_RENDERED: usize = 100;

/// The first [`MAX_RENDERED`] failures in file order (file, row, column of what it
/// points at), then a count line.
pub(crate) fn render(failures: &SchemaFailures, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // Every failure is placed, to find the first ones; only those are worded in full.
    // The messages are declared before the texts their excerpts borrow with them.
    let plain: Vec<Message> = failures
        .iter()
        .map(|failure| describe_failure(failure, &failures.1, Suggestions::Skipped))
        .collect();
    let mut first: Vec<(&SchemaFailure, Message)> = Vec::new();
    let texts = Texts::new(&failures.1);
    for index in in_file_order(failures, &plain, &texts)
        .into_iter()
        .take(MAX_RENDERED)
    {
        let failure = &failures.0[index];
        let message = describe_failure(failure, &failures.1, Suggestions::Made);
        first.push((failure, message));
    }
    let mut out = String::new();
    for (failure, message) in &first {
        let excerpt = Excerpt::new(failure, message, &texts);
        out.push_str(&renderer.render(&[excerpt.group()]));
        out.push_str("\n\n");
    }
    let count = failures.len();
    let plural = if count == 1 { "" } else { "s" };
    let left_out = if count > MAX_RENDERED {
        format!("; the first {MAX_RENDERED} are shown")
    } else {
        String::new()
    };
    let summary =
        Level::ERROR.primary_title(format!("the schema has {count} error{plural}{left_out}"));
    out.push_str(&renderer.render(&[Group::with_title(summary)]));
    out
}

/// The indices of `failures` (worded as `messages`) in the order they are shown: by
/// file, then row and column of what each points at.
fn in_file_order<'a>(
    failures: &'a SchemaFailures,
    messages: &'a [Message],
    texts: &'a Texts<'a>,
) -> Vec<usize> {
    let places: Vec<(String, Location)> = failures
        .iter()
        .zip(messages)
        .map(|(failure, message)| {
            let excerpt = Excerpt::new(failure, message, texts);
            let (path, location) = excerpt.place();
            (path.to_string(), location)
        })
        .collect();
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by(|a, b| places[*a].cmp(&places[*b]));
    order
}

/// A marked range of a document's text.
struct Mark<'a> {
    path: String,
    location: Location,
    text: &'a LinedText<'a>,
    range: Range<usize>,
}

/// An annotation to be placed in an excerpt: its kind, range and label.
type Note<'a> = (AnnotationKind, Range<usize>, Option<&'a str>);

/// One failure's report, borrowing the text it shows.
struct Excerpt<'a> {
    message: &'a Message,
    /// The caret's place, or (when there is no text to show) the bare location.
    primary: Result<Mark<'a>, (String, Location)>,
    /// A second place and its label: where a colliding name was declared first.
    secondary: Option<(Mark<'a>, &'static str)>,
}

impl<'a> Excerpt<'a> {
    fn new(failure: &'a SchemaFailure, message: &'a Message, texts: &'a Texts<'a>) -> Self {
        let path = failure.shown_name();
        let location = message.at.unwrap_or(failure.location);
        let text = texts
            .get(&failure.document)
            .filter(|_| has_own_text(failure))
            .filter(|lines| !lines.text.is_empty());
        let range = text.and_then(|text| {
            let key = message.key.as_deref();
            key.and_then(|key| find_name(text, location, key))
                .or_else(|| span(text, location, message.target))
        });
        let primary = match (text, range) {
            (Some(text), Some(range)) => Ok(Mark {
                path: path.clone(),
                location,
                text,
                range,
            }),
            _ => Err((path, location)),
        };
        let Some(first) = first_definition(failure, texts) else {
            return Excerpt {
                message,
                primary,
                secondary: None,
            };
        };
        // A name the standard definitions hold is the user's mistake: point at the
        // user's definition, and show the standard one beside it.
        match primary {
            Ok(standard) if is_standard(&failure.document) => Excerpt {
                message,
                primary: Ok(first),
                secondary: Some((standard, "the standard definition")),
            },
            primary => {
                let label = if is_standard(&first.path) {
                    "the standard definition"
                } else {
                    "first declared here"
                };
                Excerpt {
                    message,
                    primary,
                    secondary: Some((first, label)),
                }
            }
        }
    }

    /// Where the report points: reports are shown in this order.
    fn place(&self) -> (&str, Location) {
        match &self.primary {
            Ok(mark) => (&mark.path, mark.location),
            Err((path, location)) => (path, *location),
        }
    }

    fn group(&self) -> Group<'_> {
        let message = self.message;
        let mut group = Group::with_title(Level::ERROR.primary_title(message.title.as_str()));
        let primary = match &self.primary {
            Ok(mark) => mark,
            Err((path, location)) => {
                let origin = Origin::path(path.as_str())
                    .line(location.row)
                    .char_column(location.col);
                group = group.element(origin);
                return with_help(group, message);
            }
        };
        let primary_note = (
            AnnotationKind::Primary,
            primary.range.clone(),
            non_empty(&message.label),
        );
        let group = match &self.secondary {
            None => group.element(excerpt(primary, &[primary_note])),
            Some((other, other_label)) => {
                let note = (
                    AnnotationKind::Context,
                    other.range.clone(),
                    Some(*other_label),
                );
                if other.path == primary.path {
                    group.element(excerpt(primary, &[primary_note, note]))
                } else {
                    group
                        .element(excerpt(primary, &[primary_note]))
                        .element(excerpt(other, &[note]))
                }
            }
        };
        with_help(group, message)
    }
}

/// `notes` on the lines of `mark`'s text that hold them: only those lines, since the
/// renderer reads all the text it is given, for every excerpt.
fn excerpt<'m>(mark: &'m Mark<'_>, notes: &[Note<'m>]) -> Snippet<'m, Annotation<'m>> {
    let ranges: Vec<Range<usize>> = notes.iter().map(|(_, range, _)| range.clone()).collect();
    let window = mark.text.window(&ranges);
    let mut snippet = Snippet::source(window.text)
        .line_start(window.row)
        .path(mark.path.as_str());
    for (kind, range, label) in notes {
        snippet = snippet.annotation(kind.span(window.shift(range)).label(*label));
    }
    snippet
}

fn with_help<'a>(group: Group<'a>, message: &'a Message) -> Group<'a> {
    match &message.help {
        Some(help) => group.element(Level::HELP.message(help.as_str())),
        None => group,
    }
}

fn non_empty(label: &str) -> Option<&str> {
    (!label.is_empty()).then_some(label)
}

fn is_standard(document: &str) -> bool {
    document == standard::INTERNAL_NAME || document == standard::AUTH_NAME
}

/// Whether the failure points into the document's own text (a subdirectory, a
/// misnamed file or a document under a reserved name has none).
fn has_own_text(failure: &SchemaFailure) -> bool {
    !matches!(
        failure.reason.as_str(),
        "DirectoryDisallowed" | "FileNamePatternInvalid" | "DocumentNameReserved"
    )
}

/// For a collision: the file, text and key of what was declared first.
fn first_definition<'a>(failure: &SchemaFailure, texts: &'a Texts<'a>) -> Option<Mark<'a>> {
    if failure.reason != "PathCollision" {
        return None;
    }
    let document = failure.data.get("document")?.as_str()?;
    let location = failure.data.get("location")?;
    let location = Location {
        row: usize::try_from(location.get("row")?.as_u64()?).ok()?,
        col: usize::try_from(location.get("col")?.as_u64()?).ok()?,
    };
    let text = texts.get(document)?;
    let range = span(text, location, Target::Key)?;
    let path = match &failure.file {
        Some(file) => file
            .parent()
            .unwrap_or(Path::new(""))
            .join(document)
            .display()
            .to_string(),
        None => document.to_string(),
    };
    let path = crate::error::visible(&path);
    Some(Mark {
        path,
        location,
        text,
        range,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn rendered(snippet: Snippet<'_, Annotation<'_>>) -> String {
        let title = Level::ERROR.primary_title("failure");
        Renderer::plain().render(&[Group::with_title(title).element(snippet)])
    }

    /// The excerpt rendered from the whole text.
    fn from_whole_text(text: &str, notes: &[Note<'_>]) -> String {
        let mut snippet = Snippet::source(text).path("a.telepact.yaml");
        for (kind, range, label) in notes {
            snippet = snippet.annotation(kind.span(range.clone()).label(*label));
        }
        rendered(snippet)
    }

    fn from_window(text: &str, notes: &[Note<'_>]) -> String {
        let lines = LinedText::new(text);
        let mark = Mark {
            path: "a.telepact.yaml".to_string(),
            location: Location::START,
            text: &lines,
            range: 0..0,
        };
        rendered(excerpt(&mark, notes))
    }

    /// Up to 30 short lines, ending in `\n` or `\r\n`, with or without a last one.
    fn text() -> impl Strategy<Value = String> {
        let lines = prop::collection::vec("[a-z \t:\"é{}\\[\\]]{0,10}", 1..30);
        (lines, any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, last)| {
            let mut text = lines.join(if crlf { "\r\n" } else { "\n" });
            if last {
                text.push('\n');
            }
            text
        })
    }

    proptest! {
        #[test]
        fn an_excerpt_of_the_marked_lines_renders_as_the_whole_text_does(
            text in text(),
            places in prop::collection::vec(
                (any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0usize..3),
                1..3,
            ),
        ) {
            let lines = LinedText::new(&text);
            let rows = text.split('\n').count();
            let notes: Vec<Note<'_>> = places
                .iter()
                .enumerate()
                .filter_map(|(i, (row, col, target))| {
                    let target = [Target::Key, Target::Value, Target::Point][*target];
                    let row = row.index(rows) + 1;
                    let line = lines.line(row).map(|line| &text[line])?;
                    let col = col.index(line.chars().count() + 1) + 1;
                    let range = span(&lines, Location { row, col }, target)?;
                    let kind = if i == 0 { AnnotationKind::Primary } else { AnnotationKind::Context };
                    Some((kind, range, Some("here")))
                })
                .collect();
            prop_assume!(!notes.is_empty());
            prop_assert_eq!(from_window(&text, &notes), from_whole_text(&text, &notes));
        }
    }
}
