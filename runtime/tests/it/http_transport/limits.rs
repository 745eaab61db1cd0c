//! The limits an HTTP client meets: a request head or body that takes too long, a body
//! past its size, connections past their caps, bodies on their way past their shared
//! budget, and a client that stops reading its answers.

use telepact::http::{self, HttpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{
    big_answer_server, post, post_chunked, read_until_closed, send_and_read, serve_app, start,
    start_serving,
};

#[tokio::test]
async fn a_request_head_that_does_not_arrive_in_time_closes_the_connection() {
    let serve = http::ServeOptions::default().header_timeout(std::time::Duration::from_millis(200));
    let (port, _stop) = start_serving(HttpOptions::default(), serve).await;
    let (_, closed) = send_and_read(port, b"POST /api/telepact HTTP/1.1\r\nHost: x\r\n").await;
    assert!(
        closed,
        "the server closes a connection whose head never ends"
    );

    // So are one that sends nothing and one that stops before the server can tell
    // HTTP/1 (`POST`) from HTTP/2 (`PRI * HTTP/2.0`).
    let (_, closed) = send_and_read(port, b"").await;
    assert!(closed, "a silent connection is closed");
    let (_, closed) = send_and_read(port, b"P").await;
    assert!(
        closed,
        "a connection that never shows its protocol is closed"
    );

    // A keep-alive connection that sends nothing more is closed the same way.
    let body = r#"[{}, {"fn.ping_": {}}]"#;
    let request = format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (answer, closed) = send_and_read(port, request.as_bytes()).await;
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(closed, "an idle keep-alive connection is closed");
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let options = HttpOptions::default().body_timeout(std::time::Duration::from_millis(200));
    let (port, _stop) = start_serving(options, http::ServeOptions::default()).await;
    let mut slow = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    slow.write_all(b"POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{}, ")
        .await
        .expect("writes");
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), slow.read(&mut answer))
        .await
        .expect("answered before the client gives up")
        .expect("reads");
    let answer = String::from_utf8_lossy(&answer[..read]).to_lowercase();
    assert!(answer.starts_with("http/1.1 408"), "{answer}");
    assert!(
        answer.contains("request body did not arrive in time"),
        "{answer}"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let (port, stop) = start(HttpOptions::default().body_limit(64).path("/rpc")).await;
    let big = format!(
        r#"[{{"@id_": "{}"}}, {{"fn.ping_": {{}}}}]"#,
        "x".repeat(100)
    );
    let (head, _) = post(port, "/rpc", big.as_bytes()).await;
    assert!(head.starts_with("http/1.1 413"), "{head}");
    let (head, _) = post(port, "/rpc", br#"[{}, {"fn.ping_": {}}]"#).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    // Without a length to judge from, the body is refused once it passes the limit.
    let response = post_chunked(
        port,
        "/rpc",
        &[&big.as_bytes()[..50], &big.as_bytes()[50..]],
    )
    .await;
    assert!(response.starts_with("http/1.1 413"), "{response}");
    // A client that waits for `100 Continue` before sending a body past the limit is
    // refused at once, not told to go ahead.
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let head = "POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\
                Expect: 100-continue\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("writes");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let response = String::from_utf8_lossy(&response).to_lowercase();
    assert!(response.starts_with("http/1.1 413"), "{response}");
    let _ = stop.send(());
}

/// Connections that send nothing, from one address, hold at most its limit: past it a
/// connection is closed unread, and one closing makes room again.
#[tokio::test]
async fn one_address_holds_at_most_its_connections() {
    one_client_past_a_limit(http::ServeOptions::default().connections_per_address(Some(2))).await;
}

/// Connections from every address count toward the server's limit: a client with many
/// addresses cannot take every file descriptor.
#[tokio::test]
async fn the_server_holds_at_most_its_connections_in_all() {
    assert!(
        http::ServeOptions::default().max_connections.is_some(),
        "bounded by default, below the file descriptors"
    );
    let serve = http::ServeOptions::default()
        .connections_per_address(None)
        .max_connections(Some(2));
    one_client_past_a_limit(serve).await;
}

/// With `serve` allowing two connections: a third is closed unread, and room comes
/// back when one closes.
async fn one_client_past_a_limit(serve: http::ServeOptions) {
    let (port, stop) = start_serving(HttpOptions::default(), serve).await;
    let connect = || TcpStream::connect(("127.0.0.1", port));
    let (first, _second) = (
        connect().await.expect("connects"),
        connect().await.expect("connects"),
    );
    let mut third = connect().await.expect("the kernel accepts it");
    let mut byte = [0u8; 1];
    let closed =
        tokio::time::timeout(std::time::Duration::from_secs(5), third.read(&mut byte)).await;
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "the third was closed unread: {closed:?}"
    );
    drop(first);
    // Room again once the server has seen the first one go.
    let mut answered = false;
    for _ in 0..50 {
        let mut stream = connect().await.expect("connects");
        let body = br#"[{}, {"fn.ping_": {}}]"#;
        let head = format!(
            "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body).await;
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        if response.starts_with(b"HTTP/1.1 200") {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(answered, "a connection was answered once the first closed");
    let _ = stop.send(());
}

/// Bodies still on their way share one budget of memory in the process: a body that
/// would take more than is left is answered 503 at once, and its room comes back when
/// the body that held it ends.
#[tokio::test]
async fn bodies_on_their_way_share_a_budget_of_memory() {
    // Most of the budget for one body, so that tests running beside this one fit in
    // what is left.
    let limit = 200 * 1024 * 1024;
    let options = HttpOptions::default()
        .body_limit(limit)
        .body_timeout(std::time::Duration::from_millis(500));
    let (port, _stop) = start(options).await;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[{{}},\r\n",
        http::DEFAULT_PATH
    );
    let open_body = || async {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        stream.write_all(head.as_bytes()).await.expect("writes");
        stream
    };
    let mut holding = open_body().await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (refused, _) = read_until_closed(&mut open_body().await).await;
    assert!(refused.starts_with("http/1.1 503"), "{refused}");
    assert!(
        refused.contains("too many request bodies on their way"),
        "{refused}"
    );
    // The first body never ends: 408, and its room is given back.
    let (late, _) = read_until_closed(&mut holding).await;
    assert!(late.starts_with("http/1.1 408"), "{late}");
    let (again, _) = read_until_closed(&mut open_body().await).await;
    assert!(again.starts_with("http/1.1 408"), "{again}");
}

#[tokio::test]
async fn a_client_that_stops_reading_its_answers_has_its_connection_dropped() {
    use std::time::Duration;

    const CALLS: usize = 40;
    let server = big_answer_server();
    let limit = Duration::from_millis(300);
    let serve = http::ServeOptions::default().header_timeout(limit);
    let app = http::router(server, &HttpOptions::default());
    let (port, _stop, _serving) = serve_app(app, serve).await;

    // Far more answer than the sockets' buffers hold, asked for at once (pipelined),
    // and nothing read for a while.
    let body = r#"[{}, {"fn.big": {}}]"#;
    let request = format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    stream
        .write_all(request.repeat(CALLS).as_bytes())
        .await
        .expect("writes");
    tokio::time::sleep(limit * 5).await;

    let mut received = Vec::new();
    let mut chunk = vec![0; 1 << 16];
    while let Ok(Ok(read @ 1..)) =
        tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk)).await
    {
        received.extend_from_slice(&chunk[..read]);
    }
    let answers = received
        .windows(b"HTTP/1.1 200".len())
        .filter(|window| window == b"HTTP/1.1 200")
        .count();
    assert!(
        answers < CALLS,
        "the server kept writing to a client that did not read: {answers} answers"
    );
}
