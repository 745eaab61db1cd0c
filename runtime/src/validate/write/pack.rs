//! The checking writer of typed binary answers in one layer: each value is checked
//! against what the schema expects there and written as MessagePack by the same
//! serializer call, and a struct's field takes its id from the schema's own field table
//! instead of being looked up by name.
//!
//! It accepts what [`Checked`](super::Checked) around a [`PackSerializer`] accepts and
//! writes the same bytes (its tests hold it to that); the bytes themselves are the
//! `PackSerializer`'s, whose methods it calls. Wrapping one serializer in the other
//! cost a typed answer a second serde call for every value.

use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{
    Impossible, SerializeMap, SerializeSeq, SerializeStruct, SerializeTuple, SerializeTupleStruct,
    Serializer,
};
use telepact_schema::TypeKind;

use super::{Expect, KeyText, NotWritten, check, map_keys, not_written, seq_item, variant_payload};
use crate::binary::{BinaryEncoding, PackError, PackSerializer};
use crate::validate::compiled::{Compiled, TagSet};
use crate::validate::keys::{FieldCheck, MapKeys};
use crate::validate::value::is_base64;

/// Writes `value`, a function's `Ok_` result, as the MessagePack body of a binary answer
/// at the end of `out`: the bytes the binary encoder writes for its JSON values, keys
/// through `encoding`. Checked as [`write_result`](super::write_result) checks; the
/// result may hold no `bytes` (the writer does not know where they are). On
/// [`NotWritten`], `out` is as it was.
pub(crate) fn write_result_binary<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    result: &TagSet,
    encoding: &BinaryEncoding,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    let start = out.len();
    let written = write_result_pack(value, compiled, result, encoding, out);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

fn write_result_pack<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    result: &TagSet,
    encoding: &BinaryEncoding,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    let mut answer = Answer {
        pack: PackSerializer::new(out, encoding),
        encoding,
        compiled,
        own_ids: compiled.binary_checksum == encoding.checksum(),
        tag: None,
    };
    let root = Value {
        answer: &mut answer,
        expect: Expect::Tags(result),
        root: true,
    };
    match value.serialize(root) {
        Ok(()) => Ok(answer.tag),
        Err(_) => Err(NotWritten),
    }
}

/// What the whole answer shares.
struct Answer<'o, 'e, 'c> {
    pack: PackSerializer<'o, 'e>,
    encoding: &'e BinaryEncoding,
    compiled: &'c Compiled,
    /// The encoding is the schema's own, so the field ids of the schema's tables are its.
    own_ids: bool,
    /// The result's tag, when the value named it as a variant.
    tag: Option<&'static str>,
}

#[inline(always)]
fn pass(ok: bool) -> Result<(), PackError> {
    check(ok)
}

fn refused() -> PackError {
    not_written()
}

/// One value, which must be what `expect` says.
struct Value<'w, 'o, 'e, 'c> {
    answer: &'w mut Answer<'o, 'e, 'c>,
    expect: Expect<'c>,
    /// The result itself, whose variant is the result's tag.
    root: bool,
}

impl<'w, 'o, 'e, 'c> Value<'w, 'o, 'e, 'c> {
    fn pack(self) -> &'w mut PackSerializer<'o, 'e> {
        &mut self.answer.pack
    }

    fn items(self, item: Expect<'c>, len: usize) -> Result<Items<'w, 'o, 'e, 'c>, PackError> {
        self.answer.pack.open_array(len)?;
        Ok(Items {
            answer: self.answer,
            item,
            announced: len,
            written: 0,
        })
    }
}

/// Integers narrower than 64 bits: written as the `i64` they widen to, as JSON values
/// hold them.
macro_rules! widened_to_i64 {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<(), PackError> {
            self.serialize_i64(v.into())
        }
    )*};
}

impl<'w, 'o, 'e, 'c> Serializer for Value<'w, 'o, 'e, 'c> {
    type Ok = ();
    type Error = PackError;
    type SerializeSeq = Items<'w, 'o, 'e, 'c>;
    type SerializeTuple = Items<'w, 'o, 'e, 'c>;
    type SerializeTupleStruct = Items<'w, 'o, 'e, 'c>;
    type SerializeTupleVariant = Impossible<(), PackError>;
    type SerializeMap = Entries<'w, 'o, 'e, 'c>;
    type SerializeStruct = Fields<'w, 'o, 'e, 'c>;
    type SerializeStructVariant = Impossible<(), PackError>;

    widened_to_i64!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
    );

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), PackError> {
        pass(self.expect.is(&TypeKind::Boolean))?;
        self.pack().serialize_bool(v)
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), PackError> {
        pass(self.expect.accepts_integer())?;
        self.pack().serialize_i64(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), PackError> {
        pass(self.expect.accepts_u64(v))?;
        match i64::try_from(v) {
            Ok(v) => self.pack().serialize_i64(v),
            Err(_) => self.pack().serialize_u64(v),
        }
    }

    fn serialize_f32(self, _v: f32) -> Result<(), PackError> {
        // `to_value` widens it to `f64`, which this writer would write otherwise.
        Err(not_written())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), PackError> {
        pass(self.expect.accepts_float(v))?;
        self.pack().serialize_f64(v)
    }

    fn serialize_char(self, v: char) -> Result<(), PackError> {
        pass(self.expect.is(&TypeKind::String))?;
        self.pack().serialize_char(v)
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), PackError> {
        let fits = self.expect.is(&TypeKind::String)
            || (self.expect.kind() == Some(&TypeKind::Bytes) && is_base64(v));
        pass(fits)?;
        self.pack().serialize_str(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), PackError> {
        Err(not_written())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), PackError> {
        pass(self.expect.accepts_null())?;
        self.pack().serialize_none()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), PackError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), PackError> {
        pass(self.expect.accepts_null())?;
        self.pack().serialize_unit()
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<(), PackError> {
        pass(self.expect.any())?;
        self.pack().serialize_unit_struct(name)
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<(), PackError> {
        pass(self.expect.any())?;
        self.pack().serialize_unit_variant(name, index, variant)
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
        let (payload, tag) =
            variant_payload::<PackError>(self.expect, self.answer.compiled, variant)?;
        if self.root && tag.is_some() {
            self.answer.tag = tag;
        }
        // `{variant: payload}`, as `serde_json` makes it.
        self.answer.pack.open_map(1)?;
        self.answer.pack.key(variant)?;
        value.serialize(Value {
            answer: self.answer,
            expect: payload,
            root: false,
        })
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'w, 'o, 'e, 'c>, PackError> {
        let item = seq_item(self.expect).ok_or_else(refused)?;
        self.items(item, len.ok_or_else(refused)?)
    }

    fn serialize_tuple(self, len: usize) -> Result<Items<'w, 'o, 'e, 'c>, PackError> {
        pass(self.expect.any())?;
        self.items(Expect::Any, len)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Items<'w, 'o, 'e, 'c>, PackError> {
        pass(self.expect.any())?;
        self.items(Expect::Any, len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), PackError>, PackError> {
        Err(not_written())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Entries<'w, 'o, 'e, 'c>, PackError> {
        let keys = map_keys(self.expect, self.answer.compiled).ok_or_else(refused)?;
        let len = len.ok_or_else(refused)?;
        self.answer.pack.open_map(len)?;
        Ok(Entries {
            answer: self.answer,
            keys,
            value: None,
            announced: len,
            written: 0,
        })
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Fields<'w, 'o, 'e, 'c>, PackError> {
        let fields = self
            .expect
            .fields(self.answer.compiled)
            .ok_or_else(refused)?;
        self.answer.pack.open_map(len)?;
        Ok(Fields {
            answer: self.answer,
            fields: FieldCheck::new(fields),
            announced: len,
            written: 0,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), PackError>, PackError> {
        // Generated unions write their payload as a struct of its own.
        Err(not_written())
    }
}

/// Whether a map or array wrote as many entries as it announced.
fn counted(written: usize, announced: usize) -> Result<(), PackError> {
    pass(written == announced)
}

/// The items of a list (or, under `any`, of a tuple).
struct Items<'w, 'o, 'e, 'c> {
    answer: &'w mut Answer<'o, 'e, 'c>,
    item: Expect<'c>,
    announced: usize,
    written: usize,
}

/// The three sequence forms, each item checked against the item type.
macro_rules! checked_items {
    ($($form:ident::$add:ident),*) => {$(
        impl $form for Items<'_, '_, '_, '_> {
            type Ok = ();
            type Error = PackError;

            #[inline]
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
                self.written += 1;
                value.serialize(Value {
                    answer: &mut *self.answer,
                    expect: self.item,
                    root: false,
                })
            }

            fn end(self) -> Result<(), PackError> {
                counted(self.written, self.announced)
            }
        }
    )*};
}

checked_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

/// A map: an `object`, or a struct or union given as a map.
struct Entries<'w, 'o, 'e, 'c> {
    answer: &'w mut Answer<'o, 'e, 'c>,
    keys: MapKeys<'c>,
    /// What the value of the key just written must be.
    value: Option<Expect<'c>>,
    announced: usize,
    written: usize,
}

impl SerializeMap for Entries<'_, '_, '_, '_> {
    type Ok = ();
    type Error = PackError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PackError> {
        self.written += 1;
        let (keys, pack) = (&mut self.keys, &mut self.answer.pack);
        let write = |key: &str| pack.key(key).map(|()| keys.value_for(key));
        let value = key.serialize(KeyText(write, PhantomData::<PackError>))??;
        self.value = Some(value.ok_or_else(refused)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PackError> {
        let expect = self.value.take().ok_or_else(refused)?;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect,
            root: false,
        })
    }

    fn end(self) -> Result<(), PackError> {
        pass(self.keys.complete())?;
        counted(self.written, self.announced)
    }
}

/// A struct's fields (a generated struct writes itself this way).
struct Fields<'w, 'o, 'e, 'c> {
    answer: &'w mut Answer<'o, 'e, 'c>,
    fields: FieldCheck<'c>,
    announced: usize,
    written: usize,
}

impl SerializeStruct for Fields<'_, '_, '_, '_> {
    type Ok = ();
    type Error = PackError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PackError> {
        self.written += 1;
        let (index, field) = self.fields.entry(key).ok_or_else(refused)?;
        let answer = &mut *self.answer;
        let id = match answer.own_ids {
            true => self.fields.set().ids.get(index).copied().flatten(),
            false => answer.encoding.id(key),
        };
        answer.pack.write_key(key, id)?;
        value.serialize(Value {
            answer,
            expect: Expect::Type(&field.ty),
            root: false,
        })
    }

    fn end(self) -> Result<(), PackError> {
        pass(self.fields.complete())?;
        counted(self.written, self.announced)
    }
}
