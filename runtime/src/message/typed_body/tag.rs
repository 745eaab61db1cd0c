//! Reads a typed body's result tag without writing its payload: the variant name of an
//! enum (as generated result enums write themselves), or the first key of a map (as JSON
//! values do).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, Serializer};

use crate::serde_refuse::refuse_serialize;
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

    refuse_serialize!(NoTag;
        serialize_bool, serialize_i8, serialize_i16, serialize_i32, serialize_i64,
        serialize_u8, serialize_u16, serialize_u32, serialize_u64, serialize_f32,
        serialize_f64, serialize_char, serialize_str, serialize_bytes, serialize_none,
        serialize_unit, serialize_unit_struct, serialize_unit_variant, serialize_seq,
        serialize_tuple, serialize_tuple_struct, serialize_tuple_variant, serialize_struct,
        serialize_struct_variant,
    );
}
