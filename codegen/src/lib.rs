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
//! The generated file is one module named after the schema directory (`pub mod api`),
//! documented with the schema's `info.*` docstrings, holding:
//! - the schema it was generated from (`SCHEMA_JSON`, loaded by `schema()`), so a binary
//!   serves exactly the schema its types were compiled from, from any directory;
//! - serde types whose JSON is exactly the Telepact wire form: a struct per `struct.*`
//!   and per function's arguments (`MyShiftInput`), an externally tagged enum per
//!   `union.*` and per function result (`MyShiftOutput::Ok(MyShiftOk { .. })`, with the
//!   `errors.*` tags merged in), and `RequestHeaders` / `ResponseHeaders`. The standard
//!   definitions' types (`fn.ping_`'s, `ErrorUnknown_`'s, ...) are not generated: they
//!   are `telepact::typed::standard`'s, so a schema may use their names for its own;
//! - a `Handler` trait with one async method per function of the schema, internal ones
//!   (`$internal: true`, a name ending in `_`) included, `Context` (raw headers, typed
//!   ones read when asked, extensions, response headers), and
//!   `server_builder` (which has the server read `@auth_` into the generated `Auth` for
//!   the auth hook) / `router` / `register` to serve an implementation;
//! - `RequestHeaders` builder methods (`RequestHeaders::default().with_auth(..)`);
//! - a typed `Client` with two async methods per function, `my_shift(input)` with the
//!   client's default headers (`Client::new(runtime).with_headers(..)`) and
//!   `my_shift_with(input, headers)`, `call` for any function (the standard ones too),
//!   `call_selected` with a typed `@select_` and `call_raw` for responses the types
//!   cannot hold;
//! - `select`, the field names a typed `@select_` (`telepact::typed::Selection`) lists:
//!   an enum per function's `Ok_` result (`select::MyShiftOk`) and per struct and union
//!   tag a result can hold;
//! - `Mock`, the schema's mock for tests (`telepact::typed::Mock` over the embedded
//!   schema): typed stubs and verifications, and `Mock::client()`, a typed `Client`
//!   that calls the mock in process.
//!
//! The module allows `dead_code` and `missing_docs` once, and imports the runtime's
//! glue as `rt` (`use ::telepact::typed::__codegen as rt;`).
//!
//! Every item derives `Debug`, `Clone` and `PartialEq`; `Eq` unless a `number` is
//! inside, `Hash` unless a `number`, map or selection is inside, and `Default`
//! for structs whose fields all have one (a type mapped with [`Builder::extern_path`]
//! has those its user declares). Every item implements serde's `Serialize` and
//! `Deserialize`, written out over a few runtime helpers rather than derived: they read
//! and write what the derive would, and a large schema's module checks in about half
//! the time (serde's derive expands each type into two visitors and a field enum). An
//! item given a `#[serde(..)]` attribute with [`Builder::type_attribute`] or
//! [`Builder::field_attribute`] derives them instead, which is what reads such
//! attributes. The payloads of `union.Auth_` hold
//! credentials, so their `Debug` shows no field values. Enums are exhaustive on purpose
//! (`#[non_exhaustive]` would not apply inside the crate that includes them anyway): the
//! code is regenerated with the schema, so a new result tag breaks a `match` at compile
//! time rather than falling into a wildcard. A client may still meet a newer server:
//! the typed client reads a result tag its enum lacks as
//! `telepact::typed::Reply::Unknown` (its responses' `output` is a `Reply`), a
//! catch-all the handler's return type does not have.
//!
//! Types map as follows: `boolean` → `bool`, `integer` → `i64`, `number` → `f64`,
//! `string` → `String`, `bytes` → `telepact::typed::Bytes`, `any` → `serde_json::Value`,
//! `[T]` → `Vec<T>`, `{"string": T}` → `IndexMap<String, T>` (key order kept), `T?` →
//! `Option<T>`, an optional field `x!` → `Option<_>` (absent is `None`; for a nullable
//! type `Some(None)` is `null`), `fn.x` → `telepact::typed::Call<XInput>`,
//! `_ext.Select_` → `telepact::typed::Select`. A few Rust values have no valid wire
//! form: a non-finite `f64`, which JSON cannot write (the client refuses a call holding
//! one before sending it, `CallError::Encode`, and a handler's answer holding one is
//! `ErrorUnknown_`), and `Value::Null` where the type is `any` rather than `any?`, which
//! the server rejects. The types read a few such values too, so the typed client checks
//! an answer against the schema before reading it and refuses what the server would
//! (`CallError::Decode`), keys the schema does not declare aside. An integer in a `number`
//! field reads as the nearest `f64`, exact up to 2^53.
//!
//! A `@select_` header trims the response below these types (required fields go
//! missing, optional ones would read as absent), so the typed methods refuse it with
//! `CallError::Selection` before sending anything; `Client::call_raw` sends it and
//! returns the trimmed JSON.
//!
//! ```no_run
//! # // What `telepact::include_schema!("api");` brings in after the build script above
//! # // for the bakery's schema: its golden copy, so this example compiles against it.
//! # mod generated {
//! #     include!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/generated/api.rs"));
//! # }
//! # use generated::api;
//! # #[derive(Clone)]
//! # struct Employee { id: String }
//! # async fn authenticate(
//! #     _headers: telepact::Headers,
//! # ) -> Result<telepact::Authenticated, telepact::HandlerError> {
//! #     let employee = Employee { id: "baker-001".into() };
//! #     Ok(telepact::Authenticated::new().extension(employee))
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In the crate whose build script is above: telepact::include_schema!("api");
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
//!     // ... one method per function of the schema; a missing one does not compile.
//! #   async fn approve_special(
//! #       &self,
//! #       _input: api::ApproveSpecialInput,
//! #       _context: &mut api::Context,
//! #   ) -> Result<api::ApproveSpecialOutput, telepact::HandlerError> {
//! #       Err("not in this example".into())
//! #   }
//! }
//!
//! let server = api::server_builder(Bakery).on_auth(authenticate).build()?;
//! # drop(server);
//! # Ok(())
//! # }
//! ```
//!
//! [`Builder::extern_path`] maps a schema type to an existing Rust type, which the
//! generated code then uses instead of defining its own.
//!
//! [`Builder::compatible_with`] also fails the build when the schema is no longer
//! backwards compatible with its copy at the last release.
//!
//! Projects that commit generated code can use the `telepact codegen` command of the
//! `telepact` command line tool instead (`cargo install telepact-cli`).

mod builder;
mod client;
mod compat;
mod depth;
mod docs;
mod emit;
mod error;
mod externs;
mod headers;
mod names;
mod pieces;
mod plan;
mod recursion;
mod select;
mod serde_impls;
mod server;
mod snippet;
mod split;
mod types;
mod user_attributes;
mod write;

pub use builder::{Builder, configure, schema_name};
pub use error::{Error, NameCollision};
// How the `telepact` CLI writes generated files; not part of the builder's API.
#[doc(hidden)]
pub use write::{file_holds, names_a_stream, replace_if_changed, write_if_changed};

#[doc(hidden)]
pub use emit::compile_standard;
