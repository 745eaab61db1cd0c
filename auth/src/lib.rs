//! Server-side auth for Telepact services.
//!
//! Credentials arrive as variants of the schema's `union.Auth_` in `@auth_`
//! (`Password`, `Bearer`, `ApiKey`, `Session`). The [`Authenticator`] verifies them and
//! normalises them into an [`Identity`]; [`Authenticator::hook`] plugs that into
//! `Server::builder(..).on_auth(..)`. A [`Policy`] declares what each function needs and
//! is enforced as middleware before the handler. The [`http`] adapter turns
//! `Authorization`, `X-API-Key` and a session cookie into `@auth_`.
//!
//! Issued credentials (refresh tokens, API keys, sessions, revocations) live in a
//! [`CredentialStore`]: in memory, in SQLite (feature `sqlite`, default) or in Redis
//! (feature `redis`). Users come from a [`UserLoader`] the service provides.

mod authenticator;
mod credential;
mod error;
mod hook;
pub mod http;
mod identity;
mod issue;
mod jwt;
mod password;
mod policy;
mod records;
mod secret;
pub mod store;
mod throttle;
mod users;

pub use authenticator::{AuthConfig, Authenticator};
pub use credential::Credential;
pub use error::AuthError;
pub use hook::AuthHookAdapter;
pub use identity::{AuthMethod, CredentialRef, Identity};
pub use issue::{NewApiKey, NewSession, TokenPair};
pub use jwt::{JwtConfig, JwtKey, JwtKeys, MAX_LEEWAY};
pub use password::{MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES, PasswordHasher, PasswordParams};
pub use policy::{NOT_PERMITTED, Policy, PolicyMiddleware, Requirement};
pub use store::{CredentialStore, MemoryStore, StoreError};
pub use telepact::Refusal;
pub use telepact::clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use throttle::{LoginThrottle, ThrottleLimits};
pub use users::{LoginRecord, MemoryUsers, User, UserLoader};
