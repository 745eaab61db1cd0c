//! The schema key of a generated type, for drawing its values at random.

use serde::de::DeserializeOwned;

/// A generated type of a `struct.*` or `union.*` definition: it knows its schema key,
/// so values of it can be drawn at random
/// ([`RandomGenerator::generate_as`](crate::random::RandomGenerator::generate_as)).
pub trait SchemaType: DeserializeOwned {
    /// The definition's schema key, e.g. `struct.Point`.
    const SCHEMA_KEY: &'static str;
}
