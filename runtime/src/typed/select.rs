//! `_ext.Select_` values.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An `_ext.Select_` value: the selection object of the `@select_` header, such as
/// `{"->": {"Ok_": ["field"]}, "struct.Point": ["x"]}`. Kept as JSON; the server
/// validates its shape against the schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Select(pub Map<String, Value>);
