//! The demo user directory: `users.json`, holding argon2id hashes (never passwords).

use std::collections::BTreeSet;

use serde::Deserialize;
use telepact_auth::{MemoryUsers, User};

/// The demo users shipped with the example (passwords in the README).
pub const DEMO_USERS: &str = include_str!("../users.json");

/// An entry of a users file. A key it does not know is refused rather than passed over:
/// a `"disabled": true` or a misspelt `"role"` edited in by hand would otherwise leave
/// the account signing in as it did.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    username: String,
    user_id: String,
    tenant: String,
    roles: BTreeSet<String>,
    scopes: BTreeSet<String>,
    password_hash: String,
}

/// Reads a users file (a JSON array of entries) into a directory.
///
/// # Errors
///
/// The [`serde_json::Error`] when `text` is not a JSON array of entries with
/// `username`, `userId`, `tenant`, `roles`, `scopes` and `passwordHash`.
pub fn load(text: &str) -> Result<MemoryUsers, serde_json::Error> {
    let entries: Vec<Entry> = serde_json::from_str(text)?;
    let users = MemoryUsers::new();
    for entry in entries {
        let user = User {
            user_id: entry.user_id,
            tenant: entry.tenant,
            roles: entry.roles,
            scopes: entry.scopes,
            disabled: false,
        };
        users.insert(&entry.username, entry.password_hash, user);
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory_loads_and_holds_no_plaintext() {
        let users = load(DEMO_USERS).unwrap();
        let ids: Vec<String> = users.users().into_iter().map(|u| u.user_id).collect();
        assert_eq!(ids, ["u-alice", "u-bob", "u-carol"]);
        assert!(!DEMO_USERS.contains("\"password\""));
    }

    /// One entry of a users file, with `extra` keys added.
    fn entry(username: &str, user_id: &str, extra: &str) -> String {
        format!(
            r#"{{"username": "{username}", "userId": "{user_id}", "tenant": "t", "roles": [],
                "scopes": [], "passwordHash": "!"{extra}}}"#
        )
    }

    #[test]
    fn an_entry_with_a_key_the_directory_does_not_know_is_refused() {
        for extra in [r#", "disabled": true"#, r#", "role": ["admin"]"#] {
            let text = format!("[{}]", entry("dave", "u-dave", extra));
            let error = load(&text).expect_err(extra).to_string();
            assert!(error.contains("unknown field"), "{error}");
        }
    }

    #[tokio::test]
    async fn a_demo_password_signs_in() {
        use std::sync::Arc;
        use telepact_auth::{AuthConfig, Authenticator, Credential, JwtKey, JwtKeys, MemoryStore};
        let users = load(DEMO_USERS).unwrap();
        let keys = JwtKeys::new(JwtKey::generate("k").unwrap());
        let config = AuthConfig::new("iss", "aud");
        let auth = Authenticator::new(config, keys, Arc::new(users), Arc::new(MemoryStore::new()))
            .unwrap();
        let credential = Credential::Password {
            username: "carol".into(),
            password: "carol-globex".into(),
        };
        let identity = auth.authenticate(&credential, None).await.unwrap();
        assert_eq!(identity.tenant, "globex");
    }
}
