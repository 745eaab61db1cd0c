//! What a client can make the authenticator log at will is bounded, as the runtime
//! bounds its refused credentials: a flood of calls cannot fill the log.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use telepact_auth::{ManualClock, MemoryStore};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

use super::authenticator::{authenticator, sign_in};

/// Keeps each event's message.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Lines {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Id::from_u64(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut message = Message::default();
        event.record(&mut message);
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        lines.push(message.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The holder of a refresh token may use it again and again within its grace, and
/// chain the grace through each successor: its lines are bounded, those past the bound
/// counted on the next line written.
#[test]
fn refresh_tokens_used_again_within_their_grace_log_a_bounded_number_of_lines() {
    const USES: usize = 300;
    let lines = Lines::default();
    let answered = AtomicUsize::new(0);
    let took = tracing::subscriber::with_default(lines.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let clock = ManualClock::starting_now();
            let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
            let identity = sign_in(&auth).await;
            let first = auth.issue_tokens(&identity).await.expect("a pair");
            auth.refresh(&first.refresh_token).await.expect("rotated");
            let started = std::time::Instant::now();
            for _ in 0..USES {
                if auth.refresh(&first.refresh_token).await.is_ok() {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
            started.elapsed()
        })
    });
    assert_eq!(
        answered.into_inner(),
        USES,
        "each use within the grace answered"
    );
    let lines = lines.0.lock().unwrap_or_else(|e| e.into_inner());
    let again: Vec<_> = lines
        .iter()
        .filter(|message| message.contains("within its grace"))
        .collect();
    // At most ten in each second begun (other tests of this binary may take some).
    let most = 10 * (took.as_secs() as usize + 2);
    assert!(
        again.len() <= most,
        "{} lines for {USES} uses in {took:?}",
        again.len()
    );
}
