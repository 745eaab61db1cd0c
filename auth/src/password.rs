//! Password hashing with argon2id: PHC strings at rest, constant-time verification.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AuthError;

/// The longest username a login may present (bytes); longer ones are refused unread.
pub const MAX_USERNAME_BYTES: usize = 256;
/// The longest password hashed or verified (bytes): argon2 would read a megabyte too.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes (threads) per hash.
    pub parallelism: u32,
}

impl Default for PasswordParams {
    /// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        PasswordParams {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

telepact::__option_setters!(PasswordParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
});

impl PasswordParams {
    /// Cheap parameters for tests only: they make guessing fast too.
    pub fn insecure_for_tests() -> Self {
        PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// Hashes new passwords and verifies presented ones against stored PHC strings
/// (which carry their own parameters, so old hashes keep verifying).
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Verified against when the user is unknown, so both cases cost the same.
    decoy: String,
}

impl PasswordHasher {
    /// A hasher using `params`; fails if Argon2 rejects them.
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when Argon2 rejects `params` (memory below eight times the
    /// parallelism, no iterations, ...).
    pub fn new(params: PasswordParams) -> Result<Self, AuthError> {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|_| AuthError::Internal("accept the argon2 parameters"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = PasswordHasher {
            argon2,
            decoy: String::new(),
        };
        hasher.decoy = hasher.hash("decoy password for unknown users")?;
        Ok(hasher)
    }

    /// A PHC string (`$argon2id$v=19$m=..`) with a fresh random salt.
    ///
    /// # Errors
    ///
    /// - [`AuthError::Malformed`] when `password` is longer than
    ///   [`MAX_PASSWORD_BYTES`](crate::MAX_PASSWORD_BYTES).
    /// - [`AuthError::Internal`] when Argon2 cannot hash it.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        use argon2::password_hash::PasswordHasher as _;
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::Malformed);
        }
        let salt = SaltString::generate(&mut OsRng);
        self.argon2
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| AuthError::Internal("hash a password"))
    }

    /// Whether `password` matches the stored PHC string. A malformed hash never matches.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        match PasswordHash::new(stored) {
            Ok(parsed) => self
                .argon2
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Whether `stored` was hashed otherwise than this hasher hashes now (another
    /// algorithm or version, other costs): after a login has proved the password, it
    /// should be hashed again, so that the account's hash gets the current costs and
    /// its logins take as long as an unknown user's (see
    /// [`UserLoader::replace_password_hash`](crate::UserLoader::replace_password_hash)).
    /// A malformed hash, which never verifies, needs none.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let current = self.argon2.params();
        let costs_match = Params::try_from(&parsed).is_ok_and(|stored| {
            (stored.m_cost(), stored.t_cost(), stored.p_cost())
                == (current.m_cost(), current.t_cost(), current.p_cost())
        });
        let current_version = u32::from(Version::V0x13);
        !(parsed.algorithm == Algorithm::Argon2id.ident()
            && parsed.version == Some(current_version)
            && costs_match)
    }

    /// Spends the time of one verification, for an unknown user.
    pub fn verify_decoy(&self, password: &str) {
        let _ = self.verify(password, &self.decoy);
    }
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        let stored = hasher.hash("correct horse").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$"));
        assert!(!stored.contains("correct horse"));
        assert!(hasher.verify("correct horse", &stored));
        assert!(!hasher.verify("correct horsf", &stored));
        assert!(!hasher.verify("correct horse", "not a phc string"));
    }

    #[test]
    fn a_hash_with_other_costs_needs_rehashing_and_a_current_one_does_not() {
        let current = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        let older = PasswordParams::insecure_for_tests().memory_kib(32);
        let older = PasswordHasher::new(older).unwrap();
        assert!(current.needs_rehash(&older.hash("pw").unwrap()));
        assert!(!current.needs_rehash(&current.hash("pw").unwrap()));
        // Other passes, lanes, algorithm or version each count.
        let stored = current.hash("pw").unwrap();
        for (from, to) in [
            (",t=1,", ",t=2,"),
            (",p=1$", ",p=2$"),
            ("argon2id", "argon2i"),
        ] {
            let changed = stored.replacen(from, to, 1);
            assert_ne!(changed, stored, "{from}");
            assert!(current.needs_rehash(&changed), "{changed}");
        }
        assert!(current.needs_rehash(&stored.replacen("$v=19$", "$v=16$", 1)));
        assert!(!current.needs_rehash("not a phc string"));
    }

    #[test]
    fn the_same_password_gets_a_fresh_salt() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        assert_ne!(hasher.hash("pw").unwrap(), hasher.hash("pw").unwrap());
    }
}
