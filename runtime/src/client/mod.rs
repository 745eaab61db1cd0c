//! The runtime client: sends request messages over a pluggable transport.

use crate::message::Message;

/// Why a call did not produce a response message.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("transport failed: {0}")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

/// A Telepact client.
#[derive(Clone, Default)]
pub struct Client {}

impl Client {
    /// Sends one request and returns the response message.
    pub async fn request(&self, request: Message) -> Result<Message, ClientError> {
        let _ = request;
        Err(ClientError::Transport("no transport".into()))
    }
}
