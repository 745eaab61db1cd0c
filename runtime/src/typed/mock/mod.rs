//! Typed stubs and verifications over a [`MockServer`], and a client that calls it in
//! process: a test stubs a function of its schema with the generated types, calls it
//! through the generated client and verifies the call, with no HTTP and no JSON. A
//! mock in another process is driven the same way through [`MockControl`].

mod control;
mod outcome;

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

pub use control::MockControl;
pub use outcome::{MatchingCalls, MockCallError, StubOptions, Times, VerificationFailure};

use crate::client::{Client, ClientOptions};
use crate::mock::{MockError, MockOptions, MockServer};
use crate::schema::Schema;

/// A mock of a schema in this process, driven with typed values: its stubs and
/// verifications are [`MockControl`]'s, which it dereferences to. Cheap to clone; clones
/// share stubs and recorded calls.
#[derive(Clone)]
pub struct Mock {
    server: MockServer,
    /// Calls the mock's own functions.
    control: MockControl,
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock").finish_non_exhaustive()
    }
}

impl Mock {
    /// A mock of `schema` with the default [`MockOptions`]: calls no stub matches get a
    /// generated `Ok_`.
    ///
    /// # Errors
    ///
    /// As [`MockServer::new`].
    pub fn new(schema: impl Into<Arc<Schema>>) -> Result<Mock, MockError> {
        Mock::with_options(schema, MockOptions::default())
    }

    /// A mock of `schema` with `options`.
    ///
    /// # Errors
    ///
    /// As [`MockServer::new`].
    pub fn with_options(
        schema: impl Into<Arc<Schema>>,
        options: MockOptions,
    ) -> Result<Mock, MockError> {
        let server = MockServer::with_options(schema, options)?;
        let control = MockControl::new(in_process_client(&server, ClientOptions::default()));
        Ok(Mock { server, control })
    }

    /// The mock server, to serve over a transport or to send raw requests.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// A client that calls the mock in process: requests are processed by the mock
    /// directly, with no transport in between. Wrap it in a generated `Client`.
    pub fn client(&self) -> Client {
        self.client_with_options(ClientOptions::default())
    }

    /// Like [`client`](Self::client), with client options (binary encoding, say).
    pub fn client_with_options(&self, options: ClientOptions) -> Client {
        in_process_client(&self.server, options)
    }
}

impl Deref for Mock {
    type Target = MockControl;

    fn deref(&self) -> &MockControl {
        &self.control
    }
}

/// A client whose transport hands each request to `server` in this process.
fn in_process_client(server: &MockServer, options: ClientOptions) -> Client {
    Client::with_options(server.clone(), options)
}
