//! A serde deserializer over a request's MessagePack that checks each value against
//! the schema as it reads it: how a binary request's input reaches a typed route.
//!
//! Each value's marker is read and checked against what the schema expects at its
//! place ([`Expect`]) before the typed value's visitor sees it. The rules are those of
//! the format-independent checking reader (`validate::read`, which reads JSON
//! requests through `serde_json`'s deserializer), applied to the events the value reader
//! ([`Reader::json`]) turns into JSON values: integer map keys are the encoding's names
//! (a struct's field expected next is found by its id), strings must be UTF-8, floats
//! finite. Where the value reader makes a value of another form (binary data into base64
//! text), or a check fails, this deserializer stops, and the request is read as values,
//! which says what is wrong.
//!
//! Nesting is bounded by the checking reader's scope (125 maps and lists, the
//! arguments included), the value reader's own limit at that place: JSON's, so a
//! request too deep for one is too deep for both.
//! Reading the checks and the format in one layer spares every value a second layer of
//! serde calls: a sixth of a 1,200-item typed call.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use telepact_schema::{Field, TypeKind};

use super::encoding::BinaryEncoding;
use super::read::{Head, Reader, reserved};
use crate::message::{CheckedCall, Payload};
use crate::router::TypedInputs;
use crate::validate::read::{Scope, StructSeed, map_keys, not_read, readable};
use crate::validate::{Compiled, Expect, MapKeys, NotRead};

/// Why the bytes were not read: the request is read again as values.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unread(String);

impl de::Error for Unread {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Unread(message.to_string())
    }
}

impl From<super::read::SyntaxError> for Unread {
    fn from(error: super::read::SyntaxError) -> Self {
        Unread(error.to_string())
    }
}

/// The `len` bytes of text at the reader, which must be UTF-8.
fn text<'a>(reader: &mut Reader<'a>, len: usize) -> Result<&'a str, Unread> {
    let bytes = reader.take(len)?;
    std::str::from_utf8(bytes).map_err(|_| refused())
}

#[inline(always)]
fn pass(ok: bool) -> Result<(), Unread> {
    if ok { Ok(()) } else { Err(refused()) }
}

/// Kept out of line: a refusal ends the read, and the checks stay small enough to inline.
#[cold]
#[inline(never)]
fn refused() -> Unread {
    not_read()
}

/// Reads a `T` at `reader`, which must be what `expect` says, keys through `encoding`.
pub(crate) fn read_checked_pack<'de, T: de::Deserialize<'de>>(
    reader: &mut Reader<'de>,
    encoding: &BinaryEncoding,
    compiled: &Compiled,
    expect: Expect<'_>,
) -> Result<T, NotRead> {
    let checked = CheckedPack {
        reader,
        encoding,
        expect,
        scope: Scope::root(compiled),
        own_ids: compiled.binary_checksum == encoding.checksum(),
    };
    T::deserialize(checked).map_err(|_| NotRead)
}

/// One value at the reader's position, which must be what `expect` says.
struct CheckedPack<'r, 'a, 'e, 'c> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    expect: Expect<'c>,
    scope: Scope<'c>,
    /// The encoding is the schema's own, so the field ids of the schema's tables are its.
    own_ids: bool,
}

impl<'de> CheckedPack<'_, 'de, '_, '_> {
    /// A scalar's check, then the visitor's call.
    #[inline]
    fn scalar<V: Visitor<'de>>(self, head: Head, visitor: V) -> Result<V::Value, Unread> {
        let expect = self.expect;
        match head {
            Head::Nil => {
                pass(expect.accepts_null())?;
                visitor.visit_unit()
            }
            Head::Bool(flag) => {
                pass(expect.is(&TypeKind::Boolean))?;
                visitor.visit_bool(flag)
            }
            Head::Unsigned(int) => {
                pass(expect.accepts_u64(int))?;
                visitor.visit_u64(int)
            }
            Head::Signed(int) => {
                pass(expect.accepts_i64(int))?;
                visitor.visit_i64(int)
            }
            Head::Float(float) => {
                pass(expect.accepts_float(float))?;
                visitor.visit_f64(float)
            }
            Head::Str(len) => {
                pass(expect.is(&TypeKind::String))?;
                visitor.visit_borrowed_str(text(self.reader, len)?)
            }
            Head::Bin(_) | Head::Ext(_) | Head::Array(_) | Head::Map(_) => Err(refused()),
        }
    }
}

impl<'de> Deserializer<'de> for CheckedPack<'_, 'de, '_, '_> {
    type Error = Unread;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unread> {
        pass(readable(self.expect))?;
        match self.reader.head()? {
            Head::Array(len) => {
                let Some(TypeKind::Array(item)) = self.expect.kind() else {
                    return Err(refused());
                };
                let mut items = CheckedItems {
                    reader: self.reader,
                    encoding: self.encoding,
                    left: len,
                    item: Expect::Type(item),
                    scope: self.scope.nested().ok_or_else(refused)?,
                    own_ids: self.own_ids,
                    ended: false,
                };
                let value = visitor.visit_seq(&mut items)?;
                pass(items.ended)?;
                Ok(value)
            }
            Head::Map(len) => {
                let keys = map_keys(self.expect, self.scope.compiled).ok_or_else(refused)?;
                let mut entries = CheckedEntries {
                    reader: self.reader,
                    encoding: self.encoding,
                    left: len,
                    keys,
                    value: None,
                    scope: self.scope.nested().ok_or_else(refused)?,
                    own_ids: self.own_ids,
                    ended: false,
                };
                let value = visitor.visit_map(&mut entries)?;
                pass(entries.ended_complete())?;
                Ok(value)
            }
            head => self.scalar(head, visitor),
        }
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unread> {
        pass(readable(self.expect))?;
        let mut ahead = *self.reader;
        if matches!(ahead.head()?, Head::Nil) {
            pass(self.expect.accepts_null())?;
            *self.reader = ahead;
            return visitor.visit_none();
        }
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unread> {
        pass(readable(self.expect))?;
        visitor.visit_newtype_struct(self)
    }

    /// A union is a one-key map: read as a map, handed to the visitor as an enum.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unread> {
        pass(readable(self.expect))?;
        let tags = self.expect.tags(self.scope.compiled).ok_or_else(refused)?;
        let scope = self.scope.nested().ok_or_else(refused)?;
        let Head::Map(len) = self.reader.head()? else {
            return Err(refused());
        };
        let mut entries = CheckedEntries {
            reader: self.reader,
            encoding: self.encoding,
            left: len,
            keys: MapKeys::Tag { tags, seen: false },
            value: None,
            scope,
            own_ids: self.own_ids,
            ended: false,
        };
        let value = visitor.visit_enum(CheckedEnum {
            entries: &mut entries,
        })?;
        pass(entries.left == 0)?;
        Ok(value)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Unread> {
        Err(refused())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Unread> {
        Err(refused())
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The items of an array, each checked against the item type.
struct CheckedItems<'r, 'a, 'e, 'c> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    left: usize,
    item: Expect<'c>,
    scope: Scope<'c>,
    own_ids: bool,
    /// The visitor was told there are no more items.
    ended: bool,
}

impl<'de> SeqAccess<'de> for CheckedItems<'_, 'de, '_, '_> {
    type Error = Unread;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unread> {
        if self.left == 0 {
            self.ended = true;
            return Ok(None);
        }
        self.left -= 1;
        let item = CheckedPack {
            reader: self.reader,
            encoding: self.encoding,
            expect: self.item,
            scope: self.scope,
            own_ids: self.own_ids,
        };
        seed.deserialize(item).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Never trust a declared length for an allocation: each item takes a byte.
        Some(reserved(self.left, self.reader.rest().len()))
    }
}

/// A map's entries: each key checked by [`MapKeys`], each value against what its key
/// calls for.
struct CheckedEntries<'r, 'a, 'e, 'c> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    left: usize,
    keys: MapKeys<'c>,
    /// What the value of the key just read must be.
    value: Option<Expect<'c>>,
    scope: Scope<'c>,
    own_ids: bool,
    /// The visitor was told there are no more entries.
    ended: bool,
}

impl<'c> CheckedEntries<'_, '_, '_, 'c> {
    /// Read to its end, with every key it must have.
    fn ended_complete(&self) -> bool {
        self.ended && self.keys.complete()
    }

    /// The struct field a key given as an id names, found by the id when it is the
    /// field expected next; `None` leaves the key to be looked up by name.
    #[inline]
    fn next_field_with_id(&mut self, id: u64) -> Option<&'c Field> {
        match &mut self.keys {
            MapKeys::Fields(fields) if self.own_ids => fields.next_with_id(id),
            _ => None,
        }
    }
}

impl<'de> MapAccess<'de> for CheckedEntries<'_, 'de, '_, '_> {
    type Error = Unread;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unread> {
        if self.left == 0 {
            self.ended = true;
            return Ok(None);
        }
        self.left -= 1;
        let key = match self.reader.head()? {
            Head::Str(len) => text(self.reader, len)?,
            Head::Unsigned(id) => {
                if let Some(field) = self.next_field_with_id(id) {
                    self.value = Some(Expect::Type(&field.ty));
                    return seed.deserialize(StrDeserializer::new(&field.key)).map(Some);
                }
                self.encoding.name(id).ok_or_else(refused)?
            }
            Head::Signed(id) if id >= 0 => {
                self.encoding.name(id.unsigned_abs()).ok_or_else(refused)?
            }
            _ => return Err(refused()),
        };
        self.value = Some(self.keys.value_for(key).ok_or_else(refused)?);
        seed.deserialize(StrDeserializer::<Unread>::new(key))
            .map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Unread> {
        let expect = self.value.take().ok_or_else(refused)?;
        seed.deserialize(CheckedPack {
            reader: self.reader,
            encoding: self.encoding,
            expect,
            scope: self.scope,
            own_ids: self.own_ids,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        // Each entry takes two bytes.
        Some(reserved(self.left, self.reader.rest().len() / 2))
    }
}

/// A union read from its one-key map: the tag, then its payload, then the map's end.
struct CheckedEnum<'m, 'r, 'a, 'e, 'c> {
    entries: &'m mut CheckedEntries<'r, 'a, 'e, 'c>,
}

impl<'de> EnumAccess<'de> for CheckedEnum<'_, '_, 'de, '_, '_> {
    type Error = Unread;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), Unread> {
        let tag = self.entries.next_key_seed(seed)?.ok_or_else(refused)?;
        Ok((tag, self))
    }
}

impl<'de> CheckedEnum<'_, '_, 'de, '_, '_> {
    /// Reads the payload with `seed`, then makes sure the map holds nothing more.
    fn payload<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Unread> {
        let payload = self.entries.next_value_seed(seed)?;
        let more = self.entries.next_key::<IgnoredAny>()?;
        pass(more.is_none() && self.entries.ended_complete())?;
        Ok(payload)
    }
}

impl<'de> VariantAccess<'de> for CheckedEnum<'_, '_, 'de, '_, '_> {
    type Error = Unread;

    /// The payload is still read (and checked): the tag's fields may all be optional.
    fn unit_variant(self) -> Result<(), Unread> {
        self.payload(PhantomData::<IgnoredAny>).map(drop)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Unread> {
        self.payload(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Unread> {
        Err(refused())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unread> {
        self.payload(StructSeed { fields, visitor })
    }
}

/// Reads a request body `{function: payload}` at `reader` when `function` is a typed
/// route's: its input, read and checked in one pass. `None` for any other body, or a
/// payload the typed route's reader does not read; the caller then reads the body as
/// values from where it started.
pub(super) fn read_call(
    reader: &mut Reader<'_>,
    encoding: &Arc<BinaryEncoding>,
    inputs: TypedInputs<'_>,
) -> Option<CheckedCall> {
    if !matches!(reader.head().ok()?, Head::Map(1)) {
        return None;
    }
    let (read, args, id) = match reader.head().ok()? {
        Head::Str(len) => inputs.reader(text(reader, len).ok()?)?,
        Head::Unsigned(id) => inputs.reader(encoding.name(id)?)?,
        _ => return None,
    };
    let start = reader.rest();
    let call = (read.binary)(reader, encoding, inputs.compiled, args).ok()?;
    let payload = &start[..start.len() - reader.rest().len()];
    let payload = Payload::Pack(inputs.keep(payload), Arc::clone(encoding));
    Some(call.read_from(payload, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Expect;
    use telepact_schema::{Schema, TypeExpr, TypeKind, TypeName};

    /// A struct that holds itself, nested up to the value reader's limit and past it, is
    /// read only as deep as a JSON request's arguments may nest (125 maps and lists),
    /// and refused beyond without running out of a thread's stack: the typed value's
    /// own `Deserialize` recurses along the data, and past about 350 levels that took
    /// more than the 2 MiB a test thread (or a tokio worker) has, unoptimised.
    #[test]
    fn a_self_nesting_struct_at_the_nesting_limit_fits_a_threads_stack() {
        #[derive(serde::Deserialize)]
        struct Node {
            #[serde(rename = "next!")]
            next: Option<Box<Node>>,
        }

        let schema = Schema::from_text(
            r#"[{"struct.Node": {"next!": "struct.Node"}}, {"fn.x": {}, "->": [{"Ok_": {}}]}]"#,
        )
        .expect("loads");
        let compiled = Compiled::new(&schema);
        let encoding = BinaryEncoding::new(&schema);
        let Some(TypeName::Struct(id)) = schema.names().get("struct.Node") else {
            panic!("struct.Node");
        };
        let node = TypeExpr {
            kind: TypeKind::Struct(*id),
            nullable: false,
        };
        for depth in [100, 124, 125, 511, 512, 600] {
            // {"next!": {"next!": ... {} ...}}
            let mut bytes = Vec::new();
            for _ in 0..depth {
                bytes.extend([0x81, 0xa5]);
                bytes.extend(b"next!");
            }
            bytes.push(0x80);
            let reads_as_values = Reader::new(&bytes).json_object(Some(&encoding)).is_ok();
            let mut reader = Reader::new(&bytes);
            let read =
                read_checked_pack::<Node>(&mut reader, &encoding, &compiled, Expect::Type(&node));
            if let Ok(read) = &read {
                assert!(reads_as_values, "depth {depth}");
                let mut nested = 0;
                let mut at = read;
                while let Some(next) = &at.next {
                    (nested, at) = (nested + 1, next);
                }
                assert_eq!(nested, depth);
            }
            // The innermost `{}` is the map after `depth` others.
            assert_eq!(read.is_ok(), depth < 125, "depth {depth}");
        }
    }
}
