//! The checking writer of typed JSON answers in one layer: each value is checked against
//! what the schema expects there and written as JSON by the same serializer call.
//!
//! Scalars and map keys are written by `serde_json`'s own serializer, so numbers and
//! escapes are its bytes; this writer adds only the punctuation of lists and maps,
//! which `serde_json`'s compact form writes the same way. A struct's keys are the
//! schema's, rendered once with `serde_json` (quotes, escapes and colon) when the schema
//! was compiled, and copied as they are.

use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{
    Impossible, SerializeMap, SerializeSeq, SerializeStruct, SerializeTuple, SerializeTupleStruct,
    SerializeTupleVariant, Serializer,
};
use telepact_schema::TypeKind;

use super::{Expect, KeyText, NotWritten, check, map_keys, not_written, seq_item, variant_payload};
use crate::validate::compiled::Compiled;
use crate::validate::keys::{FieldCheck, MapKeys};
use crate::validate::value::is_base64;

type Error = serde_json::Error;

/// Writes `value`, which must be what `expect` says, as JSON at the end of `out`; see
/// [`super::write_value`].
pub(super) fn write_json<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    expect: Expect<'_>,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    let mut answer = Answer {
        out,
        compiled,
        tag: None,
    };
    let root = Value {
        answer: &mut answer,
        expect,
        root: true,
    };
    match value.serialize(root) {
        Ok(()) => Ok(answer.tag),
        Err(_) => Err(NotWritten),
    }
}

/// What the whole answer shares.
struct Answer<'o, 'c> {
    out: &'o mut Vec<u8>,
    compiled: &'c Compiled,
    /// The result's tag, when the value named it as a variant.
    tag: Option<&'static str>,
}

impl Answer<'_, '_> {
    /// `serde_json`'s serializer over the answer's bytes, for one scalar or key.
    fn json(&mut self) -> serde_json::Serializer<&mut Vec<u8>> {
        serde_json::Serializer::new(&mut *self.out)
    }

    /// Writes `key` as `serde_json` writes a map's key, and the colon after it.
    fn key(&mut self, key: &str) -> Result<(), Error> {
        self.json().serialize_str(key)?;
        self.out.push(b':');
        Ok(())
    }
}

#[inline(always)]
fn pass(ok: bool) -> Result<(), Error> {
    check(ok)
}

fn refused() -> Error {
    not_written()
}

/// One value, which must be what `expect` says.
struct Value<'w, 'o, 'c> {
    answer: &'w mut Answer<'o, 'c>,
    expect: Expect<'c>,
    /// The result itself, whose variant is the result's tag.
    root: bool,
}

impl<'w, 'o, 'c> Value<'w, 'o, 'c> {
    fn items(self, item: Expect<'c>) -> Items<'w, 'o, 'c> {
        self.answer.out.push(b'[');
        Items {
            answer: self.answer,
            item,
            first: true,
            close: b"]",
        }
    }
}

/// Integers narrower than 64 bits: written as the `i64` they widen to, as JSON values
/// hold them.
macro_rules! widened_to_i64 {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
    )*};
}

impl<'w, 'o, 'c> Serializer for Value<'w, 'o, 'c> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Items<'w, 'o, 'c>;
    type SerializeTuple = Items<'w, 'o, 'c>;
    type SerializeTupleStruct = Items<'w, 'o, 'c>;
    type SerializeTupleVariant = Items<'w, 'o, 'c>;
    type SerializeMap = Entries<'w, 'o, 'c>;
    type SerializeStruct = Fields<'w, 'o, 'c>;
    type SerializeStructVariant = Impossible<(), Error>;

    widened_to_i64!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
    );

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        pass(self.expect.is(&TypeKind::Boolean))?;
        self.answer.json().serialize_bool(v)
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        pass(self.expect.accepts_integer())?;
        self.answer.json().serialize_i64(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        pass(self.expect.accepts_u64(v))?;
        self.answer.json().serialize_u64(v)
    }

    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        // `to_value` widens it to `f64` and writes other digits than `f32` does.
        Err(not_written())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        pass(self.expect.accepts_float(v))?;
        self.answer.json().serialize_f64(v)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        pass(self.expect.is(&TypeKind::String))?;
        self.answer.json().serialize_char(v)
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        let fits = self.expect.is(&TypeKind::String)
            || (self.expect.kind() == Some(&TypeKind::Bytes) && is_base64(v));
        pass(fits)?;
        self.answer.json().serialize_str(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_written())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), Error> {
        pass(self.expect.accepts_null())?;
        self.answer.json().serialize_none()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        pass(self.expect.accepts_null())?;
        self.answer.json().serialize_unit()
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Error> {
        pass(self.expect.any())?;
        self.answer.json().serialize_unit_struct(name)
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        pass(self.expect.any())?;
        self.answer
            .json()
            .serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        // `serde_json` writes a newtype struct as its content.
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let (payload, tag) = variant_payload::<Error>(self.expect, self.answer.compiled, variant)?;
        if self.root && tag.is_some() {
            self.answer.tag = tag;
        }
        // `{"variant":payload}`, as `serde_json` writes it.
        self.answer.out.push(b'{');
        self.answer.key(variant)?;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect: payload,
            root: false,
        })?;
        self.answer.out.push(b'}');
        Ok(())
    }

    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Items<'w, 'o, 'c>, Error> {
        let item = seq_item(self.expect).ok_or_else(refused)?;
        Ok(self.items(item))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Items<'w, 'o, 'c>, Error> {
        pass(self.expect.any())?;
        Ok(self.items(Expect::Any))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Items<'w, 'o, 'c>, Error> {
        pass(self.expect.any())?;
        Ok(self.items(Expect::Any))
    }

    /// `{"variant":[..]}`, as `serde_json` writes it: only `any` takes it.
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Items<'w, 'o, 'c>, Error> {
        pass(self.expect.any())?;
        self.answer.out.push(b'{');
        self.answer.key(variant)?;
        let mut items = self.items(Expect::Any);
        items.close = b"]}";
        Ok(items)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Entries<'w, 'o, 'c>, Error> {
        let keys = map_keys(self.expect, self.answer.compiled).ok_or_else(refused)?;
        self.answer.out.push(b'{');
        Ok(Entries {
            answer: self.answer,
            keys,
            value: None,
            first: true,
        })
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Fields<'w, 'o, 'c>, Error> {
        let fields = self
            .expect
            .fields(self.answer.compiled)
            .ok_or_else(refused)?;
        self.answer.out.push(b'{');
        Ok(Fields {
            answer: self.answer,
            fields: FieldCheck::new(fields),
            first: true,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Impossible<(), Error>, Error> {
        // Generated unions write their payload as a struct of its own.
        Err(not_written())
    }
}

/// Writes the comma before every entry but the first.
#[inline]
fn separate(out: &mut Vec<u8>, first: &mut bool) {
    if !std::mem::take(first) {
        out.push(b',');
    }
}

/// The items of a list (or, under `any`, of a tuple).
struct Items<'w, 'o, 'c> {
    answer: &'w mut Answer<'o, 'c>,
    item: Expect<'c>,
    first: bool,
    /// What ends it: `]`, and the `}` of a tuple variant's map.
    close: &'static [u8],
}

/// The three sequence forms, each item checked against the item type.
macro_rules! checked_items {
    ($($form:ident::$add:ident),*) => {$(
        impl $form for Items<'_, '_, '_> {
            type Ok = ();
            type Error = Error;

            #[inline]
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                separate(self.answer.out, &mut self.first);
                value.serialize(Value {
                    answer: &mut *self.answer,
                    expect: self.item,
                    root: false,
                })
            }

            fn end(self) -> Result<(), Error> {
                self.answer.out.extend_from_slice(self.close);
                Ok(())
            }
        }
    )*};
}

checked_items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A map: an `object`, or a struct or union given as a map.
struct Entries<'w, 'o, 'c> {
    answer: &'w mut Answer<'o, 'c>,
    keys: MapKeys<'c>,
    /// What the value of the key just written must be.
    value: Option<Expect<'c>>,
    first: bool,
}

impl SerializeMap for Entries<'_, '_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        separate(self.answer.out, &mut self.first);
        let (keys, answer) = (&mut self.keys, &mut *self.answer);
        let write = |key: &str| answer.key(key).map(|()| keys.value_for(key));
        let value = key.serialize(KeyText(write, PhantomData::<Error>))??;
        self.value = Some(value.ok_or_else(refused)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let expect = self.value.take().ok_or_else(refused)?;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect,
            root: false,
        })
    }

    fn end(self) -> Result<(), Error> {
        pass(self.keys.complete())?;
        self.answer.out.push(b'}');
        Ok(())
    }
}

/// A struct's fields (a generated struct writes itself this way).
struct Fields<'w, 'o, 'c> {
    answer: &'w mut Answer<'o, 'c>,
    fields: FieldCheck<'c>,
    first: bool,
}

impl SerializeStruct for Fields<'_, '_, '_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let (index, field) = self.fields.entry(key).ok_or_else(refused)?;
        let answer = &mut *self.answer;
        separate(answer.out, &mut self.first);
        match self.fields.set().json_keys.get(index) {
            Some(rendered) => answer.out.extend_from_slice(rendered.as_bytes()),
            None => answer.key(key)?,
        }
        value.serialize(Value {
            answer,
            expect: Expect::Type(&field.ty),
            root: false,
        })
    }

    fn end(self) -> Result<(), Error> {
        pass(self.fields.complete())?;
        self.answer.out.push(b'}');
        Ok(())
    }
}
