//! Optional fields: absent and `null` stay distinct.

use serde::{Deserialize, Deserializer};

/// Deserializes a field that is present into `Some`, its value read as a `T`.
/// Generated code pairs it with `#[serde(default)]` (absent → `None`) on every optional
/// field: a nullable one is `Option<Option<T>>` (`None` absent, `Some(None)` `null`),
/// and one that is not refuses `null` rather than reading it as absent.
///
/// # Errors
///
/// `D::Error` when the value (`null` included, unless `T` holds it) does not read as a
/// `T`.
pub fn deserialize_present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
