//! Floats JSON cannot carry. `serde_json` writes NaN and the infinities as `null`, so a
//! typed value holding one would reach the other side as a different value (or, in a
//! nullable field, as a valid one). Typed requests, stubs and answers are refused
//! instead, naming where the float is.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{
    self, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde_json::Value;

use crate::validate::KeyText;

/// A NaN or an infinity, and where it is in the value (`.Ok_.prices[2]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NonFinite {
    path: String,
    value: f64,
}

impl std::error::Error for NonFinite {}

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {}: JSON has no such number (it would be sent as null)",
            self.value,
            if self.path.is_empty() {
                "the top"
            } else {
                &self.path
            }
        )
    }
}

/// Converts `value` to JSON as `serde_json::to_value` does, refusing a NaN or an
/// infinity instead of making it `null`. The value is walked a second time only when
/// its JSON holds a `null`.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, String> {
    let json = serde_json::to_value(value).map_err(|e| e.to_string())?;
    if holds_null(&json)
        && let Some(found) = find(value)
    {
        return Err(found.to_string());
    }
    Ok(json)
}

/// The first NaN or infinity in `value`, in the order it serializes.
pub(crate) fn find<T: Serialize + ?Sized>(value: &T) -> Option<NonFinite> {
    let mut walk = Walk::default();
    match value.serialize(&mut walk) {
        Err(Stop::Found(found)) => Some(found),
        // A value that does not serialize fails when it is written, with its own error.
        Ok(()) | Err(Stop::Custom) => None,
    }
}

fn holds_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(holds_null),
        Value::Object(entries) => entries.values().any(holds_null),
        _ => false,
    }
}

#[derive(Debug)]
enum Stop {
    Found(NonFinite),
    Custom,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Found(found) => found.fmt(f),
            Stop::Custom => f.write_str("the value does not serialize"),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop::Custom
    }
}

/// Serializes nothing; keeps the path to the value being serialized.
#[derive(Default)]
struct Walk {
    path: String,
}

impl Walk {
    fn float(&self, value: f64) -> Result<(), Stop> {
        if value.is_finite() {
            return Ok(());
        }
        Err(Stop::Found(NonFinite {
            path: self.path.clone(),
            value,
        }))
    }

    /// Serializes `value` with `segment` added to the path.
    fn at<T: Serialize + ?Sized>(
        &mut self,
        segment: fmt::Arguments<'_>,
        value: &T,
    ) -> Result<(), Stop> {
        let length = self.path.len();
        fmt::Write::write_fmt(&mut self.path, segment).map_err(|_| Stop::Custom)?;
        let walked = value.serialize(&mut *self);
        self.path.truncate(length);
        walked
    }
}

/// A sequence's walk, counting its items for the path.
struct Items<'w> {
    walk: &'w mut Walk,
    index: usize,
}

impl Items<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        let index = self.index;
        self.index += 1;
        self.walk.at(format_args!("[{index}]"), value)
    }
}

/// A map's walk, keeping the last key for its value's path.
struct Entries<'w> {
    walk: &'w mut Walk,
    key: String,
}

impl<'w> Serializer for &'w mut Walk {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Items<'w>;
    type SerializeTuple = Items<'w>;
    type SerializeTupleStruct = Items<'w>;
    type SerializeTupleVariant = Items<'w>;
    type SerializeMap = Entries<'w>;
    type SerializeStruct = Entries<'w>;
    type SerializeStructVariant = Entries<'w>;

    fn serialize_f32(self, v: f32) -> Result<(), Stop> {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Stop> {
        self.float(v)
    }
    fn serialize_bool(self, _: bool) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_char(self, _: char) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Stop> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.at(format_args!(".{variant}"), value)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Items<'w>, Stop> {
        Ok(Items {
            walk: self,
            index: 0,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Items<'w>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Items<'w>, Stop> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Items<'w>, Stop> {
        self.path.push('.');
        self.path.push_str(variant);
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Entries<'w>, Stop> {
        Ok(Entries {
            walk: self,
            key: String::new(),
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Entries<'w>, Stop> {
        self.serialize_map(None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Entries<'w>, Stop> {
        self.path.push('.');
        self.path.push_str(variant);
        self.serialize_map(None)
    }
}

/// The compound serializers that walk their items ([`Items::item`]) or fields (each
/// at its name, [`Walk::at`]) alike; `$end` is what ending does to the path.
macro_rules! walked {
    ($state:ident, $trait:ident, $method:ident, items, $end:expr) => {
        impl $trait for $state<'_> {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                self.item(value)
            }
            fn end(self) -> Result<(), Stop> {
                $end(self.walk);
                Ok(())
            }
        }
    };
    ($state:ident, $trait:ident, fields, $end:expr) => {
        impl $trait for $state<'_> {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Stop> {
                self.walk.at(format_args!(".{key}"), value)
            }
            fn end(self) -> Result<(), Stop> {
                $end(self.walk);
                Ok(())
            }
        }
    };
}

/// Ends a compound that is no variant: nothing was added to the path.
fn plain_end(_: &mut Walk) {}

/// Ends a variant's compound: its name, added when it began, comes off the path.
fn variant_end(walk: &mut Walk) {
    let end = walk.path.rfind('.').unwrap_or(0);
    walk.path.truncate(end);
}

walked!(Items, SerializeSeq, serialize_element, items, plain_end);
walked!(Items, SerializeTuple, serialize_element, items, plain_end);
walked!(
    Items,
    SerializeTupleStruct,
    serialize_field,
    items,
    plain_end
);
walked!(
    Items,
    SerializeTupleVariant,
    serialize_field,
    items,
    variant_end
);
walked!(Entries, SerializeStruct, fields, plain_end);
walked!(Entries, SerializeStructVariant, fields, variant_end);

impl SerializeMap for Entries<'_> {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        let text = KeyText(|text: &str| text.to_owned(), PhantomData::<Stop>);
        self.key = key.serialize(text).unwrap_or_else(|_| "?".to_owned());
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.walk.at(format_args!(".{}", self.key), value)
    }
    fn end(self) -> Result<(), Stop> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    enum Result {
        #[serde(rename = "Ok_")]
        Ok {
            prices: Vec<f64>,
            by_name: BTreeMap<String, Option<f32>>,
        },
    }

    fn result(prices: Vec<f64>, by_name: &[(&str, Option<f32>)]) -> Result {
        Result::Ok {
            prices,
            by_name: by_name.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn a_non_finite_float_is_named_with_its_path() {
        let found = find(&result(vec![1.0, 2.5, f64::NAN], &[])).expect("found");
        assert_eq!(found.path, ".Ok_.prices[2]");
        let found = find(&result(vec![], &[("a", None), ("b", Some(f32::INFINITY))]));
        assert_eq!(found.expect("found").path, ".Ok_.by_name.b");
        let error = to_value(&result(vec![f64::NEG_INFINITY], &[])).expect_err("refused");
        assert_eq!(
            error,
            "-inf at .Ok_.prices[0]: JSON has no such number (it would be sent as null)"
        );
        assert_eq!(
            find(&f64::NAN)
                .expect("found")
                .to_string()
                .split(' ')
                .nth(2),
            Some("the")
        );
    }

    #[test]
    fn finite_values_and_nulls_convert_as_serde_json_would() {
        let value = result(vec![1.0, -0.0, f64::MAX], &[("a", None), ("b", Some(0.5))]);
        assert_eq!(find(&value), None);
        assert_eq!(
            to_value(&value),
            Ok(serde_json::to_value(&value).expect("converts"))
        );
        assert_eq!(
            to_value(&value).expect("converts"),
            json!({"Ok_": {"prices": [1.0, -0.0, f64::MAX], "by_name": {"a": null, "b": 0.5}}})
        );
    }
}
