//! The bakery shift board behind NATS: `worker` serves it on a subject as one member
//! of a queue group; `gateway` serves `POST /api/telepact` over HTTP by forwarding
//! to that subject. Run any number of workers, on any machines reaching NATS.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use telepact::http::{self, HttpOptions};
use telepact::nats;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// One process of the deployment.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The NATS server to use.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// The subject the bakery is served on.
    #[arg(long, default_value = "telepact.bakery")]
    subject: String,
    /// Seconds a forwarded request may wait for its reply.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Answer requests on the subject until Ctrl-C or SIGTERM, then drain.
    Worker {
        /// The queue group the workers share.
        #[arg(long, default_value = "bakery")]
        queue_group: String,
    },
    /// Serve HTTP, forwarding each request to the subject.
    Gateway {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 8002)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let client = nats::connect(&args.nats, Duration::from_secs(args.timeout)).await?;
    match args.mode {
        Mode::Worker { queue_group } => {
            let server = telepact_bakery::server()?;
            let worker = nats::serve(server, client, &args.subject, &queue_group).await?;
            println!("READY worker");
            tracing::info!(subject = %args.subject, %queue_group, "serving the bakery over NATS");
            http::shutdown_signal().await;
            worker.drain().await?;
        }
        Mode::Gateway { host, port } => {
            let listener = TcpListener::bind((host.as_str(), port)).await?;
            let address = listener.local_addr()?;
            let app = nats::gateway(client, args.subject.clone(), &HttpOptions::default());
            println!("READY {}", address.port());
            tracing::info!(%address, subject = %args.subject, "forwarding POST /api/telepact to NATS");
            http::serve(listener, app, http::shutdown_signal()).await?;
        }
    }
    tracing::info!("shut down");
    Ok(())
}
