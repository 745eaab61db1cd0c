//! Telepact code generator: typed Rust from a Telepact schema, for `build.rs`.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     telepact_codegen::configure().compile_dir("api")?;
//!     Ok(())
//! }
//! ```
//!
//! The generated module holds:
//! - serde types whose JSON is exactly the Telepact wire form: a struct per `struct.*`
//!   and per function's arguments (`MyShiftInput`), an externally tagged enum per
//!   `union.*` and per function result (`MyShiftOutput::Ok(MyShiftOk { .. })`, with the
//!   `errors.*` tags merged in), and `RequestHeaders` / `ResponseHeaders`;
//! - a `Handler` trait with one async method per public function, `Context` (typed and
//!   raw headers, extensions, response headers), and `router` / `register` to serve an
//!   implementation through a `telepact::FunctionRouter`;
//! - a typed `Client` with one async method per function.
//!
//! ```ignore
//! mod api {
//!     telepact::include_schema!("api");
//! }
//!
//! struct Bakery;
//!
//! impl api::Handler for Bakery {
//!     async fn my_shift(
//!         &self,
//!         _input: api::MyShiftInput,
//!         context: &mut api::Context,
//!     ) -> Result<api::MyShiftOutput, telepact::HandlerError> {
//!         let employee = context.extensions.get::<Employee>().ok_or("no identity")?;
//!         Ok(api::MyShiftOutput::Ok(api::MyShiftOk {
//!             employee_id: employee.id.clone(),
//!             station: "oven".into(),
//!             pastry: "croissant".into(),
//!         }))
//!     }
//!     // ... one method per public function; a missing one does not compile.
//! }
//!
//! let functions: telepact::FunctionRouter = api::router(Bakery);
//! ```
//!
//! Projects that commit generated code can use the `telepact-codegen` command line
//! tool instead (`--features cli`).

mod builder;
mod client;
mod docs;
mod emit;
mod error;
mod names;
mod plan;
mod recursion;
mod server;
mod types;

pub use builder::{Builder, configure, write_if_changed};
pub use error::Error;
