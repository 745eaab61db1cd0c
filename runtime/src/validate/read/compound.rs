//! The compound values the checking reader reads: arrays, maps and unions, each
//! checking its entries as they come and that it was read to its end.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::StrDeserializer;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IgnoredAny, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::{CheckedSeed, Scope, check, not_read};
use crate::validate::expect::Expect;
use crate::validate::keys::MapKeys;

/// The items of an array, each checked against the item type.
pub(super) struct CheckedSeq<'c, A> {
    pub(super) inner: A,
    pub(super) item: Expect<'c>,
    pub(super) scope: Scope<'c>,
    /// The format said there are no more items.
    pub(super) ended: bool,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for CheckedSeq<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let seed = CheckedSeed {
            inner: seed,
            expect: self.item,
            scope: self.scope,
        };
        let item = self.inner.next_element_seed(seed)?;
        self.ended = item.is_none();
        Ok(item)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A map's entries: each key checked by [`MapKeys`], each value against what its key
/// calls for.
pub(super) struct CheckedMap<'c, A> {
    inner: A,
    keys: MapKeys<'c>,
    /// What the value of the key just read must be.
    value: Option<Expect<'c>>,
    scope: Scope<'c>,
    ended: bool,
}

impl<'c, A> CheckedMap<'c, A> {
    pub(super) fn new(inner: A, keys: MapKeys<'c>, scope: Scope<'c>) -> Self {
        CheckedMap {
            inner,
            keys,
            value: None,
            scope,
            ended: false,
        }
    }

    /// Read to its end, with every key it must have.
    pub(super) fn ended_complete(&self) -> bool {
        self.ended && self.keys.complete()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CheckedMap<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = KeySeed {
            inner: seed,
            keys: &mut self.keys,
            value: &mut self.value,
        };
        let key = self.inner.next_key_seed(key)?;
        self.ended = key.is_none();
        Ok(key)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let expect = self.value.take().ok_or_else(not_read)?;
        self.inner.next_value_seed(CheckedSeed {
            inner: seed,
            expect,
            scope: self.scope,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// Reads a key as text, checks it, and hands it on as text.
struct KeySeed<'k, 'c, K> {
    inner: K,
    keys: &'k mut MapKeys<'c>,
    value: &'k mut Option<Expect<'c>>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, '_, K> {
    type Value = K::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<'_, '_, K> {
    type Value = K::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map key")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, key: &str) -> Result<K::Value, E> {
        *self.value = Some(self.keys.value_for(key).ok_or_else(not_read)?);
        self.inner.deserialize(StrDeserializer::<E>::new(key))
    }
}

/// A union read from its one-key map: the tag, then its payload, then the map's end.
pub(super) struct CheckedEnum<'c, A> {
    pub(super) entries: CheckedMap<'c, A>,
}

impl<'de, 'c, A: MapAccess<'de>> EnumAccess<'de> for CheckedEnum<'c, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(
        mut self,
        seed: T,
    ) -> Result<(T::Value, Self), A::Error> {
        let tag = self.entries.next_key_seed(seed)?.ok_or_else(not_read)?;
        Ok((tag, self))
    }
}

impl<'de, A: MapAccess<'de>> CheckedEnum<'_, A> {
    /// Reads the payload with `seed`, then makes sure the map holds nothing more.
    fn payload<T: DeserializeSeed<'de>>(mut self, seed: T) -> Result<T::Value, A::Error> {
        let payload = self.entries.next_value_seed(seed)?;
        let more = self.entries.next_key::<IgnoredAny>()?;
        check(more.is_none() && self.entries.ended_complete())?;
        Ok(payload)
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for CheckedEnum<'_, A> {
    type Error = A::Error;

    /// The payload is still read (and checked): the tag's fields may all be optional.
    fn unit_variant(self) -> Result<(), A::Error> {
        self.payload(PhantomData::<IgnoredAny>).map(drop)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.payload(seed)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(not_read())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.payload(StructSeed { fields, visitor })
    }
}

/// Reads a struct variant's payload as a struct.
pub(crate) struct StructSeed<V> {
    pub(crate) fields: &'static [&'static str],
    pub(crate) visitor: V,
}

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for StructSeed<V> {
    type Value = V::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        deserializer.deserialize_struct("", self.fields, self.visitor)
    }
}
