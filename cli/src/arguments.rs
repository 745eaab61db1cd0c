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
    let given: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    let command = T::command()
        .mut_args(without_empty_variable)
        .mut_subcommands(|subcommand| {
            let subcommand = subcommand.mut_args(without_empty_variable);
            typed_flag_wins(subcommand, &given)
        });
    T::from_arg_matches(&command.try_get_matches()?)
}

/// `command` with the environment variables of a group's other arguments left out when
/// `given` names one of them: `mock --dir api` with `TELEPACT_HTTP_URL` exported serves
/// `api`, where clap would refuse `--http-url` (never typed) beside `--dir`. Two flags
/// typed together are still refused.
fn typed_flag_wins(mut command: clap::Command, given: &[String]) -> clap::Command {
    let typed = |arg: &Arg| {
        arg.get_long().is_some_and(|long| {
            let flag = format!("--{long}");
            given.iter().any(|word| {
                word == &flag
                    || word
                        .strip_prefix(&flag)
                        .is_some_and(|rest| rest.starts_with('='))
            })
        })
    };
    let groups: Vec<Vec<clap::Id>> = command
        .get_groups()
        .map(|group| group.get_args().cloned().collect())
        .collect();
    for members in groups {
        let args: Vec<&Arg> = command
            .get_arguments()
            .filter(|arg| members.contains(arg.get_id()))
            .collect();
        if !args.iter().any(|arg| typed(arg)) {
            continue;
        }
        let untyped: Vec<clap::Id> = args
            .into_iter()
            .filter(|arg| !typed(arg))
            .map(|arg| arg.get_id().clone())
            .collect();
        for id in untyped {
            command = command.mut_arg(id, |arg| arg.env(None));
        }
    }
    command
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

/// Sorts clap's `error` (from parsing the process's arguments into `T`) into what is
/// shown whole and what is reported on one line.
pub(crate) fn refusal<T: CommandFactory>(error: Error) -> Refusal {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Refusal::Shown(error),
        _ => {
            let arguments = std::env::args_os().skip(1);
            let command = command_named(&T::command(), arguments);
            Refusal::Invalid(one_line(&error.render().to_string(), &command))
        }
    }
}

/// The command whose help explains `arguments`: `telepact mock` when they name that
/// subcommand first, `telepact` else. A refused value's message has no usage line to
/// read it from.
fn command_named(
    command: &clap::Command,
    mut arguments: impl Iterator<Item = std::ffi::OsString>,
) -> String {
    let name = command.get_name();
    let first_word = arguments.find(|argument| !argument.to_string_lossy().starts_with('-'));
    first_word
        .and_then(|word| command.find_subcommand(word))
        .map_or_else(
            || name.to_string(),
            |subcommand| format!("{name} {}", subcommand.get_name()),
        )
}

/// clap's rendered error as one line: the message (its indented list, such as the missing
/// arguments, joined with commas), its tips after semicolons, and where to read more
/// (the usage line's command, else `command`).
fn one_line(rendered: &str, command: &str) -> String {
    let mut blocks = rendered.split("\n\n").map(str::trim_end);
    let mut line = message_line(blocks.next().unwrap_or_default());
    let rest: Vec<&str> = blocks.flat_map(str::lines).collect();
    for tip in rest.iter().filter_map(|line| tip_text(line)) {
        line.push_str("; ");
        line.push_str(tip);
    }
    let usage = rest.iter().find_map(|line| usage_command(line));
    line.push_str(&format!(
        " (see `{} --help`)",
        usage.as_deref().unwrap_or(command)
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
    use super::{command_named, one_line};

    #[test]
    fn a_message_with_a_tip_becomes_one_line() {
        let rendered = "error: unexpected argument '--old' found\n\n  tip: a similar argument \
                        exists: '--old-schema-dir'\n\nUsage: telepact compare --old-schema-dir \
                        <DIR>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered, "telepact"),
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
            one_line(rendered, "telepact"),
            "error: the following required arguments were not provided: --new-schema-dir \
             <NEW>, --old-schema-dir <OLD> (see `telepact compare --help`)"
        );
    }

    #[test]
    fn a_message_without_usage_names_the_subcommand_given() {
        let rendered = "error: invalid value 'x' for '--port <PORT>': invalid digit found in \
                        string\n\nFor more information, try '--help'.\n";
        let command = clap::Command::new("telepact")
            .subcommand(clap::Command::new("mock"))
            .subcommand(clap::Command::new("compare"));
        let named = |arguments: &[&str]| {
            let arguments = arguments.iter().map(std::ffi::OsString::from);
            command_named(&command, arguments.collect::<Vec<_>>().into_iter())
        };
        assert_eq!(named(&["mock", "--port", "x"]), "telepact mock");
        assert_eq!(named(&["--verbose", "compare"]), "telepact compare");
        assert_eq!(named(&["--port", "x"]), "telepact");
        assert_eq!(
            one_line(rendered, &named(&["mock", "--port", "x"])),
            "error: invalid value 'x' for '--port <PORT>': invalid digit found in string \
             (see `telepact mock --help`)"
        );
    }
}
