//! A message's headers: a small ordered map from `@`-names to JSON values.
//!
//! A call carries a handful of headers, which every stage of the server reads by name
//! (the auth hook, middleware, validation, the typed route). Kept in a list and found by
//! comparing names, they cost one allocation and no hashing; a message with many headers
//! moves them into an indexed map, so that no request costs more per header than a hash
//! map would.
//!
//! A header the schema declares may be kept as its text, checked against its type as
//! the request was read (see [`Slot`]): credentials in `@auth_`, say, which the auth
//! hook reads straight into its own types ([`Headers::get_as`]) and nothing else needs
//! as JSON values.

use std::borrow::Cow;
use std::fmt;
use std::ops::Index;

use bytes::Bytes;

use serde::de::value::MapDeserializer;
use serde::de::{Deserialize, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use slot::{Checked, Slot};

use crate::router::TypedHeader;

mod slot;

/// A header's name: borrowed when it is known when the program is written (`"@id_"`),
/// owned when it was read from a message.
pub type HeaderName = Cow<'static, str>;

/// Up to this many headers stay in a list; more are moved into an indexed map.
const LISTED: usize = 16;

/// Message headers: `@`-prefixed names to JSON values, in the order first inserted.
///
/// The API is a map's, as `serde_json::Map`'s is: inserting a name already present
/// replaces its value in place, and the last of repeated names read from JSON wins.
/// Two header sets are equal when they hold the same names with equal values, in any
/// order.
#[derive(Clone)]
pub struct Headers(Repr);

#[derive(Clone)]
enum Repr {
    Listed(Vec<(HeaderName, Slot)>),
    /// Boxed: the list is what every message carries, and moves through the server in
    /// each future that holds a message.
    Indexed(Box<Map<String, Value>>),
}

impl Headers {
    /// No headers; nothing allocated.
    pub const fn new() -> Self {
        Headers(Repr::Listed(Vec::new()))
    }

    /// No headers, with room for `capacity` of them.
    pub fn with_capacity(capacity: usize) -> Self {
        Headers(Repr::Listed(Vec::with_capacity(capacity.min(LISTED))))
    }

    /// How many headers there are.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Listed(list) => list.len(),
            Repr::Indexed(map) => map.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of header `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&Value> {
        match &self.0 {
            Repr::Listed(list) => list
                .iter()
                .find_map(|(listed, slot)| (listed == name).then(|| slot.value())),
            Repr::Indexed(map) => map.get(name),
        }
    }

    /// Header `name` as a `T`: the value read with the request when the server reads
    /// the header into a `T` ([`ServerBuilder::typed_header`], borrowed); otherwise
    /// read now, from the header's text when it was kept as read (without building its
    /// JSON values), from its values else.
    ///
    /// [`ServerBuilder::typed_header`]: crate::ServerBuilder::typed_header
    pub fn get_as<T>(&self, name: &str) -> Option<Result<Cow<'_, T>, serde_json::Error>>
    where
        T: DeserializeOwned + Clone + 'static,
    {
        match &self.0 {
            Repr::Listed(list) => list
                .iter()
                .find_map(|(listed, slot)| (listed == name).then(|| slot.read_as())),
            Repr::Indexed(map) => map.get(name).map(read_value),
        }
    }

    /// The value of header `name`, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match &mut self.0 {
            Repr::Listed(list) => list
                .iter_mut()
                .find_map(|(listed, slot)| (listed == name).then(|| slot.value_mut()))
                .flatten(),
            Repr::Indexed(map) => map.get_mut(name),
        }
    }

    /// Whether header `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        match &self.0 {
            Repr::Listed(list) => list.iter().any(|(listed, _)| listed == name),
            Repr::Indexed(map) => map.contains_key(name),
        }
    }

    /// Sets header `name` to `value`, returning the value it replaced. A new name goes
    /// last; a name already present keeps its place.
    pub fn insert(&mut self, name: impl Into<HeaderName>, value: Value) -> Option<Value> {
        self.put(name.into(), Slot::Value(value))
    }

    /// Keeps header `name` as `text`, one JSON value already checked against the type
    /// the schema declares for it: read into values only when asked.
    pub(crate) fn insert_checked(
        &mut self,
        name: HeaderName,
        text: Bytes,
        typed: Option<TypedHeader>,
    ) {
        self.put(name, Slot::Checked(Checked::new(text, typed)));
    }

    fn put(&mut self, name: HeaderName, slot: Slot) -> Option<Value> {
        match &mut self.0 {
            Repr::Listed(list) => {
                if let Some((_, old)) = list.iter_mut().find(|(listed, _)| *listed == name) {
                    return Some(std::mem::replace(old, slot).into_value());
                }
                if list.len() < LISTED {
                    list.push((name, slot));
                    return None;
                }
                let mut map: Map<String, Value> = std::mem::take(list)
                    .into_iter()
                    .map(|(name, slot)| (name.into_owned(), slot.into_value()))
                    .collect();
                map.insert(name.into_owned(), slot.into_value());
                self.0 = Repr::Indexed(Box::new(map));
                None
            }
            Repr::Indexed(map) => map.insert(name.into_owned(), slot.into_value()),
        }
    }

    /// Removes header `name`, returning its value. The others keep their order.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        match &mut self.0 {
            Repr::Listed(list) => {
                let at = list.iter().position(|(listed, _)| listed == name)?;
                Some(list.remove(at).1.into_value())
            }
            Repr::Indexed(map) => map.shift_remove(name),
        }
    }

    /// Keeps only the headers for which `keep` says so.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        match &mut self.0 {
            Repr::Listed(list) => {
                list.retain_mut(|(name, slot)| slot.value_mut().is_none_or(|v| keep(name, v)));
            }
            Repr::Indexed(map) => map.retain(|name, value| keep(name, value)),
        }
    }

    /// Removes every header.
    pub fn clear(&mut self) {
        *self = Headers::new();
    }

    /// The headers, in order.
    pub fn iter(&self) -> HeadersIter<'_> {
        HeadersIter(match &self.0 {
            Repr::Listed(list) => IterRepr::Listed(list.iter()),
            Repr::Indexed(map) => IterRepr::Indexed(map.iter()),
        })
    }

    /// The header names, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.iter().map(|(name, _)| name)
    }

    /// The header values, in order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> {
        self.iter().map(|(_, value)| value)
    }

    /// The limit a request's `@time_` sets on its call: a positive whole number of
    /// milliseconds. None for `0` (which sets no limit, as the server reads it), a
    /// negative number, a fraction or anything else: the server and the client then
    /// keep their own limits alike.
    pub(crate) fn time_limit(&self) -> Option<std::time::Duration> {
        self.get("@time_")
            .and_then(Value::as_u64)
            .filter(|millis| *millis > 0)
            .map(std::time::Duration::from_millis)
    }

    /// The headers in order, each value `None` when it was checked against the schema
    /// as the request was read (and has not changed since): what validation has left to
    /// check, without reading checked text into values.
    pub(crate) fn unchecked(&self) -> impl Iterator<Item = (&str, Option<&Value>)> {
        let (list, map) = match &self.0 {
            Repr::Listed(list) => (Some(list), None),
            Repr::Indexed(map) => (None, Some(&**map)),
        };
        let listed = list.into_iter().flatten().map(|(name, slot)| {
            let value = match slot {
                Slot::Value(value) => Some(value),
                Slot::Checked(_) => None,
            };
            (&**name, value)
        });
        let indexed = map
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.as_str(), Some(value)));
        listed.chain(indexed)
    }

    /// Reads the headers as a `T`, such as a schema's generated `RequestHeaders`, in
    /// place: nothing is copied into a JSON value first. Headers `T` does not name are
    /// ignored, as a struct's unknown fields are.
    ///
    /// # Errors
    ///
    /// The [`serde_json::Error`] of `T`'s `Deserialize`: a header `T` requires is missing,
    /// or one it names holds a value of another shape.
    pub fn read_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        T::deserialize(self.deserializer())
    }

    /// The headers as a map to deserialize from, as [`read_as`](Self::read_as) reads them.
    pub(crate) fn deserializer(
        &self,
    ) -> impl serde::Deserializer<'_, Error = serde_json::Error> + '_ {
        MapDeserializer::<_, serde_json::Error>::new(self.iter())
    }

    /// As [`deserializer`](Self::deserializer), leaving out the header `left_out`.
    pub(crate) fn deserializer_without<'a>(
        &'a self,
        left_out: &'a str,
    ) -> impl serde::Deserializer<'a, Error = serde_json::Error> + 'a {
        let kept = self.iter().filter(move |(name, _)| *name != left_out);
        MapDeserializer::<_, serde_json::Error>::new(kept)
    }
}

impl Default for Headers {
    fn default() -> Self {
        Headers::new()
    }
}

/// `@auth_` is shown as its credential's kind alone (`Password(***)`), as the client's
/// `AuthValue` is: a middleware that logs a request with `{:?}` must not log the
/// password or token the client sent.
impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.iter() {
            match name {
                AUTH => map.entry(&name, &Credential(value)),
                _ => map.entry(&name, value),
            };
        }
        map.finish()
    }
}

/// The header that carries the client's credentials.
const AUTH: &str = "@auth_";

/// An `@auth_` value, shown without its contents.
struct Credential<'a>(&'a Value);

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_object().and_then(|union| union.keys().next()) {
            Some(kind) => write!(f, "{kind}(***)"),
            None => f.write_str("***"),
        }
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(name, value)| other.get(name) == Some(value))
    }
}

impl PartialEq<Map<String, Value>> for Headers {
    fn eq(&self, other: &Map<String, Value>) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(name, value)| other.get(name) == Some(value))
    }
}

impl Eq for Headers {}

/// The value of header `name`; panics when there is none, as a map's index does.
impl Index<&str> for Headers {
    type Output = Value;

    fn index(&self, name: &str) -> &Value {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no header {name:?}"),
        }
    }
}

impl<N: Into<HeaderName>> Extend<(N, Value)> for Headers {
    fn extend<I: IntoIterator<Item = (N, Value)>>(&mut self, headers: I) {
        for (name, value) in headers {
            self.insert(name, value);
        }
    }
}

impl<N: Into<HeaderName>> FromIterator<(N, Value)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, Value)>>(headers: I) -> Self {
        let mut all = Headers::new();
        all.extend(headers);
        all
    }
}

impl From<Map<String, Value>> for Headers {
    fn from(map: Map<String, Value>) -> Self {
        if map.len() > LISTED {
            return Headers(Repr::Indexed(Box::new(map)));
        }
        Headers(Repr::Listed(
            map.into_iter()
                .map(|(name, value)| (Cow::Owned(name), Slot::Value(value)))
                .collect(),
        ))
    }
}

impl From<Headers> for Map<String, Value> {
    fn from(headers: Headers) -> Self {
        match headers.0 {
            Repr::Listed(list) => list
                .into_iter()
                .map(|(name, slot)| (name.into_owned(), slot.into_value()))
                .collect(),
            Repr::Indexed(map) => *map,
        }
    }
}

impl From<Headers> for Value {
    fn from(headers: Headers) -> Self {
        Value::Object(headers.into())
    }
}

/// The headers, in order, by value.
impl IntoIterator for Headers {
    type Item = (HeaderName, Value);
    type IntoIter = HeadersIntoIter;

    fn into_iter(self) -> HeadersIntoIter {
        HeadersIntoIter(match self.0 {
            Repr::Listed(list) => IntoIterRepr::Listed(list.into_iter()),
            Repr::Indexed(map) => IntoIterRepr::Indexed(map.into_iter()),
        })
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a Value);
    type IntoIter = HeadersIter<'a>;

    fn into_iter(self) -> HeadersIter<'a> {
        self.iter()
    }
}

/// The headers of a [`Headers`], in order: `(name, value)`.
pub struct HeadersIter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Listed(std::slice::Iter<'a, (HeaderName, Slot)>),
    Indexed(serde_json::map::Iter<'a>),
}

impl<'a> Iterator for HeadersIter<'a> {
    type Item = (&'a str, &'a Value);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterRepr::Listed(list) => list.next().map(|(name, slot)| (&**name, slot.value())),
            IterRepr::Indexed(map) => map.next().map(|(name, value)| (name.as_str(), value)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IterRepr::Listed(list) => list.size_hint(),
            IterRepr::Indexed(map) => map.size_hint(),
        }
    }
}

impl ExactSizeIterator for HeadersIter<'_> {}

impl fmt::Debug for HeadersIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeadersIter({} left)", self.len())
    }
}

/// The headers of a [`Headers`] by value, in order.
pub struct HeadersIntoIter(IntoIterRepr);

enum IntoIterRepr {
    Listed(std::vec::IntoIter<(HeaderName, Slot)>),
    Indexed(serde_json::map::IntoIter),
}

impl Iterator for HeadersIntoIter {
    type Item = (HeaderName, Value);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IntoIterRepr::Listed(list) => list.next().map(|(name, slot)| (name, slot.into_value())),
            IntoIterRepr::Indexed(map) => map.next().map(|(name, value)| (Cow::Owned(name), value)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            IntoIterRepr::Listed(list) => list.size_hint(),
            IntoIterRepr::Indexed(map) => map.size_hint(),
        }
    }
}

impl ExactSizeIterator for HeadersIntoIter {}

impl fmt::Debug for HeadersIntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HeadersIntoIter({} left)", self.len())
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeadersVisitor { room: 0 })
    }
}

/// Reads a JSON object into [`Headers`], keeping `room` spare places when it has any
/// header (for headers added later, such as the auth hook's).
pub(crate) struct HeadersVisitor {
    pub(crate) room: usize,
}

impl<'de> Visitor<'de> for HeadersVisitor {
    type Value = Headers;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map of headers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Headers, A::Error> {
        // No headers, nothing to add to: nothing is allocated.
        let Some((name, value)) = entries.next_entry::<String, Value>()? else {
            return Ok(Headers::new());
        };
        let expected = entries.size_hint().unwrap_or(0);
        let mut headers = Headers::with_capacity(1 + expected + self.room);
        headers.insert(name, value);
        while let Some((name, value)) = entries.next_entry::<String, Value>()? {
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

/// `value` read into a new `T`. Out of line: headers are rarely this many.
#[inline(never)]
fn read_value<T: DeserializeOwned + Clone>(value: &Value) -> Result<Cow<'_, T>, serde_json::Error> {
    T::deserialize(value).map(Cow::Owned)
}

#[cfg(test)]
mod tests;
