//! Reads a typed body's result tag without writing its payload: the variant name of an
//! enum (as generated result enums write themselves), or the first key of a map (as JSON
//! values do).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, Serializer};

use crate::validate::KeyText;

/// The tag `value` gives as it starts to serialize, if any.
pub(super) fn tag_of<T: Serialize + ?Sized>(value: &T) -> Option<Cow<'static, str>> {
    value.serialize(TagOf).ok().flatten()
}

/// The value does not start with a tag.
#[derive(Debug)]
struct NoTag;

impl fmt::Display for NoTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value does not start with a result tag")
    }
}

impl std::error::Error for NoTag {}

impl ser::Error for NoTag {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        NoTag
    }
}

type Tag = Option<Cow<'static, str>>;

struct TagOf;

/// A map's first key; the values are skipped, not written.
struct FirstKey(Option<String>);

impl SerializeMap for FirstKey {
    type Ok = Tag;
    type Error = NoTag;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), NoTag> {
        if self.0.is_none() {
            self.0 = Some(key.serialize(KeyText(str::to_string, PhantomData))?);
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, _value: &T) -> Result<(), NoTag> {
        Ok(())
    }

    fn end(self) -> Result<Tag, NoTag> {
        Ok(self.0.map(Cow::Owned))
    }
}

impl Serializer for TagOf {
    type Ok = Tag;
    type Error = NoTag;
    type SerializeSeq = Impossible<Tag, NoTag>;
    type SerializeTuple = Impossible<Tag, NoTag>;
    type SerializeTupleStruct = Impossible<Tag, NoTag>;
    type SerializeTupleVariant = Impossible<Tag, NoTag>;
    type SerializeMap = FirstKey;
    type SerializeStruct = Impossible<Tag, NoTag>;
    type SerializeStructVariant = Impossible<Tag, NoTag>;

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<Tag, NoTag> {
        Ok(Some(Cow::Borrowed(variant)))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<FirstKey, NoTag> {
        Ok(FirstKey(None))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Tag, NoTag> {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Tag, NoTag> {
        value.serialize(self)
    }

    fn serialize_bool(self, _v: bool) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_i8(self, _v: i8) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_i16(self, _v: i16) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_i32(self, _v: i32) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_i64(self, _v: i64) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_u8(self, _v: u8) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_u16(self, _v: u16) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_u32(self, _v: u32) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_u64(self, _v: u64) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_f32(self, _v: f32) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_f64(self, _v: f64) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_char(self, _v: char) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_str(self, _v: &str) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_none(self) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_unit(self) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<Tag, NoTag> {
        Err(NoTag)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, NoTag> {
        Err(NoTag)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, NoTag> {
        Err(NoTag)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, NoTag> {
        Err(NoTag)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, NoTag> {
        Err(NoTag)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, NoTag> {
        Err(NoTag)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, NoTag> {
        Err(NoTag)
    }
}
