//! Optional fields whose value may be `null`: absent and `null` stay distinct.

use serde::{Deserialize, Deserializer};

/// Deserializes a field that is present into `Some`, even when its value is `null`.
/// Generated code pairs it with `#[serde(default)]` (absent → `None`), so an optional
/// nullable field is `Option<Option<T>>`: `None` absent, `Some(None)` `null`.
///
/// # Errors
///
/// `D::Error` when the value (other than `null`, for a `T` that is an `Option`) does
/// not read as a `T`.
pub fn deserialize_present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}
