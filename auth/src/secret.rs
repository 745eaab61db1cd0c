//! Random secrets and their at-rest form.
//!
//! Issued secrets carry 256 bits from the OS generator, so a plain SHA-256 is enough to
//! store them: it cannot be reversed or brute-forced, and lookups by hash compare no
//! secret bytes. Passwords, being guessable, get argon2id instead (see `password`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AuthError;

/// A fresh random secret: `prefix` followed by 32 random bytes, base64url.
pub(crate) fn random_secret(prefix: &str) -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Internal("read the OS random source"))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A short random identifier (128 bits), for ids that are not secrets.
pub(crate) fn random_id() -> Result<String, AuthError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Internal("read the OS random source"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The at-rest form of a high-entropy secret: hex SHA-256.
pub(crate) fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares two hashes without an early exit.
pub(crate) fn same_hash(left: &str, right: &str) -> bool {
    bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_distinct_and_long() {
        let a = random_secret("tpr_").unwrap();
        let b = random_secret("tpr_").unwrap();
        assert!(a.starts_with("tpr_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 43);
    }

    #[test]
    fn hashes_are_stable_and_compared_exactly() {
        let hash = hash_secret("abc");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(same_hash(&hash, &hash_secret("abc")));
        assert!(!same_hash(&hash, &hash_secret("abd")));
    }
}
