//! Telepact schema model and loader.
//!
//! Reads `*.telepact.yaml` / `*.telepact.json` documents into one [`Schema`] that both
//! the code generator and the runtime validator use.
//!
//! ```
//! use telepact_schema::Schema;
//!
//! let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {"sum": "integer"}}]}]"#)
//!     .expect("valid schema");
//! let (_, add) = schema.function_by_name("fn.add").expect("declared");
//! assert!(add.result.tags.contains_key("ErrorUnknown_"));
//! ```
//!
//! # Loading
//!
//! [`Schema::from_dir`], [`Schema::from_text`] and [`Schema::from_documents`] read the
//! documents, add the standard definitions (`fn.ping_`, `fn.api_`, the `@id_`,
//! `@select_`, `@bin_`... headers, `errors.Validation_`; and `headers.Auth_` /
//! `errors.Auth_` when the schema declares `union.Auth_`), check everything, and merge
//! each `errors.*` set into the results of the functions its `_errors` pattern selects.
//!
//! YAML is read the way the protocol's reference implementation reads it (YAML 1.1
//! implicit types: `yes` is `true`, `1_000` is `1000`; merge keys: `<<: *fields`
//! brings in the keys of the anchored object that are not written beside it), and
//! must convert to JSON:
//! dates, `.inf`, non-string keys and repeated keys make a document `JsonInvalid`.
//! So does a JSON document that repeats a key in an object (JSON parsers elsewhere keep
//! the last, which drops a field or a definition without a word).
//!
//! # Compatibility
//!
//! [`compare()`] lists what a new version of a schema breaks for clients written against
//! the old one (see the [`compare`](mod@compare) module).
//!
//! # Failures
//!
//! An invalid schema yields [`LoadError::Invalid`] with every [`SchemaFailure`] found,
//! each located by document, row and column. `Display` (and
//! [`LoadError::render`], with colour for a terminal) shows them the way a compiler
//! shows errors, in file order, with a count line at the end:
//!
//! ```text
//! error: field `id` of `struct.Tree` has an unknown type `integr`
//!  --> api/orchard.telepact.yaml:2:9
//!   |
//! 2 |     id: "integr"
//!   |         ^^^^^^^^ not a type
//!   |
//!   = help: did you mean `integer`?
//!
//! error: the schema has 1 error
//! ```
//!
//! [`SchemaFailure::to_json`] gives the protocol's shape (what `fn.validateSchema`
//! answers), unchanged.

#![warn(missing_docs)]

pub mod compare;
mod diagnostics;
mod document;
mod error;
mod error_chain;
mod load;
pub mod model;
mod parse;
mod pseudo_json;
mod reachable;
mod shortest;
mod standard;
mod warnings;

pub use compare::{Incompatibility, IncompatibilityKind, SchemaFiles, compare};
pub use diagnostics::nearest;
pub use error::{LoadError, Location, SchemaFailure, SchemaFailures, json_type_name};
pub use error_chain::ErrorChain;
pub use load::{MAX_SCHEMA_FILE_BYTES, read_schema_dir};
pub use model::*;
// Computations over the model that the runtime's mock, random values and test client
// share with the loader; not part of the schema API.
#[doc(hidden)]
pub use pseudo_json::pseudo_json_text;
#[doc(hidden)]
pub use reachable::ReachableTypes;
#[doc(hidden)]
pub use shortest::{ShortestDepths, UNENDING};
pub use warnings::SchemaWarning;
