//! One load client for every protocol of bench/grpc.sh, so all are driven alike:
//! `connections` connections, one call in flight on each, for `seconds` seconds
//! (after one second of warm-up that is not counted). Prints one line:
//! `calls <n> all <m> req/s <r> p50_us <a> p99_us <b>`, where `all` counts the warm-up's
//! calls too (to divide a server's CPU time by).
//!
//! ```text
//! loadgen http  URL BODY_FILE CONTENT_TYPE CONNECTIONS SECONDS   # Telepact over HTTP/1.1
//! loadgen grpc  URL myshift|items:BODY_FILE CONNECTIONS SECONDS  # tonic over HTTP/2
//! ```
//!
//! Both modes send bytes encoded once and read each answer whole without decoding it, as
//! `h2load` does: the client's work per call is then the same kind for every protocol,
//! and a server is not favoured by a client that spends less of the shared cores on its
//! answers. (tonic's own client would clone, encode and decode the 1,200 items on every
//! call: work the Telepact side does not do, on the cores the servers share.) Every
//! answer is checked (HTTP 200; gRPC status 0 and a message frame) and a failure stops
//! the run with an error; the first gRPC answer is also decoded and checked whole.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, TE};
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use telepact_grpc_bench::{
    Items, MY_SHIFT, MyShiftRequest, MyShiftResponse, ROUND_TRIP, items_from_telepact_request,
};
use tokio::net::TcpStream;

const WARM_UP: Duration = Duration::from_secs(1);

/// What one connection's loop measured: the latency of each counted call, and how many
/// calls it made in all, warm-up included.
#[derive(Default)]
struct Measured {
    latencies: Vec<u32>,
    calls: u64,
}

impl Measured {
    /// Records a call that started at `started`, counted when past the warm-up.
    fn record(&mut self, started: Instant, until: Window) {
        self.calls += 1;
        if started >= until.0 {
            self.latencies.push(micros(started.elapsed()));
        }
    }
}

/// When a connection's loop starts counting its calls (`.0`, the warm-up's end) and when
/// it stops (`.1`).
type Window = (Instant, Instant);

async fn connect(url: &hyper::Uri) -> Result<TokioIo<TcpStream>, String> {
    let authority = url.authority().ok_or("URL without host")?;
    let stream = TcpStream::connect(authority.as_str())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(TokioIo::new(stream))
}

async fn http_connection(
    url: hyper::Uri,
    body: Bytes,
    content_type: String,
    until: Window,
) -> Result<Measured, String> {
    let authority = url.authority().ok_or("URL without host")?.clone();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(connect(&url).await?)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let mut measured = Measured::default();
    loop {
        let started = Instant::now();
        if started >= until.1 {
            return Ok(measured);
        }
        let request = Request::post(url.clone())
            .header(HOST, authority.as_str())
            .header(CONTENT_TYPE, content_type.as_str())
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = response.status();
        let answer = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        if !status.is_success() || answer.is_empty() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&answer)
            ));
        }
        measured.record(started, until);
    }
}

/// One gRPC call as the bytes of its request: the method's URL, its message framed once
/// (a flag byte for "not compressed", the length, the prost bytes) and its metadata.
#[derive(Clone)]
struct GrpcCall {
    url: hyper::Uri,
    frame: Bytes,
    metadata: &'static [(&'static str, &'static str)],
}

impl GrpcCall {
    fn new(
        base: &str,
        path: &str,
        message: &impl Message,
        metadata: &'static [(&'static str, &'static str)],
    ) -> Result<GrpcCall, String> {
        let payload = message.encode_to_vec();
        let length = u32::try_from(payload.len()).map_err(|_| "message too large")?;
        let mut frame = Vec::with_capacity(5 + payload.len());
        frame.push(0);
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(&payload);
        let url = format!("{}{path}", base.trim_end_matches('/'))
            .parse()
            .map_err(|e| format!("URL: {e}"))?;
        Ok(GrpcCall {
            url,
            frame: Bytes::from(frame),
            metadata,
        })
    }
}

type Http2Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

async fn http2_sender(url: &hyper::Uri) -> Result<Http2Sender, String> {
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), connect(url).await?)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Makes `call` once and returns the answer's message, without its 5-byte frame header.
async fn grpc_exchange(sender: &mut Http2Sender, call: &GrpcCall) -> Result<Bytes, String> {
    let mut request = Request::post(call.url.clone())
        .header(CONTENT_TYPE, "application/grpc")
        .header(TE, "trailers");
    for (name, value) in call.metadata {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(call.frame.clone()))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let (head, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?;
    // A status comes in the trailers, or in the headers of an answer without a body.
    let grpc_status = body
        .trailers()
        .and_then(|trailers| trailers.get("grpc-status"))
        .or_else(|| head.headers.get("grpc-status"))
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let bytes = body.to_bytes();
    match (head.status.is_success(), grpc_status.as_deref()) {
        (true, Some("0")) if bytes.len() >= 5 => Ok(bytes.slice(5..)),
        _ => Err(format!(
            "HTTP {}, grpc-status {grpc_status:?}, {} bytes",
            head.status,
            bytes.len()
        )),
    }
}

/// Decodes one answer to `call` whole and checks it: the shift has an employee, the echo
/// every item.
async fn check_grpc_answer(call: &GrpcCall, expected_items: Option<usize>) -> Result<(), String> {
    let mut sender = http2_sender(&call.url).await?;
    let answer = grpc_exchange(&mut sender, call).await?;
    let fits = match expected_items {
        None => MyShiftResponse::decode(answer)
            .map(|shift| !shift.employee_id.is_empty())
            .map_err(|e| e.to_string())?,
        Some(count) => Items::decode(answer)
            .map(|items| items.items.len() == count)
            .map_err(|e| e.to_string())?,
    };
    if fits {
        Ok(())
    } else {
        Err("the answer does not hold what was asked".to_string())
    }
}

async fn grpc_connection(call: GrpcCall, until: Window) -> Result<Measured, String> {
    let mut sender = http2_sender(&call.url).await?;
    let mut measured = Measured::default();
    loop {
        let started = Instant::now();
        if started >= until.1 {
            return Ok(measured);
        }
        grpc_exchange(&mut sender, &call).await?;
        measured.record(started, until);
    }
}

/// The gRPC call named on the command line (`myshift` or `items:BODY_FILE`), and the
/// number of items its answer must hold.
fn grpc_call(base: &str, name: &str) -> Result<(GrpcCall, Option<usize>), String> {
    const CREDENTIALS: &[(&str, &str)] = &[("username", "lead-baker"), ("password", "opensesame")];
    match name.split_once(':') {
        None if name == "myshift" => Ok((
            GrpcCall::new(base, MY_SHIFT, &MyShiftRequest {}, CREDENTIALS)?,
            None,
        )),
        Some(("items", file)) => {
            let body = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
            let items = items_from_telepact_request(&body)?;
            let count = items.items.len();
            Ok((GrpcCall::new(base, ROUND_TRIP, &items, &[])?, Some(count)))
        }
        _ => Err(format!("unknown gRPC call {name:?}")),
    }
}

fn micros(elapsed: Duration) -> u32 {
    u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX)
}

fn number(value: Option<&String>, what: &str) -> Result<u64, String> {
    value
        .ok_or(format!("missing {what}"))?
        .parse()
        .map_err(|_| format!("bad {what}"))
}

async fn run(args: Vec<String>) -> Result<String, String> {
    let usage = "usage: loadgen http URL BODY_FILE CONTENT_TYPE CONNECTIONS SECONDS | \
                 loadgen grpc URL myshift|items:BODY_FILE CONNECTIONS SECONDS";
    let mode = args.first().ok_or(usage)?.as_str();
    let (connections, seconds) = match mode {
        "http" => (
            number(args.get(4), "connections")?,
            number(args.get(5), "seconds")?,
        ),
        "grpc" => (
            number(args.get(3), "connections")?,
            number(args.get(4), "seconds")?,
        ),
        _ => return Err(usage.to_string()),
    };
    let grpc = match mode {
        "grpc" => {
            let (call, items) = grpc_call(&args[1], &args[2])?;
            check_grpc_answer(&call, items).await?;
            Some(call)
        }
        _ => None,
    };
    let start = Instant::now();
    let until = (
        start + WARM_UP,
        start + WARM_UP + Duration::from_secs(seconds),
    );
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let task = match &grpc {
            None => {
                let url: hyper::Uri = args[1].parse().map_err(|e| format!("URL: {e}"))?;
                let body = std::fs::read(&args[2]).map_err(|e| format!("{}: {e}", args[2]))?;
                tokio::spawn(http_connection(
                    url,
                    Bytes::from(body),
                    args[3].clone(),
                    until,
                ))
            }
            Some(call) => tokio::spawn(grpc_connection(call.clone(), until)),
        };
        tasks.push(task);
    }
    let mut latencies = Vec::new();
    let mut calls = 0;
    for task in tasks {
        let measured = task.await.map_err(|e| e.to_string())??;
        latencies.extend(measured.latencies);
        calls += measured.calls;
    }
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let rate = latencies.len() as f64 / seconds as f64;
    Ok(format!(
        "calls {} all {calls} req/s {rate:.0} p50_us {} p99_us {}",
        latencies.len(),
        percentile(50),
        percentile(99)
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}
