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

/// Seals `secret`, a [`random_secret`] with `prefix`, with `key`, another secret of
/// that kind: its 32 random bytes XORed with a pad that only `key` derives (SHA-256 of
/// `key` under a label of its own, which no stored hash is). The store may then hold it:
/// nobody without `key` can read it. A key seals one secret only, since two sealed with
/// one pad would give away their XOR. `None` when `secret` is not of that form.
pub(crate) fn seal(key: &str, prefix: &str, secret: &str) -> Option<String> {
    let mut bytes = secret_bytes(prefix, secret)?;
    xor_pad(key, &mut bytes);
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// The secret [`seal`] sealed into `sealed` with `key`; `None` when `sealed` is not
/// what `seal` writes.
pub(crate) fn unseal(key: &str, prefix: &str, sealed: &str) -> Option<String> {
    let mut bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(sealed).ok()?.try_into().ok()?;
    xor_pad(key, &mut bytes);
    Some(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn secret_bytes(prefix: &str, secret: &str) -> Option<[u8; 32]> {
    let encoded = secret.strip_prefix(prefix)?;
    URL_SAFE_NO_PAD.decode(encoded).ok()?.try_into().ok()
}

fn xor_pad(key: &str, bytes: &mut [u8; 32]) {
    let pad = Sha256::new()
        .chain_update(b"telepact-auth sealed secret\0")
        .chain_update(key.as_bytes())
        .finalize();
    for (byte, pad) in bytes.iter_mut().zip(pad) {
        *byte ^= pad;
    }
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
    fn a_sealed_secret_opens_with_its_key_only() {
        let (key, secret) = (
            random_secret("tpr_").unwrap(),
            random_secret("tpr_").unwrap(),
        );
        let sealed = seal(&key, "tpr_", &secret).unwrap();
        assert!(!sealed.contains(&secret["tpr_".len()..]));
        assert_eq!(
            unseal(&key, "tpr_", &sealed).as_deref(),
            Some(secret.as_str())
        );
        let other = random_secret("tpr_").unwrap();
        assert_ne!(
            unseal(&other, "tpr_", &sealed).as_deref(),
            Some(secret.as_str())
        );
        assert_eq!(seal(&key, "tpr_", "tpr_short"), None);
        assert_eq!(unseal(&key, "tpr_", "not base64!"), None);
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
