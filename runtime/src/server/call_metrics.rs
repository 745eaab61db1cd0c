//! What the `metrics` facade is told about each call (see
//! [`ServerBuilder::metrics`](super::ServerBuilder::metrics)).

mod batch;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use foldhash::fast::RandomState;
use indexmap::IndexMap;
use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit,
};

use telepact_schema::FunctionId;

use crate::validate::Compiled;
use batch::{Batches, Flusher, ShardedCount};

/// The `function` label of a call to a function the schema does not define. The name
/// comes from the caller: a label per name would let any caller grow the recorder's
/// series without bound.
const UNKNOWN_FUNCTION: &str = "unknown";

/// The tag of a call that succeeded: the first of each function's `calls`.
const OK: &str = "Ok_";

/// The `function` label of a request that did not parse.
const UNPARSED: &str = "";

/// The result of a call cut off before its answer was made: its future was dropped
/// (the caller's connection went, the server's shutdown deadline passed). Lower case,
/// so that no schema's tag is ever it.
pub(crate) const CANCELLED: &str = "cancelled";

const CALLS: &str = "telepact_calls_total";
const DURATION: &str = "telepact_call_duration_seconds";
const REQUEST_BYTES: &str = "telepact_request_bytes";
const RESPONSE_BYTES: &str = "telepact_response_bytes";
const HTTP_REFUSALS: &str = "telepact_http_refusals_total";
const IN_FLIGHT: &str = "telepact_calls_in_flight";

/// What a series is, for its description.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Tells `recorder` what each series means (an exporter's `# HELP` and `# UNIT`), once
/// per server: a recorder keeps the last description given for a name.
fn describe(recorder: &dyn Recorder) {
    let described = [
        (
            CALLS,
            Kind::Counter,
            None,
            "Calls ended, by function and result tag (cancelled: cut off unanswered).",
        ),
        (
            DURATION,
            Kind::Histogram,
            Some(Unit::Seconds),
            "Time from reading a request to its encoded answer or its cancellation, by function.",
        ),
        (
            REQUEST_BYTES,
            Kind::Histogram,
            Some(Unit::Bytes),
            "Size of each request message, by function.",
        ),
        (
            RESPONSE_BYTES,
            Kind::Histogram,
            Some(Unit::Bytes),
            "Size of each answer message, by function (cancelled calls have none).",
        ),
        (
            HTTP_REFUSALS,
            Kind::Counter,
            None,
            "Requests the HTTP endpoint refused before reading them whole, by status.",
        ),
        (
            IN_FLIGHT,
            Kind::Gauge,
            None,
            "Calls read and not yet answered or cut off.",
        ),
    ];
    for (name, kind, unit, description) in described {
        let (name, description) = (
            KeyName::from_const_str(name),
            SharedString::const_str(description),
        );
        match kind {
            Kind::Counter => recorder.describe_counter(name, unit, description),
            Kind::Gauge => recorder.describe_gauge(name, unit, description),
            Kind::Histogram => recorder.describe_histogram(name, unit, description),
        }
    }
}

/// The longest a call waits in its thread's batch before the server's own recorder is
/// told of it.
const FLUSH_PERIOD: Duration = Duration::from_secs(1);

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
    functions: IndexMap<String, FunctionKeys, RandomState>,
    unknown: FunctionKeys,
    unparsed: FunctionKeys,
    /// `telepact_calls_in_flight`: one series for the server, whatever the function.
    in_flight: Series<Gauge>,
    /// The recorder the server was given ([`ServerBuilder::metrics_recorder`]), if any.
    /// Without one, calls go to the facade's current recorder, registered on every call.
    ///
    /// [`ServerBuilder::metrics_recorder`]: super::ServerBuilder::metrics_recorder
    own: Option<OwnRecorder>,
}

impl std::fmt::Debug for CallKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallKeys")
            .field("functions", &self.functions.len())
            .field("own_recorder", &self.own.is_some())
            .finish_non_exhaustive()
    }
}

/// A recorder of the server's own: each series is registered with it once and its
/// handle kept, calls are held in per-thread batches until handed over, and calls in
/// flight are counted per thread and summed into their gauge when batches are.
struct OwnRecorder {
    recorder: Arc<dyn Recorder + Send + Sync>,
    held: Batches<HeldCall>,
    in_flight: ShardedCount,
    /// What this server last added to the gauge: servers sharing a recorder share its
    /// series, so each moves it by its own change rather than setting it.
    in_flight_reported: AtomicI64,
    flusher: Flusher,
}

/// A call held for the server's own recorder: its series by position, its figures.
#[derive(Debug, Clone, Copy)]
struct HeldCall {
    function: Slot,
    /// The result's position in its function's `calls`.
    result: usize,
    seconds: f64,
    request_bytes: f64,
    response_bytes: f64,
}

/// Where a function's keys are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Among the schema's functions, at this position.
    Schema(usize),
    Unknown,
    Unparsed,
}

/// The keys of the calls under one `function` label.
#[derive(Debug)]
pub(crate) struct FunctionKeys {
    slot: Slot,
    function: SharedString,
    /// `telepact_calls_total`, by result tag.
    calls: IndexMap<String, Series<Counter>, RandomState>,
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

impl Series<Gauge> {
    fn gauge(&self, recorder: &dyn Recorder) -> &Gauge {
        let register = || recorder.register_gauge(&self.key, &METADATA);
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
        let functions = compiled.functions.iter().enumerate().map(|(at, function)| {
            let tags = function
                .result
                .tags
                .iter()
                .filter_map(|tag| results.get(tag.name.as_str()));
            let keys = FunctionKeys::new(Slot::Schema(at), shared(&function.name), tags);
            (function.name.clone(), keys)
        });
        let unparsed = SharedString::const_str(UNPARSED);
        match &recorder {
            Some(own) => describe(&**own),
            None => metrics::with_recorder(describe),
        }
        CallKeys {
            functions: functions.collect(),
            unknown: FunctionKeys::new(Slot::Unknown, shared(UNKNOWN_FUNCTION), results.values()),
            unparsed: FunctionKeys::new(Slot::Unparsed, unparsed, results.values()),
            in_flight: Series::new(Key::from_static_name(IN_FLIGHT)),
            own: recorder.map(|recorder| OwnRecorder {
                recorder,
                held: Batches::new(),
                in_flight: ShardedCount::new(),
                in_flight_reported: AtomicI64::new(0),
                flusher: Flusher::new(FLUSH_PERIOD),
            }),
        }
    }

    fn at(&self, slot: Slot) -> &FunctionKeys {
        match slot {
            Slot::Schema(at) => self
                .functions
                .get_index(at)
                .map_or(&self.unknown, |(_, keys)| keys),
            Slot::Unknown => &self.unknown,
            Slot::Unparsed => &self.unparsed,
        }
    }

    /// Hands every call held for the server's own recorder over to it, with the count
    /// of calls in flight.
    pub(crate) fn flush(&self) {
        if let Some(own) = &self.own {
            own.held
                .drain(|batch| self.hand_over(&*own.recorder, batch));
            self.set_in_flight(own);
        }
    }

    fn set_in_flight(&self, own: &OwnRecorder) {
        let gauge = self.in_flight.gauge(&*own.recorder);
        let now = own.in_flight.sum();
        let before = own.in_flight_reported.swap(now, Ordering::Relaxed);
        gauge.increment((now - before) as f64);
    }

    fn hand_over(&self, recorder: &dyn Recorder, batch: &[HeldCall]) {
        for call in batch {
            let keys = self.at(call.function);
            keys.measure(
                recorder,
                call.seconds,
                call.request_bytes,
                Some(call.response_bytes),
            );
        }
        // A run of calls with one result is counted at once.
        let same_series =
            |a: &HeldCall, b: &HeldCall| (a.function, a.result) == (b.function, b.result);
        for run in batch.chunk_by(same_series) {
            let calls = &self.at(run[0].function).calls;
            if let Some((_, series)) = calls.get_index(run[0].result) {
                series.counter(recorder).increment(run.len() as u64);
            }
        }
    }

    /// Counts a call begun: `telepact_calls_in_flight` goes up until
    /// [`call_ended`](Self::call_ended). For the server's own recorder the count is kept
    /// per thread and added to the gauge when held calls are handed over (at least every
    /// [`FLUSH_PERIOD`], and on [`flush`](Self::flush)): a gauge every call wrote to
    /// would be memory each core takes from the other, as batches avoid for the rest.
    pub(crate) fn call_began(self: &Arc<Self>) {
        self.move_in_flight(1);
    }

    /// Counts a call answered or cut off.
    pub(crate) fn call_ended(self: &Arc<Self>) {
        self.move_in_flight(-1);
    }

    fn move_in_flight(self: &Arc<Self>, by: i64) {
        let Some(own) = &self.own else {
            return metrics::with_recorder(|recorder| {
                let gauge = recorder.register_gauge(&self.in_flight.key, &METADATA);
                gauge.increment(by as f64);
            });
        };
        own.in_flight.add(by);
        // Without a flusher the gauge is moved at once.
        if !own
            .flusher
            .ensure_running(|| Arc::downgrade(self), CallKeys::flush)
        {
            self.set_in_flight(own);
        }
    }

    /// Counts a request the HTTP endpoint refused with `status`. Rare, and registered
    /// each time: no handle is kept per status.
    #[cfg(feature = "axum")]
    pub(crate) fn count_http_refusal(&self, status: u16) {
        let key = Key::from_parts(
            HTTP_REFUSALS,
            vec![Label::new("status", status.to_string())],
        );
        let count = |recorder: &dyn Recorder| {
            recorder.register_counter(&key, &METADATA).increment(1);
        };
        match &self.own {
            Some(own) => count(&*own.recorder),
            None => metrics::with_recorder(count),
        }
    }

    /// The keys of a request for `target` (`None`: it did not parse).
    pub(crate) fn function(&self, target: Option<&str>) -> &FunctionKeys {
        match target {
            None => &self.unparsed,
            Some(name) => self.functions.get(name).unwrap_or(&self.unknown),
        }
    }

    /// The keys of a request for `target`, found by `known`, its id, when the request
    /// was read knowing it: the keys are in the schema's order, as ids are.
    pub(crate) fn function_known(&self, known: Option<FunctionId>, target: &str) -> &FunctionKeys {
        let by_id = known.and_then(|id| self.functions.get_index(id.0 as usize));
        match by_id {
            Some((_, keys)) => keys,
            None => self.function(Some(target)),
        }
    }
}

impl Drop for CallKeys {
    /// The server is gone: what it held is handed over, and the flusher may stop.
    fn drop(&mut self) {
        self.flush();
        if let Some(own) = &self.own {
            own.flusher.wake();
        }
    }
}

impl FunctionKeys {
    /// Where the series of calls answered with `tag` is: most calls answer with the
    /// first tag, [`OK`], found without hashing.
    fn result_at(&self, tag: &str) -> Option<usize> {
        match self.calls.first() {
            Some((first, _)) if first == tag => Some(0),
            _ => self.calls.get_index_of(tag),
        }
    }

    /// Records a call's duration and sizes with the handles kept for `recorder`; a call
    /// cut off has no answer to measure.
    fn measure(&self, recorder: &dyn Recorder, seconds: f64, request: f64, response: Option<f64>) {
        self.duration.histogram(recorder).record(seconds);
        self.request_bytes.histogram(recorder).record(request);
        if let Some(response) = response {
            self.response_bytes.histogram(recorder).record(response);
        }
    }

    fn new<'a>(
        slot: Slot,
        function: SharedString,
        tags: impl Iterator<Item = &'a SharedString>,
    ) -> Self {
        let key = |name: &'static str| {
            Series::new(Key::from_parts(
                name,
                vec![Label::new("function", function.clone())],
            ))
        };
        let mut calls: IndexMap<_, _, _> = tags
            .cloned()
            .chain([SharedString::const_str(CANCELLED)])
            .map(|tag| (tag.to_string(), Series::new(calls_key(&function, tag))))
            .collect();
        if let Some(ok) = calls.get_index_of(OK) {
            calls.move_index(ok, 0);
        }
        FunctionKeys {
            calls,
            duration: key(DURATION),
            request_bytes: key(REQUEST_BYTES),
            response_bytes: key(RESPONSE_BYTES),
            slot,
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
    /// `None` for a call cut off before it was answered.
    pub(crate) response_bytes: Option<usize>,
    pub(crate) started: Instant,
}

impl CallMetrics<'_> {
    /// Reports the call: to the server's own recorder, held in this thread's batch
    /// until handed over with it; without one at once to the facade's current recorder
    /// (a local one first, as the macros do), registering each series again.
    pub(crate) fn record(self, every: &Arc<CallKeys>) {
        let seconds = self.started.elapsed().as_secs_f64();
        let Some(own) = &every.own else {
            return metrics::with_recorder(|recorder| self.record_to(recorder, seconds));
        };
        let recorder = &*own.recorder;
        // A tag the schema does not know has no series to hold the call for, a call
        // cut off no answer's size; and without a flusher, nothing may be held.
        let flusher_runs = || {
            own.flusher
                .ensure_running(|| Arc::downgrade(every), CallKeys::flush)
        };
        let held = (self.response_bytes)
            .and_then(|size| Some((self.keys.result_at(self.result)?, size)))
            .filter(|_| flusher_runs());
        let Some((result, response_bytes)) = held else {
            return self.record_kept(recorder, seconds);
        };
        let call = HeldCall {
            function: self.keys.slot,
            result,
            seconds,
            request_bytes: self.request_bytes as f64,
            response_bytes: response_bytes as f64,
        };
        own.held
            .push(call, |batch| every.hand_over(recorder, batch));
    }

    fn record_kept(&self, recorder: &dyn Recorder, seconds: f64) {
        let keys = self.keys;
        match keys.calls.get(self.result) {
            Some(series) => series.counter(recorder).increment(1),
            None => self.count_unknown_tag(recorder),
        }
        let response = self.response_bytes.map(|size| size as f64);
        keys.measure(recorder, seconds, self.request_bytes as f64, response);
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
        if let Some(size) = self.response_bytes {
            histogram(&keys.response_bytes).record(size as f64);
        }
    }

    /// A tag the schema does not know (a handler's, past `@unsafe_`) is kept, under a
    /// key made for the call.
    fn count_unknown_tag(&self, recorder: &dyn Recorder) {
        let key = calls_key(&self.keys.function, self.result.to_string().into());
        recorder.register_counter(&key, &METADATA).increment(1);
    }
}

#[cfg(test)]
mod tests;
