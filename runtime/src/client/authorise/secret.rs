//! Secret strings: wiped from memory on drop and never shown by `Debug`.

use std::fmt;

use zeroize::Zeroizing;

/// A password, client secret or token. `Debug` prints `Secret(***)`; the bytes are
/// overwritten when the value is dropped. Read it with [`Secret::expose`], only where it
/// goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of `value`; it is wiped when the secret is dropped.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}
