//! Prometheus text on `GET /metrics`, as the workspace's binaries serve it (feature
//! `prometheus`).
//!
//! One registry holds every series of the process: the calls of each
//! [`Server`] handed [`Exporter::recorder`], and what the `metrics` facade hears from
//! elsewhere (the HTTP listener's refused and open connections, a service's own
//! series), once [`Exporter::install`] has made it the facade's recorder.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE as CONTENT_TYPE_HEADER;
use axum::response::IntoResponse;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::Server;

/// The content type of Prometheus' text format, version 0.0.4, which scrapers
/// negotiate on: Prometheus 3 refuses a scrape whose type it cannot tell.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the buckets of every `_seconds` histogram. A call the runtime answers
/// from memory takes tens of microseconds, one behind a store or a password hash
/// milliseconds to a second, and none outlasts a request timeout of seconds: the
/// buckets span all three, about three to a decade.
pub const DURATION_BUCKETS: [f64; 19] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the buckets of every `_bytes` histogram, up to the default body
/// limit (1 MiB).
pub const SIZE_BUCKETS: [f64; 8] = [
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
];

/// How often the exporter folds the samples it holds into its histograms: it keeps each
/// sample until then (or a scrape), so what it holds grows with the rate of calls.
const UPKEEP_PERIOD: Duration = Duration::from_secs(1);

/// Why the exporter could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The exporter refused its histogram buckets.
    #[error("cannot set up the Prometheus exporter")]
    Build(#[from] metrics_exporter_prometheus::BuildError),
    /// The process's `metrics` facade already has a recorder.
    #[error("the metrics facade already has a recorder")]
    AlreadyInstalled,
    /// The address given for the metrics (`--metrics-addr`) cannot be listened on.
    #[error("cannot listen on {address} (--metrics-addr)")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The process's Prometheus registry and what renders it.
#[derive(Debug, Clone)]
pub struct Exporter {
    recorder: SharedRecorder,
    handle: PrometheusHandle,
}

/// The exporter's recorder, shared: give it to
/// [`ServerBuilder::metrics_recorder`](crate::ServerBuilder::metrics_recorder).
#[derive(Debug, Clone)]
pub struct SharedRecorder(Arc<PrometheusRecorder>);

impl Exporter {
    /// An exporter keeping durations and sizes as Prometheus histograms (buckets add up
    /// across instances, where summaries do not), with [`DURATION_BUCKETS`] and
    /// [`SIZE_BUCKETS`], made the `metrics` facade's recorder.
    ///
    /// # Errors
    ///
    /// [`ExporterError::AlreadyInstalled`] when the facade has a recorder already.
    pub fn install() -> Result<Self, ExporterError> {
        let exporter = Self::new()?;
        metrics::set_global_recorder(exporter.recorder.clone())
            .map_err(|_| ExporterError::AlreadyInstalled)?;
        Ok(exporter)
    }

    /// The same exporter as [`install`](Self::install), not made the facade's recorder:
    /// it holds only what is reported to [`recorder`](Self::recorder).
    ///
    /// # Errors
    ///
    /// [`ExporterError::Build`] should the exporter refuse the buckets.
    pub fn new() -> Result<Self, ExporterError> {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &DURATION_BUCKETS)?
            .set_buckets_for_metric(Matcher::Suffix("_bytes".into()), &SIZE_BUCKETS)?
            .build_recorder();
        let handle = recorder.handle();
        Ok(Exporter {
            recorder: SharedRecorder(Arc::new(recorder)),
            handle,
        })
    }

    /// The recorder, for a server's
    /// [`metrics_recorder`](crate::ServerBuilder::metrics_recorder).
    pub fn recorder(&self) -> SharedRecorder {
        self.recorder.clone()
    }

    /// Every series as Prometheus text, after `servers` have handed over the calls
    /// they hold ([`Server::flush_metrics`]).
    pub fn render(&self, servers: &[Server]) -> String {
        for server in servers {
            server.flush_metrics();
        }
        self.handle.render()
    }

    /// The answer to a scrape: [`render`](Self::render) with the text format's
    /// [`CONTENT_TYPE`].
    pub fn scrape(&self, servers: &[Server]) -> axum::response::Response {
        let text = self.render(servers);
        ([(CONTENT_TYPE_HEADER, CONTENT_TYPE)], text).into_response()
    }

    /// `GET /metrics`, answered by [`scrape`](Self::scrape).
    pub fn router<S: Clone + Send + Sync + 'static>(
        &self,
        servers: Vec<Server>,
    ) -> axum::Router<S> {
        let exporter = self.clone();
        let scrape = move || {
            let answer = exporter.scrape(&servers);
            async move { answer }
        };
        axum::Router::new().route("/metrics", axum::routing::get(scrape))
    }

    /// Serves `routes` (the scrape's, and probes) on `address` alone, in plain HTTP,
    /// until the task is aborted: apart from the API's port, so the series are not
    /// open to whoever may call the API.
    ///
    /// # Errors
    ///
    /// [`ExporterError::Listen`] when `address` cannot be listened on.
    pub async fn serve_apart(
        address: SocketAddr,
        routes: axum::Router,
    ) -> Result<tokio::task::JoinHandle<std::io::Result<()>>, ExporterError> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|source| ExporterError::Listen { address, source })?;
        // The port bound, which port 0 leaves to the system to pick.
        let address = listener.local_addr().unwrap_or(address);
        tracing::info!(%address, "serving GET /metrics, /healthz and /readyz");
        let serving = crate::http::serve(listener, routes, std::future::pending());
        Ok(tokio::spawn(serving))
    }

    /// Folds the samples the exporter holds every second, for as long as the runtime
    /// runs: without a scrape or this, they would pile up in memory.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let handle = self.handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_PERIOD);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        })
    }
}

impl Recorder for SharedRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.0.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.0.register_histogram(key, metadata)
    }
}
