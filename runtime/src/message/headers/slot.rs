//! A header's value as [`Headers`](super::Headers) holds it.

use std::sync::OnceLock;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

/// A header's value: JSON values, or the text of one value checked against the type the
/// schema declares for the header as the request was read, read into values (once) only
/// when something asks for them.
#[derive(Clone)]
pub(super) enum Slot {
    Value(Value),
    Checked(Checked),
}

#[derive(Clone)]
pub(super) struct Checked {
    text: Bytes,
    value: OnceLock<Value>,
}

impl Checked {
    pub(super) fn new(text: Bytes) -> Self {
        Checked {
            text,
            value: OnceLock::new(),
        }
    }

    /// The text read into values. It was read once already, checked, so this cannot
    /// fail; should it, the header reads as `null` rather than failing the caller.
    fn parse(&self) -> Value {
        serde_json::from_slice(&self.text).unwrap_or(Value::Null)
    }
}

impl Slot {
    #[inline]
    pub(super) fn value(&self) -> &Value {
        match self {
            Slot::Value(value) => value,
            Slot::Checked(checked) => checked.value.get_or_init(|| checked.parse()),
        }
    }

    /// The value to change: a checked text becomes values for good (a change may make
    /// it fail the schema). `None` never happens.
    pub(super) fn value_mut(&mut self) -> Option<&mut Value> {
        if let Slot::Checked(_) = self {
            let value = std::mem::replace(self, Slot::Value(Value::Null)).into_value();
            *self = Slot::Value(value);
        }
        match self {
            Slot::Value(value) => Some(value),
            Slot::Checked(_) => None,
        }
    }

    pub(super) fn into_value(self) -> Value {
        match self {
            Slot::Value(value) => value,
            Slot::Checked(mut checked) => checked.value.take().unwrap_or_else(|| checked.parse()),
        }
    }

    pub(super) fn read_as<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        match self {
            Slot::Checked(checked) if checked.value.get().is_none() => {
                serde_json::from_slice(&checked.text)
            }
            _ => T::deserialize(self.value()),
        }
    }
}
