//! Telepact runtime: serves any schema loaded by `telepact-schema`.

pub mod binary;
pub mod client;
mod codec;
#[cfg(feature = "axum")]
pub mod http;
mod message;
mod refusal;
mod router;
mod server;
pub mod typed;
mod validate;
mod value_validator;

pub use client::{Client, ClientError, ClientOptions};
pub use codec::{Encoding, ParseFailure};
pub use message::{Headers, Message, PeerAddress};
pub use refusal::Refusal;
pub use router::{BoxFuture, Function, FunctionRouter, HandlerError};
pub use server::{
    AuthHook, Authenticated, BuildError, ErrorHook, ErrorKind, MessageHook, Middleware, Panicked,
    ProcessError, Response, Server, ServerBuilder, middleware_fn,
};
pub use telepact_schema as schema;
pub use validate::{Reason, ValidationFailure};
pub use value_validator::{UnknownType, ValueValidator, validate_value};
