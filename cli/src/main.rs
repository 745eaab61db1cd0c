//! `telepact`: the Telepact command line tool.
//!
//! - `telepact mock --dir api` serves a mock of a schema over HTTP and WebSocket;
//! - `telepact compare --old-schema-dir old --new-schema-dir new` checks backwards
//!   compatibility (exit 0 compatible, 1 not);
//! - `telepact fetch --http-url URL --output-dir api` stores a served schema;
//! - `telepact codegen --schema-dir api --lang rust --out src/api.rs` generates Rust
//!   (`--check`: exit 1 when the file is not what the schema generates);
//! - `telepact demo-server --port 8000` serves the calculator the Telepact tutorials call.
//!
//! Failures print one `error: ...` message on stderr and exit with status 2.

mod arguments;
mod codegen;
mod compare;
mod console;
mod demo;
mod error;
mod fetch;
mod logging;
mod mock;
mod schema_dir;
mod serve;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use error::CliError;

/// The Telepact command line tool.
#[derive(Debug, Parser)]
#[command(name = "telepact", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a mock server for a Telepact API schema.
    Mock(mock::MockArgs),
    /// Compare two Telepact API schemas for backwards compatibility.
    Compare(compare::CompareArgs),
    /// Fetch a Telepact API schema to store locally.
    Fetch(fetch::FetchArgs),
    /// Generate code bindings for a Telepact API schema.
    Codegen(Box<codegen::CodegenArgs>),
    /// Start a demo Telepact server: the calculator of the Telepact tutorials.
    DemoServer(demo::DemoArgs),
}

/// The exit status of a failure (0 and 1 are `compare`'s verdicts).
const FAILURE: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    fail_writes_past_file_size_limit();
    let cli = match arguments::parse::<Cli>() {
        Ok(cli) => cli,
        Err(error) => return refuse_arguments(error),
    };
    let outcome = match cli.command {
        Command::Mock(args) => mock::run(&args).await,
        Command::Compare(args) => compare::run(&args),
        Command::Fetch(args) => fetch::run(&args).await,
        Command::Codegen(args) => codegen::run(&args).await,
        Command::DemoServer(args) => demo::run(&args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            let rendered = error.render(telepact::logging::colour_on_stderr());
            console::print_error_line(rendered.trim_end());
            ExitCode::from(FAILURE)
        }
    }
}

/// Shows help or the version as clap lays them out; reports wrong arguments on one line.
fn refuse_arguments(error: clap::Error) -> ExitCode {
    match arguments::refusal::<Cli>(error) {
        arguments::Refusal::Shown(shown) => {
            let _ = shown.print();
            ExitCode::from(u8::try_from(shown.exit_code()).unwrap_or(FAILURE))
        }
        arguments::Refusal::Invalid(line) => {
            console::print_error_line(&line);
            ExitCode::from(FAILURE)
        }
    }
}

/// Makes a write past a file-size limit (`ulimit -f`) fail with an error, reported as
/// any failed write is, where `SIGXFSZ` would end the process half-way through it,
/// leaving its temporary file beside the output and no error line. The signal is
/// caught (a handler once installed stays for the process's life), not acted on.
fn fail_writes_past_file_size_limit() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _ = signal(SignalKind::from_raw(libc::SIGXFSZ));
    }
}

/// What a subcommand ends with: its exit status, or the failure to report.
type Outcome = Result<ExitCode, CliError>;
