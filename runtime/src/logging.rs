//! What a service's log filter needs to know of the runtime's dependencies.

/// The log targets of dependencies that write whole messages at `trace` level: the
/// WebSocket protocol (every frame, on the server and in the client) and the NATS client
/// (every message). Those messages carry the callers' `@auth_`, and a gateway's forwarded
/// `Authorization` and `Cookie`.
pub const WHOLE_MESSAGE_TARGETS: [&str; 2] = ["tungstenite", "async_nats"];

/// The directives to add to a log filter made from `spec` (directives in `RUST_LOG`'s
/// form, `info,telepact=debug`): when `spec` sets every target to `trace` (`trace`,
/// `[span]=trace`), `target=debug` for each of [`WHOLE_MESSAGE_TARGETS`] that no
/// directive of `spec` names. The filter then writes no credential at `trace`; whoever
/// asks for one of those targets by name still gets it, and at any other level nothing
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
    let every_target_at_trace = spec.split(',').any(sets_every_target_to_trace);
    WHOLE_MESSAGE_TARGETS
        .into_iter()
        .filter(move |target| {
            every_target_at_trace && !spec.split(',').any(|directive| names(directive, target))
        })
        .map(|target| format!("{target}=debug"))
}

/// Whether `directive` is a bare `trace` level, or `trace` for every target (of a span).
fn sets_every_target_to_trace(directive: &str) -> bool {
    let (target, level) = directive.rsplit_once('=').unwrap_or(("", directive));
    let target = target.split('[').next().unwrap_or("").trim();
    let level = level.trim();
    target.is_empty() && (level.eq_ignore_ascii_case("trace") || level == "5")
}

/// Whether `directive` (`target[span{field}]=level`, or a bare level) is about `target`
/// or a module inside it.
fn names(directive: &str, target: &str) -> bool {
    let named = directive.split(['=', '[']).next().unwrap_or("").trim();
    named
        .strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
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
            ["async_nats=debug"]
        );
        assert!(held("trace,async_nats[call]=trace, tungstenite=info").is_empty());
    }
}
