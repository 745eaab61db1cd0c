//! `telepact demo-server`: the calculator the Telepact tutorials call, served over HTTP
//! POST and WebSocket.
//!
//! Its schema (`cli/calculator/`) is compiled into typed Rust by the build script, as a
//! user's own API would be; the server keeps everything in memory, within a limit.

mod access;
mod blob;
mod expression;
mod functions;
mod ledger;

// `calculator`: the types and handler trait generated from `cli/calculator/`.
telepact::include_schema!("calculator");

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use clap::Args;
use serde_json::Map;
use telepact::flags::{ByteSize, HttpFlags};
use telepact::http::{self, HttpOptions};
use telepact::logging::LogFormat;
use telepact::{
    BoxFuture, FunctionRouter, HandlerError, Headers, Message, Middleware, ServerBuilder,
};
use tower_http::cors::CorsLayer;

use crate::error::CliError;
use crate::{Outcome, serve};
use access::SessionAuth;
use functions::Calculator;
use ledger::Ledger;

/// The options of `telepact demo-server`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// IP address to listen on; the default serves every interface, as the mock does
    #[arg(long, default_value = "0.0.0.0")]
    host: IpAddr,
    /// Port to run the demo server on (0 picks a free one)
    // The reference's demo-server reads the mock's variable too.
    #[arg(long, default_value_t = 8000, env = "MOCK_SERVER_PORT")]
    port: u16,
    /// Path to expose the API on
    #[arg(long, default_value = "/api")]
    path: String,
    /// Share of calls answered with the service-wide error `ErrorUnavailable`, from 0 to 1
    #[arg(long, default_value_t = 0.01, value_parser = share)]
    unavailable_rate: f64,
    /// Bytes of variables, paper tapes and sessions kept for all callers together;
    /// past it, saves and logins answer `ErrorUnavailable`
    #[arg(long, value_name = "SIZE", value_parser = ByteSize::parse,
          default_value_t = ByteSize(64 << 20))]
    memory_limit: ByteSize,
    /// How log lines are written on stderr: `text`, or `json` (one object a line)
    #[arg(long, env = "TELEPACT_LOG_FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(flatten)]
    http: HttpFlags,
}

/// Serves the calculator until Ctrl-C (or SIGTERM); prints `READY <port>` once listening.
pub(crate) async fn run(args: &DemoArgs) -> Outcome {
    crate::logging::to_stderr(args.log_format);
    let http_options = args
        .http
        .http_options(HttpOptions::default().checked_path(&args.path)?);
    let server = builder(args.memory_limit.0, args.unavailable_rate)
        .build()
        .map_err(CliError::Demo)?;
    let path = &http_options.path;
    // Pages of any origin may call it, as they may call the mock.
    let router = http::not_found_naming(http::router(server, &http_options), path)
        .layer(CorsLayer::very_permissive());
    let address = SocketAddr::new(args.host, args.port);
    serve::until_stopped(router, address, &args.http, args.log_format, |origin| {
        format!("demo server on {origin}{path} (HTTP POST and WebSocket)")
    })
    .await
}

/// The calculator's server: its handlers, the session hook and the random outages.
fn builder(memory_limit: usize, unavailable_rate: f64) -> ServerBuilder {
    let ledger = Arc::new(Mutex::new(Ledger::new(memory_limit)));
    calculator::server_builder(Calculator(ledger.clone()))
        .on_auth(SessionAuth(ledger))
        .middleware(Outages {
            rate: unavailable_rate,
        })
}

/// Answers a share of calls with `ErrorUnavailable` before they reach a handler: the
/// schema's service-wide error (`errors.Availability`), shown as a real service
/// would meet it.
#[derive(Debug, Clone, Copy)]
struct Outages {
    rate: f64,
}

impl Outages {
    /// Whether this call meets an outage: a uniform draw below the rate.
    fn strikes(&self) -> bool {
        self.rate > 0.0 && getrandom::u32().is_ok_and(|draw| self.struck_by(draw))
    }

    /// Whether `draw`, one of the 2³² a `u32` holds, is among the rate's share of them:
    /// all at 1, none at 0.
    fn struck_by(&self, draw: u32) -> bool {
        const DRAWS: f64 = 4_294_967_296.0;
        f64::from(draw) < self.rate * DRAWS
    }
}

impl Middleware for Outages {
    fn call<'a>(
        &'a self,
        request: Message,
        router: &'a FunctionRouter,
    ) -> BoxFuture<'a, Result<Message, HandlerError>> {
        // The standard functions (`fn.ping_`, `fn.api_`: internal, so named with a
        // trailing `_`) do not have the schema's service-wide errors.
        let internal = request.target().ends_with('_');
        if !internal && self.strikes() {
            let unavailable = Message::new(Headers::new(), "ErrorUnavailable", Map::new());
            return Box::pin(std::future::ready(Ok(unavailable)));
        }
        router.call(request)
    }
}

/// A share from 0 to 1.
fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("expected a number from 0 to 1, got `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
    use telepact::schema::{FunctionId, TypeExpr, TypeKind, TypeName};

    use super::*;

    /// A rate of 1 strikes every call, its largest draw too; a half strikes half the draws.
    #[test]
    fn a_rate_strikes_its_share_of_the_draws() {
        let always = Outages { rate: 1.0 };
        assert!(always.struck_by(u32::MAX) && always.struck_by(0));
        let half = Outages { rate: 0.5 };
        assert!(half.struck_by((1 << 31) - 1) && !half.struck_by(1 << 31));
        assert!(!Outages { rate: 0.0 }.struck_by(0));
    }

    /// A random call of one of the calculator's functions, with random credentials on
    /// half of them: `[headers, body]`.
    fn random_request(prepared: &PreparedSchema<'_>, random: &mut RandomGenerator) -> Value {
        let schema = prepared.schema();
        let options = GenerateOptions::default();
        let functions: Vec<FunctionId> = schema
            .functions()
            .iter()
            .enumerate()
            .filter(|(_, function)| !function.internal)
            .map(|(index, _)| FunctionId(index as u32))
            .collect();
        let function = functions[random.next_int_below(functions.len() as u32) as usize];
        let call = TypeExpr {
            kind: TypeKind::FunctionLink(function),
            nullable: false,
        };
        let body = random.generate_from(prepared, &call, &options);
        let headers = match (random.next_boolean(), schema.names().get("union.Auth_")) {
            (true, Some(TypeName::Union(auth))) => {
                let auth = TypeExpr {
                    kind: TypeKind::Union(*auth),
                    nullable: false,
                };
                json!({"@auth_": random.generate_from(prepared, &auth, &options)})
            }
            _ => json!({}),
        };
        json!([headers, body])
    }

    /// The result tag of an answer.
    fn tag(answer: &[u8]) -> String {
        let message: Value = serde_json::from_slice(answer).unwrap_or_default();
        let body = message.get(1).and_then(Value::as_object);
        body.and_then(|body| body.keys().next().cloned())
            .unwrap_or_else(|| format!("not a message: {}", String::from_utf8_lossy(answer)))
    }

    #[tokio::test]
    async fn random_valid_calls_get_answers_the_schema_allows() {
        let server = builder(64 * 1024, 0.0).build().unwrap();
        let schema = calculator::schema();
        let prepared = PreparedSchema::new(&schema);
        let mut random = RandomGenerator::new(0, 3);
        random.set_seed(2026);
        let mut tags: BTreeMap<String, usize> = BTreeMap::new();
        for _ in 0..3000 {
            let request = random_request(&prepared, &mut random);
            let answer = server.process(request.to_string().as_bytes()).await;
            let tag = tag(&answer.bytes);
            let expected = !tag.starts_with("ErrorInvalid") && !tag.starts_with("not a");
            assert!(
                expected,
                "{request} was answered {}",
                String::from_utf8_lossy(&answer.bytes)
            );
            *tags.entry(tag).or_default() += 1;
        }
        // Every kind of answer is reached: a test that only ever met refusals would pass
        // the assertion above trivially.
        for reached in [
            "Ok_",
            "ErrorUnauthenticated_",
            "ErrorUnknown_",
            "ErrorUnknownVariables",
        ] {
            assert!(
                tags.contains_key(reached),
                "{reached} never answered: {tags:?}"
            );
        }
    }
}
