//! Writes a typed result as JSON, or as the MessagePack body of a binary answer, while
//! checking it against the schema: how the server answers a typed handler without first
//! building the answer as JSON values. One serializer ([`checked`]) checks every value and
//! has the format ([`json`], [`pack`]) write it in the same call; the rules of what a
//! list's items, a map's keys or a variant's payload must be are here.
//!
//! It accepts only what the [`Validator`](super::Validator) accepts in the value that
//! `serde_json::to_value` would make, and writes the bytes `serde_json` (or the binary
//! encoder) would write for that value. Whatever it is unsure of stops it with
//! [`NotWritten`]: an invalid value, but also a form it leaves alone (`f32`, `i128`, a
//! non-string map key, a repeated key...). The server then takes the value path, which
//! finds what is wrong and says so in the protocol's terms, so this module never has to.

use serde::Serialize;
use serde::ser;
use telepact_schema::TypeKind;

use super::compiled::{Compiled, TagSet};
pub(crate) use super::expect::Expect;
use super::keys::{FieldCheck, MapKeys, Seen};
pub(crate) use key_text::KeyText;

#[cfg(test)]
pub(super) mod binary_tests;
mod checked;
mod json;
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
    let written = json::write_json(value, compiled, expect, out);
    if written.is_err() {
        out.truncate(start);
    }
    written
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
