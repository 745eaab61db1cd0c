//! Reading a request body whole, within its size and time limits and the budget of
//! bodies on their way.

use std::future::Future;
use std::task::Poll;

use axum::body::Bytes;

use super::{BODIES_ON_THEIR_WAY_BYTES, BodyLimits, StatusCode};

/// Reads a request's body whole, as `limits` allow: 413 past `limits.bytes` (judged
/// from `Content-Length` before reading, when sent), 408 when it has not all arrived
/// within `limits.time`, 400 when it cannot be read, and 503 at once for a body not
/// come with its head when the bodies on their way hold [`BODIES_ON_THEIR_WAY_BYTES`]
/// already. Some requests are refused from their `head` before any of the body is read:
/// an HTTP/1.1 request without `Host`, or any with more than one, with 400 (RFC 9112,
/// 3.2); a body in a coding the endpoint does not undo, a `Content-Encoding` other than
/// `identity` with 415, a `Transfer-Encoding` other than `chunked` with 501. Each
/// refusal comes with a one-line reason.
///
/// The handlers read their bodies so rather than through a `DefaultBodyLimit` layer:
/// axum clones a layered route's boxed services on every request (five allocations per
/// request in the bakery's count).
///
/// # Errors
///
/// A [`BodyRefusal`] with the status above and its reason; answer with it
/// ([`IntoResponse`](axum::response::IntoResponse)).
pub async fn read_body(
    head: &axum::http::request::Parts,
    body: axum::body::Body,
    limits: BodyLimits,
) -> Result<Bytes, BodyRefusal> {
    let http1 = head.version < axum::http::Version::HTTP_2;
    let refused = |(status, reason)| BodyRefusal {
        status,
        reason,
        http1,
    };
    if let Some(reason) = host_refusal(head) {
        return Err(refused((StatusCode::BAD_REQUEST, reason)));
    }
    if let Some(coding) = coding_refusal(&head.headers) {
        return Err(refused(coding));
    }
    read_whole(body, limits).await.map_err(refused)
}

/// Why a request body was not read: the status and the one-line reason it is answered
/// with. Over HTTP/1 the answer also says `Connection: close`: the body was left
/// unread, so the connection closes after it, and RFC 9112 (9.6) asks that the answer
/// say so, lest a client or a proxy send its next request down it, where a POST is
/// lost rather than retried.
#[derive(Debug, Clone)]
pub struct BodyRefusal {
    status: StatusCode,
    reason: &'static str,
    http1: bool,
}

impl BodyRefusal {
    /// The status it is answered with: 400, 408, 413, 415, 501 or 503.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The one line it is answered with.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl std::fmt::Display for BodyRefusal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.status.as_u16(), self.reason)
    }
}

impl axum::response::IntoResponse for BodyRefusal {
    /// The status and reason; for a content coding, `Accept-Encoding: identity`, which
    /// RFC 9110 (15.5.16) asks a 415 for a coding to carry; over HTTP/1, `Connection:
    /// close`.
    fn into_response(self) -> axum::response::Response {
        use axum::http::{HeaderValue, header};
        let mut answer = (self.status, self.reason).into_response();
        let headers = answer.headers_mut();
        if self.status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
        }
        if self.http1 {
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        answer
    }
}

/// [`read_body`] once the head has passed: the body, or the status and reason it is
/// refused with.
async fn read_whole(
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

/// Why a request is refused for its `Host` header, as RFC 9112 (3.2) asks a server to:
/// an HTTP/1.1 request without one, or any request with more than one (which could
/// name two origins to two readers of it). HTTP/1.0 needs none, and an HTTP/2 request
/// names its origin in `:authority`. Only a request that came over a connection (its
/// peer known, as [`serve`](super::serve) makes it) is held to it: one built in process
/// and handed to the router (`tower::ServiceExt::oneshot`, in a test) came from no
/// origin.
pub(crate) fn host_refusal(head: &axum::http::request::Parts) -> Option<&'static str> {
    use axum::extract::ConnectInfo;
    head.extensions.get::<ConnectInfo<std::net::SocketAddr>>()?;
    let mut hosts = head.headers.get_all(axum::http::header::HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return Some("a request may carry one Host header, not several");
    }
    if first.is_none() && head.version == axum::http::Version::HTTP_11 {
        return Some("an HTTP/1.1 request must carry a Host header");
    }
    None
}

/// Why a request's body cannot be read as it came, judged from its head: a content
/// coding other than `identity` (RFC 9110, 8.4: the endpoint undoes none, so a gzip
/// body would be read as a malformed message), or a transfer coding other than
/// `chunked` (RFC 9112, 6.1), which hyper hands over still coded. A layer in front that
/// decodes the body (tower-http's `RequestDecompressionLayer`) removes the header, and
/// the body is read.
fn coding_refusal(headers: &axum::http::HeaderMap) -> Option<(StatusCode, &'static str)> {
    use axum::http::header::{CONTENT_ENCODING, TRANSFER_ENCODING};
    if !only_codings(headers, &CONTENT_ENCODING, "identity") {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request content encoding not supported: send the body unencoded",
        ));
    }
    if !only_codings(headers, &TRANSFER_ENCODING, "chunked") {
        return Some((
            StatusCode::NOT_IMPLEMENTED,
            "request transfer coding not supported: only chunked is",
        ));
    }
    None
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
