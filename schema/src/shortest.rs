//! How deep the shortest value of each definition is: whether a recursive type can be
//! built at all (the loader refuses one that cannot), and which way a generator that
//! must end soon should take.
//!
//! The depths are the least solution of one equation per definition (a struct is one
//! level above its deepest required field, a union two above its tag that ends
//! soonest). They are found as shortest paths are, settling the definitions in order
//! of depth, so a chain of thousands of definitions costs no more than thousands of
//! separate ones.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use indexmap::IndexMap;

use crate::model::{
    Field, FunctionDef, FunctionId, Schema, StructDef, StructId, TypeExpr, TypeKind, UnionDef,
    UnionId,
};

/// The depth of a definition no value of which ends: its required fields lead back to
/// it whatever the tags chosen. The loader refuses schemas with such definitions.
pub const UNENDING: u32 = u32::MAX;

/// How deep the shortest value of each definition is when only required fields are
/// filled, counting objects: a struct, or a function's arguments, is one level above
/// its deepest required field, and a union (or a function's result) two above the tag
/// whose fields end soonest (the tag's object, then its fields). A value that may be
/// left empty (`null`, an empty array or map, a scalar) is 0 deep.
#[derive(Debug, Clone)]
pub struct ShortestDepths {
    nodes: Nodes,
    /// By node: structs, unions, arguments, results (see [`Nodes`]).
    depths: Vec<u32>,
}

impl ShortestDepths {
    /// The depths of every definition of `schema`.
    pub fn of(schema: &Schema) -> Self {
        compute(&schema.structs, &schema.unions, &schema.functions)
    }

    /// The depth of the struct `id`.
    pub fn struct_depth(&self, id: StructId) -> u32 {
        self.depths[id.0 as usize]
    }

    /// The depth of the union `id`.
    pub fn union_depth(&self, id: UnionId) -> u32 {
        self.depths[self.nodes.union(id.0 as usize)]
    }

    /// The depth of the arguments of function `id` (and of a link to it).
    pub fn arguments_depth(&self, id: FunctionId) -> u32 {
        self.depths[self.nodes.arguments(id.0 as usize)]
    }

    /// The depth of the result of function `id`.
    pub fn result_depth(&self, id: FunctionId) -> u32 {
        self.depths[self.nodes.result(id.0 as usize)]
    }

    /// The depth of a value of `ty`: scalars, empty collections, an empty selection
    /// and `null` end at once.
    pub fn type_depth(&self, ty: &TypeExpr) -> u32 {
        self.nodes.of_type(ty).map_or(0, |node| self.depths[node])
    }

    /// The depth of an object of `fields` (a struct's, a tag's or a function's): one
    /// above its deepest required field.
    pub fn fields_depth(&self, fields: &IndexMap<String, Field>) -> u32 {
        fields
            .values()
            .filter(|field| !field.optional)
            .map(|field| self.type_depth(&field.ty))
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }
}

/// The definitions as one list of nodes: structs, unions, arguments, results.
#[derive(Debug, Clone, Copy)]
struct Nodes {
    structs: usize,
    unions: usize,
    functions: usize,
}

impl Nodes {
    fn count(self) -> usize {
        self.structs + self.unions + 2 * self.functions
    }

    fn union(self, index: usize) -> usize {
        self.structs + index
    }

    fn arguments(self, index: usize) -> usize {
        self.structs + self.unions + index
    }

    fn result(self, index: usize) -> usize {
        self.structs + self.unions + self.functions + index
    }

    /// The node whose depth a value of `ty` takes, if any.
    fn of_type(self, ty: &TypeExpr) -> Option<usize> {
        if ty.nullable {
            return None;
        }
        match &ty.kind {
            TypeKind::Struct(id) => Some(id.0 as usize),
            TypeKind::Union(id) => Some(self.union(id.0 as usize)),
            TypeKind::FunctionLink(id) => Some(self.arguments(id.0 as usize)),
            _ => None,
        }
    }
}

/// One way to build its owner: an object of fields, `levels` above the deepest of the
/// nodes its required fields take, once all of them are settled.
#[derive(Debug)]
struct Way {
    owner: usize,
    levels: u32,
    unsettled: usize,
}

/// The ways to build each node, and for each node the ways that wait for it (once per
/// required field that takes it).
#[derive(Debug)]
struct Ways {
    nodes: Nodes,
    ways: Vec<Way>,
    waiting_on: Vec<Vec<usize>>,
}

impl Ways {
    fn add(&mut self, owner: usize, levels: u32, fields: &IndexMap<String, Field>) {
        let way = self.ways.len();
        let mut unsettled = 0;
        let taken = fields
            .values()
            .filter(|field| !field.optional)
            .filter_map(|field| self.nodes.of_type(&field.ty));
        for node in taken {
            self.waiting_on[node].push(way);
            unsettled += 1;
        }
        self.ways.push(Way {
            owner,
            levels,
            unsettled,
        });
    }
}

/// The depths of the definitions in these arenas (see [`ShortestDepths`]).
pub(crate) fn compute(
    structs: &[StructDef],
    unions: &[UnionDef],
    functions: &[FunctionDef],
) -> ShortestDepths {
    let nodes = Nodes {
        structs: structs.len(),
        unions: unions.len(),
        functions: functions.len(),
    };
    let mut ways = Ways {
        nodes,
        ways: Vec::new(),
        waiting_on: vec![Vec::new(); nodes.count()],
    };
    for (index, def) in structs.iter().enumerate() {
        ways.add(index, 1, &def.fields);
    }
    for (index, def) in unions.iter().enumerate() {
        for tag in def.tags.values() {
            ways.add(nodes.union(index), 2, &tag.fields);
        }
    }
    for (index, def) in functions.iter().enumerate() {
        ways.add(nodes.arguments(index), 1, &def.args);
        for tag in def.result.tags.values() {
            ways.add(nodes.result(index), 2, &tag.fields);
        }
    }
    ShortestDepths {
        nodes,
        depths: settle(ways),
    }
}

/// Settles the nodes shallowest first (Knuth's generalisation of Dijkstra's shortest
/// paths): when a way's last node settles, that node is the deepest it takes, so the
/// way builds its owner `levels` deeper. Nodes no way builds stay [`UNENDING`].
fn settle(mut ways: Ways) -> Vec<u32> {
    let mut depths = vec![UNENDING; ways.nodes.count()];
    let mut settled = vec![false; depths.len()];
    let mut next: BinaryHeap<Reverse<(u32, usize)>> = BinaryHeap::new();
    for way in ways.ways.iter().filter(|way| way.unsettled == 0) {
        offer(&mut depths, &mut next, way.owner, way.levels);
    }
    while let Some(Reverse((depth, node))) = next.pop() {
        if settled[node] {
            continue;
        }
        settled[node] = true;
        for &index in &ways.waiting_on[node] {
            let way = &mut ways.ways[index];
            way.unsettled -= 1;
            if way.unsettled == 0 && !settled[way.owner] {
                offer(
                    &mut depths,
                    &mut next,
                    way.owner,
                    depth.saturating_add(way.levels),
                );
            }
        }
    }
    depths
}

/// Records that `node` can be built `depth` deep, when that is less than known so far.
fn offer(
    depths: &mut [u32],
    next: &mut BinaryHeap<Reverse<(u32, usize)>>,
    node: usize,
    depth: u32,
) {
    if depth < depths[node] {
        depths[node] = depth;
        next.push(Reverse((depth, node)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TypeName;

    fn depths(text: &str) -> (Schema, ShortestDepths) {
        let schema = Schema::from_text(text).expect("schema loads");
        let depths = ShortestDepths::of(&schema);
        (schema, depths)
    }

    fn depth_of(schema: &Schema, depths: &ShortestDepths, name: &str) -> u32 {
        match schema.names.get(name) {
            Some(TypeName::Struct(id)) => depths.struct_depth(*id),
            Some(TypeName::Union(id)) => depths.union_depth(*id),
            Some(TypeName::Function(id)) => depths.arguments_depth(*id),
            _ => panic!("{name} is not defined"),
        }
    }

    #[test]
    fn optional_recursion_ends_at_once_and_required_fields_add_depth() {
        let (schema, depths) = depths(
            r#"[{"struct.Tree": {"id": "integer", "children!": ["struct.Tree"]}},
                {"struct.Pair": {"left": "struct.Tree", "right": "struct.Tree?"}}]"#,
        );
        assert_eq!(depth_of(&schema, &depths, "struct.Tree"), 1);
        assert_eq!(depth_of(&schema, &depths, "struct.Pair"), 2);
    }

    #[test]
    fn a_union_ends_through_its_shortest_tag() {
        let (schema, depths) = depths(
            r#"[{"union.Harvest": [{"Nested": {"inner": "union.Harvest"}}, {"Empty": {}}]}]"#,
        );
        assert_eq!(depth_of(&schema, &depths, "union.Harvest"), 2);
    }

    #[test]
    fn a_struct_takes_its_deepest_field_and_a_union_its_shallowest_tag() {
        let (schema, depths) = depths(
            r#"[{"struct.Leaf": {"n": "integer"}},
                {"struct.Branch": {"leaf": "struct.Leaf", "again": "struct.Leaf"}},
                {"struct.Trunk": {"branch": "struct.Branch", "leaf": "struct.Leaf"}},
                {"union.Part": [{"Deep": {"trunk": "struct.Trunk"}}, {"Shallow": {"leaf": "struct.Leaf"}}]},
                {"struct.Linked": {"call": "fn.grow"}},
                {"fn.grow": {"part": "union.Part"}, "->": [{"Ok_": {}}]}]"#,
        );
        let depth = |name| depth_of(&schema, &depths, name);
        assert_eq!(depth("struct.Leaf"), 1);
        assert_eq!(depth("struct.Branch"), 2);
        assert_eq!(depth("struct.Trunk"), 3);
        assert_eq!(depth("union.Part"), 3);
        assert_eq!(depth("fn.grow"), 4);
        // A link to a function is as deep as its arguments.
        assert_eq!(depth("struct.Linked"), 5);
        let Some(TypeName::Function(grow)) = schema.names.get("fn.grow") else {
            panic!("fn.grow is a function");
        };
        assert_eq!(depths.result_depth(*grow), 2);
    }

    #[test]
    fn a_long_chain_is_as_deep_as_it_is_long() {
        let count = 3_000;
        let mut definitions: Vec<String> = (0..count)
            .map(|i| format!(r#"{{"struct.S{i}": {{"next": "struct.S{}"}}}}"#, i + 1))
            .collect();
        definitions.push(format!(r#"{{"struct.S{count}": {{}}}}"#));
        let (schema, depths) = depths(&format!("[{}]", definitions.join(",")));
        assert_eq!(depth_of(&schema, &depths, "struct.S0"), count + 1);
        assert_eq!(depth_of(&schema, &depths, &format!("struct.S{count}")), 1);
    }

    #[test]
    fn required_fields_that_lead_back_never_end() {
        let structs = vec![
            struct_def("struct.A", &[("b", "struct.B")]),
            struct_def("struct.B", &[("a", "struct.A")]),
            struct_def("struct.C", &[("a", "struct.A?")]),
        ];
        let depths = compute(&structs, &[], &[]);
        assert_eq!(depths.struct_depth(StructId(0)), UNENDING);
        assert_eq!(depths.struct_depth(StructId(1)), UNENDING);
        assert_eq!(depths.struct_depth(StructId(2)), 1);
    }

    /// A struct whose fields name structs by their position in the arena (the loader
    /// would refuse the schemas these tests need).
    fn struct_def(name: &str, fields: &[(&str, &str)]) -> StructDef {
        let arena = ["struct.A", "struct.B", "struct.C"];
        let fields = fields
            .iter()
            .map(|(key, ty)| {
                let nullable = ty.ends_with('?');
                let target = ty.trim_end_matches('?');
                let id = arena.iter().position(|n| *n == target).expect("a struct");
                let field = Field {
                    key: (*key).to_string(),
                    name: (*key).to_string(),
                    optional: false,
                    ty: TypeExpr {
                        kind: TypeKind::Struct(StructId(id as u32)),
                        nullable,
                    },
                };
                ((*key).to_string(), field)
            })
            .collect();
        StructDef {
            name: name.to_string(),
            doc: None,
            fields,
        }
    }
}
