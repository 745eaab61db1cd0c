//! The crate's integration tests, one module per area, linked into one binary.

#[cfg(feature = "redis")]
mod support {
    pub(crate) mod redis;
}

mod authenticator;
mod redis_store;
