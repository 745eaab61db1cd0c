//! NATS request/reply for the gateway and [`NatsTransport`](super::NatsTransport): one
//! wildcard subscription takes every reply, and a request that stops waiting (answered,
//! timed out or cancelled) takes its entry out.
//!
//! async-nats's own `Client::request` keeps the entry of a request that gets no reply
//! (its worker died or froze, or NATS restarted meanwhile) for as long as the connection
//! lives (nats-io/nats.rs#1617): about 400 bytes each, so a gateway in front of a frozen
//! worker grew by 4 MB every 10,000 calls, without end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use async_nats::{
    HeaderMap, Message, PublishErrorKind, RequestError, RequestErrorKind, StatusCode, Subject,
};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::{OnceCell, oneshot};

/// Sends requests through `client` and routes their replies. Clones share one
/// subscription.
#[derive(Debug, Clone)]
pub(super) struct Requester {
    client: async_nats::Client,
    replies: Arc<OnceCell<Arc<Replies>>>,
}

/// The requests waiting for a reply, by the token that ends their reply subject: random,
/// as async-nats's are, so that a worker seeing one request's reply subject cannot
/// answer the requests other workers are given.
#[derive(Debug)]
struct Replies {
    /// `{inbox}.`: a reply subject is this and a token.
    prefix: String,
    waiting: Mutex<HashMap<String, oneshot::Sender<Message>>>,
    /// Dropped with the last requester, which ends the routing task.
    _stop: oneshot::Sender<()>,
}

impl Requester {
    pub(super) fn new(client: async_nats::Client) -> Self {
        Requester {
            client,
            replies: Arc::new(OnceCell::new()),
        }
    }

    /// `payload` (with `headers`, if any) to `subject` as a request, and its reply; failed
    /// as the client's own requests fail: no responders, past `max_payload`, or no reply
    /// within the client's request timeout (which here bounds the whole request, the
    /// wait for room in the connection's queue while NATS is down included).
    pub(super) async fn request(
        &self,
        subject: Subject,
        headers: Option<HeaderMap>,
        payload: Bytes,
    ) -> Result<Message, RequestError> {
        let exchange = self.exchange(subject, headers, payload);
        let reply = match self.client.timeout() {
            Some(limit) => match tokio::time::timeout(limit, exchange).await {
                Ok(reply) => reply,
                Err(_) => Err(RequestError::with_source(
                    RequestErrorKind::TimedOut,
                    "no reply before the deadline",
                )),
            },
            None => exchange.await,
        }?;
        if reply.status == Some(StatusCode::NO_RESPONDERS) {
            return Err(RequestError::with_source(
                RequestErrorKind::NoResponders,
                "no responders",
            ));
        }
        Ok(reply)
    }

    async fn exchange(
        &self,
        subject: Subject,
        headers: Option<HeaderMap>,
        payload: Bytes,
    ) -> Result<Message, RequestError> {
        let replies = self.replies().await?;
        let waiting = Waiting::new(replies, self.new_token());
        let reply_to = Subject::from(format!("{}{}", replies.prefix, waiting.token));
        let client = &self.client;
        let published = match headers {
            Some(headers) => {
                let publishing =
                    client.publish_with_reply_and_headers(subject, reply_to, headers, payload);
                publishing.await
            }
            None => client.publish_with_reply(subject, reply_to, payload).await,
        };
        published.map_err(|error| {
            let kind = match error.kind() {
                PublishErrorKind::MaxPayloadExceeded => RequestErrorKind::MaxPayloadExceeded,
                PublishErrorKind::InvalidSubject => RequestErrorKind::InvalidSubject,
                _ => RequestErrorKind::Other,
            };
            RequestError::with_source(kind, error)
        })?;
        waiting.reply().await
    }

    /// A random token: the last part of a new inbox.
    fn new_token(&self) -> String {
        let mut inbox = self.client.new_inbox();
        let token_starts = inbox.rfind('.').map_or(0, |dot| dot + 1);
        inbox.split_off(token_starts)
    }

    /// The subscription taking replies, made by the first request.
    async fn replies(&self) -> Result<&Arc<Replies>, RequestError> {
        let subscribing = || async {
            let inbox = self.client.new_inbox();
            let subscriber = (self.client.subscribe(format!("{inbox}.*")).await)
                .map_err(|error| RequestError::with_source(RequestErrorKind::Other, error))?;
            let (stop, stopped) = oneshot::channel();
            let replies = Arc::new(Replies {
                prefix: format!("{inbox}."),
                waiting: Mutex::new(HashMap::new()),
                _stop: stop,
            });
            tokio::spawn(route(subscriber, Arc::downgrade(&replies), stopped));
            Ok(replies)
        };
        self.replies.get_or_try_init(subscribing).await
    }
}

/// Hands each reply to the request waiting for it, until the last requester is dropped
/// or the subscription ends (the connection closed).
async fn route(
    mut subscriber: async_nats::Subscriber,
    replies: Weak<Replies>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let reply = tokio::select! {
            _ = &mut stopped => break,
            reply = subscriber.next() => reply,
        };
        let (Some(reply), Some(replies)) = (reply, replies.upgrade()) else {
            break;
        };
        let token = reply.subject.strip_prefix(replies.prefix.as_str());
        let waiting = token.and_then(|token| replies.lock().remove(token));
        // An Err: the request stopped waiting just now.
        if let Some(waiting) = waiting {
            let _ = waiting.send(reply);
        }
    }
}

impl Replies {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Message>>> {
        // The map holds no invariant a panic elsewhere could break.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One request's place among the waiting: taken out when the request stops waiting,
/// however it ends.
struct Waiting<'a> {
    replies: &'a Replies,
    token: String,
    reply: oneshot::Receiver<Message>,
}

impl<'a> Waiting<'a> {
    fn new(replies: &'a Replies, token: String) -> Self {
        let (sender, reply) = oneshot::channel();
        replies.lock().insert(token.clone(), sender);
        Waiting {
            replies,
            token,
            reply,
        }
    }

    async fn reply(mut self) -> Result<Message, RequestError> {
        (&mut self.reply).await.map_err(|_| {
            RequestError::with_source(RequestErrorKind::Other, "the connection closed")
        })
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.replies.lock().remove(&self.token);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use telepact_test_support::NatsServer;

    use super::*;

    /// Requests that get no reply (a subscriber that never answers), time out, and leave
    /// no entry behind; answered ones neither.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_that_stop_waiting_leave_nothing_behind() {
        let Some(nats_server) = NatsServer::start() else {
            return;
        };
        let connect = || {
            async_nats::ConnectOptions::new()
                .request_timeout(Some(Duration::from_millis(50)))
                .connect(nats_server.url())
        };
        let client = connect().await.expect("connects");
        let silent = client.subscribe("silent").await.expect("subscribes");
        let echo = client.subscribe("echo").await.expect("subscribes");
        client.flush().await.expect("flushes");
        let answering = client.clone();
        tokio::spawn(echo.for_each(move |request| {
            let client = answering.clone();
            async move {
                if let Some(reply) = request.reply {
                    let _ = client.publish(reply, request.payload).await;
                }
            }
        }));

        let requester = Requester::new(connect().await.expect("connects"));
        let mut calls = tokio::task::JoinSet::new();
        for call in 0..200 {
            let requester = requester.clone();
            calls.spawn(async move {
                let subject = if call % 2 == 0 { "silent" } else { "echo" };
                let outcome = requester.request(subject.into(), None, "ping".into()).await;
                (subject, outcome.map(|reply| reply.payload))
            });
        }
        while let Some(call) = calls.join_next().await {
            match call.expect("the call's task") {
                ("echo", outcome) => assert_eq!(outcome.expect("answered"), "ping"),
                (_, outcome) => {
                    let error = outcome.expect_err("no reply");
                    assert_eq!(error.kind(), RequestErrorKind::TimedOut);
                }
            }
        }
        let replies = requester.replies().await.expect("subscribed");
        assert!(replies.lock().is_empty());
        let none = requester.request("nobody".into(), None, Bytes::new()).await;
        assert_eq!(none.unwrap_err().kind(), RequestErrorKind::NoResponders);
        drop(silent);
    }
}
