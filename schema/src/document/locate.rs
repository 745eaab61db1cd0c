//! The shared path → location step: both the JSON scanner and the YAML reader record
//! where each key and array element starts, as they walk the tree in order.
//!
//! Each node is stored under its parent's id and its own segment, not under its whole
//! path: a path repeats its ancestors' keys, so storing it for every node would cost
//! the length of those keys once per descendant.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::Value;

use crate::error::Location;

/// A recorded node: the root, or a key or array element recorded under its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NodeId(usize);

impl NodeId {
    /// The document's top-level value.
    pub(crate) const ROOT: NodeId = NodeId(0);
}

/// One step of a path: an object key or an array index, which never collide.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) enum Segment {
    Index(u64),
    Key(Box<str>),
}

impl Segment {
    /// The segment an element of a JSON path names; `None` for a value no path holds.
    fn of(value: &Value) -> Option<Segment> {
        match value {
            Value::String(key) => Some(Segment::Key(key.as_str().into())),
            Value::Number(index) => index.as_u64().map(Segment::Index),
            _ => None,
        }
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(u64::try_from(index).unwrap_or(u64::MAX))
    }
}

impl From<String> for Segment {
    fn from(key: String) -> Self {
        Segment::Key(key.into_boxed_str())
    }
}

/// Start positions of every key (and array element) in one document.
#[derive(Debug)]
pub(crate) struct Locations {
    root: Location,
    /// Each node's id and start, by its parent's id and its own segment.
    children: HashMap<(NodeId, Segment), (NodeId, Location)>,
}

impl Locations {
    /// Locations of a document whose top-level value starts at `root`.
    pub(crate) fn new(root: Location) -> Self {
        Locations {
            root,
            children: HashMap::new(),
        }
    }

    /// Moves the top-level value's start (read after the walk began).
    pub(crate) fn set_root(&mut self, root: Location) {
        self.root = root;
    }

    /// Remembers that the child `segment` of `parent` starts at `location`; `None`
    /// (keeping the first) when that child was already recorded.
    pub(crate) fn record(
        &mut self,
        parent: NodeId,
        segment: Segment,
        location: Location,
    ) -> Option<NodeId> {
        let id = NodeId(self.children.len() + 1);
        match self.children.entry((parent, segment)) {
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => {
                slot.insert((id, location));
                Some(id)
            }
        }
    }

    /// Where the node at `path` starts; the document start when the path is unknown.
    pub(crate) fn locate(&self, path: &[Value]) -> Location {
        self.find(path).unwrap_or(Location::START)
    }

    fn find(&self, path: &[Value]) -> Option<Location> {
        let (mut id, mut location) = (NodeId::ROOT, self.root);
        for value in path {
            (id, location) = *self.children.get(&(id, Segment::of(value)?))?;
        }
        Some(location)
    }

    /// The bytes of every key stored.
    #[cfg(test)]
    pub(crate) fn stored_key_bytes(&self) -> usize {
        self.children
            .keys()
            .map(|(_, segment)| match segment {
                Segment::Key(key) => key.len(),
                Segment::Index(_) => 0,
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::json_scan::json_locations;
    use super::super::yaml::yaml_locations;
    use super::*;

    fn at(row: usize, col: usize) -> Location {
        Location { row, col }
    }

    #[test]
    fn paths_are_located_by_walking_from_the_root() {
        let mut locations = Locations::new(at(1, 1));
        let def = locations.record(NodeId::ROOT, 0.into(), at(1, 2));
        let def = def.expect("new");
        let key = locations.record(def, "struct.A".to_string().into(), at(1, 3));
        let key = key.expect("new");
        let field = locations.record(key, "0".to_string().into(), at(2, 5));
        let element = locations.record(key, 0.into(), at(3, 5));
        assert!(field.is_some() && element.is_some());
        assert_eq!(locations.locate(&[]), at(1, 1));
        assert_eq!(locations.locate(&[json!(0), json!("struct.A")]), at(1, 3));
        // A key that reads like an index is not that index.
        assert_eq!(
            locations.locate(&[json!(0), json!("struct.A"), json!("0")]),
            at(2, 5)
        );
        assert_eq!(
            locations.locate(&[json!(0), json!("struct.A"), json!(0)]),
            at(3, 5)
        );
        for unknown in [
            json!([1]),
            json!([0, "struct.B"]),
            json!([0, null]),
            json!([0.0]),
        ] {
            let path = unknown.as_array().expect("a path");
            assert_eq!(locations.locate(path), Location::START, "{unknown}");
        }
    }

    #[test]
    fn a_repeated_child_keeps_its_first_location() {
        let mut locations = Locations::new(at(1, 1));
        assert!(locations.record(NodeId::ROOT, 0.into(), at(1, 2)).is_some());
        assert!(locations.record(NodeId::ROOT, 0.into(), at(9, 9)).is_none());
        assert_eq!(locations.locate(&[json!(0)]), at(1, 2));
    }

    #[test]
    fn each_node_stores_only_its_own_key() {
        let long = "k".repeat(10_000);
        let mut locations = Locations::new(at(1, 1));
        let def = locations.record(NodeId::ROOT, 0.into(), at(1, 2));
        let key = def.and_then(|def| locations.record(def, long.clone().into(), at(1, 3)));
        let key = key.expect("new");
        for i in 0..1_000 {
            locations.record(key, i.into(), at(1, 10_006 + 2 * i));
        }
        assert_eq!(locations.stored_key_bytes(), long.len());
        let last = [json!(0), json!(long), json!(999)];
        assert_eq!(locations.locate(&last), at(1, 12_004));
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_in_json_as_in_yaml() {
        // Old Mac line ends: YAML (and the reference, for JSON too) starts a line at
        // each `\r`, and at a `\r\n` once.
        let path = [json!(0), json!("struct.A"), json!("x")];
        for (text, at_x) in [
            ("[\r{\"struct.A\": {\r  \"x\": \"foo\"}}]", at(3, 3)),
            ("[\r\n{\"struct.A\": {\r\n  \"x\": \"foo\"}}]", at(3, 3)),
        ] {
            let json = json_locations(text).expect("scanned");
            let yaml = yaml_locations(text).expect("scanned");
            assert_eq!(json.locate(&path), at_x, "{text:?}");
            assert_eq!(yaml.locate(&path), at_x, "{text:?}");
        }
    }

    #[test]
    fn scanning_stores_each_key_once_however_deep_its_descendants() {
        let long = "k".repeat(50_000);
        let items = vec!["1"; 10_000].join(",");
        let text = format!("[{{\"{long}\": [{items}]}}]");
        let last = [json!(0), json!(long), json!(9_999)];
        for locations in [json_locations(&text), yaml_locations(&text)] {
            let locations = locations.expect("scanned");
            assert_eq!(locations.stored_key_bytes(), long.len());
            // The last item is just before `]}]`, at the end.
            assert_eq!(locations.locate(&last), at(1, text.len() - 3));
        }
    }
}
