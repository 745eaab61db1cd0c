//! Telepact runtime: serves any schema loaded by `telepact-schema`.

pub mod binary;
pub mod client;
mod message;
mod router;
pub mod typed;

pub use client::{Client, ClientError};
pub use message::{Headers, Message};
pub use router::{BoxFuture, Function, FunctionRouter, HandlerError};
pub use telepact_schema as schema;
