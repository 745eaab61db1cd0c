//! Ctrl-C and SIGTERM held while a file is replaced: the signal ends the command once
//! the write is done, so that no temporary file is left beside the file.

/// Ctrl-C and SIGTERM, caught from when it is made: neither ends the process until
/// asked whether one came.
pub(crate) struct HeldSignals {
    /// Each signal caught, with the status it ends the command with.
    #[cfg(unix)]
    signals: Vec<(u8, tokio::signal::unix::Signal)>,
    /// The status of the first signal that came, once one has.
    first: Option<u8>,
}

impl HeldSignals {
    pub(crate) fn new() -> HeldSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            // 128 + the signal's number, as a shell reports a command a signal ended.
            let kinds = [
                (130, SignalKind::interrupt()),
                (143, SignalKind::terminate()),
            ];
            let signals = kinds
                .into_iter()
                .filter_map(|(status, kind)| Some((status, signal(kind).ok()?)))
                .collect();
            HeldSignals {
                signals,
                first: None,
            }
        }
        #[cfg(not(unix))]
        HeldSignals { first: None }
    }

    /// Whether a signal came since [`new`](Self::new).
    #[cfg(test)]
    fn came(&mut self) -> bool {
        self.first_status().is_some()
    }

    /// The status the first signal that came ends the command with.
    fn first_status(&mut self) -> Option<u8> {
        #[cfg(unix)]
        if self.first.is_none() {
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            self.first = self.signals.iter_mut().find_map(|(status, signal)| {
                signal.poll_recv(&mut context).is_ready().then_some(*status)
            });
        }
        self.first
    }

    /// Success, or the status of the signal that came: 130 for Ctrl-C (SIGINT), 143
    /// for SIGTERM, as a shell reports them.
    pub(crate) fn status(&mut self) -> std::process::ExitCode {
        std::process::ExitCode::from(self.first_status().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SIGTERM while held does not end the process, is told afterwards, and ends the
    /// command with 143 (128 + 15), as a shell reports it, not with Ctrl-C's 130. The
    /// one test that sends a signal: it reaches every `HeldSignals` in the process, so
    /// a test sending another could be told of it before its own was sent.
    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_while_held_is_told_afterwards_with_its_own_status() {
        let mut held = HeldSignals::new();
        assert!(!held.came());
        sigterm_told(&mut held).await;
        assert_eq!(held.status(), std::process::ExitCode::from(143));
    }

    /// Sends this process SIGTERM and waits until `held` tells of it.
    #[cfg(unix)]
    async fn sigterm_told(held: &mut HeldSignals) {
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
