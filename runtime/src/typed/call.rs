//! Function inputs and function links (`fn.x` used as a type).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The generated argument struct of a function: knows the function's name and result.
///
/// `Send + Sync + 'static`: a typed client's call keeps its input typed in the request
/// message until the client writes it ([`Message::typed`](crate::Message::typed)).
pub trait FunctionInput: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The function's schema key, e.g. `fn.myShift`.
    const NAME: &'static str;
    /// The result tags [`Output`](Self::Output) knows (`Ok_`, the errors): a typed
    /// client reads any other tag, one a newer server added, as
    /// [`Reply::Unknown`](super::Reply::Unknown).
    const RESULT_TAGS: &'static [&'static str];
    /// The generated result enum.
    type Output: Serialize + DeserializeOwned;
}

/// A function call as a value — the type of a field declared as `fn.x`. In JSON it is
/// `{"fn.x": {..arguments..}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Call<I>(pub I);

impl<I: FunctionInput> Serialize for Call<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(I::NAME, &self.0)?;
        map.end()
    }
}

impl<'de, I: FunctionInput> Deserialize<'de> for Call<I> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CallVisitor(PhantomData))
    }
}

struct CallVisitor<I>(PhantomData<I>);

impl<'de, I: FunctionInput> Visitor<'de> for CallVisitor<I> {
    type Value = Call<I>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an object with the single key {:?}", I::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Call<I>, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::invalid_length(0, &self));
        };
        if key != I::NAME {
            return Err(de::Error::unknown_field(&key, &[I::NAME]));
        }
        let input = map.next_value::<I>()?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(2, &self));
        }
        Ok(Call(input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct PingInput {}

    impl FunctionInput for PingInput {
        const NAME: &'static str = "fn.ping_";
        const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
        type Output = serde_json::Value;
    }

    #[test]
    fn a_call_is_an_object_keyed_by_the_function() {
        let json = serde_json::to_value(Call(PingInput {})).unwrap();
        assert_eq!(json, json!({"fn.ping_": {}}));
        assert_eq!(
            serde_json::from_value::<Call<PingInput>>(json).unwrap(),
            Call(PingInput {})
        );
    }

    #[test]
    fn another_function_or_extra_keys_are_rejected() {
        assert!(serde_json::from_value::<Call<PingInput>>(json!({"fn.api_": {}})).is_err());
        assert!(
            serde_json::from_value::<Call<PingInput>>(json!({"fn.ping_": {}, "x": 1})).is_err()
        );
        assert!(serde_json::from_value::<Call<PingInput>>(json!({})).is_err());
    }
}
