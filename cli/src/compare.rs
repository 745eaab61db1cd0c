//! `telepact compare`: is a new schema backwards compatible with an old one?

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use telepact_schema::compare;

use crate::{Outcome, console};

#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// New telepact schema directory
    #[arg(long)]
    new_schema_dir: PathBuf,
    /// Old telepact schema directory
    #[arg(long)]
    old_schema_dir: PathBuf,
}

/// Prints the verdict and each incompatible change; exits 1 when there is one.
pub(crate) fn run(args: &CompareArgs) -> Outcome {
    let new = crate::schema_dir::load("--new-schema-dir", &args.new_schema_dir)?;
    let old = crate::schema_dir::load("--old-schema-dir", &args.old_schema_dir)?;
    // A misspelt `$authenticated` changes what the check compares.
    crate::schema_dir::warn(&old, Some("--old-schema-dir"));
    crate::schema_dir::warn(&new, Some("--new-schema-dir"));
    let incompatibilities = compare(&old, &new);
    if incompatibilities.is_empty() {
        console::print_line("Schemas are backwards compatible.")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut report = String::from("Backwards incompatible change(s) found:\n");
    for incompatibility in &incompatibilities {
        report.push_str(&format!(" - {incompatibility}\n"));
    }
    console::print(&report)?;
    Ok(ExitCode::from(1))
}
