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

use std::path::Path;

use crate::error::{Location, SchemaFailure, SchemaFailures};
use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};
pub(crate) use sources::Sources;
use span::{Target, find_name, span};
use words::{Message, describe_failure};

/// The failure's plain-words sentence, e.g. "field `id` of `struct.Tree` has an
/// unknown type `integr`".
pub(crate) fn title(failure: &SchemaFailure, sources: &Sources) -> String {
    describe_failure(failure, sources).title
}

/// Every failure in file order (file, row, column), then a count line.
pub(crate) fn render(failures: &SchemaFailures, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut ordered: Vec<&SchemaFailure> = failures.iter().collect();
    ordered.sort_by_cached_key(|failure| (failure.shown_name(), failure.location));
    let mut out = String::new();
    for failure in ordered {
        let message = describe_failure(failure, &failures.1);
        let excerpt = Excerpt::new(failure, &message, &failures.1);
        out.push_str(&renderer.render(&[excerpt.group()]));
        out.push_str("\n\n");
    }
    let count = failures.len();
    let plural = if count == 1 { "" } else { "s" };
    let summary = Level::ERROR.primary_title(format!("the schema has {count} error{plural}"));
    out.push_str(&renderer.render(&[Group::with_title(summary)]));
    out
}

/// One failure's report, borrowing the text it shows.
struct Excerpt<'a> {
    message: &'a Message,
    path: String,
    /// The document text and the range under the caret.
    primary: Option<(&'a str, std::ops::Range<usize>)>,
    location: Location,
    /// Where the first definition is, for a collision: path, text, range.
    first: Option<(String, &'a str, std::ops::Range<usize>)>,
}

impl<'a> Excerpt<'a> {
    fn new(failure: &'a SchemaFailure, message: &'a Message, sources: &'a Sources) -> Self {
        let path = failure.shown_name();
        let text = sources
            .get(&failure.document)
            .filter(|_| has_own_text(failure))
            .map(|source| source.text.as_str())
            .filter(|text| !text.is_empty());
        let location = message.at.unwrap_or(failure.location);
        let primary = text.and_then(|text| {
            let key = message.key.as_deref();
            let range = key
                .and_then(|key| find_name(text, location, key))
                .or_else(|| span(text, location, message.target))?;
            Some((text, range))
        });
        Excerpt {
            message,
            path,
            primary,
            location,
            first: first_definition(failure, sources),
        }
    }

    fn group(&self) -> Group<'_> {
        let message = self.message;
        let mut group = Group::with_title(Level::ERROR.primary_title(message.title.as_str()));
        match &self.primary {
            Some((text, range)) => {
                let mut snippet = Snippet::source(*text).path(self.path.as_str()).annotation(
                    AnnotationKind::Primary
                        .span(range.clone())
                        .label(non_empty(&message.label)),
                );
                match &self.first {
                    Some((first_path, _, first_range)) if *first_path == self.path => {
                        snippet = snippet.annotation(
                            AnnotationKind::Context
                                .span(first_range.clone())
                                .label("first declared here"),
                        );
                        group = group.element(snippet);
                    }
                    Some((first_path, first_text, first_range)) => {
                        group = group.element(snippet).element(
                            Snippet::source(*first_text)
                                .path(first_path.as_str())
                                .annotation(
                                    AnnotationKind::Context
                                        .span(first_range.clone())
                                        .label("first declared here"),
                                ),
                        );
                    }
                    None => group = group.element(snippet),
                }
            }
            None => {
                let origin = Origin::path(self.path.as_str())
                    .line(self.location.row)
                    .char_column(self.location.col);
                group = group.element(origin);
            }
        }
        if let Some(help) = &message.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        group
    }
}

fn non_empty(label: &str) -> Option<&str> {
    (!label.is_empty()).then_some(label)
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
fn first_definition<'a>(
    failure: &SchemaFailure,
    sources: &'a Sources,
) -> Option<(String, &'a str, std::ops::Range<usize>)> {
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
    Some((path, text, range))
}
