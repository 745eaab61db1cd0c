//! MessagePack for the checking writer ([`super::checked`]): the bytes the binary
//! encoder writes for the JSON values of the same result, written by the
//! [`PackSerializer`]'s methods. A struct's field takes its id from the schema's own
//! field table (when the encoding is the schema's) instead of being looked up by name.

use serde::Serialize;
use serde::ser::Serializer;

use super::checked::{Format, write_checked};
use super::{Expect, NotWritten, not_written};
use crate::binary::{BinaryEncoding, PackError, PackSerializer};
use crate::validate::compiled::{Compiled, FieldSet, TagSet};

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
    let pack = Pack {
        pack: PackSerializer::new(out, encoding),
        encoding,
        own_ids: compiled.binary_checksum == encoding.checksum(),
    };
    let written = write_checked(value, compiled, Expect::Tags(result), pack);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

struct Pack<'o, 'e> {
    pack: PackSerializer<'o, 'e>,
    encoding: &'e BinaryEncoding,
    /// The encoding is the schema's own, so the field ids of the schema's tables are its.
    own_ids: bool,
}

impl Format for Pack<'_, '_> {
    type Error = PackError;
    /// MessagePack announces each map's and list's length before its entries.
    const COUNTED: bool = true;

    #[inline(always)]
    fn bool(&mut self, v: bool) -> Result<(), PackError> {
        (&mut self.pack).serialize_bool(v)
    }

    #[inline(always)]
    fn i64(&mut self, v: i64) -> Result<(), PackError> {
        (&mut self.pack).serialize_i64(v)
    }

    fn u64(&mut self, v: u64) -> Result<(), PackError> {
        (&mut self.pack).serialize_u64(v)
    }

    #[inline(always)]
    fn f64(&mut self, v: f64) -> Result<(), PackError> {
        (&mut self.pack).serialize_f64(v)
    }

    #[inline(always)]
    fn str(&mut self, v: &str) -> Result<(), PackError> {
        (&mut self.pack).serialize_str(v)
    }

    #[inline(always)]
    fn null(&mut self) -> Result<(), PackError> {
        (&mut self.pack).serialize_unit()
    }

    #[inline(always)]
    fn open_list(&mut self, len: Option<usize>) -> Result<(), PackError> {
        self.pack
            .open_array(len.ok_or_else(not_written::<PackError>)?)
    }

    #[inline(always)]
    fn item(&mut self, _first: bool) {}

    #[inline(always)]
    fn close_list(&mut self) -> Result<(), PackError> {
        Ok(())
    }

    #[inline(always)]
    fn open_map(&mut self, len: Option<usize>) -> Result<(), PackError> {
        self.pack
            .open_map(len.ok_or_else(not_written::<PackError>)?)
    }

    fn key(&mut self, _first: bool, key: &str) -> Result<(), PackError> {
        self.pack.key(key)
    }

    #[inline(always)]
    fn field(
        &mut self,
        _first: bool,
        fields: &FieldSet,
        index: usize,
        key: &str,
    ) -> Result<(), PackError> {
        let id = match self.own_ids {
            true => fields.ids.get(index).copied().flatten(),
            false => self.encoding.id(key),
        };
        self.pack.write_key(key, id)
    }

    #[inline(always)]
    fn close_map(&mut self) -> Result<(), PackError> {
        Ok(())
    }
}
