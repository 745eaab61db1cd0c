//! Random values of schema types, reproducible across Telepact implementations.
//!
//! [`RandomGenerator`] is the protocol's pseudo-random sequence (a 32-bit xorshift);
//! [`RandomGenerator::generate`] walks a type and draws from it in the protocol's
//! order, so every implementation makes the same value from the same seed. The mock
//! server, the test client and `fn.api_`'s `includeExamples!` all draw from it.
//!
//! ```
//! use telepact::random::{GenerateOptions, RandomGenerator};
//! use telepact::schema::{Schema, TypeExpr, TypeKind, TypeName};
//!
//! let schema = Schema::from_text(r#"[{"struct.Point": {"x": "integer", "label!": "string"}}]"#)?;
//! let Some(TypeName::Struct(id)) = schema.names().get("struct.Point") else { unreachable!() };
//! let point = TypeExpr { kind: TypeKind::Struct(*id), nullable: false };
//! let mut random = RandomGenerator::new(0, 3);
//! random.set_seed(42);
//! let value = random.generate(&schema, &point, &GenerateOptions::default());
//! assert!(value["x"].is_i64());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! Values of generated types are drawn the same way and then read:
//! [`RandomGenerator::generate_as`] for a struct or union,
//! [`generate_input`](RandomGenerator::generate_input) and
//! [`generate_output`](RandomGenerator::generate_output) for a function's argument and
//! result.
//!
//! Each [`RandomGenerator::generate`] works out how every type of the schema ends
//! soonest, a walk over the whole schema. To draw many values from one schema, make a
//! [`PreparedSchema`] once and draw with [`RandomGenerator::generate_from`].

mod extensions;
mod generate;
mod order;
mod typed;

pub use crate::budget::GenerationLimits;
pub use generate::GenerateOptions;
pub(crate) use generate::Generator;
pub use typed::TypedGenerateError;

use serde_json::Value;
use telepact_schema::{Schema, TypeExpr};

use telepact_schema::ShortestDepths;

/// The protocol's words for random strings.
const WORDS: [&str; 24] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
    "psi", "omega",
];

/// The protocol's seedable pseudo-random sequence, and the lengths of the collections
/// it generates.
#[derive(Debug, Clone)]
pub struct RandomGenerator {
    state: i32,
    collection_length_min: u32,
    collection_length_max: u32,
}

impl RandomGenerator {
    /// A generator seeded with 0 whose collections hold `min..max` items (`min` when
    /// the two are equal).
    pub fn new(collection_length_min: u32, collection_length_max: u32) -> Self {
        RandomGenerator {
            state: 1,
            collection_length_min,
            collection_length_max: collection_length_max.max(collection_length_min),
        }
    }

    /// Restarts the sequence. Seed 0 means 1; wider seeds keep their low 32 bits.
    pub fn set_seed(&mut self, seed: i64) {
        self.state = if seed == 0 { 1 } else { seed as i32 };
    }

    /// The next number of the sequence, in `0..2^31`.
    pub fn next_int(&mut self) -> i32 {
        let mut x = self.state;
        x ^= x.wrapping_shl(16);
        x ^= x >> 11;
        x ^= x.wrapping_shl(5);
        self.state = if x == 0 { 1 } else { x };
        self.state & 0x7fff_ffff
    }

    /// The next number below `ceiling`; 0 for a zero ceiling, without advancing.
    pub fn next_int_below(&mut self, ceiling: u32) -> u32 {
        if ceiling == 0 {
            return 0;
        }
        self.next_int() as u32 % ceiling
    }

    /// The next boolean.
    pub fn next_boolean(&mut self) -> bool {
        self.next_int_below(31) > 15
    }

    /// The next number as four big-endian bytes.
    pub fn next_bytes(&mut self) -> [u8; 4] {
        self.next_int().to_be_bytes()
    }

    /// One of the 24 Greek letter names.
    pub fn next_string(&mut self) -> &'static str {
        WORDS[self.next_int_below(WORDS.len() as u32) as usize]
    }

    /// The next number scaled to `0.0..=1.0`.
    pub fn next_double(&mut self) -> f64 {
        f64::from(self.next_int()) / f64::from(0x7fff_ffff)
    }

    /// The length of the next generated collection.
    pub fn next_collection_length(&mut self) -> u32 {
        let spread = self.collection_length_max - self.collection_length_min;
        self.next_int_below(spread) + self.collection_length_min
    }

    /// A random value of `ty`, drawn in the protocol's order. `_ext.Select_` values
    /// select from the schema's first non-internal function.
    ///
    /// Prepares `schema` on every call; [`generate_from`](Self::generate_from) draws
    /// from a schema prepared once.
    pub fn generate(&mut self, schema: &Schema, ty: &TypeExpr, options: &GenerateOptions) -> Value {
        self.generate_from(&PreparedSchema::new(schema), ty, options)
    }

    /// A random value of `ty` in the prepared schema, drawn as
    /// [`generate`](Self::generate) draws it: the same seed gives the same value.
    pub fn generate_from(
        &mut self,
        prepared: &PreparedSchema<'_>,
        ty: &TypeExpr,
        options: &GenerateOptions,
    ) -> Value {
        let PreparedSchema {
            schema,
            depths,
            scope,
        } = prepared;
        Generator::new(schema, depths, self, *options, scope).value(ty, None)
    }
}

/// A schema made ready for drawing values: how each of its types ends soonest (for
/// generation past the [limits](GenerationLimits)) and the function `_ext.Select_`
/// values select from, each worked out once.
///
/// ```
/// use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
/// use telepact::schema::{Schema, TypeExpr, TypeKind, TypeName};
///
/// let schema = Schema::from_text(r#"[{"struct.Tree": {"children": ["struct.Tree"]}}]"#)?;
/// let Some(TypeName::Struct(id)) = schema.names().get("struct.Tree") else { unreachable!() };
/// let tree = TypeExpr { kind: TypeKind::Struct(*id), nullable: false };
/// let prepared = PreparedSchema::new(&schema);
/// let mut random = RandomGenerator::new(0, 3);
/// let forest: Vec<_> = (0..100)
///     .map(|_| random.generate_from(&prepared, &tree, &GenerateOptions::default()))
///     .collect();
/// assert!(forest.iter().all(|tree| tree["children"].is_array()));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PreparedSchema<'s> {
    schema: &'s Schema,
    pub(crate) depths: ShortestDepths,
    /// The function `_ext.Select_` values select from, unless the caller names one.
    pub(crate) scope: String,
}

impl<'s> PreparedSchema<'s> {
    /// Works out what drawing from `schema` needs: one walk over its definitions.
    pub fn new(schema: &'s Schema) -> Self {
        PreparedSchema {
            schema,
            depths: ShortestDepths::of(schema),
            scope: generate::default_scope(schema),
        }
    }

    /// The schema values are drawn from.
    pub fn schema(&self) -> &'s Schema {
        self.schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_a_fixed_xorshift() {
        let mut random = RandomGenerator::new(0, 3);
        let first: Vec<i32> = (0..3).map(|_| random.next_int()).collect();
        assert_eq!(first, vec![2163713, 3178529, 35766321]);
        random.set_seed(0);
        assert_eq!(random.next_int(), 2163713);
    }

    #[test]
    fn a_zero_ceiling_does_not_advance() {
        let mut random = RandomGenerator::new(2, 2);
        assert_eq!(random.next_collection_length(), 2);
        assert_eq!(random.next_int(), 2163713);
    }

    #[test]
    fn seeds_keep_their_low_32_bits() {
        let mut wide = RandomGenerator::new(0, 3);
        wide.set_seed((1 << 32) + 7);
        let mut narrow = RandomGenerator::new(0, 3);
        narrow.set_seed(7);
        assert_eq!(wide.next_int(), narrow.next_int());
    }

    #[test]
    fn a_prepared_schema_draws_what_generate_draws() {
        let text = r#"[
            {"struct.Tree": {"label": "string", "children": ["struct.Tree"], "next!": "struct.Tree?"}},
            {"fn.plant": {"tree": "struct.Tree", "select!": "_ext.Select_"}, "->": [{"Ok_": {}}]}
        ]"#;
        let schema = Schema::from_text(text).unwrap();
        let prepared = PreparedSchema::new(&schema);
        // Small limits, so tight generation (which reads the depths) is reached too.
        let limits = GenerationLimits::default().max_recursion(2).max_values(40);
        let options = GenerateOptions::default().limits(limits);
        for name in ["struct.Tree", "fn.plant"] {
            let kind = match schema.names().get(name) {
                Some(telepact_schema::TypeName::Struct(id)) => {
                    telepact_schema::TypeKind::Struct(*id)
                }
                Some(telepact_schema::TypeName::Function(id)) => {
                    telepact_schema::TypeKind::FunctionLink(*id)
                }
                other => panic!("{name} is {other:?}"),
            };
            let ty = TypeExpr {
                kind,
                nullable: false,
            };
            let (mut once, mut each) = (RandomGenerator::new(0, 4), RandomGenerator::new(0, 4));
            for seed in 1..40 {
                once.set_seed(seed);
                each.set_seed(seed);
                assert_eq!(
                    once.generate_from(&prepared, &ty, &options),
                    each.generate(&schema, &ty, &options),
                    "{name}, seed {seed}"
                );
            }
        }
    }
}
