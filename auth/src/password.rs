//! Password hashing with argon2id: PHC strings at rest, constant-time verification.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AuthError;
use crate::password_memory::HashMemory;

/// The longest username a login may present (bytes); longer ones are refused unread.
pub const MAX_USERNAME_BYTES: usize = 256;
/// The longest password hashed or verified (bytes): argon2 would read a megabyte too.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The most memory a stored hash may ask for (KiB): 2 GiB, RFC 9106's first
/// recommendation, unless the hasher's own costs ask for more.
const MOST_STORED_MEMORY_KIB: u32 = 1 << 21;

/// The most memory times passes a stored hash may ask for (KiB): two passes over the
/// most memory, unless the hasher's own costs ask for more.
const MOST_STORED_WORK: u64 = 1 << 22;

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
/// (which carry their own parameters, so old hashes keep verifying). Clones share the
/// memory argon2 works in: as many buffers of `memory_kib` as hashes have run at once
/// (at most the [`AuthConfig::password_checks`](crate::AuthConfig::password_checks) of an
/// [`Authenticator`](crate::Authenticator)'s) stay allocated for the next hashes.
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    /// Verified against when the user is unknown, so both cases cost the same.
    decoy: String,
    memory: Arc<HashMemory>,
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
        let keep = std::thread::available_parallelism().map_or(1, usize::from);
        let mut hasher = PasswordHasher {
            argon2,
            decoy: String::new(),
            memory: Arc::new(HashMemory::new(keep)),
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
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::Malformed);
        }
        let salt = SaltString::generate(&mut OsRng);
        let params = self.argon2.params().clone();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = self
            .output(&self.argon2, password, salt.as_salt(), output_len)
            .map_err(|_| AuthError::Internal("hash a password"))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|_| AuthError::Internal("hash a password"))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` matches the stored PHC string. A malformed hash never matches,
    /// and costs what a well-formed one does.
    pub fn verify(&self, password: &str, stored: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        self.check(password, stored).unwrap_or_else(|| {
            // An unusable hash (none set, a placeholder for an account without a
            // password) costs what a real one does: refused at once, it would tell a
            // guesser that the account exists.
            let _ = self.check(password, &self.decoy);
            false
        })
    }

    /// Whether `password` matches `stored`; `None`, before any hashing, when `stored`
    /// cannot be checked against.
    fn check(&self, password: &str, stored: &str) -> Option<bool> {
        let parsed = PasswordHash::new(stored).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let argon2 = hasher_of(&parsed).filter(|argon2| self.affordable(argon2.params()))?;
        let output = self.output(&argon2, password, salt, expected.len()).ok()?;
        // `Output` compares in constant time.
        Some(output == expected)
    }

    /// `argon2`'s hash of `password` with `salt`, `len` bytes long, worked out in kept
    /// memory (see [`HashMemory`]).
    fn output(
        &self,
        argon2: &Argon2<'_>,
        password: &str,
        salt: Salt<'_>,
        len: usize,
    ) -> Result<Output, argon2::password_hash::Error> {
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt = salt.decode_b64(&mut salt_bytes)?;
        let mut memory = self.memory.take(argon2.params().block_count());
        let output = Output::init_with(len, |out| {
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory)
                .map_err(argon2::password_hash::Error::from)
        });
        self.memory.give_back(memory);
        output
    }

    /// Whether a stored hash's costs are within [`MOST_STORED_MEMORY_KIB`] and
    /// [`MOST_STORED_WORK`] (or this hasher's own, when higher): a corrupt or hostile
    /// hash could ask for terabytes, which aborts the process, or passes without end,
    /// which hold a check's place for good.
    fn affordable(&self, stored: &Params) -> bool {
        let current = self.argon2.params();
        let work = |params: &Params| u64::from(params.m_cost()) * u64::from(params.t_cost());
        stored.m_cost() <= MOST_STORED_MEMORY_KIB.max(current.m_cost())
            && work(stored) <= MOST_STORED_WORK.max(work(current))
    }

    /// Keeps memory for `checks` hashes at once: as many as run at once.
    pub(crate) fn keeping_memory_for(mut self, checks: usize) -> Self {
        self.memory = Arc::new(HashMemory::new(checks));
        self
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

    /// Whether `stored` is a hash a password can verify against: an argon2 PHC string
    /// with its salt and output, as argon2 takes them. A placeholder (`!`, empty), a hash
    /// of another scheme or a password written in its place is not: no password ever
    /// verifies against it. Its costs are not weighed here: one asking for more than
    /// [`verify`](Self::verify) affords is still refused there.
    pub fn is_argon2_hash(stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(output)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt_taken = salt
            .decode_b64(&mut salt_bytes)
            .is_ok_and(|salt| salt.len() >= argon2::MIN_SALT_LEN);
        salt_taken && output.len() >= Params::MIN_OUTPUT_LEN && hasher_of(&parsed).is_some()
    }

    /// Spends the time of one verification, for an unknown user.
    pub fn verify_decoy(&self, password: &str) {
        let _ = self.verify(password, &self.decoy);
    }
}

/// The hasher a stored PHC string was made with: its algorithm, version and costs.
fn hasher_of(stored: &PasswordHash<'_>) -> Option<Argon2<'static>> {
    let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
    let version = match stored.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(stored).ok()?;
    Some(Argon2::new(algorithm, version, params))
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

    /// Hashes made in kept memory are argon2's own: each verifies the other's.
    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

        let ours = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        let params = Params::new(64, 1, 1, None).unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let salt = SaltString::generate(&mut OsRng);
        let made_by_them = theirs.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(ours.verify("pw", &made_by_them));
        assert!(!ours.verify("px", &made_by_them));
        let made_by_us = ours.hash("pw").unwrap();
        let parsed = PasswordHash::new(&made_by_us).unwrap();
        assert!(theirs.verify_password(b"pw", &parsed).is_ok());
        // Older forms verify too: argon2i, version 16, a 64-byte output, two lanes.
        let older = Params::new(64, 2, 2, Some(64)).unwrap();
        let older = Argon2::new(Algorithm::Argon2i, Version::V0x10, older);
        let made_long_ago = older.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(ours.verify("pw", &made_long_ago));
        assert!(!ours.verify("px", &made_long_ago));
        assert!(PasswordHasher::is_argon2_hash(&made_long_ago));
    }

    /// A stored hash that cannot be used (none set, a placeholder for an account without
    /// a password, a salt or output too short) costs what a real one does: answered at
    /// once, it told a guesser that the account exists. The work done is read from the
    /// memory argon2 worked in, not from a clock.
    #[test]
    fn an_unusable_stored_hash_costs_what_a_real_one_does() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        let real = hasher.hash("pw").unwrap();
        let one_hash = vec![hasher.argon2.params().block_count()];
        let short_salt =
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let short_output = real.rsplit_once('$').unwrap().0.to_string() + "$AAAA";
        for stored in [
            "",
            "!",
            "*",
            "not a phc string",
            short_salt,
            &short_output,
            &real,
        ] {
            let fresh = hasher.clone().keeping_memory_for(1);
            assert!(!fresh.verify("wrong", stored));
            assert_eq!(fresh.memory.kept_sizes(), one_hash, "{stored:?}");
            assert_eq!(PasswordHasher::is_argon2_hash(stored), stored == real);
        }
    }

    /// A stored hash asking for terabytes of memory, or passes without end, is refused
    /// at the cost of a real one: worked out, it aborted the process, or held a check's
    /// place for good.
    #[test]
    fn a_stored_hash_costing_more_than_any_service_asks_is_not_worked_out() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        let real = hasher.hash("pw").unwrap();
        for (from, to) in [(",t=1,", ",t=4294967295,"), ("m=64,", "m=4294967295,")] {
            let costly = real.replacen(from, to, 1);
            assert_ne!(costly, real, "{from}");
            let (verified, answer) = std::sync::mpsc::channel();
            let hasher = hasher.clone();
            let stored = costly.clone();
            std::thread::spawn(move || verified.send(hasher.verify("pw", &stored)));
            let answer = answer.recv_timeout(std::time::Duration::from_secs(10));
            assert_eq!(answer, Ok(false), "{costly}");
        }
    }

    #[test]
    fn the_same_password_gets_a_fresh_salt() {
        let hasher = PasswordHasher::new(PasswordParams::insecure_for_tests()).unwrap();
        assert_ne!(hasher.hash("pw").unwrap(), hasher.hash("pw").unwrap());
    }
}
