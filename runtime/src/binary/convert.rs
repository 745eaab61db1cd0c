//! JSON values ⇄ MessagePack values, swapping object keys for field ids on the way.

use base64::Engine as _;
use rmpv::Value as Pack;
use serde_json::{Map, Number, Value};
use telepact_schema::Schema;

use super::encoding::BinaryEncoding;
#[cfg(test)]
use super::shape::Shape;
use crate::base64_paths::{Base64Paths, BytesBelow, MapPlaces};
use crate::base64_text::BASE64;

/// Why a MessagePack value has no JSON form under an encoding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// An integer key is not an id of the encoding.
    #[error("no field has id {0}")]
    UnknownFieldId(i128),
    /// A map key is neither a string nor an integer field id (shown as `rmpv` displays
    /// it, its first 128 bytes and the length of the whole when longer).
    #[error("map key {0} is neither a string nor a field id")]
    UnsupportedKey(String),
    /// A MessagePack extension value outside a packed list.
    #[error("unexpected MessagePack extension type {0}")]
    UnexpectedExtension(i8),
    /// NaN or an infinity, which JSON cannot hold.
    #[error("number {0} is not finite")]
    NonFiniteNumber(f64),
    /// A string that is not UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A packed list (`@pac_`) whose header or rows are malformed.
    #[error("malformed packed list: {0}")]
    MalformedPackedList(&'static str),
    /// Not MessagePack (the message's frame is checked first, so a decoded body
    /// never is).
    #[error("not MessagePack: {0}")]
    Malformed(String),
    /// The field names the body's keys stand for would take more text than an answer of
    /// its size may: 128 times its length, plus 1 MiB.
    #[error("the body's field names would take more than {0} bytes of text")]
    NamesPastBudget(usize),
}

/// How many bytes of field names an answer's keys may stand for, per byte of answer.
/// A one-byte field id stands for a name `@enc_` gives once, however long: a 63 KB
/// answer referring 10,000 times to a 32 KiB name cost a client 280 MB. As the schema
/// loader bounds what YAML aliases expand to, a client reads at most 128 times the
/// answer's length, plus [`NAME_TEXT_FLOOR`]: names of a few dozen bytes, each
/// referred to by a byte and followed by a value, stay far within it.
const NAME_TEXT_PER_BYTE: usize = 128;
/// The names any answer may stand for, however short, so a small answer never meets
/// the budget.
const NAME_TEXT_FLOOR: usize = 1 << 20;

/// What is left of the field-name text a body being decoded may still produce.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NameBudget {
    limit: usize,
    left: usize,
}

impl NameBudget {
    /// No bound: a server reads names of its own schema.
    pub(crate) fn unlimited() -> Self {
        NameBudget {
            limit: usize::MAX,
            left: usize::MAX,
        }
    }

    /// The budget of a client reading an answer of `length` bytes.
    pub(crate) fn for_answer(length: usize) -> Self {
        let limit = length
            .saturating_mul(NAME_TEXT_PER_BYTE)
            .saturating_add(NAME_TEXT_FLOOR);
        NameBudget { limit, left: limit }
    }

    /// Counts `name` against the budget.
    pub(crate) fn spend(&mut self, name: &str) -> Result<(), DecodeError> {
        match self.left.checked_sub(name.len()) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(DecodeError::NamesPastBudget(self.limit)),
        }
    }
}

/// Turns JSON into MessagePack: object keys with a field id become that integer, and
/// strings at `bytes` positions (base64 on the JSON side) become raw binary.
pub(crate) struct Encoder<'a> {
    pub(crate) encoding: Option<&'a BinaryEncoding>,
    pub(crate) schema: Option<&'a Schema>,
}

impl<'a> Encoder<'a> {
    /// Keys and values as they are: for headers.
    pub(crate) fn plain() -> Self {
        Encoder {
            encoding: None,
            schema: None,
        }
    }
}

/// The same conversion as the streaming writers (`stream.rs`, `pack_stream.rs`), as a
/// MessagePack tree: the plain statement of the rules that tests hold the writers to.
#[cfg(test)]
impl<'a> Encoder<'a> {
    pub(crate) fn value(&self, value: &Value, shape: Shape<'a>) -> Pack {
        match value {
            Value::Null => Pack::Nil,
            Value::Bool(flag) => Pack::Boolean(*flag),
            Value::Number(number) => number_to_pack(number),
            Value::String(text) => self.string(text, shape),
            Value::Array(items) => {
                let element = shape.element();
                Pack::Array(items.iter().map(|item| self.value(item, element)).collect())
            }
            Value::Object(entries) => self.object(entries, shape),
        }
    }

    pub(crate) fn object(&self, entries: &Map<String, Value>, shape: Shape<'a>) -> Pack {
        Pack::Map(
            entries
                .iter()
                .map(|(key, item)| {
                    (
                        self.key(key),
                        self.value(item, shape.entry(self.schema, key)),
                    )
                })
                .collect(),
        )
    }

    fn string(&self, text: &str, shape: Shape<'a>) -> Pack {
        if shape.is_bytes() {
            // A string that is not base64 goes as it is; the peer's validator reports it.
            if let Ok(bytes) = BASE64.decode(text) {
                return Pack::Binary(bytes);
            }
        }
        Pack::String(text.into())
    }

    fn key(&self, key: &str) -> Pack {
        match self.encoding.and_then(|encoding| encoding.id(key)) {
            Some(id) => Pack::from(id),
            None => Pack::String(key.into()),
        }
    }
}

#[cfg(test)]
fn number_to_pack(number: &Number) -> Pack {
    if let Some(int) = number.as_i64() {
        Pack::from(int)
    } else if let Some(int) = number.as_u64() {
        Pack::from(int)
    } else {
        Pack::F64(number.as_f64().unwrap_or(f64::NAN))
    }
}

/// Turns MessagePack into JSON: integer keys become the encoding's names (without an
/// encoding they are refused), binary becomes base64 text.
#[cfg(test)]
pub(crate) fn pack_to_json(
    value: Pack,
    encoding: Option<&BinaryEncoding>,
) -> Result<Value, DecodeError> {
    pack_to_json_within(value, encoding, &mut NameBudget::unlimited())
}

fn pack_to_json_within(
    value: Pack,
    encoding: Option<&BinaryEncoding>,
    names: &mut NameBudget,
) -> Result<Value, DecodeError> {
    Ok(match value {
        Pack::Nil => Value::Null,
        Pack::Boolean(flag) => Value::Bool(flag),
        Pack::Integer(int) => integer_to_json(int),
        Pack::F32(float) => float_to_json(f64::from(float))?,
        Pack::F64(float) => float_to_json(float)?,
        Pack::String(text) => Value::String(text.into_str().ok_or(DecodeError::InvalidUtf8)?),
        Pack::Binary(bytes) => Value::String(BASE64.encode(bytes)),
        Pack::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| pack_to_json_within(item, encoding, names))
                .collect::<Result<_, _>>()?,
        ),
        Pack::Map(entries) => Value::Object(map_to_json(entries, encoding, names)?),
        Pack::Ext(kind, _) => return Err(DecodeError::UnexpectedExtension(kind)),
    })
}

/// A MessagePack map as a JSON object (see [`pack_to_json`]), its keys' names counted
/// against `names`.
pub(crate) fn map_to_json(
    entries: Vec<(Pack, Pack)>,
    encoding: Option<&BinaryEncoding>,
    names: &mut NameBudget,
) -> Result<Map<String, Value>, DecodeError> {
    let mut object = Map::with_capacity(entries.len());
    for (key, item) in entries {
        let key = key_text(&key, encoding)?;
        names.spend(key)?;
        object.insert(key.to_owned(), pack_to_json_within(item, encoding, names)?);
    }
    Ok(object)
}

/// Where a map's `entries` hold binaries (see
/// [`Reader::bytes_paths`](super::Reader::bytes_paths)).
pub(crate) fn entries_bytes_paths(
    entries: &[(Pack, Pack)],
    encoding: &BinaryEncoding,
    mut names: NameBudget,
) -> Result<Base64Paths, DecodeError> {
    let below = entries_bytes_below(entries, encoding, &mut names)?;
    Ok(Base64Paths::of_body(below))
}

fn entries_bytes_below(
    entries: &[(Pack, Pack)],
    encoding: &BinaryEncoding,
    names: &mut NameBudget,
) -> Result<BytesBelow, DecodeError> {
    let mut places = MapPlaces::default();
    for (key, item) in entries {
        let key = key_text(key, Some(encoding))?;
        let below = pack_bytes_below(item, encoding, names)?;
        if below.holds_bytes() {
            names.spend(key)?;
        }
        places.add(key, below);
    }
    Ok(places.finish())
}

fn pack_bytes_below(
    value: &Pack,
    encoding: &BinaryEncoding,
    names: &mut NameBudget,
) -> Result<BytesBelow, DecodeError> {
    Ok(match value {
        Pack::Binary(_) => BytesBelow::here(),
        Pack::Array(items) => {
            let mut every = BytesBelow::default();
            for item in items {
                every.join(pack_bytes_below(item, encoding, names)?);
            }
            BytesBelow::in_list(every)
        }
        Pack::Map(entries) => entries_bytes_below(entries, encoding, names)?,
        _ => BytesBelow::default(),
    })
}

/// A map key as a field name: a string as it is, an integer through `encoding`.
fn key_text<'k>(
    key: &'k Pack,
    encoding: Option<&'k BinaryEncoding>,
) -> Result<&'k str, DecodeError> {
    match key {
        Pack::String(text) => text.as_str().ok_or(DecodeError::InvalidUtf8),
        Pack::Integer(int) => {
            let wide = integer_to_i128(*int);
            let name = encoding
                .zip(u64::try_from(wide).ok())
                .and_then(|(encoding, id)| encoding.name(id));
            name.ok_or(DecodeError::UnknownFieldId(wide))
        }
        other => Err(DecodeError::UnsupportedKey(described_key(other))),
    }
}

/// A map key that is neither a string nor an integer, as `rmpv` displays it, clipped:
/// the key may be as long as the message, and its display five times longer, where the
/// error's text goes to a log or back to the caller.
pub(super) fn described_key(key: &Pack) -> String {
    crate::logging::clipped(&key.to_string()).into_owned()
}

fn integer_to_i128(int: rmpv::Integer) -> i128 {
    match (int.as_i64(), int.as_u64()) {
        (Some(signed), _) => i128::from(signed),
        (None, Some(unsigned)) => i128::from(unsigned),
        (None, None) => 0,
    }
}

fn integer_to_json(int: rmpv::Integer) -> Value {
    match (int.as_i64(), int.as_u64()) {
        (Some(signed), _) => Value::from(signed),
        (None, Some(unsigned)) => Value::from(unsigned),
        (None, None) => Value::Null,
    }
}

pub(crate) fn float_to_json(float: f64) -> Result<Value, DecodeError> {
    Number::from_f64(float)
        .map(Value::Number)
        .ok_or(DecodeError::NonFiniteNumber(float))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encoding() -> BinaryEncoding {
        BinaryEncoding::from_names(["Ok_", "fn.x", "id", "name!"].map(String::from))
    }

    #[test]
    fn known_keys_become_ids_and_back() {
        let encoding = encoding();
        let encoder = Encoder {
            encoding: Some(&encoding),
            schema: None,
        };
        let body = json!({"fn.x": {"id": 7, "name!": "a", "other": [1.5, null, true]}});
        let packed = encoder.value(&body, Shape::Unknown);
        let Pack::Map(entries) = &packed else {
            panic!("expected a map, got {packed}");
        };
        assert_eq!(entries[0].0, Pack::from(1));
        assert_eq!(pack_to_json(packed, Some(&encoding)), Ok(body));
    }

    #[test]
    fn unknown_ids_and_odd_keys_are_refused() {
        let encoding = encoding();
        let unknown = Pack::Map(vec![(Pack::from(99), Pack::Nil)]);
        assert_eq!(
            pack_to_json(unknown, Some(&encoding)),
            Err(DecodeError::UnknownFieldId(99))
        );
        let without_encoding = Pack::Map(vec![(Pack::from(0), Pack::Nil)]);
        assert_eq!(
            pack_to_json(without_encoding, None),
            Err(DecodeError::UnknownFieldId(0))
        );
        let negative = Pack::Map(vec![(Pack::from(-1), Pack::Nil)]);
        assert_eq!(
            pack_to_json(negative, Some(&encoding)),
            Err(DecodeError::UnknownFieldId(-1))
        );
        let boolean = Pack::Map(vec![(Pack::Boolean(true), Pack::Nil)]);
        assert!(matches!(
            pack_to_json(boolean, Some(&encoding)),
            Err(DecodeError::UnsupportedKey(_))
        ));
    }

    #[test]
    fn binary_becomes_base64_and_odd_values_are_refused() {
        assert_eq!(
            pack_to_json(Pack::Binary(b"abc".to_vec()), None),
            Ok(json!("YWJj"))
        );
        assert_eq!(
            pack_to_json(Pack::Ext(5, vec![]), None),
            Err(DecodeError::UnexpectedExtension(5))
        );
        assert!(matches!(
            pack_to_json(Pack::F64(f64::NAN), None),
            Err(DecodeError::NonFiniteNumber(_))
        ));
        assert_eq!(
            pack_to_json(Pack::from(u64::MAX), None),
            Ok(json!(u64::MAX))
        );
    }
}
