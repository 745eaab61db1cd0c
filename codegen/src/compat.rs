//! The build-time compatibility guard: a schema must stay backwards compatible with its
//! released copy (see [`Builder::compatible_with`](crate::Builder::compatible_with)).

use std::path::Path;

use telepact_schema::{Incompatibility, Schema, SchemaFiles, compare};

use crate::error::Error;

/// Fails with one located line per incompatible change of the schema in `dir` (already
/// loaded as `schema`) against the released schema in `released`.
pub(crate) fn check(schema: &Schema, dir: &Path, released: &Path) -> Result<(), Error> {
    let released_schema = Schema::from_dir(released).map_err(|source| Error::Released {
        released: released.to_path_buf(),
        source,
    })?;
    let found = compare(&released_schema, schema);
    if found.is_empty() {
        return Ok(());
    }
    // Each directory's files are read once, however many changes there are to locate.
    let files = Located {
        dir,
        new: SchemaFiles::read(dir),
        released: SchemaFiles::read(released),
    };
    let changes: Vec<String> = found.iter().map(|change| files.line(change)).collect();
    Err(Error::Incompatible {
        released: released.to_path_buf(),
        changes,
    })
}

/// The schema files of the new and the released schema.
struct Located<'a> {
    dir: &'a Path,
    new: SchemaFiles,
    released: SchemaFiles,
}

impl Located<'_> {
    /// `file:row:col: change`, pointing into the new schema, or into the released one
    /// for what the new schema no longer has.
    fn line(&self, change: &Incompatibility) -> String {
        match change
            .locate_in(&self.new)
            .or_else(|| change.locate_in(&self.released))
        {
            Some((file, at)) => format!("{}:{}:{}: {change}", file.display(), at.row, at.col),
            None => format!("{}: {change}", self.dir.display()),
        }
    }
}
