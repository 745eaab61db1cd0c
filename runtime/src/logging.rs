//! What a service's log filter needs to know of the runtime's dependencies.

/// The log targets of dependencies that write whole messages at `trace` level: the
/// WebSocket protocol (every frame, on the server and in the client) and the NATS client
/// (every message). Those messages carry the callers' `@auth_`, and a gateway's forwarded
/// `Authorization` and `Cookie`.
pub const WHOLE_MESSAGE_TARGETS: [&str; 2] = ["tungstenite", "async_nats"];

/// `spec`, log directives in `RUST_LOG`'s form (`info,telepact=debug`), with each of
/// [`WHOLE_MESSAGE_TARGETS`] held at `debug` unless a directive of `spec` names it: a
/// filter made from the result writes no credential at `trace`, and whoever asks for
/// one of those targets by name still gets it.
///
/// ```
/// let directives = telepact::logging::directives("trace");
/// assert_eq!(directives, "trace,tungstenite=debug,async_nats=debug");
/// assert_eq!(telepact::logging::directives("tungstenite=trace"), "tungstenite=trace,async_nats=debug");
/// ```
pub fn directives(spec: &str) -> String {
    let mut directives = spec.trim().to_string();
    for target in WHOLE_MESSAGE_TARGETS {
        if !spec.split(',').any(|directive| names(directive, target)) {
            if !directives.is_empty() {
                directives.push(',');
            }
            directives.push_str(target);
            directives.push_str("=debug");
        }
    }
    directives
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
    fn targets_that_log_whole_messages_are_held_at_debug_unless_named() {
        let held = ",tungstenite=debug,async_nats=debug";
        for spec in [
            "trace",
            "debug,hyper=warn",
            "tokio_tungstenite=trace",
            "async_natsx=trace",
        ] {
            assert_eq!(directives(spec), format!("{spec}{held}"));
        }
        assert_eq!(directives(""), &held[1..]);
        assert_eq!(
            directives("trace,tungstenite::protocol=trace"),
            "trace,tungstenite::protocol=trace,async_nats=debug"
        );
        assert_eq!(
            directives("async_nats[call]=trace, tungstenite=info"),
            "async_nats[call]=trace, tungstenite=info"
        );
    }
}
