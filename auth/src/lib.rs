//! Server-side auth for Telepact services.
//!
//! Credentials arrive as variants of the schema's `union.Auth_` in `@auth_`
//! (`Password`, `Bearer`, `ApiKey`, `Session`). The [`Authenticator`] verifies them and
//! normalises them into an [`Identity`]; [`Authenticator::hook`] plugs that into
//! `Server::builder(..).on_auth(..)`. A [`Policy`] declares what each function needs and
//! is enforced as middleware before the handler. The [`http`] adapter turns
//! `Authorization`, `X-API-Key` and a session cookie into `@auth_`; with the `nats`
//! feature, `http::nats` does the same behind the runtime's NATS gateway.
//!
//! Issued credentials (refresh tokens, API keys, sessions, revocations) live in a
//! [`CredentialStore`]: in memory, in SQLite (feature `sqlite`, default) or in Redis
//! (feature `redis`). Users come from a [`UserLoader`] the service provides.
//!
//! A password sign-in, a role check and both refusals, in process:
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::Map;
//! use telepact::schema::Schema;
//! use telepact::{FunctionRouter, HandlerError, Headers, Message, Server};
//! use telepact_auth::{
//!     AuthConfig, Authenticator, JwtKey, JwtKeys, MemoryStore, MemoryUsers, PasswordParams,
//!     Policy, Requirement, User,
//! };
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
//! let schema = Schema::from_text(r#"[
//!     {"union.Auth_": [{"Password": {"username": "string", "password": "string"}}]},
//!     {"fn.payroll": {}, "->": [{"Ok_": {"total": "integer"}}]}
//! ]"#)?;
//!
//! let mut config = AuthConfig::new("https://payroll.example", "payroll");
//! // The default (OWASP's argon2id: 19 MiB, two passes) is meant to be slow to guess.
//! config.password = PasswordParams::insecure_for_tests();
//! let users = MemoryUsers::new();
//! let auth = Authenticator::new(
//!     config,
//!     JwtKeys::new(JwtKey::generate("key-1")?),
//!     Arc::new(users.clone()),
//!     Arc::new(MemoryStore::new()),
//! )?;
//! for (name, roles) in [("alice", vec!["payroll".to_string()]), ("bob", vec![])] {
//!     let user = User {
//!         user_id: format!("u-{name}"),
//!         tenant: "acme".into(),
//!         roles: roles.into_iter().collect(),
//!         scopes: Default::default(),
//!         disabled: false,
//!     };
//!     users.insert(name, auth.passwords().hash(&format!("{name}-secret"))?, user);
//! }
//!
//! let router = FunctionRouter::new().route("fn.payroll", |_request: Message| async {
//!     let mut ok = Map::new();
//!     ok.insert("total".into(), 42.into());
//!     Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", ok))
//! });
//! let server = Server::builder(schema, router)
//!     .on_auth(auth.hook())
//!     .middleware(
//!         Policy::new()
//!             .require("fn.payroll", Requirement::Role("payroll".into()))
//!             .middleware(),
//!     )
//!     .build()?;
//!
//! let call = |username: &str, password: &str| {
//!     format!(r#"[{{"@auth_": {{"Password": {{"username": "{username}", "password": "{password}"}}}}}},
//!                 {{"fn.payroll": {{}}}}]"#)
//! };
//! let answer = server.process(call("alice", "alice-secret").as_bytes()).await;
//! assert_eq!(answer.bytes, br#"[{},{"Ok_":{"total":42}}]"#);
//! let answer = server.process(call("bob", "bob-secret").as_bytes()).await;
//! assert!(answer.bytes.starts_with(br#"[{},{"ErrorUnauthorized_""#));
//! let answer = server.process(call("alice", "guess").as_bytes()).await;
//! assert!(answer.bytes.starts_with(br#"[{},{"ErrorUnauthenticated_""#));
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `sqlite` | yes | `store::SqliteStore`: issued credentials in a SQLite file (SQLite built in) |
//! | `redis` | | `store::RedisStore`: issued credentials in Redis, shared by several servers |
//! | `nats` | | `http::nats`: credentials from HTTP requests through the runtime's NATS gateway |
// docs.rs builds on nightly with `--cfg docsrs`: each feature-gated item is marked
// with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authenticator;
mod credential;
mod error;
mod hook;
pub mod http;
mod identity;
mod issue;
mod jwt;
mod password;
mod password_check;
mod password_memory;
mod policy;
mod records;
mod secret;
mod slots;
pub mod store;
mod throttle;
mod users;

pub use authenticator::{AuthConfig, Authenticator};
pub use credential::Credential;
pub use error::AuthError;
pub use hook::AuthHookAdapter;
pub use identity::{AuthMethod, CredentialRef, Identity};
pub use issue::{MAX_API_KEY_NAME_BYTES, NewApiKey, NewSession, TokenPair};
pub use jwt::{JwtConfig, JwtKey, JwtKeys, MAX_LEEWAY};
pub use password::{MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES, PasswordHasher, PasswordParams};
pub use policy::{NOT_PERMITTED, Policy, PolicyMiddleware, Requirement};
pub use store::{CredentialStore, MemoryStore, StoreError};
pub use telepact::Refusal;
pub use telepact::clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use throttle::{LoginAttempt, LoginThrottle, ThrottleLimits};
pub use users::{LoginRecord, MemoryUsers, User, UserLoader};
