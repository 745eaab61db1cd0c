//! Which keys a map may hold at a place of a message, checked one key at a time as the
//! checking writer writes them or the checking reader reads them.

use std::collections::HashSet;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use smallvec::SmallVec;
use telepact_schema::Field;

use super::compiled::{FieldSet, FunctionEntry, TagSet};
use super::expect::Expect;

/// Which fields of a struct (or tag payload) were written, to refuse a repeated or an
/// unknown key and to notice a missing required one.
pub(crate) struct FieldCheck<'c> {
    fields: &'c FieldSet,
    /// The first 64 fields' bits; `more` holds the rest's, for the rare larger struct.
    written: u64,
    more: Vec<u64>,
    required_written: usize,
    /// Where the next key is looked for first: fields mostly come in schema order.
    next: usize,
}

impl<'c> FieldCheck<'c> {
    #[inline]
    pub(crate) fn new(fields: &'c FieldSet) -> Self {
        let more = match fields.fields.len() {
            0..=64 => Vec::new(),
            len => vec![0; (len - 64).div_ceil(64)],
        };
        FieldCheck {
            fields,
            written: 0,
            more,
            required_written: 0,
            next: 0,
        }
    }

    /// The fields checked.
    pub(crate) fn set(&self) -> &'c FieldSet {
        self.fields
    }

    #[inline]
    pub(crate) fn field(&mut self, key: &str) -> Option<&'c Field> {
        self.entry(key).map(|(_, field)| field)
    }

    /// [`field`](Self::field), with the field's index in its set.
    #[inline]
    pub(crate) fn entry(&mut self, key: &str) -> Option<(usize, &'c Field)> {
        let (index, field) = self.fields.find_from(key, self.next)?;
        self.mark(index, field).then_some((index, field))
    }

    /// The field a key given as binary id `id` names, when it is the field expected
    /// next, as it mostly is; `None` otherwise, and the caller looks the key up by its
    /// name. Ids are the schema's own encoding's.
    #[inline]
    pub(crate) fn next_with_id(&mut self, id: u64) -> Option<&'c Field> {
        let index = self.next;
        let expected = self.fields.ids.get(index).copied().flatten()?;
        if u64::from(expected) != id {
            return None;
        }
        let field = self.fields.fields.get(index)?;
        self.mark(index, field).then_some(field)
    }

    /// Notes the field at `index` written; `false` when it already was.
    #[inline]
    fn mark(&mut self, index: usize, field: &Field) -> bool {
        let bit = 1u64 << (index % 64);
        let slot = match index {
            0..64 => &mut self.written,
            _ => match self.more.get_mut(index / 64 - 1) {
                Some(slot) => slot,
                None => return false,
            },
        };
        if *slot & bit != 0 {
            return false;
        }
        *slot |= bit;
        if !field.optional {
            self.required_written += 1;
        }
        self.next = index + 1;
        true
    }

    #[inline]
    pub(crate) fn complete(&self) -> bool {
        self.required_written == self.fields.required
    }
}

/// The hashes of the keys a map has written; a repeated hash (a repeated key, or two
/// keys that happen to share a hash) leaves the map to the value path, where a map of
/// JSON values keeps one entry per key.
///
/// A small map's hashes are scanned where they stand (no allocation); a larger one's go
/// into a set.
#[derive(Default)]
pub(crate) struct Seen {
    few: SmallVec<[u64; SCANNED_KEYS]>,
    many: Option<HashSet<u64, FixedState>>,
}

/// Up to this many keys are compared by scanning.
const SCANNED_KEYS: usize = 16;

impl Seen {
    pub(crate) fn first(&mut self, key: &str) -> bool {
        let hash = FixedState::default().hash_one(key);
        if let Some(many) = &mut self.many {
            return many.insert(hash);
        }
        if self.few.contains(&hash) {
            return false;
        }
        if self.few.len() < SCANNED_KEYS {
            self.few.push(hash);
        } else {
            let mut many: HashSet<u64, FixedState> = self.few.drain(..).collect();
            many.insert(hash);
            self.many = Some(many);
        }
        true
    }
}

/// How a map's keys are checked.
pub(crate) enum MapKeys<'c> {
    /// An `object` (or under `any`): any string keys, once each, values of one type.
    Entries(Expect<'c>, Seen),
    /// A struct (or tag payload) given as a map.
    Fields(FieldCheck<'c>),
    /// A union given as a map: exactly one key, a tag.
    Tag { tags: &'c TagSet, seen: bool },
    /// A function link: exactly one key, the function's name.
    Call {
        function: &'c FunctionEntry,
        seen: bool,
    },
}

impl<'c> MapKeys<'c> {
    /// What the value under `key` must be, or `None` when the key is not allowed.
    #[inline(always)]
    pub(crate) fn value_for(&mut self, key: &str) -> Option<Expect<'c>> {
        match self {
            MapKeys::Entries(item, seen) => seen.first(key).then_some(*item),
            MapKeys::Fields(fields) => fields.field(key).map(|f| Expect::Type(&f.ty)),
            MapKeys::Tag { tags, seen } => {
                let first = !std::mem::replace(seen, true);
                let entry = tags.find(key).filter(|_| first)?;
                Some(Expect::Fields(&entry.fields))
            }
            MapKeys::Call { function, seen } => {
                let first = !std::mem::replace(seen, true);
                (first && key == function.name).then_some(Expect::Fields(&function.args))
            }
        }
    }

    pub(crate) fn complete(&self) -> bool {
        match self {
            MapKeys::Entries(..) => true,
            MapKeys::Fields(fields) => fields.complete(),
            MapKeys::Tag { seen, .. } | MapKeys::Call { seen, .. } => *seen,
        }
    }
}
