//! `telepact codegen`: typed Rust for a schema, into a file or onto stdout.

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args};
use telepact_schema::Schema;

use crate::Outcome;
use crate::error::CliError;
use crate::fetch::{FILE_NAME, fetch_api, schema_text};
use crate::signals::HeldSignals;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("schema").required(true).args(["schema_dir", "schema_http_url"])))]
pub(crate) struct CodegenArgs {
    /// Directory holding the `*.telepact.yaml` / `*.telepact.json` files
    #[arg(long)]
    schema_dir: Option<PathBuf>,
    /// HTTP URL of a Telepact API whose served schema to use
    #[arg(long)]
    schema_http_url: Option<String>,
    /// Language target (only "rust")
    #[arg(long, default_value = "rust")]
    lang: String,
    /// File to write the generated code to; `-` (or `/dev/stdout`) writes it to stdout,
    /// and another path under /dev or /proc is written as a stream, at its end
    #[arg(long)]
    out: PathBuf,
    /// Write nothing: exit 0 if the --out file holds the code the schema generates, else
    /// exit 1 with one `error: ...` line on stderr (for CI, where the generated code is
    /// committed)
    #[arg(long)]
    check: bool,
    /// Path of the runtime crate in generated code
    #[arg(long, default_value = "::telepact")]
    runtime_path: String,
    /// Leave out the server `Handler` trait and router glue
    #[arg(long)]
    no_server: bool,
    /// Leave out the typed `Client`
    #[arg(long)]
    no_client: bool,
    /// Name of the generated module (default: the schema directory's name, `api` for a URL)
    #[arg(long, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    module: Option<String>,
    /// `SELECTOR=ATTRIBUTES` on generated types, e.g. `struct.Point=#[derive(PartialOrd)]` (repeatable)
    #[arg(long, value_name = "SELECTOR=ATTRIBUTES")]
    type_attribute: Vec<String>,
    /// `TYPE.FIELD=ATTRIBUTES` on one generated field, e.g. `struct.Shift.start=#[serde(alias = "begin")]` (repeatable)
    #[arg(long, value_name = "PATH=ATTRIBUTES")]
    field_attribute: Vec<String>,
    /// Attributes on the generated `Handler` trait (repeatable)
    #[arg(long)]
    handler_attribute: Vec<String>,
    /// Attributes on the generated `Client` struct (repeatable)
    #[arg(long)]
    client_attribute: Vec<String>,
    /// `SCHEMA_TYPE=RUST_PATH`: use an existing Rust type for a `struct.*` or `union.*`,
    /// e.g. `struct.Money=::shop::Money` (repeatable)
    #[arg(long, value_name = "SCHEMA_TYPE=RUST_PATH")]
    extern_path: Vec<String>,
    /// `SCHEMA_TYPE=TRAITS`: which of `Eq`, `Hash` and `Default` a type given with
    /// --extern-path implements, e.g. `struct.Money=Eq,Hash` (repeatable)
    #[arg(long, value_name = "SCHEMA_TYPE=TRAITS")]
    extern_traits: Vec<String>,
}

/// Splits the `NAME=VALUE` given to `flag` at its first `=`; `form` is what the flag
/// expects, for the error (`PATH=ATTRIBUTES`). Both sides must be present.
fn name_and_value<'a>(
    flag: &'static str,
    form: &'static str,
    text: &'a str,
) -> Result<(&'a str, &'a str), CliError> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => Ok((name, value)),
        _ => Err(CliError::MalformedFlag {
            flag,
            form,
            value: text.to_string(),
        }),
    }
}

/// The builder the flags describe.
fn configure(args: &CodegenArgs) -> Result<telepact_codegen::Builder, CliError> {
    let mut builder = telepact_codegen::configure()
        .runtime_path(&args.runtime_path)
        .build_server(!args.no_server)
        .build_client(!args.no_client);
    for text in &args.type_attribute {
        let (selector, attribute) =
            name_and_value("--type-attribute", "SELECTOR=ATTRIBUTES", text)?;
        builder = builder.type_attribute(selector, attribute);
    }
    for text in &args.field_attribute {
        let (path, attribute) = name_and_value("--field-attribute", "PATH=ATTRIBUTES", text)?;
        builder = builder.field_attribute(path, attribute);
    }
    for attribute in &args.handler_attribute {
        builder = builder.handler_attribute(attribute);
    }
    for attribute in &args.client_attribute {
        builder = builder.client_attribute(attribute);
    }
    for text in &args.extern_path {
        let (name, path) = name_and_value("--extern-path", "SCHEMA_TYPE=RUST_PATH", text)?;
        builder = builder.extern_path(name, path);
    }
    for text in &args.extern_traits {
        let (name, traits) = name_and_value("--extern-traits", "SCHEMA_TYPE=TRAITS", text)?;
        builder = builder.extern_traits(name, traits.split(','));
    }
    Ok(builder)
}

/// Generates the code; the output file is rewritten only when its content changes.
pub(crate) async fn run(args: &CodegenArgs) -> Outcome {
    if args.lang != "rust" {
        return Err(CliError::Language(args.lang.clone()));
    }
    let builder = configure(args)?;
    let to_stream = is_stream(&args.out);
    if args.check && to_stream {
        return Err(CliError::CheckOnStream);
    }
    if let Some(dir) = args.schema_dir.as_deref().filter(|_| !to_stream) {
        refuse_output_in(dir, &args.out)?;
    }
    let (schema, module) = match (&args.schema_dir, &args.schema_http_url, &args.module) {
        (Some(dir), _, module) => {
            let module = module.clone();
            let schema = crate::schema_dir::load("--schema-dir", dir)?;
            (
                schema,
                module.unwrap_or_else(|| telepact_codegen::schema_name(dir)),
            )
        }
        (None, Some(url), module) => {
            let text = schema_text(&fetch_api(url, false).await?);
            let schema = Schema::from_documents([(FILE_NAME, text.as_str())])?;
            // The module is named after the schema, not after where it was served.
            (schema, module.clone().unwrap_or_else(|| "api".into()))
        }
        (None, None, _) => return Err(CliError::NoSchemaSource),
    };
    crate::schema_dir::warn(&schema, None);
    let code = builder
        .generate(&schema, &module)
        .map_err(|error| match &args.schema_dir {
            Some(dir) => error.located_in(dir),
            None => error,
        })?;
    if args.check {
        return check(&args.out, &code);
    }
    if args.out.as_os_str() == "-" || args.out.as_os_str() == "/dev/stdout" {
        crate::console::print(&code)?;
        return Ok(ExitCode::SUCCESS);
    }
    write(&args.out, &code)
}

/// Writes `code` to `out`. While a file is replaced by rename, Ctrl-C and SIGTERM wait
/// for the write, as in `fetch`, so that no temporary file is left beside it; a stream
/// or a FIFO, which may wait for a reader, is written with them free to end it.
fn write(out: &Path, code: &str) -> Outcome {
    let by_rename = !is_stream(out) && std::fs::metadata(out).map_or(true, |found| found.is_file());
    let mut held = by_rename.then(HeldSignals::new);
    telepact_codegen::write_if_changed(out, code)?;
    Ok(held.as_mut().map_or(ExitCode::SUCCESS, HeldSignals::status))
}

/// `--check`'s verdict: success when `out` holds `code`, else exit 1 and why; a file
/// that cannot be read, or a directory, is an error (exit 2), not a verdict.
fn check(out: &Path, code: &str) -> Outcome {
    if telepact_codegen::file_holds(out, code) {
        return Ok(ExitCode::SUCCESS);
    }
    let why = match readable_file(out) {
        Ok(()) => "does not hold the code the schema generates",
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => "does not exist",
        Err(source) => {
            let path = out.to_path_buf();
            return Err(CliError::Read { path, source });
        }
    };
    // Worded as every other failure is, with the verdict's own exit status.
    crate::console::print_error_line(&format!(
        "error: {} {why}: run the command without --check to write it",
        out.display()
    ));
    Ok(ExitCode::FAILURE)
}

/// Whether `out` is a regular file this process can open: a directory, or a FIFO or
/// device, is not looked into (a FIFO would be opened only once a writer came).
fn readable_file(out: &Path) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    let found = std::fs::metadata(out)?;
    if found.is_dir() {
        return Err(Error::from(ErrorKind::IsADirectory));
    }
    if !found.is_file() {
        return Err(Error::other("not a regular file"));
    }
    std::fs::File::open(out).map(drop)
}

/// Refuses an output file in the schema directory `dir` or below it (however either is
/// written, and wherever a link leads): it would replace a schema file, or sit among the
/// schemas and fail the next load.
fn refuse_output_in(dir: &Path, out: &Path) -> Result<(), CliError> {
    // A schema directory that cannot be read is reported by the load that follows.
    let (Ok(dir_found), Some(made)) = (dir.canonicalize(), where_made(out)) else {
        return Ok(());
    };
    if !made.iter().any(|place| place.starts_with(&dir_found)) {
        return Ok(());
    }
    Err(CliError::OutInSchemaDir {
        out: out.to_path_buf(),
        dir: dir.to_path_buf(),
    })
}

/// What writing `out` may make or replace, links followed: the file itself when it
/// exists, else each folder made on the way to it (`new` of `new/../api.rs` is made,
/// though the file is not in it) and the file, from its nearest existing folder and the
/// rest of the path, which holds no link yet.
fn where_made(out: &Path) -> Option<Vec<PathBuf>> {
    let mut existing = if out.is_absolute() {
        PathBuf::new()
    } else {
        PathBuf::from(".")
    };
    let mut rest = Vec::new();
    for (index, component) in out.components().enumerate() {
        let next = existing.join(component);
        if rest.is_empty() && std::fs::symlink_metadata(&next).is_ok() {
            existing = next;
        } else {
            rest.extend(out.components().skip(index));
            break;
        }
    }
    // A link that leads nowhere is replaced where it stands (`write_if_changed`).
    let mut written = existing.canonicalize().ok().or_else(|| {
        let parent = existing.parent()?.canonicalize().ok()?;
        Some(parent.join(existing.file_name()?))
    })?;
    let mut made = Vec::new();
    for component in rest {
        match component {
            Component::ParentDir => {
                written.pop();
            }
            Component::CurDir => {}
            other => {
                written.push(other);
                made.push(written.clone());
            }
        }
    }
    if made.is_empty() {
        made.push(written);
    }
    Some(made)
}

/// Whether `out` names a stream (stdout, a device, a descriptor the shell opened) rather
/// than a file: no file of the schema directory, and nothing `--check` can compare.
fn is_stream(out: &Path) -> bool {
    out.as_os_str() == "-" || telepact_codegen::names_a_stream(out)
}
