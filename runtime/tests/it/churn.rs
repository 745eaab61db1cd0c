//! Connections opened and ended by the hundred from many addresses, in every way a
//! client ends one, give back every place they took: afterwards the server admits as
//! many connections at once as its limits allow, in all and from one address. A
//! connection, or a WebSocket session, whose place was never given back would hold it
//! for good (`bench/churn.sh` measures the same of file descriptors and memory).
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::time::Duration;

use telepact::http::{self, HttpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::http_transport::{schema_server, serve_app};

const PING: &[u8] = br#"[{}, {"fn.ping_": {}}]"#;

/// Connections the server under test holds at once, in all and from one address.
const IN_ALL: usize = 8;
const PER_ADDRESS: usize = 2;

/// The client addresses churned from: 127.10.0.1 to this.
const ADDRESSES: u8 = 50;

/// How a churned connection ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// One call answered, then closed.
    Answered,
    /// Two calls answered on the connection, then closed.
    KeepAlive,
    /// Reset while its call is answered.
    ResetMidCall,
    /// Its side shut down once the request is sent, then its answer read.
    HalfClosed,
    /// Closed without sending a byte.
    Silent,
    /// Reset without sending a byte.
    SilentReset,
    /// Closed halfway through its request head.
    HalfHead,
    /// Reset halfway through its request body.
    HalfBody,
    /// A WebSocket session answered once, then reset.
    WebSocketDropped,
    /// A WebSocket session that closes properly.
    WebSocketClosed,
}

const ENDINGS: [Ending; 10] = [
    Ending::Answered,
    Ending::KeepAlive,
    Ending::ResetMidCall,
    Ending::HalfClosed,
    Ending::Silent,
    Ending::SilentReset,
    Ending::HalfHead,
    Ending::HalfBody,
    Ending::WebSocketDropped,
    Ending::WebSocketClosed,
];

async fn connect(port: u16, from: u8, reset_on_drop: bool) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 10, 0, from], 0)))?;
    if reset_on_drop {
        socket.set_zero_linger()?;
    }
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
}

fn post_head(announced: usize) -> Vec<u8> {
    format!("POST /api/telepact HTTP/1.1\r\nHost: churn\r\nContent-Length: {announced}\r\n\r\n")
        .into_bytes()
}

fn post() -> Vec<u8> {
    [post_head(PING.len()), PING.to_vec()].concat()
}

/// Reads one HTTP/1 answer whole; its status line's code.
async fn read_answer(stream: &mut TcpStream) -> std::io::Result<u16> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        received.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|length| length.trim().parse().ok())
        .unwrap_or(0);
    while received.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        received.extend_from_slice(&chunk[..read]);
    }
    let status = head.get(9..12).and_then(|code| code.parse().ok());
    status.ok_or_else(|| std::io::ErrorKind::InvalidData.into())
}

/// One masked client frame of `opcode`.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let length = u8::try_from(payload.len()).expect("a short payload");
    assert!(length < 126);
    let masked = payload
        .iter()
        .enumerate()
        .map(|(at, byte)| byte ^ mask[at % 4]);
    [vec![0x80 | opcode, 0x80 | length], mask.to_vec()]
        .into_iter()
        .flatten()
        .chain(masked)
        .collect()
}

/// Upgrades `stream` to a WebSocket session, sends one message and reads its answer;
/// `true` once answered.
async fn websocket_call(stream: &mut TcpStream) -> std::io::Result<bool> {
    let upgrade = "GET /api/telepact HTTP/1.1\r\nHost: churn\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(upgrade.as_bytes()).await?;
    if read_answer(stream).await? != 101 {
        return Ok(false);
    }
    stream.write_all(&client_frame(0x1, PING)).await?;
    let mut header = [0u8; 2];
    stream.read_exact(&mut header).await?;
    let mut answer = vec![0u8; usize::from(header[1] & 0x7f)];
    stream.read_exact(&mut answer).await?;
    Ok(header[0] & 0x0f == 0x1)
}

/// One connection from 127.10.0.`from`, ended as `ending` says; whether it got an
/// answer.
async fn churn_one(port: u16, from: u8, ending: Ending) -> std::io::Result<bool> {
    let resets = matches!(
        ending,
        Ending::ResetMidCall | Ending::SilentReset | Ending::HalfBody | Ending::WebSocketDropped
    );
    let mut stream = connect(port, from, resets).await?;
    match ending {
        Ending::Answered => {
            stream.write_all(&post()).await?;
            Ok(read_answer(&mut stream).await? == 200)
        }
        Ending::KeepAlive => {
            stream.write_all(&post()).await?;
            let first = read_answer(&mut stream).await?;
            stream.write_all(&post()).await?;
            Ok(first == 200 && read_answer(&mut stream).await? == 200)
        }
        Ending::ResetMidCall => stream.write_all(&post()).await.map(|()| false),
        Ending::HalfClosed => {
            stream.write_all(&post()).await?;
            stream.shutdown().await?;
            // Taken for a client gone while its call is answered, or answered first.
            Ok(read_answer(&mut stream)
                .await
                .is_ok_and(|status| status == 200))
        }
        Ending::Silent | Ending::SilentReset => Ok(false),
        Ending::HalfHead => stream.write_all(&post()[..20]).await.map(|()| false),
        Ending::HalfBody => {
            let half = [post_head(1000), PING[..10].to_vec()].concat();
            stream.write_all(&half).await.map(|()| false)
        }
        Ending::WebSocketDropped => websocket_call(&mut stream).await,
        Ending::WebSocketClosed => {
            let answered = websocket_call(&mut stream).await?;
            stream
                .write_all(&client_frame(0x8, &1000u16.to_be_bytes()))
                .await?;
            Ok(answered)
        }
    }
}

/// Holds `IN_ALL` connections at once, `PER_ADDRESS` from each of a few addresses, each
/// answered; `false` when one was refused or went unanswered.
async fn all_admitted_at_once(port: u16) -> bool {
    let mut held = Vec::new();
    for at in 0..IN_ALL {
        let from = 200 + u8::try_from(at / PER_ADDRESS).expect("a few addresses");
        let Ok(mut stream) = connect(port, from, false).await else {
            return false;
        };
        let answered = match stream.write_all(&post()).await {
            Ok(()) => tokio::time::timeout(Duration::from_secs(2), read_answer(&mut stream)).await,
            Err(_) => return false,
        };
        if !matches!(answered, Ok(Ok(200))) {
            return false;
        }
        held.push(stream);
    }
    true
}

#[tokio::test]
async fn churned_connections_and_sessions_give_back_their_places() {
    let serve = http::ServeOptions::default()
        .max_connections(Some(IN_ALL))
        .connections_per_address(Some(PER_ADDRESS));
    let app = http::router(schema_server(), &HttpOptions::default());
    let (port, stop, _) = serve_app(app, serve).await;
    let mut answered = 0;
    for round in 0..500u16 {
        let ending = ENDINGS[usize::from(round) % ENDINGS.len()];
        let from = u8::try_from(round % u16::from(ADDRESSES)).expect("an address") + 1;
        // A connection the server has not yet seen end may hold the place the next
        // one needs: that one is refused, and counted as unanswered.
        if let Ok(Ok(true)) =
            tokio::time::timeout(Duration::from_secs(5), churn_one(port, from, ending)).await
        {
            answered += 1;
        }
    }
    assert!(
        answered >= 200,
        "{answered} of 500 churned connections answered"
    );
    let mut admitted = false;
    for _ in 0..100 {
        admitted = all_admitted_at_once(port).await;
        if admitted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        admitted,
        "{IN_ALL} connections, {PER_ADDRESS} an address, held and answered at once"
    );
    let _ = stop.send(());
}

/// A client that closes its session, after a message or while one is answered, gets a
/// close frame back (RFC 6455, 5.5.1) before the connection ends: the session used to
/// end without one, which a browser reports as an abnormal closure (1006).
#[tokio::test]
async fn a_session_the_client_closes_is_answered_with_a_close_frame() {
    let app = http::router(schema_server(), &HttpOptions::default());
    let (port, stop, _) = serve_app(app, http::ServeOptions::default()).await;
    for while_answering in [false, true] {
        let mut stream = connect(port, 1, false).await.expect("connects");
        assert!(websocket_call(&mut stream).await.expect("a session"));
        let close = client_frame(0x8, &1000u16.to_be_bytes());
        if while_answering {
            stream
                .write_all(&[client_frame(0x1, PING), close].concat())
                .await
                .expect("sent");
        } else {
            stream.write_all(&close).await.expect("sent");
        }
        let mut received = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut received));
        assert!(
            matches!(read.await, Ok(Ok(_))),
            "the server ended the connection"
        );
        // An answer first, maybe, then the close frame echoing the client's code.
        let close_at = received.windows(4).position(|w| w == [0x88, 2, 0x03, 0xe8]);
        assert!(close_at.is_some(), "{while_answering}: {received:?}");
    }
    let _ = stop.send(());
}
