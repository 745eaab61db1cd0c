//! A tracing subscriber that keeps every event as one line of text (level, then
//! each field), and every span's name and fields, so tests can check what would reach
//! a log.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// Collects every event's level and fields as text, at every level unless made with
/// [`Capture::up_to`].
#[derive(Clone, Default)]
pub(crate) struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    spans: Arc<Mutex<Vec<CapturedSpan>>>,
    most_verbose: Option<Level>,
}

/// A span's name and its fields (values in `Debug` form), as finally recorded.
#[derive(Clone, Debug)]
pub(crate) struct CapturedSpan {
    pub name: &'static str,
    pub fields: BTreeMap<String, String>,
}

impl Capture {
    /// A capture that, like a filter set to `level`, is interested in nothing more
    /// verbose than `level`.
    pub(crate) fn up_to(level: Level) -> Self {
        Capture {
            most_verbose: Some(level),
            ..Capture::default()
        }
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    #[allow(dead_code)] // Not every test binary looks at spans.
    pub(crate) fn spans(&self) -> Vec<CapturedSpan> {
        self.spans.lock().unwrap().clone()
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl Subscriber for Capture {
    // Asked each time rather than cached per callsite, so that captures with different
    // levels in concurrent tests do not decide for each other.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.most_verbose
            .is_none_or(|most_verbose| *metadata.level() <= most_verbose)
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let mut fields = BTreeMap::new();
        attributes.record(&mut Fields(&mut fields));
        let mut spans = self.spans.lock().unwrap();
        spans.push(CapturedSpan {
            name: attributes.metadata().name(),
            fields,
        });
        Id::from_u64(spans.len() as u64)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap();
        let index = usize::try_from(id.into_u64() - 1).unwrap();
        values.record(&mut Fields(&mut spans[index].fields));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = Line(format!("{} ", event.metadata().level()));
        event.record(&mut line);
        self.lines.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
