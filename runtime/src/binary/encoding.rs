//! The field-id table both sides of a binary conversation share.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use serde_json::{Map, Value};
use telepact_schema::Schema;

use super::schema_keys::encoded_field_names;

/// A binary encoding: every encodable name (function names, field keys with their `!`,
/// union tags, `Ok_`) mapped to a dense integer id, identified by a checksum.
///
/// Ids are the positions of the names in byte-wise sorted order, and the checksum is the
/// CRC-32 of the sorted names joined with `\n`, read as a signed 32-bit integer. Every
/// Telepact implementation derives the same table from the same schema, which is what
/// lets clients and servers of different languages skip sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryEncoding {
    // Looked up once per object key encoded: a fast hasher pays off.
    ids: HashMap<String, u32, RandomState>,
    names: Vec<String>,
    checksum: i32,
}

/// Why an `@enc_` table received from a server cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidEncoding {
    /// An id is not an integer in `0..len`.
    #[error("field id of {name:?} is not an integer in 0..{len}")]
    IdOutOfRange {
        /// The field name whose id is bad.
        name: String,
        /// How many names the table holds.
        len: usize,
    },
    /// Two names share an id.
    #[error("field id {id} is given to both {first:?} and {second:?}")]
    DuplicateId {
        /// The shared id.
        id: u32,
        /// The first name given it.
        first: String,
        /// The second name given it.
        second: String,
    },
}

impl BinaryEncoding {
    /// The encoding a server derives from its schema.
    pub fn new(schema: &Schema) -> Self {
        Self::from_names(encoded_field_names(schema))
    }

    /// The encoding of a set of names (sorted and de-duplicated here), with its checksum.
    pub fn from_names(names: impl IntoIterator<Item = String>) -> Self {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        let checksum = checksum_of_sorted_names(&names);
        Self::from_sorted(names, checksum)
    }

    /// The encoding a client learns from an `@enc_` header (`{"name": id, ..}`) whose
    /// checksum came in `@bin_`. Ids must be dense (`0..len`) and unique.
    ///
    /// # Errors
    ///
    /// - [`InvalidEncoding::IdOutOfRange`] when an id is not an integer in `0..len`.
    /// - [`InvalidEncoding::DuplicateId`] when two names share an id.
    pub fn from_field_ids(
        field_ids: &Map<String, Value>,
        checksum: i32,
    ) -> Result<Self, InvalidEncoding> {
        let len = field_ids.len();
        let mut slots: Vec<Option<String>> = vec![None; len];
        for (name, id) in field_ids {
            let slot = id
                .as_u64()
                .and_then(|id| usize::try_from(id).ok())
                .filter(|id| *id < len)
                .ok_or_else(|| InvalidEncoding::IdOutOfRange {
                    name: name.clone(),
                    len,
                })?;
            if let Some(first) = &slots[slot] {
                return Err(InvalidEncoding::DuplicateId {
                    id: slot as u32,
                    first: first.clone(),
                    second: name.clone(),
                });
            }
            slots[slot] = Some(name.clone());
        }
        // Dense and unique: `len` names filled `len` distinct slots, so none is empty.
        let names = slots.into_iter().flatten().collect();
        Ok(Self::from_sorted(names, checksum))
    }

    fn from_sorted(names: Vec<String>, checksum: i32) -> Self {
        let ids = names
            .iter()
            .enumerate()
            .map(|(id, name)| (name.clone(), id as u32))
            .collect();
        BinaryEncoding {
            ids,
            names,
            checksum,
        }
    }

    /// The checksum clients send in `@bin_` to say which encoding they use.
    pub fn checksum(&self) -> i32 {
        self.checksum
    }

    /// The id of a name, if it is encodable.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name behind an id.
    pub fn name(&self, id: u64) -> Option<&str> {
        let index = usize::try_from(id).ok()?;
        self.names.get(index).map(String::as_str)
    }

    /// The names, in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many names the encoding has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the encoding has no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The `@enc_` header value: `{"name": id, ..}` in id order.
    pub fn field_ids(&self) -> Map<String, Value> {
        self.names
            .iter()
            .enumerate()
            .map(|(id, name)| (name.clone(), Value::from(id as u64)))
            .collect()
    }
}

/// CRC-32 (IEEE) of the names joined with `\n`, as a signed 32-bit integer.
pub fn checksum_of_sorted_names(names: &[String]) -> i32 {
    let mut hasher = crc32fast::Hasher::new();
    for (index, name) in names.iter().enumerate() {
        if index > 0 {
            hasher.update(b"\n");
        }
        hasher.update(name.as_bytes());
    }
    // Reinterpreting the bits is the point: the wire carries the two's complement value.
    hasher.finalize() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn ids_follow_sorted_order_and_duplicates_collapse() {
        let encoding = BinaryEncoding::from_names(names(&["b", "a", "Ok_", "a"]));
        assert_eq!(encoding.names(), &names(&["Ok_", "a", "b"])[..]);
        assert_eq!(encoding.id("a"), Some(1));
        assert_eq!(encoding.name(2), Some("b"));
        assert_eq!(encoding.name(3), None);
        assert_eq!(encoding.id("c"), None);
    }

    #[test]
    fn checksum_is_the_signed_crc32_of_the_joined_names() {
        // Python: zlib.crc32(b"a") == 0xe8b7be43, which is negative as an i32.
        assert_eq!(
            checksum_of_sorted_names(&names(&["a"])),
            0xe8b7be43_u32 as i32
        );
        assert_eq!(checksum_of_sorted_names(&names(&["a", "b"])), crc("a\nb"));
        assert_eq!(checksum_of_sorted_names(&[]), 0);
    }

    fn crc(text: &str) -> i32 {
        crc32fast::hash(text.as_bytes()) as i32
    }

    #[test]
    fn field_ids_round_trip_through_the_enc_header() {
        let encoding = BinaryEncoding::from_names(names(&["x", "y!", "fn.z"]));
        let learned = BinaryEncoding::from_field_ids(&encoding.field_ids(), encoding.checksum());
        assert_eq!(learned, Ok(encoding));
    }

    #[test]
    fn field_ids_must_be_dense_and_unique() {
        let gap = json!({"a": 0, "b": 2});
        assert!(matches!(
            BinaryEncoding::from_field_ids(gap.as_object().unwrap(), 1),
            Err(InvalidEncoding::IdOutOfRange { .. })
        ));
        let twice = json!({"a": 1, "b": 1});
        assert!(matches!(
            BinaryEncoding::from_field_ids(twice.as_object().unwrap(), 1),
            Err(InvalidEncoding::DuplicateId { id: 1, .. })
        ));
        let negative = json!({"a": -1});
        assert!(BinaryEncoding::from_field_ids(negative.as_object().unwrap(), 1).is_err());
    }
}
