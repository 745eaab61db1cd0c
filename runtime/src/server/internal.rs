//! The functions every server answers itself: `fn.ping_` and `fn.api_`.

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};
use telepact_schema::Schema;

use crate::budget::GenerationLimits;
use crate::message::{Headers, Message};
use crate::router::{FunctionRouter, HandlerError};

use super::examples::with_examples;

/// What `fn.api_` answers, computed once per variant (examples at the first call that
/// asks for them) and shared by every later call.
struct Api {
    schema: Arc<Schema>,
    limits: GenerationLimits,
    /// With examples: `[public, with internal definitions]`.
    examples: [OnceLock<Vec<Value>>; 2],
}

impl Api {
    fn definitions(&self, include_internal: bool, include_examples: bool) -> &[Value] {
        let plain = if include_internal {
            &self.schema.full()
        } else {
            &self.schema.original()
        };
        if !include_examples {
            return plain;
        }
        self.examples[usize::from(include_internal)]
            .get_or_init(|| with_examples(&self.schema, plain, self.limits))
    }
}

/// Adds `fn.ping_` and `fn.api_` to the router (replacing any user routes of those names).
pub(crate) fn add_internal_routes(
    router: &mut FunctionRouter,
    schema: Arc<Schema>,
    limits: GenerationLimits,
) {
    router.insert("fn.ping_", |_request: Message| async {
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", Map::new()))
    });
    let api = Arc::new(Api {
        schema,
        limits,
        examples: [OnceLock::new(), OnceLock::new()],
    });
    router.insert("fn.api_", move |request: Message| {
        let api = Arc::clone(&api);
        async move { Ok::<_, HandlerError>(answer_api(&api, &request)) }
    });
}

/// `fn.api_`: the schema as written, with the standard definitions when
/// `includeInternal!` is true, with example payloads when `includeExamples!` is true.
fn answer_api(api: &Api, request: &Message) -> Message {
    let flag = |name: &str| {
        request
            .payload()
            .and_then(|p| p.get(name))
            .is_some_and(|v| v == &Value::Bool(true))
    };
    let definitions = api.definitions(flag("includeInternal!"), flag("includeExamples!"));
    let mut payload = Map::new();
    payload.insert("api".to_string(), Value::Array(definitions.to_vec()));
    Message::new(Headers::new(), "Ok_", payload)
}
