//! Reading a request body whole, within its size and time limits and the budget of
//! bodies on their way.

use std::future::Future;
use std::task::Poll;

use axum::body::Bytes;

use super::{BODIES_ON_THEIR_WAY_BYTES, BodyLimits, StatusCode};

/// Reads a request body whole, as `limits` allow: 413 past `limits.bytes` (judged from
/// `Content-Length` before reading, when sent), 408 when it has not all arrived within
/// `limits.time`, 400 when it cannot be read, and 503 at once for a body not come with
/// its head when the bodies on their way hold [`BODIES_ON_THEIR_WAY_BYTES`] already.
/// Each refusal comes with a one-line reason.
///
/// The handlers read their bodies so rather than through a `DefaultBodyLimit` layer:
/// axum clones a layered route's boxed services on every request (five allocations per
/// request in the bakery's count).
///
/// # Errors
///
/// The refusal's status and reason: [`StatusCode::PAYLOAD_TOO_LARGE`],
/// [`StatusCode::REQUEST_TIMEOUT`], [`StatusCode::SERVICE_UNAVAILABLE`] or
/// [`StatusCode::BAD_REQUEST`], as above.
pub async fn read_body(
    body: axum::body::Body,
    limits: BodyLimits,
) -> Result<Bytes, (StatusCode, &'static str)> {
    // Before the body is polled: polling it is what has hyper tell a client waiting on
    // `Expect: 100-continue` to send it.
    let announced = axum::body::HttpBody::size_hint(&body).lower();
    if announced > u64::try_from(limits.bytes).unwrap_or(u64::MAX) {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "request body too large"));
    }
    let mut reading = std::pin::pin!(whole_body(body, limits.bytes));
    // A small body comes in with the request head, and hyper hands it over in the same
    // turn of the connection's task: look again after yielding once before starting a
    // timer (about a thousand instructions a request), which only a body still on its
    // way then needs.
    let mut read = poll_once(reading.as_mut()).await;
    if read.is_pending() {
        tokio::task::yield_now().await;
        read = poll_once(reading.as_mut()).await;
    }
    let read = match read {
        Poll::Ready(read) => read,
        Poll::Pending => {
            let Some(_reserved) = reserve_on_the_way(announced, limits.bytes) else {
                return Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many request bodies on their way; try again",
                ));
            };
            match tokio::time::timeout(limits.time, reading).await {
                Ok(read) => read,
                Err(_elapsed) => {
                    return Err((
                        StatusCode::REQUEST_TIMEOUT,
                        "request body did not arrive in time",
                    ));
                }
            }
        }
    };
    read.map_err(|error| {
        if over_limit(&error) {
            (StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        } else {
            (StatusCode::BAD_REQUEST, "request body could not be read")
        }
    })
}

/// Room in [`BODIES_ON_THEIR_WAY_BYTES`] for a body of `announced` bytes (0: not
/// announced) within `limit`, held until dropped; `None` when there is not enough left.
fn reserve_on_the_way(
    announced: u64,
    limit: usize,
) -> Option<tokio::sync::SemaphorePermit<'static>> {
    // Counted in kibibytes: a permit count is a u32.
    const KIBIBYTES: usize = BODIES_ON_THEIR_WAY_BYTES / 1024;
    static ON_THEIR_WAY: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(KIBIBYTES);
    let most = if announced > 0 {
        usize::try_from(announced).unwrap_or(limit).min(limit)
    } else {
        limit
    };
    // A body limit past the whole budget takes all of it, rather than never fitting.
    let kibibytes = most.div_ceil(1024).min(KIBIBYTES);
    ON_THEIR_WAY
        .try_acquire_many(u32::try_from(kibibytes).unwrap_or(u32::MAX))
        .ok()
}

/// The body's data, at most `limit` bytes of it. A body that comes in one frame, as a
/// small one does, is handed on as it came: no list of frames, no copy (what
/// `axum::body::to_bytes` builds and copies out of for every body).
async fn whole_body(body: axum::body::Body, limit: usize) -> Result<Bytes, axum::Error> {
    use http_body_util::BodyExt as _;

    let mut body = http_body_util::Limited::new(body, limit);
    let mut whole = Bytes::new();
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        // Trailers carry no data.
        let Ok(data) = frame.map_err(axum::Error::new)?.into_data() else {
            continue;
        };
        match &mut joined {
            Some(joined) => joined.extend_from_slice(&data),
            None if whole.is_empty() => whole = data,
            None => {
                let mut both = bytes::BytesMut::with_capacity(whole.len() + data.len());
                both.extend_from_slice(&whole);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or(whole, bytes::BytesMut::freeze))
}

/// Polls `future` once, without waiting for it.
pub(super) async fn poll_once<F: Future>(mut future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

fn over_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// Why a request's body cannot be read as it came, judged from its head: a content
/// coding other than `identity` (RFC 9110, 8.4: the endpoint undoes none, so a gzip
/// body would be read as a malformed message), or a transfer coding other than
/// `chunked` (RFC 9112, 6.1), which hyper hands over still coded. A layer in front that
/// decodes the body (tower-http's `RequestDecompressionLayer`) removes the header, and
/// the body is read.
pub(crate) struct CodingRefusal {
    pub(crate) status: StatusCode,
    pub(crate) reason: &'static str,
}

impl CodingRefusal {
    /// The refusal `headers` call for, if any.
    pub(crate) fn of(headers: &axum::http::HeaderMap) -> Option<Self> {
        use axum::http::header::{CONTENT_ENCODING, TRANSFER_ENCODING};
        if !only_codings(headers, &CONTENT_ENCODING, "identity") {
            return Some(CodingRefusal {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                reason: "request content encoding not supported: send the body unencoded",
            });
        }
        if !only_codings(headers, &TRANSFER_ENCODING, "chunked") {
            return Some(CodingRefusal {
                status: StatusCode::NOT_IMPLEMENTED,
                reason: "request transfer coding not supported: only chunked is",
            });
        }
        None
    }

    /// The answer: its status and reason, and for a content coding, `Accept-Encoding:
    /// identity`, which RFC 9110 (15.5.16) asks a 415 for a coding to carry.
    pub(crate) fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let mut answer = (self.status, self.reason).into_response();
        if self.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            answer.headers_mut().insert(
                axum::http::header::ACCEPT_ENCODING,
                axum::http::HeaderValue::from_static("identity"),
            );
        }
        answer
    }
}

/// Whether every coding `name`'s fields list is `allowed` (case aside); true when the
/// field is absent.
fn only_codings(
    headers: &axum::http::HeaderMap,
    name: &axum::http::HeaderName,
    allowed: &str,
) -> bool {
    headers.get_all(name).iter().all(|field| {
        field.to_str().is_ok_and(|codings| {
            codings
                .split(',')
                .map(str::trim)
                .filter(|coding| !coding.is_empty())
                .all(|coding| coding.eq_ignore_ascii_case(allowed))
        })
    })
}
