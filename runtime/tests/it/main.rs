//! The crate's integration tests, one module per area, linked into one binary.

mod authorise_support;
mod binary_support;
#[path = "support/fixture.rs"]
mod fixture;
mod log_capture;
#[path = "support/vectors.rs"]
mod vectors;

mod amplification;
mod authorise_bearer;
mod authorise_cache;
mod authorise_loopback;
mod authorise_oauth2;
mod authorise_oauth2_code;
mod authorise_secrets;
mod binary_properties;
mod binary_vectors;
mod call_metrics;
mod churn;
mod client_conformance;
mod client_fake;
mod client_http;
mod client_server;
mod client_websocket;
mod client_websocket_answers;
mod compare_oracle;
mod conformance_binary;
mod conformance_mock;
mod conformance_server;
mod deep_answers;
mod error_causes;
mod generation_bounds;
mod hostile_answers;
mod http2_tls;
mod http_conformance;
mod http_transport;
mod logging;
mod mock_records;
mod nats;
mod operator_metrics;
mod parity;
mod robustness;
mod server_api;
mod stderr_log;
mod typed_answers;
mod typed_headers;
mod typed_inputs;
mod websocket_peers;
mod websocket_shutdown;

/// A `reqwest` client for plain-HTTP requests the tests write by hand (reqwest's TLS is
/// built without a crypto provider in this workspace; see `telepact::client::tls`).
fn plain_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(telepact::client::tls::plain_http_config().expect("a TLS setup"))
        .build()
        .expect("client builds")
}
