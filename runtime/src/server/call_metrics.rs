//! What the `metrics` facade is told about each call (see
//! [`ServerBuilder::metrics`](super::ServerBuilder::metrics)).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use foldhash::fast::RandomState;
use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder, SharedString};

use crate::validate::Compiled;

/// The `function` label of a call to a function the schema does not define. The name
/// comes from the caller: a label per name would let any caller grow the recorder's
/// series without bound.
const UNKNOWN_FUNCTION: &str = "unknown";

/// The `function` label of a request that did not parse.
const UNPARSED: &str = "";

const CALLS: &str = "telepact_calls_total";
const DURATION: &str = "telepact_call_duration_seconds";
const REQUEST_BYTES: &str = "telepact_request_bytes";
const RESPONSE_BYTES: &str = "telepact_response_bytes";

/// What the `metrics` macros would say of where the metrics come from.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The metric keys of every call the server can answer, made once per server: the
/// macros would build each key (a label list and its hash) again on every call.
///
/// The schema merges the standard errors (`ErrorUnknown_`, `ErrorParseFailure_`, ...
/// and, with auth, `ErrorUnauthenticated_` and `ErrorUnauthorized_`) into every
/// function's result, so its results are every tag the server answers with.
pub(crate) struct CallKeys {
    functions: HashMap<String, FunctionKeys, RandomState>,
    unknown: FunctionKeys,
    unparsed: FunctionKeys,
    /// The recorder the server was given ([`ServerBuilder::metrics_recorder`]), if any:
    /// each series is registered with it once and its handle kept. Without one, calls
    /// go to the facade's current recorder, registered on every call.
    ///
    /// [`ServerBuilder::metrics_recorder`]: super::ServerBuilder::metrics_recorder
    recorder: Option<Arc<dyn Recorder + Send + Sync>>,
}

impl std::fmt::Debug for CallKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallKeys")
            .field("functions", &self.functions.len())
            .field("own_recorder", &self.recorder.is_some())
            .finish_non_exhaustive()
    }
}

/// The keys of the calls under one `function` label.
#[derive(Debug)]
pub(crate) struct FunctionKeys {
    function: SharedString,
    /// `telepact_calls_total`, by result tag.
    calls: HashMap<String, Series<Counter>, RandomState>,
    duration: Series<Histogram>,
    request_bytes: Series<Histogram>,
    response_bytes: Series<Histogram>,
}

/// A series' key, and its handle once registered with the server's own recorder.
#[derive(Debug)]
struct Series<H> {
    key: Key,
    handle: OnceLock<H>,
}

impl<H> Series<H> {
    fn new(key: Key) -> Self {
        Series {
            key,
            handle: OnceLock::new(),
        }
    }
}

impl Series<Counter> {
    fn counter(&self, recorder: &dyn Recorder) -> &Counter {
        let register = || recorder.register_counter(&self.key, &METADATA);
        self.handle.get_or_init(register)
    }
}

impl Series<Histogram> {
    fn histogram(&self, recorder: &dyn Recorder) -> &Histogram {
        let register = || recorder.register_histogram(&self.key, &METADATA);
        self.handle.get_or_init(register)
    }
}

impl CallKeys {
    pub(crate) fn new(
        compiled: &Compiled,
        recorder: Option<Arc<dyn Recorder + Send + Sync>>,
    ) -> Self {
        let results: HashMap<&str, SharedString, RandomState> = compiled
            .functions
            .iter()
            .flat_map(|f| &f.result.tags)
            .map(|tag| (tag.name.as_str(), shared(&tag.name)))
            .collect();
        let functions = compiled.functions.iter().map(|function| {
            let tags = function
                .result
                .tags
                .iter()
                .filter_map(|tag| results.get(tag.name.as_str()));
            let keys = FunctionKeys::new(shared(&function.name), tags);
            (function.name.clone(), keys)
        });
        CallKeys {
            functions: functions.collect(),
            unknown: FunctionKeys::new(shared(UNKNOWN_FUNCTION), results.values()),
            unparsed: FunctionKeys::new(SharedString::const_str(UNPARSED), results.values()),
            recorder,
        }
    }

    /// The recorder the server reports to itself, if it was given one.
    pub(crate) fn own_recorder(&self) -> Option<&dyn Recorder> {
        self.recorder
            .as_deref()
            .map(|recorder| recorder as &dyn Recorder)
    }

    /// The keys of a request for `target` (`None`: it did not parse).
    pub(crate) fn function(&self, target: Option<&str>) -> &FunctionKeys {
        match target {
            None => &self.unparsed,
            Some(name) => self.functions.get(name).unwrap_or(&self.unknown),
        }
    }
}

impl FunctionKeys {
    fn new<'a>(function: SharedString, tags: impl Iterator<Item = &'a SharedString>) -> Self {
        let key = |name: &'static str| {
            Series::new(Key::from_parts(
                name,
                vec![Label::new("function", function.clone())],
            ))
        };
        FunctionKeys {
            calls: tags
                .map(|tag| {
                    let series = Series::new(calls_key(&function, tag.clone()));
                    (tag.to_string(), series)
                })
                .collect(),
            duration: key(DURATION),
            request_bytes: key(REQUEST_BYTES),
            response_bytes: key(RESPONSE_BYTES),
            function,
        }
    }
}

fn calls_key(function: &SharedString, result: SharedString) -> Key {
    Key::from_parts(
        CALLS,
        vec![
            Label::new("function", function.clone()),
            Label::new("result", result),
        ],
    )
}

fn shared(name: &str) -> SharedString {
    SharedString::from_shared(Arc::from(name))
}

/// One call, as the `metrics` facade is told about it.
pub(crate) struct CallMetrics<'a> {
    pub(crate) keys: &'a FunctionKeys,
    /// The response's tag.
    pub(crate) result: &'a str,
    pub(crate) request_bytes: usize,
    pub(crate) response_bytes: usize,
    pub(crate) started: Instant,
}

impl CallMetrics<'_> {
    /// Reports the call: to `own`, the server's own recorder, through the handles kept
    /// for it; without one to the facade's current recorder (a local one first, as the
    /// macros do), registering each series again.
    pub(crate) fn record(self, own: Option<&dyn Recorder>) {
        let seconds = self.started.elapsed().as_secs_f64();
        match own {
            Some(recorder) => self.record_kept(recorder, seconds),
            None => metrics::with_recorder(|recorder| self.record_to(recorder, seconds)),
        }
    }

    fn record_kept(&self, recorder: &dyn Recorder, seconds: f64) {
        let keys = self.keys;
        match keys.calls.get(self.result) {
            Some(series) => series.counter(recorder).increment(1),
            None => self.count_unknown_tag(recorder),
        }
        keys.duration.histogram(recorder).record(seconds);
        let request_bytes = keys.request_bytes.histogram(recorder);
        request_bytes.record(self.request_bytes as f64);
        let response_bytes = keys.response_bytes.histogram(recorder);
        response_bytes.record(self.response_bytes as f64);
    }

    fn record_to(&self, recorder: &dyn Recorder, seconds: f64) {
        let keys = self.keys;
        match keys.calls.get(self.result) {
            Some(series) => recorder
                .register_counter(&series.key, &METADATA)
                .increment(1),
            None => self.count_unknown_tag(recorder),
        }
        let histogram =
            |series: &Series<Histogram>| recorder.register_histogram(&series.key, &METADATA);
        histogram(&keys.duration).record(seconds);
        histogram(&keys.request_bytes).record(self.request_bytes as f64);
        histogram(&keys.response_bytes).record(self.response_bytes as f64);
    }

    /// A tag the schema does not know (a handler's, past `@unsafe_`) is kept, under a
    /// key made for the call.
    fn count_unknown_tag(&self, recorder: &dyn Recorder) {
        let key = calls_key(&self.keys.function, self.result.to_string().into());
        recorder.register_counter(&key, &METADATA).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use telepact_schema::Schema;

    use super::*;

    #[test]
    fn every_tag_a_server_answers_with_has_a_key_made_in_advance() {
        let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#)
            .expect("schema loads");
        let every_key = CallKeys::new(&Compiled::new(&schema), None);
        for function in [Some("fn.add"), Some("fn.ping_"), Some("fn.invented"), None] {
            let keys = every_key.function(function);
            for tag in [
                "Ok_",
                "ErrorUnknown_",
                "ErrorParseFailure_",
                "ErrorInvalidRequestHeaders_",
                "ErrorInvalidRequestBody_",
                "ErrorInvalidResponseHeaders_",
                "ErrorInvalidResponseBody_",
            ] {
                let key = keys.calls.get(tag).map(|series| &series.key);
                let labels: Option<Vec<_>> =
                    key.map(|key| key.labels().map(|l| l.value().to_string()).collect());
                assert_eq!(
                    labels,
                    Some(vec![keys.function.to_string(), tag.to_string()]),
                    "{function:?} {tag}"
                );
            }
        }
        assert_eq!(
            every_key.function(Some("fn.add")).function.as_ref(),
            "fn.add"
        );
        assert_eq!(
            every_key.function(Some("fn.invented")).function.as_ref(),
            UNKNOWN_FUNCTION
        );
        assert_eq!(every_key.function(None).function.as_ref(), "");
    }

    #[test]
    fn a_tag_the_schema_does_not_know_is_counted_under_its_own_name() {
        use metrics_util::debugging::DebuggingRecorder;

        let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#)
            .expect("schema loads");
        let keys = CallKeys::new(&Compiled::new(&schema), None);
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let call = CallMetrics {
            keys: keys.function(Some("fn.add")),
            result: "ErrorNotInTheSchema",
            request_bytes: 10,
            response_bytes: 20,
            started: Instant::now(),
        };
        call.record_to(&recorder, 0.5);
        let counted: Vec<Vec<String>> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == CALLS)
            .map(|(key, ..)| {
                key.key()
                    .labels()
                    .map(|label| format!("{}={}", label.key(), label.value()))
                    .collect()
            })
            .collect();
        assert_eq!(counted, [["function=fn.add", "result=ErrorNotInTheSchema"]]);
    }
}
