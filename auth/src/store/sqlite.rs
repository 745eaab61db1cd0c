//! The embedded default: one SQLite file that survives restarts.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use telepact::BoxFuture;

use super::{
    CredentialStore, PURGE_EVERY_WRITES, StoreError, purge_horizon, set_members, set_text,
};
use telepact::clock::{Clock, SystemClock, UnixTime};

const BACKEND: &str = "sqlite";

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS credentials (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        expires_at INTEGER
    );
";

/// Creates `path` owner-only when absent; refuses it (and its `-wal` and `-shm`) when
/// group or others have any access, or when another user owns it: that user could
/// have planted a signing key of their own.
#[cfg(unix)]
fn private_file(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            let detail = format!("{}: {e}", path.display());
            return Err(StoreError::new(BACKEND, "create its file", detail));
        }
    }
    if path.is_dir() {
        let detail = format!("{} is a directory, not a database file", path.display());
        return Err(StoreError::new(BACKEND, "open", detail));
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let Ok(metadata) = std::fs::metadata(&name) else {
            continue;
        };
        let name = Path::new(&name).display();
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(not_private(format!(
                "{name} has mode {mode:o}: it holds signing keys, so make it owner-only (chmod 600)"
            )));
        }
        let (owner, user) = (metadata.uid(), rustix::process::geteuid().as_raw());
        if owner != user {
            return Err(not_private(format!(
                "{name} belongs to user {owner}, not to this process's user {user}: it holds \
                 signing keys, so only the user the service runs as may own it"
            )));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn not_private(reason: String) -> StoreError {
    StoreError::new(BACKEND, "open", reason)
}

#[cfg(not(unix))]
fn private_file(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Credentials in a SQLite database. Clones share one connection; calls run on
/// tokio's blocking pool. Entries that expired five minutes before (by the store's
/// clock: the system's, or the one given to [`with_clock`](Self::with_clock)) are
/// dropped on opening and every few hundred writes after.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    writes: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
}

const PURGE: &str = "DELETE FROM credentials WHERE expires_at IS NOT NULL AND expires_at < ?1";

impl SqliteStore {
    /// Opens (creating when needed) the database at `path`, and drops entries that
    /// expired (by the system's clock) more than five minutes ago.
    ///
    /// The file holds the token-signing key: on Unix a new one is created `0600` (SQLite
    /// gives its `-wal` and `-shm` files the same mode), and an existing one that group
    /// or others may read or write is refused.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be created, is a directory, is not private
    /// (mode or owner, on Unix), or cannot be opened as a database; or when the table
    /// cannot be created or the expired entries purged.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        private_file(path)?;
        let connection = Connection::open(path).map_err(|e| StoreError::new(BACKEND, "open", e))?;
        Self::with_connection(connection)
    }

    /// A private in-memory database, for tests.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when SQLite cannot open the database or create its table.
    pub fn in_memory() -> Result<Self, StoreError> {
        let connection =
            Connection::open_in_memory().map_err(|e| StoreError::new(BACKEND, "open", e))?;
        Self::with_connection(connection)
    }

    fn with_connection(connection: Connection) -> Result<Self, StoreError> {
        connection
            .execute_batch(SCHEMA)
            .map_err(|e| StoreError::new(BACKEND, "create its table", e))?;
        connection
            .execute(PURGE, params![purge_horizon(&SystemClock)])
            .map_err(|e| StoreError::new(BACKEND, "purge expired entries", e))?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
            writes: Arc::new(AtomicU64::new(0)),
            clock: Arc::new(SystemClock),
        })
    }

    /// Purges by `clock` rather than the system's from now on: give it the clock the
    /// [`Authenticator`](crate::Authenticator) reads
    /// ([`with_clock`](crate::Authenticator::with_clock)), so that moving that clock
    /// past an expiry lets the entry go.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Runs a write; every few hundred, purges expired entries in the same turn.
    fn write<'a, T: Send + 'static>(
        &'a self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        let count = self.writes.fetch_add(1, Ordering::Relaxed);
        if count % PURGE_EVERY_WRITES != PURGE_EVERY_WRITES - 1 {
            return self.run(operation, work);
        }
        let horizon = purge_horizon(&*self.clock);
        self.run(operation, move |c| {
            let outcome = work(c)?;
            c.execute(PURGE, params![horizon])?;
            Ok(outcome)
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    fn run<'a, T: Send + 'static>(
        &'a self,
        operation: &'static str,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> BoxFuture<'a, Result<T, StoreError>> {
        let connection = Arc::clone(&self.connection);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let connection = connection.lock().unwrap_or_else(|e| e.into_inner());
                work(&connection)
            })
            .await
            .map_err(|e| StoreError::new(BACKEND, operation, e))?
            .map_err(|e| StoreError::new(BACKEND, operation, e))
        })
    }
}

/// Adds `member` to the set at `key` (or, with `add` false, removes it) in one
/// transaction, and gives the set's size. A set keeps the expiry it was created with;
/// an emptied one goes.
fn change_set(
    connection: &Connection,
    key: &str,
    member: &str,
    add: bool,
    expires_at: Option<UnixTime>,
) -> rusqlite::Result<u64> {
    let transaction = Transaction::new_unchecked(connection, TransactionBehavior::Immediate)?;
    let current: Option<(String, Option<UnixTime>)> = transaction
        .query_row(
            "SELECT value, expires_at FROM credentials WHERE key = ?1",
            params![key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let expires_at = current.as_ref().map_or(expires_at, |(_, at)| *at);
    let mut members = current
        .map(|(value, _)| set_members(&value))
        .unwrap_or_default();
    let changed = if add {
        members.insert(member.to_string())
    } else {
        members.remove(member)
    };
    if changed && members.is_empty() {
        transaction.execute("DELETE FROM credentials WHERE key = ?1", params![key])?;
    } else if changed {
        transaction.execute(
            "INSERT INTO credentials (key, value, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, set_text(&members), expires_at],
        )?;
    }
    transaction.commit()?;
    Ok(u64::try_from(members.len()).unwrap_or(u64::MAX))
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl CredentialStore for SqliteStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write("write", move |c| {
            c.execute(
                "INSERT INTO credentials (key, value, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                params![key, value, expires_at],
            )
            .map(drop)
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write("claim", move |c| {
            c.execute(
                "INSERT OR IGNORE INTO credentials (key, value, expires_at) VALUES (?1, ?2, ?3)",
                params![key, value, expires_at],
            )
            .map(|changed| changed == 1)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let key = key.to_string();
        self.run("read", move |c| {
            c.query_row(
                "SELECT value FROM credentials WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()
        })
    }

    fn add<'a>(
        &'a self,
        key: &'a str,
        delta: i64,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<i64, StoreError>> {
        let key = key.to_string();
        self.write("count", move |c| {
            c.query_row(
                "INSERT INTO credentials (key, value, expires_at) VALUES (?1, CAST(?2 AS TEXT), ?3)
                 ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + ?2 AS TEXT)
                 RETURNING CAST(value AS INTEGER)",
                params![key, delta, expires_at],
                |row| row.get(0),
            )
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let key = key.to_string();
        self.run("delete", move |c| {
            c.execute("DELETE FROM credentials WHERE key = ?1", params![key])
                .map(drop)
        })
    }

    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        expires_at: Option<UnixTime>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        let (key, member) = (key.to_string(), member.to_string());
        self.write("count", move |c| {
            change_set(c, &key, &member, true, expires_at)
        })
    }

    fn remove_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let (key, member) = (key.to_string(), member.to_string());
        self.run("count", move |c| {
            change_set(c, &key, &member, false, None).map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telepact::ErrorChain;

    #[tokio::test]
    async fn the_sqlite_store_keeps_the_contract() {
        super::super::contract::check(&SqliteStore::in_memory().unwrap()).await;
    }

    fn held(store: &SqliteStore) -> usize {
        let connection = store.connection.lock().unwrap();
        let held: i64 = connection
            .query_row("SELECT COUNT(*) FROM credentials", [], |row| row.get(0))
            .unwrap();
        usize::try_from(held).unwrap()
    }

    #[tokio::test]
    async fn a_store_given_a_clock_purges_by_it() {
        let clock = telepact::clock::ManualClock::starting_now();
        let store = SqliteStore::in_memory()
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        super::super::contract::check_purge_by_clock(&store, &clock, || held(&store)).await;
    }

    #[tokio::test]
    async fn expired_entries_are_purged_as_writes_go_on() {
        let store = SqliteStore::in_memory().unwrap();
        for n in 0..10 {
            store.put(&format!("old:{n}"), "{}", Some(0)).await.unwrap();
        }
        store.put("kept", "{}", None).await.unwrap();
        for _ in 0..PURGE_EVERY_WRITES {
            store.increment("count", Some(i64::MAX / 2)).await.unwrap();
        }
        assert_eq!(held(&store), 2);
    }

    #[tokio::test]
    async fn entries_survive_reopening_the_file() {
        let dir = std::env::temp_dir().join(format!("telepact-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("reopen.sqlite3");
        let _ = std::fs::remove_file(&path);
        {
            let store = SqliteStore::open(&path).unwrap();
            store.put("revoked:abc", "{}", None).await.unwrap();
        }
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(
            reopened.get("revoked:abc").await.unwrap().as_deref(),
            Some("{}")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_owner_only_and_a_shared_one_or_another_users_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("telepact-auth-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.sqlite3");
        {
            let store = SqliteStore::open(&path).unwrap();
            store.put("jwt-key", "{}", None).await.unwrap();
            for suffix in ["", "-wal", "-shm"] {
                let file = dir.join(format!("keys.sqlite3{suffix}"));
                assert_eq!(mode(&file), 0o600, "{}", file.display());
            }
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = SqliteStore::open(&path).expect_err("a shared file is refused");
        assert!(
            ErrorChain(&refused).to_string().contains("chmod 600"),
            "{}",
            ErrorChain(&refused)
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        // Only root may give a file away; another user's file cannot be made otherwise.
        match std::os::unix::fs::chown(&path, Some(65534), None) {
            Ok(()) => {
                let refused = SqliteStore::open(&path).expect_err("another's file is refused");
                assert!(
                    ErrorChain(&refused)
                        .to_string()
                        .contains("belongs to user 65534"),
                    "{}",
                    ErrorChain(&refused)
                );
            }
            Err(error) => eprintln!("SKIP: another user's file: cannot give one away: {error}"),
        }
        // A directory, or a file in one that does not exist, is named as such.
        let refused = SqliteStore::open(&dir).expect_err("a directory is refused");
        assert!(
            ErrorChain(&refused).to_string().contains("is a directory"),
            "{}",
            ErrorChain(&refused)
        );
        let missing = dir.join("absent/keys.sqlite3");
        let refused = SqliteStore::open(&missing).expect_err("no such folder");
        assert!(
            ErrorChain(&refused)
                .to_string()
                .contains(&missing.display().to_string()),
            "{}",
            ErrorChain(&refused)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
