//! The serde impls of generated types, written through a few generic helpers rather
//! than derived: serde's derive expands a struct into a field enum, two visitors and a
//! sequence form, and for a large schema that expansion was most of the time `cargo
//! check` spent on the generated module after an edit. What they read and write is what
//! the derive would: the same keys, `skip_serializing_if` for optional fields, unknown
//! keys ignored, and the derive's errors for a missing or repeated field or an unknown
//! tag.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};
use serde::{Deserialize, Deserializer, Serialize};

/// Writes the fields of a generated struct.
#[derive(Debug)]
pub struct StructWriter<S>(S);

/// Starts writing the struct `name` with `len` fields (those to be skipped not counted).
///
/// # Errors
///
/// The serializer's error when it cannot start the struct.
pub fn write_struct<S: Serializer>(
    serializer: S,
    name: &'static str,
    len: usize,
) -> Result<StructWriter<S::SerializeStruct>, S::Error> {
    serializer.serialize_struct(name, len).map(StructWriter)
}

impl<S: SerializeStruct> StructWriter<S> {
    /// Writes a field that is always present.
    ///
    /// # Errors
    ///
    /// The serializer's error for `value`.
    pub fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, value)
    }

    /// Writes an optional field when it is set (as an `Option`, as the derive does, for
    /// formats that mark `Some`), and skips it when not.
    ///
    /// # Errors
    ///
    /// The serializer's error for the value, when set.
    pub fn optional<T: Serialize>(
        &mut self,
        key: &'static str,
        value: &Option<T>,
    ) -> Result<(), S::Error> {
        match value {
            Some(_) => self.0.serialize_field(key, value),
            None => self.0.skip_field(key),
        }
    }

    /// Ends the struct.
    ///
    /// # Errors
    ///
    /// The serializer's error when it cannot end the struct.
    pub fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

/// A generated struct read from a map: generated code implements it and calls
/// [`deserialize_struct`] from its `Deserialize` impl.
pub trait DeserializeStruct: Sized {
    /// The Rust name, for messages (`struct Shift`).
    const NAME: &'static str;
    /// The keys, as on the wire.
    const FIELDS: &'static [&'static str];

    /// The index of `key` in [`FIELDS`](Self::FIELDS) (a `match`, which compiles to
    /// fewer comparisons than a search).
    fn field_index(key: &str) -> Option<usize>;

    /// Reads the fields from `map` (see [`Self::next_field`], [`read_field`]).
    ///
    /// # Errors
    ///
    /// The map's error: a value that does not read as its field's type, a field given
    /// twice or a required one missing (see [`read_field`] and [`required`]).
    fn read_fields<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;

    /// The index in [`FIELDS`](Self::FIELDS) of the next key of `map`, skipping keys
    /// (and their values) that are not there; `None` at the end of the map.
    ///
    /// # Errors
    ///
    /// The map's error for a key that does not read as an identifier, or a skipped value
    /// that cannot be read past.
    fn next_field<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<usize>, A::Error> {
        while let Some(key) = map.next_key_seed(KeyIndex::<Self>(PhantomData))? {
            match key {
                Some(index) => return Ok(Some(index)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(None)
    }
}

/// Reads the generated struct `T`.
///
/// # Errors
///
/// `D::Error` when the input is neither a map nor a sequence of the fields in order,
/// or a field does not read (see [`DeserializeStruct::read_fields`]).
pub fn deserialize_struct<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: DeserializeStruct,
    D: Deserializer<'de>,
{
    deserializer.deserialize_struct(T::NAME, T::FIELDS, StructVisitor(PhantomData))
}

struct StructVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeStruct> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read_fields(map)
    }

    /// A struct written as a sequence of its fields' values in order, as formats such as
    /// bincode write structs. Every field must be there: a format that skips an absent
    /// optional field cannot be read back this way (nor with the derive). One past the
    /// end reads as a unit value, which only a nullable or `any` field takes.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::read_fields(SeqFields {
            seq,
            next: 0,
            name: T::NAME,
            fields: T::FIELDS,
        })
    }
}

/// Whether the struct key `key` names an optional field: by the protocol's rule, a
/// struct's optional fields end in `!`, and every header is optional.
fn is_optional(key: &str) -> bool {
    key.ends_with('!') || key.starts_with('@')
}

/// Hands its seed to the first deserializer it is given, leaving it in place when the
/// sequence had no element left to give.
struct SeedOnce<'a, S>(&'a mut Option<S>);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for SeedOnce<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        match self.0.take() {
            Some(seed) => seed.deserialize(deserializer),
            None => Err(de::Error::custom("a field read twice")),
        }
    }
}

/// A sequence of field values read as a map whose keys are the fields in order.
struct SeqFields<A> {
    seq: A,
    next: usize,
    name: &'static str,
    fields: &'static [&'static str],
}

impl<'de, A: SeqAccess<'de>> MapAccess<'de> for SeqFields<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if self.next == self.fields.len() {
            return Ok(None);
        }
        let index = self.next as u64;
        seed.deserialize(de::value::U64Deserializer::new(index))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let index = self.next;
        self.next += 1;
        let mut seed = Some(seed);
        let value = self.seq.next_element_seed(SeedOnce(&mut seed))?;
        match (value, seed) {
            (Some(value), _) => Ok(value),
            // An optional field past the end, as its type reads a unit value.
            (None, Some(seed)) if is_optional(self.fields[index]) => {
                seed.deserialize(de::value::UnitDeserializer::new())
            }
            (None, _) => {
                let expected = format!("struct {} with {} elements", self.name, self.fields.len());
                Err(de::Error::invalid_length(index, &expected.as_str()))
            }
        }
    }
}

/// Reads the value of the field `key` into `slot`; a second value for it is an error.
///
/// # Errors
///
/// `A::Error`: a duplicate-field error when `slot` holds a value already, else the
/// error of a value that does not read as a `T`.
pub fn read_field<'de, T, A>(
    map: &mut A,
    slot: &mut Option<T>,
    key: &'static str,
) -> Result<(), A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(key));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// Reads the value of the optional field `key` as present: the field's type is
/// `Option<T>`, so `None` means absent and only absent, and a `null` reads as `T`
/// reads it (`None` of a nullable `Option<U>`, `Value::Null` of `any`, or an error,
/// as the validator refuses `null` where the type is not nullable).
///
/// # Errors
///
/// As [`read_field`].
pub fn read_present<'de, T, A>(
    map: &mut A,
    slot: &mut Option<Option<T>>,
    key: &'static str,
) -> Result<(), A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(key));
    }
    *slot = Some(Some(map.next_value()?));
    Ok(())
}

/// The value read for the required field `key`.
///
/// # Errors
///
/// A missing-field error for `key` when `slot` is `None`.
pub fn required<T, E: de::Error>(slot: Option<T>, key: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(key))
}

/// A generated union (or function result) read from a one-key map: generated code
/// implements it and calls [`deserialize_union`] from its `Deserialize` impl.
pub trait DeserializeUnion: Sized {
    /// The Rust name, for messages (`enum Auth`).
    const NAME: &'static str;
    /// The tags, as on the wire.
    const TAGS: &'static [&'static str];

    /// The index of `tag` in [`TAGS`](Self::TAGS).
    ///
    /// A search, where [`DeserializeStruct::field_index`] is a `match`: a union value
    /// reads one tag, and generating a `match` for every union (each function's result
    /// among them, with every error tag it may answer) made up a large part of the
    /// code rustc checks for a big API.
    fn tag_index(tag: &str) -> Option<usize> {
        Self::TAGS.iter().position(|known| *known == tag)
    }

    /// Reads the payload of the tag `TAGS[index]`.
    ///
    /// # Errors
    ///
    /// The payload's error when it does not read as the tag's type; [`unknown_tag`]'s for
    /// an index past [`TAGS`](Self::TAGS).
    fn read_payload<'de, A: de::VariantAccess<'de>>(
        index: usize,
        payload: A,
    ) -> Result<Self, A::Error>;
}

/// Reads the generated union `T`.
///
/// # Errors
///
/// `D::Error` when the input is not a one-key map (an enum), its tag is not one of
/// `T::TAGS`, or its payload does not read (see [`DeserializeUnion::read_payload`]).
pub fn deserialize_union<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: DeserializeUnion,
    D: Deserializer<'de>,
{
    deserializer.deserialize_enum(T::NAME, T::TAGS, UnionVisitor(PhantomData))
}

struct UnionVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeUnion> Visitor<'de> for UnionVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enum {}", T::NAME)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
        let (index, payload) = data.variant_seed(TagIndex::<T>(PhantomData))?;
        T::read_payload(index, payload)
    }
}

/// The error for a tag index [`DeserializeUnion::read_payload`] does not know; the
/// seed that found the index only answers with known ones.
pub fn unknown_tag<E: de::Error>(index: usize, tags: &'static [&'static str]) -> E {
    E::invalid_value(
        de::Unexpected::Unsigned(index as u64),
        &format!("a tag index below {}", tags.len()).as_str(),
    )
}

/// Reads a struct key as its index in `T::FIELDS`, or `None` when it is not one of
/// them.
struct KeyIndex<T>(PhantomData<T>);

impl<'de, T: DeserializeStruct> DeserializeSeed<'de> for KeyIndex<T> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<T: DeserializeStruct> Visitor<'_> for KeyIndex<T> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field identifier")
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<Self::Value, E> {
        Ok(usize::try_from(index)
            .ok()
            .filter(|&index| index < T::FIELDS.len()))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(T::field_index(key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Self::Value, E> {
        Ok(std::str::from_utf8(key).ok().and_then(T::field_index))
    }
}

/// Reads a union tag as its index in `T::TAGS`; any other tag is an error.
struct TagIndex<T>(PhantomData<T>);

impl<'de, T: DeserializeUnion> DeserializeSeed<'de> for TagIndex<T> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<T: DeserializeUnion> Visitor<'_> for TagIndex<T> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a variant identifier")
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<usize, E> {
        usize::try_from(index)
            .ok()
            .filter(|&index| index < T::TAGS.len())
            .ok_or_else(|| {
                E::invalid_value(
                    de::Unexpected::Unsigned(index),
                    &format!("variant index 0 <= i < {}", T::TAGS.len()).as_str(),
                )
            })
    }

    fn visit_str<E: de::Error>(self, tag: &str) -> Result<usize, E> {
        T::tag_index(tag).ok_or_else(|| E::unknown_variant(tag, T::TAGS))
    }

    fn visit_bytes<E: de::Error>(self, tag: &[u8]) -> Result<usize, E> {
        match std::str::from_utf8(tag) {
            Ok(tag) => self.visit_str(tag),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(tag), &self)),
        }
    }
}

#[cfg(test)]
mod tests;
