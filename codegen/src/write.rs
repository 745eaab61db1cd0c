//! Writing generated files: only when their content changes, and never half.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, Permissions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::Error;

/// Writes `content` to `path` unless the file already holds it, so that an up-to-date
/// file keeps its mtime and triggers no rebuild.
///
/// A regular file, or one not there yet, is replaced by renaming a temporary file of its
/// directory over it: a failed write (a full disk, a file-size limit) leaves the old
/// file whole. A stream ([`names_a_stream`]) or any other existing path that is no
/// regular file (a FIFO) is written directly, at its end, and never read, as reading it
/// could block or never end.
///
/// # Errors
///
/// [`Error::Io`], with the path concerned, when `path` or its directory cannot be read,
/// created or written, or the temporary file cannot be renamed over it.
pub fn write_if_changed(path: &Path, content: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if names_a_stream(path) {
        return write_directly(path, content).map_err(io);
    }
    match fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => write_directly(path, content).map_err(io),
        found => replace_found(path, found, content),
    }
}

/// Makes `path` a regular file holding `content` unless it is one already: the file
/// of a directory (`telepact fetch`'s schema), never a stream, wherever it is (a
/// directory under `/dev/shm`). What is in its place otherwise (a FIFO) is replaced,
/// by renaming a temporary file of its directory over it.
///
/// # Errors
///
/// [`Error::Io`], with the path concerned, when `path` or its directory cannot be read,
/// created or written, or the temporary file cannot be renamed over it.
pub fn replace_if_changed(path: &Path, content: &str) -> Result<(), Error> {
    replace_found(path, fs::metadata(path), content)
}

/// [`replace_if_changed`], given what is at `path` (`found`, its metadata).
fn replace_found(path: &Path, found: io::Result<Metadata>, content: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    match found {
        Ok(metadata) if metadata.is_file() && holds(path, &metadata, content) => Ok(()),
        Ok(metadata) => {
            // Through a symbolic link, replace its target and keep the link.
            let target = fs::canonicalize(path).map_err(io)?;
            let permissions = metadata.is_file().then(|| metadata.permissions());
            replace(&target, content, permissions).map_err(io)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            create_parent(path)?;
            replace(path, content, None).map_err(io)
        }
        Err(error) => Err(io(error)),
    }
}

/// Whether `path` is a regular file holding exactly `content`: what
/// [`write_if_changed`] would leave untouched. A file is read no further than
/// `content`'s length, and anything else (a device, a FIFO) is never read.
pub fn file_holds(path: &Path, content: &str) -> bool {
    fs::metadata(path).is_ok_and(|metadata| metadata.is_file() && holds(path, &metadata, content))
}

/// Whether the regular file at `path` holds `content`, read no further than its length.
fn holds(path: &Path, metadata: &Metadata, content: &str) -> bool {
    let length = content.len() as u64;
    if metadata.len() != length {
        return false;
    }
    let mut existing = Vec::with_capacity(content.len());
    File::open(path)
        .and_then(|file| file.take(length).read_to_end(&mut existing))
        .is_ok_and(|_| existing == content.as_bytes())
}

/// Whether `path` names a stream rather than a file: a device or a descriptor under
/// `/dev` or `/proc` (`/dev/stdout`, `/dev/fd/1`). Such a path may lead to a file the
/// shell opened (`>> build.log`), which replacing by rename would lose.
pub fn names_a_stream(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// Writes at the end of `path`: a file behind a descriptor opened for appending keeps
/// what it held.
fn write_directly(path: &Path, content: &str) -> io::Result<()> {
    File::options()
        .append(true)
        .open(path)?
        .write_all(content.as_bytes())
}

fn create_parent(path: &Path) -> Result<(), Error> {
    match path.parent() {
        Some(parent) => fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        }),
        None => Ok(()),
    }
}

/// Writes `content` to a temporary file beside `path` and renames it over `path`. The
/// temporary file is removed on any failure (dropping it removes it). `permissions` are
/// the replaced file's; a new file gets those `fs::write` would give it.
fn replace(path: &Path, content: &str, permissions: Option<Permissions>) -> io::Result<()> {
    let mut temporary = create_temporary(path)?;
    temporary.write_all(content.as_bytes())?;
    if let Some(permissions) = permissions {
        temporary.as_file().set_permissions(permissions)?;
    }
    // On disk before the rename, so that a crash cannot leave the name on an empty file.
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// A temporary file beside `path`, named after it (`.api.rs.a1b2c3.tmp`) so that one
/// left by a killed process says where it came from.
fn create_temporary(path: &Path) -> io::Result<NamedTempFile> {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // As `fs::write` creates a file: readable and writable by all, less the umask.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(Permissions::from_mode(0o666));
    }
    builder.tempfile_in(directory_of(path))
}

/// The directory `path` is in: `.` for a bare file name.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
