//! Binary (MessagePack) encoding negotiated with `@bin_`.
//!
//! A client that sends the `@bin_` header gets `Ok_` responses as MessagePack, with
//! object keys replaced by small integer ids. The id table ([`BinaryEncoding`]) is
//! derived from the schema the same way by every Telepact implementation and named by
//! a checksum, so a client that already holds it only sends the checksum; a client
//! that does not is sent the table in `@enc_`. With `@pac_: true`, lists of maps are
//! further written as tables ([`pack`]). `bytes` values travel raw in binary and as
//! base64 strings in JSON; inside [`Message`](crate::Message) they are always base64
//! strings.
//!
//! The names that get ids: every function's name and argument keys, `Ok_` and the keys
//! of every function's `Ok_` payload, and, recursively, the field keys, union tags and
//! function-link names reachable from those (through structs, unions, arrays, objects
//! and `fn.*` used as a type). Keys keep their `!`; error tags and headers get none.
//!
//! # Wire rules
//! - A MessagePack request is recognised by its first byte, `0x92` ([`is_msgpack`]).
//!   Its `@bin_` header's first checksum names the encoding it used; if that is not the
//!   server's, the answer is `ErrorParseFailure_` with `IncompatibleBinaryEncoding`,
//!   and an id the encoding lacks gives `BinaryDecodeFailure`.
//! - Any request (JSON or binary) with `@bin_` gets its `Ok_` response in binary, with
//!   `@bin_: [server checksum]` and, when that checksum is not among the ones the client
//!   listed, `@enc_: {name: id}`. Every other result is answered in JSON.
//!
//! # How the server plugs this in
//! Build one [`ServerBinary`] next to the schema: `ServerBinary::new(schema.clone())`.
//! Then, in `Server::process(bytes)`:
//! 1. **Parse.** If [`is_msgpack(&bytes)`](is_msgpack), call
//!    [`server_binary.decode_request(&bytes)`](ServerBinary::decode_request) instead of
//!    parsing JSON. `Ok(message)` is the request as if it had come as JSON (names for
//!    ids, base64 strings for binary values); `Err(failure)` is handled exactly like a
//!    JSON parse failure (it is the same [`ParseFailure`](crate::ParseFailure)): answer
//!    `ErrorParseFailure_ {reasons: [{failure.tag(): {}}]}`, as JSON, with no binary
//!    headers.
//! 2. **Validate headers** as for any request: `@bin_` (`["integer"]`) and `@pac_`
//!    (`"boolean"`) are ordinary standard headers, so `@bin_: null` etc. are answered
//!    with `ErrorInvalidRequestHeaders_` by the validator, in JSON.
//! 3. **After header validation and authentication succeed** (before the unknown
//!    function check, before body validation and the handler), take
//!    `let binary = BinaryRequest::from_headers(&request.headers);` and, when it is
//!    `Some`, call `binary.echo_headers(&mut response_headers)` so `@pac_` is echoed
//!    into the response headers like `@id_` is.
//! 4. **Serialize** the final response (after response validation, `@select_`, hooks):
//!    if `binary` is `Some(b)`, call
//!    [`server_binary.encode_response(function_name, &response, &b)`](ServerBinary::encode_response).
//!    `Some(bytes)` is the body to send (content type `application/octet-stream`); `None`
//!    (any result other than `Ok_`) means serialize the response as JSON as usual. The
//!    `@bin_` / `@enc_` / `@pac_` headers are added inside the encoded bytes only, after
//!    validation, so they never need to pass response-header validation.
//!
//! # Client side
//! [`crate::Client`] does the client's half: it learns encodings from `@enc_`, keeps
//! the current one and the one before, and retries in JSON when the server answers
//! `IncompatibleBinaryEncoding`.

mod convert;
mod deserialize;
mod encoding;
pub mod pack;
mod pack_stream;
mod read;
mod schema_keys;
mod serialize;
mod server;
mod shape;
mod stream;
mod wire;

pub use convert::DecodeError;
pub use encoding::{BinaryEncoding, InvalidEncoding, checksum_of_sorted_names};
pub use server::{BinaryRequest, ServerBinary};
pub use wire::{FrameError, MSGPACK_MESSAGE_MARKER, encode_request, is_msgpack};

#[cfg(test)]
pub(crate) use convert::Encoder;
pub(crate) use convert::NameBudget;
pub(crate) use deserialize::read_checked_pack;
pub(crate) use read::Reader;
pub(crate) use serialize::{PackError, PackSerializer};
pub(crate) use shape::BytesReach;
#[cfg(test)]
pub(crate) use shape::Shape;
pub(crate) use wire::{
    decode_body, decode_body_naming_bytes, read_frame, says_packed, write_message_head,
};

#[cfg(test)]
mod test_schema;
#[cfg(test)]
mod tests;
