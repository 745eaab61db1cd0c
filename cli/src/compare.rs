//! `telepact compare`: is a new schema backwards compatible with an old one?

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use telepact_schema::{Schema, compare};

use crate::Outcome;

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
    let new = Schema::from_dir(&args.new_schema_dir)?;
    let old = Schema::from_dir(&args.old_schema_dir)?;
    let incompatibilities = compare(&old, &new);
    if incompatibilities.is_empty() {
        println!("Schemas are backwards compatible.");
        return Ok(ExitCode::SUCCESS);
    }
    println!("Backwards incompatible change(s) found:");
    for incompatibility in &incompatibilities {
        println!(" - {incompatibility}");
    }
    Ok(ExitCode::from(1))
}
