//! A serde serializer that writes MessagePack bytes exactly as the streaming encoder
//! ([`Encoder::write_value`](super::convert::Encoder)) writes the JSON values
//! `serde_json::to_value` makes of the same value: keys the encoding names become their
//! ids, integers take their shortest form, every float is a `float 64`.
//!
//! It is the output of the server's checked writer for typed binary answers, so it
//! takes only the forms a checked value can have. Anything else (a map or list of
//! unknown length, a count that differs from the length announced, bytes) stops it, and
//! the answer takes the value path.

use std::fmt;
use std::marker::PhantomData;

use rmp::encode as mp;
use serde::Serialize;
use serde::ser::{self, Impossible, Serializer};

use super::encoding::BinaryEncoding;
use crate::validate::KeyText;

/// Why the writer stopped; the caller drops what it wrote.
#[derive(Debug)]
pub(crate) struct PackError(String);

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackError {}

impl ser::Error for PackError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        PackError(message.to_string())
    }
}

impl From<mp::ValueWriteError> for PackError {
    fn from(error: mp::ValueWriteError) -> Self {
        PackError(error.to_string())
    }
}

impl From<std::io::Error> for PackError {
    fn from(error: std::io::Error) -> Self {
        PackError(error.to_string())
    }
}

/// The ids of struct field names met so far, by the address of their static text: the
/// items of a list are structs of one type, which name their fields with the same
/// static strings item after item, and a `&'static str` never changes, so its address
/// and length stand for its text. A small open-addressed table: each name keeps the
/// slot it first took, so names that hash alike do not evict each other item after
/// item; once the table is full, further names are looked up each time.
struct FieldIds {
    slots: [Option<(usize, usize, Option<u32>)>; FIELD_ID_SLOTS],
}

const FIELD_ID_SLOTS: usize = 32;

impl Default for FieldIds {
    fn default() -> Self {
        FieldIds {
            slots: [None; FIELD_ID_SLOTS],
        }
    }
}

impl FieldIds {
    #[inline]
    fn get(&mut self, key: &'static str, encoding: &BinaryEncoding) -> Option<u32> {
        let address = key.as_ptr() as usize;
        // Fibonacci hashing: the top bits of the address times 2^64 / φ.
        let start = ((address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59) as usize;
        for probe in 0..FIELD_ID_SLOTS {
            let slot = &mut self.slots[(start + probe) % FIELD_ID_SLOTS];
            match *slot {
                Some((at, len, id)) if at == address && len == key.len() => return id,
                Some(_) => {}
                None => {
                    let id = encoding.id(key);
                    *slot = Some((address, key.len(), id));
                    return id;
                }
            }
        }
        encoding.id(key)
    }
}

fn refused(form: &str) -> PackError {
    PackError(format!("{form} is left to the value path"))
}

fn length(len: usize) -> Result<u32, PackError> {
    u32::try_from(len).map_err(|_| refused("more than 2^32 entries"))
}

/// Writes MessagePack at the end of `out`, map keys through `encoding`.
pub(crate) struct PackSerializer<'o, 'e> {
    out: &'o mut Vec<u8>,
    encoding: &'e BinaryEncoding,
    field_ids: FieldIds,
}

impl<'o, 'e> PackSerializer<'o, 'e> {
    pub(crate) fn new(out: &'o mut Vec<u8>, encoding: &'e BinaryEncoding) -> Self {
        PackSerializer {
            out,
            encoding,
            field_ids: FieldIds::default(),
        }
    }

    /// A key: its id when the encoding has one, else the text.
    pub(crate) fn key(&mut self, key: &str) -> Result<(), PackError> {
        let id = self.encoding.id(key);
        self.write_key(key, id)
    }

    /// A struct's field name: as [`key`](Self::key), its id looked up once per
    /// serializer.
    fn field(&mut self, key: &'static str) -> Result<(), PackError> {
        let id = self.field_ids.get(key, self.encoding);
        self.write_key(key, id)
    }

    /// A key with the id the caller found for it (`None`: written as text).
    #[inline]
    pub(crate) fn write_key(&mut self, key: &str, id: Option<u32>) -> Result<(), PackError> {
        match id {
            // A positive fixint, the form `write_uint` picks, written in place: most
            // schemas have fewer than 128 names.
            Some(id @ 0..0x80) => self.out.push(id as u8),
            Some(id) => mp::write_uint(self.out, u64::from(id)).map(drop)?,
            None => mp::write_str(self.out, key)?,
        }
        Ok(())
    }

    /// The head of a map of `len` entries.
    pub(crate) fn open_map(&mut self, len: usize) -> Result<(), PackError> {
        mp::write_map_len(self.out, length(len)?)?;
        Ok(())
    }

    /// The head of an array of `len` items.
    pub(crate) fn open_array(&mut self, len: usize) -> Result<(), PackError> {
        mp::write_array_len(self.out, length(len)?)?;
        Ok(())
    }

    fn map(&mut self, len: usize) -> Result<Counted<'_, 'o, 'e>, PackError> {
        self.open_map(len)?;
        Ok(Counted {
            writer: self,
            announced: len,
            written: 0,
        })
    }

    fn array(&mut self, len: usize) -> Result<Counted<'_, 'o, 'e>, PackError> {
        self.open_array(len)?;
        Ok(Counted {
            writer: self,
            announced: len,
            written: 0,
        })
    }
}

/// A map or array under way: what it writes must be as many entries as it announced.
pub(crate) struct Counted<'w, 'o, 'e> {
    writer: &'w mut PackSerializer<'o, 'e>,
    announced: usize,
    written: usize,
}

impl Counted<'_, '_, '_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
        self.written += 1;
        value.serialize(&mut *self.writer)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PackError> {
        self.written += 1;
        let writer = &mut *self.writer;
        key.serialize(KeyText(
            |key: &str| writer.key(key),
            PhantomData::<PackError>,
        ))?
    }

    #[inline]
    fn end(self) -> Result<(), PackError> {
        if self.written == self.announced {
            Ok(())
        } else {
            Err(refused("a length other than announced"))
        }
    }
}

impl<'w, 'o, 'e> Serializer for &'w mut PackSerializer<'o, 'e> {
    type Ok = ();
    type Error = PackError;
    type SerializeSeq = Counted<'w, 'o, 'e>;
    type SerializeTuple = Counted<'w, 'o, 'e>;
    type SerializeTupleStruct = Counted<'w, 'o, 'e>;
    type SerializeTupleVariant = Impossible<(), PackError>;
    type SerializeMap = Counted<'w, 'o, 'e>;
    type SerializeStruct = Counted<'w, 'o, 'e>;
    type SerializeStructVariant = Impossible<(), PackError>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), PackError> {
        Ok(mp::write_bool(self.out, v)?)
    }

    #[inline]
    fn serialize_i8(self, v: i8) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i16(self, v: i16) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i32(self, v: i32) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), PackError> {
        // The shortest form, a non-negative one unsigned: as the encoder writes a JSON
        // number.
        Ok(mp::write_sint(self.out, v).map(drop)?)
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u16(self, v: u16) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u32(self, v: u32) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), PackError> {
        Ok(mp::write_uint(self.out, v).map(drop)?)
    }

    #[inline]
    fn serialize_f32(self, _v: f32) -> Result<(), PackError> {
        Err(refused("f32"))
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), PackError> {
        if !v.is_finite() {
            // JSON has no such number; the value path refuses it, naming where it is.
            return Err(refused("a NaN or an infinity"));
        }
        // A JSON number made from a float stays one, whole or not.
        Ok(mp::write_f64(self.out, v)?)
    }

    #[inline]
    fn serialize_char(self, v: char) -> Result<(), PackError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), PackError> {
        Ok(mp::write_str(self.out, v)?)
    }

    #[inline]
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), PackError> {
        Err(refused("bytes"))
    }

    #[inline]
    fn serialize_none(self) -> Result<(), PackError> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), PackError> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_unit(self) -> Result<(), PackError> {
        Ok(mp::write_nil(self.out)?)
    }

    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), PackError> {
        self.serialize_unit()
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), PackError> {
        self.serialize_str(variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        value.serialize(self)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        // `{variant: value}`, as `serde_json` makes it.
        mp::write_map_len(self.out, 1)?;
        self.key(variant)?;
        value.serialize(self)
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, PackError> {
        self.array(len.ok_or_else(|| refused("a list of unknown length"))?)
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, PackError> {
        self.array(len)
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, PackError> {
        self.array(len)
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, PackError> {
        Err(refused("a tuple variant"))
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, PackError> {
        self.map(len.ok_or_else(|| refused("a map of unknown length"))?)
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, PackError> {
        self.map(len)
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, PackError> {
        Err(refused("a struct variant"))
    }
}

/// The three sequence forms: items counted and written in turn.
macro_rules! counted_items {
    ($($form:ident::$add:ident),*) => {$(
        impl ser::$form for Counted<'_, '_, '_> {
            type Ok = ();
            type Error = PackError;

            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
                self.item(value)
            }

            #[inline]
            fn end(self) -> Result<(), PackError> {
                Counted::end(self)
            }
        }
    )*};
}

counted_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeMap for Counted<'_, '_, '_> {
    type Ok = ();
    type Error = PackError;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PackError> {
        self.key(key)
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn end(self) -> Result<(), PackError> {
        Counted::end(self)
    }
}

impl ser::SerializeStruct for Counted<'_, '_, '_> {
    type Ok = ();
    type Error = PackError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        self.written += 1;
        self.writer.field(key)?;
        value.serialize(&mut *self.writer)
    }

    #[inline]
    fn end(self) -> Result<(), PackError> {
        Counted::end(self)
    }
}

#[cfg(test)]
mod tests {
    use serde::ser::{SerializeMap, SerializeStruct, Serializer};

    use super::*;

    /// More field names than the table has slots, some without an id.
    const NAMES: [&str; 40] = [
        "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b0", "b1", "b2", "b3", "b4",
        "b5", "b6", "b7", "b8", "b9", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9",
        "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9",
    ];

    /// The names from `from`, as a struct's fields or as a map's keys.
    struct Fields {
        from: usize,
        as_map: bool,
    }

    impl Serialize for Fields {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let names = &NAMES[self.from..];
            if self.as_map {
                let mut map = serializer.serialize_map(Some(names.len()))?;
                for (i, name) in names.iter().enumerate() {
                    map.serialize_entry(&name.to_string(), &i)?;
                }
                return map.end();
            }
            let mut fields = serializer.serialize_struct("Fields", names.len())?;
            for (i, name) in names.iter().enumerate() {
                fields.serialize_field(name, &i)?;
            }
            fields.end()
        }
    }

    #[test]
    fn field_names_are_written_as_map_keys_are() {
        let with_ids = NAMES.iter().step_by(3).map(|name| name.to_string());
        let encoding = BinaryEncoding::from_names(with_ids);
        let write = |as_map| {
            let items: Vec<Fields> = (0..NAMES.len())
                .chain([0, 7, 0])
                .map(|from| Fields { from, as_map })
                .collect();
            let mut out = Vec::new();
            items
                .serialize(&mut PackSerializer::new(&mut out, &encoding))
                .expect("writes");
            out
        };
        assert_eq!(write(false), write(true));
    }
}
