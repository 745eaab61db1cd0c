//! One load client for every protocol of bench/grpc.sh, so all are driven alike:
//! `connections` connections, one call in flight on each, for `seconds` seconds
//! (after one second of warm-up that is not counted). Prints one line:
//! `calls <n> req/s <r> p50_us <a> p99_us <b>`.
//!
//! ```text
//! loadgen http  URL BODY_FILE CONTENT_TYPE CONNECTIONS SECONDS   # Telepact over HTTP/1.1
//! loadgen grpc  URL myshift|items:BODY_FILE CONNECTIONS SECONDS  # tonic over HTTP/2
//! ```
//!
//! Every answer is checked (HTTP 200, gRPC OK) and a failure stops the run with an error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use telepact_grpc_bench::{
    Items, MY_SHIFT, MyShiftRequest, ROUND_TRIP, items_from_telepact_request,
};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::ProstCodec;

const WARM_UP: Duration = Duration::from_secs(1);

/// What one connection's loop measured: the latency of each counted call.
type Latencies = Vec<u32>;

#[derive(Clone)]
enum Call {
    MyShift,
    RoundTrip(Items),
}

async fn http_connection(
    url: hyper::Uri,
    body: Bytes,
    content_type: String,
    until: (Instant, Instant),
) -> Result<Latencies, String> {
    let authority = url.authority().ok_or("URL without host")?.clone();
    let stream = TcpStream::connect(authority.as_str())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let mut latencies = Vec::new();
    loop {
        let started = Instant::now();
        if started >= until.1 {
            return Ok(latencies);
        }
        let request = Request::post(url.clone())
            .header(hyper::header::HOST, authority.as_str())
            .header(hyper::header::CONTENT_TYPE, content_type.as_str())
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
        if started >= until.0 {
            latencies.push(micros(started.elapsed()));
        }
    }
}

async fn grpc_connection(
    url: String,
    call: Call,
    until: (Instant, Instant),
) -> Result<Latencies, String> {
    let channel: Channel = Endpoint::from_shared(url)
        .map_err(|e| e.to_string())?
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut grpc = tonic::client::Grpc::new(channel);
    let mut latencies = Vec::new();
    loop {
        let started = Instant::now();
        if started >= until.1 {
            return Ok(latencies);
        }
        grpc.ready().await.map_err(|e| e.to_string())?;
        match &call {
            Call::MyShift => {
                let mut request = tonic::Request::new(MyShiftRequest {});
                let metadata = request.metadata_mut();
                metadata.insert("username", "lead-baker".parse().map_err(|_| "metadata")?);
                metadata.insert("password", "opensesame".parse().map_err(|_| "metadata")?);
                let path = tonic::codegen::http::uri::PathAndQuery::from_static(MY_SHIFT);
                let codec =
                    ProstCodec::<MyShiftRequest, telepact_grpc_bench::MyShiftResponse>::default();
                let answer = grpc
                    .unary(request, path, codec)
                    .await
                    .map_err(|s| s.to_string())?;
                if answer.get_ref().employee_id.is_empty() {
                    return Err("empty answer".to_string());
                }
            }
            Call::RoundTrip(items) => {
                let request = tonic::Request::new(items.clone());
                let path = tonic::codegen::http::uri::PathAndQuery::from_static(ROUND_TRIP);
                let codec = ProstCodec::<Items, Items>::default();
                let answer = grpc
                    .unary(request, path, codec)
                    .await
                    .map_err(|s| s.to_string())?;
                if answer.get_ref().items.len() != items.items.len() {
                    return Err("the echo lost items".to_string());
                }
            }
        }
        if started >= until.0 {
            latencies.push(micros(started.elapsed()));
        }
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
    let start = Instant::now();
    let until = (
        start + WARM_UP,
        start + WARM_UP + Duration::from_secs(seconds),
    );
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let task = match mode {
            "http" => {
                let url: hyper::Uri = args[1].parse().map_err(|e| format!("URL: {e}"))?;
                let body = std::fs::read(&args[2]).map_err(|e| format!("{}: {e}", args[2]))?;
                tokio::spawn(http_connection(
                    url,
                    Bytes::from(body),
                    args[3].clone(),
                    until,
                ))
            }
            _ => {
                let call = match args[2].split_once(':') {
                    None if args[2] == "myshift" => Call::MyShift,
                    Some(("items", file)) => {
                        let body = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
                        Call::RoundTrip(items_from_telepact_request(&body)?)
                    }
                    _ => return Err(usage.to_string()),
                };
                tokio::spawn(grpc_connection(args[1].clone(), call, until))
            }
        };
        tasks.push(task);
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
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
        "calls {} req/s {rate:.0} p50_us {} p99_us {}",
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
