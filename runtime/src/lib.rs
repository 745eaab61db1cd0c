//! Telepact runtime: serves any schema loaded by `telepact-schema`.

mod message;
mod router;

pub use message::{Headers, Message};
pub use router::{BoxFuture, Function, FunctionRouter, HandlerError};
pub use telepact_schema as schema;
