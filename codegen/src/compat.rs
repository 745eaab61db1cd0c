//! The build-time compatibility guard: a schema must stay backwards compatible with its
//! released copy (see [`Builder::compatible_with`](crate::Builder::compatible_with)).

use std::path::Path;

use telepact_schema::{Incompatibility, Schema, compare};

use crate::error::Error;

/// Fails with one located line per incompatible change of the schema in `dir` (already
/// loaded as `schema`) against the released schema in `released`.
pub(crate) fn check(schema: &Schema, dir: &Path, released: &Path) -> Result<(), Error> {
    let released_schema = Schema::from_dir(released)?;
    let changes: Vec<String> = compare(&released_schema, schema)
        .iter()
        .map(|change| located(change, dir, released))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    Err(Error::Incompatible {
        released: released.to_path_buf(),
        changes,
    })
}

/// `file:row:col: change`, pointing into the new schema, or into the released one for
/// what the new schema no longer has.
fn located(change: &Incompatibility, dir: &Path, released: &Path) -> String {
    match change
        .locate_in_dir(dir)
        .or_else(|| change.locate_in_dir(released))
    {
        Some((file, at)) => format!("{}:{}:{}: {change}", file.display(), at.row, at.col),
        None => format!("{}: {change}", dir.display()),
    }
}
