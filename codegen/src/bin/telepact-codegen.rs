//! Generates Rust from a Telepact schema directory into a file, for projects that
//! commit generated code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Generate typed Rust (serde types, handler trait, client) from a Telepact schema.
#[derive(Debug, Parser)]
#[command(name = "telepact-codegen", version)]
struct Args {
    /// Directory holding the `*.telepact.yaml` / `*.telepact.json` files.
    #[arg(long)]
    schema_dir: PathBuf,
    /// File to write the generated Rust to.
    #[arg(long)]
    out: PathBuf,
    /// Path of the runtime crate in generated code.
    #[arg(long, default_value = "::telepact")]
    runtime_path: String,
    /// Leave out the server `Handler` trait and router glue.
    #[arg(long)]
    no_server: bool,
    /// Leave out the typed `Client`.
    #[arg(long)]
    no_client: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let builder = telepact_codegen::configure()
        .runtime_path(args.runtime_path)
        .build_server(!args.no_server)
        .build_client(!args.no_client);
    let result = builder
        .generate_dir(&args.schema_dir)
        .and_then(|code| telepact_codegen::write_if_changed(&args.out, &code));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprintln!("{}", error.render(colour));
            ExitCode::FAILURE
        }
    }
}
