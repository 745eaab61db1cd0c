//! Properties of the item graph: which fields must be boxed (they close a cycle of
//! by-value containment) and which items can derive `Default`, `Eq` and `Hash`.
//!
//! A type mapped to an existing Rust type is a leaf here: the generator cannot see its
//! fields, so no field holding it is boxed (a mapped type that holds generated types
//! which hold it again boxes them itself), and its derives are the traits its user
//! declared.

use telepact_schema::{TypeExpr, TypeKind};

use crate::plan::{ItemId, Plan, Shape};

/// The item a field holds by value (not behind a `Vec` or a map), if any.
fn held_by_value(plan: &Plan, ty: &TypeExpr) -> Option<ItemId> {
    match &ty.kind {
        TypeKind::Struct(id) => Some(plan.struct_item(*id)),
        TypeKind::Union(id) => Some(plan.union_item(*id)),
        TypeKind::FunctionLink(id) => Some(plan.input_item(*id)),
        _ => None,
    }
}

fn edges(plan: &Plan, item: ItemId) -> Vec<ItemId> {
    match &plan.items[item].shape {
        Shape::Struct(fields) => fields
            .iter()
            .filter_map(|f| held_by_value(plan, &f.ty))
            .collect(),
        Shape::Enum(variants) => variants.iter().map(|v| v.payload).collect(),
    }
}

/// Boxes every field whose by-value target lies in the field's own strongly connected
/// component: every cycle passes through such a field, and no other field is boxed.
pub(crate) fn mark_boxed_fields(plan: &mut Plan) {
    let graph: Vec<Vec<ItemId>> = (0..plan.items.len()).map(|i| edges(plan, i)).collect();
    let component = strongly_connected_components(&graph);
    for item in 0..plan.items.len() {
        let targets: Vec<Option<ItemId>> = match &plan.items[item].shape {
            Shape::Struct(fields) => fields.iter().map(|f| held_by_value(plan, &f.ty)).collect(),
            Shape::Enum(_) => continue,
        };
        if let Shape::Struct(fields) = &mut plan.items[item].shape {
            for (field, target) in fields.iter_mut().zip(targets) {
                field.boxed = target.is_some_and(|t| component[t] == component[item]);
            }
        }
    }
}

/// Marks the structs whose every field has a `Default` (least fixpoint, so a struct
/// that needs itself to be defaultable is not).
pub(crate) fn mark_default_structs(plan: &mut Plan) {
    loop {
        let mut changed = false;
        for item in 0..plan.items.len() {
            if plan.items[item].derive_default || plan.items[item].external.is_some() {
                continue;
            }
            let defaultable = match &plan.items[item].shape {
                Shape::Struct(fields) => fields
                    .iter()
                    .all(|f| f.optional || field_type_has_default(plan, &f.ty)),
                Shape::Enum(_) => false,
            };
            if defaultable {
                plan.items[item].derive_default = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

fn field_type_has_default(plan: &Plan, ty: &TypeExpr) -> bool {
    if ty.nullable {
        return true;
    }
    match &ty.kind {
        TypeKind::Struct(id) => plan.items[plan.struct_item(*id)].derive_default,
        // Only a mapped union can have a `Default`, when its user declares one.
        TypeKind::Union(id) => plan.items[plan.union_item(*id)].derive_default,
        TypeKind::FunctionLink(_) => false,
        _ => true,
    }
}

/// What a type needs of the standard traits, given the items it refers to.
#[derive(Clone, Copy)]
struct Derivable {
    eq: bool,
    hash: bool,
}

impl Derivable {
    const ALL: Derivable = Derivable {
        eq: true,
        hash: true,
    };

    fn and(self, other: Derivable) -> Derivable {
        Derivable {
            eq: self.eq && other.eq,
            hash: self.hash && other.hash,
        }
    }
}

fn type_derivable(plan: &Plan, ty: &TypeExpr) -> Derivable {
    let item = |id: ItemId| Derivable {
        eq: plan.items[id].derive_eq,
        hash: plan.items[id].derive_hash,
    };
    match &ty.kind {
        TypeKind::Boolean | TypeKind::Integer | TypeKind::String | TypeKind::Bytes => {
            Derivable::ALL
        }
        // `f64` is not `Eq`.
        TypeKind::Number => Derivable {
            eq: false,
            hash: false,
        },
        // JSON values and maps (`IndexMap`) are `Eq` but not `Hash`.
        TypeKind::Any | TypeKind::Select | TypeKind::MockCall | TypeKind::MockStub => Derivable {
            eq: true,
            hash: false,
        },
        TypeKind::Object(inner) => Derivable {
            eq: type_derivable(plan, inner).eq,
            hash: false,
        },
        TypeKind::Array(inner) => type_derivable(plan, inner),
        TypeKind::Struct(id) => item(plan.struct_item(*id)),
        TypeKind::Union(id) => item(plan.union_item(*id)),
        TypeKind::FunctionLink(id) => item(plan.input_item(*id)),
    }
}

/// Marks which items can derive `Eq` and `Hash`: greatest fixpoint (every item starts
/// marked and loses a mark when something inside lacks it), so recursive types keep it.
pub(crate) fn mark_eq_and_hash(plan: &mut Plan) {
    loop {
        let mut changed = false;
        for id in 0..plan.items.len() {
            if plan.items[id].external.is_some() {
                // Fixed by what the user declared.
                continue;
            }
            let derivable = match &plan.items[id].shape {
                Shape::Struct(fields) => fields.iter().fold(Derivable::ALL, |acc, f| {
                    acc.and(type_derivable(plan, &f.ty))
                }),
                Shape::Enum(variants) => variants.iter().fold(Derivable::ALL, |acc, v| {
                    acc.and(Derivable {
                        eq: plan.items[v.payload].derive_eq,
                        hash: plan.items[v.payload].derive_hash,
                    })
                }),
            };
            let item = &mut plan.items[id];
            let hash = derivable.hash && derivable.eq;
            if item.derive_eq != derivable.eq || item.derive_hash != hash {
                item.derive_eq = derivable.eq;
                item.derive_hash = hash;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

/// Tarjan's algorithm, iterative; returns each node's component number.
pub(crate) fn strongly_connected_components(graph: &[Vec<usize>]) -> Vec<usize> {
    const UNVISITED: usize = usize::MAX;
    let n = graph.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut component = vec![UNVISITED; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_component = 0;
    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        // Each frame: (node, position of the next edge to follow).
        let mut frames = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = frames.last_mut() {
            if let Some(&next) = graph[node].get(*edge) {
                *edge += 1;
                if index[next] == UNVISITED {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    frames.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = next_component;
                    if member == node {
                        break;
                    }
                }
                next_component += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::strongly_connected_components;

    #[test]
    fn cycles_share_a_component_and_chains_do_not() {
        // 0 -> 1 -> 2 -> 0 is a cycle; 3 -> 0 hangs off it; 4 points at itself.
        let graph = vec![vec![1], vec![2], vec![0], vec![0], vec![4]];
        let c = strongly_connected_components(&graph);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[3], c[0]);
        assert_ne!(c[4], c[0]);
    }
}
