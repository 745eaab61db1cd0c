//! A serde deserializer over a request's MessagePack: the events [`Reader`] would turn
//! into JSON values, given to a typed value's visitor instead.
//!
//! It follows the reader's rules exactly where the reader accepts: integer map keys
//! become the encoding's names, strings must be UTF-8, floats finite, and nesting is
//! counted and limited as the reader counts it. Where the reader turns something into
//! a value of another form (binary data into base64 text) or fails, this deserializer
//! fails: the request is then read as values, which says what is wrong.

use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::encoding::BinaryEncoding;
use super::read::{Depth, Head, Reader};
use crate::message::{CheckedCall, Payload};
use crate::router::TypedInputs;

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

/// One value at the reader's position, `depth` levels of nesting still allowed.
pub(crate) struct PackValue<'r, 'a, 'e> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    depth: Depth,
}

impl<'r, 'a, 'e> PackValue<'r, 'a, 'e> {
    fn new(reader: &'r mut Reader<'a>, encoding: &'e BinaryEncoding, depth: Depth) -> Self {
        PackValue {
            reader,
            encoding,
            depth,
        }
    }
}

/// The `len` bytes of text at the reader, which must be UTF-8.
fn text<'a>(reader: &mut Reader<'a>, len: usize) -> Result<&'a str, Unread> {
    let bytes = reader.take(len)?;
    std::str::from_utf8(bytes).map_err(|_| Unread("invalid UTF-8".into()))
}

impl<'de> Deserializer<'de> for PackValue<'_, 'de, '_> {
    type Error = Unread;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unread> {
        let depth = self.depth.spend(1)?;
        match self.reader.head()? {
            Head::Nil => visitor.visit_unit(),
            Head::Bool(flag) => visitor.visit_bool(flag),
            Head::Unsigned(int) => visitor.visit_u64(int),
            Head::Signed(int) => visitor.visit_i64(int),
            Head::Float(float) if float.is_finite() => visitor.visit_f64(float),
            Head::Float(_) => Err(Unread("not a finite number".into())),
            Head::Str(len) => {
                depth.spend(2)?;
                visitor.visit_borrowed_str(text(self.reader, len)?)
            }
            Head::Bin(_) | Head::Ext(_) => Err(Unread("binary data".into())),
            Head::Array(len) => {
                let mut items = PackItems {
                    reader: self.reader,
                    encoding: self.encoding,
                    depth: depth.spend(1)?,
                    left: len,
                };
                let value = visitor.visit_seq(&mut items)?;
                ended(items.left)?;
                Ok(value)
            }
            Head::Map(len) => {
                let mut entries = PackEntries {
                    reader: self.reader,
                    encoding: self.encoding,
                    depth: depth.spend(1)?,
                    left: len,
                };
                let value = visitor.visit_map(&mut entries)?;
                ended(entries.left)?;
                Ok(value)
            }
        }
    }

    #[inline]
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unread> {
        let mut ahead = *self.reader;
        if matches!(ahead.head()?, Head::Nil) {
            self.depth.spend(1)?;
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
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Unread> {
        // The checking reader reads a union as a map; nothing else reads this format.
        Err(Unread("an enum".into()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

fn ended(left: usize) -> Result<(), Unread> {
    if left == 0 {
        Ok(())
    } else {
        Err(Unread("a container was not read to its end".into()))
    }
}

struct PackItems<'r, 'a, 'e> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    depth: Depth,
    left: usize,
}

impl<'de> SeqAccess<'de> for PackItems<'_, 'de, '_> {
    type Error = Unread;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Unread> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(PackValue::new(self.reader, self.encoding, self.depth))
            .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Never trust a declared length for an allocation: each item takes a byte.
        Some(self.left.min(self.reader.rest().len()))
    }
}

struct PackEntries<'r, 'a, 'e> {
    reader: &'r mut Reader<'a>,
    encoding: &'e BinaryEncoding,
    depth: Depth,
    left: usize,
}

impl<'de> MapAccess<'de> for PackEntries<'_, 'de, '_> {
    type Error = Unread;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Unread> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let key = PackKey {
            reader: &mut *self.reader,
            encoding: self.encoding,
            depth: self.depth,
        };
        seed.deserialize(key).map(Some)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Unread> {
        seed.deserialize(PackValue::new(self.reader, self.encoding, self.depth))
    }

    fn size_hint(&self) -> Option<usize> {
        // Each entry takes two bytes.
        Some(self.left.min(self.reader.rest().len() / 2))
    }
}

/// A map key: a string as it is, an integer as the encoding's name for it.
pub(super) struct PackKey<'r, 'a, 'e> {
    pub(super) reader: &'r mut Reader<'a>,
    pub(super) encoding: &'e BinaryEncoding,
    pub(super) depth: Depth,
}

impl<'de> Deserializer<'de> for PackKey<'_, 'de, '_> {
    type Error = Unread;

    #[inline]
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unread> {
        let depth = self.depth.spend(1)?;
        let id = match self.reader.head()? {
            Head::Str(len) => {
                depth.spend(2)?;
                return visitor.visit_borrowed_str(text(self.reader, len)?);
            }
            Head::Unsigned(id) => id,
            Head::Signed(id) if id >= 0 => id.unsigned_abs(),
            _ => return Err(Unread("a key neither text nor a known id".into())),
        };
        match self.encoding.name(id) {
            Some(name) => visitor.visit_str(name),
            None => Err(Unread("an unknown key id".into())),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
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
    // Nesting as the value reader spends it on the frame's second item.
    let body = Depth::MAX.spend(2).ok()?.spend(1).ok()?;
    if !matches!(reader.head().ok()?, Head::Map(1)) {
        return None;
    }
    let entries = body.spend(1).ok()?;
    let key = entries.spend(1).ok()?;
    let (read, args) = match reader.head().ok()? {
        Head::Str(len) => {
            key.spend(2).ok()?;
            let name = text(reader, len).ok()?;
            inputs.reader(name)?
        }
        Head::Unsigned(id) => inputs.reader(encoding.name(id)?)?,
        _ => return None,
    };
    let start = reader.rest();
    let payload = PackValue::new(reader, encoding, entries);
    let call = (read.binary)(payload, inputs.compiled, args).ok()?;
    let payload = &start[..start.len() - reader.rest().len()];
    let payload = Payload::Pack(inputs.keep(payload), Arc::clone(encoding));
    Some(call.with_payload(payload))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rmpv::Value as Pack;
    use serde::Deserialize;
    use serde_json::Value;

    use super::super::read::tests::{bytes_of, encoding, value};
    use super::*;

    /// Binary data, an extension, or a key that is neither text nor a known id, which
    /// this deserializer leaves to the value reader.
    fn holds_what_is_left_alone(value: &Pack, encoding: &BinaryEncoding) -> bool {
        match value {
            Pack::Binary(_) | Pack::Ext(..) => true,
            Pack::Array(items) => items.iter().any(|i| holds_what_is_left_alone(i, encoding)),
            Pack::Map(entries) => entries.iter().any(|(key, item)| {
                let known_key = match key {
                    Pack::String(_) => true,
                    Pack::Integer(id) => id.as_u64().and_then(|id| encoding.name(id)).is_some(),
                    _ => false,
                };
                !known_key || holds_what_is_left_alone(item, encoding)
            }),
            _ => false,
        }
    }

    proptest! {
        /// The events given are those the value reader builds its value from.
        #[test]
        fn gives_the_value_the_value_reader_reads(value in value()) {
            let encoding = encoding();
            let bytes = bytes_of(&value);
            let mut reader = Reader::new(&bytes);
            let json = reader.json(Some(&encoding), Depth::MAX);
            let mut events = Reader::new(&bytes);
            let given = Value::deserialize(PackValue::new(&mut events, &encoding, Depth::MAX));
            match (&given, &json) {
                (Ok(given), Ok(json)) => {
                    prop_assert_eq!(given, json);
                    prop_assert_eq!(events.rest().len(), reader.rest().len());
                }
                (Ok(given), Err(error)) => prop_assert!(false, "gave {given} where {error}"),
                (Err(_), Ok(_)) => {
                    prop_assert!(holds_what_is_left_alone(&value, &encoding), "{value}");
                }
                (Err(_), Err(_)) => {}
            }
        }
    }

    /// A struct that holds itself, nested up to the value reader's limit and past it, is
    /// read by the checking reader only as deep as a JSON request's arguments may nest
    /// (125 maps and lists), and refused beyond without running out of a thread's
    /// stack: the typed value's own `Deserialize` recurses along the data, and past
    /// about 350 levels that took more than the 2 MiB a test thread (or a tokio worker)
    /// has, unoptimised.
    #[test]
    fn a_self_nesting_struct_at_the_nesting_limit_fits_a_threads_stack() {
        use crate::validate::{Compiled, Expect, read_checked};
        use telepact_schema::{Schema, TypeExpr, TypeKind, TypeName};

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
        let Some(TypeName::Struct(id)) = schema.names.get("struct.Node") else {
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
            let reads_as_values = Reader::new(&bytes)
                .json(Some(&encoding), Depth::MAX)
                .is_ok();
            let mut reader = Reader::new(&bytes);
            let value = PackValue::new(&mut reader, &encoding, Depth::MAX);
            let read = read_checked::<Node, _>(value, &compiled, Expect::Type(&node));
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

    #[test]
    fn nesting_is_limited_where_the_value_reader_limits_it() {
        let encoding = encoding();
        for depth in [100, 340, 341, 342, 343, 511, 512, 513] {
            let mut bytes = vec![0x91; depth];
            bytes.extend([0xa1, b'x']);
            let json = Reader::new(&bytes)
                .json(Some(&encoding), Depth::MAX)
                .is_ok();
            let mut events = Reader::new(&bytes);
            let given = Value::deserialize(PackValue::new(&mut events, &encoding, Depth::MAX));
            assert_eq!(given.is_ok(), json, "depth {depth}");
        }
    }
}
