//! Reads YAML text into a JSON value, and locates its keys and array elements, from
//! one walk over the `saphyr-parser` event stream (which carries source positions).

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, Span, StrInput};
use serde_json::{Map, Value};

use super::locate::{Locations, NodeId, Segment};
use super::yaml_scalar::resolve_scalar;
use crate::error::Location;

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 256;
/// What each value counts against the expansion budget besides the bytes of its text
/// (strings and keys): the memory a JSON value takes.
const VALUE_COST: usize = std::mem::size_of::<Value>();
/// The values a document expands to (an alias counting its anchored value each time it
/// is expanded, and an anchor the copy it keeps) may cost this many times the
/// document's own length, plus [`BUDGET_FLOOR`]: a text without aliases always fits
/// (it holds at most about one value per byte), and a small text of aliases cannot
/// expand into gigabytes.
const BUDGET_PER_BYTE: usize = 128;
const BUDGET_FLOOR: usize = 1 << 20;

/// How much the values read from `text` may cost in all.
fn budget(text: &str) -> usize {
    text.len()
        .saturating_mul(BUDGET_PER_BYTE)
        .saturating_add(BUDGET_FLOOR)
}

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

/// An anchored value, with what it costs and how many levels it nests below itself.
struct Anchored {
    value: Value,
    cost: usize,
    height: usize,
}

struct Walker<'input> {
    parser: Parser<'input, StrInput<'input>>,
    anchors: HashMap<usize, Anchored>,
    /// The deepest level the value being read reaches, its aliases' copies included.
    deepest: usize,
    /// What the values produced so far and the anchors' copies cost (see [`VALUE_COST`]).
    cost: usize,
    /// The part of `cost` that is the anchors' copies.
    kept: usize,
    budget: usize,
    record: bool,
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
            deepest: 0,
            cost: 0,
            kept: 0,
            budget: budget(text),
            record,
            locations: Locations::new(Location::START),
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
        self.locations.set_root(location_of(&span));
        let value = self.node(event, NodeId::ROOT, 0)?;
        let (Event::DocumentEnd, _) = self.next()? else {
            return None;
        };
        let (Event::StreamEnd, _) = self.next()? else {
            return self.refuse(|| "several documents in one file".to_string());
        };
        Some(value)
    }

    /// Records where the child `segment` of `parent` starts, when locating; its id.
    fn mark(&mut self, parent: NodeId, segment: impl FnOnce() -> Segment, span: &Span) -> NodeId {
        if !self.record {
            return NodeId::ROOT;
        }
        // Keys were checked distinct, so a child is never recorded twice.
        let recorded = self.locations.record(parent, segment(), location_of(span));
        recorded.unwrap_or(NodeId::ROOT)
    }

    /// The value starting with `event`, whose keys and elements are children of `id`.
    fn node(&mut self, event: Event<'input>, id: NodeId, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return self.refuse(|| format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        let before = self.cost - self.kept;
        let outer_deepest = std::mem::replace(&mut self.deepest, depth);
        self.count(VALUE_COST)?;
        let (anchor, value) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(text.len())?;
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
                (anchor, self.sequence(id, depth)?)
            }
            Event::MappingStart(anchor, tag) => {
                if !collection_tag_allowed(tag.as_deref(), "map") {
                    return self.refuse(|| "an object with a tag JSON cannot hold".to_string());
                }
                (anchor, self.mapping(id, depth)?)
            }
            Event::Alias(anchor) => {
                let value = self.expand(anchor, depth)?;
                self.deepest = self.deepest.max(outer_deepest);
                return Some(value);
            }
            _ => return None,
        };
        let height = self.deepest - depth;
        self.deepest = self.deepest.max(outer_deepest);
        if anchor != 0 {
            let cost = self.cost - self.kept - before;
            // The kept copy costs as much again.
            self.count(cost)?;
            self.kept += cost;
            let value = value.clone();
            self.anchors.insert(
                anchor,
                Anchored {
                    value,
                    cost,
                    height,
                },
            );
        }
        Some(value)
    }

    /// A copy of the value anchored as `anchor`, placed at `depth`, counted against the
    /// budget before it is made. Its levels count from `depth`: a chain of anchors, each
    /// wrapping the alias of the one before, would otherwise nest without bound.
    fn expand(&mut self, anchor: usize, depth: usize) -> Option<Value> {
        let Some(&Anchored { cost, height, .. }) = self.anchors.get(&anchor) else {
            return self.refuse(|| "an alias to no anchor".to_string());
        };
        if depth + height > MAX_DEPTH {
            return self.refuse(|| format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.count(cost)?;
        self.deepest = depth + height;
        self.anchors
            .get(&anchor)
            .map(|anchored| anchored.value.clone())
    }

    /// Counts `cost` more against the budget.
    fn count(&mut self, cost: usize) -> Option<()> {
        match self
            .cost
            .checked_add(cost)
            .filter(|total| *total <= self.budget)
        {
            Some(total) => {
                self.cost = total;
                Some(())
            }
            None => {
                let budget = self.budget;
                self.refuse(|| format!("more than {budget} bytes of values once aliases expand"))
            }
        }
    }

    fn sequence(&mut self, id: NodeId, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                return Some(Value::Array(items));
            }
            let index = items.len();
            let child = self.mark(id, || index.into(), &span);
            let item = self.node(event, child, depth + 1)?;
            items.push(item);
        }
    }

    fn mapping(&mut self, id: NodeId, depth: usize) -> Option<Value> {
        let mut map = Map::new();
        let mut seen = HashSet::new();
        let mut merged = Vec::new();
        loop {
            let (event, span) = self.next()?;
            if matches!(event, Event::MappingEnd) {
                return Some(Value::Object(with_merged(merged, map)));
            }
            let merge = is_merge_key(&event);
            // Keys must be strings: JSON has no other kind.
            let key = match self.key(event, merge)? {
                Value::String(key) => key,
                _ => return self.refuse(|| "a key that is not a string".to_string()),
            };
            if !seen.insert(key.clone()) {
                return self.refuse(|| format!("the key `{key}` appears twice in one object"));
            }
            let child = self.mark(id, || key.clone().into(), &span);
            let (event, _) = self.next()?;
            let value = self.node(event, child, depth + 1)?;
            if merge {
                merged = self.merge_sources(value)?;
            } else {
                map.insert(key, value);
            }
        }
    }

    /// The objects a merge key's value brings in: the object, or the list's objects.
    fn merge_sources(&mut self, value: Value) -> Option<Vec<Map<String, Value>>> {
        let object = |item: Value| match item {
            Value::Object(map) => Some(map),
            _ => None,
        };
        let sources = match value {
            Value::Array(items) => items.into_iter().map(object).collect(),
            other => object(other).map(|map| vec![map]),
        };
        match sources {
            Some(sources) => Some(sources),
            None => self.refuse(|| "a merge key `<<` that is not given objects".to_string()),
        }
    }

    fn key(&mut self, event: Event<'input>, merge: bool) -> Option<Value> {
        if merge {
            return Some(Value::String("<<".to_string()));
        }
        match event {
            Event::Scalar(..) | Event::Alias(_) => self.node(event, NodeId::ROOT, 0),
            _ => self.refuse(|| "a key that is a list or an object".to_string()),
        }
    }
}

/// Whether `event` is the merge key: a plain, untagged `<<`, which YAML 1.1 (and the
/// reference's reader) reads as "the keys of these objects, where not given here".
fn is_merge_key(event: &Event<'_>) -> bool {
    matches!(event, Event::Scalar(text, ScalarStyle::Plain, _, None) if text == "<<")
}

/// An object's own keys over the keys merged in, in the reference's order: the merged
/// keys first (an earlier source's value wins), then its own.
fn with_merged(sources: Vec<Map<String, Value>>, own: Map<String, Value>) -> Map<String, Value> {
    if sources.is_empty() {
        return own;
    }
    let mut map = Map::new();
    for (key, value) in sources.into_iter().flatten() {
        map.entry(key).or_insert(value);
    }
    for (key, value) in own {
        map.insert(key, value);
    }
    map
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An anchored string of `long` bytes aliased `aliases` times, after a comment of
    /// `padding` bytes.
    fn aliases_of(long: usize, aliases: usize, padding: usize) -> String {
        let long = "x".repeat(long);
        let aliases = vec!["*s"; aliases].join(", ");
        let padding = "-".repeat(padding);
        format!("# {padding}\n- a: &s \"{long}\"\n  b: [{aliases}]\n")
    }

    #[test]
    fn aliases_of_a_long_string_are_refused_once_past_the_budget() {
        let text = aliases_of(100_000, 5_000, 0);
        let (at, why) = yaml_json_problem(&text).expect("refused");
        let budget = budget(&text);
        assert_eq!(
            why,
            format!("more than {budget} bytes of values once aliases expand")
        );
        // Refused at the alias that passes the budget, before expanding the rest.
        let last_allowed = budget / 100_000;
        assert_eq!(at.row, 3);
        assert!(at.col <= "  b: [".len() + 1 + 4 * last_allowed, "{at:?}");
    }

    #[test]
    fn the_budget_grows_with_the_text() {
        // 300 copies of 10 KB: more than an 11 KB text may expand to, not a 41 KB one.
        assert!(yaml_to_json(&aliases_of(10_000, 300, 0)).is_none());
        let value = yaml_to_json(&aliases_of(10_000, 300, 30_000)).expect("within");
        assert_eq!(value[0]["b"].as_array().map(Vec::len), Some(300));
    }

    #[test]
    fn a_text_without_aliases_fits_however_many_values_it_holds() {
        let nulls = "-\n".repeat(100_000);
        let value = yaml_to_json(&nulls).expect("fits");
        assert_eq!(value.as_array().map(Vec::len), Some(100_000));
    }

    #[test]
    fn nested_anchors_count_the_copies_they_keep() {
        // Each anchor keeps a copy of everything inside it: 200 nested anchors around
        // 20 KB keep 4 MB, more than the 3.7 MB a 21 KB text may cost.
        let opening: String = (0..200).map(|i| format!("&a{i} [")).collect();
        let text = format!("{opening}\"{}\"{}", "x".repeat(20_000), "]".repeat(200));
        let (_, why) = yaml_json_problem(&text).expect("refused");
        assert!(why.ends_with("once aliases expand"), "{why}");
        let flat = format!("[&a [\"{}\"]]", "x".repeat(20_000));
        assert!(yaml_to_json(&flat).is_some());
    }
}
