//! Telepact schema model and loader.
//!
//! Reads `*.telepact.yaml` / `*.telepact.json` documents into one [`Schema`] that both
//! the code generator and the runtime validator use.

mod error;
mod load;
pub mod model;

pub use error::{LoadError, Location, SchemaFailure, SchemaFailures};
pub use model::*;
