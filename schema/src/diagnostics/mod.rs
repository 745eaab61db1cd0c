//! Load failures for a person: each failure as a compiler shows an error (location,
//! source line, a caret under the offending key or value, plain words, `help:`),
//! rendered with `annotate-snippets`, the renderer rustc uses.
//!
//! The protocol's form ([`SchemaFailure::to_json`](crate::SchemaFailure::to_json))
//! is untouched: this only reads it.

mod place;
mod sources;
mod span;
mod suggest;
mod words;

use std::ops::Range;
use std::path::Path;

use crate::error::{Location, SchemaFailure, SchemaFailures};
use crate::standard;
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
pub(crate) use sources::Sources;
use span::{Target, find_name, span};
use words::{Message, describe_failure};

/// The failure's plain-words sentence, e.g. "field `id` of `struct.Tree` has an
/// unknown type `integr`".
pub(crate) fn title(failure: &SchemaFailure, sources: &Sources) -> String {
    describe_failure(failure, sources).title
}

/// Every failure in file order (file, row, column of what it points at), then a
/// count line.
pub(crate) fn render(failures: &SchemaFailures, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let messages: Vec<(&SchemaFailure, Message)> = failures
        .iter()
        .map(|failure| (failure, describe_failure(failure, &failures.1)))
        .collect();
    let mut excerpts: Vec<Excerpt<'_>> = messages
        .iter()
        .map(|(failure, message)| Excerpt::new(failure, message, &failures.1))
        .collect();
    excerpts.sort_by(|a, b| a.place().cmp(&b.place()));
    let mut out = String::new();
    for excerpt in &excerpts {
        out.push_str(&renderer.render(&[excerpt.group()]));
        out.push_str("\n\n");
    }
    let count = failures.len();
    let plural = if count == 1 { "" } else { "s" };
    let summary = Level::ERROR.primary_title(format!("the schema has {count} error{plural}"));
    out.push_str(&renderer.render(&[Group::with_title(summary)]));
    out
}

/// A marked range of a document's text.
struct Mark<'a> {
    path: String,
    location: Location,
    text: &'a str,
    range: Range<usize>,
}

/// One failure's report, borrowing the text it shows.
struct Excerpt<'a> {
    message: &'a Message,
    /// The caret's place, or (when there is no text to show) the bare location.
    primary: Result<Mark<'a>, (String, Location)>,
    /// A second place and its label: where a colliding name was declared first.
    secondary: Option<(Mark<'a>, &'static str)>,
}

impl<'a> Excerpt<'a> {
    fn new(failure: &'a SchemaFailure, message: &'a Message, sources: &'a Sources) -> Self {
        let path = failure.shown_name();
        let location = message.at.unwrap_or(failure.location);
        let text = sources
            .get(&failure.document)
            .filter(|_| has_own_text(failure))
            .map(|source| source.text.as_str())
            .filter(|text| !text.is_empty());
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
        let Some(first) = first_definition(failure, sources) else {
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
        let label = non_empty(&message.label);
        let mut snippet = Snippet::source(primary.text)
            .path(primary.path.as_str())
            .annotation(
                AnnotationKind::Primary
                    .span(primary.range.clone())
                    .label(label),
            );
        if let Some((other, other_label)) = &self.secondary {
            let note = AnnotationKind::Context
                .span(other.range.clone())
                .label(*other_label);
            if other.path == primary.path {
                snippet = snippet.annotation(note);
            } else {
                group = group.element(snippet);
                snippet = Snippet::source(other.text)
                    .path(other.path.as_str())
                    .annotation(note);
            }
        }
        with_help(group.element(snippet), message)
    }
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

/// Whether the failure points into the document's own text (a subdirectory or a
/// misnamed file has none).
fn has_own_text(failure: &SchemaFailure) -> bool {
    !matches!(
        failure.reason.as_str(),
        "DirectoryDisallowed" | "FileNamePatternInvalid"
    )
}

/// For a collision: the file, text and key of what was declared first.
fn first_definition<'a>(failure: &SchemaFailure, sources: &'a Sources) -> Option<Mark<'a>> {
    if failure.reason != "PathCollision" {
        return None;
    }
    let document = failure.data.get("document")?.as_str()?;
    let location = failure.data.get("location")?;
    let location = Location {
        row: usize::try_from(location.get("row")?.as_u64()?).ok()?,
        col: usize::try_from(location.get("col")?.as_u64()?).ok()?,
    };
    let text = sources.get(document)?.text.as_str();
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
    Some(Mark {
        path,
        location,
        text,
        range,
    })
}
