//! Access tokens: HS256 JWTs with a pinned algorithm, checked issuer and audience,
//! expiry against the injected clock, and key rotation by `kid`.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::store::CredentialStore;
use telepact::clock::UnixTime;

/// The only algorithm accepted: a token claiming any other (`none`, `HS512`, `RS256`)
/// is rejected before its signature is looked at.
const ALGORITHM: Algorithm = Algorithm::HS256;

/// Where the service's current key is kept when the store holds it.
const STORED_KEY: &str = "jwt-key:current";

/// One HMAC key and its id.
#[derive(Clone)]
pub struct JwtKey {
    /// Key id, written to a token's `kid` header so verification finds the key.
    pub kid: String,
    secret: Vec<u8>,
}

impl JwtKey {
    /// A key from secret bytes; at least 32 of them.
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when `secret` is shorter than 32 bytes.
    pub fn new(kid: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Self, AuthError> {
        let secret = secret.into();
        if secret.len() < 32 {
            return Err(AuthError::Internal(
                "use a JWT secret shorter than 32 bytes",
            ));
        }
        Ok(JwtKey {
            kid: kid.into(),
            secret,
        })
    }

    /// A fresh random key.
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when the OS gives no randomness.
    pub fn generate(kid: impl Into<String>) -> Result<Self, AuthError> {
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|_| AuthError::Internal("read the OS random source"))?;
        Self::new(kid, secret)
    }
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The signing key plus older keys still accepted while their tokens live out.
#[derive(Debug, Clone)]
pub struct JwtKeys {
    signing: JwtKey,
    retired: Vec<JwtKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    secret: String,
}

impl JwtKeys {
    /// Signs and verifies with `signing`; add retired keys with [`accept`](Self::accept).
    pub fn new(signing: JwtKey) -> Self {
        JwtKeys {
            signing,
            retired: Vec::new(),
        }
    }

    /// Also accepts tokens signed with `key` (rotation: sign with the new key, keep
    /// verifying the old one until its tokens have expired).
    pub fn accept(mut self, key: JwtKey) -> Self {
        self.retired.push(key);
        self
    }

    /// The key kept in `store`, created on first use: every instance sharing the store
    /// signs and verifies with it, and it survives restarts.
    ///
    /// # Errors
    ///
    /// - [`AuthError::Store`] when the store cannot be read or written.
    /// - [`AuthError::Internal`] when the OS gives no randomness, or the stored key cannot
    ///   be read back (gone, not the JSON written, or a secret that is not base64 or is
    ///   shorter than 32 bytes).
    pub async fn load_or_create(store: &dyn CredentialStore) -> Result<Self, AuthError> {
        let fresh = JwtKey::generate(format!("k-{}", crate::secret::random_id()?))?;
        let record = StoredKey {
            kid: fresh.kid.clone(),
            secret: URL_SAFE_NO_PAD.encode(&fresh.secret),
        };
        let text = serde_json::to_string(&record)
            .map_err(|_| AuthError::Internal("encode the JWT key"))?;
        store.put_if_absent(STORED_KEY, &text, None).await?;
        let stored = store
            .get(STORED_KEY)
            .await?
            .ok_or(AuthError::Internal("find the stored JWT key"))?;
        let stored: StoredKey = serde_json::from_str(&stored)
            .map_err(|_| AuthError::Internal("read the stored JWT key"))?;
        let secret = URL_SAFE_NO_PAD
            .decode(stored.secret)
            .map_err(|_| AuthError::Internal("read the stored JWT key"))?;
        Ok(JwtKeys::new(JwtKey::new(stored.kid, secret)?))
    }

    fn find(&self, kid: &str) -> Option<&JwtKey> {
        std::iter::once(&self.signing)
            .chain(&self.retired)
            .find(|key| key.kid == kid)
    }
}

/// Who issues access tokens and for whom.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JwtConfig {
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// Seconds an access token lives.
    pub ttl: i64,
    /// Seconds of clock skew tolerated on `nbf` and `exp`; at most [`MAX_LEEWAY`]
    /// counts, however much is asked for.
    pub leeway: i64,
}

impl JwtConfig {
    /// Tokens from `issuer` for `audience` that live 15 minutes, with no clock leeway.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        JwtConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            ttl: 15 * 60,
            leeway: 0,
        }
    }
}

telepact::__option_setters!(JwtConfig {
    issuer: into String,
    audience: into String,
    ttl: i64,
    leeway: i64,
});

/// The most clock skew tolerated on `nbf` and `exp`, in seconds.
pub const MAX_LEEWAY: i64 = 60;

/// The `typ` header of our access tokens (RFC 9068): a token of another kind signed with
/// the same key (an ID token, say) is not taken for one.
const TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: UnixTime,
    pub nbf: UnixTime,
    pub iat: UnixTime,
    pub jti: String,
    /// The refresh-token family; revoking it also stops these access tokens.
    pub fam: String,
    /// Space-separated scopes, as OAuth writes them.
    pub scope: String,
}

impl Claims {
    pub(crate) fn scopes(&self) -> BTreeSet<String> {
        self.scope.split_whitespace().map(str::to_string).collect()
    }
}

/// Makes jsonwebtoken's RustCrypto backend its process default, unless a default is set
/// already. jsonwebtoken infers the default from its crate features, and finds none when
/// an application's own JWT code turns on its other backend (`aws_lc_rs`) beside this
/// crate's: every token signed or checked here then panicked. An application that
/// installs a provider of its own first keeps it (it must offer HS256).
pub(crate) fn use_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // `Err`: a provider is installed already, and stays.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    });
}

pub(crate) fn sign(claims: &Claims, keys: &JwtKeys) -> Result<String, AuthError> {
    use_crypto_provider();
    let mut header = Header::new(ALGORITHM);
    header.kid = Some(keys.signing.kid.clone());
    header.typ = Some(TOKEN_TYPE.to_string());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(&keys.signing.secret),
    )
    .map_err(|_| AuthError::Internal("sign an access token"))
}

/// Checks algorithm, type, key id, signature, issuer, audience, then `nbf`/`exp` at
/// `now` (with the configured leeway).
pub(crate) fn verify(
    token: &str,
    keys: &JwtKeys,
    config: &JwtConfig,
    now: UnixTime,
) -> Result<Claims, AuthError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| AuthError::BadToken("malformed"))?;
    if header.alg != ALGORITHM {
        return Err(AuthError::BadToken("algorithm not allowed"));
    }
    if !header
        .typ
        .as_deref()
        .is_some_and(|typ| typ.eq_ignore_ascii_case(TOKEN_TYPE))
    {
        return Err(AuthError::BadToken("not an access token"));
    }
    let kid = header.kid.ok_or(AuthError::BadToken("no key id"))?;
    let key = keys
        .find(&kid)
        .ok_or(AuthError::BadToken("unknown key id"))?;
    use_crypto_provider();
    let mut validation = Validation::new(ALGORITHM);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    // Time is checked below against the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation)
            .map_err(|e| AuthError::BadToken(reason(e.kind())))?;
    let claims = data.claims;
    let leeway = config.leeway.clamp(0, MAX_LEEWAY);
    if now.saturating_add(leeway) < claims.nbf {
        return Err(AuthError::BadToken("not yet valid"));
    }
    if now.saturating_sub(leeway) >= claims.exp {
        return Err(AuthError::BadToken("expired"));
    }
    Ok(claims)
}

fn reason(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match kind {
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAlgorithm => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        _ => "malformed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> JwtConfig {
        JwtConfig {
            issuer: "https://issuer.test".into(),
            audience: "svc".into(),
            ttl: 300,
            leeway: 0,
        }
    }

    fn claims(now: UnixTime) -> Claims {
        Claims {
            sub: "u1".into(),
            iss: "https://issuer.test".into(),
            aud: "svc".into(),
            exp: now + 300,
            nbf: now,
            iat: now,
            jti: "j1".into(),
            fam: "f1".into(),
            scope: "a b".into(),
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let keys = JwtKeys::new(JwtKey::generate("k1").unwrap());
        let token = sign(&claims(1_000), &keys).unwrap();
        let verified = verify(&token, &keys, &config(), 1_000).unwrap();
        assert_eq!(verified, claims(1_000));
        assert!(matches!(
            verify(&token, &keys, &config(), 1_300),
            Err(AuthError::BadToken("expired"))
        ));
        assert!(matches!(
            verify(&token, &keys, &config(), 999),
            Err(AuthError::BadToken("not yet valid"))
        ));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_unknown_keys_out() {
        let old = JwtKey::generate("old").unwrap();
        let old_token = sign(&claims(1_000), &JwtKeys::new(old.clone())).unwrap();
        let rotated = JwtKeys::new(JwtKey::generate("new").unwrap()).accept(old);
        assert!(verify(&old_token, &rotated, &config(), 1_000).is_ok());
        let stranger = JwtKeys::new(JwtKey::generate("new").unwrap());
        assert!(matches!(
            verify(&old_token, &stranger, &config(), 1_000),
            Err(AuthError::BadToken("unknown key id"))
        ));
    }

    #[test]
    fn wrong_audience_issuer_and_signature_are_named() {
        let keys = JwtKeys::new(JwtKey::generate("k1").unwrap());
        let token = sign(&claims(1_000), &keys).unwrap();
        let other_audience = JwtConfig {
            audience: "other".into(),
            ..config()
        };
        assert!(matches!(
            verify(&token, &keys, &other_audience, 1_000),
            Err(AuthError::BadToken("wrong audience"))
        ));
        let other_issuer = JwtConfig {
            issuer: "https://evil.test".into(),
            ..config()
        };
        assert!(matches!(
            verify(&token, &keys, &other_issuer, 1_000),
            Err(AuthError::BadToken("wrong issuer"))
        ));
        let same_kid_other_secret = JwtKeys::new(JwtKey::generate("k1").unwrap());
        assert!(matches!(
            verify(&token, &same_kid_other_secret, &config(), 1_000),
            Err(AuthError::BadToken("bad signature"))
        ));
    }

    #[test]
    fn leeway_tolerates_skew_up_to_a_minute() {
        let keys = JwtKeys::new(JwtKey::generate("k1").unwrap());
        let token = sign(&claims(1_000), &keys).unwrap();
        let lenient = JwtConfig {
            leeway: 3_600,
            ..config()
        };
        assert!(verify(&token, &keys, &lenient, 940).is_ok());
        assert!(verify(&token, &keys, &lenient, 1_359).is_ok());
        assert!(matches!(
            verify(&token, &keys, &lenient, 939),
            Err(AuthError::BadToken("not yet valid"))
        ));
        assert!(matches!(
            verify(&token, &keys, &lenient, 1_360),
            Err(AuthError::BadToken("expired"))
        ));
    }

    #[test]
    fn a_token_of_another_type_is_refused() {
        let keys = JwtKeys::new(JwtKey::generate("k1").unwrap());
        for typ in [None, Some("JWT"), Some("id_token+jwt")] {
            let mut header = Header::new(ALGORITHM);
            header.kid = Some("k1".into());
            header.typ = typ.map(str::to_string);
            use_crypto_provider();
            let token = jsonwebtoken::encode(
                &header,
                &claims(1_000),
                &EncodingKey::from_secret(&keys.signing.secret),
            )
            .unwrap();
            assert!(
                matches!(
                    verify(&token, &keys, &config(), 1_000),
                    Err(AuthError::BadToken("not an access token"))
                ),
                "{typ:?}"
            );
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtKey::new("k", vec![0u8; 31]).is_err());
    }
}
