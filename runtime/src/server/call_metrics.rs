//! What the `metrics` facade is told about each call (see
//! [`ServerBuilder::metrics`](super::ServerBuilder::metrics)).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use foldhash::fast::RandomState;
use metrics::SharedString;

use crate::validate::Compiled;

/// The `function` label of a call to a function the schema does not define. The name
/// comes from the caller: a label per name would let any caller grow the recorder's
/// series without bound.
const UNKNOWN_FUNCTION: &str = "unknown";

/// The `function` label of a request that did not parse.
const UNPARSED: &str = "";

/// Label values for the schema's function names and result tags, made once per server
/// and shared by every call's labels rather than copied into them. The schema merges
/// the standard errors (`ErrorUnknown_`, `ErrorParseFailure_`, ... and, with auth,
/// `ErrorUnauthenticated_` and `ErrorUnauthorized_`) into every function's result, so
/// its results are every tag the server answers with.
#[derive(Debug)]
pub(crate) struct CallLabels {
    functions: HashMap<String, SharedString, RandomState>,
    results: HashMap<String, SharedString, RandomState>,
}

impl CallLabels {
    pub(crate) fn new(compiled: &Compiled) -> Self {
        let functions = compiled.functions.iter().map(|f| f.name.as_str());
        let results = compiled
            .functions
            .iter()
            .flat_map(|f| &f.result.tags)
            .map(|tag| tag.name.as_str());
        CallLabels {
            functions: functions.map(shared).collect(),
            results: results.map(shared).collect(),
        }
    }

    /// The `function` label of a request for `target` (`None`: it did not parse).
    pub(crate) fn function(&self, target: Option<&str>) -> SharedString {
        match target {
            None => SharedString::const_str(UNPARSED),
            Some(name) => self
                .functions
                .get(name)
                .cloned()
                .unwrap_or(SharedString::const_str(UNKNOWN_FUNCTION)),
        }
    }

    /// The `result` label of a response tagged `tag`. Tags come from the server's own
    /// answers, so one the schema does not know (a handler's, past `@unsafe_`) is kept.
    pub(crate) fn result(&self, tag: &str) -> SharedString {
        self.results
            .get(tag)
            .cloned()
            .unwrap_or_else(|| SharedString::from_owned(tag.to_string()))
    }
}

fn shared(name: &str) -> (String, SharedString) {
    (name.to_string(), SharedString::from_shared(Arc::from(name)))
}

/// One call, as the `metrics` facade is told about it.
pub(crate) struct CallMetrics {
    pub(crate) function: SharedString,
    pub(crate) result: SharedString,
    pub(crate) request_bytes: usize,
    pub(crate) response_bytes: usize,
    pub(crate) started: Instant,
}

impl CallMetrics {
    pub(crate) fn record(self) {
        metrics::counter!(
            "telepact_calls_total",
            "function" => self.function.clone(),
            "result" => self.result,
        )
        .increment(1);
        let seconds = self.started.elapsed().as_secs_f64();
        metrics::histogram!("telepact_call_duration_seconds", "function" => self.function.clone())
            .record(seconds);
        metrics::histogram!("telepact_request_bytes", "function" => self.function.clone())
            .record(self.request_bytes as f64);
        metrics::histogram!("telepact_response_bytes", "function" => self.function)
            .record(self.response_bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    use telepact_schema::Schema;

    use super::*;

    #[test]
    fn every_tag_a_server_answers_with_has_a_shared_label() {
        let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#)
            .expect("schema loads");
        let labels = CallLabels::new(&Compiled::new(&schema));
        for tag in [
            "Ok_",
            "ErrorUnknown_",
            "ErrorParseFailure_",
            "ErrorInvalidRequestHeaders_",
            "ErrorInvalidRequestBody_",
            "ErrorInvalidResponseHeaders_",
            "ErrorInvalidResponseBody_",
        ] {
            assert!(labels.results.contains_key(tag), "{tag}");
        }
        for function in ["fn.add", "fn.ping_", "fn.api_"] {
            assert_eq!(labels.function(Some(function)).as_ref(), function);
        }
        assert_eq!(
            labels.function(Some("fn.invented")).as_ref(),
            UNKNOWN_FUNCTION
        );
        assert_eq!(labels.function(None).as_ref(), "");
    }
}
