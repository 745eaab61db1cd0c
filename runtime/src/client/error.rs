//! What can go wrong on the client's side of a call.

use std::time::Duration;

use serde_json::Value;

use super::transport::TransportError;
use crate::binary::{DecodeError, FrameError, InvalidEncoding};
use crate::logging::clipped;

/// Why a call did not produce a response message. Errors the server answers with
/// (`ErrorUnknown_`, `ErrorInvalidRequestBody_`, ...) are responses, not `ClientError`s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The transport could not deliver the request or bring back a response.
    #[error("transport failed")]
    Transport(#[source] TransportError),
    /// No response arrived before the deadline (the request's `@time_`).
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The request could not be serialized: a typed body that is no object, or that
    /// holds a NaN or an infinity (JSON has no such number; `serde_json` would write
    /// `null`).
    #[error("request could not be serialized")]
    Serialization(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The server's answer is not a usable Telepact message.
    #[error("invalid response")]
    InvalidResponse(#[from] InvalidResponse),
    /// The client's authoriser could not produce a credential for the call.
    #[error("could not authorise the call")]
    Authorise(#[source] Box<super::authorise::AuthoriseError>),
    /// The response's `@id_` is not the one the request carried. The message shows each
    /// id's JSON clipped, as a log field holds it: the server's may be as long as its
    /// answer.
    #[error(
        "response @id_ {} does not match the request's {}",
        clipped(&.received.to_string()),
        clipped(&.sent.to_string())
    )]
    CorrelationMismatch {
        /// The `@id_` the request carried.
        sent: Box<Value>,
        /// The `@id_` the response carried.
        received: Box<Value>,
    },
}

impl ClientError {
    /// The kind of failure, for a call's span: the error's text may hold what the
    /// transport or the server wrote, which a span at `debug` should not carry.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            ClientError::Transport(_) => "transport",
            ClientError::Timeout(_) => "timeout",
            ClientError::Serialization(_) => "serialization",
            ClientError::InvalidResponse(_) => "invalid response",
            ClientError::Authorise(_) => "authorise",
            ClientError::CorrelationMismatch { .. } => "correlation mismatch",
        }
    }
}

/// How a response failed to be a Telepact message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidResponse {
    /// Neither MessagePack nor JSON.
    #[error("not JSON")]
    NotJson(#[source] serde_json::Error),
    /// JSON holding a UTF-16 surrogate escape without its pair (`"\ud800"`), which some
    /// servers write (Python's `json` does) and no Rust string can hold.
    #[error(
        "the response holds {escape}, half of a UTF-16 surrogate pair, which no Rust string can hold"
    )]
    LoneSurrogate {
        /// The escape as it was written.
        escape: String,
    },
    /// JSON, but not `[headers, {tag: payload}]`.
    #[error("not an array of an object and an object of one object")]
    NotAMessage,
    /// MessagePack, but not `[headers, body]`.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A binary response whose values would take more memory decoded than a JSON one
    /// of its length can: 16 times its length, plus 64 MiB.
    #[error("the binary response's values would take more than {0} bytes decoded")]
    DecodedPastBudget(usize),
    /// A binary response without a checksum in `@bin_`.
    #[error("binary response without a checksum in @bin_")]
    MissingChecksum,
    /// The `@enc_` table is malformed.
    #[error("unusable @enc_")]
    Encoding(#[from] InvalidEncoding),
    /// A binary response in an encoding the client was never sent.
    #[error("binary response uses unknown encoding {0}")]
    UnknownChecksum(i64),
    /// The binary body does not decode with its encoding.
    #[error("the binary body does not decode")]
    Body(#[from] DecodeError),
    /// The `@base64_` header names a place of the JSON body that holds no base64 text.
    #[error(transparent)]
    Base64Header(crate::Base64HeaderError),
}
