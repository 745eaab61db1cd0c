//! The `@base64_` header: where a JSON message carries `bytes` values as base64 text.
//!
//! JSON has no bytes, so a server answering in JSON writes each `bytes` value as
//! base64 and names the places in `@base64_`: a tree of the body's keys whose leaves
//! are `true`, where `"*"` stands for every element of a list or every entry of a map,
//! e.g. `{"Ok_": {"blob": true, "pages": {"*": true}}}`. A binary answer carries bytes
//! as they are and has no such header. The server writes the tree with [`Base64Paths`]
//! from the body it sends (the mock's answers, generated or stubbed, included); the
//! client reads it back with [`marked_bytes`].

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::base64_text::BASE64;
use crate::message::Headers;

/// The header naming where a JSON body holds bytes.
pub(crate) const HEADER: &str = "@base64_";

/// The places of bytes values in a body, built one path at a time.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Base64Paths(Map<String, Value>);

impl Base64Paths {
    /// Marks the value at `path` (keys, with `"*"` for any element or entry) as bytes.
    pub(crate) fn mark<'a>(&mut self, path: impl IntoIterator<Item = &'a str>) {
        let path: Vec<&str> = path.into_iter().collect();
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = &mut self.0;
        for part in parents {
            let child = node
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            let Value::Object(child) = child else {
                return;
            };
            node = child;
        }
        node.insert(last.to_string(), Value::Bool(true));
    }

    /// The places a value's [`BytesBelow`] names, the value being a message's body.
    pub(crate) fn of_body(below: BytesBelow) -> Self {
        match below.0 {
            Some(Value::Object(tree)) => Base64Paths(tree),
            _ => Base64Paths::default(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tree as it goes into the header.
    #[cfg(test)]
    pub(crate) fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Puts the tree into `headers` as `@base64_`, when it names any place.
    pub(crate) fn write_header(self, headers: &mut Headers) {
        if !self.is_empty() {
            headers.insert(HEADER.to_string(), Value::Object(self.0));
        }
    }
}

/// Where a value of a binary message holds bytes, as its `@base64_` tree would name
/// them: `true` for bytes, keys (`"*"` for a list's items) to the places below. Built
/// from the leaves up, a list's items joined into one `"*"`, so each place is written
/// once: marking each bytes value's whole path from the root made 200,000 empty
/// binaries in a list 110 maps deep take a client 8 s.
#[derive(Debug, Default)]
pub(crate) struct BytesBelow(Option<Value>);

impl BytesBelow {
    /// Whether the value holds bytes.
    pub(crate) fn holds_bytes(&self) -> bool {
        self.0.is_some()
    }

    /// A value that is bytes.
    pub(crate) fn here() -> Self {
        BytesBelow(Some(Value::Bool(true)))
    }

    /// Joins in the places of a list's next item, or of a map's next entry under the
    /// same key. What holds bytes in one and more below them in the other is named as
    /// the later names it, as marking one path after another did.
    pub(crate) fn join(&mut self, next: BytesBelow) {
        match (&mut self.0, next.0) {
            (_, None) => {}
            (Some(Value::Object(tree)), Some(Value::Object(next))) => {
                for (key, below) in next {
                    BytesBelow::join_at(tree, &key, BytesBelow(Some(below)));
                }
            }
            (place, next) => *place = next,
        }
    }

    /// Joins `below` in under `key` of a map's places; the key is copied only when
    /// the entry holds bytes and the key is new.
    pub(crate) fn join_at(tree: &mut Map<String, Value>, key: &str, below: BytesBelow) {
        let Some(next) = below.0 else {
            return;
        };
        match tree.get_mut(key) {
            Some(place) => {
                let mut joined = BytesBelow(Some(std::mem::take(place)));
                joined.join(BytesBelow(Some(next)));
                *place = joined.0.unwrap_or_default();
            }
            None => {
                tree.insert(key.to_owned(), next);
            }
        }
    }

    /// The places in a list whose items' places are joined in `every`.
    pub(crate) fn in_list(every: BytesBelow) -> Self {
        BytesBelow(every.0.map(|every| serde_json::json!({ "*": every })))
    }

    /// The places in a map whose entries' places are `tree`.
    fn in_map(tree: Map<String, Value>) -> Self {
        BytesBelow((!tree.is_empty()).then_some(Value::Object(tree)))
    }
}

/// The places of a map's entries, gathered an entry at a time. An entry under the key
/// `"*"` is named only where every other entry holds bytes at the same places: the
/// header's `"*"` names every entry, so it would name a text beside it as bytes.
#[derive(Debug, Default)]
pub(crate) struct MapPlaces {
    tree: Map<String, Value>,
    entries: usize,
    star: Option<Value>,
}

impl MapPlaces {
    /// Adds the places of the entry under `key`.
    pub(crate) fn add(&mut self, key: &str, below: BytesBelow) {
        self.entries += 1;
        if key == "*" {
            self.star = below.0;
        } else {
            BytesBelow::join_at(&mut self.tree, key, below);
        }
    }

    /// The places in the map.
    pub(crate) fn finish(self) -> BytesBelow {
        let MapPlaces {
            mut tree,
            entries,
            star,
        } = self;
        if let Some(star) = star {
            // Keys repeated in the map count once in `tree`, and then `"*"` is left out.
            let others = entries - 1;
            if tree.len() == others && tree.values().all(|places| *places == star) {
                tree.insert("*".to_owned(), star);
            }
        }
        BytesBelow::in_map(tree)
    }
}

/// One `bytes` value of a JSON message, found through its `@base64_` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedBytes {
    /// Where the value sits in the body: keys, and list indexes as decimal text.
    pub path: Vec<String>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

/// A `@base64_` header that does not fit its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("@base64_ does not fit the body at {path:?}: {problem}")]
pub struct Base64HeaderError {
    /// Where in the body the header and the body disagree.
    pub path: Vec<String>,
    /// What is wrong there.
    pub problem: &'static str,
}

/// The bytes values a JSON message's `@base64_` header names, decoded, in body
/// order. A message without the header has none; `null` at a named place is skipped,
/// as a nullable `bytes` value may be `null`.
///
/// Below a `"*"` the tree names the places of every element together: a union tag or
/// an optional field that holds bytes in one element may be missing from another, and
/// an element of a nullable type may be `null`. There, a missing key or a `null` is
/// passed over; elsewhere the header must fit the body.
pub(crate) fn marked_bytes(
    headers: &Headers,
    body: &Map<String, Value>,
) -> Result<Vec<MarkedBytes>, Base64HeaderError> {
    let mut found = Vec::new();
    walk(headers, body, Some(&mut found))?;
    Ok(found)
}

/// Whether a JSON message's `@base64_` header fits its body and names base64 text
/// alone, without keeping what it names: a value's path is copied for each bytes value
/// found, which from a long list of empty strings deep in a body would be many times
/// the message's size. Each body value is checked once, however many ways the header
/// names it (see `Places`).
pub(crate) fn check_marked_bytes(
    headers: &Headers,
    body: &Map<String, Value>,
) -> Result<(), Base64HeaderError> {
    walk(headers, body, None)
}

fn walk(
    headers: &Headers,
    body: &Map<String, Value>,
    found: Option<&mut Vec<MarkedBytes>>,
) -> Result<(), Base64HeaderError> {
    let Some(tree) = headers.get(HEADER) else {
        return Ok(());
    };
    Walk::new(tree, found).run(body)
}

/// A node of the header's tree that names a place of the body.
#[derive(Clone, Copy)]
struct Naming<'h> {
    tree: &'h Value,
    /// Whether a `"*"` stands above it: it names the places of every element together.
    below_wildcard: bool,
}

/// What a body value is, for the problems a naming finds with it.
#[derive(Clone, Copy)]
enum Kind {
    Null,
    Text,
    Scalar,
    List,
    Object,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Null,
        Kind::Text,
        Kind::Scalar,
        Kind::List,
        Kind::Object,
    ];

    fn of(value: &Value) -> Kind {
        match value {
            Value::Null => Kind::Null,
            Value::String(_) => Kind::Text,
            Value::Bool(_) | Value::Number(_) => Kind::Scalar,
            Value::Array(_) => Kind::List,
            Value::Object(_) => Kind::Object,
        }
    }
}

impl Naming<'_> {
    /// What is wrong with a value of `kind` at the place this names, besides a strict
    /// object's missing keys and text that is not base64.
    fn problem(self, kind: Kind) -> Option<&'static str> {
        match (self.tree, kind) {
            (Value::Bool(true), Kind::Null | Kind::Text) => None,
            (Value::Bool(true), _) => Some("the value is not a string"),
            (Value::Object(tree), Kind::List) if tree.len() == 1 && tree.contains_key("*") => None,
            (Value::Object(_), Kind::List) => Some("a list is named by a key other than \"*\""),
            (Value::Object(_), Kind::Object) => None,
            (Value::Object(_), Kind::Null) if self.below_wildcard => None,
            (Value::Object(_), _) => Some("the value is neither a list nor an object"),
            _ => Some("a place is neither true nor an object"),
        }
    }
}

/// The header's nodes that name one place of the body, with what they ask of its
/// value. The items of a list share one, and so do the entries under one key of a
/// list's objects: a tree that names a list several ways (`{"*": t, "a": t}` at each of
/// ten levels names it 1,024 ways) is followed once per body value, not once per way,
/// which took a client 18 s over a 171 KB answer.
struct Places<'h> {
    namings: Vec<Naming<'h>>,
    /// The first problem a value of each [`Kind`] meets.
    problems: [Option<&'static str>; 5],
    /// Whether a naming is `true`: text there must be base64.
    holds_bytes: bool,
    /// The places of a list's items, and of entries no key names (built when first met).
    every: Option<usize>,
    /// The places of the entries each key names (built when first met).
    keyed: HashMap<&'h str, usize>,
}

impl<'h> Places<'h> {
    fn new(namings: Vec<Naming<'h>>) -> Self {
        let problems = Kind::ALL.map(|kind| namings.iter().find_map(|n| n.problem(kind)));
        let holds_bytes = namings.iter().any(|n| n.tree == &Value::Bool(true));
        Places {
            namings,
            problems,
            holds_bytes,
            every: None,
            keyed: HashMap::new(),
        }
    }

    /// The namings of an object's entries under `key` (other than `"*"`), with the
    /// header's own copy of the key; `None` when no naming names it.
    fn named(&self, key: &str) -> Option<(&'h str, Vec<Naming<'h>>)> {
        if key == "*" {
            return None;
        }
        let mut own_key = None;
        let mut named = Vec::new();
        for naming in &self.namings {
            let Some((key, below)) = naming.tree.as_object().and_then(|t| t.get_key_value(key))
            else {
                continue;
            };
            own_key = Some(key.as_str());
            named.push(Naming {
                tree: below,
                below_wildcard: naming.below_wildcard,
            });
        }
        Some((own_key?, named))
    }

    /// The namings below a `"*"`, which name every element's place.
    fn below_wildcards(&self) -> impl Iterator<Item = Naming<'h>> + '_ {
        self.namings.iter().filter_map(|naming| {
            Some(Naming {
                tree: naming.tree.as_object()?.get("*")?,
                below_wildcard: true,
            })
        })
    }
}

/// One step of a path into the body, kept as a reference until a path is needed.
#[derive(Clone, Copy)]
enum Step<'b> {
    Key(&'b str),
    Index(usize),
}

struct Walk<'h, 'b, 'f> {
    /// Every set of namings met so far; [`Places::every`] and [`Places::keyed`] index it.
    places: Vec<Places<'h>>,
    path: Vec<Step<'b>>,
    /// Where to keep what is found; `None` only checks it.
    found: Option<&'f mut Vec<MarkedBytes>>,
    /// How many more namings may be followed: [`WORK_FLOOR`], and [`WORK_PER_VALUE`]
    /// for each list item and object entry met.
    work_left: usize,
}

/// The namings any header may have followed, however small its body.
const WORK_FLOOR: usize = 1 << 12;
/// The namings followed for each list item and object entry met. A header a server
/// writes names each place once: an entry's key is looked up in one naming or two. A
/// hostile one can name a place many ways (1,024 ways from a 20 KB header) and put
/// many keys there, each looked up in every naming; past this it is refused.
const WORK_PER_VALUE: usize = 16;

impl<'h, 'b, 'f> Walk<'h, 'b, 'f> {
    fn new(tree: &'h Value, found: Option<&'f mut Vec<MarkedBytes>>) -> Self {
        let root = Naming {
            tree,
            below_wildcard: false,
        };
        Walk {
            places: vec![Places::new(vec![root])],
            path: Vec::new(),
            found,
            work_left: WORK_FLOOR,
        }
    }

    fn run(&mut self, body: &'b Map<String, Value>) -> Result<(), Base64HeaderError> {
        if !self.places[0].namings[0].tree.is_object() {
            return Err(self.error("the header is not an object"));
        }
        self.object(0, body)
    }

    fn path(&self) -> Vec<String> {
        let text = |step: &Step<'_>| match step {
            Step::Key(key) => key.to_string(),
            Step::Index(index) => index.to_string(),
        };
        self.path.iter().map(text).collect()
    }

    fn error(&self, problem: &'static str) -> Base64HeaderError {
        Base64HeaderError {
            path: self.path(),
            problem,
        }
    }

    /// The places of a list's items.
    fn every(&mut self, of: usize) -> Result<usize, Base64HeaderError> {
        if let Some(every) = self.places[of].every {
            return Ok(every);
        }
        let namings = self.places[of].below_wildcards().collect();
        let every = self.add(namings)?;
        self.places[of].every = Some(every);
        Ok(every)
    }

    /// The places of the entries under `key` of an object.
    fn keyed(&mut self, of: usize, key: &str) -> Result<usize, Base64HeaderError> {
        if let Some(&keyed) = self.places[of].keyed.get(key) {
            return Ok(keyed);
        }
        self.spend(self.places[of].namings.len())?;
        let places = &self.places[of];
        let Some((key, named)) = places.named(key) else {
            return self.every(of);
        };
        let namings = places.below_wildcards().chain(named).collect();
        let keyed = self.add(namings)?;
        self.places[of].keyed.insert(key, keyed);
        Ok(keyed)
    }

    fn add(&mut self, namings: Vec<Naming<'h>>) -> Result<usize, Base64HeaderError> {
        self.spend(namings.len())?;
        self.places.push(Places::new(namings));
        Ok(self.places.len() - 1)
    }

    /// Adds the work a body value met allows.
    fn allow_for_value(&mut self) {
        self.work_left = self.work_left.saturating_add(WORK_PER_VALUE);
    }

    /// Counts `namings` followed against the work the message may take.
    fn spend(&mut self, namings: usize) -> Result<(), Base64HeaderError> {
        match self.work_left.checked_sub(namings) {
            Some(left) => {
                self.work_left = left;
                Ok(())
            }
            None => Err(self.error("the header names the body's places too many ways")),
        }
    }

    fn step(
        &mut self,
        step: Step<'b>,
        places: usize,
        value: &'b Value,
    ) -> Result<(), Base64HeaderError> {
        if self.places[places].namings.is_empty() {
            return Ok(());
        }
        self.path.push(step);
        self.value(places, value)?;
        self.path.pop();
        Ok(())
    }

    fn value(&mut self, places: usize, value: &'b Value) -> Result<(), Base64HeaderError> {
        if let Some(problem) = self.places[places].problems[Kind::of(value) as usize] {
            return Err(self.error(problem));
        }
        match value {
            Value::String(text) if self.places[places].holds_bytes => self.bytes(text),
            Value::Array(items) => {
                let every = self.every(places)?;
                for (index, item) in items.iter().enumerate() {
                    self.allow_for_value();
                    self.step(Step::Index(index), every, item)?;
                }
                Ok(())
            }
            Value::Object(object) => self.object(places, object),
            _ => Ok(()),
        }
    }

    /// Follows the places into an object: a key named outside any `"*"` must be there.
    fn object(
        &mut self,
        places: usize,
        object: &'b Map<String, Value>,
    ) -> Result<(), Base64HeaderError> {
        let missing = self.places[places]
            .namings
            .iter()
            .filter(|naming| !naming.below_wildcard)
            .filter_map(|naming| naming.tree.as_object())
            .flat_map(|tree| tree.keys())
            .find(|key| *key != "*" && !object.contains_key(*key));
        if let Some(key) = missing {
            let mut error = self.error("the body has no such key");
            error.path.push(key.clone());
            return Err(error);
        }
        for (key, value) in object {
            self.allow_for_value();
            let keyed = self.keyed(places, key)?;
            self.step(Step::Key(key), keyed, value)?;
        }
        Ok(())
    }

    fn bytes(&mut self, text: &str) -> Result<(), Base64HeaderError> {
        let bytes = BASE64
            .decode(text)
            .map_err(|_| self.error("the value is not base64"))?;
        if self.found.is_none() {
            return Ok(());
        }
        let marked = MarkedBytes {
            path: self.path(),
            bytes,
        };
        if let Some(found) = self.found.as_deref_mut() {
            found.push(marked);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
