//! The demo user directory: `users.json`, holding argon2id hashes (never passwords).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use telepact_auth::{MemoryUsers, PasswordHasher, User};

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

/// Why a users file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Not a JSON array of entries with exactly the keys an entry has.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Two entries sign in with one username: the second would replace the first's
    /// login and leave its user in the directory.
    #[error("the username `{0}` is in more than one entry")]
    DuplicateUsername(String),
    /// Two entries are one user: the first's login would sign in with the second's
    /// tenant, roles and scopes.
    #[error("the user id `{0}` is in more than one entry")]
    DuplicateUserId(String),
    /// An entry's `passwordHash` is no argon2 hash (a password written in its place, a
    /// hash of another scheme, one cut short): no password would ever sign that user in.
    #[error(
        "the passwordHash of `{0}` is no argon2 hash, so no password signs that user in \
         (make one with `hash-password`)"
    )]
    UnusableHash(String),
}

/// Why the users file a binary was given (`--users`) was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file as given.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The file reads, but is not a users file.
    #[error("{} is not a users file", path.display())]
    Invalid {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: DirectoryError,
    },
}

/// Reads the users file at `path` into a directory, as the binaries' `--users` does.
///
/// # Errors
///
/// [`UsersFileError::Read`] when the file cannot be read, and
/// [`UsersFileError::Invalid`] when it is not a users file ([`load`]'s errors).
pub fn load_file(path: &Path) -> Result<MemoryUsers, UsersFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load(&text).map_err(|source| UsersFileError::Invalid {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a users file (a JSON array of entries) into a directory.
///
/// # Errors
///
/// - [`DirectoryError::Json`] when `text` is not a JSON array of entries with exactly
///   `username`, `userId`, `tenant`, `roles`, `scopes` and `passwordHash`.
/// - [`DirectoryError::DuplicateUsername`] or [`DirectoryError::DuplicateUserId`] when
///   two entries share one.
/// - [`DirectoryError::UnusableHash`] when an entry's `passwordHash` is no argon2 hash.
pub fn load(text: &str) -> Result<MemoryUsers, DirectoryError> {
    let entries: Vec<Entry> = serde_json::from_str(text)?;
    let (mut usernames, mut user_ids) = (BTreeSet::new(), BTreeSet::new());
    for entry in &entries {
        if !usernames.insert(entry.username.as_str()) {
            return Err(DirectoryError::DuplicateUsername(entry.username.clone()));
        }
        if !user_ids.insert(entry.user_id.as_str()) {
            return Err(DirectoryError::DuplicateUserId(entry.user_id.clone()));
        }
    }
    if let Some(entry) = entries
        .iter()
        .find(|entry| !PasswordHasher::is_argon2_hash(&entry.password_hash))
    {
        return Err(DirectoryError::UnusableHash(entry.username.clone()));
    }
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

    /// A second entry for a username would replace the first's login and leave its user
    /// behind; one for a user id would give the first entry's login the second's tenant,
    /// roles and scopes (a copied admin entry whose `userId` was not changed).
    #[test]
    fn two_entries_for_one_username_or_user_id_are_refused() {
        let cases = [
            (entry("dave", "u-1", ""), entry("dave", "u-2", ""), "`dave`"),
            (entry("dave", "u-1", ""), entry("erin", "u-1", ""), "`u-1`"),
        ];
        for (first, second, named) in cases {
            let error = load(&format!("[{first}, {second}]"))
                .expect_err(named)
                .to_string();
            assert!(error.contains(named), "{error}");
        }
    }

    /// An entry whose `passwordHash` no password can verify against (a password written
    /// in its place, a hash of another scheme, one cut short) is refused, naming its
    /// username: it was taken, and that user could never sign in, with no word of why.
    #[test]
    fn an_entry_whose_password_hash_is_unusable_is_refused() {
        let demo: serde_json::Value = serde_json::from_str(DEMO_USERS).unwrap();
        let real = demo[0]["passwordHash"].as_str().unwrap();
        let cut_short = &real[..real.len() - 20];
        let bcrypt = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW";
        for unusable in ["wonderland", "", "!", bcrypt, cut_short] {
            let text = format!("[{}]", entry("dave", "u-dave", "")).replace(
                r#""passwordHash": "!""#,
                &format!(r#""passwordHash": "{unusable}""#),
            );
            let error = load(&text).expect_err(unusable).to_string();
            assert!(error.contains("`dave`"), "{unusable}: {error}");
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
