//! Telepact runtime: serves any schema loaded by `telepact-schema`.

mod base64_paths;
pub mod binary;
mod budget;
pub mod client;
pub mod clock;
mod codec;
#[cfg(feature = "axum")]
pub mod http;
mod json_text;
mod message;
pub mod mock;
#[cfg(feature = "nats")]
pub mod nats;
pub mod random;
mod refusal;
mod router;
mod serde_refuse;
mod server;
pub mod test_client;
pub mod tower;
pub mod typed;
mod validate;
mod value_validator;

pub use base64_paths::{Base64HeaderError, MarkedBytes};
pub use budget::GenerationLimits;
pub use client::{Client, ClientError, ClientOptions};
pub use codec::{Encoding, ParseFailure};
pub use message::{HeaderName, Headers, HeadersIntoIter, HeadersIter, Message, PeerAddress};
pub use refusal::Refusal;
pub use router::{BoxFuture, Function, FunctionRouter, HandlerError};
pub use server::{
    AuthFuture, AuthHook, Authenticated, BuildError, ErrorHook, ErrorKind, FromFn, MessageHook,
    Middleware, Next, Panicked, ProcessError, Response, Server, ServerBuilder, TimedOut,
    middleware_fn, middleware_from_fn,
};
pub use telepact_schema as schema;
pub use validate::{Reason, ValidationFailure};
pub use value_validator::{UnknownType, ValueValidator, validate_value};
