//! The client's TLS (HTTPS, and `wss://` for the WebSocket transport), on aws-lc-rs:
//! the crypto library the server side already uses, so a program with both carries one.
//! It offers post-quantum key exchange (X25519MLKEM768) first, with the classical
//! groups after it for servers without. reqwest is built without a crypto provider of
//! its own; these configurations bring aws-lc-rs explicitly and install nothing
//! process-wide.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::error::ClientError;
use crate::crypto::tls_provider;

/// A TLS configuration trusting the platform's root certificates (as a browser would),
/// offering HTTP/2 and HTTP/1.1 by ALPN. Hand it to
/// `reqwest::ClientBuilder::tls_backend_preconfigured` to build a client of your own.
///
/// # Errors
///
/// [`ClientError::Transport`] when the platform's certificate verifier cannot be set up
/// (its root certificates cannot be loaded) or the crypto provider offers no safe
/// protocol version.
pub fn platform_config() -> Result<ClientConfig, ClientError> {
    let provider = tls_provider();
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(tls_error)?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(with_alpn(config))
}

/// A TLS configuration trusting only the CA certificates in `ca_pem` (a private CA, or a
/// self-signed server certificate), offering HTTP/2 and HTTP/1.1 by ALPN.
///
/// # Errors
///
/// [`ClientError::Transport`] when `ca_pem` holds no certificate, a certificate that does
/// not parse or that rustls refuses as a root, or when the crypto provider offers no
/// safe protocol version.
pub fn config_trusting(ca_pem: &[u8]) -> Result<ClientConfig, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(certificate.map_err(tls_error)?)
            .map_err(tls_error)?;
    }
    if roots.is_empty() {
        return Err(tls_error("no certificate in the PEM text"));
    }
    let config = ClientConfig::builder_with_provider(tls_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(with_alpn(config))
}

/// A TLS configuration trusting no certificate, for a `reqwest` client that speaks only
/// plain HTTP (HTTP/1.1 or h2c): reqwest sets TLS up even then, and this needs no
/// certificates on the machine.
///
/// # Errors
///
/// [`ClientError::Transport`] when the crypto provider offers no safe protocol version,
/// which aws-lc-rs always does: in practice this does not fail.
pub fn plain_http_config() -> Result<ClientConfig, ClientError> {
    let config = ClientConfig::builder_with_provider(tls_provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(with_alpn(config))
}

#[cfg(feature = "http-client-rustls")]
/// What a client for `url` needs: the platform's roots for `https`, none for plain
/// `http` (the client follows no redirects, so it never reaches an `https` URL).
pub(super) fn config_for(url: &reqwest::Url) -> Result<ClientConfig, ClientError> {
    if url.scheme() == "https" {
        platform_config()
    } else {
        plain_http_config()
    }
}

fn with_alpn(mut config: ClientConfig) -> ClientConfig {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

fn tls_error(error: impl std::fmt::Display) -> ClientError {
    ClientError::Transport(format!("TLS setup: {error}").into())
}
