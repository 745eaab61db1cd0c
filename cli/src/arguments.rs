//! The command line read as the reference CLI reads it, its errors on one line.
//!
//! An environment variable set to the empty string counts as unset (`MOCK_SERVER_PORT=`
//! leaves the default), as in the reference CLI; clap would otherwise parse the empty
//! value and refuse it.
//!
//! Wrong arguments are one `error: ...` line (`telepact::flags::refusal_line`), as the
//! other Telepact binaries report them.

use clap::error::Error;
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
/// typed together are still refused. With none typed, the first argument whose variable
/// is set wins, as in the reference CLI (`TELEPACT_HTTP_URL` over `TELEPACT_DIRECTORY`).
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
        let set = |arg: &&Arg| arg.get_env().and_then(std::env::var_os).is_some();
        let losing: Vec<&Arg> = if args.iter().any(|arg| typed(arg)) {
            args.into_iter().filter(|arg| !typed(arg)).collect()
        } else {
            args.into_iter().filter(set).skip(1).collect()
        };
        for id in losing
            .into_iter()
            .map(|arg| arg.get_id().clone())
            .collect::<Vec<_>>()
        {
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
/// shown whole and what is reported on one line, as every Telepact binary reports it.
pub(crate) fn refusal<T: CommandFactory>(error: Error) -> Refusal {
    match telepact::flags::refusal_line::<T>(&error) {
        Some(line) => Refusal::Invalid(line),
        None => Refusal::Shown(error),
    }
}
