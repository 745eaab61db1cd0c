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
/// A scalar counts one value more for each this many bytes of its text, so that aliases
/// of one long string cannot expand into gigabytes either: the budget stands for at most
/// 64 MB of text.
const BYTES_PER_NODE: usize = 64;

/// The JSON value of a single-document YAML text; `None` when the text is not YAML,
/// holds several documents, repeats a key, or uses values JSON cannot hold.
pub(crate) fn yaml_to_json(text: &str) -> Option<Value> {
    Walker::new(text, false).document()
}

/// Where every key and array element of a YAML text starts.
pub(crate) fn yaml_locations(text: &str) -> Option<Locations> {
    let mut walker = Walker::new(text, true);
    walker.document()?;
    Some(walker.locations)
}

/// Where and why a YAML text has no JSON value (a repeated key, a date...), when it
/// is YAML but not JSON; `None` when it has one or is not YAML at all.
pub(crate) fn yaml_json_problem(text: &str) -> Option<(Location, String)> {
    let mut walker = Walker::new(text, false);
    match walker.document() {
        Some(_) => None,
        None => walker.problem,
    }
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
    /// The span of the last event read, to say where a problem is.
    last: Span,
    /// The first reason the text has no JSON value.
    problem: Option<(Location, String)>,
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
            last: Span::default(),
            problem: None,
        }
    }

    fn next(&mut self) -> Option<(Event<'input>, Span)> {
        let (event, span) = self.parser.next_event()?.ok()?;
        self.last = span;
        Some((event, span))
    }

    /// Records why the text has no JSON value (at the last event read) and gives up.
    fn refuse<T>(&mut self, why: impl FnOnce() -> String) -> Option<T> {
        if self.problem.is_none() {
            self.problem = Some((location_of(&self.last), why()));
        }
        None
    }

    /// Exactly one document: stream start, document start, node, document end, stream end.
    fn document(&mut self) -> Option<Value> {
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
            return self.refuse(|| "several documents in one file".to_string());
        };
        Some(value)
    }

    fn mark(&mut self, span: &Span) {
        if self.record {
            self.locations.record(&self.path, location_of(span));
        }
    }

    fn node(&mut self, event: Event<'input>, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return self.refuse(|| format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        let first_node = self.nodes;
        self.count(1)?;
        let (anchor, value) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(text.len() / BYTES_PER_NODE)?;
                match resolve_scalar(&text, style, tag.as_deref()) {
                    Ok(value) => (anchor, value),
                    Err(_) => {
                        return self.refuse(|| {
                            format!("`{text}` has no JSON value (quote dates, `.inf` and `.nan`)")
                        });
                    }
                }
            }
            Event::SequenceStart(anchor, tag) => {
                if !collection_tag_allowed(tag.as_deref(), "seq") {
                    return self.refuse(|| "a list with a tag JSON cannot hold".to_string());
                }
                (anchor, self.sequence(depth)?)
            }
            Event::MappingStart(anchor, tag) => {
                if !collection_tag_allowed(tag.as_deref(), "map") {
                    return self.refuse(|| "an object with a tag JSON cannot hold".to_string());
                }
                (anchor, self.mapping(depth)?)
            }
            Event::Alias(anchor) => {
                let Some((value, size)) = self.anchors.get(&anchor).cloned() else {
                    return self.refuse(|| "an alias to no anchor".to_string());
                };
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
        match self
            .nodes
            .checked_add(n)
            .filter(|total| *total <= MAX_NODES)
        {
            Some(total) => {
                self.nodes = total;
                Some(())
            }
            None => self.refuse(|| format!("more than {MAX_NODES} values once aliases expand")),
        }
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
                return self.refuse(|| "a key that is not a string".to_string());
            };
            if !seen.insert(key.clone()) {
                return self.refuse(|| format!("the key `{key}` appears twice in one object"));
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
            _ => self.refuse(|| "a key that is a list or an object".to_string()),
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
