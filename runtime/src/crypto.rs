//! The crypto provider of all the runtime's TLS: the server's (`tls`), the HTTPS
//! client's and the `wss://` client's. One choice, so a program using several carries
//! one crypto library.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// rustls's aws-lc-rs provider with its defaults: TLS 1.3 key exchange prefers the
/// post-quantum hybrid X25519MLKEM768, then X25519 and the NIST curves. (rustls 0.23.48
/// deprecated its `ring` provider, which has no post-quantum key exchange.)
pub(crate) fn tls_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}
