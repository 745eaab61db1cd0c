//! The helpers, used as generated code uses them, read and write what serde's derive
//! reads and writes, and fail with the derive's messages: each type here has a derived
//! twin (the generator's output before the helpers), and every input goes through both.

use serde::de::MapAccess;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use super::*;

/// As generated for `struct.Entry`: a required field, a required nullable one, an
/// optional one, an optional nullable one, a required `any` and a union.
#[derive(Debug, PartialEq)]
struct Entry {
    id: i64,
    name: Option<String>,
    tags: Option<Vec<String>>,
    note: Option<Option<String>>,
    data: Value,
    result: Outcome,
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 4 + usize::from(self.tags.is_some()) + usize::from(self.note.is_some());
        let mut fields = write_struct(serializer, "Entry", len)?;
        fields.field("id", &self.id)?;
        fields.field("name", &self.name)?;
        fields.optional("tags!", &self.tags)?;
        fields.optional("note!", &self.note)?;
        fields.field("data", &self.data)?;
        fields.field("result", &self.result)?;
        fields.end()
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_struct(deserializer)
    }
}

impl DeserializeStruct for Entry {
    const NAME: &'static str = "Entry";
    const FIELDS: &'static [&'static str] = &["id", "name", "tags!", "note!", "data", "result"];

    fn field_index(key: &str) -> Option<usize> {
        match key {
            "id" => Some(0),
            "name" => Some(1),
            "tags!" => Some(2),
            "note!" => Some(3),
            "data" => Some(4),
            "result" => Some(5),
            _ => None,
        }
    }

    fn read_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut read = (None, None, None, None, None, None);
        while let Some(index) = Self::next_field(&mut map)? {
            match index {
                0 => read_field(&mut map, &mut read.0, "id")?,
                1 => read_field(&mut map, &mut read.1, "name")?,
                2 => read_present(&mut map, &mut read.2, "tags!")?,
                3 => read_present(&mut map, &mut read.3, "note!")?,
                4 => read_field(&mut map, &mut read.4, "data")?,
                5 => read_field(&mut map, &mut read.5, "result")?,
                _ => {}
            }
        }
        Ok(Self {
            id: required(read.0, "id")?,
            name: required(read.1, "name")?,
            tags: read.2.flatten(),
            note: read.3.flatten(),
            data: required(read.4, "data")?,
            result: required(read.5, "result")?,
        })
    }
}

/// As generated for a union with a renamed tag.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Empty),
    Failed(Box<Entry>),
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ok(payload) => serializer.serialize_newtype_variant("Outcome", 0, "Ok_", payload),
            Self::Failed(payload) => {
                serializer.serialize_newtype_variant("Outcome", 1, "Failed", payload)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_union(deserializer)
    }
}

impl DeserializeUnion for Outcome {
    const NAME: &'static str = "Outcome";
    const TAGS: &'static [&'static str] = &["Ok_", "Failed"];

    fn read_payload<'de, A: de::VariantAccess<'de>>(
        index: usize,
        payload: A,
    ) -> Result<Self, A::Error> {
        match index {
            0 => de::VariantAccess::newtype_variant(payload).map(Self::Ok),
            1 => de::VariantAccess::newtype_variant(payload).map(Self::Failed),
            _ => Err(unknown_tag(index, Self::TAGS)),
        }
    }
}

/// As generated for a struct without fields.
#[derive(Debug, PartialEq)]
struct Empty {}

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        write_struct(serializer, "Empty", 0)?.end()
    }
}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_struct(deserializer)
    }
}

impl DeserializeStruct for Empty {
    const NAME: &'static str = "Empty";
    const FIELDS: &'static [&'static str] = &[];

    fn field_index(_key: &str) -> Option<usize> {
        None
    }

    fn read_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        Self::next_field(&mut map)?;
        Ok(Self {})
    }
}

/// The derived twins, with the attributes the generator used to emit.
mod derived {
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename = "Entry")]
    pub(super) struct Entry {
        pub(super) id: i64,
        #[serde(deserialize_with = "Deserialize::deserialize")]
        pub(super) name: Option<String>,
        #[serde(
            rename = "tags!",
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::typed::optional::deserialize_present"
        )]
        pub(super) tags: Option<Vec<String>>,
        #[serde(
            rename = "note!",
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::typed::optional::deserialize_present"
        )]
        pub(super) note: Option<Option<String>>,
        pub(super) data: Value,
        pub(super) result: Outcome,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename = "Outcome")]
    pub(super) enum Outcome {
        #[serde(rename = "Ok_")]
        Ok(Empty),
        Failed(Box<Entry>),
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename = "Empty")]
    pub(super) struct Empty {}
}

/// Reads `input` as both `Entry`s and checks they agree: the same JSON written back, or
/// the same error.
fn assert_same(input: Value) {
    let glue = serde_json::from_value::<Entry>(input.clone()).map(serde_json::to_value);
    let derive = serde_json::from_value::<derived::Entry>(input.clone()).map(serde_json::to_value);
    match (glue, derive) {
        (Ok(glue), Ok(derive)) => assert_eq!(glue.unwrap(), derive.unwrap(), "{input}"),
        (Err(glue), Err(derive)) => assert_eq!(glue.to_string(), derive.to_string(), "{input}"),
        (glue, derive) => panic!("{input}: helpers {glue:?}, derive {derive:?}"),
    }
    // From text too: the JSON deserializer hands keys over borrowed, not owned.
    let text = input.to_string();
    let glue = serde_json::from_str::<Entry>(&text).map_err(|e| e.to_string());
    let derive = serde_json::from_str::<derived::Entry>(&text).map_err(|e| e.to_string());
    assert_eq!(glue.is_ok(), derive.is_ok(), "{text}");
    if let (Err(glue), Err(derive)) = (glue, derive) {
        assert_eq!(glue, derive, "{text}");
    }
}

#[test]
fn reads_and_writes_what_the_derive_does() {
    let ok = json!({"Ok_": {}});
    for input in [
        json!({"id": 1, "name": "a", "data": [1], "result": ok}),
        json!({"id": 1, "name": null, "tags!": ["x"], "note!": null, "data": null, "result": ok}),
        json!({"id": 1, "name": "a", "data": {}, "result": ok, "note!": "n", "unknown": {"deep": [1]}}),
        json!({"id": 1, "name": null, "data": 0, "result": {"Failed": {"id": 2, "name": "b", "data": 3, "result": ok}}}),
        json!({"id": 1, "name": "a", "data": 0, "result": {"Ok_": {"extra": 1}}}),
        // The sequence form, as formats such as bincode write structs.
        json!([1, "a", ["t"], "n", 5, {"Ok_": []}]),
    ] {
        assert_same(input);
    }
}

#[test]
fn fails_as_the_derive_does() {
    let ok = json!({"Ok_": {}});
    for input in [
        json!({"name": "a", "data": 1, "result": ok}),
        json!({"id": 1, "name": "a", "result": ok}),
        json!({"id": 1, "name": "a", "data": 1}),
        json!({"id": "1", "data": 1, "result": ok}),
        json!({"id": 1, "name": "a", "data": 1, "result": {"Nope": {}}}),
        json!({"id": 1, "name": "a", "data": 1, "result": {}}),
        json!({"id": 1, "name": "a", "data": 1, "result": "Ok_"}),
        json!({"id": 1, "name": "a", "data": 1, "result": {"Ok_": 5}}),
        json!({"id": 1, "name": "a", "data": 1, "result": ok, "tags!": [1]}),
        // `name` is nullable but required: `null`, never absent.
        json!({"id": 1, "data": 0, "result": ok}),
        // `tags!` is optional but not nullable: absent, never `null`.
        json!({"id": 1, "name": "a", "data": 0, "tags!": null, "result": ok}),
        json!([1]),
        json!([1, "a", null, null, 0, {"Ok_": {}}, 7]),
        json!([1, "a", null, null, 0, {"Ok_": [1]}]),
        json!("entry"),
    ] {
        assert_same(input);
    }
}

#[test]
fn a_repeated_key_fails_as_with_the_derive() {
    let text = r#"{"id": 1, "id": 2, "data": 0, "result": {"Ok_": {}}}"#;
    let glue = serde_json::from_str::<Entry>(text).unwrap_err();
    let derive = serde_json::from_str::<derived::Entry>(text).unwrap_err();
    assert_eq!(glue.to_string(), derive.to_string());
}

#[test]
fn absent_and_null_optional_fields_stay_apart() {
    let read = |input: Value| serde_json::from_value::<Entry>(input).unwrap().note;
    let base = json!({"id": 1, "name": "a", "data": 0, "result": {"Ok_": {}}});
    assert_eq!(read(base.clone()), None);
    let mut with_null = base.clone();
    with_null["note!"] = Value::Null;
    assert_eq!(read(with_null), Some(None));
    let mut with_text = base;
    with_text["note!"] = json!("n");
    assert_eq!(read(with_text), Some(Some("n".into())));
}
