//! One side of the HTTP throughput comparison driven by `bench/http.sh`.
//!
//! `http_throughput telepact|bare [--seconds N]` serves `POST /api` on 127.0.0.1 (a free
//! port), prints `READY <port>` once listening, and stops on Ctrl-C/SIGTERM or after `N`
//! seconds (default 60), so a forgotten process does not linger.
//!
//! - `telepact`: the runtime's axum router with a server for the benchmark schema
//!   (`shared/bench/data/benchmark.telepact.json`) whose `fn.roundTripTypical` echoes
//!   its `items`: parse, validate the call and the result, serialize. With `--typed`
//!   the echo is a typed route (serde types of the items, as a generated `Handler`
//!   registers), whose input is read and whose answer is written in one pass.
//! - `bare`: a plain axum handler that parses the body into a `serde_json::Value` and
//!   answers fixed bytes: the floor any JSON-over-HTTP server pays.
//!
//! `http_throughput body [--payload NAME] [--encoding json|binary|packed] [--schema-dir DIR
//! --request JSON]` prints a request body: by default `fn.roundTripTypical` with the
//! `typical/NAME` payload of `payloads.json` (`single` unless named), or `--request` (a
//! JSON message) for the schema in `--schema-dir`; in the binary encodings it is the
//! MessagePack request a binary client sends once it holds the server's encoding.
//!
//! `http_throughput inprocess --body FILE [--seconds N | --calls N] [--bare | --typed]`
//! calls the `telepact` server's `Server::process` with that body on one thread for `N` seconds
//! (default 5), or exactly `N` times, and prints `calls <n> mean_us <t>`: the floor for
//! the same work over HTTP. With `--bare` it parses and serialises the (JSON) body with
//! `serde_json` instead, the `process` bench's own floor. A fixed count suits
//! `valgrind --tool=callgrind`, whose instruction counts, unlike times, repeat from run
//! to run on a busy machine.
//!
//! Both servers run on the same multi-threaded tokio runtime (one worker per core).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use telepact::Server;
use telepact::binary::{BinaryEncoding, encode_request};
use telepact::http::{self, HttpOptions};
use telepact::schema::Schema;

#[path = "../benches/support/echo.rs"]
mod support;
use support::echo_router;

const PATH: &str = "/api";
/// What the bare server answers: the shape of the echo's answer to the `single` request.
const FIXED_ANSWER: &[u8] = br#"[{},{"Ok_":{"items":[{"accountId":100000,"customerName":"customer-0000","region":"na","unitPrice":19.75,"quantity":1}]}}]"#;

enum Mode {
    Telepact,
    Bare,
    Body,
    InProcess,
}

/// How `body` encodes the request.
#[derive(Clone, Copy)]
enum BodyEncoding {
    Json,
    Binary,
    Packed,
}

struct Args {
    mode: Mode,
    seconds: u64,
    /// `inprocess`: a fixed number of calls instead of `seconds`.
    calls: Option<u64>,
    payload: String,
    encoding: BodyEncoding,
    schema_dir: Option<PathBuf>,
    request: Option<String>,
    body: Option<PathBuf>,
    /// `inprocess`: bare `serde_json` instead of `Server::process`.
    bare: bool,
    /// `telepact`, `inprocess`: the typed echo instead of the echo of JSON values.
    typed: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("telepact") => Mode::Telepact,
        Some("bare") => Mode::Bare,
        Some("body") => Mode::Body,
        Some("inprocess") => Mode::InProcess,
        other => {
            return Err(format!(
                "expected telepact|bare|body|inprocess, got {other:?}"
            ));
        }
    };
    let mut parsed = Args {
        seconds: if matches!(mode, Mode::InProcess) {
            5
        } else {
            60
        },
        mode,
        calls: None,
        payload: "single".to_string(),
        encoding: BodyEncoding::Json,
        schema_dir: None,
        request: None,
        body: None,
        bare: false,
        typed: false,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => {
                let value = value()?;
                parsed.seconds = value
                    .parse()
                    .map_err(|_| format!("bad --seconds {value:?}"))?;
            }
            "--calls" => {
                let value = value()?;
                parsed.calls = Some(
                    value
                        .parse()
                        .map_err(|_| format!("bad --calls {value:?}"))?,
                );
            }
            "--payload" => parsed.payload = value()?,
            "--encoding" => {
                parsed.encoding = match value()?.as_str() {
                    "json" => BodyEncoding::Json,
                    "binary" => BodyEncoding::Binary,
                    "packed" => BodyEncoding::Packed,
                    other => return Err(format!("bad --encoding {other:?}")),
                }
            }
            "--schema-dir" => parsed.schema_dir = Some(PathBuf::from(value()?)),
            "--request" => parsed.request = Some(value()?),
            "--body" => parsed.body = Some(PathBuf::from(value()?)),
            "--bare" => parsed.bare = true,
            "--typed" => parsed.typed = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

fn data_dir() -> PathBuf {
    std::env::var_os("TELEPACT_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/data")
        })
}

fn read_data(name: &str) -> Result<String, String> {
    let path = data_dir().join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn benchmark_schema() -> Result<Schema, String> {
    Schema::from_text(&read_data("benchmark.telepact.json")?)
        .map_err(|e| format!("benchmark schema: {e}"))
}

/// The request `body` prints (see the module documentation).
fn request_body(args: &Args) -> Result<Vec<u8>, String> {
    let (schema, request) = match (&args.schema_dir, &args.request) {
        (Some(dir), Some(request)) => {
            let schema = Schema::from_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let request: Value =
                serde_json::from_str(request).map_err(|e| format!("--request: {e}"))?;
            (schema, request)
        }
        (None, None) => {
            let payloads: Value = serde_json::from_str(&read_data("payloads.json")?)
                .map_err(|e| format!("payloads.json: {e}"))?;
            let items = &payloads["typical"][args.payload.as_str()];
            if !items.is_array() {
                return Err(format!(
                    "payloads.json has no typical/{} list",
                    args.payload
                ));
            }
            let request = json!([{}, {"fn.roundTripTypical": {"items": items}}]);
            (benchmark_schema()?, request)
        }
        _ => return Err("--schema-dir and --request go together".to_string()),
    };
    let packed = match args.encoding {
        BodyEncoding::Json => return serde_json::to_vec(&request).map_err(|e| e.to_string()),
        BodyEncoding::Binary => false,
        BodyEncoding::Packed => true,
    };
    let mut message = match request {
        Value::Array(parts) => match <[Value; 2]>::try_from(parts) {
            Ok([Value::Object(headers), Value::Object(body)]) => {
                telepact::Message::from_body(headers.into(), body)
            }
            _ => return Err("the request is not [headers, body]".to_string()),
        },
        _ => return Err("the request is not [headers, body]".to_string()),
    };
    let encoding = BinaryEncoding::new(&schema);
    message
        .headers
        .insert("@bin_".to_string(), json!([encoding.checksum()]));
    if packed {
        message.headers.insert("@pac_".to_string(), json!(true));
    }
    encode_request(&message, &encoding, packed).map_err(|e| e.to_string())
}

fn telepact_server(typed: bool) -> Result<Server, String> {
    Server::builder(benchmark_schema()?, echo_router(typed))
        .auth_required(false)
        .build()
        .map_err(|e| format!("server: {e}"))
}

fn telepact_router(typed: bool) -> Result<Router, String> {
    Ok(http::router(
        telepact_server(typed)?,
        &HttpOptions::default().path(PATH),
    ))
}

/// Calls `Server::process` with `body` for `seconds`, or `calls` times when given, on
/// this thread only; with `bare`, parses and serialises `body` with `serde_json` instead
/// (the `process` bench's floor).
fn in_process(body: &std::path::Path, args: &Args) -> Result<(), String> {
    let (seconds, calls) = (args.seconds, args.calls);
    let body = std::fs::read(body).map_err(|e| format!("{}: {e}", body.display()))?;
    if args.bare {
        serde_json::from_slice::<Value>(&body).map_err(|e| format!("not JSON: {e}"))?;
        repeat(seconds, calls, || {
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                std::hint::black_box(serde_json::to_vec(&value).ok());
            }
        });
        return Ok(());
    }
    let server = telepact_server(args.typed)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let first = runtime.block_on(server.process(&body));
    if !first.bytes.starts_with(br#"[{},{"Ok_""#) && first.bytes.first() != Some(&0x92) {
        return Err(format!(
            "the server answered {}",
            String::from_utf8_lossy(&first.bytes)
        ));
    }
    repeat(seconds, calls, || {
        runtime.block_on(server.process(&body));
    });
    Ok(())
}

/// Runs `call` for `seconds`, or `calls` times when given, and prints how many calls it
/// made and their mean time.
fn repeat(seconds: u64, calls: Option<u64>, mut call: impl FnMut()) {
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut made = 0u64;
    while calls.map_or(Instant::now() < until, |calls| made < calls) {
        call();
        made += 1;
    }
    let mean_us = started.elapsed().as_secs_f64() * 1e6 / made.max(1) as f64;
    println!("calls {made} mean_us {mean_us:.1}");
}

/// Parses like any JSON server must, then answers without looking at the value.
async fn bare_handler(State(answer): State<Bytes>, body: Bytes) -> axum::response::Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(_) => ([(header::CONTENT_TYPE, "application/json")], answer).into_response(),
        Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
    }
}

fn bare_router() -> Router {
    Router::new()
        .route(PATH, post(bare_handler))
        .with_state(Bytes::from_static(FIXED_ANSWER))
}

async fn serve(router: Router, seconds: u64) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("cannot listen: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let shutdown = http::shutdown_signal();
    println!("READY {port}");
    let stop = async move {
        tokio::select! {
            () = shutdown => {}
            () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
        }
    };
    http::serve(listener, router, stop)
        .await
        .map_err(|e| e.to_string())
}

fn run(args: Args) -> Result<(), String> {
    let router = match args.mode {
        Mode::Body => {
            let body = request_body(&args)?;
            return std::io::stdout()
                .write_all(&body)
                .map_err(|e| format!("stdout: {e}"));
        }
        Mode::InProcess => {
            let body = args.body.as_deref().ok_or("inprocess needs --body FILE")?;
            return in_process(body, &args);
        }
        Mode::Telepact => telepact_router(args.typed)?,
        Mode::Bare => bare_router(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(serve(router, args.seconds))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("http_throughput: {message}");
            ExitCode::FAILURE
        }
    }
}
