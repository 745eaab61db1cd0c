//! A running worker, and how it ends: drained, within a grace, or at once.

use std::time::Duration;

use async_nats::connection::State;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{DRAIN_GRACE, NatsError};

/// How often a draining worker looks at its connection: async-nats tells a change of
/// state only to a callback given when the connection is made, which the caller owns.
const CONNECTION_CHECK: Duration = Duration::from_millis(50);

/// How long a draining worker's connection must stay down before the drain ends.
const DOWN_FOR: Duration = Duration::from_secs(1);

/// A running worker: answers requests on its subject until [`Worker::drain`].
/// Dropping it drains it too, in the background.
#[derive(Debug)]
#[must_use = "a worker dropped stops serving: keep it, then drain it"]
pub struct Worker {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), NatsError>>,
    /// The worker's connection, watched while it drains.
    client: async_nats::Client,
}

impl Worker {
    pub(super) fn new(
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<(), NatsError>>,
        client: async_nats::Client,
    ) -> Self {
        Worker { stop, task, client }
    }

    /// Stops taking new requests (the subscription ends, so the queue group sends
    /// them to the other workers), then waits for the requests in flight, and those NATS
    /// had already delivered to this worker, to be answered and their replies flushed.
    /// A request still on its way as the drain begins can be lost, its caller timing out:
    /// async-nats forgets the subscription without waiting for the NATS server to
    /// confirm the unsubscribe.
    ///
    /// Bounded by [`DRAIN_GRACE`]: past it (a stuck handler) the worker is ended
    /// without them. A worker whose connection to NATS is down as it drains, or goes
    /// down meanwhile, and stays down for a second, is ended then: its replies could
    /// reach no caller, and the subscription's end, which NATS confirms, would not come.
    ///
    /// # Errors
    ///
    /// As [`drain_within`](Self::drain_within).
    pub async fn drain(self) -> Result<(), NatsError> {
        self.drain_within(DRAIN_GRACE).await
    }

    /// Like [`Worker::drain`], giving in-flight requests `grace`.
    ///
    /// # Errors
    ///
    /// - [`NatsError::Flush`] when the replies cannot be flushed to NATS at the end.
    /// - [`NatsError::Task`] when the worker's task panicked or was cancelled.
    ///
    /// A worker ended at the deadline, or with its connection down, is no error.
    pub async fn drain_within(self, grace: Duration) -> Result<(), NatsError> {
        // An Err means the task has already ended; its result tells why.
        let _ = self.stop.send(());
        let mut task = self.task;
        tokio::select! {
            biased;
            ended = tokio::time::timeout(grace, &mut task) => match ended {
                Ok(result) => result?,
                Err(_) => {
                    task.abort();
                    tracing::warn!(
                        grace_ms = grace.as_millis(),
                        "worker ended at the drain deadline"
                    );
                    Ok(())
                }
            },
            () = disconnected(&self.client) => {
                task.abort();
                tracing::warn!("worker ended without draining: NATS is not connected");
                Ok(())
            }
        }
    }

    /// Ends the worker at once: requests in flight get no answer (their callers time
    /// out), as when a worker's process dies.
    pub fn abort(self) {
        self.task.abort();
    }
}

/// Completes once `client` has been without NATS for [`DOWN_FOR`] on end. A moment's
/// reconnect does not end the drain: async-nats holds the replies published meanwhile
/// and sends them once it is back.
async fn disconnected(client: &async_nats::Client) {
    let mut down_since = None;
    loop {
        if client.connection_state() == State::Connected {
            down_since = None;
        } else if down_since
            .get_or_insert_with(tokio::time::Instant::now)
            .elapsed()
            >= DOWN_FOR
        {
            return;
        }
        tokio::time::sleep(CONNECTION_CHECK).await;
    }
}
