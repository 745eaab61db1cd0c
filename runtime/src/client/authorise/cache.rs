//! A token kept in a file between runs, readable by its owner only.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::secret::Secret;
use super::token::Token;

/// A JSON file holding the last token, so a restarted client skips signing in while
/// the token lives. Written atomically with owner-only permissions (0600 on Unix); a
/// file that is missing, unreadable, corrupt, readable by others or owned by another
/// user is ignored (with a warning in all but the first case) and replaced by the next
/// token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCache {
    path: PathBuf,
}

impl TokenCache {
    /// A cache in the file at `path`; nothing is read or written yet.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TokenCache { path: path.into() }
    }

    /// The file the token is kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The cached token, whatever its remaining lifetime (the authoriser checks that).
    pub fn load(&self) -> Option<Token> {
        let mut file = match fs::File::open(&self.path) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(path = %self.path.display(), error = %crate::ErrorChain(&error), "token cache unreadable; ignoring it");
                return None;
            }
        };
        // Checked on the file opened, not on its path again, so it cannot be swapped
        // between the check and the read.
        if let Some(why) = file.metadata().ok().as_ref().and_then(not_private) {
            tracing::warn!(path = %self.path.display(), why, "token cache is not private to this user; ignoring it");
            return None;
        }
        let mut text = Zeroizing::new(String::new());
        if let Err(error) = file.read_to_string(&mut text) {
            tracing::warn!(path = %self.path.display(), error = %crate::ErrorChain(&error), "token cache unreadable; ignoring it");
            return None;
        }
        let token = parse(&text);
        if token.is_none() {
            tracing::warn!(path = %self.path.display(), "token cache is corrupt; ignoring it");
        }
        token
    }

    /// Replaces the cached token.
    ///
    /// # Errors
    ///
    /// The [`io::Error`] of creating the file's directory, or of writing, syncing or
    /// renaming the staging file beside it.
    pub fn store(&self, token: &Token) -> io::Result<()> {
        let text = Zeroizing::new(render(token).to_string());
        if let Some(parent) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        // One staging file per store, so stores at once (two caches of one file) never
        // remove or rename each other's half-written file.
        static STORES: AtomicU64 = AtomicU64::new(0);
        let store = STORES.fetch_add(1, Ordering::Relaxed);
        let mut staging = self.path.clone().into_os_string();
        staging.push(format!(".{}.{store}.tmp", std::process::id()));
        let staging = PathBuf::from(staging);
        // One left by an earlier process of the same id.
        let _ = fs::remove_file(&staging);
        let written = owner_only().open(&staging).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            drop(file);
            fs::rename(&staging, &self.path)
        });
        if written.is_err() {
            // It holds the token, and its name is never used again.
            let _ = fs::remove_file(&staging);
        }
        written
    }

    /// [`store`](Self::store) on tokio's blocking pool, so the file write and its
    /// fsync never hold up an async worker thread.
    ///
    /// # Errors
    ///
    /// As [`store`](Self::store); also an [`io::Error`] when the blocking task panics or
    /// is cancelled.
    pub async fn store_in_background(&self, token: &Token) -> io::Result<()> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.store(token);
        };
        let (cache, token) = (self.clone(), token.clone());
        runtime
            .spawn_blocking(move || cache.store(&token))
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join)))
    }

    /// Deletes the cached token (a missing file is fine).
    ///
    /// # Errors
    ///
    /// The [`io::Error`] of removing the file, unless it is [`io::ErrorKind::NotFound`].
    pub fn clear(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

fn render(token: &Token) -> Value {
    let mut fields = Map::new();
    fields.insert("access_token".into(), token.access_token.expose().into());
    if let Some(refresh) = &token.refresh_token {
        fields.insert("refresh_token".into(), refresh.expose().into());
    }
    if let Some(at) = token.expires_at {
        let seconds = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        fields.insert("expires_at".into(), seconds.into());
    }
    Value::Object(fields)
}

fn parse(text: &str) -> Option<Token> {
    let value: Value = serde_json::from_str(text).ok()?;
    let fields = value.as_object()?;
    let secret = |name: &str| fields.get(name).and_then(Value::as_str).map(Secret::new);
    let mut token = Token::new(secret("access_token")?);
    token.refresh_token = match fields.get("refresh_token") {
        None => None,
        Some(_) => Some(secret("refresh_token")?),
    };
    token.expires_at = match fields.get("expires_at") {
        None => None,
        // A time past what `SystemTime` holds makes the file unreadable, not a panic.
        Some(seconds) => {
            Some(SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds.as_u64()?))?)
        }
    };
    Some(token)
}

#[cfg(unix)]
fn owner_only() -> fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    options
}

#[cfg(not(unix))]
fn owner_only() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    options
}

/// Why a cache file is not this user's alone: group or others may read or write it, or
/// another user owns it (who could have planted a token of their own account, for this
/// client to act in).
#[cfg(unix)]
fn not_private(metadata: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mode = metadata.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Some(format!("mode {mode:o}"));
    }
    let me = rustix::process::getuid().as_raw();
    (metadata.uid() != me).then(|| format!("owned by uid {}, not {me}", metadata.uid()))
}

#[cfg(not(unix))]
fn not_private(_metadata: &fs::Metadata) -> Option<String> {
    None
}
