//! Which HTTP/1 clients have shut their side of the connection down, heard from the
//! kernel rather than read from the connection.
//!
//! hyper notices a client gone from an HTTP/1 connection only by reading its end of
//! input, and reads nothing while a call is answered unless half-close is off. Off, it
//! tries a read on every request while the request's bytes are still held, and so takes
//! a new 8 KiB read buffer each time: the bakery's call ran about 800 instructions more
//! (callgrind, `bench/http-instructions.sh`). A second epoll set, one per server with a
//! thread waiting on it, hears of each connection's end of input instead
//! (`EPOLLRDHUP`): registered once per connection, it is told of nothing else, and
//! costs a request nothing. Elsewhere than on Linux nothing is heard: a call whose
//! HTTP/1 client went runs to its end, or to its `request_timeout`.

/// Told when a watched connection's client shuts its side down (or resets it). Called
/// on the thread that listens, so it should not wait for anything.
#[cfg_attr(
    not(any(target_os = "linux", target_os = "android")),
    allow(dead_code, reason = "nothing is heard off Linux")
)]
pub(super) trait OnHangup: Send + Sync {
    fn hung_up(&self);
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(super) use epoll::{Hangups, Watch};

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(super) use unwatched::{Hangups, Watch};

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll {
    use std::collections::HashMap;
    use std::os::fd::{AsFd, OwnedFd};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};

    use rustix::event::{EventfdFlags, epoll, eventfd};

    use super::OnHangup;

    /// The key of the event that stops the listening thread.
    const STOP: u64 = u64::MAX;

    /// A server's epoll set of its connections' ends of input, and the thread that
    /// hands each end to its connection, stopped when this is dropped.
    pub(in crate::http) struct Hangups {
        shared: Option<Arc<Shared>>,
    }

    struct Shared {
        set: OwnedFd,
        /// Written to stop the thread.
        stop: OwnedFd,
        watched: Mutex<HashMap<u64, Arc<dyn OnHangup>>>,
        next: AtomicU64,
    }

    /// A connection's place in the set, given up when dropped (its socket leaves the set
    /// as it closes).
    pub(in crate::http) struct Watch {
        shared: Arc<Shared>,
        key: u64,
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            let watched = &self.shared.watched;
            let mut watched = watched.lock().unwrap_or_else(PoisonError::into_inner);
            watched.remove(&self.key);
        }
    }

    impl Hangups {
        /// A set for one server. Where it cannot be made (out of file descriptors, or
        /// of threads), nothing is heard.
        pub(in crate::http) fn new() -> Self {
            let shared = Shared::new().and_then(|shared| {
                let shared = Arc::new(shared);
                let listening = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("telepact-hangups".to_string())
                    .spawn(move || listening.listen())?;
                Ok(shared)
            });
            match shared {
                Ok(shared) => Hangups {
                    shared: Some(shared),
                },
                Err(error) => {
                    tracing::debug!(%error, "cannot watch for clients going away");
                    Hangups { shared: None }
                }
            }
        }

        /// Watches `socket`'s end of input for `on_hangup`; `None` when it cannot be.
        pub(in crate::http) fn watch(
            &self,
            socket: &impl AsFd,
            on_hangup: Arc<dyn OnHangup>,
        ) -> Option<Watch> {
            let shared = self.shared.as_ref()?;
            let key = shared.next.fetch_add(1, Ordering::Relaxed);
            let watched = &shared.watched;
            let mut watched = watched.lock().unwrap_or_else(PoisonError::into_inner);
            watched.insert(key, on_hangup);
            drop(watched);
            let watch = Watch {
                shared: Arc::clone(shared),
                key,
            };
            // Edge-triggered, and for the end of input alone (a reset and an error come
            // whatever is asked): data arriving tells this set nothing.
            let ends = epoll::EventFlags::RDHUP | epoll::EventFlags::ET;
            let data = epoll::EventData::new_u64(key);
            match epoll::add(&shared.set, socket, data, ends) {
                Ok(()) => Some(watch),
                Err(error) => {
                    tracing::debug!(%error, "cannot watch a connection for its client going away");
                    None
                }
            }
        }
    }

    impl Drop for Hangups {
        fn drop(&mut self) {
            if let Some(shared) = &self.shared {
                // The thread reads nothing: any write wakes it for good.
                let _ = rustix::io::write(&shared.stop, &1u64.to_ne_bytes());
            }
        }
    }

    impl Shared {
        fn new() -> std::io::Result<Self> {
            let set = epoll::create(epoll::CreateFlags::CLOEXEC)?;
            let stop = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            let data = epoll::EventData::new_u64(STOP);
            epoll::add(&set, &stop, data, epoll::EventFlags::IN)?;
            Ok(Shared {
                set,
                stop,
                watched: Mutex::default(),
                next: AtomicU64::new(0),
            })
        }

        /// Hands each end of input the set hears of to its connection, until stopped.
        fn listen(&self) {
            let mut events = Vec::with_capacity(64);
            loop {
                events.clear();
                let spare = rustix::buffer::spare_capacity(&mut events);
                match epoll::wait(&self.set, spare, None) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(error) => {
                        tracing::debug!(%error, "stopped watching for clients going away");
                        return;
                    }
                }
                let watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
                for event in &events {
                    let key = event.data.u64();
                    if key == STOP {
                        return;
                    }
                    if let Some(on_hangup) = watched.get(&key) {
                        on_hangup.hung_up();
                    }
                }
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[allow(dead_code, reason = "nothing is watched: no watch is ever made")]
mod unwatched {
    use std::sync::Arc;

    use super::OnHangup;

    /// Nothing is heard of clients going away here.
    #[derive(Debug)]
    pub(in crate::http) struct Hangups;

    /// Never made.
    #[derive(Debug)]
    pub(in crate::http) struct Watch;

    impl Hangups {
        pub(in crate::http) fn new() -> Self {
            Hangups
        }

        pub(in crate::http) fn watch<S>(&self, _: &S, _: Arc<dyn OnHangup>) -> Option<Watch> {
            None
        }
    }
}
