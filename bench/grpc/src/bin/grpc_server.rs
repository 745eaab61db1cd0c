//! `grpc_server [--seconds N]`: serves [`BenchServer`] over cleartext HTTP/2 on a free
//! loopback port, prints `READY <port>`, and stops on Ctrl-C or after `N` seconds
//! (default 60). Multi-threaded tokio runtime, like the Telepact servers it is compared with.

use std::process::ExitCode;
use std::time::Duration;

use telepact_grpc_bench::BenchServer;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

fn seconds() -> Result<u64, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(60),
        [flag, value] if flag == "--seconds" => value
            .parse()
            .map_err(|_| format!("bad --seconds {value:?}")),
        _ => Err("usage: grpc_server [--seconds N]".to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let seconds = match seconds() {
        Ok(seconds) => seconds,
        Err(message) => {
            eprintln!("grpc_server: {message}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("grpc_server: cannot listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    println!("READY {port}");
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
        }
    };
    let served = tonic::transport::Server::builder()
        .add_service(BenchServer)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), stop)
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("grpc_server: {error}");
            ExitCode::FAILURE
        }
    }
}
