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
/// that needs itself to be defaultable is not): each struct waits for the items its
/// required fields hold, and is marked once the last of them is. One pass over the
/// fields, however long the chains of structs holding structs.
pub(crate) fn mark_default_structs(plan: &mut Plan) {
    const NEVER: usize = usize::MAX;
    let count = plan.items.len();
    // For each struct, how many held items it still waits for (`NEVER`: one of its
    // fields can have no `Default`); for each item, the structs that wait for it.
    let mut waiting = vec![NEVER; count];
    let mut waiters: Vec<Vec<ItemId>> = vec![Vec::new(); count];
    let mut marked = Vec::new();
    for (item, wait) in waiting.iter_mut().enumerate() {
        if plan.items[item].derive_default || plan.items[item].external.is_some() {
            continue;
        }
        let Shape::Struct(fields) = &plan.items[item].shape else {
            continue;
        };
        let mut needed = Vec::new();
        let possible =
            fields
                .iter()
                .filter(|f| !f.optional)
                .all(|f| match default_needs(plan, &f.ty) {
                    DefaultNeeds::Nothing => true,
                    DefaultNeeds::Item(held) => {
                        needed.push(held);
                        true
                    }
                    DefaultNeeds::Impossible => false,
                });
        if !possible {
            continue;
        }
        *wait = needed.len();
        for held in needed {
            waiters[held].push(item);
        }
        if *wait == 0 {
            marked.push(item);
        }
    }
    while let Some(item) = marked.pop() {
        plan.items[item].derive_default = true;
        for &waiter in &waiters[item] {
            waiting[waiter] -= 1;
            if waiting[waiter] == 0 {
                marked.push(waiter);
            }
        }
    }
}

/// What a field of type `ty` needs to have a `Default`.
enum DefaultNeeds {
    Nothing,
    /// The struct it holds to derive `Default`.
    Item(ItemId),
    /// It cannot have one: a function link, or a union or mapped type without one.
    Impossible,
}

fn default_needs(plan: &Plan, ty: &TypeExpr) -> DefaultNeeds {
    if ty.nullable {
        return DefaultNeeds::Nothing;
    }
    let item = match &ty.kind {
        TypeKind::Struct(id) => plan.struct_item(*id),
        // Only a mapped union can have a `Default`, when its user declares one.
        TypeKind::Union(id) => plan.union_item(*id),
        TypeKind::FunctionLink(_) => return DefaultNeeds::Impossible,
        _ => return DefaultNeeds::Nothing,
    };
    let held = &plan.items[item];
    if held.derive_default {
        DefaultNeeds::Nothing
    } else if held.external.is_some() || matches!(held.shape, Shape::Enum(_)) {
        DefaultNeeds::Impossible
    } else {
        DefaultNeeds::Item(item)
    }
}

/// What an item's own fields allow of `Eq` and `Hash`, and the items they hold, whose
/// traits it needs too.
#[derive(Default)]
struct TraitNeeds {
    /// A `number` inside: `f64` is not `Eq`.
    no_eq: bool,
    /// A map or selection inside (`IndexMap`s): `Eq` but not `Hash`.
    no_hash: bool,
    /// Held items, and whether each is held inside a map (where only its `Eq` counts).
    held: Vec<(ItemId, bool)>,
}

impl TraitNeeds {
    fn of_type(&mut self, plan: &Plan, ty: &TypeExpr, in_map: bool) {
        match &ty.kind {
            TypeKind::Boolean | TypeKind::Integer | TypeKind::String | TypeKind::Bytes => {}
            TypeKind::Number => {
                self.no_eq = true;
                self.no_hash = true;
            }
            // JSON values are `Eq` and `Hash` (`serde_json` 1.0.118 and later).
            TypeKind::Any | TypeKind::MockCall | TypeKind::MockStub => {}
            // Maps (`IndexMap`) are `Eq` but not `Hash`.
            TypeKind::Select => self.no_hash = true,
            TypeKind::Object(inner) => {
                self.no_hash = true;
                self.of_type(plan, inner, true);
            }
            TypeKind::Array(inner) => self.of_type(plan, inner, in_map),
            TypeKind::Struct(id) => self.held.push((plan.struct_item(*id), in_map)),
            TypeKind::Union(id) => self.held.push((plan.union_item(*id), in_map)),
            TypeKind::FunctionLink(id) => self.held.push((plan.input_item(*id), in_map)),
        }
    }
}

/// Marks which items can derive `Eq` and `Hash`: greatest fixpoint (every item starts
/// marked and loses a mark when something inside lacks it), so recursive types keep it.
/// A lost mark is passed on to the items holding the item, once each.
pub(crate) fn mark_eq_and_hash(plan: &mut Plan) {
    let count = plan.items.len();
    // For each item, the items that lose `Eq` with it, and those that lose `Hash`.
    let mut eq_holders: Vec<Vec<ItemId>> = vec![Vec::new(); count];
    let mut hash_holders: Vec<Vec<ItemId>> = vec![Vec::new(); count];
    let mut lost = Vec::new();
    for id in 0..count {
        let item = &plan.items[id];
        if item.external.is_some() {
            // Fixed by what the user declared.
            if !item.derive_eq || !item.derive_hash {
                lost.push(id);
            }
            continue;
        }
        let mut needs = TraitNeeds::default();
        match &item.shape {
            Shape::Struct(fields) => {
                for field in fields {
                    needs.of_type(plan, &field.ty, false);
                }
            }
            Shape::Enum(variants) => needs
                .held
                .extend(variants.iter().map(|variant| (variant.payload, false))),
        }
        for (held, in_map) in needs.held {
            eq_holders[held].push(id);
            if !in_map {
                hash_holders[held].push(id);
            }
        }
        let item = &mut plan.items[id];
        item.derive_eq = !needs.no_eq;
        item.derive_hash = item.derive_eq && !needs.no_hash;
        if !item.derive_eq || !item.derive_hash {
            lost.push(id);
        }
    }
    while let Some(id) = lost.pop() {
        let (eq, hash) = (plan.items[id].derive_eq, plan.items[id].derive_hash);
        if !eq {
            for &holder in &eq_holders[id] {
                lose_traits(plan, holder, true, &mut lost);
            }
        }
        if !hash {
            for &holder in &hash_holders[id] {
                lose_traits(plan, holder, false, &mut lost);
            }
        }
    }
}

/// Takes `Hash` (and `Eq` too with `eq`) from `holder`, which holds an item that lost
/// it; a mapped type keeps what its user declared. A holder that lost something is
/// queued to pass it on.
fn lose_traits(plan: &mut Plan, holder: ItemId, eq: bool, lost: &mut Vec<ItemId>) {
    let item = &mut plan.items[holder];
    if item.external.is_some() {
        return;
    }
    let had = (item.derive_eq, item.derive_hash);
    item.derive_eq &= !eq;
    item.derive_hash = false;
    if (item.derive_eq, item.derive_hash) != had {
        lost.push(holder);
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
