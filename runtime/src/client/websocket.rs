//! The client's WebSocket transport: one connection, one Telepact message per
//! WebSocket message (text for JSON, binary for MessagePack), calls answered in order.
//! `ws://` always; `wss://` with the `websocket-client-rustls` feature, on the same TLS
//! as the HTTPS client ([`super::tls`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::transport::{DEFAULT_RESPONSE_LIMIT, Transport, TransportError};
use crate::router::BoxFuture;

/// The connection under the WebSocket: plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

/// Sends requests over a WebSocket connection (`ws://host:port/api/telepact`, or
/// `wss://` with the `websocket-client-rustls` feature), one call at a time. Cheap to
/// clone: clones share the connection.
///
/// A connection that breaks is not used again: the call it was carrying fails (it may
/// or may not have been handled, so it is not sent twice), and the next call opens a
/// new connection. So does the call after one given up on (a timeout), whose answer
/// must not reach it. One the server closed while no call was waiting (a restart, an idle
/// limit) is noticed before the next call is sent, which then goes over a new one; so is
/// one on which the server sent a message no call asked for, whose later messages would
/// otherwise answer the wrong calls. (One sent while a call waits is taken as its
/// answer: [`ClientOptions::correlation_ids`](crate::ClientOptions) tells them apart.)
///
/// An answer over the response limit ([`DEFAULT_RESPONSE_LIMIT`] unless set with
/// [`WebSocketOptions::response_limit`]) fails its call: a server cannot make the client
/// hold more than that.
#[derive(Clone)]
pub struct WebSocketTransport {
    shared: Arc<Shared>,
}

struct Shared {
    url: String,
    options: WebSocketOptions,
    /// `None` once the connection broke, until the next call opens another.
    connection: Mutex<Option<Connection>>,
}

struct Connection {
    socket: Socket,
    /// A call is under way on it, or was given up on (its future dropped, by a timeout
    /// say) before its answer came. Such a connection is not used again: its answer, or
    /// a request frame left half sent or still buffered, would reach the next call.
    in_call: bool,
}

/// Frames `still_open` reads at most without waiting; a server sending pings without
/// pause cannot hold a call before it is sent.
const FRAMES_BEFORE_A_CALL: usize = 64;

/// How a [`WebSocketTransport`] opens its connections: headers for each upgrade
/// request, and for `wss://` the certificates to trust.
///
/// ```no_run
/// # async fn run() -> Result<(), telepact::client::TransportError> {
/// use http::{HeaderValue, header::AUTHORIZATION};
/// use telepact::client::{WebSocketOptions, WebSocketTransport};
///
/// let token = HeaderValue::from_static("Bearer eyJhbGciOi...");
/// let options = WebSocketOptions::default().header(AUTHORIZATION, token);
/// let transport =
///     WebSocketTransport::connect_with("ws://127.0.0.1:8002/api/telepact", options).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WebSocketOptions {
    headers: http::HeaderMap,
    trust: Trust,
    response_limit: usize,
    connect_timeout: Duration,
}

/// How long opening a connection (TCP, TLS and the upgrade) may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for WebSocketOptions {
    fn default() -> Self {
        WebSocketOptions {
            headers: http::HeaderMap::new(),
            trust: Trust::default(),
            response_limit: DEFAULT_RESPONSE_LIMIT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

impl WebSocketOptions {
    /// Sends `name: value` with every upgrade request: the first, and each made when
    /// a broken connection is replaced. For credentials an adapter reads from the
    /// upgrade, such as `Authorization` or an API key; the value is marked sensitive.
    #[must_use]
    pub fn header(mut self, name: http::HeaderName, mut value: http::HeaderValue) -> Self {
        value.set_sensitive(true);
        self.headers.append(name, value);
        self
    }

    /// Sets the largest answer read, in bytes ([`DEFAULT_RESPONSE_LIMIT`] unless set),
    /// as the HTTP transport's `response_limit` does: a call whose answer is larger
    /// fails, the answer not read on, and its connection is not used again.
    #[must_use]
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes;
        self
    }

    /// Sets how long opening a connection may take, from the TCP connection to the
    /// server's answer to the upgrade ([`DEFAULT_CONNECT_TIMEOUT`] unless set): the
    /// first, which no call's timeout covers, and each made when a broken connection
    /// is replaced, within the call's timeout too.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Trusts only the CA certificates in `ca_pem` (a private CA, or a self-signed
    /// server certificate) for `wss://`, not the platform's roots.
    #[cfg(feature = "websocket-client-rustls")]
    #[must_use]
    pub fn trusting(mut self, ca_pem: &[u8]) -> Self {
        self.trust = Trust::Pem(ca_pem.to_vec());
        self
    }
}

impl std::fmt::Debug for WebSocketOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header names only: their values may be credentials.
        f.debug_struct("WebSocketOptions")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("trust", &self.trust)
            .field("response_limit", &self.response_limit)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// How a `wss://` connection checks the server's certificate.
#[derive(Clone, Default)]
enum Trust {
    /// The platform's root certificates, as a browser would.
    #[default]
    Platform,
    /// Only the CA certificates in this PEM text.
    #[cfg_attr(not(feature = "websocket-client-rustls"), allow(dead_code))]
    Pem(Vec<u8>),
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trust::Platform => "the platform's roots",
            Trust::Pem(_) => "the given CA certificates",
        })
    }
}

impl WebSocketTransport {
    /// Opens the connection: `ws://`, or `wss://` trusting the platform's root
    /// certificates (feature `websocket-client-rustls`).
    ///
    /// # Errors
    ///
    /// As [`connect_with`](Self::connect_with).
    pub async fn connect(url: &str) -> Result<Self, TransportError> {
        Self::connect_with(url, WebSocketOptions::default()).await
    }

    /// Opens a `wss://` connection trusting only the CA certificates in `ca_pem` (a
    /// private CA, or a self-signed server certificate), not the system's roots.
    #[cfg(feature = "websocket-client-rustls")]
    ///
    /// # Errors
    ///
    /// As [`connect_with`](Self::connect_with); also when `ca_pem` holds no usable
    /// certificate (see [`config_trusting`](super::tls::config_trusting)).
    pub async fn trusting(url: &str, ca_pem: &[u8]) -> Result<Self, TransportError> {
        Self::connect_with(url, WebSocketOptions::default().trusting(ca_pem)).await
    }

    /// Opens the connection as `options` say. The first connection is opened at once,
    /// so a wrong URL, an absent server or a refused upgrade fails here, as does a
    /// connection not open within the options' connect timeout.
    ///
    /// # Errors
    ///
    /// A [`TransportError`] when `url` is not a `ws://` or `wss://` URL with a host,
    /// the TCP connection cannot be made, the TLS set-up or handshake fails (a `wss://`
    /// URL without the `websocket-client-rustls` feature fails here too), the server
    /// refuses the WebSocket upgrade, or all of it takes longer than the options'
    /// connect timeout.
    pub async fn connect_with(
        url: &str,
        options: WebSocketOptions,
    ) -> Result<Self, TransportError> {
        let connection = Connection::open(url, &options).await?;
        Ok(WebSocketTransport {
            shared: Arc::new(Shared {
                url: url.to_string(),
                options,
                connection: Mutex::new(Some(connection)),
            }),
        })
    }
}

impl Connection {
    /// Opens a connection within the options' connect timeout: a host that drops the
    /// TCP connection's packets, or a server that never answers the upgrade, held
    /// `connect_with` for minutes or for ever.
    async fn open(url: &str, options: &WebSocketOptions) -> Result<Self, TransportError> {
        let timeout = options.connect_timeout;
        match tokio::time::timeout(timeout, Self::open_unbounded(url, options)).await {
            Ok(opened) => opened,
            Err(_) => {
                Err(format!("the WebSocket connection was not open within {timeout:?}").into())
            }
        }
    }

    async fn open_unbounded(url: &str, options: &WebSocketOptions) -> Result<Self, TransportError> {
        let mut request = url.into_client_request()?;
        for (name, value) in &options.headers {
            request.headers_mut().append(name, value.clone());
        }
        let uri = request.uri();
        // The errors name no more of the URL than its scheme: its user part or query
        // may be a credential, and a caller may log them.
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            scheme => {
                let scheme = scheme.unwrap_or("none");
                return Err(
                    format!("not a WebSocket URL (ws:// or wss://): scheme {scheme}").into(),
                );
            }
        };
        // An IPv6 address is written in brackets in a URL, and without them to connect.
        let host = uri
            .host()
            .ok_or("no host in the WebSocket URL")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        // Each call is one small frame each way: sent at once, not held back by Nagle.
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Io> = if secure {
            tls_stream(tcp, host, &options.trust).await?
        } else {
            Box::new(tcp)
        };
        // The frame limit too: tungstenite's own (16 MiB) refused an answer sent as one
        // frame, as servers send them, well within the message limit.
        let limit = Some(options.response_limit);
        let config = WebSocketConfig::default()
            .max_message_size(limit)
            .max_frame_size(limit);
        let (socket, _response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
        Ok(Connection {
            socket,
            in_call: false,
        })
    }

    /// The connection, unless a call was given up on it, or the server closed it (or it
    /// failed, or sent a message) while no answer was awaited. Looks only at what has
    /// already arrived, without waiting.
    fn still_open(mut self) -> Option<Self> {
        if self.in_call {
            return None;
        }
        for _ in 0..FRAMES_BEFORE_A_CALL {
            match self.socket.next().now_or_never() {
                None => return Some(self),
                Some(Some(Ok(Frame::Close(_))) | Some(Err(_)) | None) => return None,
                // A message no call asked for: the server's answers and the calls no
                // longer pair up in order, and skipping only the messages already here
                // left the rest to be taken as later calls' answers.
                Some(Some(Ok(Frame::Text(_) | Frame::Binary(_)))) => return None,
                // Pings and pongs.
                Some(Some(Ok(_))) => continue,
            }
        }
        Some(self)
    }

    /// Sends `frame` and reads its answer.
    async fn call(&mut self, frame: Frame) -> Result<Vec<u8>, TransportError> {
        self.in_call = true;
        self.socket.send(frame).await?;
        let answer = receive(&mut self.socket).await?;
        self.in_call = false;
        Ok(answer)
    }
}

/// TLS over `tcp` to `host`, offering only HTTP/1.1 by ALPN: the WebSocket handshake is
/// an HTTP/1.1 upgrade, and a server offered HTTP/2 as well would pick it.
#[cfg(feature = "websocket-client-rustls")]
async fn tls_stream(
    tcp: TcpStream,
    host: String,
    trust: &Trust,
) -> Result<Box<dyn Io>, TransportError> {
    let mut config = match trust {
        Trust::Platform => super::tls::platform_config()?,
        Trust::Pem(ca_pem) => super::tls::config_trusting(ca_pem)?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = rustls::pki_types::ServerName::try_from(host)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    Ok(Box::new(connector.connect(name, tcp).await?))
}

#[cfg(not(feature = "websocket-client-rustls"))]
async fn tls_stream(
    _tcp: TcpStream,
    _host: String,
    _trust: &Trust,
) -> Result<Box<dyn Io>, TransportError> {
    Err("wss:// needs the runtime's websocket-client-rustls feature".into())
}

impl std::fmt::Debug for WebSocketTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the URL: it may carry credentials in its user part or query.
        f.debug_struct("WebSocketTransport").finish_non_exhaustive()
    }
}

impl Transport for WebSocketTransport {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let shared = Arc::clone(&self.shared);
        Box::pin(async move {
            let frame = if crate::binary::is_msgpack(&request) {
                Frame::binary(request)
            } else {
                Frame::text(String::from_utf8(request)?)
            };
            let mut slot = shared.connection.lock().await;
            let connection = match slot.take().and_then(Connection::still_open) {
                Some(open) => slot.insert(open),
                None => slot.insert(Connection::open(&shared.url, &shared.options).await?),
            };
            let answer = connection.call(frame).await;
            if answer.is_err() {
                *slot = None;
            }
            answer
        })
    }
}

/// The next text or binary message's bytes.
async fn receive(socket: &mut Socket) -> Result<Vec<u8>, TransportError> {
    loop {
        match socket.next().await {
            Some(Ok(Frame::Text(text))) => return Ok(text.as_bytes().to_vec()),
            Some(Ok(Frame::Binary(bytes))) => return Ok(bytes.to_vec()),
            // A ping's pong leaves before the next frame is read: tungstenite queues one
            // for each ping, and a server that pings without pause and takes none of
            // them had them all held in memory.
            Some(Ok(Frame::Ping(_))) => {
                socket.flush().await?;
                tokio::task::consume_budget().await;
            }
            // The socket's reads count against the task's budget, so a server sending
            // pings without pause cannot keep the call's timeout from firing; each frame
            // counting too keeps a read buffer full of pings (thousands of frames) from
            // holding the worker until it is parsed.
            Some(Ok(Frame::Pong(_) | Frame::Frame(_))) => {
                tokio::task::consume_budget().await;
            }
            Some(Ok(Frame::Close(Some(close)))) => {
                let (code, reason) = (u16::from(close.code), close.reason);
                return Err(format!("the WebSocket connection closed ({code}: {reason})").into());
            }
            Some(Ok(Frame::Close(None))) | None => {
                return Err("the WebSocket connection closed".into());
            }
            Some(Err(e)) => return Err(Box::new(e)),
        }
    }
}
