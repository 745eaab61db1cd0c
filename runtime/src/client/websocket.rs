//! The client's WebSocket transport: one connection, one Telepact message per
//! WebSocket message (text for JSON, binary for MessagePack), calls answered in order.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::transport::{Transport, TransportError};
use crate::router::BoxFuture;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Sends requests over one WebSocket connection (`ws://host:port/api/telepact`), one
/// call at a time. Cheap to clone: clones share the connection.
#[derive(Clone)]
pub struct WebSocketTransport {
    connection: Arc<Mutex<Connection>>,
}

struct Connection {
    socket: Socket,
    /// Answers still to come for calls given up on (their future was dropped, by a
    /// timeout say): read and dropped before the next call, so answers stay in step.
    owed: usize,
}

impl WebSocketTransport {
    /// Opens the connection.
    pub async fn connect(url: &str) -> Result<Self, TransportError> {
        let (socket, _response) = tokio_tungstenite::connect_async(url).await?;
        Ok(WebSocketTransport {
            connection: Arc::new(Mutex::new(Connection { socket, owed: 0 })),
        })
    }
}

impl std::fmt::Debug for WebSocketTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketTransport").finish_non_exhaustive()
    }
}

impl Transport for WebSocketTransport {
    fn send(&self, request: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let connection = Arc::clone(&self.connection);
        Box::pin(async move {
            let mut connection = connection.lock().await;
            while connection.owed > 0 {
                receive(&mut connection.socket).await?;
                connection.owed -= 1;
            }
            let frame = if crate::binary::is_msgpack(&request) {
                Frame::binary(request)
            } else {
                Frame::text(String::from_utf8(request)?)
            };
            connection.socket.send(frame).await?;
            connection.owed += 1;
            let answer = receive(&mut connection.socket).await?;
            connection.owed -= 1;
            Ok(answer)
        })
    }
}

/// The next text or binary message's bytes.
async fn receive(socket: &mut Socket) -> Result<Vec<u8>, TransportError> {
    loop {
        match socket.next().await {
            Some(Ok(Frame::Text(text))) => return Ok(text.as_bytes().to_vec()),
            Some(Ok(Frame::Binary(bytes))) => return Ok(bytes.to_vec()),
            Some(Ok(Frame::Ping(_) | Frame::Pong(_) | Frame::Frame(_))) => continue,
            Some(Ok(Frame::Close(_))) | None => {
                return Err("the WebSocket connection closed".into());
            }
            Some(Err(e)) => return Err(Box::new(e)),
        }
    }
}
