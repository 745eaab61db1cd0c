//! The functions every server answers itself: `fn.ping_` and `fn.api_`.

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value};
use telepact_schema::{FunctionId, Schema};

use crate::binary::ServerBinary;
use crate::budget::GenerationLimits;
use crate::codec::Encoding;
use crate::message::{Headers, Message, WrittenAhead};
use crate::router::{FunctionRouter, HandlerError};
use crate::validate::list_answer_nests_too_deep;

use super::examples::with_examples;

/// What `fn.api_` answers, computed once per variant (examples at the first call that
/// asks for them) and shared by every later call, with its JSON and its binary forms
/// (each at its first call): a call gets those bytes, not a copy of the listing checked
/// and written again (at 5,000 functions, 9.4 MB: 250 ms a call that way, 13 ms this).
struct Api {
    schema: Arc<Schema>,
    function: FunctionId,
    limits: GenerationLimits,
    /// The server's binary encoding, whose keys a binary body carries.
    binary: Arc<ServerBinary>,
    /// With examples: `[public, with internal definitions]`.
    examples: [OnceLock<Vec<Value>>; 2],
    /// The body's JSON for each [`Variant::index`]; `None` when it nests deeper than
    /// a message carries, and so goes the way of any typed answer, to be refused.
    json: [OnceLock<Option<Vec<u8>>>; 4],
    /// The body of a binary answer for each [`Variant::index`], `[unpacked, packed]`;
    /// `None` when it cannot be written (then the answer is written from the listing
    /// as values, as any untyped answer is).
    binary_bodies: [[OnceLock<Option<Vec<u8>>>; 2]; 4],
}

/// Which listing a call asks for.
#[derive(Clone, Copy)]
struct Variant {
    include_internal: bool,
    include_examples: bool,
}

impl Variant {
    fn index(self) -> usize {
        usize::from(self.include_internal) + 2 * usize::from(self.include_examples)
    }
}

impl Api {
    fn definitions(&self, variant: Variant) -> &[Value] {
        let plain = if variant.include_internal {
            self.schema.full()
        } else {
            self.schema.original()
        };
        if !variant.include_examples {
            return plain;
        }
        self.examples[usize::from(variant.include_internal)]
            .get_or_init(|| with_examples(&self.schema, plain, self.limits))
    }

    /// The body's JSON, written at the variant's first call.
    fn json(&self, variant: Variant) -> Option<&[u8]> {
        let written = self.json[variant.index()].get_or_init(|| {
            let definitions = self.definitions(variant);
            if list_answer_nests_too_deep(definitions) {
                return None;
            }
            serde_json::to_vec(&ApiBody(definitions)).ok()
        });
        written.as_deref()
    }

    /// The body of a binary answer, written at the variant's first binary call (packed
    /// or not) from the listing as values, as the binary encoder writes any answer.
    fn binary_body(&self, variant: Variant, packed: bool) -> Option<&[u8]> {
        let written = self.binary_bodies[variant.index()][usize::from(packed)].get_or_init(|| {
            let body = serde_json::to_value(ApiBody(self.definitions(variant))).ok()?;
            let body = body.as_object()?;
            self.binary.encode_body("fn.api_", body, packed).ok()
        });
        written.as_deref()
    }
}

/// `fn.api_`'s body, `{"Ok_": {"api": [definitions]}}`.
struct ApiBody<'a>(&'a [Value]);

impl Serialize for ApiBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("Ok_", &ApiPayload(self.0))?;
        map.end()
    }
}

/// `{"api": [definitions]}`.
struct ApiPayload<'a>(&'a [Value]);

impl Serialize for ApiPayload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("api", self.0)?;
        map.end()
    }
}

/// One call's answer, written from the listing the server keeps: converted to JSON
/// values only when the call needs them (a binary client, `@select_`, a hook that
/// reads the body).
struct Listing {
    api: Arc<Api>,
    variant: Variant,
}

impl Serialize for Listing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ApiBody(self.api.definitions(self.variant)).serialize(serializer)
    }
}

impl WrittenAhead for Listing {
    fn written(&self, encoding: Encoding, packed: bool) -> Option<&[u8]> {
        match encoding {
            Encoding::Json => self.api.json(self.variant),
            Encoding::Binary => self.api.binary_body(self.variant, packed),
        }
    }
}

/// Adds `fn.ping_` and `fn.api_` to the router (replacing any user routes of those names).
pub(crate) fn add_internal_routes(
    router: &mut FunctionRouter,
    schema: Arc<Schema>,
    binary: Arc<ServerBinary>,
    limits: GenerationLimits,
) {
    router.insert("fn.ping_", |_request: Message| async {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    let Some(function) = schema.functions().iter().position(|f| f.name == "fn.api_") else {
        return;
    };
    let api = Arc::new(Api {
        schema,
        function: FunctionId(function as u32),
        limits,
        binary,
        examples: Default::default(),
        json: Default::default(),
        binary_bodies: Default::default(),
    });
    router.insert("fn.api_", move |request: Message| {
        let api = Arc::clone(&api);
        async move { Ok::<_, HandlerError>(answer_api(api, &request)) }
    });
}

/// `fn.api_`: the schema as written, with the standard definitions when
/// `includeInternal!` is true, with example payloads when `includeExamples!` is true.
fn answer_api(api: Arc<Api>, request: &Message) -> Message {
    let flag = |name: &str| {
        request
            .payload()
            .and_then(|p| p.get(name))
            .is_some_and(|v| v == &Value::Bool(true))
    };
    let variant = Variant {
        include_internal: flag("includeInternal!"),
        include_examples: flag("includeExamples!"),
    };
    let function = api.function;
    let fits = api.json(variant).is_some();
    let answer = Listing {
        api: Arc::clone(&api),
        variant,
    };
    if !fits {
        // Written and measured as any typed answer, and refused.
        return Message::typed(Headers::new(), answer);
    }
    let ahead = Arc::new(Listing { api, variant });
    Message::written_before(Headers::new(), function, "Ok_", answer, ahead)
}
