//! The span of one call: opened as its request is parsed, its outcome recorded as the
//! answer is sent. No field holds a credential or a body, and the client's text (a
//! function name the schema lacks, `@id_`) is cut to a length a log line can hold.

use std::time::Instant;

use serde_json::Value;
use tracing::Span;
use tracing::field::Empty;

use super::call_metrics::CANCELLED;
use crate::codec::Encoding;
use crate::logging::{clipped, clipped_id};
use crate::message::{Message, PeerAddress};

/// The span of one call, named after the function of `request` (absent when it did
/// not parse), with the client's address when the `transport` gives it. The other
/// fields are filled in as the call ends (only when a subscriber wants the span); none
/// of them holds a credential or a body.
///
/// It is at `debug` level, as tower-http's request spans are: a subscriber at `info`
/// (the usual production filter) would otherwise format and store the span's fields on
/// every call only to drop them, a tenth of a small call's CPU. The events a call logs
/// at `info` and above name its function themselves.
pub(super) fn call_span(request: Option<&Message>, transport: &http::Extensions) -> Span {
    let span = tracing::debug_span!(
        "telepact.call",
        // A name the schema lacks is the client's text, as long as it likes.
        function = request.map(|request| clipped(request.target())).as_deref(),
        id = Empty,
        address = Empty,
        result = Empty,
        encoding = Empty,
        case_id = Empty,
        duration_us = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    if let Some(peer) = transport.get::<PeerAddress>() {
        span.record("address", tracing::field::display(peer.0.ip()));
    }
    if let Some(id) = request.and_then(|request| request.header("@id_")) {
        span.record("id", &*clipped_id(id));
    }
    span
}

/// Records the outcome of the call in `span`, in one go: a subscriber looks the span
/// up and formats its fields once, not once per field.
pub(super) fn record_response(
    span: &Span,
    response: &Message,
    encoding: Encoding,
    packed: bool,
    started: Instant,
) {
    let tag = response.target();
    let encoding = match encoding {
        Encoding::Json => "json",
        Encoding::Binary if packed => "packed",
        Encoding::Binary => "binary",
    };
    let case = (tag == "ErrorUnknown_")
        .then(|| {
            response
                .payload()
                .and_then(|p| p.get("caseId"))
                .and_then(Value::as_str)
        })
        .flatten();
    record_end(span, tag, Some(encoding), case, started);
}

/// Records in `span` a call cut off before its answer was made: `result` is
/// `cancelled`, with the time it ran.
pub(super) fn record_cancelled(span: &Span, started: Instant) {
    record_end(span, CANCELLED, None, None, started);
}

fn record_end(
    span: &Span,
    result: &str,
    encoding: Option<&str>,
    case: Option<&str>,
    started: Instant,
) {
    let Some(fields) = span.metadata().map(|metadata| metadata.fields()) else {
        return;
    };
    let (Some(result_field), Some(encoding_field), Some(case_id), Some(duration_us)) = (
        fields.field("result"),
        fields.field("encoding"),
        fields.field("case_id"),
        fields.field("duration_us"),
    ) else {
        return;
    };
    let duration = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.record_all(&fields.value_set(&[
        (&result_field, Some(&result as &dyn tracing::Value)),
        (
            &encoding_field,
            encoding.as_ref().map(|e| e as &dyn tracing::Value),
        ),
        (&case_id, case.as_ref().map(|c| c as &dyn tracing::Value)),
        (&duration_us, Some(&duration as &dyn tracing::Value)),
    ]));
}
