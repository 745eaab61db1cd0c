//! Serving over TLS (feature `tls`): rustls on aws-lc-rs (post-quantum X25519MLKEM768
//! preferred), HTTP/1.1 and HTTP/2 chosen by ALPN, WebSocket upgrades included.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::accept::Handshake;

/// How long a new connection may take to finish its TLS handshake, at most: less when
/// the header timeout is shorter, which bounds a connection's wait for its first request.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocols offered by ALPN, preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Why a [`TlsConfig`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file could not be read; `source()` is the I/O error.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The certificate PEM holds no certificate.
    #[error("no certificate in the certificate PEM")]
    NoCertificate,
    /// A PEM section is malformed, or the key PEM holds no private key.
    #[error("invalid PEM")]
    Pem(#[from] rustls::pki_types::pem::Error),
    /// rustls refused the pair (the key does not match the certificate, say).
    #[error("the certificate and key are not usable")]
    Rustls(#[from] rustls::Error),
}

/// The server's TLS set-up: a certificate chain and its key, or a whole
/// [`rustls::ServerConfig`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TlsConfig(Arc<rustls::ServerConfig>);

impl TlsConfig {
    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8,
    /// PKCS#1 or SEC1) from files.
    ///
    /// # Errors
    ///
    /// [`TlsError::Read`] when either file cannot be read; then each failure of
    /// [`TlsConfig::from_pem`].
    pub fn from_pem_files(
        certificates: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Self::from_pem(&read(certificates.as_ref())?, &read(key.as_ref())?)
    }

    /// Like [`TlsConfig::from_pem_files`], from the PEM text itself.
    ///
    /// # Errors
    ///
    /// - [`TlsError::Pem`] when a PEM section is malformed or `key` holds no private key.
    /// - [`TlsError::NoCertificate`] when `certificates` holds no certificate.
    /// - [`TlsError::Rustls`] when rustls refuses the pair (the key does not match the
    ///   leaf certificate, or is of a kind it cannot use).
    pub fn from_pem(certificates: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(certificates).collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate);
        }
        let key = PrivateKeyDer::from_pem_slice(key)?;
        let provider = crate::crypto::tls_provider();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        Ok(Self::from_rustls(config))
    }

    /// Uses `config` as it is, except that an empty ALPN list becomes `h2`,
    /// `http/1.1` (without ALPN every client would speak HTTP/1.1).
    pub fn from_rustls(mut config: rustls::ServerConfig) -> Self {
        if config.alpn_protocols.is_empty() {
            config.alpn_protocols = ALPN.iter().map(|protocol| protocol.to_vec()).collect();
        }
        TlsConfig(Arc::new(config))
    }
}

/// TLS on each accepted stream, within [`HANDSHAKE_TIMEOUT`] or the header timeout,
/// whichever is shorter.
#[derive(Clone)]
pub(super) struct Tls {
    acceptor: TlsAcceptor,
    timeout: Duration,
}

impl Tls {
    pub(super) fn new(config: TlsConfig, header_timeout: Duration) -> Self {
        Tls {
            acceptor: TlsAcceptor::from(config.0),
            timeout: HANDSHAKE_TIMEOUT.min(header_timeout),
        }
    }
}

impl Handshake for Tls {
    type Stream = tokio_rustls::server::TlsStream<TcpStream>;

    async fn handshake(&self, stream: TcpStream, peer: SocketAddr) -> Option<Self::Stream> {
        match tokio::time::timeout(self.timeout, self.acceptor.accept(stream)).await {
            Ok(Ok(stream)) => Some(stream),
            Ok(Err(error)) => {
                tracing::debug!(%peer, error = %crate::ErrorChain(&error), "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                None
            }
        }
    }
}
