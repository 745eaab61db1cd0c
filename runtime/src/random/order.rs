//! The name order in which a generator walks a definition's fields and tags, worked out
//! once per generation for each definition it meets.
//!
//! The protocol draws a struct's fields and a union's tags in name order. Sorting them
//! again for every value made one value of a wide definition cost its width times its
//! logarithm, and a tight value (where optional fields are left out) its width: a mock
//! call generating a union of 20,000 tags 20,000 times took 28 s.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use telepact_schema::{Field, ShortestDepths, Tag};

/// A field list's positions in name order.
#[derive(Debug)]
pub(super) struct FieldOrder {
    /// Every field.
    pub(super) all: Vec<usize>,
    /// The required fields alone: all a tight value, or one without optional fields, has.
    pub(super) required: Vec<usize>,
}

/// A tag list's positions in name order.
#[derive(Debug)]
pub(super) struct TagOrder {
    pub(super) sorted: Vec<usize>,
    /// The tag whose required fields end soonest (the first such by name): a tight
    /// value's.
    pub(super) shortest: usize,
}

/// The orders of the field and tag lists met so far. Lists are told apart by where they
/// are: each is borrowed from the schema for `'a`, so none can move or be dropped, and
/// no other list take its place, while the orders are kept.
#[derive(Debug, Default)]
pub(super) struct NameOrders<'a> {
    fields: HashMap<usize, Arc<FieldOrder>>,
    tags: HashMap<usize, Arc<TagOrder>>,
    borrowed: std::marker::PhantomData<&'a ()>,
}

impl<'a> NameOrders<'a> {
    pub(super) fn of_fields(&mut self, fields: &'a IndexMap<String, Field>) -> Arc<FieldOrder> {
        let place = std::ptr::from_ref(fields) as usize;
        let order = self.fields.entry(place).or_insert_with(|| {
            let all = by_key(fields.len(), |i| fields[i].key.as_str());
            let required = all
                .iter()
                .copied()
                .filter(|&i| !fields[i].optional)
                .collect();
            Arc::new(FieldOrder { all, required })
        });
        Arc::clone(order)
    }

    pub(super) fn of_tags(
        &mut self,
        tags: &'a IndexMap<String, Tag>,
        depths: &ShortestDepths,
    ) -> Arc<TagOrder> {
        let place = std::ptr::from_ref(tags) as usize;
        let order = self.tags.entry(place).or_insert_with(|| {
            let sorted = by_key(tags.len(), |i| tags[i].name.as_str());
            let shortest = (0..sorted.len())
                .min_by_key(|&i| depths.fields_depth(&tags[sorted[i]].fields))
                .unwrap_or(0);
            Arc::new(TagOrder { sorted, shortest })
        });
        Arc::clone(order)
    }
}

/// The positions `0..len` sorted by `key`.
fn by_key<'k>(len: usize, key: impl Fn(usize) -> &'k str) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..len).collect();
    positions.sort_by(|&a, &b| key(a).cmp(key(b)));
    positions
}
