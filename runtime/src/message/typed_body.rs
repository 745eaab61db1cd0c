//! A typed message body: the value, its result tag, and (once asked for) the value as
//! JSON values.

use std::any::Any;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use telepact_schema::FunctionId;

use crate::binary::{BinaryEncoding, PackError, PackSerializer, decode_body};
use crate::non_finite::{self, NonFinite};
use crate::validate::{Compiled, NotWritten, TagSet, write_result, write_result_binary};

mod tag;

/// A typed body, its tag and, once asked for, its JSON values: one allocation, shared by
/// the message's clones.
pub(super) struct TypedBody<T: ?Sized = dyn ErasedBody> {
    values: OnceLock<Result<Map<String, Value>, String>>,
    /// The tag a checked call was read under, or a writer read. Kept apart from the one
    /// found when asked for: setting a `OnceLock`, even a new one, takes the slow path
    /// of its initialisation.
    known_tag: Option<&'static str>,
    found_tag: OnceLock<Option<Cow<'static, str>>>,
    /// Read from a request and checked against the schema as it was read.
    checked: bool,
    /// The request's payload, for the body's JSON values.
    payload: Option<Payload>,
    /// The function a checked call was read for.
    function: Option<FunctionId>,
    value: T,
}

/// The payload of a request whose input was read typed: its JSON text, or its
/// MessagePack with the encoding of its keys.
pub(crate) enum Payload {
    Json(Bytes),
    Pack(Bytes, Arc<BinaryEncoding>),
}

impl Payload {
    /// The body `{tag: payload}` as JSON values.
    fn body(&self, tag: &str) -> Result<Map<String, Value>, String> {
        let payload = match self {
            Payload::Json(text) => serde_json::from_slice(text).map_err(|e| e.to_string())?,
            Payload::Pack(bytes, encoding) => {
                decode_body(bytes, encoding, false).map_err(|e| e.to_string())?
            }
        };
        let mut body = Map::with_capacity(1);
        body.insert(tag.to_string(), Value::Object(payload));
        Ok(body)
    }
}

impl TypedBody {
    pub(super) fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Arc<Self> {
        Arc::new(TypedBody {
            values: OnceLock::new(),
            known_tag: None,
            found_tag: OnceLock::new(),
            checked: false,
            payload: None,
            function: None,
            value,
        })
    }

    /// A request's call `{tag: input}` whose input was checked against the schema as it
    /// was read; the input can be taken out again ([`take_input`](Self::take_input)).
    pub(super) fn checked_call<I: Serialize + Send + Sync + 'static>(
        tag: &'static str,
        input: I,
    ) -> Arc<Self> {
        Arc::new(TypedBody {
            values: OnceLock::new(),
            known_tag: Some(tag),
            found_tag: OnceLock::new(),
            checked: true,
            payload: None,
            function: None,
            value: CallInput {
                tag,
                input: Some(input),
            },
        })
    }

    pub(super) fn is_checked(&self) -> bool {
        self.checked
    }

    /// The input of a [checked call](Self::checked_call), when it is an `I` and no
    /// clone of the message shares it.
    pub(super) fn take_input<I: 'static>(shared: &mut Arc<Self>) -> Option<(&'static str, I)> {
        let body = Arc::get_mut(shared)?;
        let call = body.value.as_any_mut().downcast_mut::<CallInput<I>>()?;
        Some((call.tag, call.input.take()?))
    }

    fn converted(&self) -> &Result<Map<String, Value>, String> {
        self.values
            .get_or_init(|| match (&self.payload, self.known_tag) {
                (Some(payload), Some(tag)) => payload.body(tag),
                _ => self.value.to_values(),
            })
    }

    /// Keeps the payload a [checked call](Self::checked_call) was read from.
    pub(super) fn keep_origin(shared: &mut Arc<Self>, payload: Payload, function: FunctionId) {
        if let Some(body) = Arc::get_mut(shared) {
            body.payload = Some(payload);
            body.function = Some(function);
        }
    }

    /// The function a checked call was read for (see [`keep_origin`](Self::keep_origin)).
    pub(super) fn function(&self) -> Option<FunctionId> {
        self.function
    }

    /// The JSON values: an empty map when the value does not convert.
    pub(super) fn values(&self) -> &Map<String, Value> {
        static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
        match self.converted() {
            Ok(values) => values,
            Err(_) => EMPTY.get_or_init(Map::new),
        }
    }

    /// The values, taken out when no clone of the message shares them.
    pub(super) fn into_values(mut shared: Arc<Self>) -> Map<String, Value> {
        shared.converted();
        match Arc::get_mut(&mut shared).and_then(|typed| typed.values.take()) {
            Some(Ok(values)) => values,
            Some(Err(_)) => Map::new(),
            None => shared.values().clone(),
        }
    }

    pub(super) fn conversion_error(&self) -> Option<&str> {
        self.converted().as_ref().err().map(String::as_str)
    }

    /// The body's only key, found without converting the value when it names it as an
    /// enum variant or a map's first key (as generated result enums and JSON values do).
    pub(super) fn tag(&self) -> &str {
        if let Some(tag) = self.known_tag {
            return tag;
        }
        let tag = self.found_tag.get_or_init(|| match self.values.get() {
            Some(converted) => first_key(converted).map(|key| Cow::Owned(key.to_string())),
            None => self.value.tag(),
        });
        match tag {
            Some(tag) => tag,
            None => first_key(self.converted()).unwrap_or(""),
        }
    }

    /// Keeps the tag the writer read, so that [`tag`](Self::tag) need not look again.
    pub(super) fn remember_tag(shared: &mut Arc<Self>, tag: &'static str) {
        match Arc::get_mut(shared) {
            Some(body) => body.known_tag = Some(tag),
            None => {
                let _ = shared.found_tag.set(Some(Cow::Borrowed(tag)));
            }
        }
    }

    /// The value, to write.
    pub(super) fn value(&self) -> &dyn ErasedBody {
        &self.value
    }
}

/// A request's call, its input until a handler takes it.
struct CallInput<I> {
    tag: &'static str,
    input: Option<I>,
}

impl<I: Serialize> Serialize for CallInput<I> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.tag, &self.input)?;
        map.end()
    }
}

fn first_key(converted: &Result<Map<String, Value>, String>) -> Option<&str> {
    converted.as_ref().ok()?.keys().next().map(String::as_str)
}

/// What the server does with a typed body without knowing its type.
pub(super) trait ErasedBody: Send + Sync {
    /// The value as a body of JSON values, or why it is not one.
    fn to_values(&self) -> Result<Map<String, Value>, String>;

    /// Writes the value as JSON into `out`, checking it against a function's result
    /// (see [`crate::validate::write_result`]).
    fn write_result(
        &self,
        compiled: &Compiled,
        result: &TagSet,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, NotWritten>;

    /// Writes the value as the MessagePack body of a binary answer into `out` (see
    /// [`crate::validate::write_result_binary`]).
    fn write_result_binary(
        &self,
        compiled: &Compiled,
        result: &TagSet,
        encoding: &BinaryEncoding,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, NotWritten>;

    /// The first NaN or infinity in the value, which JSON cannot carry.
    fn non_finite(&self) -> Option<NonFinite>;

    /// Writes the value as JSON into `out`, unchecked: a client's typed request.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;

    /// Writes the value as a MessagePack body into `out`, keys through `encoding`,
    /// unchecked: a client's typed request (see [`PackSerializer`]).
    fn write_pack(&self, encoding: &BinaryEncoding, out: &mut Vec<u8>) -> Result<(), PackError>;

    /// The result tag, when the value gives it without being written.
    fn tag(&self) -> Option<Cow<'static, str>>;

    /// The value, to take a request's input out of it.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Serialize + Send + Sync + 'static> ErasedBody for T {
    fn to_values(&self) -> Result<Map<String, Value>, String> {
        match non_finite::to_value(self) {
            Ok(Value::Object(body)) => Ok(body),
            Ok(other) => Err(format!("a result must serialize to an object, not {other}")),
            Err(e) => Err(e.to_string()),
        }
    }

    fn write_result(
        &self,
        compiled: &Compiled,
        result: &TagSet,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, NotWritten> {
        write_result(self, compiled, result, out)
    }

    fn write_result_binary(
        &self,
        compiled: &Compiled,
        result: &TagSet,
        encoding: &BinaryEncoding,
        out: &mut Vec<u8>,
    ) -> Result<Option<&'static str>, NotWritten> {
        write_result_binary(self, compiled, result, encoding, out)
    }

    fn non_finite(&self) -> Option<NonFinite> {
        non_finite::find(self)
    }

    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(out, self)
    }

    fn write_pack(&self, encoding: &BinaryEncoding, out: &mut Vec<u8>) -> Result<(), PackError> {
        self.serialize(&mut PackSerializer::new(out, encoding))
    }

    fn tag(&self) -> Option<Cow<'static, str>> {
        tag::tag_of(self)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
