//! What the in-process benches share (the runtime's `process` bench and the bakery's
//! `my_shift` bench include it by `#[path]`): driving a call without a runtime, and
//! counting the heap allocations one call makes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// Drives a future that never waits on I/O to completion without a runtime.
pub(crate) fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// The system allocator, counting allocations and reallocations; install it with
/// `#[global_allocator]`.
pub(crate) struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// How many allocations one `call` makes, averaged over a thousand calls (the first
/// call's lazy set-up excluded).
pub(crate) fn per_call<T>(mut call: impl FnMut() -> T) -> u64 {
    const CALLS: u64 = 1_000;
    drop(call());
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        drop(call());
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) / CALLS
}
