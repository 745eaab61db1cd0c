//! Ctrl-C and SIGTERM held while a file is replaced: the signal ends the command once
//! the write is done, so that no temporary file is left beside the file.

/// Ctrl-C and SIGTERM, caught from when it is made: neither ends the process until
/// asked whether one came.
pub(crate) struct HeldSignals {
    #[cfg(unix)]
    signals: Vec<tokio::signal::unix::Signal>,
}

impl HeldSignals {
    pub(crate) fn new() -> HeldSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let kinds = [SignalKind::interrupt(), SignalKind::terminate()];
            let signals = kinds
                .into_iter()
                .filter_map(|kind| signal(kind).ok())
                .collect();
            HeldSignals { signals }
        }
        #[cfg(not(unix))]
        HeldSignals {}
    }

    /// Whether a signal came since [`new`](Self::new).
    pub(crate) fn came(&mut self) -> bool {
        #[cfg(unix)]
        {
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            let signals = &mut self.signals;
            signals
                .iter_mut()
                .any(|signal| signal.poll_recv(&mut context).is_ready())
        }
        #[cfg(not(unix))]
        false
    }

    /// Success, or 130 when a signal came (128 + SIGINT, as a shell reports Ctrl-C).
    pub(crate) fn status(&mut self) -> std::process::ExitCode {
        std::process::ExitCode::from(if self.came() { 130 } else { 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SIGTERM while held does not end the process, and is told afterwards.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_that_comes_while_held_is_told_afterwards() {
        let mut held = HeldSignals::new();
        assert!(!held.came());
        let pid = std::process::id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        assert!(sent.is_ok_and(|status| status.success()));
        // Delivered to the runtime's driver, which needs a turn.
        for _ in 0..500 {
            if held.came() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the signal was never told");
    }
}
