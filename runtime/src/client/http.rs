//! The HTTP transport: each request is one POST.

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};

use super::error::ClientError;
use super::transport::{DEFAULT_RESPONSE_LIMIT, Transport, TransportError};
use crate::binary::is_msgpack;
use crate::router::BoxFuture;

/// POSTs each request to one URL, with `Content-Type: application/json` or (for
/// MessagePack) `application/octet-stream`, and returns the response body. A
/// non-success HTTP status (a redirect included) is a transport error: following a
/// 307 or 308 would re-send the body, and with it `@auth_`, to wherever it points.
/// So is a body over the response limit ([`DEFAULT_RESPONSE_LIMIT`] unless set with
/// [`response_limit`](Self::response_limit)), which is not read on: a server cannot
/// make the client hold more than that.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    url: reqwest::Url,
    response_limit: usize,
    /// Sent with every request; sensitive values, which `Debug` leaves out.
    headers: HeaderMap,
}

impl HttpTransport {
    /// A transport with a `reqwest` client that follows no redirects (with
    /// `http-client-rustls`: TLS on aws-lc-rs, trusting the platform's root certificates).
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] when `url` does not parse or is not `http://` or
    /// `https://` (`https://` only with `http-client-rustls`), or when the HTTP client
    /// cannot be built (with `http-client-rustls`, its TLS set-up too: see
    /// [`platform_config`](super::tls::platform_config)).
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let url = parse(url, cfg!(feature = "http-client-rustls"))?;
        #[cfg(feature = "http-client-rustls")]
        let builder =
            reqwest::Client::builder().tls_backend_preconfigured(super::tls::config_for(&url)?);
        #[cfg(not(feature = "http-client-rustls"))]
        let builder = reqwest::Client::builder();
        Self::built(builder, url)
    }

    /// An HTTPS transport that trusts only the CA certificates in `ca_pem` (a private
    /// CA, or a self-signed server certificate), not the system's.
    #[cfg(feature = "http-client-rustls")]
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] when `ca_pem` holds no certificate or one that does not
    /// parse (see [`config_trusting`](super::tls::config_trusting)), when `url` does not
    /// parse or is not `http://` or `https://`, or when the HTTP client cannot be built.
    pub fn trusting(url: &str, ca_pem: &[u8]) -> Result<Self, ClientError> {
        let config = super::tls::config_trusting(ca_pem)?;
        Self::built(
            reqwest::Client::builder().tls_backend_preconfigured(config),
            parse(url, true)?,
        )
    }

    fn built(builder: reqwest::ClientBuilder, url: reqwest::Url) -> Result<Self, ClientError> {
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ClientError::Transport(error.into()))?;
        Ok(HttpTransport {
            client,
            url,
            response_limit: DEFAULT_RESPONSE_LIMIT,
            headers: HeaderMap::new(),
        })
    }

    /// A transport sharing an existing `reqwest` client (connection pool, TLS setup).
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: a client that
    /// follows redirects re-sends each request's credentials to the new location.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] when `url` does not parse or is not `http://` or
    /// `https://`.
    pub fn with_client(client: reqwest::Client, url: &str) -> Result<Self, ClientError> {
        Ok(HttpTransport {
            client,
            // The caller's reqwest client may speak TLS through reqwest's own features.
            url: parse(url, true)?,
            response_limit: DEFAULT_RESPONSE_LIMIT,
            headers: HeaderMap::new(),
        })
    }

    /// Sets the largest response body read, in bytes.
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes;
        self
    }

    /// Sends `name: value` with every request: an API key, say, that an adapter such as
    /// telepact-auth's reads from the transport. The value is marked sensitive (left
    /// out of `Debug`); a header of the same name that an authoriser sets for a call
    /// takes its place for that call.
    #[must_use]
    pub fn header(mut self, name: HeaderName, mut value: HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.append(name, value);
        self
    }
}

/// Shows the URL with what may be a credential as `***` (a password, a user name alone,
/// the query) and the headers' names, never their values.
impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("client", &self.client)
            .field("url", &redacted_url(&self.url).as_str())
            .field("response_limit", &self.response_limit)
            .field("headers", &self.headers)
            .finish()
    }
}

/// Shows as `***` what in `url` may be a credential: the password of `user:password@`,
/// a user name alone (which may be a token), and the query (`?api_key=...`).
pub(super) fn redact(url: &mut reqwest::Url) {
    // Setting the user part fails only for URLs that cannot have one.
    let _ = match url.password() {
        Some(_) => url.set_password(Some("***")),
        None if !url.username().is_empty() => url.set_username("***"),
        None => Ok(()),
    };
    if url.query().is_some() {
        url.set_query(Some("***"));
    }
}

/// A copy of `url` [`redact`]ed, to show.
pub(super) fn redacted_url(url: &reqwest::Url) -> reqwest::Url {
    let mut url = url.clone();
    redact(&mut url);
    url
}

/// `error` with its URL redacted: a caller may log it.
pub(super) fn redacted(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        redact(url);
    }
    error
}

/// A URL the transport could never send to, refused when it is made: reqwest builds a
/// client for any URL and refuses its scheme only on each call (`localhost:8002/api`
/// parses with the scheme `localhost`).
#[derive(Debug, thiserror::Error)]
enum UnusableUrl {
    #[error("the URL's scheme `{0}` is not http or https (write http://host:port/path)")]
    NotHttp(String),
    #[error("an https:// URL needs telepact's `http-client-rustls` feature")]
    HttpsWithoutTls,
}

/// `url` parsed, refused unless its scheme is `http`, or `https` where the client
/// speaks TLS (`with_tls`).
fn parse(url: &str, with_tls: bool) -> Result<reqwest::Url, ClientError> {
    let parsed = reqwest::Url::parse(url).map_err(|error| ClientError::Transport(error.into()))?;
    check_scheme(parsed.scheme(), with_tls)
        .map_err(|error| ClientError::Transport(error.into()))?;
    Ok(parsed)
}

fn check_scheme(scheme: &str, with_tls: bool) -> Result<(), UnusableUrl> {
    match scheme {
        "http" => Ok(()),
        "https" if with_tls => Ok(()),
        "https" => Err(UnusableUrl::HttpsWithoutTls),
        other => Err(UnusableUrl::NotHttp(other.to_string())),
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        self.send_with_headers(request, HeaderMap::new())
    }

    /// Adds `headers` (for example an authoriser's `Authorization`) to the POST.
    fn send_with_headers(
        &self,
        request: Vec<u8>,
        headers: HeaderMap,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let content_type = if is_msgpack(&request) {
            "application/octet-stream"
        } else {
            "application/json"
        };
        let mut post = self.client.post(self.url.clone());
        if !self.headers.is_empty() {
            post = post.headers(self.headers.clone());
        }
        let pending = post
            .headers(headers)
            .header(CONTENT_TYPE, content_type)
            .body(request)
            .send();
        let limit = self.response_limit;
        Box::pin(async move {
            let response = pending.await.map_err(redacted)?;
            if !response.status().is_success() {
                return Err(refused(response).await);
            }
            read_limited(response, limit).await
        })
    }
}

/// How much of a refusing server's answer its error shows.
const SHOWN_ANSWER_BYTES: usize = 512;

/// How long a refusing server's answer is read for its error: the status is the error,
/// and an answer that stalls must not turn it into the call's timeout.
const SHOWN_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The error for an answer of a non-success status: the status and, where the server
/// said why, the start of what it said, on one line (control characters escaped, as the
/// text may reach a log). The runtime's own 404 names the path it serves, so a client
/// sent to the wrong one learns where to go. Only the first bytes are read, and only
/// what comes within [`SHOWN_ANSWER_WAIT`].
async fn refused(mut response: reqwest::Response) -> TransportError {
    let status = response.status();
    let mut start = Vec::new();
    let read_start = async {
        while start.len() <= SHOWN_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => start.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
    };
    // Past the wait, what has come is shown, marked as cut.
    let stalled = tokio::time::timeout(SHOWN_ANSWER_WAIT, read_start)
        .await
        .is_err();
    let mut said = one_line_excerpt(&String::from_utf8_lossy(&start));
    if stalled && !said.is_empty() && !said.ends_with('…') {
        said.push('…');
    }
    if said.is_empty() {
        format!("the server answered HTTP {status}").into()
    } else {
        format!("the server answered HTTP {status}: {said}").into()
    }
}

/// `text` trimmed, its control characters escaped, cut at a character boundary after
/// [`SHOWN_ANSWER_BYTES`] (with `…` where it was cut).
fn one_line_excerpt(text: &str) -> String {
    let text = text.trim();
    let mut end = text.len().min(SHOWN_ANSWER_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut shown: String = text[..end]
        .chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default());
            let plain = (!c.is_control()).then_some(c);
            escaped.into_iter().flatten().chain(plain)
        })
        .collect();
    if end < text.len() {
        shown.push('…');
    }
    shown
}

/// The response body, read chunk by chunk into one buffer, refused once it passes
/// `limit` bytes (at once when its `Content-Length` says so).
pub(super) async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, TransportError> {
    let too_large = || format!("the response is larger than the limit of {limit} bytes").into();
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await.map_err(redacted)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_https_url_without_tls_names_the_feature_that_brings_it() {
        let refused = check_scheme("https", false).map_err(|error| error.to_string());
        assert_eq!(
            refused,
            Err("an https:// URL needs telepact's `http-client-rustls` feature".to_string())
        );
        assert!(check_scheme("https", true).is_ok());
        assert!(check_scheme("http", false).is_ok());
    }
}
