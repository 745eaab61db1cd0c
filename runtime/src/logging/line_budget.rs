//! A bound on how many lines of one kind a second a client can make a server log.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most so many lines of one kind each second; the lines past it are left out and
/// counted, and the next line written gives their count.
///
/// For events any client can cause at will (refused credentials, a connection past its
/// address's limit): a flood of them must not fill the disk the log is written to, nor
/// hide every other line. The first lines of each second are kept, so an operator still
/// sees who is refused and why; the metrics count every call.
///
/// ```
/// use telepact::logging::LineBudget;
///
/// static REFUSALS: LineBudget = LineBudget::per_second(2);
/// let written: Vec<Option<u64>> = (0..4).map(|_| REFUSALS.admit()).collect();
/// // Two lines, then two left out (counted for the next second's first line).
/// assert_eq!(written, [Some(0), Some(0), None, None]);
/// ```
#[derive(Debug)]
pub struct LineBudget {
    per_second: u32,
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Option<Instant>,
    written: u32,
    left_out: u64,
}

impl LineBudget {
    /// A budget of `per_second` lines a second (a `const fn`, for a `static`).
    pub const fn per_second(per_second: u32) -> Self {
        LineBudget {
            per_second,
            window: Mutex::new(Window {
                started: None,
                written: 0,
                left_out: 0,
            }),
        }
    }

    /// Whether a line may be written now: `Some` with the number of lines left out
    /// since the last one written (to log with it, when not 0), or `None` when this
    /// second's lines are spent (the line is counted as left out).
    pub fn admit(&self) -> Option<u64> {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Option<u64> {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let expired = window
            .started
            .is_none_or(|started| now.saturating_duration_since(started) >= Duration::from_secs(1));
        if expired {
            window.started = Some(now);
            window.written = 0;
        }
        if window.written >= self.per_second {
            window.left_out = window.left_out.saturating_add(1);
            return None;
        }
        window.written += 1;
        Some(std::mem::take(&mut window.left_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_budget_are_counted_for_the_next_second() {
        let budget = LineBudget::per_second(3);
        let start = Instant::now();
        let at = |millis| start + Duration::from_millis(millis);
        let first: Vec<_> = (0..5).map(|i| budget.admit_at(at(i * 100))).collect();
        assert_eq!(first, [Some(0), Some(0), Some(0), None, None]);
        // A new second: its first line carries the two left out, the next none.
        assert_eq!(budget.admit_at(at(1_000)), Some(2));
        assert_eq!(budget.admit_at(at(1_001)), Some(0));
    }

    #[test]
    fn a_quiet_spell_keeps_the_count_for_the_next_line() {
        let budget = LineBudget::per_second(1);
        let start = Instant::now();
        assert_eq!(budget.admit_at(start), Some(0));
        assert_eq!(budget.admit_at(start), None);
        assert_eq!(budget.admit_at(start + Duration::from_secs(60)), Some(1));
    }

    #[test]
    fn a_budget_of_none_writes_nothing_and_counts_all() {
        let budget = LineBudget::per_second(0);
        let now = Instant::now();
        assert_eq!(budget.admit_at(now), None);
        assert_eq!(budget.admit_at(now), None);
        let window = budget.window.lock().unwrap();
        assert_eq!(window.left_out, 2);
    }
}
