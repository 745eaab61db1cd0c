//! Where users come from: a trait the service implements over its own directory.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use telepact::BoxFuture;

use crate::error::AuthError;

/// A user as policy sees them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct User {
    /// The stable id credentials and tokens refer to.
    pub user_id: String,
    /// The tenant (organisation) the user belongs to.
    pub tenant: String,
    /// Roles checked by [`Policy`](crate::Policy).
    pub roles: BTreeSet<String>,
    /// Everything this user's credentials may be scoped to.
    pub scopes: BTreeSet<String>,
    /// A disabled user's credentials all stop working at once.
    pub disabled: bool,
}

/// What a password login needs: whose account it is and the stored argon2id hash.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginRecord {
    /// The account's user id.
    pub user_id: String,
    /// The argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for LoginRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRecord")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Finds users. Called on every authenticated request (to enrich the identity and to
/// notice disabled users), so implementations may cache.
pub trait UserLoader: Send + Sync + 'static {
    /// The login record for a username, if there is such an account.
    fn find_login(&self, username: &str) -> BoxFuture<'_, Result<Option<LoginRecord>, AuthError>>;

    /// The user with this id, if any.
    fn load_user(&self, user_id: &str) -> BoxFuture<'_, Result<Option<User>, AuthError>>;

    /// Whether [`replace_password_hash`](Self::replace_password_hash) stores anything:
    /// `false`, the default, for a directory the service only reads. When `true`, a
    /// login whose password checks against a hash with other costs than the
    /// authenticator's hashes the password again, once, and hands the new hash over.
    fn stores_password_hashes(&self) -> bool {
        false
    }

    /// Replaces `username`'s stored hash with `new_hash` (the same password, hashed with
    /// the current costs), if it is still `old_hash`: a password changed meanwhile stays
    /// as it was set. Hashes made with older costs are cheaper to guess, and a login
    /// against one takes another time than an unknown user's, which tells an attacker
    /// the account exists; each such account moves to the current costs at its next
    /// login. The default stores nothing.
    fn replace_password_hash(
        &self,
        username: &str,
        old_hash: &str,
        new_hash: String,
    ) -> BoxFuture<'_, Result<(), AuthError>> {
        let _ = (username, old_hash, new_hash);
        Box::pin(async { Ok(()) })
    }
}

/// An in-memory user directory (holding argon2id hashes, never passwords).
#[derive(Debug, Clone, Default)]
pub struct MemoryUsers {
    inner: Arc<RwLock<Directory>>,
}

#[derive(Debug, Default)]
struct Directory {
    users: HashMap<String, User>,
    logins: HashMap<String, LoginRecord>,
}

impl MemoryUsers {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a user who signs in as `username` with the password whose
    /// PHC hash is `password_hash`.
    pub fn insert(&self, username: &str, password_hash: String, user: User) {
        let mut directory = self.write();
        directory.logins.insert(
            username.to_string(),
            LoginRecord {
                user_id: user.user_id.clone(),
                password_hash,
            },
        );
        directory.users.insert(user.user_id.clone(), user);
    }

    /// Disables or re-enables a user.
    pub fn set_disabled(&self, user_id: &str, disabled: bool) {
        if let Some(user) = self.write().users.get_mut(user_id) {
            user.disabled = disabled;
        }
    }

    /// Every user, sorted by id.
    pub fn users(&self) -> Vec<User> {
        let directory = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let mut users: Vec<User> = directory.users.values().cloned().collect();
        users.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        users
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl UserLoader for MemoryUsers {
    fn find_login(&self, username: &str) -> BoxFuture<'_, Result<Option<LoginRecord>, AuthError>> {
        let directory = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let found = directory.logins.get(username).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn load_user(&self, user_id: &str) -> BoxFuture<'_, Result<Option<User>, AuthError>> {
        let directory = self.inner.read().unwrap_or_else(|e| e.into_inner());
        let found = directory.users.get(user_id).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn stores_password_hashes(&self) -> bool {
        true
    }

    fn replace_password_hash(
        &self,
        username: &str,
        old_hash: &str,
        new_hash: String,
    ) -> BoxFuture<'_, Result<(), AuthError>> {
        if let Some(login) = self.write().logins.get_mut(username)
            && login.password_hash == old_hash
        {
            login.password_hash = new_hash;
        }
        Box::pin(async { Ok(()) })
    }
}
