//! The compound values the checking serializer writes: arrays, structs and maps, each
//! checking its entries as they come and its completeness at the end.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::marker::PhantomData;

use foldhash::fast::FixedState;
use serde::Serialize;
use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant,
};
use smallvec::SmallVec;
use telepact_schema::Field;

use super::key_text::KeyText;
use super::{CheckedValue, Expect, check, not_written};
use crate::validate::compiled::{Compiled, FieldSet, FunctionEntry, TagSet};

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

/// Which fields of a struct (or tag payload) were written, to refuse a repeated or an
/// unknown key and to notice a missing required one.
pub(super) struct FieldCheck<'c> {
    fields: &'c FieldSet,
    written: SmallVec<[u64; 1]>,
    required_written: usize,
    /// Where the next key is looked for first: fields mostly come in schema order.
    next: usize,
}

impl<'c> FieldCheck<'c> {
    pub(super) fn new(fields: &'c FieldSet) -> Self {
        FieldCheck {
            fields,
            written: SmallVec::from_elem(0, fields.fields.len().div_ceil(64)),
            required_written: 0,
            next: 0,
        }
    }

    pub(super) fn field(&mut self, key: &str) -> Option<&'c Field> {
        let (index, field) = self.fields.find_from(key, self.next)?;
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        let slot = self.written.get_mut(word)?;
        if *slot & bit != 0 {
            return None;
        }
        *slot |= bit;
        if !field.optional {
            self.required_written += 1;
        }
        self.next = index + 1;
        Some(field)
    }

    fn complete(&self) -> bool {
        self.required_written == self.fields.required
    }
}

/// A struct's fields (a generated struct writes itself this way).
pub(super) struct CheckedStruct<'c, S> {
    pub(super) inner: S,
    pub(super) fields: FieldCheck<'c>,
    pub(super) compiled: &'c Compiled,
}

impl<S: SerializeStruct> SerializeStruct for CheckedStruct<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

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

/// The hashes of the keys a map has written; a repeated hash (a repeated key, or two
/// keys that happen to share a hash) leaves the map to the value path, where a map of
/// JSON values keeps one entry per key.
///
/// A small map's hashes are scanned where they stand (no allocation); a larger one's go
/// into a set.
#[derive(Default)]
pub(super) struct Seen {
    few: SmallVec<[u64; SCANNED_KEYS]>,
    many: Option<HashSet<u64, FixedState>>,
}

/// Up to this many keys are compared by scanning.
const SCANNED_KEYS: usize = 16;

impl Seen {
    pub(super) fn first(&mut self, key: &str) -> bool {
        let hash = FixedState::default().hash_one(key);
        if let Some(many) = &mut self.many {
            return many.insert(hash);
        }
        if self.few.contains(&hash) {
            return false;
        }
        if self.few.len() < SCANNED_KEYS {
            self.few.push(hash);
        } else {
            let mut many: HashSet<u64, FixedState> = self.few.drain(..).collect();
            many.insert(hash);
            self.many = Some(many);
        }
        true
    }
}

/// How a map's keys are checked.
pub(super) enum MapKeys<'c> {
    /// An `object` (or under `any`): any string keys, once each, values of one type.
    Entries(Expect<'c>, Seen),
    /// A struct (or tag payload) given as a map.
    Fields(FieldCheck<'c>),
    /// A union given as a map: exactly one key, a tag.
    Tag { tags: &'c TagSet, seen: bool },
    /// A function link: exactly one key, the function's name.
    Call {
        function: &'c FunctionEntry,
        seen: bool,
    },
}

/// A map: an `object`, or a struct or union given as a map (as JSON values are).
pub(super) struct CheckedMap<'c, S> {
    pub(super) inner: S,
    pub(super) keys: MapKeys<'c>,
    /// What the value of the key just written must be.
    pub(super) value: Option<Expect<'c>>,
    pub(super) compiled: &'c Compiled,
}

impl<'c, S> CheckedMap<'c, S> {
    /// What the value under `key` must be, or `None` when the key is not allowed.
    fn value_for(&mut self, key: &str) -> Option<Expect<'c>> {
        match &mut self.keys {
            MapKeys::Entries(item, seen) => seen.first(key).then_some(*item),
            MapKeys::Fields(fields) => fields.field(key).map(|f| Expect::Type(&f.ty)),
            MapKeys::Tag { tags, seen } => {
                let first = !std::mem::replace(seen, true);
                let entry = tags.find(key).filter(|_| first)?;
                Some(Expect::Fields(&entry.fields))
            }
            MapKeys::Call { function, seen } => {
                let first = !std::mem::replace(seen, true);
                (first && key == function.name).then_some(Expect::Fields(&function.args))
            }
        }
    }

    fn complete(&self) -> bool {
        match &self.keys {
            MapKeys::Entries(..) => true,
            MapKeys::Fields(fields) => fields.complete(),
            MapKeys::Tag { seen, .. } | MapKeys::Call { seen, .. } => *seen,
        }
    }
}

impl<S: SerializeMap> SerializeMap for CheckedMap<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        let value = key.serialize(KeyText(|key: &str| self.value_for(key), PhantomData))?;
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
        check(self.complete())?;
        self.inner.end()
    }
}
