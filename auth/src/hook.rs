//! The runtime's on-auth step: `@auth_` in, [`Identity`] out.

use std::net::IpAddr;

use axum::http::Extensions;
use telepact::{AuthFuture, AuthHook, AuthUnavailable, Authenticated, Headers, PeerAddress};

use crate::authenticator::Authenticator;
use crate::credential::Credential;
use crate::error::AuthError;
use crate::identity::Identity;

/// An [`AuthHook`] over an [`Authenticator`]: pass it to `ServerBuilder::on_auth`.
/// On success the request gains the [`Identity`] extension and its headers
/// ([`Identity::headers`]). Credentials checked and refused answer
/// `ErrorUnauthenticated_`; credentials that could not be checked
/// ([`AuthError::Store`]: the store did not answer, or refused a write;
/// [`AuthError::Internal`]; [`AuthError::Busy`]: every password-check place was taken)
/// answer `ErrorUnknown_` with a case id, the cause logged under it ([`AuthUnavailable`]),
/// so that a client keeps a token or password that may be good.
#[derive(Debug, Clone)]
pub struct AuthHookAdapter {
    authenticator: Authenticator,
}

impl Authenticator {
    /// This authenticator as the server's on-auth hook.
    pub fn hook(&self) -> AuthHookAdapter {
        AuthHookAdapter {
            authenticator: self.clone(),
        }
    }
}

impl AuthHook for AuthHookAdapter {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        self.authenticate_request(headers, &Extensions::new())
    }

    /// The failed-login limits per client address use the transport's
    /// [`PeerAddress`]; without one every login counts as from one address.
    fn authenticate_request(&self, headers: &Headers, transport: &Extensions) -> AuthFuture {
        let credential = headers
            .get("@auth_")
            .ok_or(AuthError::Missing)
            .and_then(Credential::from_auth_header);
        let peer = transport.get::<PeerAddress>().map(|peer| peer.0.ip());
        let address = peer.map(throttle_bucket);
        let authenticator = self.authenticator.clone();
        AuthFuture::new(async move {
            let outcome = match credential {
                Ok(credential) => {
                    authenticator
                        .authenticate(&credential, address.as_deref())
                        .await
                }
                Err(unreadable) => Err(unreadable),
            };
            match outcome {
                Ok(identity) => Ok(authenticated(identity)),
                // Logged by the server under the case id it answers (`credentials could
                // not be checked`, with the kind of credential and this cause).
                Err(failed @ (AuthError::Store(_) | AuthError::Internal(_) | AuthError::Busy)) => {
                    Err(AuthUnavailable::new(failed).into())
                }
                // Logged by the server (`credentials refused`, with the kind of
                // credential, the client's address and this reason, a bounded number
                // of lines a second); never what the caller sent (a password typed in
                // the user name field would reach the log).
                Err(refused) => Err(refused.into()),
            }
        })
    }

    /// The identity headers: only a verified credential may set them.
    fn reserved_headers(&self) -> &[&'static str] {
        Identity::HEADER_NAMES
    }
}

/// The failed-login bucket of a client address: the address a client counts under
/// ([`telepact::http::client_of`]): an IPv4 address itself, however written, an IPv6
/// address's /64 (one subscriber's whole allocation, which a guesser can rotate through).
fn throttle_bucket(address: IpAddr) -> String {
    match telepact::http::client_of(address) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

fn authenticated(identity: Identity) -> Authenticated {
    let mut authenticated = Authenticated::new();
    for (name, value) in identity.headers() {
        authenticated = authenticated.header(name, value);
    }
    authenticated.extension(identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IPv4 clients behind a NAT64 or SIIT translator each have their own failed logins:
    /// sharing the translator's /64, one guesser locked every one of them out.
    #[test]
    fn ipv4_clients_behind_a_nat64_translator_are_throttled_each_as_itself() {
        let bucket = |text: &str| throttle_bucket(text.parse().unwrap());
        assert_ne!(bucket("64:ff9b::10.0.0.1"), bucket("64:ff9b::10.0.0.2"));
        assert_eq!(bucket("64:ff9b::10.0.0.1"), bucket("10.0.0.1"));
        assert_eq!(bucket("::ffff:10.0.0.1"), bucket("10.0.0.1"));
        assert_eq!(bucket("2001:db8:0:1::1"), bucket("2001:db8:0:1::2"));
        assert_ne!(bucket("2001:db8:0:1::1"), bucket("2001:db8:0:2::1"));
    }
}
