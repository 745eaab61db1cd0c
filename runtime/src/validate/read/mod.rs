//! Reads a typed value, a typed handler's input, from a self-describing deserializer
//! (a JSON request's, `serde_json`'s) while checking it against the schema: how the
//! server hands a typed handler its input without first building the request as JSON
//! values. A binary request's MessagePack is read by the same rules in one layer, the
//! checks inside the format's own deserializer (`binary::read_checked_pack`), which
//! shares this module's [`Scope`], [`map_keys`] and [`readable`].
//!
//! The mirror of the checking writer ([`super::write`]). Every event the format gives
//! (a string, an integer, a map's key...) is checked against [`Expect`] before the typed
//! value's visitor sees it, by the rules the [`Validator`](super::Validator) applies to
//! the JSON value those same events would build. So whatever the typed value's own
//! `Deserialize` makes of them, it is read only from what the validator accepts.
//! Anything this reader is unsure of stops it with [`NotRead`]: an invalid value, but
//! also a form it leaves alone (`any`, `bytes`, a repeated key, a typed value that reads
//! less than the whole map...). The server then reads the request as values, which finds
//! what is wrong and says so in the protocol's terms.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use telepact_schema::TypeKind;

use super::compiled::Compiled;
use super::expect::Expect;
use super::keys::{FieldCheck, MapKeys, Seen};
pub(crate) use compound::StructSeed;
use compound::{CheckedEnum, CheckedMap, CheckedSeq};

mod compound;
#[cfg(test)]
mod tests;

/// The value did not pass, or took a form this reader leaves to the value path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotRead;

/// Reads a `T` from `deserializer`, which must give what `expect` says.
pub(crate) fn read_checked<'de, T, D>(
    deserializer: D,
    compiled: &Compiled,
    expect: Expect<'_>,
) -> Result<T, NotRead>
where
    T: de::Deserialize<'de>,
    D: Deserializer<'de>,
{
    let checked = CheckedDe {
        inner: deserializer,
        expect,
        scope: Scope::root(compiled),
    };
    T::deserialize(checked).map_err(|_| NotRead)
}

/// How many arrays and maps `serde_json` opens at most on the path from a message's
/// root to any value (its default recursion limit); the MessagePack reader keeps to it
/// too, so a message reads the same in either encoding.
pub(crate) const JSON_NESTING_LIMIT: u16 = 127;

/// How many maps and lists a function's arguments may nest, themselves included: as
/// many as the value path reads in a JSON request, on whose path from the message's
/// root the array and the body's map come first. The typed value's own `Deserialize`
/// recurses along the data, with frames this reader cannot bound (about 5 KB a level
/// unoptimised); a deeper value is left to the value path, which refuses it.
const NESTING_LIMIT: u16 = JSON_NESTING_LIMIT - 2;

/// The schema, and how many more maps and lists may open below this point.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'c> {
    pub(crate) compiled: &'c Compiled,
    levels: u16,
}

impl<'c> Scope<'c> {
    /// The scope of a function's arguments.
    pub(crate) fn root(compiled: &'c Compiled) -> Self {
        Scope {
            compiled,
            levels: NESTING_LIMIT,
        }
    }

    /// The scope inside one more map or list; `None` past the limit.
    #[inline]
    pub(crate) fn nested(self) -> Option<Scope<'c>> {
        let levels = self.levels.checked_sub(1)?;
        Some(Scope { levels, ..self })
    }
}

pub(crate) fn not_read<E: de::Error>() -> E {
    E::custom("not read: left to the value path")
}

fn check<E: de::Error>(ok: bool) -> Result<(), E> {
    if ok { Ok(()) } else { Err(not_read()) }
}

/// Whether this reader reads a value of `expect` at all. `any` and `bytes` are left
/// to the value path (a JSON value's forms, base64 text), as are the mock types.
#[inline]
pub(crate) fn readable(expect: Expect<'_>) -> bool {
    !expect.any()
        && !matches!(
            expect.kind(),
            Some(TypeKind::Bytes | TypeKind::Select | TypeKind::MockCall | TypeKind::MockStub)
        )
}

/// A deserializer that checks what `inner` gives against [`Expect`].
pub(super) struct CheckedDe<'c, D> {
    pub(super) inner: D,
    pub(super) expect: Expect<'c>,
    pub(super) scope: Scope<'c>,
}

impl<'c, D> CheckedDe<'c, D> {
    fn visitor<V>(&self, inner: V) -> CheckedVisitor<'c, V> {
        CheckedVisitor {
            inner,
            expect: self.expect,
            scope: self.scope,
        }
    }
}

/// The `deserialize_*` methods handed on as they are, with the visitor checking.
macro_rules! checked_forms {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            check(readable(self.expect))?;
            let visitor = self.visitor(visitor);
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for CheckedDe<'_, D> {
    type Error = D::Error;

    checked_forms!(
        deserialize_any(),
        deserialize_bool(),
        deserialize_i8(),
        deserialize_i16(),
        deserialize_i32(),
        deserialize_i64(),
        deserialize_u8(),
        deserialize_u16(),
        deserialize_u32(),
        deserialize_u64(),
        deserialize_f32(),
        deserialize_f64(),
        deserialize_char(),
        deserialize_str(),
        deserialize_string(),
        deserialize_option(),
        deserialize_unit(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_seq(),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_map(),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_identifier(),
    );

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(not_read())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, D::Error> {
        Err(not_read())
    }

    /// A union is a one-key map: read as a map, handed to the visitor as an enum.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        check(readable(self.expect))?;
        let tags = self.expect.tags(self.scope.compiled).ok_or_else(not_read)?;
        let bridge = EnumFromMap {
            inner: visitor,
            keys: MapKeys::Tag { tags, seen: false },
            scope: self.scope.nested().ok_or_else(not_read)?,
        };
        self.inner.deserialize_map(bridge)
    }

    /// Skipped values are checked too: the value path would check them.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        check(readable(self.expect))?;
        let visitor = self.visitor(visitor);
        self.inner.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Hands a value's deserializer on as a [`CheckedDe`] of what is expected there.
pub(super) struct CheckedSeed<'c, S> {
    pub(super) inner: S,
    pub(super) expect: Expect<'c>,
    pub(super) scope: Scope<'c>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for CheckedSeed<'_, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(CheckedDe {
            inner: deserializer,
            expect: self.expect,
            scope: self.scope,
        })
    }
}

/// A visitor that checks each event against [`Expect`] before handing it on.
struct CheckedVisitor<'c, V> {
    inner: V,
    expect: Expect<'c>,
    scope: Scope<'c>,
}

/// Integer events: checked as the JSON number they make, handed on as they came.
macro_rules! checked_integers {
    ($($method:ident($ty:ty) as $wide:ty: $accepts:ident),* $(,)?) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            check(self.expect.$accepts(<$wide>::from(v)))?;
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for CheckedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    #[inline]
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<V::Value, E> {
        check(self.expect.is(&TypeKind::Boolean))?;
        self.inner.visit_bool(v)
    }

    checked_integers!(
        visit_i8(i8) as i64: accepts_i64,
        visit_i16(i16) as i64: accepts_i64,
        visit_i32(i32) as i64: accepts_i64,
        visit_i64(i64) as i64: accepts_i64,
        visit_u8(u8) as u64: accepts_u64,
        visit_u16(u16) as u64: accepts_u64,
        visit_u32(u32) as u64: accepts_u64,
        visit_u64(u64) as u64: accepts_u64,
    );

    #[inline]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        check(self.expect.accepts_float(v))?;
        self.inner.visit_f64(v)
    }

    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        check(self.expect.is(&TypeKind::String))?;
        self.inner.visit_str(v)
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        check(self.expect.is(&TypeKind::String))?;
        self.inner.visit_borrowed_str(v)
    }

    #[inline]
    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        check(self.expect.is(&TypeKind::String))?;
        self.inner.visit_string(v)
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        check(self.expect.accepts_null())?;
        self.inner.visit_none()
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        check(self.expect.accepts_null())?;
        self.inner.visit_unit()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(CheckedDe {
            inner: deserializer,
            expect: self.expect,
            scope: self.scope,
        })
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(CheckedDe {
            inner: deserializer,
            expect: self.expect,
            scope: self.scope,
        })
    }

    #[inline]
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let Some(TypeKind::Array(item)) = self.expect.kind() else {
            return Err(not_read());
        };
        let mut items = CheckedSeq {
            inner: seq,
            item: Expect::Type(item),
            scope: self.scope.nested().ok_or_else(not_read)?,
            ended: false,
        };
        let value = self.inner.visit_seq(&mut items)?;
        check(items.ended)?;
        Ok(value)
    }

    #[inline]
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let keys = map_keys(self.expect, self.scope.compiled).ok_or_else(not_read)?;
        let scope = self.scope.nested().ok_or_else(not_read)?;
        let mut entries = CheckedMap::new(map, keys, scope);
        let value = self.inner.visit_map(&mut entries)?;
        check(entries.ended_complete())?;
        Ok(value)
    }
}

/// How the keys of a map read where `expect` stands are checked; `None` where no map
/// may stand.
pub(crate) fn map_keys<'c>(expect: Expect<'c>, compiled: &'c Compiled) -> Option<MapKeys<'c>> {
    if let Some(TypeKind::Object(item)) = expect.kind() {
        Some(MapKeys::Entries(Expect::Type(item), Seen::default()))
    } else if let Some(fields) = expect.fields(compiled) {
        Some(MapKeys::Fields(FieldCheck::new(fields)))
    } else if let Some(tags) = expect.tags(compiled) {
        Some(MapKeys::Tag { tags, seen: false })
    } else {
        expect.link(compiled).map(|function| MapKeys::Call {
            function,
            seen: false,
        })
    }
}

/// Reads a union's one-key map and hands it to an enum's visitor.
struct EnumFromMap<'c, V> {
    inner: V,
    keys: MapKeys<'c>,
    scope: Scope<'c>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for EnumFromMap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(formatter)
    }

    #[inline]
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let entries = CheckedMap::new(map, self.keys, self.scope);
        self.inner.visit_enum(CheckedEnum { entries })
    }
}
