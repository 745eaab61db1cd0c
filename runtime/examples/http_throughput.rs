//! One side of the HTTP throughput comparison driven by `bench/http.sh`.
//!
//! `http_throughput telepact|bare [--seconds N]` serves `POST /api` on 127.0.0.1 (a free
//! port), prints `READY <port>` once listening, and stops on Ctrl-C/SIGTERM or after `N`
//! seconds (default 60), so a forgotten process does not linger.
//!
//! - `telepact`: the runtime's axum router with a server for the benchmark schema
//!   (`shared/bench/data/benchmark.telepact.json`) whose `fn.roundTripTypical` echoes
//!   its `items`: parse, validate the call and the result, serialize.
//! - `bare`: a plain axum handler that parses the body into a `serde_json::Value` and
//!   answers fixed bytes: the floor any JSON-over-HTTP server pays.
//!
//! `http_throughput body` prints the request both are driven with: `fn.roundTripTypical`
//! with the `typical/single` payload of `payloads.json`.
//!
//! Both servers run on the same multi-threaded tokio runtime (one worker per core).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use telepact::http::{self, HttpOptions};
use telepact::schema::Schema;
use telepact::{FunctionRouter, Server};

#[path = "../benches/support/echo.rs"]
mod support;
use support::echo;

const PATH: &str = "/api";
/// What the bare server answers: the shape of the echo's answer to the `single` request.
const FIXED_ANSWER: &[u8] = br#"[{},{"Ok_":{"items":[{"accountId":100000,"customerName":"customer-0000","region":"na","unitPrice":19.75,"quantity":1}]}}]"#;

enum Mode {
    Telepact,
    Bare,
    Body,
}

struct Args {
    mode: Mode,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mode = match args.next().as_deref() {
        Some("telepact") => Mode::Telepact,
        Some("bare") => Mode::Bare,
        Some("body") => Mode::Body,
        other => return Err(format!("expected telepact|bare|body, got {other:?}")),
    };
    let mut seconds = 60;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("bad --seconds {value:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args { mode, seconds })
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

/// `[{}, {"fn.roundTripTypical": {"items": typical/single}}]` as bytes.
fn request_body() -> Result<Vec<u8>, String> {
    let payloads: Value = serde_json::from_str(&read_data("payloads.json")?)
        .map_err(|e| format!("payloads.json: {e}"))?;
    let items = &payloads["typical"]["single"];
    if !items.is_array() {
        return Err("payloads.json has no typical/single list".to_string());
    }
    let request = json!([{}, {"fn.roundTripTypical": {"items": items}}]);
    serde_json::to_vec(&request).map_err(|e| e.to_string())
}

fn telepact_router() -> Result<Router, String> {
    let schema = Schema::from_text(&read_data("benchmark.telepact.json")?)
        .map_err(|e| format!("benchmark schema: {e}"))?;
    let functions = FunctionRouter::new().route("fn.roundTripTypical", echo);
    let server = Server::builder(schema, functions)
        .auth_required(false)
        .build()
        .map_err(|e| format!("server: {e}"))?;
    Ok(http::router(server, &HttpOptions::default().path(PATH)))
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
    println!("READY {port}");
    let stop = async move {
        tokio::select! {
            () = http::shutdown_signal() => {}
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
            let body = request_body()?;
            print!("{}", String::from_utf8_lossy(&body));
            return Ok(());
        }
        Mode::Telepact => telepact_router()?,
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
