//! Wall-clock time, injectable so tests can move past an expiry without waiting.
//!
//! The client's authorisers (token expiry) and the `telepact-auth` toolkit (sessions,
//! tokens, throttles) read the time through one [`Clock`]: a test hands both the same
//! [`ManualClock`] and moves it forward.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

/// Where time is read. Wall-clock (not monotonic) time, because expiries are written to
/// caches and stores and compared across restarts.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in whole seconds since the Unix epoch (0 before it).
    fn unix_now(&self) -> UnixTime {
        unix_seconds(self.now())
    }
}

/// `time` in whole seconds since the Unix epoch (0 before it, `i64::MAX` far after).
pub fn unix_seconds(time: SystemTime) -> UnixTime {
    time.duration_since(UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until told to move; clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// Starts at `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Starts `seconds` after the Unix epoch.
    pub fn at_unix(seconds: UnixTime) -> Self {
        let since = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
        Self::new(UNIX_EPOCH + since)
    }

    /// Starts at the current wall-clock time.
    pub fn starting_now() -> Self {
        Self::new(SystemTime::now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance_secs(&self, seconds: u64) {
        self.advance(Duration::from_secs(seconds));
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: SystemTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::at_unix(1_000);
        let other = clock.clone();
        assert_eq!(clock.unix_now(), 1_000);
        other.advance_secs(60);
        assert_eq!(clock.unix_now(), 1_060);
        other.set(UNIX_EPOCH);
        assert_eq!(clock.now(), UNIX_EPOCH);
    }

    #[test]
    fn unix_seconds_are_whole_and_never_negative() {
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(2_999)), 2);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }
}
