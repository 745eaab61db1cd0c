//! What a service's log filter needs to know of the runtime's dependencies, and a bound
//! on the lines a client can make a server log.

mod clip;
mod line_budget;
#[cfg(feature = "log-stderr")]
mod stderr;
#[cfg(feature = "log-stderr")]
mod unblocking;

pub(crate) use clip::{clipped, clipped_id};
pub use line_budget::LineBudget;
#[cfg(feature = "log-stderr")]
pub use stderr::{LogFormat, StderrLog, UnknownLogFormat, colour_on_stderr, init_stderr};
/// The level the log functions here take, so that a service installing its log needs no
/// `tracing` or `tracing-subscriber` dependency of its own.
pub use tracing::level_filters::LevelFilter;
/// What [`init_stderr`] and [`StderrLog::init`] give when a subscriber is installed already.
#[cfg(feature = "log-stderr")]
pub use tracing_subscriber::util::TryInitError;
#[cfg(feature = "log-stderr")]
pub use unblocking::eprintln_unless_full;

/// The log targets of dependencies that write whole messages at `trace` level: the
/// WebSocket protocol (every frame, on the server and in the client) and the NATS client
/// (every message). Those messages carry the callers' `@auth_`, and a gateway's forwarded
/// `Authorization` and `Cookie`.
pub const WHOLE_MESSAGE_TARGETS: [&str; 2] = ["tungstenite", "async_nats"];

/// The directives to add to a log filter made from `spec` (directives in `RUST_LOG`'s
/// form, `info,telepact=debug`): when `spec` sets every target to `trace` (`trace`,
/// `[span]=trace`, or `[span]` alone; of several for the same span, or for none, the last, as the filter
/// takes it: `trace,info` sets `info`), `target=debug` for each of [`WHOLE_MESSAGE_TARGETS`] that no
/// directive of `spec` names (a module inside one, `async_nats::connector=info`, leaves
/// the rest held). The filter then writes no credential at `trace`; whoever asks for one
/// of those targets, or a module of it, by name still gets it, and at any other level nothing
/// changes. Added to the filter (`EnvFilter::add_directive`) rather than to `spec`, they
/// leave its default level as it was.
///
/// ```
/// let held: Vec<String> = telepact::logging::held_at_debug("trace").collect();
/// assert_eq!(held, ["tungstenite=debug", "async_nats=debug"]);
/// let held: Vec<String> = telepact::logging::held_at_debug("trace,tungstenite=trace").collect();
/// assert_eq!(held, ["async_nats=debug"]);
/// assert_eq!(telepact::logging::held_at_debug("info").count(), 0);
/// ```
pub fn held_at_debug(spec: &str) -> impl Iterator<Item = String> + '_ {
    let every_target_at_trace = sets_every_target_to_trace(spec);
    WHOLE_MESSAGE_TARGETS
        .into_iter()
        .filter(move |target| {
            every_target_at_trace && !spec.split(',').any(|directive| names(directive, target))
        })
        .map(|target| format!("{target}=debug"))
}

/// A log filter from `RUST_LOG` (`default` when it is unset or empty) with
/// [`held_at_debug`]'s directives added, so that `RUST_LOG=trace` (or, unset, a
/// `default` of `trace`) writes no credential.
/// A directive that does not parse is named on stderr and left out, as
/// `EnvFilter::from_default_env` does.
///
/// Give it to the subscriber: `tracing_subscriber::fmt().with_env_filter(filter).init()`.
///
/// ```
/// use telepact::logging::LevelFilter;
///
/// let filter = telepact::logging::env_filter_from("trace", LevelFilter::INFO);
/// assert_eq!(filter.to_string(), "tungstenite=debug,async_nats=debug,trace");
/// let filter = telepact::logging::env_filter_from("", LevelFilter::INFO);
/// assert_eq!(filter.to_string(), "info");
/// ```
#[cfg(feature = "env-filter")]
pub fn env_filter(
    default: tracing_subscriber::filter::LevelFilter,
) -> tracing_subscriber::EnvFilter {
    env_filter_from(&std::env::var("RUST_LOG").unwrap_or_default(), default)
}

/// [`env_filter`], from `spec` instead of `RUST_LOG`. A `spec` without directives (or
/// with none that parse) leaves the filter at `default`, whose level then decides what
/// is held: a program's default of `trace` writes no credential either.
#[cfg(feature = "env-filter")]
pub fn env_filter_from(
    spec: &str,
    default: tracing_subscriber::filter::LevelFilter,
) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(default.into())
        .parse_lossy(spec);
    // A directive that does not parse is left out: a spec of only those leaves the
    // filter at `default` too, and what is held must follow that.
    let no_directive = spec.split(',').all(|directive| {
        directive.trim().is_empty()
            || directive
                .parse::<tracing_subscriber::filter::Directive>()
                .is_err()
    });
    let in_force = if no_directive {
        default.to_string()
    } else {
        spec.to_string()
    };
    held_at_debug(&in_force)
        .filter_map(|directive| directive.parse().ok())
        .fold(filter, tracing_subscriber::EnvFilter::add_directive)
}

/// Whether `spec` leaves every target (of a span, or of all) at `trace`. Of the
/// directives for the same span (or for none) the filter keeps the last, so `trace,info`
/// sets `info`, and `info,trace` sets `trace`.
fn sets_every_target_to_trace(spec: &str) -> bool {
    let mut in_force: Vec<(&str, LevelFilter)> = Vec::new();
    for (span, level) in spec.split(',').filter_map(every_target_level) {
        match in_force.iter_mut().find(|(set, _)| *set == span) {
            Some(set) => set.1 = level,
            None => in_force.push((span, level)),
        }
    }
    in_force
        .iter()
        .any(|(_, level)| *level == LevelFilter::TRACE)
}

/// The span part (`[request]`, or empty) and level of `directive` when it sets a level
/// for every target: a bare level, `[span]=level`, or `[span]` alone, which the filter
/// reads as `[span]=trace`. `None` for one naming a target, a blank one, or one whose
/// level does not parse (the filter leaves it out).
fn every_target_level(directive: &str) -> Option<(&str, LevelFilter)> {
    let directive = directive.trim();
    let (scope, level) = if directive.ends_with(']') {
        // No level; the `=` of a field (`[span{id=1}]`) is no level's either.
        (directive, "trace")
    } else {
        directive.rsplit_once('=').unwrap_or(("", directive))
    };
    let target = scope.split('[').next().unwrap_or("").trim();
    let level = level.trim();
    if !target.is_empty() || level.is_empty() {
        return None;
    }
    Some((scope.trim(), level.parse().ok()?))
}

/// Whether `directive` (`target[span{field}]=level`, or a bare level) is about `target`
/// itself. One about a module inside it leaves the hold on the rest: a filter takes the
/// most specific directive, so that module is still written as the directive asks.
fn names(directive: &str, target: &str) -> bool {
    directive.split(['=', '[']).next().unwrap_or("").trim() == target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_that_log_whole_messages_are_held_at_debug_at_trace_unless_named() {
        let held = |spec| held_at_debug(spec).collect::<Vec<_>>();
        for spec in [
            "trace",
            "TRACE",
            "5",
            "debug,trace",
            "[request]=trace",
            "trace,hyper=warn",
            // A span without a level sets every target in it to `trace`, as the filter
            // reads it.
            "[request]",
            "[request{id=1}]",
            "[request]=info,[request]",
        ] {
            assert_eq!(
                held(spec),
                ["tungstenite=debug", "async_nats=debug"],
                "{spec}"
            );
        }
        // At any other level nothing is added, so nothing is logged that was not before.
        for spec in [
            "",
            "info",
            "debug,hyper=warn",
            "tokio_tungstenite=trace",
            "tungstenite",
        ] {
            assert!(held(spec).is_empty(), "{spec}");
        }
        assert_eq!(
            held("trace,tungstenite::protocol=trace"),
            ["tungstenite=debug", "async_nats=debug"]
        );
        assert!(held("trace,async_nats[call]=trace, tungstenite=info").is_empty());
        // The last of the bare levels is the filter's: `trace` only when it comes last.
        assert!(held("trace,info").is_empty());
        assert!(held("[request]=trace,[request]=warn").is_empty());
        assert_eq!(
            held("info,trace"),
            ["tungstenite=debug", "async_nats=debug"]
        );
        assert_eq!(
            held("[request]=trace,info"),
            ["tungstenite=debug", "async_nats=debug"]
        );
    }

    /// A program's default of `trace` (a `--verbose` flag, say), used when `RUST_LOG`
    /// is unset, holds them as `RUST_LOG=trace` does.
    #[cfg(feature = "env-filter")]
    #[test]
    fn a_default_of_trace_holds_the_whole_message_targets_at_debug() {
        use tracing_subscriber::filter::LevelFilter;

        for spec in ["", " "] {
            let filter = env_filter_from(spec, LevelFilter::TRACE);
            assert_eq!(
                filter.to_string(),
                "tungstenite=debug,async_nats=debug,trace",
                "{spec:?}"
            );
        }
        // A spec whose directives all fail to parse (a misspelt level) is as good as
        // none: the filter is at the default, and holds as it does.
        let unreadable = env_filter_from("tungstenite=verbose", LevelFilter::TRACE);
        assert_eq!(
            unreadable.to_string(),
            "tungstenite=debug,async_nats=debug,trace"
        );
        let named = env_filter_from("tungstenite=trace", LevelFilter::TRACE);
        assert_eq!(named.to_string(), "tungstenite=trace");
    }

    /// `trace,info` leaves the filter at `info`, its last bare level, which writes no
    /// `trace` line: nothing is added, where the holds let those targets write at `debug`.
    #[cfg(feature = "env-filter")]
    #[test]
    fn a_later_level_overriding_trace_adds_nothing_to_the_filter() {
        use tracing_subscriber::filter::LevelFilter;

        assert_eq!(
            env_filter_from("trace,info", LevelFilter::INFO).to_string(),
            "info"
        );
        assert_eq!(
            env_filter_from("info,trace", LevelFilter::INFO).to_string(),
            "tungstenite=debug,async_nats=debug,trace"
        );
    }

    /// A directive for a module of one of those targets (quieting the NATS client's
    /// reconnections, say) leaves the rest of it held: its connection module writes each
    /// message's headers at `trace`. A module asked for at `trace` is still written.
    #[cfg(feature = "log-stderr")]
    #[test]
    fn a_module_named_leaves_the_rest_of_its_target_held() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::filter::LevelFilter;

        let written = Arc::new(Mutex::new(Vec::new()));
        let logged = |spec: &str| {
            let writer = Arc::clone(&written);
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(env_filter_from(spec, LevelFilter::INFO))
                .with_ansi(false)
                .with_writer(move || Shared(Arc::clone(&writer)))
                .finish();
            tracing::subscriber::with_default(subscriber, || {
                tracing::trace!(target: "async_nats::connection", "HPUB Authorization");
                tracing::trace!(target: "tungstenite::protocol", "frame @auth_");
            });
            let text = String::from_utf8(std::mem::take(&mut *lock(&written)));
            text.expect("text")
        };
        let quieted = logged("trace,async_nats::connector=info");
        assert!(!quieted.contains("Authorization"), "{quieted}");
        assert!(!quieted.contains("@auth_"), "{quieted}");
        let asked = logged("trace,tungstenite::protocol=trace");
        assert!(asked.contains("frame @auth_"), "{asked}");
        assert!(!asked.contains("Authorization"), "{asked}");
    }

    #[cfg(feature = "log-stderr")]
    fn lock(bytes: &std::sync::Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
        bytes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A writer into bytes the test reads.
    #[cfg(feature = "log-stderr")]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    #[cfg(feature = "log-stderr")]
    impl std::io::Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
