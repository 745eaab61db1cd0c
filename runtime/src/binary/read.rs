//! Reading MessagePack straight from the request's bytes: a pass that checks a value's
//! syntax and finds its end without allocating, and one that builds its JSON form.
//!
//! Decoding into `rmpv` values first and converting them afterwards allocated every
//! string and container twice; for a 1,200-item body that was half of a binary call.
//! The syntax is `rmpv::decode::read_value`'s (the reserved marker `0xc1` read as nil,
//! strings checked for UTF-8 only when converted); the nesting limit is JSON's, so a
//! message reads the same in either encoding.

use base64::Engine as _;
use rmp::Marker;
use serde_json::{Map, Value};

use super::convert::{DecodeError, NameBudget, described_key, float_to_json};
use super::encoding::BinaryEncoding;
use crate::base64_paths::{Base64Paths, BytesBelow, MapPlaces};
use crate::base64_text::BASE64;
use crate::message::{HEADER_ROOM, Headers};
use crate::validate::JSON_NESTING_LIMIT;

/// Why bytes are not one MessagePack value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum SyntaxError {
    /// The bytes end inside a value.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// Maps and lists nest deeper than a JSON message may.
    #[error("maps and lists nested deeper than {JSON_NESTING_LIMIT} levels")]
    TooDeep,
}

/// A cursor over MessagePack bytes.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    /// The field-name text the keys read may still produce.
    names: NameBudget,
}

/// How many more maps and lists may open. A message nests no deeper in MessagePack
/// than `serde_json` reads it in JSON ([`JSON_NESTING_LIMIT`]), so the same message gets
/// the same answer in either encoding; a limit this low also keeps the recursion far
/// inside a thread's stack.
#[derive(Clone, Copy)]
struct Depth(u16);

impl Depth {
    /// The headers or the body: an item of the message's frame, the first list.
    const FRAME_ITEM: Depth = Depth(JSON_NESTING_LIMIT - 1);

    /// The depth inside one more map or list.
    #[inline]
    fn enter(self) -> Result<Depth, SyntaxError> {
        self.0.checked_sub(1).map(Depth).ok_or(SyntaxError::TooDeep)
    }
}

/// What a marker announces, its length fields read.
pub(super) enum Head {
    Nil,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(usize),
    Bin(usize),
    Array(usize),
    Map(usize),
    Ext(usize),
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader::with_names(bytes, NameBudget::unlimited())
    }

    /// A reader whose keys may produce at most `names` of field-name text.
    pub(crate) fn with_names(bytes: &'a [u8], names: NameBudget) -> Self {
        Reader { bytes, names }
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes
    }

    #[inline]
    pub(super) fn take(&mut self, count: usize) -> Result<&'a [u8], SyntaxError> {
        if count > self.bytes.len() {
            return Err(SyntaxError::UnexpectedEnd);
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SyntaxError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, SyntaxError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, SyntaxError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, SyntaxError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, SyntaxError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn len32(&mut self) -> Result<usize, SyntaxError> {
        // A length past the address space cannot be satisfied by the bytes anyway.
        usize::try_from(self.u32()?).map_err(|_| SyntaxError::UnexpectedEnd)
    }

    /// Reads a marker and the fixed-size data or length that follows it.
    #[inline]
    pub(super) fn head(&mut self) -> Result<Head, SyntaxError> {
        Ok(match Marker::from_u8(self.u8()?) {
            Marker::Null | Marker::Reserved => Head::Nil,
            Marker::True => Head::Bool(true),
            Marker::False => Head::Bool(false),
            Marker::FixPos(value) => Head::Unsigned(u64::from(value)),
            Marker::FixNeg(value) => Head::Signed(i64::from(value)),
            Marker::U8 => Head::Unsigned(u64::from(self.u8()?)),
            Marker::U16 => Head::Unsigned(u64::from(self.u16()?)),
            Marker::U32 => Head::Unsigned(u64::from(self.u32()?)),
            Marker::U64 => Head::Unsigned(self.u64()?),
            Marker::I8 => Head::Signed(i64::from(i8::from_be_bytes(self.array()?))),
            Marker::I16 => Head::Signed(i64::from(i16::from_be_bytes(self.array()?))),
            Marker::I32 => Head::Signed(i64::from(i32::from_be_bytes(self.array()?))),
            Marker::I64 => Head::Signed(i64::from_be_bytes(self.array()?)),
            Marker::F32 => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            Marker::F64 => Head::Float(f64::from_be_bytes(self.array()?)),
            Marker::FixStr(len) => Head::Str(usize::from(len)),
            Marker::Str8 => Head::Str(usize::from(self.u8()?)),
            Marker::Str16 => Head::Str(usize::from(self.u16()?)),
            Marker::Str32 => Head::Str(self.len32()?),
            Marker::Bin8 => Head::Bin(usize::from(self.u8()?)),
            Marker::Bin16 => Head::Bin(usize::from(self.u16()?)),
            Marker::Bin32 => Head::Bin(self.len32()?),
            Marker::FixArray(len) => Head::Array(usize::from(len)),
            Marker::Array16 => Head::Array(usize::from(self.u16()?)),
            Marker::Array32 => Head::Array(self.len32()?),
            Marker::FixMap(len) => Head::Map(usize::from(len)),
            Marker::Map16 => Head::Map(usize::from(self.u16()?)),
            Marker::Map32 => Head::Map(self.len32()?),
            Marker::FixExt1 => Head::Ext(1),
            Marker::FixExt2 => Head::Ext(2),
            Marker::FixExt4 => Head::Ext(4),
            Marker::FixExt8 => Head::Ext(8),
            Marker::FixExt16 => Head::Ext(16),
            Marker::Ext8 => Head::Ext(usize::from(self.u8()?)),
            Marker::Ext16 => Head::Ext(usize::from(self.u16()?)),
            Marker::Ext32 => Head::Ext(self.len32()?),
        })
    }

    /// The length of the array that starts here, or `None` for any other value (the
    /// reader then stays where it was).
    pub(crate) fn array_len(&mut self) -> Result<Option<usize>, SyntaxError> {
        let mut ahead = *self;
        match ahead.head()? {
            Head::Array(len) => {
                *self = ahead;
                Ok(Some(len))
            }
            _ => Ok(None),
        }
    }

    /// Whether the value that starts here is a map (nothing is read).
    pub(crate) fn at_map(&self) -> Result<bool, SyntaxError> {
        let mut ahead = *self;
        Ok(matches!(ahead.head()?, Head::Map(_)))
    }

    /// Steps over one value, checking its syntax, and returns its bytes.
    #[cfg(test)]
    fn skip_value(&mut self) -> Result<&'a [u8], SyntaxError> {
        self.skip_within(Depth(JSON_NESTING_LIMIT))
    }

    /// `skip_value` for an item of the message's frame, whose array
    /// [`Reader::array_len`] has just read.
    pub(crate) fn skip_item(&mut self) -> Result<&'a [u8], SyntaxError> {
        self.skip_within(Depth::FRAME_ITEM)
    }

    fn skip_within(&mut self, depth: Depth) -> Result<&'a [u8], SyntaxError> {
        let start = self.bytes;
        self.skip(depth)?;
        Ok(&start[..start.len() - self.bytes.len()])
    }

    fn skip(&mut self, depth: Depth) -> Result<(), SyntaxError> {
        match self.head()? {
            Head::Str(len) | Head::Bin(len) => {
                self.take(len)?;
            }
            Head::Ext(len) => {
                // The extension's type byte, then its data.
                self.take(1)?;
                self.take(len)?;
            }
            Head::Array(len) => {
                let items = depth.enter()?;
                for _ in 0..len {
                    self.skip(items)?;
                }
            }
            Head::Map(len) => {
                let entries = depth.enter()?;
                for _ in 0..len {
                    self.skip(entries)?;
                    self.skip(entries)?;
                }
            }
            Head::Nil | Head::Bool(_) | Head::Unsigned(_) | Head::Signed(_) | Head::Float(_) => {}
        }
        Ok(())
    }

    /// Steps over the value that starts here, as `skip` does, taking from `left` the
    /// least memory its decoded form needs: a `serde_json::Value` for it and for each map
    /// key, and its text (a binary's as base64). `Ok(false)` once `left` runs out, the
    /// rest unread.
    pub(crate) fn skip_costing(&mut self, left: &mut usize) -> Result<bool, SyntaxError> {
        self.cost(Depth(JSON_NESTING_LIMIT), left)
    }

    fn cost(&mut self, depth: Depth, left: &mut usize) -> Result<bool, SyntaxError> {
        let head = self.head()?;
        let text = match head {
            Head::Str(len) => len,
            Head::Bin(len) => len.div_ceil(3).saturating_mul(4),
            _ => 0,
        };
        let Some(rest) = left.checked_sub(size_of::<Value>().saturating_add(text)) else {
            return Ok(false);
        };
        *left = rest;
        let items = match head {
            Head::Str(len) | Head::Bin(len) => {
                self.take(len)?;
                0
            }
            Head::Ext(len) => {
                self.take(len.saturating_add(1))?;
                0
            }
            Head::Array(len) => len,
            // A key costs as a value does.
            Head::Map(len) => len.saturating_mul(2),
            Head::Nil | Head::Bool(_) | Head::Unsigned(_) | Head::Signed(_) | Head::Float(_) => 0,
        };
        if items > 0 {
            let inside = depth.enter()?;
            for _ in 0..items {
                if !self.cost(inside, left)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Reads a message's body, the map that starts here, as a JSON object (see
    /// [`Reader::json`]), nested as deep as an item of the frame may.
    pub(crate) fn json_object(
        &mut self,
        encoding: Option<&BinaryEncoding>,
    ) -> Result<Map<String, Value>, DecodeError> {
        let Head::Map(len) = self.head()? else {
            return Err(DecodeError::Malformed("not a map".into()));
        };
        self.entries(len, encoding, Depth::FRAME_ITEM.enter()?, 0)
    }

    /// Reads one value as JSON: integer keys become the encoding's names (without an
    /// encoding they are refused), binary becomes base64 text; as
    /// [`pack_to_json`](super::convert::pack_to_json) does for an `rmpv` value.
    fn json(
        &mut self,
        encoding: Option<&BinaryEncoding>,
        depth: Depth,
    ) -> Result<Value, DecodeError> {
        Ok(match self.head()? {
            Head::Nil => Value::Null,
            Head::Bool(flag) => Value::Bool(flag),
            Head::Unsigned(int) => Value::from(int),
            Head::Signed(int) => Value::from(int),
            Head::Float(float) => float_to_json(float)?,
            Head::Str(len) => Value::String(self.text(len)?),
            Head::Bin(len) => Value::String(BASE64.encode(self.take(len)?)),
            Head::Ext(len) => {
                let kind = i8::from_be_bytes(self.array()?);
                self.take(len)?;
                return Err(DecodeError::UnexpectedExtension(kind));
            }
            Head::Array(len) => {
                let items_depth = depth.enter()?;
                // Never trust a declared length for an allocation: each item takes a byte,
                // and a nested list would reserve again for the same bytes.
                let mut items = Vec::with_capacity(reserved(len, self.bytes.len()));
                for _ in 0..len {
                    items.push(self.json(encoding, items_depth)?);
                }
                Value::Array(items)
            }
            Head::Map(len) => Value::Object(self.entries(len, encoding, depth.enter()?, 0)?),
        })
    }

    /// Where the body that starts here holds MessagePack binaries, the places a JSON
    /// body's `@base64_` header names: map keys through `encoding`, `*` for a list's
    /// items. Reads past the body without building its values.
    pub(crate) fn bytes_paths(
        &mut self,
        encoding: &BinaryEncoding,
    ) -> Result<Base64Paths, DecodeError> {
        let below = self.bytes_below(encoding, Depth::FRAME_ITEM)?;
        Ok(Base64Paths::of_body(below))
    }

    fn bytes_below(
        &mut self,
        encoding: &BinaryEncoding,
        depth: Depth,
    ) -> Result<BytesBelow, DecodeError> {
        let start = *self;
        Ok(match self.head()? {
            Head::Bin(len) => {
                self.take(len)?;
                BytesBelow::here()
            }
            Head::Array(len) => {
                let items = depth.enter()?;
                let mut every = BytesBelow::default();
                for _ in 0..len {
                    every.join(self.bytes_below(encoding, items)?);
                }
                BytesBelow::in_list(every)
            }
            Head::Map(len) => {
                let entries = depth.enter()?;
                let mut places = MapPlaces::default();
                for _ in 0..len {
                    let key = self.key_text(Some(encoding))?;
                    let below = self.bytes_below(encoding, entries)?;
                    if below.holds_bytes() {
                        self.names.spend(key)?;
                    }
                    places.add(key, below);
                }
                places.finish()
            }
            // Anything else holds no binary: passed over from its head, as `skip` does.
            _ => {
                *self = start;
                self.skip(depth)?;
                BytesBelow::default()
            }
        })
    }

    /// Reads a message's headers (keys as they are), with room for
    /// [`HEADER_ROOM`] more, which the server and the auth
    /// hook add to a request.
    pub(crate) fn headers(&mut self) -> Result<Headers, DecodeError> {
        let Head::Map(len) = self.head()? else {
            return Err(DecodeError::Malformed("not a map".into()));
        };
        let depth = Depth::FRAME_ITEM.enter()?;
        if len == 0 {
            return Ok(Headers::new());
        }
        // Never trust a declared length for an allocation: each entry takes two bytes.
        let mut headers = Headers::with_capacity(len.min(self.bytes.len() / 2) + HEADER_ROOM);
        for _ in 0..len {
            let name = self.key(None)?;
            let value = self.json(None, depth)?;
            headers.insert(name, value);
        }
        Ok(headers)
    }

    /// The `len` entries of a map, with room for `room` more.
    fn entries(
        &mut self,
        len: usize,
        encoding: Option<&BinaryEncoding>,
        depth: Depth,
        room: usize,
    ) -> Result<Map<String, Value>, DecodeError> {
        // Never trust a declared length for an allocation: each entry takes two bytes,
        // and a nested map would reserve again for the same bytes. An empty map stays
        // without room: nothing is allocated.
        let room = if len == 0 { 0 } else { room };
        let mut object = Map::with_capacity(reserved(len, self.bytes.len() / 2) + room);
        for _ in 0..len {
            let key = self.key(encoding)?;
            let value = self.json(encoding, depth)?;
            object.insert(key, value);
        }
        Ok(object)
    }

    fn text(&mut self, len: usize) -> Result<String, DecodeError> {
        self.str(len).map(str::to_owned)
    }

    fn str(&mut self, len: usize) -> Result<&'a str, DecodeError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// A map key as a field name: a string as it is, an integer through `encoding`.
    fn key(&mut self, encoding: Option<&BinaryEncoding>) -> Result<String, DecodeError> {
        let key = self.key_text(encoding)?;
        self.names.spend(key)?;
        Ok(key.to_owned())
    }

    /// [`Reader::key`], not copied.
    fn key_text<'s>(&mut self, encoding: Option<&'s BinaryEncoding>) -> Result<&'s str, DecodeError>
    where
        'a: 's,
    {
        let start = *self;
        let wide = match self.head()? {
            Head::Str(len) => return self.str(len),
            Head::Unsigned(int) => i128::from(int),
            Head::Signed(int) => i128::from(int),
            _ => return Err(DecodeError::UnsupportedKey(start.describe())),
        };
        let name = encoding
            .zip(u64::try_from(wide).ok())
            .and_then(|(encoding, id)| encoding.name(id));
        // A `match`, not `ok_or`: an error built for every key and dropped unused costs
        // 3 % of a large binary request (callgrind).
        match name {
            Some(name) => Ok(name),
            None => Err(DecodeError::UnknownFieldId(wide)),
        }
    }

    /// The value that starts here as `rmpv` displays it, clipped, for an error message. Its
    /// nesting is checked first: `rmpv` recurses as deep as 1,024 levels, which overflows
    /// a thread's stack in an unoptimised build, and the bytes may not have been checked
    /// yet (a request read in one walk).
    fn describe(mut self) -> String {
        let mut value = self;
        if let Err(error) = value.skip(Depth(JSON_NESTING_LIMIT)) {
            return error.to_string();
        }
        rmpv::decode::read_value(&mut self.bytes)
            .map_or_else(|error| error.to_string(), |key| described_key(&key))
    }
}

/// The most entries a list or map reserves room for before holding them: past it, it
/// grows as its entries come. A declared length is the sender's word, and each level of
/// a nested value would otherwise reserve for the same bytes left, so that 120 nested
/// maps claiming 2^32 entries each reserved gigabytes for one megabyte of request.
const MOST_RESERVED: usize = 256;

/// Room to reserve for `declared` entries when at most `fitting` can follow.
pub(crate) fn reserved(declared: usize, fitting: usize) -> usize {
    declared.min(fitting).min(MOST_RESERVED)
}

impl From<SyntaxError> for DecodeError {
    fn from(error: SyntaxError) -> Self {
        DecodeError::Malformed(error.to_string())
    }
}

#[cfg(test)]
mod tests;
