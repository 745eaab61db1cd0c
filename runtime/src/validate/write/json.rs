//! JSON for the checking writer ([`super::checked`]): scalars and map keys are written
//! by `serde_json`'s own serializer, so numbers and escapes are its bytes, and lists and
//! maps get the punctuation of its compact form. A struct's keys are the schema's,
//! rendered once with `serde_json` (quotes, escapes and colon) when the schema was
//! compiled, and copied as they are.

use serde::Serialize;
use serde::ser::Serializer;

use super::checked::{Format, write_checked};
use super::{Expect, NotWritten};
use crate::json_text::string_stop;
use crate::validate::compiled::{Compiled, FieldSet};

/// Writes `value`, which must be what `expect` says, as JSON at the end of `out`; see
/// [`super::write_value`].
pub(super) fn write_json<T: Serialize + ?Sized>(
    value: &T,
    compiled: &Compiled,
    expect: Expect<'_>,
    out: &mut Vec<u8>,
) -> Result<Option<&'static str>, NotWritten> {
    write_checked(value, compiled, expect, Json { out })
}

struct Json<'o> {
    out: &'o mut Vec<u8>,
}

impl Json<'_> {
    /// `serde_json`'s serializer over the answer's bytes, for one scalar or key.
    fn json(&mut self) -> serde_json::Serializer<&mut Vec<u8>> {
        serde_json::Serializer::new(&mut *self.out)
    }

    fn comma(&mut self, first: bool) {
        if !first {
            self.out.push(b',');
        }
    }
}

impl Format for Json<'_> {
    type Error = serde_json::Error;
    const COUNTED: bool = false;

    #[inline(always)]
    fn bool(&mut self, v: bool) -> Result<(), Self::Error> {
        self.json().serialize_bool(v)
    }

    #[inline(always)]
    fn i64(&mut self, v: i64) -> Result<(), Self::Error> {
        self.json().serialize_i64(v)
    }

    fn u64(&mut self, v: u64) -> Result<(), Self::Error> {
        self.json().serialize_u64(v)
    }

    #[inline(always)]
    fn f64(&mut self, v: f64) -> Result<(), Self::Error> {
        self.json().serialize_f64(v)
    }

    #[inline(always)]
    fn str(&mut self, v: &str) -> Result<(), Self::Error> {
        // Text with nothing to escape is copied between quotes, as `serde_json` would
        // write it, without its byte-by-byte escape table.
        if string_stop(v.as_bytes(), true).is_none() {
            self.out.reserve(v.len() + 2);
            self.out.push(b'"');
            self.out.extend_from_slice(v.as_bytes());
            self.out.push(b'"');
            return Ok(());
        }
        self.json().serialize_str(v)
    }

    #[inline(always)]
    fn null(&mut self) -> Result<(), Self::Error> {
        self.json().serialize_unit()
    }

    #[inline(always)]
    fn open_list(&mut self, _len: Option<usize>) -> Result<(), Self::Error> {
        self.out.push(b'[');
        Ok(())
    }

    #[inline(always)]
    fn item(&mut self, first: bool) {
        self.comma(first);
    }

    #[inline(always)]
    fn close_list(&mut self) -> Result<(), Self::Error> {
        self.out.push(b']');
        Ok(())
    }

    #[inline(always)]
    fn open_map(&mut self, _len: Option<usize>) -> Result<(), Self::Error> {
        self.out.push(b'{');
        Ok(())
    }

    fn key(&mut self, first: bool, key: &str) -> Result<(), Self::Error> {
        self.comma(first);
        self.str(key)?;
        self.out.push(b':');
        Ok(())
    }

    #[inline(always)]
    fn field(
        &mut self,
        first: bool,
        fields: &FieldSet,
        index: usize,
        key: &str,
    ) -> Result<(), Self::Error> {
        match fields.json_keys.get(index) {
            Some(rendered) => {
                self.comma(first);
                self.out.extend_from_slice(rendered.as_bytes());
                Ok(())
            }
            None => self.key(first, key),
        }
    }

    #[inline(always)]
    fn close_map(&mut self) -> Result<(), Self::Error> {
        self.out.push(b'}');
        Ok(())
    }
}
