//! A header's value as [`Headers`](super::Headers) holds it.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::router::TypedHeader;

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
    /// Boxed: read only when asked, and a slot the size of a value keeps the list small.
    value: OnceLock<Box<Value>>,
    /// The value read into its type with the request, when the server reads it so.
    typed: Option<TypedHeader>,
}

impl Checked {
    pub(super) fn new(text: Bytes, typed: Option<TypedHeader>) -> Self {
        Checked {
            text,
            value: OnceLock::new(),
            typed,
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
            Slot::Checked(checked) => checked.value.get_or_init(|| Box::new(checked.parse())),
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
            Slot::Checked(mut checked) => checked
                .value
                .take()
                .map_or_else(|| checked.parse(), |value| *value),
        }
    }

    pub(super) fn read_as<T>(&self) -> Result<Cow<'_, T>, serde_json::Error>
    where
        T: DeserializeOwned + Clone + 'static,
    {
        if let Slot::Checked(checked) = self
            && let Some(typed) = checked
                .typed
                .as_deref()
                .and_then(|typed| typed.downcast_ref())
        {
            return Ok(Cow::Borrowed(typed));
        }
        self.read_owned().map(Cow::Owned)
    }

    /// The value read into a new `T`. Out of line: a header read into its type with the
    /// request, as hooks usually ask for it, never needs this code.
    #[inline(never)]
    fn read_owned<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self {
            Slot::Checked(checked) => match checked.value.get() {
                Some(value) => T::deserialize(&**value),
                None => serde_json::from_slice(&checked.text),
            },
            Slot::Value(value) => T::deserialize(value),
        }
    }
}
