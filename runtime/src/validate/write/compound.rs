//! The compound values the checking serializer writes: arrays, structs and maps, each
//! checking its entries as they come and its completeness at the end.

use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant,
};

use super::key_text::KeyText;
use super::{CheckedValue, Expect, check, not_written};
use crate::validate::compiled::Compiled;
use crate::validate::keys::{FieldCheck, MapKeys};

/// The items of an array (or, under `any`, of a tuple).
pub(super) struct CheckedSeq<'c, S> {
    pub(super) inner: S,
    pub(super) item: Expect<'c>,
    pub(super) compiled: &'c Compiled,
}

impl<'c, S> CheckedSeq<'c, S> {
    fn item<'a, T: ?Sized>(&self, value: &'a T) -> CheckedValue<'a, 'c, T> {
        CheckedValue {
            value,
            expect: self.item,
            compiled: self.compiled,
        }
    }
}

/// The four sequence forms, each item checked against the item type.
macro_rules! checked_items {
    ($($form:ident::$add:ident),*) => {$(
        impl<S: $form> $form for CheckedSeq<'_, S> {
            type Ok = S::Ok;
            type Error = S::Error;

            #[inline]
            fn $add<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                let item = self.item(value);
                self.inner.$add(&item)
            }

            fn end(self) -> Result<S::Ok, S::Error> {
                self.inner.end()
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

/// A struct's fields (a generated struct writes itself this way).
pub(super) struct CheckedStruct<'c, S> {
    pub(super) inner: S,
    pub(super) fields: FieldCheck<'c>,
    pub(super) compiled: &'c Compiled,
}

impl<S: SerializeStruct> SerializeStruct for CheckedStruct<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        let field = self.fields.field(key).ok_or_else(not_written)?;
        let value = CheckedValue {
            value,
            expect: Expect::Type(&field.ty),
            compiled: self.compiled,
        };
        self.inner.serialize_field(key, &value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.inner.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        check(self.fields.complete())?;
        self.inner.end()
    }
}

impl<S: SerializeStructVariant> SerializeStructVariant for CheckedStruct<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        _key: &'static str,
        _value: &T,
    ) -> Result<(), S::Error> {
        Err(not_written())
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        Err(not_written())
    }
}

/// A map: an `object`, or a struct or union given as a map (as JSON values are).
pub(super) struct CheckedMap<'c, S> {
    pub(super) inner: S,
    pub(super) keys: MapKeys<'c>,
    /// What the value of the key just written must be.
    pub(super) value: Option<Expect<'c>>,
    pub(super) compiled: &'c Compiled,
}

impl<S: SerializeMap> SerializeMap for CheckedMap<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        let value = key.serialize(KeyText(|key: &str| self.keys.value_for(key), PhantomData))?;
        self.value = Some(value.ok_or_else(not_written)?);
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        let expect = self.value.take().ok_or_else(not_written)?;
        let value = CheckedValue {
            value,
            expect,
            compiled: self.compiled,
        };
        self.inner.serialize_value(&value)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        check(self.keys.complete())?;
        self.inner.end()
    }
}
