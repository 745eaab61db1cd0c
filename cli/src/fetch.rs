//! `telepact fetch`, and the `fn.api_` call the other commands share.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};
use telepact::{Client, ClientError, ClientOptions, Headers, Message};
use telepact_schema::Schema;

use crate::Outcome;
use crate::error::CliError;

/// The file `fetch` writes in the output directory.
const FILE_NAME: &str = "api.telepact.json";

/// How many times a server that cannot be reached is tried, and the pause between
/// tries: a script may start the server and this tool together, as the reference
/// CLI's users do.
const ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_secs(1);

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
    // What is written must load: a server that serves a broken schema is reported here.
    Schema::from_text(&text)?;
    let write = |source| CliError::Write {
        path: args.output_dir.clone(),
        source,
    };
    fs::create_dir_all(&args.output_dir).map_err(write)?;
    let path = args.output_dir.join(FILE_NAME);
    fs::write(&path, text).map_err(|source| CliError::Write { path, source })?;
    Ok(ExitCode::SUCCESS)
}

/// The definitions the server at `url` serves from `fn.api_` (with the standard ones
/// when `include_internal`).
pub(crate) async fn fetch_api(url: &str, include_internal: bool) -> Result<Vec<Value>, CliError> {
    let client = Client::http(url, ClientOptions::default())
        .map_err(|error| CliError::unreachable(url, &error))?;
    let mut payload = Map::new();
    if include_internal {
        payload.insert("includeInternal!".into(), json!(true));
    }
    let mut attempt = 1;
    let response = loop {
        let request = Message::new(Headers::new(), "fn.api_", payload.clone());
        match client.request(request).await {
            Ok(response) => break response,
            Err(ClientError::Transport(_) | ClientError::Timeout(_)) if attempt < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(error) => return Err(CliError::unreachable(url, &error)),
        }
    };
    match response.body().get("Ok_").and_then(|ok| ok.get("api")) {
        Some(Value::Array(api)) => Ok(api.clone()),
        _ => Err(CliError::NoSchema {
            url: url.to_string(),
            answer: Value::Object(response.body().clone()).to_string(),
        }),
    }
}

/// The definitions as a schema file: a JSON array, one definition per line block.
pub(crate) fn schema_text(api: &[Value]) -> String {
    let mut text = serde_json::to_string_pretty(api).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}
