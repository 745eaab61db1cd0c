//! The NATS servers a URL names, and the credentials it carries (`nats://user:password@host`
//! or `nats://token@host`, as nats.go and the nats CLI take them), given to the
//! connection apart: async-nats 0.52 sends none of a URL's credentials, and writes
//! the URL whole, password included, in its debug lines on every connection attempt.

use std::str::FromStr;

use async_nats::{ConnectError, ConnectErrorKind, ConnectOptions, ServerAddr};

/// A URL's credentials, decoded from their percent-encoding.
#[derive(PartialEq, Eq)]
enum Credentials {
    UserAndPassword(String, String),
    Token(String),
}

/// `options` connecting as `url`'s credentials, if any, and `url`'s servers (a comma
/// separated list) without them.
///
/// # Errors
///
/// [`ConnectErrorKind::ServerParse`] for an address async-nats refuses, a credential
/// that is not UTF-8 once decoded, or servers naming different credentials (one
/// connection has one set).
pub(super) fn with_credentials(
    url: &str,
    options: ConnectOptions,
) -> Result<(Vec<ServerAddr>, ConnectOptions), ConnectError> {
    let refused = |why: &'static str| ConnectError::with_source(ConnectErrorKind::ServerParse, why);
    let mut credentials = None;
    let mut servers = Vec::new();
    for address in url.split(',').map(str::trim) {
        let address = ServerAddr::from_str(address)
            .map_err(|error| ConnectError::with_source(ConnectErrorKind::ServerParse, error))?;
        let mut url = address.into_inner();
        let named = credentials_of(url.username(), url.password())
            .ok_or_else(|| refused("credentials are not UTF-8"))?;
        if named.is_some() {
            if credentials.is_some() && credentials != named {
                return Err(refused("the servers name different credentials"));
            }
            credentials = named;
            // Cannot fail: the URL has a host, as it has credentials.
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        servers
            .push(ServerAddr::from_url(url).map_err(|error| {
                ConnectError::with_source(ConnectErrorKind::ServerParse, error)
            })?);
    }
    let options = match credentials {
        Some(Credentials::UserAndPassword(user, password)) => {
            options.user_and_password(user, password)
        }
        Some(Credentials::Token(token)) => options.token(token),
        None => options,
    };
    Ok((servers, options))
}

/// The credentials a URL's `user` and `password` parts carry (`None` within when none);
/// `None` when one is not UTF-8 once decoded.
fn credentials_of(user: &str, password: Option<&str>) -> Option<Option<Credentials>> {
    let decoded = |text: &str| {
        let text = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .ok()?;
        Some(text.into_owned())
    };
    Some(match (user, password) {
        ("", None) => None,
        (user, Some(password)) => Some(Credentials::UserAndPassword(
            decoded(user)?,
            decoded(password)?,
        )),
        (token, None) => Some(Credentials::Token(decoded(token)?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(url: &str) -> Result<Vec<String>, ConnectError> {
        let (servers, _) = with_credentials(url, ConnectOptions::new())?;
        Ok(servers
            .iter()
            .map(|server| server.as_url_str().to_string())
            .collect())
    }

    #[test]
    fn credentials_are_taken_out_of_every_server() {
        let url = "nats://ada:pa%40ss@10.0.0.1:4222, nats://ada:pa%40ss@10.0.0.2:4222";
        let both = servers(url).expect("one set of credentials");
        assert_eq!(both, ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"]);
        let decoded = credentials_of("ada", Some("pa%40ss"));
        let expected = Credentials::UserAndPassword("ada".into(), "pa@ss".into());
        assert!(decoded == Some(Some(expected)));
        let token = credentials_of("t0ken", None);
        assert!(token == Some(Some(Credentials::Token("t0ken".into()))));
        assert_eq!(
            servers("127.0.0.1:4222").unwrap(),
            ["nats://127.0.0.1:4222"]
        );
    }

    #[test]
    fn servers_naming_different_credentials_are_refused() {
        let url = "nats://ada:one@10.0.0.1,nats://ada:two@10.0.0.2";
        assert!(servers(url).is_err());
        assert!(servers("nats://ada:%FF@h").is_err());
        assert!(servers("http://h").is_err());
    }
}
