//! Wrong arguments reported on one line.
//!
//! clap lays its errors out for a person at a terminal: the message, a blank line, tips,
//! the usage and a pointer to `--help`, over four to seven lines. Scripts and logs read
//! one `error: ...` line, so the message and its tips are joined and the rest, which
//! `--help` shows in full, is left out.

use std::ffi::OsString;
use std::io::Write;

use clap::error::{Error, ErrorKind};
use clap::{CommandFactory, Parser};

/// The exit status of wrong arguments, as clap gives it.
const USAGE_STATUS: i32 = 2;

/// Parses the process's arguments into `T` as [`Parser::parse`] does, with wrong
/// arguments reported on one line (see [`refusal_line`]) and exit status 2. Help and the
/// version are shown as clap lays them out.
pub fn parse_or_exit<T: Parser>() -> T {
    T::try_parse().unwrap_or_else(|error| exit_refusing::<T>(&error))
}

/// Exits for `error`, from parsing the process's arguments into `T`: help and the
/// version as clap shows them, anything else as one line on stderr with status 2.
fn exit_refusing<T: CommandFactory>(error: &Error) -> ! {
    let Some(line) = refusal_line::<T>(error) else {
        error.exit()
    };
    let _ = writeln!(std::io::stderr().lock(), "{line}");
    std::process::exit(USAGE_STATUS)
}

/// `error`, from parsing the process's arguments into `T`, as one `error: ...` line:
/// the message (its indented list, such as the missing arguments, joined with commas),
/// its tips after semicolons, and which command's `--help` to read. `None` for help,
/// the version, or help shown for a missing subcommand, which are shown whole.
pub fn refusal_line<T: CommandFactory>(error: &Error) -> Option<String> {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => None,
        _ => {
            let command = command_named(&T::command(), std::env::args_os().skip(1));
            Some(one_line(&error.render().to_string(), &command))
        }
    }
}

/// The command whose help explains `arguments`: `telepact mock` when they name that
/// subcommand first, `telepact` else. A refused value's message has no usage line to
/// read it from.
fn command_named(command: &clap::Command, mut arguments: impl Iterator<Item = OsString>) -> String {
    let name = command.get_name();
    let first_word = arguments.find(|argument| !argument.to_string_lossy().starts_with('-'));
    first_word
        .and_then(|word| command.find_subcommand(word))
        .map_or_else(
            || name.to_string(),
            |subcommand| format!("{name} {}", subcommand.get_name()),
        )
}

/// clap's rendered error as one line: the message, its tips after semicolons, and where
/// to read more (the usage line's command, else `command`).
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
