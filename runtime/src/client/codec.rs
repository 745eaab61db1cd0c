//! Turning messages into request bytes and response bytes into messages.

use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::binary_state::BinaryState;
use super::error::{ClientError, InvalidResponse};
use crate::base64_paths::check_marked_bytes;
use crate::binary::{
    self, BinaryEncoding, NameBudget, decode_body_naming_bytes, encode_request, read_frame,
    says_packed, write_message_head,
};
use crate::message::{Headers, Message};

/// A serialized request and the encoding its body used, if binary.
pub(crate) struct Encoded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) binary_checksum: Option<i32>,
    /// The encodings the request listed in `@bin_`, any of which the answer may use
    /// without sending its table.
    pub(crate) listed: Vec<Arc<BinaryEncoding>>,
}

/// The request as JSON; a [typed](Message::typed) body (a typed client's call) is
/// written as it is, without first becoming JSON values.
pub(crate) fn encode_json(message: &Message) -> Result<Encoded, ClientError> {
    let serialization = |error: serde_json::Error| ClientError::Serialization(error.into());
    let mut bytes = Vec::with_capacity(256);
    bytes.push(b'[');
    serde_json::to_writer(&mut bytes, &message.headers).map_err(serialization)?;
    bytes.push(b',');
    let body = bytes.len();
    if message.write_typed_json(&mut bytes) {
        // `serde_json` writes NaN and the infinities as `null`: a body with no `null`
        // in its text held none.
        if memchr::memmem::find(&bytes[body..], b"null").is_some()
            && let Some(found) = message.typed_non_finite()
        {
            return Err(ClientError::Serialization(found.into()));
        }
    } else {
        refuse_unconvertible(message)?;
        serde_json::to_writer(&mut bytes, message.body()).map_err(serialization)?;
    }
    bytes.push(b']');
    Ok(Encoded {
        bytes,
        binary_checksum: None,
        listed: Vec::new(),
    })
}

/// The request as MessagePack with `encoding`; an unpacked [typed](Message::typed) body
/// is written as it is, without first becoming JSON values.
pub(crate) fn encode_binary(
    message: &Message,
    encoding: &BinaryEncoding,
    packed: bool,
) -> Result<Encoded, ClientError> {
    let serialization = |error: std::io::Error| ClientError::Serialization(error.into());
    let mut bytes = Vec::with_capacity(256);
    let written = !packed
        && write_message_head(&mut bytes, &message.headers).is_ok()
        && message.write_typed_binary(encoding, &mut bytes);
    if !written {
        refuse_unconvertible(message)?;
        bytes = encode_request(message, encoding, packed).map_err(serialization)?;
    }
    Ok(Encoded {
        bytes,
        binary_checksum: Some(encoding.checksum()),
        listed: Vec::new(),
    })
}

/// Refuses a typed body that does not become JSON values, rather than sending the empty
/// body [`Message::body`] reads for it.
fn refuse_unconvertible(message: &Message) -> Result<(), ClientError> {
    match message.conversion_error() {
        Some(error) => Err(ClientError::Serialization(error.into())),
        None => Ok(()),
    }
}

/// Reads a response, JSON or binary. A binary one teaches `state` its encoding, which
/// may be one of those the request `listed` in `@bin_`.
pub(crate) fn decode_response(
    bytes: &[u8],
    state: &Mutex<BinaryState>,
    listed: &[Arc<BinaryEncoding>],
) -> Result<Message, InvalidResponse> {
    let message = if binary::is_msgpack(bytes) {
        decode_binary(bytes, state, listed)?
    } else {
        decode_json(bytes)?
    };
    let one_object = message.body().len() == 1 && message.body().values().all(Value::is_object);
    if !one_object {
        return Err(InvalidResponse::NotAMessage);
    }
    Ok(message)
}

fn decode_json(bytes: &[u8]) -> Result<Message, InvalidResponse> {
    let message = match serde_json::from_slice::<(Headers, Map<String, Value>)>(bytes) {
        // A message reads straight into its two maps.
        Ok((headers, body)) => Message::from_body(headers, body),
        // Anything else is read again as one value, to tell bad JSON from a bad shape.
        Err(_) => {
            let value: Value = serde_json::from_slice(bytes).map_err(|error| {
                // serde_json says "unexpected end of hex escape", which misleads.
                match lone_surrogate(bytes) {
                    Some(escape) => InvalidResponse::LoneSurrogate { escape },
                    None => InvalidResponse::NotJson(error),
                }
            })?;
            let Value::Array(parts) = value else {
                return Err(InvalidResponse::NotAMessage);
            };
            let Ok([Value::Object(headers), Value::Object(body)]) = <[Value; 2]>::try_from(parts)
            else {
                return Err(InvalidResponse::NotAMessage);
            };
            Message::from_body(headers.into(), body)
        }
    };
    check_marked_bytes(&message.headers, message.body()).map_err(InvalidResponse::Base64Header)?;
    Ok(message)
}

/// The first `\uXXXX` escape in the JSON text `bytes` that is half of a UTF-16
/// surrogate pair without the other half, as written.
fn lone_surrogate(bytes: &[u8]) -> Option<String> {
    let unit = |at: usize| -> Option<u16> {
        let hex = bytes.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let escape_at = |at: usize| bytes.get(at..at + 2) == Some(b"\\u".as_slice());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        if !escape_at(at) {
            // `\\`, `\"`...: the escaped character is no escape of its own.
            at += 2;
            continue;
        }
        let Some(code) = unit(at + 2) else {
            at += 2;
            continue;
        };
        let written = || String::from_utf8_lossy(&bytes[at..at + 6]).into_owned();
        match code {
            0xD800..=0xDBFF => {
                let paired = escape_at(at + 6)
                    && unit(at + 8).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low));
                if !paired {
                    return Some(written());
                }
                at += 12;
            }
            0xDC00..=0xDFFF => return Some(written()),
            _ => at += 6,
        }
    }
    None
}

/// How many bytes of decoded values a binary answer may take per byte of its length:
/// as many as a JSON answer's smallest values (`0,`, a 32-byte `serde_json::Value` for
/// two bytes), where a MessagePack nil takes one byte (64 MiB of them took 2 GB).
const DECODED_PER_BYTE: usize = 16;
/// The decoded values any binary answer may take, however short.
const DECODED_FLOOR: usize = 64 << 20;

/// Refuses a binary answer whose values would take more memory decoded than
/// [`DECODED_PER_BYTE`] allows, before any is built. Bytes that are no MessagePack pass,
/// for the reading that follows to name their fault.
fn check_decoded_size(bytes: &[u8]) -> Result<(), InvalidResponse> {
    let limit = bytes
        .len()
        .saturating_mul(DECODED_PER_BYTE)
        .saturating_add(DECODED_FLOOR);
    // No byte decodes to more than one `Value` (a string's text costs a byte a byte, a
    // binary's base64 four for three after a two-byte head): an answer short enough
    // (up to 4 MiB) cannot pass the limit, and is not walked twice.
    if bytes.len().saturating_mul(size_of::<Value>()) <= limit {
        return Ok(());
    }
    let mut left = limit;
    match binary::Reader::new(bytes).skip_costing(&mut left) {
        Ok(false) => Err(InvalidResponse::DecodedPastBudget(limit)),
        Ok(true) | Err(_) => Ok(()),
    }
}

fn decode_binary(
    bytes: &[u8],
    state: &Mutex<BinaryState>,
    listed: &[Arc<BinaryEncoding>],
) -> Result<Message, InvalidResponse> {
    check_decoded_size(bytes)?;
    let frame = read_frame(bytes)?;
    let checksum = frame
        .headers
        .get("@bin_")
        .and_then(Value::as_array)
        .and_then(|checksums| checksums.first())
        .and_then(Value::as_i64)
        .ok_or(InvalidResponse::MissingChecksum)?;
    let learned = match frame.headers.get("@enc_") {
        Some(Value::Object(field_ids)) => {
            let checksum =
                i32::try_from(checksum).map_err(|_| InvalidResponse::UnknownChecksum(checksum))?;
            Some(BinaryEncoding::from_field_ids(field_ids, checksum)?)
        }
        _ => None,
    };
    let encoding = {
        let mut state = state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(learned) = learned {
            state.learn(learned);
        }
        state.switch_to(checksum, listed)
    }
    .ok_or(InvalidResponse::UnknownChecksum(checksum))?;
    let packed = says_packed(&frame.headers);
    let names = NameBudget::for_answer(bytes.len());
    let (body, bytes) = decode_body_naming_bytes(frame.body, &encoding, packed, names)?;
    let mut message = Message::from_body(frame.headers, body);
    // Named as a JSON answer names them, so `Message::marked_bytes` reads both alike;
    // a header the server sent names nothing here, where bytes are a MessagePack type.
    message.headers.remove(crate::base64_paths::HEADER);
    bytes.write_header(&mut message.headers);
    Ok(message)
}

/// Whether the server refused the request's binary encoding.
pub(crate) fn is_incompatible_encoding(response: &Message) -> bool {
    let reasons = response
        .body()
        .get("ErrorParseFailure_")
        .and_then(|payload| payload.get("reasons"))
        .and_then(Value::as_array);
    reasons.is_some_and(|reasons| {
        reasons
            .iter()
            .any(|reason| reason.get("IncompatibleBinaryEncoding").is_some())
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use telepact_schema::Schema;

    use super::*;
    use crate::typed::Call;
    use crate::typed::standard::ApiInput;

    #[test]
    fn a_lone_surrogate_is_named_and_pairs_and_escaped_backslashes_are_not() {
        let lone = |text: &str| lone_surrogate(text.as_bytes());
        assert_eq!(
            lone(r#"[{}, {"Ok_": {"s": "a\ud800b"}}]"#).as_deref(),
            Some(r"\ud800")
        );
        assert_eq!(lone(r#"["\uDC00"]"#).as_deref(), Some(r"\uDC00"));
        assert_eq!(lone(r#"["\ud83d\ude00 \u00e9"]"#), None);
        assert_eq!(lone(r#"["\\ud800", "\""]"#), None);
        // The error a client returns names it.
        let error = decode_json(br#"[{}, {"Ok_": {"s": "\ud800"}}]"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            r"the response holds \ud800, half of a UTF-16 surrogate pair, which no Rust string can hold"
        );
    }

    #[test]
    fn a_typed_body_holding_nan_or_an_infinity_is_refused_in_every_encoding() {
        use std::collections::BTreeMap;
        type Body = BTreeMap<&'static str, BTreeMap<&'static str, Vec<Option<f64>>>>;
        let body = |prices: Vec<Option<f64>>| -> Body {
            BTreeMap::from([("fn.price", BTreeMap::from([("prices", prices)]))])
        };
        let encoding = BinaryEncoding::new(&Schema::from_text("[]").expect("loads"));
        let encodings = |message: &Message| {
            [
                encode_json(message),
                encode_binary(message, &encoding, false),
                encode_binary(message, &encoding, true),
            ]
        };
        for float in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let message = Message::typed(Headers::new(), body(vec![Some(1.5), None, Some(float)]));
            for encoded in encodings(&message) {
                let error = crate::ErrorChain(&encoded.err().expect("refused")).to_string();
                assert!(
                    error.contains(&format!("{float} at .fn.price.prices[2]: JSON has no such")),
                    "{error}"
                );
            }
        }
        // A null written for `None` is no NaN.
        let message = Message::typed(Headers::new(), body(vec![None, Some(-0.0), Some(1e300)]));
        for encoded in encodings(&message) {
            assert!(encoded.is_ok());
        }
    }

    /// A typed call and the same call as JSON values.
    fn both(input: ApiInput) -> (Message, Message) {
        let mut headers = Headers::new();
        headers.insert("@time_", json!(5000));
        headers.insert("@id_", json!({"n": [1, "two"]}));
        let values = match serde_json::to_value(Call(input.clone())) {
            Ok(Value::Object(body)) => body,
            other => panic!("a call is an object: {other:?}"),
        };
        (
            Message::typed(headers.clone(), Call(input)),
            Message::from_body(headers, values),
        )
    }

    #[test]
    fn a_typed_call_is_sent_as_its_values_would_be() {
        let encoding = BinaryEncoding::new(&Schema::from_text("[]").expect("loads"));
        for (internal, examples) in [(None, None), (Some(true), None), (Some(false), Some(true))] {
            let (typed, values) = both(ApiInput {
                include_internal: internal,
                include_examples: examples,
            });
            assert_eq!(typed.target(), "fn.api_");
            let json = |message: &Message| encode_json(message).expect("encodes").bytes;
            assert_eq!(json(&typed), json(&values));
            for packed in [false, true] {
                let binary = |message: &Message| {
                    encode_binary(message, &encoding, packed)
                        .expect("encodes")
                        .bytes
                };
                assert_eq!(binary(&typed), binary(&values), "packed: {packed}");
            }
        }
    }

    /// A binary answer `{"Ok_": {entries}}`, in an encoding naming only `Ok_`.
    fn answer_with_entries(entries: Vec<(&str, rmpv::Value)>) -> Vec<u8> {
        use rmpv::Value as Pack;
        let entries = entries
            .into_iter()
            .map(|(key, value)| (Pack::from(key), value))
            .collect();
        let headers = Pack::Map(vec![
            (Pack::from("@bin_"), Pack::Array(vec![Pack::from(7)])),
            (
                Pack::from("@enc_"),
                Pack::Map(vec![(Pack::from("Ok_"), Pack::from(0))]),
            ),
        ]);
        let body = Pack::Map(vec![(Pack::from("Ok_"), Pack::Map(entries))]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Pack::Array(vec![headers, body]))
            .expect("writes to a Vec");
        bytes
    }

    /// The places of the bytes `Message::marked_bytes` finds in a binary answer.
    fn marked_in(answer: &[u8]) -> Vec<Vec<String>> {
        let state = Mutex::new(BinaryState::default());
        let message = decode_response(answer, &state, &[]).expect("decodes");
        let marked = message.marked_bytes().expect("the header fits");
        marked.into_iter().map(|bytes| bytes.path).collect()
    }

    #[test]
    fn bytes_under_a_literal_star_key_name_no_sibling_that_is_not_bytes() {
        use rmpv::Value as Pack;
        let path = |key: &str| vec!["Ok_".to_string(), key.to_string()];
        // `"*"` in the header names every entry: a text beside it is no bytes.
        let mixed = answer_with_entries(vec![
            ("*", Pack::Binary(vec![1, 2])),
            ("note", Pack::from("dGV4dA==")),
        ]);
        assert!(!marked_in(&mixed).contains(&path("note")));
        // Where every entry is bytes, all are named, the literal key among them.
        let all_bytes = answer_with_entries(vec![
            ("a", Pack::Binary(vec![3])),
            ("*", Pack::Binary(vec![1, 2])),
        ]);
        assert_eq!(marked_in(&all_bytes), [path("a"), path("*")]);
    }
}
