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

fn refused(form: &str) -> PackError {
    PackError(format!("{form} is left to the value path"))
}

fn length(len: usize) -> Result<u32, PackError> {
    u32::try_from(len).map_err(|_| refused("more than 2^32 entries"))
}

/// Writes MessagePack at the end of `out`, map keys through `encoding`.
pub(crate) struct PackSerializer<'o, 'e> {
    pub(crate) out: &'o mut Vec<u8>,
    pub(crate) encoding: &'e BinaryEncoding,
}

impl<'o, 'e> PackSerializer<'o, 'e> {
    /// A key: its id when the encoding has one, else the text.
    fn key(&mut self, key: &str) -> Result<(), PackError> {
        match self.encoding.id(key) {
            Some(id) => mp::write_uint(self.out, u64::from(id)).map(drop)?,
            None => mp::write_str(self.out, key)?,
        }
        Ok(())
    }

    fn map(&mut self, len: usize) -> Result<Counted<'_, 'o, 'e>, PackError> {
        mp::write_map_len(self.out, length(len)?)?;
        Ok(Counted {
            writer: self,
            announced: len,
            written: 0,
        })
    }

    fn array(&mut self, len: usize) -> Result<Counted<'_, 'o, 'e>, PackError> {
        mp::write_array_len(self.out, length(len)?)?;
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

    fn serialize_bool(self, v: bool) -> Result<(), PackError> {
        Ok(mp::write_bool(self.out, v)?)
    }

    fn serialize_i8(self, v: i8) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), PackError> {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), PackError> {
        // The shortest form, a non-negative one unsigned: as the encoder writes a JSON
        // number.
        Ok(mp::write_sint(self.out, v).map(drop)?)
    }

    fn serialize_u8(self, v: u8) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), PackError> {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), PackError> {
        Ok(mp::write_uint(self.out, v).map(drop)?)
    }

    fn serialize_f32(self, _v: f32) -> Result<(), PackError> {
        Err(refused("f32"))
    }

    fn serialize_f64(self, v: f64) -> Result<(), PackError> {
        // A JSON number made from a float stays one, whole or not.
        Ok(mp::write_f64(self.out, v)?)
    }

    fn serialize_char(self, v: char) -> Result<(), PackError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), PackError> {
        Ok(mp::write_str(self.out, v)?)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), PackError> {
        Err(refused("bytes"))
    }

    fn serialize_none(self) -> Result<(), PackError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), PackError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), PackError> {
        Ok(mp::write_nil(self.out)?)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), PackError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), PackError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        value.serialize(self)
    }

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

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, PackError> {
        self.array(len.ok_or_else(|| refused("a list of unknown length"))?)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, PackError> {
        self.array(len)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, PackError> {
        self.array(len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, PackError> {
        Err(refused("a tuple variant"))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, PackError> {
        self.map(len.ok_or_else(|| refused("a map of unknown length"))?)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, PackError> {
        self.map(len)
    }

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

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PackError> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), PackError> {
        Counted::end(self)
    }
}

impl ser::SerializeStruct for Counted<'_, '_, '_> {
    type Ok = ();
    type Error = PackError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        self.key(key)?;
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), PackError> {
        Counted::end(self)
    }
}
