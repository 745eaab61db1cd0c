//! The packed encoding (`@pac_: true`): lists of maps become tables.
//!
//! A packable list (non-empty, every item a map with integer keys) is written as
//! `[ext 17, header, row, row, ..]`. The header is `[nil, key, key, [key, nested..], ..]`:
//! one entry per key in order of first appearance, where a key whose values are maps
//! holds its own nested header (first element: the key). A row lists the map's values
//! in header order and ends at the last key it has: a key it lacks before that is
//! `ext 18`, and the keys after it are left off, as Telepact's other libraries write
//! rows (a reader takes rows padded to the header's length too, and refuses longer
//! ones). A list that cannot be packed (a string key, a key whose values are maps in
//! one row and not in another) is written item by item instead.

use std::collections::HashMap;

use rmpv::Value as Pack;

use super::convert::DecodeError;

/// The extension type marking a packed list.
pub const PACKED_LIST_EXT: i8 = 17;
/// The extension type marking a key a row does not have.
pub const UNDEFINED_EXT: i8 = 18;

fn undefined() -> Pack {
    Pack::Ext(UNDEFINED_EXT, Vec::new())
}

fn is_ext(value: &Pack, kind: i8) -> bool {
    matches!(value, Pack::Ext(found, _) if *found == kind)
}

/// Packs every list inside `value`.
pub fn pack(value: Pack) -> Pack {
    match value {
        Pack::Array(items) => pack_list(items),
        Pack::Map(entries) => Pack::Map(
            entries
                .into_iter()
                .map(|(key, item)| (key, pack(item)))
                .collect(),
        ),
        other => other,
    }
}

/// The list could not be written as a table.
struct CannotPack;

/// Where a key sits in a header, and the positions of its nested keys.
#[derive(Default)]
struct Column {
    index: usize,
    nested: HashMap<u64, Column>,
}

fn pack_list(items: Vec<Pack>) -> Pack {
    if items.is_empty() {
        return Pack::Array(items);
    }
    match pack_rows(&items) {
        Ok(packed) => Pack::Array(packed),
        Err(CannotPack) => Pack::Array(items.into_iter().map(pack).collect()),
    }
}

fn pack_rows(items: &[Pack]) -> Result<Vec<Pack>, CannotPack> {
    let mut header = vec![Pack::Nil];
    let mut columns = HashMap::new();
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let Pack::Map(entries) = item else {
            return Err(CannotPack);
        };
        rows.push(Pack::Array(pack_row(entries, &mut header, &mut columns)?));
    }
    let mut packed = Vec::with_capacity(rows.len() + 2);
    packed.push(Pack::Ext(PACKED_LIST_EXT, Vec::new()));
    packed.push(Pack::Array(header));
    packed.extend(rows);
    Ok(packed)
}

/// One map as a row; `header` (first element: nil or the parent key) grows with new keys.
fn pack_row(
    entries: &[(Pack, Pack)],
    header: &mut Vec<Pack>,
    columns: &mut HashMap<u64, Column>,
) -> Result<Vec<Pack>, CannotPack> {
    let mut row = Vec::new();
    for (key, value) in entries {
        let key = key.as_u64().ok_or(CannotPack)?;
        let column = columns.entry(key).or_insert_with(|| {
            let index = header.len() - 1;
            header.push(match value {
                Pack::Map(_) => Pack::Array(vec![Pack::from(key)]),
                _ => Pack::from(key),
            });
            Column {
                index,
                nested: HashMap::new(),
            }
        });
        let header_entry = &mut header[column.index + 1];
        let packed = match (value, header_entry) {
            (Pack::Map(nested), Pack::Array(nested_header)) => {
                Pack::Array(pack_row(nested, nested_header, &mut column.nested)?)
            }
            (Pack::Map(_), _) | (_, Pack::Array(_)) => return Err(CannotPack),
            (Pack::Array(list), _) => pack_list(list.clone()),
            (scalar, _) => scalar.clone(),
        };
        if row.len() <= column.index {
            row.resize(column.index + 1, undefined());
        }
        row[column.index] = packed;
    }
    Ok(row)
}

/// Undoes [`pack`] everywhere inside `value`.
///
/// # Errors
///
/// [`DecodeError::MalformedPackedList`] when a packed list's header is not a list of
/// field ids (nested headers included), a row or nested row is not a list or is longer
/// than its header, or a nested header has no key.
pub fn unpack(value: Pack) -> Result<Pack, DecodeError> {
    match value {
        Pack::Array(items) => unpack_list(items),
        Pack::Map(entries) => Ok(Pack::Map(
            entries
                .into_iter()
                .map(|(key, item)| Ok((key, unpack(item)?)))
                .collect::<Result<_, DecodeError>>()?,
        )),
        other => Ok(other),
    }
}

fn unpack_list(items: Vec<Pack>) -> Result<Pack, DecodeError> {
    if !items
        .first()
        .is_some_and(|first| is_ext(first, PACKED_LIST_EXT))
    {
        return Ok(Pack::Array(
            items.into_iter().map(unpack).collect::<Result<_, _>>()?,
        ));
    }
    let mut items = items.into_iter().skip(1);
    let Some(Pack::Array(header)) = items.next() else {
        return Err(DecodeError::MalformedPackedList("the header is not a list"));
    };
    check_header(&header)?;
    let maps = items
        .map(|row| match row {
            Pack::Array(row) => unpack_row(row, &header),
            _ => Err(DecodeError::MalformedPackedList("a row is not a list")),
        })
        .collect::<Result<_, _>>()?;
    Ok(Pack::Array(maps))
}

/// A header holds field ids alone, as [`pack`] writes it: every row copies its keys, so
/// a key of any other kind (a long string) would cost its size once per row.
fn check_header(header: &[Pack]) -> Result<(), DecodeError> {
    for entry in header.iter().skip(1) {
        match entry {
            Pack::Array(nested) if nested.first().is_some_and(is_field_id) => {
                check_header(nested)?;
            }
            Pack::Array(_) => {
                return Err(DecodeError::MalformedPackedList(
                    "a nested header's key is not a field id",
                ));
            }
            key if is_field_id(key) => {}
            _ => {
                return Err(DecodeError::MalformedPackedList(
                    "a header's key is not a field id",
                ));
            }
        }
    }
    Ok(())
}

fn is_field_id(key: &Pack) -> bool {
    key.as_u64().is_some()
}

fn unpack_row(row: Vec<Pack>, header: &[Pack]) -> Result<Pack, DecodeError> {
    let keys = header.get(1..).unwrap_or_default();
    // A value past the header's last key has no key: it would be dropped unread.
    if row.len() > keys.len() {
        return Err(DecodeError::MalformedPackedList(
            "a row is longer than its header",
        ));
    }
    let mut entries = Vec::with_capacity(row.len().min(keys.len()));
    for (value, key) in row.into_iter().zip(keys) {
        if is_ext(&value, UNDEFINED_EXT) {
            continue;
        }
        let entry = match (key, value) {
            (Pack::Array(nested_header), Pack::Array(nested_row)) => {
                let nested_key =
                    nested_header
                        .first()
                        .cloned()
                        .ok_or(DecodeError::MalformedPackedList(
                            "a nested header has no key",
                        ))?;
                (nested_key, unpack_row(nested_row, nested_header)?)
            }
            (Pack::Array(_), _) => {
                return Err(DecodeError::MalformedPackedList(
                    "a nested row is not a list",
                ));
            }
            (key, value) => (key.clone(), unpack(value)?),
        };
        entries.push(entry);
    }
    Ok(Pack::Map(entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: Vec<(u64, Pack)>) -> Pack {
        Pack::Map(
            entries
                .into_iter()
                .map(|(key, value)| (Pack::from(key), value))
                .collect(),
        )
    }

    /// Map entries in key order: the table form keeps values, not entry order.
    fn normalized(value: Pack) -> Pack {
        match value {
            Pack::Map(entries) => {
                let mut entries: Vec<_> = entries
                    .into_iter()
                    .map(|(key, item)| (key, normalized(item)))
                    .collect();
                entries.sort_by_key(|(key, _)| key.to_string());
                Pack::Map(entries)
            }
            Pack::Array(items) => Pack::Array(items.into_iter().map(normalized).collect()),
            other => other,
        }
    }

    fn ext(kind: i8) -> Pack {
        Pack::Ext(kind, Vec::new())
    }

    #[test]
    fn a_list_of_flat_maps_becomes_a_table() {
        let list = Pack::Array(vec![
            map(vec![(6, Pack::from(1)), (9, Pack::from("one"))]),
            map(vec![(6, Pack::from(2)), (9, Pack::from("two"))]),
        ]);
        let expected = Pack::Array(vec![
            ext(17),
            Pack::Array(vec![Pack::Nil, Pack::from(6), Pack::from(9)]),
            Pack::Array(vec![Pack::from(1), Pack::from("one")]),
            Pack::Array(vec![Pack::from(2), Pack::from("two")]),
        ]);
        assert_eq!(pack(list.clone()), expected);
        assert_eq!(unpack(expected), Ok(list));
    }

    #[test]
    fn missing_keys_nested_maps_and_inner_lists_round_trip() {
        let list = Pack::Array(vec![
            map(vec![(1, map(vec![(2, Pack::from(true))]))]),
            map(vec![
                (3, Pack::Array(vec![map(vec![(4, Pack::Nil)])])),
                (1, map(vec![(5, Pack::from(0.5))])),
            ]),
            map(vec![]),
        ]);
        let packed = pack(list.clone());
        let Pack::Array(items) = &packed else {
            panic!("expected a list");
        };
        assert_eq!(
            items[1],
            Pack::Array(vec![
                Pack::Nil,
                Pack::Array(vec![Pack::from(1), Pack::from(2), Pack::from(5)]),
                Pack::from(3),
            ])
        );
        // A row ends at its last key; the last row has no keys at all.
        assert_eq!(
            items[2],
            Pack::Array(vec![Pack::Array(vec![Pack::from(true)])])
        );
        assert_eq!(items[4], Pack::Array(vec![]));
        assert_eq!(unpack(packed).map(normalized), Ok(normalized(list)));
    }

    #[test]
    fn a_row_ends_at_its_last_key() {
        let list = Pack::Array(vec![
            map(vec![(1, Pack::from(true))]),
            map(vec![(2, Pack::from(false)), (1, Pack::from(true))]),
            map(vec![(1, Pack::from(true))]),
            map(vec![(3, Pack::from(0)), (1, Pack::from(true))]),
            map(vec![]),
        ]);
        let header = Pack::Array(vec![Pack::Nil, 1.into(), 2.into(), 3.into()]);
        let expected = Pack::Array(vec![
            ext(17),
            header,
            Pack::Array(vec![true.into()]),
            Pack::Array(vec![true.into(), false.into()]),
            // Not padded to the header as it stood after the row before.
            Pack::Array(vec![true.into()]),
            // A key missing before the last one is marked.
            Pack::Array(vec![true.into(), ext(18), 0.into()]),
            Pack::Array(vec![]),
        ]);
        assert_eq!(pack(list.clone()), expected);
        assert_eq!(unpack(expected).map(normalized), Ok(normalized(list)));
    }

    #[test]
    fn rows_padded_to_the_header_are_read() {
        let padded = Pack::Array(vec![
            ext(17),
            Pack::Array(vec![Pack::Nil, 1.into(), 2.into()]),
            Pack::Array(vec![true.into(), ext(18)]),
            Pack::Array(vec![ext(18), ext(18)]),
        ]);
        let expected = Pack::Array(vec![map(vec![(1, Pack::from(true))]), map(vec![])]);
        assert_eq!(unpack(padded), Ok(expected));
    }

    #[test]
    fn a_row_longer_than_its_header_is_refused() {
        let header = Pack::Array(vec![Pack::Nil, 1.into()]);
        let long = Pack::Array(vec![
            ext(17),
            header,
            Pack::Array(vec![true.into(), 2.into()]),
        ]);
        assert!(matches!(
            unpack(long),
            Err(DecodeError::MalformedPackedList(_))
        ));
        let nested_header = Pack::Array(vec![Pack::Nil, Pack::Array(vec![1.into(), 2.into()])]);
        let nested_row = Pack::Array(vec![Pack::Array(vec![true.into(), false.into()])]);
        let nested = Pack::Array(vec![ext(17), nested_header, nested_row]);
        assert!(matches!(
            unpack(nested),
            Err(DecodeError::MalformedPackedList(_))
        ));
    }

    #[test]
    fn a_header_holds_field_ids_alone() {
        let row = Pack::Array(vec![1.into()]);
        for key in [Pack::from("a long key"), Pack::Nil, Pack::Array(vec![])] {
            let packed = Pack::Array(vec![
                ext(17),
                Pack::Array(vec![Pack::Nil, key]),
                row.clone(),
            ]);
            assert!(
                matches!(unpack(packed), Err(DecodeError::MalformedPackedList(_))),
                "a header key is refused before any row is read"
            );
        }
        let nested = Pack::Array(vec![Pack::from(1), Pack::from("k")]);
        let packed = Pack::Array(vec![ext(17), Pack::Array(vec![Pack::Nil, nested]), row]);
        assert!(matches!(
            unpack(packed),
            Err(DecodeError::MalformedPackedList(_))
        ));
    }

    #[test]
    fn unpackable_lists_stay_lists() {
        let strings = Pack::Array(vec![Pack::Map(vec![(Pack::from("k"), Pack::from(1))])]);
        assert_eq!(pack(strings.clone()), strings);
        let mixed = Pack::Array(vec![map(vec![(1, Pack::from(1))]), Pack::from(2)]);
        assert_eq!(pack(mixed.clone()), mixed);
        // Key 1 holds a map in the first row and a number in the second.
        let clash = Pack::Array(vec![
            map(vec![(1, map(vec![]))]),
            map(vec![(1, Pack::from(2))]),
        ]);
        assert_eq!(pack(clash.clone()), clash);
        assert_eq!(pack(Pack::Array(vec![])), Pack::Array(vec![]));
    }

    #[test]
    fn malformed_tables_are_refused() {
        let no_header = Pack::Array(vec![ext(17), Pack::from(1)]);
        assert!(unpack(no_header).is_err());
        let bad_row = Pack::Array(vec![ext(17), Pack::Array(vec![Pack::Nil]), Pack::from(1)]);
        assert!(unpack(bad_row).is_err());
        let empty_nested = Pack::Array(vec![
            ext(17),
            Pack::Array(vec![Pack::Nil, Pack::Array(vec![])]),
            Pack::Array(vec![Pack::Array(vec![])]),
        ]);
        assert!(unpack(empty_nested).is_err());
        let only_marker = Pack::Array(vec![ext(17)]);
        assert!(unpack(only_marker).is_err());
    }
}
