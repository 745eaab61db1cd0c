//! Reads YAML text into a JSON value, and locates its keys and array elements, from
//! one walk over the `saphyr-parser` event stream (which carries source positions).

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, Span, StrInput};
use serde_json::{Map, Value};

use super::locate::Locations;
use super::yaml_scalar::resolve_scalar;
use crate::error::Location;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;
/// More values than this (aliases count each time they are expanded) are refused, so
/// a small text of nested aliases cannot expand into gigabytes.
const MAX_NODES: usize = 1_000_000;

/// The JSON value of a single-document YAML text; `None` when the text is not YAML,
/// holds several documents, repeats a key, or uses values JSON cannot hold.
pub(crate) fn yaml_to_json(text: &str) -> Option<Value> {
    Walker::new(text, false).document().map(|(value, _)| value)
}

/// Where every key and array element of a YAML text starts.
pub(crate) fn yaml_locations(text: &str) -> Option<Locations> {
    Walker::new(text, true)
        .document()
        .map(|(_, locations)| locations)
}

struct Walker<'input> {
    parser: Parser<'input, StrInput<'input>>,
    /// Anchored values with their size in nodes.
    anchors: HashMap<usize, (Value, usize)>,
    /// Nodes produced so far.
    nodes: usize,
    record: bool,
    path: Vec<Value>,
    locations: Locations,
}

fn location_of(span: &Span) -> Location {
    Location {
        row: span.start.line(),
        col: span.start.col() + 1,
    }
}

impl<'input> Walker<'input> {
    fn new(text: &'input str, record: bool) -> Self {
        Walker {
            parser: Parser::new_from_str(text),
            anchors: HashMap::new(),
            nodes: 0,
            record,
            path: Vec::new(),
            locations: Locations::default(),
        }
    }

    fn next(&mut self) -> Option<(Event<'input>, Span)> {
        self.parser.next_event()?.ok()
    }

    /// Exactly one document: stream start, document start, node, document end, stream end.
    fn document(mut self) -> Option<(Value, Locations)> {
        let (Event::StreamStart, _) = self.next()? else {
            return None;
        };
        let (Event::DocumentStart(_), _) = self.next()? else {
            return None;
        };
        let (event, span) = self.next()?;
        self.mark(&span);
        let value = self.node(event, 0)?;
        let (Event::DocumentEnd, _) = self.next()? else {
            return None;
        };
        let (Event::StreamEnd, _) = self.next()? else {
            return None;
        };
        Some((value, self.locations))
    }

    fn mark(&mut self, span: &Span) {
        if self.record {
            self.locations.record(&self.path, location_of(span));
        }
    }

    fn node(&mut self, event: Event<'input>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let first_node = self.nodes;
        self.count(1)?;
        let (anchor, value) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (anchor, resolve_scalar(&text, style, tag.as_deref()).ok()?)
            }
            Event::SequenceStart(anchor, tag) => {
                collection_tag_allowed(tag.as_deref(), "seq").then_some(())?;
                (anchor, self.sequence(depth)?)
            }
            Event::MappingStart(anchor, tag) => {
                collection_tag_allowed(tag.as_deref(), "map").then_some(())?;
                (anchor, self.mapping(depth)?)
            }
            Event::Alias(anchor) => {
                let (value, size) = self.anchors.get(&anchor)?.clone();
                self.count(size)?;
                return Some(value);
            }
            _ => return None,
        };
        if anchor != 0 {
            let size = self.nodes - first_node;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        Some(value)
    }

    /// Counts `n` more nodes against the budget.
    fn count(&mut self, n: usize) -> Option<()> {
        self.nodes = self
            .nodes
            .checked_add(n)
            .filter(|total| *total <= MAX_NODES)?;
        Some(())
    }

    fn sequence(&mut self, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Some(Value::Array(items));
            }
            self.path.push(Value::from(items.len()));
            self.mark(&span);
            let item = self.node(event, depth + 1)?;
            self.path.pop();
            items.push(item);
        }
    }

    fn mapping(&mut self, depth: usize) -> Option<Value> {
        let mut map = Map::new();
        let mut seen = HashSet::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Some(Value::Object(map));
            }
            // Keys must be strings: JSON has no other kind.
            let Value::String(key) = self.key(event)? else {
                return None;
            };
            if !seen.insert(key.clone()) {
                return None;
            }
            self.path.push(Value::String(key.clone()));
            self.mark(&span);
            let (event, _) = self.next()?;
            let value = self.node(event, depth + 1)?;
            self.path.pop();
            map.insert(key, value);
        }
    }

    fn key(&mut self, event: Event<'input>) -> Option<Value> {
        match event {
            Event::Scalar(..) | Event::Alias(_) => self.node(event, 0),
            _ => None,
        }
    }
}

/// Collections may carry no tag or their own core tag (`!!seq`, `!!map`).
fn collection_tag_allowed(tag: Option<&saphyr_parser::Tag>, core: &str) -> bool {
    tag.is_none_or(|tag| tag.is_yaml_core_schema() && tag.suffix == core)
}

/// Where and why `text` is not YAML at all, when it is not.
pub(crate) fn yaml_syntax_error(text: &str) -> Option<(Location, String)> {
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        if let Err(error) = event {
            let marker = error.marker();
            let location = Location {
                row: marker.line(),
                col: marker.col() + 1,
            };
            return Some((location, error.info().to_string()));
        }
    }
    None
}
