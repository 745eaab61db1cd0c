//! An error with its causes, the way a person reads why something failed.

use std::error::Error;
use std::fmt;

/// An error and each of its causes ([`Error::source`]), joined by `: ` on one line, as a
/// command line or a log line shows why something failed:
/// `cannot read api/x.telepact.yaml: No such file or directory (os error 2)`.
///
/// The Telepact crates' errors follow Rust's convention: `Display` says what failed at its
/// own layer only and `source()` gives the cause, so `{error}` alone leaves the cause out
/// and this (or `anyhow`'s `{:#}`) shows each cause once. A cause whose text the line
/// holds already, as a dependency's error may write its cause into its own message too,
/// is not repeated.
///
/// It is defined here, in the crate every other Telepact crate depends on; the runtime
/// re-exports it as `telepact::ErrorChain`.
///
/// ```
/// use telepact_schema::{ErrorChain, Schema};
///
/// let error = Schema::from_dir("/nonexistent/api").unwrap_err();
/// assert_eq!(error.to_string(), "cannot read /nonexistent/api");
/// assert!(ErrorChain(&error).to_string().starts_with("cannot read /nonexistent/api: "));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(next) = cause {
            let text = next.to_string();
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = next.source();
        }
        f.write_str(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorChain;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    /// A dependency's error that writes its cause into its own message as well.
    #[derive(Debug, thiserror::Error)]
    #[error("wrapped: {0}")]
    struct Repeating(#[source] std::io::Error);

    #[test]
    fn each_cause_is_shown_once_in_order() {
        let error = Outer(Middle(std::io::Error::other("disk on fire")));
        assert_eq!(
            ErrorChain(&error).to_string(),
            "outer: middle: disk on fire"
        );
        let repeating = Repeating(std::io::Error::other("disk on fire"));
        assert_eq!(ErrorChain(&repeating).to_string(), "wrapped: disk on fire");
        let alone = std::io::Error::other("alone");
        assert_eq!(ErrorChain(&alone).to_string(), "alone");
    }
}
