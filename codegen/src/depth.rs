//! Which fields hold their item through `rt::Boxed`, so that no chain of types owning
//! one another grows past what rustc can walk.
//!
//! rustc walks everything a type owns to check drop order (drop-check), layouts and
//! `Send`, and gives up at its recursion limit (128) with "overflow while adding
//! drop-check rules": a schema whose structs hold one another in a chain of a few
//! hundred (or in one big cycle) would not compile. `Boxed` hides its value from those
//! walks, so each field it wraps ends a chain. Schemas of ordinary depth get none.

use std::collections::HashSet;

use telepact_schema::{TypeExpr, TypeKind};

use crate::plan::{ItemId, Plan, Shape};
use crate::recursion::strongly_connected_components;

/// The longest chain of items owning one another that is left as it is. Each link costs
/// rustc a few levels (the item and its `Option`, `Vec` or map), so this stays well
/// inside the limit of 128.
const MAX_HEIGHT: usize = 16;

/// Cycles of up to this many items keep their fields (a by-value field closing the cycle
/// is a plain `Box`); in larger ones every field pointing inside the cycle is `Boxed`.
const SMALL_CYCLE: usize = 8;

/// `(item, field index)` of every field whose item reference is wrapped in `Boxed`.
pub(crate) type BoxedFields = HashSet<(ItemId, usize)>;

/// An edge of the ownership graph: the item held, and the field holding it (`None` for
/// a variant's payload, or a header, which are never wrapped).
type Edge = (ItemId, Option<usize>);

/// Chooses the fields to wrap: edges inside a large cycle, and edges to items whose own
/// chains are already as long as allowed. Components are visited after everything they
/// hold (Tarjan numbers them in that order), so every target's height is known.
pub(crate) fn boxed_fields(plan: &Plan) -> BoxedFields {
    let edges: Vec<Vec<Edge>> = (0..plan.items.len()).map(|i| edges(plan, i)).collect();
    let targets: Vec<Vec<ItemId>> = edges
        .iter()
        .map(|e| e.iter().map(|&(t, _)| t).collect())
        .collect();
    let component = strongly_connected_components(&targets);
    let mut members: Vec<Vec<ItemId>> = Vec::new();
    for (item, &c) in component.iter().enumerate() {
        if members.len() <= c {
            members.resize(c + 1, Vec::new());
        }
        members[c].push(item);
    }
    let mut height = vec![0; plan.items.len()];
    let mut boxed = BoxedFields::new();
    for (c, members) in members.iter().enumerate() {
        if members.len() <= SMALL_CYCLE {
            // Walked whole: as tall as its size plus the tallest thing it keeps.
            let size = members.len();
            let mut tallest = 0;
            for &item in members {
                for &(target, field) in &edges[item] {
                    if component[target] != c {
                        tallest = tallest
                            .max(keep_or_box(item, target, field, size, &height, &mut boxed));
                    }
                }
            }
            for &item in members {
                height[item] = size + tallest;
            }
            continue;
        }
        // A large cycle: fields inside it are wrapped, and what remains inside are
        // variants' payloads (structs, whose own inside fields are wrapped): structs
        // first, then the enums holding them.
        let (structs, enums): (Vec<ItemId>, Vec<ItemId>) = members
            .iter()
            .partition(|&&item| matches!(plan.items[item].shape, Shape::Struct(_)));
        for item in structs.into_iter().chain(enums) {
            let mut tallest = 0;
            for &(target, field) in &edges[item] {
                match field {
                    Some(field) if component[target] == c => {
                        boxed.insert((item, field));
                    }
                    _ => {
                        let kept = keep_or_box(item, target, field, 1, &height, &mut boxed);
                        tallest = tallest.max(kept);
                    }
                }
            }
            height[item] = 1 + tallest;
        }
    }
    boxed
}

/// Wraps the field when keeping `target` would make a chain of `own` items plus the
/// target's too long; returns the height kept (0 when wrapped).
fn keep_or_box(
    item: ItemId,
    target: ItemId,
    field: Option<usize>,
    own: usize,
    height: &[usize],
    boxed: &mut BoxedFields,
) -> usize {
    match field {
        Some(field) if own + height[target] > MAX_HEIGHT => {
            boxed.insert((item, field));
            0
        }
        _ => height[target],
    }
}

fn edges(plan: &Plan, item: ItemId) -> Vec<Edge> {
    let wrappable = ![plan.request_headers, plan.response_headers].contains(&item);
    match &plan.items[item].shape {
        Shape::Struct(fields) => fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((referenced_item(plan, &f.ty)?, wrappable.then_some(i))))
            .collect(),
        Shape::Enum(variants) => variants.iter().map(|v| (v.payload, None)).collect(),
    }
}

/// The item a type refers to, directly or inside arrays and maps.
pub(crate) fn referenced_item(plan: &Plan, ty: &TypeExpr) -> Option<ItemId> {
    match &ty.kind {
        TypeKind::Struct(id) => Some(plan.struct_item(*id)),
        TypeKind::Union(id) => Some(plan.union_item(*id)),
        TypeKind::FunctionLink(id) => Some(plan.input_item(*id)),
        TypeKind::Array(inner) | TypeKind::Object(inner) => referenced_item(plan, inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use telepact_schema::Schema;

    use super::boxed_fields;
    use crate::plan::Plan;

    /// The `(struct key, field)` pairs held through `Boxed` for `definitions`.
    fn boxed(definitions: &[String]) -> Vec<String> {
        let schema = Schema::from_text(&format!("[{}]", definitions.join(","))).unwrap();
        let plan = Plan::build(&schema, &Default::default()).unwrap();
        let mut names: Vec<String> = boxed_fields(&plan)
            .into_iter()
            .map(|(item, field)| match &plan.items[item].shape {
                crate::plan::Shape::Struct(fields) => {
                    format!("{}.{}", plan.items[item].key, fields[field].wire)
                }
                crate::plan::Shape::Enum(_) => unreachable!("only fields are wrapped"),
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_chain_is_cut_every_sixteen_links_from_its_end() {
        let chain: Vec<String> = (0..40)
            .map(|i| match i {
                39 => r#"{"struct.C39": {}}"#.to_string(),
                _ => format!(r#"{{"struct.C{i}": {{"next!": "struct.C{}"}}}}"#, i + 1),
            })
            .collect();
        assert_eq!(boxed(&chain), ["struct.C23.next!", "struct.C7.next!"]);
    }

    #[test]
    fn small_cycles_keep_their_fields_and_large_ones_wrap_every_inside_field() {
        let ring = |size: usize| -> Vec<String> {
            (0..size)
                .map(|i| {
                    format!(
                        r#"{{"struct.R{i}": {{"next!": "struct.R{}"}}}}"#,
                        (i + 1) % size
                    )
                })
                .collect()
        };
        assert_eq!(boxed(&ring(8)), Vec::<String>::new());
        let large: Vec<String> = (0..9).map(|i| format!("struct.R{i}.next!")).collect();
        assert_eq!(boxed(&ring(9)), large);
    }
}
