//! The command line read as the reference CLI reads it, its errors on one line.
//!
//! An environment variable set to the empty string counts as unset (`MOCK_SERVER_PORT=`
//! leaves the default), as in the reference CLI; clap would otherwise parse the empty
//! value and refuse it.
//!
//! clap lays its errors out for a person at a terminal: the message, a blank line, tips,
//! the usage and a pointer to `--help`, over four to seven lines. Scripts and logs read
//! one `error: ...` line, so the message and its tips are joined and the rest, which
//! `--help` shows in full, is left out.

use clap::error::{Error, ErrorKind};
use clap::{Arg, CommandFactory, FromArgMatches};

/// Parses the process's arguments and environment into `T`.
pub(crate) fn parse<T: CommandFactory + FromArgMatches>() -> Result<T, Error> {
    let command = T::command()
        .mut_args(without_empty_variable)
        .mut_subcommands(|subcommand| subcommand.mut_args(without_empty_variable));
    T::from_arg_matches(&command.try_get_matches()?)
}

/// `arg` without its environment variable when that variable is set but empty.
fn without_empty_variable(arg: Arg) -> Arg {
    let empty = arg
        .get_env()
        .and_then(std::env::var_os)
        .is_some_and(|value| value.is_empty());
    if empty { arg.env(None) } else { arg }
}

/// How parsing the arguments ended without arguments to run.
pub(crate) enum Refusal {
    /// Help or the version was asked for (or no subcommand given): shown as clap lays it out.
    Shown(Error),
    /// The arguments are wrong: one line for stderr.
    Invalid(String),
}

/// Sorts clap's `error` into what is shown whole and what is reported on one line.
pub(crate) fn refusal(error: Error) -> Refusal {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Refusal::Shown(error),
        _ => Refusal::Invalid(one_line(&error.render().to_string())),
    }
}

/// clap's rendered error as one line: the message (its indented list, such as the missing
/// arguments, joined with commas), its tips after semicolons, and where to read more.
fn one_line(rendered: &str) -> String {
    let mut blocks = rendered.split("\n\n").map(str::trim_end);
    let mut line = message_line(blocks.next().unwrap_or_default());
    let rest: Vec<&str> = blocks.flat_map(str::lines).collect();
    for tip in rest.iter().filter_map(|line| tip_text(line)) {
        line.push_str("; ");
        line.push_str(tip);
    }
    let command = rest.iter().find_map(|line| usage_command(line));
    line.push_str(&format!(
        " (see `{} --help`)",
        command.unwrap_or("telepact".into())
    ));
    line
}

/// The command a usage line is for: `telepact compare` in `Usage: telepact compare --old ...`.
fn usage_command(line: &str) -> Option<String> {
    let words = line.strip_prefix("Usage: ")?.split_whitespace();
    let command: Vec<&str> = words
        .take_while(|word| !word.starts_with(['-', '[', '<']))
        .collect();
    (!command.is_empty()).then(|| command.join(" "))
}

/// The message's first line, with the indented lines under it joined by commas.
fn message_line(block: &str) -> String {
    let mut lines = block.lines();
    let mut line = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_owned();
    let listed: Vec<&str> = lines
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    if !listed.is_empty() {
        line.push(' ');
        line.push_str(&listed.join(", "));
    }
    line
}

fn tip_text(line: &str) -> Option<&str> {
    line.trim_start().strip_prefix("tip: ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_message_with_a_tip_becomes_one_line() {
        let rendered = "error: unexpected argument '--old' found\n\n  tip: a similar argument \
                        exists: '--old-schema-dir'\n\nUsage: telepact compare --old-schema-dir \
                        <DIR>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "error: unexpected argument '--old' found; a similar argument exists: \
             '--old-schema-dir' (see `telepact compare --help`)"
        );
    }

    #[test]
    fn a_listed_message_joins_its_items() {
        let rendered = "error: the following required arguments were not provided:\n  \
                        --new-schema-dir <NEW>\n  --old-schema-dir <OLD>\n\nUsage: telepact \
                        compare --new-schema-dir <NEW>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "error: the following required arguments were not provided: --new-schema-dir \
             <NEW>, --old-schema-dir <OLD> (see `telepact compare --help`)"
        );
    }
}
