//! Schema directories as the commands take them.

use std::fs;
use std::path::Path;

use telepact_schema::Schema;

use crate::error::CliError;

/// Refuses a directory with nothing in it. The loader takes it for a schema with no
/// definitions, and so would a compatibility check whose old schema failed to be
/// checked out: it would pass in silence. `flag` names the directory in errors, as
/// `compare` takes two.
pub(crate) fn refuse_empty(flag: &'static str, dir: &Path) -> Result<(), CliError> {
    let unreadable = |source| CliError::UnreadableSchemaDir {
        flag,
        dir: dir.to_path_buf(),
        source,
    };
    let mut entries = fs::read_dir(dir).map_err(unreadable)?;
    match entries.next() {
        Some(_) => Ok(()),
        None => Err(CliError::EmptySchemaDir {
            flag,
            dir: dir.to_path_buf(),
        }),
    }
}

/// The schema of `dir`, given with `flag`, which must hold at least one file.
pub(crate) fn load(flag: &'static str, dir: &Path) -> Result<Schema, CliError> {
    refuse_empty(flag, dir)?;
    Ok(Schema::from_dir(dir)?)
}

/// Names on stderr, a line each, the schema's `$` keys that are most likely mistakes
/// (see `Schema::warnings`): the command goes on. `flag` names the directory, where a
/// command takes two.
pub(crate) fn warn(schema: &Schema, flag: Option<&str>) {
    let named = flag.map(|flag| format!("{flag}: ")).unwrap_or_default();
    for warning in schema.warnings() {
        crate::console::print_error_line(&format!("warning: {named}{warning}"));
    }
}
