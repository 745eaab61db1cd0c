//! Writes a typed result as JSON, or as the MessagePack body of a binary answer, while
//! checking it against the schema: how the server answers a typed handler without first
//! building the answer as JSON values. JSON is written by [`Checked`] around
//! `serde_json`'s serializer; MessagePack by [`pack`], which checks and writes in one
//! layer by the same rules.
//!
//! It accepts only what the [`Validator`](super::Validator) accepts in the value that
//! `serde_json::to_value` would make, and writes the bytes `serde_json` (or the binary
//! encoder) would write for that value. Whatever it is unsure of stops it with
//! [`NotWritten`]: an invalid value, but also a form it leaves alone (`f32`, `i128`, a
//! non-string map key, a repeated key...). The server then takes the value path, which
//! finds what is wrong and says so in the protocol's terms, so this module never has to.

use std::cell::Cell;

use serde::Serialize;
use serde::ser::{self, Serializer};
use telepact_schema::TypeKind;

use super::compiled::{Compiled, TagSet};
pub(crate) use super::expect::Expect;
use super::keys::{FieldCheck, MapKeys, Seen};
use super::value::is_base64;
use compound::{CheckedMap, CheckedSeq, CheckedStruct};
pub(crate) use key_text::KeyText;

#[cfg(test)]
pub(super) mod binary_tests;
mod compound;
mod key_text;
mod pack;
pub(crate) use pack::write_result_binary;
#[cfg(test)]
pub(super) mod tests;

/// The value did not pass, or took a form this writer leaves to the value path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotWritten;

/// Writes `value`, a function's result (`{"Ok_": {..}}`), as JSON at the end of `out`,
/// checked against `result`. Returns the result tag when the value gave it as a variant
/// name. On [`NotWritten`], `out` is as it was.
pub(crate) fn write_result<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    result: &TagSet,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    write_value(value, compiled, Expect::Tags(result), out)
}

/// Writes `value`, which must be what `expect` says, as JSON at the end of `out`; see
/// [`write_result`].
pub(crate) fn write_value<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    expect: Expect<'_>,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    let start = out.len();
    let mut json = serde_json::Serializer::new(&mut *out);
    let written = write_through(value, compiled, expect, &mut json);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

/// Checks `value` against `expect` while `inner` writes it; the result's tag when the
/// value named it as a variant.
fn write_through<T: Serialize + ?Sized, S: Serializer<Ok = ()>>(
    value: &T,
    compiled: &Compiled,
    expect: Expect<'_>,
    inner: S,
) -> Result<Option<&'static str>, NotWritten> {
    let tag = Cell::new(None);
    let checked = Checked {
        inner,
        expect,
        compiled,
        tag: Some(&tag),
    };
    match value.serialize(checked) {
        Ok(()) => Ok(tag.get()),
        Err(_) => Err(NotWritten),
    }
}

/// Cold: a refusal ends the pass, and kept out of line it leaves the checks small
/// enough to inline.
#[cold]
#[inline(never)]
fn not_written<E: ser::Error>() -> E {
    E::custom("not written: left to the value path")
}

#[inline(always)]
fn check<E: ser::Error>(ok: bool) -> Result<(), E> {
    if ok { Ok(()) } else { Err(not_written()) }
}

/// What the items of a list written where `expect` stands must be.
#[inline]
fn seq_item(expect: Expect<'_>) -> Option<Expect<'_>> {
    match expect.kind() {
        _ if expect.any() => Some(Expect::Any),
        Some(TypeKind::Array(item)) => Some(Expect::Type(item)),
        _ => None,
    }
}

/// How the keys of a map written where `expect` stands are checked.
fn map_keys<'c>(expect: Expect<'c>, compiled: &'c Compiled) -> Option<MapKeys<'c>> {
    Some(if expect.any() {
        MapKeys::Entries(Expect::Any, Seen::default())
    } else if let Some(TypeKind::Object(item)) = expect.kind() {
        MapKeys::Entries(Expect::Type(item), Seen::default())
    } else if let Some(fields) = expect.fields(compiled) {
        MapKeys::Fields(FieldCheck::new(fields))
    } else if let Some(tags) = expect.tags(compiled) {
        MapKeys::Tag { tags, seen: false }
    } else {
        MapKeys::Call {
            function: expect.link(compiled)?,
            seen: false,
        }
    })
}

/// What the payload of `variant` (`{variant: payload}`) written where `expect` stands
/// must be; with the variant when it is a union's tag.
fn variant_payload<'c, E: ser::Error>(
    expect: Expect<'c>,
    compiled: &'c Compiled,
    variant: &'static str,
) -> Result<(Expect<'c>, Option<&'static str>), E> {
    if expect.any() {
        return Ok((Expect::Any, None));
    }
    if let Some(function) = expect.link(compiled) {
        check(variant == function.name)?;
        return Ok((Expect::Fields(&function.args), None));
    }
    let tags = expect.tags(compiled).ok_or_else(not_written)?;
    let entry = tags.find(variant).ok_or_else(not_written)?;
    Ok((Expect::Fields(&entry.fields), Some(variant)))
}

/// A serializer that checks each value against [`Expect`] and hands it to `inner`.
struct Checked<'c, S> {
    inner: S,
    expect: Expect<'c>,
    compiled: &'c Compiled,
    /// At the root only: where the result's tag goes.
    tag: Option<&'c Cell<Option<&'static str>>>,
}

/// A value to write through [`Checked`] from inside a compound.
struct CheckedValue<'a, 'c, T: ?Sized> {
    value: &'a T,
    expect: Expect<'c>,
    compiled: &'c Compiled,
}

impl<T: Serialize + ?Sized> Serialize for CheckedValue<'_, '_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Checked {
            inner: serializer,
            expect: self.expect,
            compiled: self.compiled,
            tag: None,
        })
    }
}

impl<'c, S: Serializer> Checked<'c, S> {
    fn nested<'a, T: ?Sized>(&self, value: &'a T, expect: Expect<'c>) -> CheckedValue<'a, 'c, T> {
        CheckedValue {
            value,
            expect,
            compiled: self.compiled,
        }
    }
}

impl<'c, S: Serializer> Serializer for Checked<'c, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = CheckedSeq<'c, S::SerializeSeq>;
    type SerializeTuple = CheckedSeq<'c, S::SerializeTuple>;
    type SerializeTupleStruct = CheckedSeq<'c, S::SerializeTupleStruct>;
    type SerializeTupleVariant = CheckedSeq<'c, S::SerializeTupleVariant>;
    type SerializeMap = CheckedMap<'c, S::SerializeMap>;
    type SerializeStruct = CheckedStruct<'c, S::SerializeStruct>;
    type SerializeStructVariant = CheckedStruct<'c, S::SerializeStructVariant>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        check(self.expect.is(&TypeKind::Boolean))?;
        self.inner.serialize_bool(v)
    }

    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        check(self.expect.accepts_integer())?;
        self.inner.serialize_i64(v)
    }

    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.serialize_i64(v.into())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        check(self.expect.accepts_u64(v))?;
        match i64::try_from(v) {
            Ok(v) => self.inner.serialize_i64(v),
            Err(_) => self.inner.serialize_u64(v),
        }
    }

    fn serialize_f32(self, _v: f32) -> Result<S::Ok, S::Error> {
        // `to_value` widens it to `f64` and writes other digits than `f32` does.
        Err(not_written())
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        check(self.expect.accepts_float(v))?;
        self.inner.serialize_f64(v)
    }

    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        check(self.expect.is(&TypeKind::String))?;
        self.inner.serialize_char(v)
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        let fits = self.expect.is(&TypeKind::String)
            || (self.expect.kind() == Some(&TypeKind::Bytes) && is_base64(v));
        check(fits)?;
        self.inner.serialize_str(v)
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<S::Ok, S::Error> {
        Err(not_written())
    }

    #[inline]
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        check(self.expect.accepts_null())?;
        self.inner.serialize_none()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        check(self.expect.accepts_null())?;
        self.inner.serialize_unit()
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        check(self.expect.any())?;
        self.inner.serialize_unit_struct(name)
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        check(self.expect.any())?;
        self.inner.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // `serde_json` writes a newtype struct as its content.
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let (payload, tag) = variant_payload(self.expect, self.compiled, variant)?;
        if let (Some(cell), Some(tag)) = (self.tag, tag) {
            cell.set(Some(tag));
        }
        let value = self.nested(value, payload);
        self.inner
            .serialize_newtype_variant(name, index, variant, &value)
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let item = seq_item(self.expect).ok_or_else(not_written)?;
        Ok(CheckedSeq {
            inner: self.inner.serialize_seq(len)?,
            item,
            compiled: self.compiled,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        check(self.expect.any())?;
        Ok(CheckedSeq {
            inner: self.inner.serialize_tuple(len)?,
            item: Expect::Any,
            compiled: self.compiled,
        })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        check(self.expect.any())?;
        Ok(CheckedSeq {
            inner: self.inner.serialize_tuple_struct(name, len)?,
            item: Expect::Any,
            compiled: self.compiled,
        })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        check(self.expect.any())?;
        Ok(CheckedSeq {
            inner: self
                .inner
                .serialize_tuple_variant(name, index, variant, len)?,
            item: Expect::Any,
            compiled: self.compiled,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let keys = map_keys(self.expect, self.compiled).ok_or_else(not_written)?;
        Ok(CheckedMap {
            inner: self.inner.serialize_map(len)?,
            keys,
            value: None,
            compiled: self.compiled,
        })
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let fields = self.expect.fields(self.compiled).ok_or_else(not_written)?;
        Ok(CheckedStruct {
            inner: self.inner.serialize_struct(name, len)?,
            fields: FieldCheck::new(fields),
            compiled: self.compiled,
        })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        // Generated unions write their payload as a struct of its own.
        Err(not_written())
    }
}
