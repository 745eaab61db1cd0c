//! Writing JSON values straight to MessagePack bytes, with the same key and `bytes`
//! rules as `Encoder::value` (`convert.rs`, for tests) but no intermediate tree:
//! the fast path for unpacked messages.

use std::io;

use base64::Engine as _;
use rmp::encode as mp;
use serde_json::{Map, Number, Value};

use super::convert::Encoder;
use super::encoding::BinaryEncoding;
use super::shape::Shape;
use crate::base64_text::BASE64;

fn length(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::other("more than 2^32 entries"))
}

impl<'a> Encoder<'a> {
    pub(crate) fn write_value(
        &self,
        out: &mut Vec<u8>,
        value: &Value,
        shape: Shape<'a>,
    ) -> io::Result<()> {
        match value {
            Value::Null => mp::write_nil(out)?,
            Value::Bool(flag) => mp::write_bool(out, *flag)?,
            Value::Number(number) => write_number(out, number)?,
            Value::String(text) => self.write_string(out, text, shape)?,
            Value::Array(items) => {
                mp::write_array_len(out, length(items.len())?)?;
                let element = shape.element();
                let mut recent = RecentKeys::default();
                for item in items {
                    match item {
                        Value::Object(entries) if items.len() > 1 => self.write_entries_with(
                            out,
                            entries,
                            element,
                            Some(&mut recent),
                            Self::write_value,
                        )?,
                        _ => self.write_value(out, item, element)?,
                    }
                }
            }
            Value::Object(entries) => self.write_object(out, entries, shape)?,
        }
        Ok(())
    }

    pub(crate) fn write_object(
        &self,
        out: &mut Vec<u8>,
        entries: &Map<String, Value>,
        shape: Shape<'a>,
    ) -> io::Result<()> {
        self.write_entries(out, entries, shape, Self::write_value)
    }

    /// Writes a map of `entries`, each value by `write_item` (plain or packed).
    pub(crate) fn write_entries(
        &self,
        out: &mut Vec<u8>,
        entries: &Map<String, Value>,
        shape: Shape<'a>,
        write_item: impl Fn(&Self, &mut Vec<u8>, &Value, Shape<'a>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.write_entries_with(out, entries, shape, None, write_item)
    }

    /// [`write_entries`](Self::write_entries), looking keys up through `recent` when
    /// given: the keys of the previous object of the same list.
    fn write_entries_with<'v>(
        &self,
        out: &mut Vec<u8>,
        entries: &'v Map<String, Value>,
        shape: Shape<'a>,
        mut recent: Option<&mut RecentKeys<'v>>,
        write_item: impl Fn(&Self, &mut Vec<u8>, &Value, Shape<'a>) -> io::Result<()>,
    ) -> io::Result<()> {
        mp::write_map_len(out, length(entries.len())?)?;
        for (position, (key, item)) in entries.iter().enumerate() {
            let id = match (self.encoding, recent.as_deref_mut()) {
                (Some(encoding), Some(recent)) => recent.id(encoding, position, key),
                (Some(encoding), None) => encoding.id(key),
                (None, _) => None,
            };
            match id {
                Some(id) => mp::write_uint(out, u64::from(id)).map(drop)?,
                None => mp::write_str(out, key)?,
            }
            write_item(self, out, item, shape.entry(self.schema, key))?;
        }
        Ok(())
    }

    fn write_string(&self, out: &mut Vec<u8>, text: &str, shape: Shape<'a>) -> io::Result<()> {
        if shape.is_bytes()
            && let Ok(bytes) = BASE64.decode(text)
        {
            mp::write_bin(out, &bytes)?;
            return Ok(());
        }
        mp::write_str(out, text)?;
        Ok(())
    }
}

/// The keys of the last object written in a list, with their ids. The objects of a list
/// mostly share their keys in the same order, so comparing a key with the one at its
/// position is cheaper than hashing it to look its id up.
#[derive(Default)]
struct RecentKeys<'v> {
    keys: Vec<(&'v str, Option<u32>)>,
}

impl<'v> RecentKeys<'v> {
    fn id(&mut self, encoding: &BinaryEncoding, position: usize, key: &'v str) -> Option<u32> {
        if let Some(&(recent, id)) = self.keys.get(position)
            && recent == key
        {
            return id;
        }
        let id = encoding.id(key);
        if let Some(slot) = self.keys.get_mut(position) {
            *slot = (key, id);
        } else if position == self.keys.len() {
            self.keys.push((key, id));
        }
        id
    }
}

fn write_number(out: &mut Vec<u8>, number: &Number) -> io::Result<()> {
    if let Some(int) = number.as_u64() {
        mp::write_uint(out, int)?;
    } else if let Some(int) = number.as_i64() {
        mp::write_sint(out, int)?;
    } else {
        mp::write_f64(out, number.as_f64().unwrap_or(f64::NAN))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::binary::encoding::BinaryEncoding;

    /// Asserts that the streaming writer and the tree builder write `value` alike, with
    /// an encoding of `names`.
    fn assert_streaming_matches_the_tree(names: &[&str], value: &Value) {
        let encoding = BinaryEncoding::from_names(names.iter().map(|name| name.to_string()));
        let encoder = Encoder {
            encoding: Some(&encoding),
            schema: None,
        };
        let mut streamed = Vec::new();
        encoder
            .write_value(&mut streamed, value, Shape::Unknown)
            .expect("writes to a Vec");
        let mut tree = Vec::new();
        rmpv::encode::write_value(&mut tree, &encoder.value(value, Shape::Unknown))
            .expect("writes to a Vec");
        assert_eq!(streamed, tree);
    }

    #[test]
    fn streaming_matches_the_tree() {
        let value = json!({"Ok_": {"a": [1, -1, 300, -300, 1.5, u64::MAX, i64::MIN], "b!": null, "c": {"a": true, "d": "x"}}});
        assert_streaming_matches_the_tree(&["Ok_", "a", "b!"], &value);
    }

    /// Objects of one list are written with the ids of their own keys, whatever keys,
    /// order and length the object before had.
    #[test]
    fn list_objects_keep_their_own_keys() {
        let value = json!([
            {"a": 1, "b!": 2, "c": 3},
            {"a": 1, "b!": 2, "c": 3},
            {"c": 3, "a": 1},
            {"a": 1, "x": 0, "b!": 2, "c": 3, "y": [{"c": 1}, {"a": 2}]},
            {},
            {"b!": {"a": [{"a": 1}, {"b!": 2}]}},
            7,
            {"a": 1}
        ]);
        assert_streaming_matches_the_tree(&["a", "b!", "c"], &value);
    }
}
