//! The packed encoding written straight from JSON values (see [`super::pack`] for the
//! format). A list is planned first (is it packable, what is its header, how long is
//! each row) and then written; the output is byte for byte what packing the
//! `Encoder::value` tree would give (`convert.rs`, the rules' plain statement for tests).

use std::collections::HashMap;

use foldhash::fast::RandomState;
use std::io;

use rmp::encode as mp;
use serde_json::{Map, Value};

use super::convert::Encoder;
use super::pack::{PACKED_LIST_EXT, UNDEFINED_EXT};
use super::shape::Shape;

/// The header of one table level: its keys in order of first appearance.
#[derive(Default)]
struct Level {
    entries: Vec<Entry>,
    columns: HashMap<u32, usize, RandomState>,
}

/// A header entry: a key, with its own level when its values are maps.
struct Entry {
    id: u32,
    nested: Option<Level>,
}

/// A packable list's header and its rows' shapes.
struct Plan {
    header: Level,
    rows: Vec<RowPlan>,
}

/// How long a row is (up to its last key's column), and the same for the nested rows
/// in its columns.
struct RowPlan {
    length: usize,
    nested: Vec<(usize, RowPlan)>,
}

impl<'a> Encoder<'a> {
    /// Writes a value whose lists are packed.
    pub(crate) fn write_packed(
        &self,
        out: &mut Vec<u8>,
        value: &Value,
        shape: Shape<'a>,
    ) -> io::Result<()> {
        match value {
            Value::Array(items) => self.write_packed_list(out, items, shape.element()),
            Value::Object(entries) => self.write_packed_object(out, entries, shape),
            scalar => self.write_value(out, scalar, shape),
        }
    }

    pub(crate) fn write_packed_object(
        &self,
        out: &mut Vec<u8>,
        entries: &Map<String, Value>,
        shape: Shape<'a>,
    ) -> io::Result<()> {
        self.write_entries(out, entries, shape, Self::write_packed)
    }

    fn write_packed_list(
        &self,
        out: &mut Vec<u8>,
        items: &[Value],
        element: Shape<'a>,
    ) -> io::Result<()> {
        let plan = if items.is_empty() {
            None
        } else {
            self.plan(items)
        };
        let Some(plan) = plan else {
            mp::write_array_len(out, length(items.len())?)?;
            for item in items {
                self.write_packed(out, item, element)?;
            }
            return Ok(());
        };
        mp::write_array_len(out, length(items.len() + 2)?)?;
        mp::write_ext_meta(out, 0, PACKED_LIST_EXT)?;
        write_header(out, None, &plan.header)?;
        for (item, row) in items.iter().zip(&plan.rows) {
            if let Value::Object(entries) = item {
                self.write_row(out, entries, &plan.header, row, element)?;
            }
        }
        Ok(())
    }

    fn write_row(
        &self,
        out: &mut Vec<u8>,
        entries: &Map<String, Value>,
        level: &Level,
        row: &RowPlan,
        shape: Shape<'a>,
    ) -> io::Result<()> {
        let mut cells: Vec<Option<(&str, &Value)>> = vec![None; row.length];
        for (key, item) in entries {
            let column = self.id(key).and_then(|id| level.columns.get(&id));
            if let Some(cell) = column.and_then(|column| cells.get_mut(*column)) {
                *cell = Some((key.as_str(), item));
            }
        }
        mp::write_array_len(out, length(row.length)?)?;
        for (column, (cell, entry)) in cells.into_iter().zip(&level.entries).enumerate() {
            let Some((key, item)) = cell else {
                mp::write_ext_meta(out, 0, UNDEFINED_EXT)?;
                continue;
            };
            let item_shape = shape.entry(self.schema, key);
            let nested_row = row.nested.iter().find(|(at, _)| *at == column);
            match (item, &entry.nested, nested_row) {
                (Value::Object(nested), Some(nested_level), Some((_, nested_row))) => {
                    self.write_row(out, nested, nested_level, nested_row, item_shape)?;
                }
                _ => self.write_packed(out, item, item_shape)?,
            }
        }
        Ok(())
    }

    fn id(&self, key: &str) -> Option<u32> {
        self.encoding.and_then(|encoding| encoding.id(key))
    }

    /// `None` when the list cannot be packed: an item is not an object, a key has no
    /// id, or a key holds objects in one row and something else in another.
    fn plan(&self, items: &[Value]) -> Option<Plan> {
        let mut header = Level::default();
        let mut rows = Vec::with_capacity(items.len());
        for item in items {
            let Value::Object(entries) = item else {
                return None;
            };
            rows.push(self.plan_row(entries, &mut header)?);
        }
        Some(Plan { header, rows })
    }

    fn plan_row(&self, entries: &Map<String, Value>, level: &mut Level) -> Option<RowPlan> {
        let mut nested_rows = Vec::new();
        let mut length = 0;
        for (key, item) in entries {
            let id = self.id(key)?;
            let column = *level.columns.entry(id).or_insert_with(|| {
                let nested = matches!(item, Value::Object(_)).then(Level::default);
                level.entries.push(Entry { id, nested });
                level.entries.len() - 1
            });
            length = length.max(column + 1);
            match (item, &mut level.entries[column].nested) {
                (Value::Object(nested), Some(nested_level)) => {
                    nested_rows.push((column, self.plan_row(nested, nested_level)?));
                }
                (Value::Object(_), None) | (_, Some(_)) => return None,
                _ => {}
            }
        }
        Some(RowPlan {
            length,
            nested: nested_rows,
        })
    }
}

/// Writes a header: `[first, key, [key, ..nested], ..]`, `first` being nil at the top
/// and the parent key inside.
fn write_header(out: &mut Vec<u8>, parent: Option<u32>, level: &Level) -> io::Result<()> {
    mp::write_array_len(out, length(level.entries.len() + 1)?)?;
    match parent {
        Some(id) => mp::write_uint(out, u64::from(id)).map(drop)?,
        None => mp::write_nil(out)?,
    }
    for entry in &level.entries {
        match &entry.nested {
            Some(nested) => write_header(out, Some(entry.id), nested)?,
            None => mp::write_uint(out, u64::from(entry.id)).map(drop)?,
        }
    }
    Ok(())
}

fn length(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::other("more than 2^32 entries"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::binary::encoding::BinaryEncoding;
    use crate::binary::pack::pack;

    fn both(value: &Value) -> (Vec<u8>, Vec<u8>) {
        let names = ["Ok_", "a", "b", "c", "d", "e"].map(String::from);
        let encoding = BinaryEncoding::from_names(names);
        let encoder = Encoder {
            encoding: Some(&encoding),
            schema: None,
        };
        let mut streamed = Vec::new();
        encoder
            .write_packed(&mut streamed, value, Shape::Unknown)
            .expect("writes to a Vec");
        let mut tree = Vec::new();
        let packed = pack(encoder.value(value, Shape::Unknown));
        rmpv::encode::write_value(&mut tree, &packed).expect("writes to a Vec");
        (streamed, tree)
    }

    #[test]
    fn streaming_matches_packing_the_tree() {
        let cases = [
            json!({"Ok_": {"a": [{"b": 1, "c": "x"}, {"c": "y", "b": 2}]}}),
            // Rows that miss keys, keys that appear late, nested maps, lists in rows.
            json!([{"a": {"b": true}}, {"c": [{"d": null}, {"e": 1}], "a": {"d": 0.5}}, {}]),
            // Rows shorter than the header before them, at the top and nested.
            json!([{"a": 1, "b": 2, "c": 3}, {"a": 4}, {"c": 5}, {"b": 6}, {}]),
            json!([{"a": {"b": 1, "c": 2}}, {"a": {"b": 3}}, {"a": {}}]),
            json!([[{"a": 1}], [{"b": {"c": {"d": [1, 2]}}}, {"b": {"e": 3}}]]),
            // Two nested maps written in the opposite order of the header.
            json!([{"a": {"b": 1}, "c": {"d": 2}}, {"c": {"e": 3, "d": 4}, "a": {"c": 5}}]),
            // Unpackable: a key without an id, a scalar item, a map-then-scalar key.
            json!([{"zzz": 1}]),
            json!([{"a": 1}, 2]),
            json!([{"a": {"b": 1}}, {"a": 2}]),
            json!([{"a": 2}, {"a": {"b": 1}}]),
            json!([{"a": {"b": 1}}, {"a": null}]),
            json!([[], {}, 1, "s"]),
        ];
        for case in cases {
            let (streamed, tree) = both(&case);
            assert_eq!(streamed, tree, "{case}");
        }
    }
}
