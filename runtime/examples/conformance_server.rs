//! The conformance test server over HTTP.
//!
//! `conformance_server --schema DIR [--auth] [--validate-schemas] [--port N]` serves
//! `POST /api` on 127.0.0.1 and prints `READY <port>` once listening.

#[path = "../tests/support/fixture.rs"]
mod fixture;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use fixture::{Fixture, FixtureOptions, SharedFixture};
use telepact::http::{self, HttpOptions};

/// Command line: `--schema DIR [--auth] [--validate-schemas] [--port N]`.
struct Args {
    schema: PathBuf,
    options: FixtureOptions,
    port: u16,
}

fn parse_args() -> Result<Args, String> {
    let mut schema = None;
    let mut options = FixtureOptions::default();
    let mut port = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--schema" => schema = args.next().map(PathBuf::from),
            "--auth" => options.auth = true,
            "--validate-schemas" => options.validate_schemas = true,
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
        port,
    })
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
    let fixture = match Fixture::load(&args.schema, args.options) {
        Ok(fixture) => fixture,
        Err(message) => {
            eprintln!("conformance_server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let router = http::router(
        SharedFixture(Arc::new(fixture)),
        &HttpOptions::default().path("/api"),
    );
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("conformance_server: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    println!("READY {port}");
    match http::serve(listener, router, http::shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance_server: {e}");
            ExitCode::FAILURE
        }
    }
}
