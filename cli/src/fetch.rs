//! `telepact fetch`, and the `fn.api_` call the other commands share.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};
use telepact::client::HttpTransport;
use telepact::{Client, ClientError, ClientOptions, Headers, Message};
use telepact_schema::{MAX_SCHEMA_FILE_BYTES, Schema};

use crate::Outcome;
use crate::error::CliError;
use crate::signals::HeldSignals;

/// The file `fetch` writes in the output directory, and the name a served schema's
/// failures are reported under.
pub(crate) const FILE_NAME: &str = "api.telepact.json";

/// How many times a server that refuses the connection is tried, and the pause between
/// tries: a script may start the server and this tool together, as the reference
/// CLI's users do. Any other failure would fail again, and is reported at once.
const ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The largest answer read from a server: a schema of that size already takes the
/// loader several hundred megabytes, and the client's own limit is 64 MiB.
const ANSWER_LIMIT: usize = 8 * 1024 * 1024;

/// How much of an answer that is not a schema the error shows.
const ANSWER_SHOWN: usize = 300;

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// HTTP URL of a Telepact API
    #[arg(long)]
    http_url: String,
    /// Directory of Telepact schemas
    #[arg(long)]
    output_dir: PathBuf,
    /// Include internal Telepact definitions in the fetched schema
    #[arg(long)]
    include_internal: bool,
}

/// Writes the served schema to `<output-dir>/api.telepact.json`.
pub(crate) async fn run(args: &FetchArgs) -> Outcome {
    let api = fetch_api(&args.http_url, args.include_internal).await?;
    let text = schema_text(&api);
    // What is written must load: a server that serves a broken schema is reported here,
    // under the name of the file it would have been.
    Schema::from_documents([(FILE_NAME, text.as_str())])?;
    // A new file replaces the old one whole, or not at all. Ctrl-C (or SIGTERM) while it
    // is written would leave its temporary file among the schemas, where the next load
    // refuses it: the signal waits for the write, and then ends the command. The file
    // is always a regular one, even in a directory under `/dev` or in a FIFO's place.
    let mut held = HeldSignals::new();
    telepact_codegen::replace_if_changed(&args.output_dir.join(FILE_NAME), &text)?;
    Ok(held.status())
}

/// The definitions the server at `url` serves from `fn.api_` (with the standard ones
/// when `include_internal`).
pub(crate) async fn fetch_api(url: &str, include_internal: bool) -> Result<Vec<Value>, CliError> {
    let transport = HttpTransport::new(url).map_err(|error| CliError::unreachable(url, &error))?;
    let client = Client::with_options(
        transport.response_limit(ANSWER_LIMIT),
        ClientOptions::default(),
    );
    let mut payload = Map::new();
    if include_internal {
        payload.insert("includeInternal!".into(), json!(true));
    }
    let mut attempt = 1;
    let response = loop {
        let request = Message::new(Headers::new(), "fn.api_", payload.clone());
        match client.request(request).await {
            Ok(response) => break response,
            Err(ClientError::Transport(error)) if attempt < ATTEMPTS && refused(&*error) => {
                attempt += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(error) => return Err(CliError::unreachable(url, &error)),
        }
    };
    match response.body().get("Ok_").and_then(|ok| ok.get("api")) {
        Some(Value::Array(api)) => Ok(api.clone()),
        _ => Err(CliError::no_schema(
            url,
            shortened(Value::Object(response.body().clone()).to_string()),
        )),
    }
}

/// Whether the connection was refused: no server listens yet.
fn refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(io) = error.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        cause = error.source();
    }
    false
}

/// `answer`, cut after [`ANSWER_SHOWN`] characters.
fn shortened(answer: String) -> String {
    match answer.char_indices().nth(ANSWER_SHOWN) {
        Some((end, _)) => format!("{}… ({} bytes)", &answer[..end], answer.len()),
        None => answer,
    }
}

/// The definitions as a schema file: a JSON array, one definition per line block, or
/// on one line where indenting would take it past what the loader reads of a file
/// (deeply nested types indent to many times their size: an 8 MiB answer to a
/// gigabyte); on one line it is no longer than the answer.
pub(crate) fn schema_text(api: &[Value]) -> String {
    let limit = usize::try_from(MAX_SCHEMA_FILE_BYTES).unwrap_or(usize::MAX) - 1;
    let mut indented = Bounded(Vec::new(), limit);
    let mut text = match serde_json::to_writer_pretty(&mut indented, api) {
        Ok(()) => String::from_utf8(indented.0).unwrap_or_default(),
        Err(_) => serde_json::to_string(api).unwrap_or_else(|_| "[]".into()),
    };
    text.push('\n');
    text
}

/// Bytes written, refused past the limit (the second field).
struct Bounded(Vec<u8>, usize);

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + bytes.len() > self.1 {
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
