//! Calls held per thread and handed to a recorder in batches.
//!
//! A recorder's series are shared by every thread: each record is an atomic write to
//! memory another core wrote last (with the Prometheus exporter, three per histogram
//! sample), which on a busy server costs more than the rest of the call's reporting.
//! Batching a thread's calls moves those writes into one burst on one core.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::{self, Thread};
use std::time::Duration;

/// How many calls a thread holds before handing them over itself.
const BATCH_SIZE: usize = 64;

/// One batch per shard; a thread keeps to one shard, so its lock is nearly always
/// uncontended and its memory stays in that thread's core.
pub(crate) struct Batches<T> {
    shards: Box<[Shard<T>]>,
}

/// A shard on a cache line (two, with adjacent-line prefetch) of its own: two
/// threads' shards must not share one.
#[repr(align(128))]
struct Shard<T>(Mutex<Vec<T>>);

impl<T> Batches<T> {
    /// Room for the threads of this machine: a few shards per core, so worker threads
    /// seldom share one.
    pub(crate) fn new() -> Self {
        Batches {
            shards: (0..shard_count())
                .map(|_| Shard(Mutex::default()))
                .collect(),
        }
    }

    /// Adds `item` to this thread's batch; when that makes it full, hands the batch to
    /// `hand_over` and empties it.
    pub(crate) fn push(&self, item: T, hand_over: impl FnOnce(&[T])) {
        let mut batch = self.shards[this_threads_shard() % self.shards.len()].lock();
        if batch.capacity() == 0 {
            batch.reserve_exact(BATCH_SIZE);
        }
        batch.push(item);
        if batch.len() >= BATCH_SIZE {
            hand_over_once(&mut batch, hand_over);
        }
    }

    /// Hands every batch that holds calls to `hand_over`, emptying them all.
    pub(crate) fn drain(&self, mut hand_over: impl FnMut(&[T])) {
        for shard in &self.shards {
            let mut batch = shard.lock();
            if !batch.is_empty() {
                hand_over_once(&mut batch, &mut hand_over);
            }
        }
    }
}

/// Hands `batch` to `hand_over` and empties it, even should a recorder panic as it is
/// handed over: kept, its calls would be handed over again with the next batch, those
/// already recorded counted twice.
fn hand_over_once<T>(batch: &mut Vec<T>, hand_over: impl FnOnce(&[T])) {
    struct Emptied<'a, T>(&'a mut Vec<T>);

    impl<T> Drop for Emptied<'_, T> {
        fn drop(&mut self) {
            self.0.clear();
        }
    }

    let batch = Emptied(batch);
    hand_over(batch.0);
}

impl<T> Shard<T> {
    /// The batch, even if a recorder panicked while it was handed over (which emptied
    /// it).
    fn lock(&self) -> MutexGuard<'_, Vec<T>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A few shards per core, so that worker threads seldom share one.
fn shard_count() -> usize {
    let cores = thread::available_parallelism().map_or(4, usize::from);
    (cores * 4).clamp(4, 256)
}

/// A count that threads move up and down without writing to memory another core
/// wrote last: each thread adds to its own shard, and a reader sums the shards.
pub(crate) struct ShardedCount {
    shards: Box<[CountShard]>,
}

/// A shard's count on a cache line (two, with adjacent-line prefetch) of its own.
#[repr(align(128))]
struct CountShard(AtomicI64);

impl ShardedCount {
    pub(crate) fn new() -> Self {
        ShardedCount {
            shards: (0..shard_count())
                .map(|_| CountShard(AtomicI64::new(0)))
                .collect(),
        }
    }

    /// Adds `by` (which may be negative) in this thread's shard.
    pub(crate) fn add(&self, by: i64) {
        let shard = &self.shards[this_threads_shard() % self.shards.len()];
        shard.0.fetch_add(by, Ordering::Relaxed);
    }

    /// The count: the sum of the shards, each as last written.
    pub(crate) fn sum(&self) -> i64 {
        let shards = self.shards.iter();
        shards.map(|shard| shard.0.load(Ordering::Relaxed)).sum()
    }
}

/// The shard of the calling thread: threads take the next one in turn as they first
/// report.
fn this_threads_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
    }
    SHARD.with(|shard| {
        shard.get().unwrap_or_else(|| {
            let taken = NEXT.fetch_add(1, Ordering::Relaxed);
            shard.set(Some(taken));
            taken
        })
    })
}

/// A thread that hands held calls over every `period`, so that none waits longer on an
/// idle thread; started on the first call held. It stops once what it flushes is gone.
pub(crate) struct Flusher {
    period: Duration,
    thread: OnceLock<Option<Thread>>,
}

impl Flusher {
    pub(crate) fn new(period: Duration) -> Self {
        Flusher {
            period,
            thread: OnceLock::new(),
        }
    }

    /// Whether the thread runs, starting it if need be: `flush` is called on what
    /// `owner` points to every period until it is dropped. `false` when no thread can
    /// be started: then nothing may be held.
    pub(crate) fn ensure_running<O: Send + Sync + 'static>(
        &self,
        owner: impl FnOnce() -> Weak<O>,
        flush: fn(&O),
    ) -> bool {
        let start = || {
            let owner = owner();
            let period = self.period;
            let run = move || {
                loop {
                    thread::park_timeout(period);
                    let Some(owner) = owner.upgrade() else {
                        return;
                    };
                    // A recorder that panics once must not end the flushes for good: the
                    // calls held on idle threads, and the calls in flight, would then
                    // never reach it again. At most one line a period.
                    let flushed = catch_unwind(AssertUnwindSafe(|| flush(&owner)));
                    if flushed.is_err() {
                        tracing::warn!(
                            "the metrics recorder panicked as held calls were handed over"
                        );
                    }
                }
            };
            let started = thread::Builder::new()
                .name("telepact-metrics".into())
                .spawn(run);
            match started {
                Ok(handle) => Some(handle.thread().clone()),
                Err(error) => {
                    tracing::warn!(error = %crate::ErrorChain(&error), "no thread for batched metrics: each call is reported at once");
                    None
                }
            }
        };
        self.thread.get_or_init(start).is_some()
    }

    /// Wakes the thread, to see (when its owner is being dropped) that it may stop.
    pub(crate) fn wake(&self) {
        if let Some(Some(thread)) = self.thread.get() {
            thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use super::*;

    #[test]
    fn a_full_batch_is_handed_over_by_the_thread_that_filled_it() {
        let batches = Batches::new();
        let mut handed = Vec::new();
        for call in 0..BATCH_SIZE * 2 + 3 {
            batches.push(call, |batch| handed.push(batch.to_vec()));
        }
        assert_eq!(handed.len(), 2);
        assert_eq!(handed[0], (0..BATCH_SIZE).collect::<Vec<_>>());
        let mut rest = Vec::new();
        batches.drain(|batch| rest.extend_from_slice(batch));
        assert_eq!(
            rest,
            [BATCH_SIZE * 2, BATCH_SIZE * 2 + 1, BATCH_SIZE * 2 + 2]
        );
        batches.drain(|_| panic!("nothing is left"));
    }

    /// A batch whose handing over panicked is not handed over again: the calls the
    /// recorder took before it panicked were counted twice.
    #[test]
    fn a_batch_whose_recorder_panicked_is_not_handed_over_again() {
        let batches = Batches::new();
        for call in 0..BATCH_SIZE - 1 {
            batches.push(call, |_| unreachable!("not full yet"));
        }
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batches.push(BATCH_SIZE, |_| panic!("the recorder fails"));
        }));
        assert!(panicked.is_err());
        batches.push(0, |_| unreachable!("a batch of one"));
        let mut rest = Vec::new();
        batches.drain(|batch| rest.extend_from_slice(batch));
        assert_eq!(rest, [0]);

        batches.push(1, |_| unreachable!("a batch of one"));
        let drained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batches.drain(|_| panic!("the recorder fails"));
        }));
        assert!(drained.is_err());
        batches.drain(|batch| panic!("nothing is left: {batch:?}"));
    }

    #[test]
    fn threads_keep_to_shards_of_their_own() {
        let batches = Arc::new(Batches::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let batches = Arc::clone(&batches);
                thread::spawn(move || batches.push(this_threads_shard(), |_| {}))
            })
            .collect();
        for thread in threads {
            thread.join().expect("thread pushes");
        }
        let mut held = Vec::new();
        batches.drain(|batch| held.push(batch.to_vec()));
        // Each thread took a shard number of its own: two batches, unless other tests'
        // threads took so many numbers in between that the two wrapped onto one shard.
        let shards = batches.shards.len();
        let shard_of = |batch: &Vec<usize>| batch[0] % shards;
        match held.as_slice() {
            [one, other] => assert_ne!(shard_of(one), shard_of(other)),
            [both] => assert_eq!(both[0] % shards, both[1] % shards),
            _ => panic!("two calls in one or two batches: {held:?}"),
        }
    }

    struct Owner {
        flushes: AtomicUsize,
    }

    /// A flush that panics (a recorder failing) leaves the flusher running: the calls
    /// held on idle threads, and the calls in flight, reached the recorder no more.
    #[test]
    fn the_flusher_keeps_flushing_after_a_flush_panics() {
        let owner = Arc::new(Owner {
            flushes: AtomicUsize::new(0),
        });
        let flusher = Flusher::new(Duration::from_millis(5));
        let flush = |owner: &Owner| {
            if owner.flushes.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("the recorder fails");
            }
        };
        assert!(flusher.ensure_running(|| Arc::downgrade(&owner), flush));
        let deadline = Instant::now() + Duration::from_secs(10);
        while owner.flushes.load(Ordering::Relaxed) < 2 {
            assert!(Instant::now() < deadline, "the flusher flushed again");
            thread::sleep(Duration::from_millis(1));
        }
        drop(owner);
        flusher.wake();
    }

    #[test]
    fn the_flusher_flushes_every_period_and_stops_with_its_owner() {
        let owner = Arc::new(Owner {
            flushes: AtomicUsize::new(0),
        });
        let flusher = Flusher::new(Duration::from_millis(5));
        let flush = |owner: &Owner| {
            owner.flushes.fetch_add(1, Ordering::Relaxed);
        };
        assert!(flusher.ensure_running(|| Arc::downgrade(&owner), flush));
        // A second call finds it running.
        assert!(flusher.ensure_running(|| unreachable!("started once"), flush));
        let deadline = Instant::now() + Duration::from_secs(10);
        while owner.flushes.load(Ordering::Relaxed) < 2 {
            assert!(Instant::now() < deadline, "the flusher flushed twice");
            thread::sleep(Duration::from_millis(1));
        }
        let weak = Arc::downgrade(&owner);
        drop(owner);
        flusher.wake();
        while weak.strong_count() > 0 {
            assert!(Instant::now() < deadline, "the flusher lets its owner go");
            thread::sleep(Duration::from_millis(1));
        }
    }
}
