//! The conformance test server over HTTP.
//!
//! `conformance_server --schema DIR [--auth] [--validate-schemas] [--mock] [--port N]`
//! serves `POST /api` on 127.0.0.1 and prints `READY <port>` once listening.
//!
//! With `--mock` it serves a mock of the schema instead of the test server, with the
//! options the conformance README names: results are generated for unmatched calls
//! only on `"@gen_": true`, optional fields randomly, collections of 0 to 2 items.

#[path = "../tests/it/support/fixture.rs"]
mod fixture;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use fixture::{Fixture, FixtureOptions, SharedFixture};
use telepact::http::{self, HttpOptions};
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;

/// Command line: `--schema DIR [--auth] [--validate-schemas] [--mock] [--port N]`.
struct Args {
    schema: PathBuf,
    options: FixtureOptions,
    mock: bool,
    port: u16,
}

fn parse_args() -> Result<Args, String> {
    let mut schema = None;
    let mut options = FixtureOptions::default();
    let mut port = 0;
    let mut mock = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--schema" => schema = args.next().map(PathBuf::from),
            "--auth" => options.auth = true,
            "--validate-schemas" => options.validate_schemas = true,
            "--mock" => mock = true,
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let schema = schema.ok_or("--schema DIR is required")?;
    // `Directory` inputs of `fn.validateSchema` are relative to the working directory:
    // run the server from the conformance folder, which holds `schemas/`.
    options.base_dir = None;
    Ok(Args {
        schema,
        options,
        mock,
        port,
    })
}

/// The HTTP router for what the arguments ask to serve.
fn router(args: Args) -> Result<Router, String> {
    let http_options = HttpOptions::default().path("/api");
    if args.mock {
        let schema = Schema::mock_from_dir(&args.schema).map_err(|e| e.to_string())?;
        let options = MockOptions::default().generate_responses(false);
        let mock = MockServer::with_options(schema, options).map_err(|e| e.to_string())?;
        return Ok(http::router(mock, &http_options));
    }
    let fixture = Fixture::load(&args.schema, args.options)?;
    Ok(http::router(
        SharedFixture(Arc::new(fixture)),
        &http_options,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("conformance_server: {message}");
            return ExitCode::from(2);
        }
    };
    let requested_port = args.port;
    let router = match router(args) {
        Ok(router) => router,
        Err(message) => {
            eprintln!("conformance_server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", requested_port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("conformance_server: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or(requested_port);
    let shutdown = http::shutdown_signal();
    println!("READY {port}");
    match http::serve(listener, router, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance_server: {e}");
            ExitCode::FAILURE
        }
    }
}
