//! Limits on generated values (examples, mocks), so that recursive types always end
//! and no request can make the server build a huge answer.
//!
//! Generation runs generously until a limit is reached, then *tightly*: optional fields
//! are left out, collections are empty, nullable values are `null` and a union takes
//! the tag whose required fields end soonest. A schema whose required fields recurse
//! without end is refused by the loader, so tight generation always ends.

use indexmap::IndexMap;
use telepact_schema::{Field, FunctionId, Schema, StructId, TypeExpr, TypeKind, UnionId};

/// How much a generator may produce for one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GenerationLimits {
    /// How many times one struct, union or function may stand on the path from the
    /// root to a value before generation turns tight below it.
    pub max_recursion: usize,
    /// How many values (of any type, at any depth) are generated before generation
    /// turns tight for the rest of the value. For `fn.api_` `includeExamples!` the
    /// count runs across every example of the answer, so the answer stays small
    /// however many definitions the schema has.
    pub max_values: usize,
}

impl Default for GenerationLimits {
    /// Three levels of each recursive type and 2,000 values: a `fn.api_` answer's
    /// examples stay below 64 KB.
    fn default() -> Self {
        GenerationLimits {
            max_recursion: 3,
            max_values: 2_000,
        }
    }
}

crate::__option_setters!(GenerationLimits {
    max_recursion: usize,
    max_values: usize,
});

/// Past this many nested values the generator gives up on a branch (answers `null`): a
/// last guard that well-formed schemas never reach, kept well below serde_json's
/// default recursion limit of 128.
const MAX_NESTING: usize = 48;

/// A definition that can recur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Composite {
    Struct(StructId),
    Union(UnionId),
    Function(FunctionId),
}

/// How deep the shortest value of each definition is when only required fields are
/// generated: what tight generation follows to end.
#[derive(Debug, Clone)]
pub(crate) struct Endings {
    structs: Vec<u32>,
    unions: Vec<u32>,
    functions: Vec<u32>,
}

/// Depth of a definition whose required fields never end (refused by the loader).
const NEVER: u32 = u32::MAX;

impl Endings {
    /// Computes the depths as a fixpoint: every pass can only lower them.
    pub(crate) fn new(schema: &Schema) -> Self {
        let mut endings = Endings {
            structs: vec![NEVER; schema.structs.len()],
            unions: vec![NEVER; schema.unions.len()],
            functions: vec![NEVER; schema.functions.len()],
        };
        loop {
            let mut changed = false;
            for (index, def) in schema.structs.iter().enumerate() {
                let depth = endings.fields(&def.fields);
                changed |= lower(&mut endings.structs[index], depth);
            }
            for (index, def) in schema.unions.iter().enumerate() {
                let depth = endings.union_tags(def.tags.values().map(|t| &t.fields));
                changed |= lower(&mut endings.unions[index], depth);
            }
            for (index, def) in schema.functions.iter().enumerate() {
                let depth = endings.fields(&def.args);
                changed |= lower(&mut endings.functions[index], depth);
            }
            if !changed {
                return endings;
            }
        }
    }

    /// Depth of a struct-like payload with only its required fields.
    pub(crate) fn fields(&self, fields: &IndexMap<String, Field>) -> u32 {
        fields
            .values()
            .filter(|field| !field.optional)
            .map(|field| self.expression(&field.ty))
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    fn union_tags<'f>(&self, tags: impl Iterator<Item = &'f IndexMap<String, Field>>) -> u32 {
        tags.map(|fields| self.fields(fields))
            .min()
            .unwrap_or(0)
            .saturating_add(1)
    }

    fn expression(&self, ty: &TypeExpr) -> u32 {
        if ty.nullable {
            return 0;
        }
        match &ty.kind {
            TypeKind::Struct(id) => self.structs[id.0 as usize],
            TypeKind::Union(id) => self.unions[id.0 as usize],
            TypeKind::FunctionLink(id) => self.functions[id.0 as usize],
            // Scalars, empty collections and an empty selection end at once.
            _ => 0,
        }
    }
}

fn lower(slot: &mut u32, depth: u32) -> bool {
    if depth < *slot {
        *slot = depth;
        true
    } else {
        false
    }
}

/// What a generator may do at the value it is about to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Room {
    /// Everything: optional fields, collection items, random nulls.
    Generous,
    /// Required fields only, empty collections, `null` where allowed.
    Tight,
    /// Nothing more: the branch is cut with `null`.
    Exhausted,
}

/// The running count of one generation against its [`GenerationLimits`].
#[derive(Debug)]
pub(crate) struct Budget {
    limits: GenerationLimits,
    values: usize,
    nesting: usize,
    path: Vec<Composite>,
    /// The path length at which recursion turned generation tight.
    tight_below: Option<usize>,
}

impl Budget {
    pub(crate) fn new(limits: GenerationLimits) -> Self {
        Budget {
            limits,
            values: 0,
            nesting: 0,
            path: Vec::new(),
            tight_below: None,
        }
    }

    /// Counts one value about to be generated and says how much room it has. Every
    /// call is paired with [`leave`](Self::leave).
    pub(crate) fn enter(&mut self) -> Room {
        self.values += 1;
        self.nesting += 1;
        self.room()
    }

    pub(crate) fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    /// Marks the start of a struct, union or function payload; recursion past the limit
    /// makes everything below it tight. Paired with [`leave_composite`](Self::leave_composite).
    pub(crate) fn enter_composite(&mut self, composite: Composite) {
        let seen = self.path.iter().filter(|c| **c == composite).count();
        self.path.push(composite);
        if seen >= self.limits.max_recursion && self.tight_below.is_none() {
            self.tight_below = Some(self.path.len());
        }
    }

    pub(crate) fn leave_composite(&mut self) {
        if self.tight_below == Some(self.path.len()) {
            self.tight_below = None;
        }
        self.path.pop();
    }

    /// How many values were counted so far.
    pub(crate) fn values(&self) -> usize {
        self.values
    }

    /// The room at the current position, without counting a value.
    pub(crate) fn room(&self) -> Room {
        if self.nesting > MAX_NESTING {
            Room::Exhausted
        } else if self.values > self.limits.max_values || self.tight_below.is_some() {
            Room::Tight
        } else {
            Room::Generous
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(text: &str) -> Schema {
        Schema::from_text(text).expect("schema loads")
    }

    #[test]
    fn optional_recursion_ends_at_once_and_required_fields_add_depth() {
        let schema = schema(
            r#"[{"struct.Tree": {"id": "integer", "children!": ["struct.Tree"]}},
                {"struct.Pair": {"left": "struct.Tree", "right": "struct.Tree?"}}]"#,
        );
        let endings = Endings::new(&schema);
        let depth = |name: &str| match schema.names.get(name) {
            Some(telepact_schema::TypeName::Struct(id)) => endings.structs[id.0 as usize],
            _ => panic!("{name} is a struct"),
        };
        assert_eq!(depth("struct.Tree"), 1);
        assert_eq!(depth("struct.Pair"), 2);
    }

    #[test]
    fn a_union_ends_through_its_shortest_tag() {
        let schema = schema(
            r#"[{"union.Harvest": [{"Nested": {"inner": "union.Harvest"}}, {"Empty": {}}]}]"#,
        );
        let endings = Endings::new(&schema);
        let Some(telepact_schema::TypeName::Union(id)) = schema.names.get("union.Harvest") else {
            panic!("union.Harvest is a union");
        };
        assert_eq!(endings.unions[id.0 as usize], 2);
    }

    #[test]
    fn recursion_past_the_limit_is_tight_until_it_unwinds() {
        let mut budget = Budget::new(GenerationLimits {
            max_recursion: 1,
            max_values: 100,
        });
        let tree = Composite::Struct(StructId(0));
        budget.enter_composite(tree);
        assert_eq!(budget.room(), Room::Generous);
        budget.enter_composite(tree);
        assert_eq!(budget.room(), Room::Tight);
        budget.leave_composite();
        assert_eq!(budget.room(), Room::Generous);
        budget.leave_composite();
    }

    #[test]
    fn too_many_values_make_the_rest_tight() {
        let mut budget = Budget::new(GenerationLimits {
            max_recursion: 3,
            max_values: 2,
        });
        for _ in 0..2 {
            assert_eq!(budget.enter(), Room::Generous);
            budget.leave();
        }
        assert_eq!(budget.enter(), Room::Tight);
    }
}
