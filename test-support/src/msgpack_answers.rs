//! A client transport for tests that counts the answers that came back as MessagePack:
//! how a test tells that a binary client really talks binary over the wire.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use telepact::binary::is_msgpack;
use telepact::client::Transport;

/// How many answers the transport made by [`count_msgpack_answers`] got back as
/// MessagePack so far.
#[derive(Clone, Debug, Default)]
pub struct MsgpackAnswers(Arc<AtomicUsize>);

impl MsgpackAnswers {
    /// The count so far.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// `transport`, counting each answer that is MessagePack in the [`MsgpackAnswers`]
/// returned beside it. Errors pass through uncounted.
pub fn count_msgpack_answers(transport: impl Transport) -> (impl Transport, MsgpackAnswers) {
    let answers = MsgpackAnswers::default();
    let counter = Arc::clone(&answers.0);
    let counting = move |request: Vec<u8>| {
        let sent = transport.send(request);
        let counter = Arc::clone(&counter);
        async move {
            let answer = sent.await?;
            if is_msgpack(&answer) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            Ok(answer)
        }
    };
    (counting, answers)
}
