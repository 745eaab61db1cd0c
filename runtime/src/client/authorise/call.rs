//! The client's side: ask for a credential, send, and retry once after a refusal.

use std::sync::Arc;

use http::HeaderMap;
use serde_json::Value;

use super::Authoriser;
use super::credential::Credential;
use crate::client::{Client, ClientError};
use crate::message::Message;

const AUTH_HEADER: &str = "@auth_";
const UNAUTHENTICATED: &str = "ErrorUnauthenticated_";

impl Client {
    /// This client with `authoriser` supplying the credentials of every call that has
    /// no `@auth_` header of its own. Other clones keep their own authoriser (or
    /// none) while sharing the transport.
    ///
    /// An authoriser that calls the same server (such as [`super::TelepactLogin`])
    /// must use a client without it, e.g. a clone taken before this call.
    pub fn with_authoriser(mut self, authoriser: impl Authoriser) -> Self {
        self.authoriser = Some(Arc::new(authoriser));
        self
    }

    /// Leaves out the authoriser.
    pub fn without_authoriser(mut self) -> Self {
        self.authoriser = None;
        self
    }

    /// Whether this client has an authoriser.
    pub fn has_authoriser(&self) -> bool {
        self.authoriser.is_some()
    }

    /// One exchange with the authoriser's credential; after `ErrorUnauthenticated_`,
    /// one more with the credential it renews.
    pub(in crate::client) async fn authorised_exchange(
        &self,
        request: Message,
    ) -> Result<Message, ClientError> {
        let authoriser = match &self.authoriser {
            Some(authoriser) if !request.headers.contains_key(AUTH_HEADER) => authoriser,
            _ => return self.exchange(request, &HeaderMap::new()).await,
        };
        let credential = authoriser.credential().await.map_err(authorise_failed)?;
        let response = self.exchange_with(request.clone(), &credential).await?;
        if response.target() != UNAUTHENTICATED {
            return Ok(response);
        }
        if !authoriser
            .rejected(&credential)
            .await
            .map_err(authorise_failed)?
        {
            return Ok(response);
        }
        tracing::debug!("retrying once with a renewed credential");
        let renewed = authoriser.credential().await.map_err(authorise_failed)?;
        self.exchange_with(request, &renewed).await
    }

    async fn exchange_with(
        &self,
        mut request: Message,
        credential: &Credential,
    ) -> Result<Message, ClientError> {
        match credential {
            Credential::None => self.exchange(request, &HeaderMap::new()).await,
            Credential::Auth(value) => {
                request
                    .headers
                    .insert(AUTH_HEADER, Value::clone(value.expose()));
                self.exchange(request, &HeaderMap::new()).await
            }
            Credential::Transport(headers) => self.exchange(request, headers).await,
        }
    }
}

fn authorise_failed(error: super::AuthoriseError) -> ClientError {
    ClientError::Authorise(Box::new(error))
}
