//! Limits on generated values (examples, mocks), so that recursive types always end
//! and no request can make the server build a huge answer.
//!
//! Generation runs generously until a limit is reached, then *tightly*: optional fields
//! are left out, collections are empty, nullable values are `null` and a union takes
//! the tag whose required fields end soonest. A schema whose required fields recurse
//! without end is refused by the loader, so tight generation always ends.

use telepact_schema::{FunctionId, StructId, UnionId};

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
/// last guard that only a chain of about a hundred required structs reaches. The
/// deepest place a generated value is written, a function's `outputExample` in a
/// `fn.api_` answer, starts five levels down, so every answer stays within the 127
/// levels serde_json's readers take (see `validate::nesting`).
pub(crate) const MAX_NESTING: usize = 100;

/// The fewest values a generation may count before it gives up, whatever `max_values`.
const MIN_CEILING: usize = 20_000;

/// How many values a generation may count before it gives up on every branch left
/// (answers `null`): ten times `max_values`, and at least [`MIN_CEILING`]. Tight
/// generation still makes every required field, and a schema can ask for more than any
/// memory holds: a struct whose two required fields are the next struct, twenty levels
/// down, has a million leaves (a 1 KB schema took a mock past 4 GB). Such a value is
/// cut short, and a mock's answer of it fails validation, rather than fill memory.
pub(crate) fn ceiling(limits: GenerationLimits) -> usize {
    limits.max_values.saturating_mul(10).max(MIN_CEILING)
}

/// How many more values a generation may count for each value it is given (a stub's
/// result): the fields a stub leaves out are filled in for each of its items, so the
/// answer grows with the stub, which the body and memory limits bound, as well as with
/// the schema.
const GIVEN_ALLOWANCE: usize = 4;

/// A definition that can recur.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Composite {
    Struct(StructId),
    Union(UnionId),
    Function(FunctionId),
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
    /// Values given whole or in part, each raising the ceiling by [`GIVEN_ALLOWANCE`].
    given: usize,
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
            given: 0,
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

    /// Like [`enter`](Self::enter) for a value given whole or in part (a stub's
    /// result): it is not generated, so it takes none of the values, only a level, and
    /// it makes room for the values its missing fields take.
    pub(crate) fn enter_given(&mut self) -> Room {
        self.given += 1;
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

    /// How many more values may be counted before generation turns tight.
    pub(crate) fn values_left(&self) -> usize {
        self.limits.max_values.saturating_sub(self.values)
    }

    /// The room at the current position, without counting a value.
    pub(crate) fn room(&self) -> Room {
        let allowance = self.given.saturating_mul(GIVEN_ALLOWANCE);
        if self.nesting > MAX_NESTING
            || self.values > ceiling(self.limits).saturating_add(allowance)
        {
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
    fn past_the_ceiling_every_branch_is_cut() {
        let mut budget = Budget::new(GenerationLimits::default());
        for _ in 0..ceiling(GenerationLimits::default()) {
            assert_ne!(budget.enter(), Room::Exhausted);
            budget.leave();
        }
        assert_eq!(budget.enter(), Room::Exhausted);
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
