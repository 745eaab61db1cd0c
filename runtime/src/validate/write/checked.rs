//! The checking serializer both answer formats share: every value a typed result gives
//! is checked against what the schema expects at its place, then written by the
//! format ([`Format`]: JSON in [`super::json`], MessagePack in [`super::pack`]) in the
//! same serializer call. The checks are written once, here; each format only says how
//! a scalar, a list or a map becomes bytes.

use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{
    self, Impossible, SerializeMap, SerializeSeq, SerializeStruct, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use telepact_schema::TypeKind;

use super::{Expect, KeyText, NotWritten, check, map_keys, not_written, seq_item, variant_payload};
use crate::base64_text::is_base64;
use crate::validate::compiled::{Compiled, FieldSet};
use crate::validate::keys::{FieldCheck, MapKeys};

/// How checked values become bytes. Scalars are written as the JSON value `to_value`
/// makes of them would be (integers narrower than 64 bits arrive as `i64`); a list or
/// map is opened with its announced length, its entries are separated as the format
/// wants, and it is closed.
pub(super) trait Format {
    type Error: ser::Error;

    fn bool(&mut self, v: bool) -> Result<(), Self::Error>;
    fn i64(&mut self, v: i64) -> Result<(), Self::Error>;
    /// An integer past `i64::MAX`.
    fn u64(&mut self, v: u64) -> Result<(), Self::Error>;
    fn f64(&mut self, v: f64) -> Result<(), Self::Error>;
    fn str(&mut self, v: &str) -> Result<(), Self::Error>;
    fn null(&mut self) -> Result<(), Self::Error>;
    /// The head of a list of `len` items (`None`: not announced).
    fn open_list(&mut self, len: Option<usize>) -> Result<(), Self::Error>;
    /// Before each item; `first` for the first.
    fn item(&mut self, first: bool);
    fn close_list(&mut self) -> Result<(), Self::Error>;
    /// The head of a map of `len` entries (`None`: not announced).
    fn open_map(&mut self, len: Option<usize>) -> Result<(), Self::Error>;
    /// A map's key, with what goes before it and between it and its value.
    fn key(&mut self, first: bool, key: &str) -> Result<(), Self::Error>;
    /// A struct's key: the field at `index` of `fields`, named `key`.
    fn field(
        &mut self,
        first: bool,
        fields: &FieldSet,
        index: usize,
        key: &str,
    ) -> Result<(), Self::Error>;
    fn close_map(&mut self) -> Result<(), Self::Error>;
    /// Whether every map and list must hold as many entries as it announced (a format
    /// that writes the length first).
    const COUNTED: bool;
}

/// Writes `value`, which must be what `expect` says, through `format`; the result's
/// tag when the value named it as a variant.
pub(super) fn write_checked<T: Serialize + ?Sized, F: Format>(
    value: &T,
    compiled: &Compiled,
    expect: Expect<'_>,
    format: F,
) -> Result<Option<&'static str>, NotWritten> {
    let mut answer = Answer {
        format,
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
struct Answer<'c, F> {
    format: F,
    compiled: &'c Compiled,
    /// The result's tag, when the value named it as a variant.
    tag: Option<&'static str>,
}

#[inline(always)]
fn pass<E: ser::Error>(ok: bool) -> Result<(), E> {
    check(ok)
}

/// One value, which must be what `expect` says.
struct Value<'w, 'c, F> {
    answer: &'w mut Answer<'c, F>,
    expect: Expect<'c>,
    /// The result itself, whose variant is the result's tag.
    root: bool,
}

impl<'w, 'c, F: Format> Value<'w, 'c, F> {
    fn format(self) -> &'w mut F {
        &mut self.answer.format
    }

    fn items(
        self,
        item: Expect<'c>,
        len: Option<usize>,
        variant: bool,
    ) -> Result<Items<'w, 'c, F>, F::Error> {
        self.answer.format.open_list(len)?;
        Ok(Items {
            answer: self.answer,
            item,
            announced: len,
            written: 0,
            variant,
        })
    }
}

/// Integers narrower than 64 bits: checked and written as the `i64` they widen to, as
/// JSON values hold them.
macro_rules! widened_to_i64 {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<(), F::Error> {
            self.serialize_i64(v.into())
        }
    )*};
}

impl<'w, 'c, F: Format> Serializer for Value<'w, 'c, F> {
    type Ok = ();
    type Error = F::Error;
    type SerializeSeq = Items<'w, 'c, F>;
    type SerializeTuple = Items<'w, 'c, F>;
    type SerializeTupleStruct = Items<'w, 'c, F>;
    type SerializeTupleVariant = Items<'w, 'c, F>;
    type SerializeMap = Entries<'w, 'c, F>;
    type SerializeStruct = Fields<'w, 'c, F>;
    type SerializeStructVariant = Impossible<(), F::Error>;

    widened_to_i64!(
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
    );

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), F::Error> {
        pass(self.expect.is(&TypeKind::Boolean))?;
        self.format().bool(v)
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), F::Error> {
        pass(self.expect.accepts_integer())?;
        self.format().i64(v)
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), F::Error> {
        pass(self.expect.accepts_u64(v))?;
        match i64::try_from(v) {
            Ok(v) => self.format().i64(v),
            Err(_) => self.format().u64(v),
        }
    }

    fn serialize_f32(self, _v: f32) -> Result<(), F::Error> {
        // `to_value` widens it to `f64` and writes other digits than `f32` does.
        Err(not_written())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), F::Error> {
        pass(self.expect.accepts_float(v))?;
        self.format().f64(v)
    }

    fn serialize_char(self, v: char) -> Result<(), F::Error> {
        pass(self.expect.is(&TypeKind::String))?;
        self.format().str(v.encode_utf8(&mut [0; 4]))
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), F::Error> {
        let fits = self.expect.is(&TypeKind::String)
            || (self.expect.kind() == Some(&TypeKind::Bytes) && is_base64(v));
        pass(fits)?;
        self.format().str(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), F::Error> {
        Err(not_written())
    }

    #[inline]
    fn serialize_none(self) -> Result<(), F::Error> {
        pass(self.expect.accepts_null())?;
        self.format().null()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), F::Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), F::Error> {
        pass(self.expect.accepts_null())?;
        self.format().null()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), F::Error> {
        pass(self.expect.any())?;
        self.format().null()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), F::Error> {
        pass(self.expect.any())?;
        self.format().str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), F::Error> {
        // `serde_json` makes a newtype struct its content.
        value.serialize(self)
    }

    /// `{variant: payload}`, as `serde_json` makes it.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), F::Error> {
        let (payload, tag) =
            variant_payload::<F::Error>(self.expect, self.answer.compiled, variant)?;
        if self.root && tag.is_some() {
            self.answer.tag = tag;
        }
        let format = &mut self.answer.format;
        format.open_map(Some(1))?;
        format.key(true, variant)?;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect: payload,
            root: false,
        })?;
        self.answer.format.close_map()
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Items<'w, 'c, F>, F::Error> {
        let item = seq_item(self.expect).ok_or_else(not_written)?;
        self.items(item, len, false)
    }

    fn serialize_tuple(self, len: usize) -> Result<Items<'w, 'c, F>, F::Error> {
        pass(self.expect.any())?;
        self.items(Expect::Any, Some(len), false)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Items<'w, 'c, F>, F::Error> {
        pass(self.expect.any())?;
        self.items(Expect::Any, Some(len), false)
    }

    /// `{variant: [..]}`, as `serde_json` makes it: only `any` takes it.
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items<'w, 'c, F>, F::Error> {
        pass(self.expect.any())?;
        let format = &mut self.answer.format;
        format.open_map(Some(1))?;
        format.key(true, variant)?;
        self.items(Expect::Any, Some(len), true)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Entries<'w, 'c, F>, F::Error> {
        let keys = map_keys(self.expect, self.answer.compiled).ok_or_else(not_written)?;
        self.answer.format.open_map(len)?;
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
    ) -> Result<Fields<'w, 'c, F>, F::Error> {
        let fields = self
            .expect
            .fields(self.answer.compiled)
            .ok_or_else(not_written)?;
        self.answer.format.open_map(Some(len))?;
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
    ) -> Result<Impossible<(), F::Error>, F::Error> {
        // Generated unions write their payload as a struct of its own.
        Err(not_written())
    }
}

/// Whether a list or map held as many entries as it announced, where that matters.
#[inline]
fn counted<F: Format>(announced: Option<usize>, written: usize) -> Result<(), F::Error> {
    pass(!F::COUNTED || announced == Some(written))
}

/// The items of a list (or, under `any`, of a tuple or a tuple variant).
struct Items<'w, 'c, F> {
    answer: &'w mut Answer<'c, F>,
    item: Expect<'c>,
    announced: Option<usize>,
    written: usize,
    /// A tuple variant's list, inside its one-key map.
    variant: bool,
}

/// The four sequence forms, each item checked against the item type.
macro_rules! checked_items {
    ($($form:ident::$add:ident),*) => {$(
        impl<F: Format> $form for Items<'_, '_, F> {
            type Ok = ();
            type Error = F::Error;

            #[inline]
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), F::Error> {
                self.answer.format.item(self.written == 0);
                self.written += 1;
                value.serialize(Value {
                    answer: &mut *self.answer,
                    expect: self.item,
                    root: false,
                })
            }

            #[inline]
            fn end(self) -> Result<(), F::Error> {
                counted::<F>(self.announced, self.written)?;
                self.answer.format.close_list()?;
                if self.variant {
                    self.answer.format.close_map()?;
                }
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
struct Entries<'w, 'c, F> {
    answer: &'w mut Answer<'c, F>,
    keys: MapKeys<'c>,
    /// What the value of the key just written must be.
    value: Option<Expect<'c>>,
    announced: Option<usize>,
    written: usize,
}

impl<F: Format> SerializeMap for Entries<'_, '_, F> {
    type Ok = ();
    type Error = F::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), F::Error> {
        let (keys, format) = (&mut self.keys, &mut self.answer.format);
        let first = self.written == 0;
        let write = |key: &str| format.key(first, key).map(|()| keys.value_for(key));
        let expect = key.serialize(KeyText(write, PhantomData::<F::Error>))??;
        self.value = Some(expect.ok_or_else(not_written)?);
        self.written += 1;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), F::Error> {
        let expect = self.value.take().ok_or_else(not_written)?;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect,
            root: false,
        })
    }

    fn end(self) -> Result<(), F::Error> {
        pass(self.keys.complete())?;
        counted::<F>(self.announced, self.written)?;
        self.answer.format.close_map()
    }
}

/// A struct's fields (a generated struct writes itself this way).
struct Fields<'w, 'c, F> {
    answer: &'w mut Answer<'c, F>,
    fields: FieldCheck<'c>,
    announced: usize,
    written: usize,
}

impl<F: Format> SerializeStruct for Fields<'_, '_, F> {
    type Ok = ();
    type Error = F::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), F::Error> {
        let (index, field) = self.fields.entry(key).ok_or_else(not_written)?;
        let first = self.written == 0;
        self.answer
            .format
            .field(first, self.fields.set(), index, key)?;
        self.written += 1;
        value.serialize(Value {
            answer: &mut *self.answer,
            expect: Expect::Type(&field.ty),
            root: false,
        })
    }

    #[inline]
    fn end(self) -> Result<(), F::Error> {
        pass(self.fields.complete())?;
        counted::<F>(Some(self.announced), self.written)?;
        self.answer.format.close_map()
    }
}
