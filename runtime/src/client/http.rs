//! The HTTP transport: each request is one POST.

use reqwest::header::{CONTENT_TYPE, HeaderMap};

use super::error::ClientError;
use super::transport::{Transport, TransportError};
use crate::binary::is_msgpack;
use crate::router::BoxFuture;

/// POSTs each request to one URL, with `Content-Type: application/json` or (for
/// MessagePack) `application/octet-stream`, and returns the response body. A
/// non-success HTTP status (a redirect included) is a transport error: following a
/// 307 or 308 would re-send the body, and with it `@auth_`, to wherever it points.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpTransport {
    /// A transport with a `reqwest` client that follows no redirects.
    pub fn new(url: &str) -> Result<Self, ClientError> {
        Self::built(reqwest::Client::builder(), url)
    }

    /// An HTTPS transport that trusts only the CA certificates in `ca_pem` (a private
    /// CA, or a self-signed server certificate), not the system's.
    #[cfg(feature = "http-client-rustls")]
    pub fn trusting(url: &str, ca_pem: &[u8]) -> Result<Self, ClientError> {
        let roots = reqwest::Certificate::from_pem_bundle(ca_pem)
            .map_err(|error| ClientError::Transport(error.into()))?;
        Self::built(reqwest::Client::builder().tls_certs_only(roots), url)
    }

    fn built(builder: reqwest::ClientBuilder, url: &str) -> Result<Self, ClientError> {
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| ClientError::Transport(error.into()))?;
        Self::with_client(client, url)
    }

    /// A transport sharing an existing `reqwest` client (connection pool, TLS setup).
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: a client that
    /// follows redirects re-sends each request's credentials to the new location.
    pub fn with_client(client: reqwest::Client, url: &str) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(url).map_err(|error| ClientError::Transport(error.into()))?;
        Ok(HttpTransport { client, url })
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
        let pending = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .header(CONTENT_TYPE, content_type)
            .body(request)
            .send();
        Box::pin(async move {
            let response = pending.await?.error_for_status()?;
            if !response.status().is_success() {
                return Err(format!("the server answered HTTP {}", response.status()).into());
            }
            Ok(response.bytes().await?.to_vec())
        })
    }
}
