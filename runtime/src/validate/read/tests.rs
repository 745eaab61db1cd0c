//! The readers against the value path: every value they read is one the validator
//! accepts, read as the typed value would be read from its JSON values; values the
//! validator accepts are read unless they hold what the readers leave alone. The
//! checking reader around `serde_json` reads the JSON text of each test value, and the
//! binary one its MessagePack, with the schema's own encoding (struct fields found by
//! id) and with another (found by name).

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use telepact_schema::Schema;

use super::{NotRead, read_checked};
use crate::binary::{BinaryEncoding, Reader, read_checked_pack};
use crate::validate::write::binary_tests::encoded;
use crate::validate::write::tests::{SCHEMA, valid, variants};
use crate::validate::{Compiled, Expect};

/// The writer's test schema without its `bytes` and `any` fields, which the readers
/// leave to the value path.
fn schema() -> Schema {
    let schema = SCHEMA.replace(r#""blob": "bytes", "anything": "any", "#, "");
    assert_ne!(
        schema, SCHEMA,
        "the fields to leave out are where they were"
    );
    Schema::from_text(&schema).expect("the test schema loads")
}

fn compiled() -> Compiled {
    Compiled::new(&schema())
}

/// How a test value reaches a reader.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    /// MessagePack in the schema's own binary encoding.
    Pack,
    /// MessagePack in an encoding with one more name, which moves every id.
    PackOtherIds,
}

const FORMATS: [Format; 3] = [Format::Json, Format::Pack, Format::PackOtherIds];

fn encoding(format: Format) -> BinaryEncoding {
    let own = BinaryEncoding::new(&schema());
    match format {
        Format::PackOtherIds => {
            let names = own.names().iter().cloned();
            BinaryEncoding::from_names(names.chain(["!first".to_string()]))
        }
        Format::Json | Format::Pack => own,
    }
}

/// Reads `bytes` (MessagePack) as a `T`, a result of `fn.all`.
fn read_pack<T: de::DeserializeOwned>(
    compiled: &Compiled,
    encoding: &BinaryEncoding,
    bytes: &[u8],
) -> Result<T, NotRead> {
    let result = &compiled
        .function(compiled.function_id("fn.all").expect("fn.all"))
        .result;
    read_checked_pack(
        &mut Reader::new(bytes),
        encoding,
        compiled,
        Expect::Tags(result),
    )
}

/// Reads `body` as a `T`, a result of `fn.all`, given in `format`.
fn read_as<T: de::DeserializeOwned>(
    compiled: &Compiled,
    body: &Value,
    format: Format,
) -> Result<T, NotRead> {
    match format {
        Format::Json => read(compiled, &text(body)),
        Format::Pack | Format::PackOtherIds => {
            let encoding = encoding(format);
            read_pack(compiled, &encoding, &encoded(&encoding, body))
        }
    }
}

/// The writer's test values, without the fields the schema here lacks.
fn read_variants() -> Vec<Value> {
    let mut out = variants();
    for body in &mut out {
        if let Some(Value::Object(ok)) = body.get_mut("Ok_") {
            ok.shift_remove("blob");
            ok.shift_remove("anything");
        }
    }
    out
}

/// Reads `text` (JSON) as a `T`, a result of `fn.all`.
fn read<T: de::DeserializeOwned>(compiled: &Compiled, text: &[u8]) -> Result<T, NotRead> {
    let result = &compiled
        .function(compiled.function_id("fn.all").expect("fn.all"))
        .result;
    let mut json = serde_json::Deserializer::from_slice(text);
    read_checked(&mut json, compiled, Expect::Tags(result))
}

fn text(body: &Value) -> Vec<u8> {
    serde_json::to_vec(body).expect("JSON")
}

#[test]
fn values_are_read_exactly_when_the_validator_accepts_them() {
    let compiled = compiled();
    for format in FORMATS {
        let mut accepted = 0;
        for body in read_variants() {
            let outcome = read_as::<Value>(&compiled, &body, format);
            let valid = valid(&compiled, &body);
            assert_eq!(outcome.is_ok(), valid, "{format:?} {body}");
            if let Ok(read) = outcome {
                accepted += 1;
                assert_eq!(read, body, "{format:?}");
            }
        }
        assert!(
            accepted > 40,
            "{format:?}: only {accepted} variants were valid"
        );
    }
}

/// `serde_json` gives a string with an escape as an owned string, and a string
/// without as a borrowed one; both are checked.
#[test]
fn strings_are_checked_however_the_format_gives_them() {
    let compiled = compiled();
    for (leaf, valid) in [
        ("\"plain\"", false),
        ("\"esc\\\"aped\"", false),
        ("1", true),
    ] {
        let mut body = read_variants()[0].clone();
        body["Ok_"]["count"] = serde_json::from_str(leaf).expect("JSON");
        let outcome = read::<Value>(&compiled, &text(&body));
        assert_eq!(outcome.is_ok(), valid, "{body}");
    }
}

#[derive(Debug, PartialEq, Deserialize)]
enum AllOutput {
    #[serde(rename = "Ok_")]
    Ok(Box<AllOk>),
    ErrorGone(Gone),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Gone {
    reason: String,
}

#[derive(Debug, PartialEq, Deserialize)]
struct AllOk {
    flag: bool,
    count: i64,
    ratio: f64,
    name: String,
    maybe: Option<String>,
    #[serde(rename = "later!", default)]
    later: Option<i64>,
    points: Vec<Point>,
    #[serde(rename = "byName")]
    by_name: IndexMap<String, Option<i64>>,
    shape: ShapeOf,
    nested: Vec<Vec<Option<i32>>>,
    #[serde(rename = "call!", default)]
    call: Option<Value>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Point {
    x: i64,
    y: f64,
    #[serde(rename = "label!", default, deserialize_with = "present")]
    label: Option<Option<String>>,
}

/// A present optional field, `null` included.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Debug, PartialEq, Deserialize)]
enum ShapeOf {
    Circle(Circle),
    Dot {},
}

#[derive(Debug, PartialEq, Deserialize)]
struct Circle {
    radius: f64,
}

/// Typed values read from what the validator accepts, as `from_value` reads them; a
/// union is read through the enum's own visitor.
#[test]
fn typed_values_are_read_as_from_their_json_values() {
    let compiled = compiled();
    for format in FORMATS {
        let mut typed = 0;
        for body in read_variants() {
            let outcome = read_as::<AllOutput>(&compiled, &body, format);
            let from_values = serde_json::from_value::<AllOutput>(body.clone());
            if let Ok(read) = &outcome {
                assert!(valid(&compiled, &body), "{format:?} {body}");
                assert_eq!(Some(read), from_values.as_ref().ok(), "{format:?} {body}");
                typed += 1;
            }
            if valid(&compiled, &body) && from_values.is_ok() {
                assert!(outcome.is_ok(), "{format:?} {body}");
            }
        }
        assert!(typed > 20, "{format:?}: only {typed} variants were read");
        let circle = read_as::<AllOutput>(&compiled, &read_variants()[0], format);
        let Ok(AllOutput::Ok(ok)) = circle else {
            panic!("{format:?}: the base value reads: {circle:?}");
        };
        assert_eq!(ok.shape, ShapeOf::Circle(Circle { radius: 1.5 }));
    }
}

#[test]
fn a_repeated_key_is_not_read() {
    let compiled = compiled();
    let base = text(&read_variants()[0]);
    let base = String::from_utf8(base).expect("UTF-8");
    assert!(read::<Value>(&compiled, base.as_bytes()).is_ok());
    let by_name = r#","byName":{"a":1,"b":null}"#;
    assert!(base.contains(by_name));
    for (from, to) in [
        (r#"{"Ok_":{"#, r#"{"Ok_":{"flag":true,"#),
        (by_name, r#","byName":{"a":1,"a":1}"#),
    ] {
        let text = base.replacen(from, to, 1);
        assert_eq!(
            read::<Value>(&compiled, text.as_bytes()),
            Err(NotRead),
            "{text}"
        );
    }
    let two_tags = br#"{"ErrorGone":{"reason":"a"},"ErrorGone":{"reason":"a"}}"#;
    assert_eq!(read::<AllOutput>(&compiled, two_tags), Err(NotRead));
}

/// Reads only the first entry of a map and stops.
struct FirstEntry;

impl<'de> Deserialize<'de> for FirstEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct First;
        impl<'de> Visitor<'de> for First {
            type Value = FirstEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstEntry, A::Error> {
                map.next_entry::<String, de::IgnoredAny>()?;
                Ok(FirstEntry)
            }
        }
        d.deserialize_map(First)
    }
}

/// What the reader has not seen, it has not checked: a typed value that leaves part of
/// a map unread is not read at all (the value path checks all of it).
#[test]
fn a_map_read_in_part_is_not_read() {
    let compiled = compiled();
    let body = br#"{"ErrorGone":{"reason":"left"}}"#;
    assert!(read::<Value>(&compiled, body).is_ok());
    let id = compiled.function_id("fn.all").expect("fn.all");
    let fields = &compiled.function(id).result.tags[1].fields;
    let payload = br#"{"reason":"left"}"#;
    let read_whole = read_checked::<Value, _>(
        &mut serde_json::Deserializer::from_slice(payload),
        &compiled,
        Expect::Fields(fields),
    );
    assert!(read_whole.is_ok());
    let more = br#"{"reason":"left","other":1}"#;
    let first_only = read_checked::<FirstEntry, _>(
        &mut serde_json::Deserializer::from_slice(more),
        &compiled,
        Expect::Fields(fields),
    );
    assert!(first_only.is_err(), "the unread key was not checked");
    let complete_but_unread = read_checked::<FirstEntry, _>(
        &mut serde_json::Deserializer::from_slice(br#"{"reason":"a","reason":"b"}"#),
        &compiled,
        Expect::Fields(fields),
    );
    assert!(complete_but_unread.is_err());
}

/// `bytes` and `any` are the value path's, valid or not.
#[test]
fn bytes_and_any_are_left_to_the_value_path() {
    let compiled = Compiled::new(&Schema::from_text(SCHEMA).expect("loads"));
    for body in variants().into_iter().take(1) {
        assert!(read::<Value>(&compiled, &text(&body)).is_err(), "{body}");
    }
}

/// A JSON request's arguments are read as deep as the value path parses them: the
/// arguments of a message whose parse stops at `serde_json`'s recursion limit are not
/// read either.
#[test]
fn arguments_nest_as_deep_as_a_json_request_parses() {
    let schema = Schema::from_text(
        r#"[{"struct.Node": {"next!": "struct.Node"}}, {"fn.x": {"node!": "struct.Node"}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("loads");
    let compiled = Compiled::new(&schema);
    let id = compiled.function_id("fn.x").expect("fn.x");
    let args = &compiled.function(id).args;
    for depth in [10, 122, 123, 124, 125, 200] {
        // {"node!": {"next!": ... {} ...}}: `depth` + 2 maps.
        let mut payload = "{}".to_string();
        for _ in 0..depth {
            payload = format!(r#"{{"next!":{payload}}}"#);
        }
        let payload = format!(r#"{{"node!":{payload}}}"#);
        let message = format!(r#"[{{}},{{"fn.x":{payload}}}]"#);
        let parses = serde_json::from_slice::<Value>(message.as_bytes()).is_ok();
        let read = read_checked::<Value, _>(
            &mut serde_json::Deserializer::from_slice(payload.as_bytes()),
            &compiled,
            Expect::Fields(args),
        );
        assert_eq!(read.is_ok(), parses, "depth {depth}");
        assert_eq!(parses, depth + 2 <= 125, "depth {depth}");
    }
}

/// `body`'s MessagePack in `encoding` with the first entry of its `Ok_` map given once
/// more, at the end.
fn packed_with_a_repeated_field(encoding: &BinaryEncoding, body: &Value) -> Vec<u8> {
    use rmpv::Value as Pack;
    let bytes = encoded(encoding, body);
    let mut value = rmpv::decode::read_value(&mut &bytes[..]).expect("MessagePack");
    let Pack::Map(top) = &mut value else {
        panic!("a body is a map: {value}");
    };
    let Pack::Map(ok) = &mut top[0].1 else {
        panic!("Ok_ holds a map");
    };
    ok.push(ok[0].clone());
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &value).expect("writes to a Vec");
    out
}

#[test]
fn a_repeated_key_in_messagepack_is_not_read() {
    let compiled = compiled();
    for format in [Format::Pack, Format::PackOtherIds] {
        let encoding = encoding(format);
        let body = &read_variants()[0];
        assert!(read_as::<Value>(&compiled, body, format).is_ok());
        let repeated = packed_with_a_repeated_field(&encoding, body);
        assert_eq!(
            read_pack::<Value>(&compiled, &encoding, &repeated),
            Err(NotRead),
            "{format:?}"
        );
        assert_eq!(
            read_pack::<AllOutput>(&compiled, &encoding, &repeated),
            Err(NotRead),
            "{format:?}"
        );
    }
}

#[test]
fn a_messagepack_map_read_in_part_is_not_read() {
    fn read<T: de::DeserializeOwned>(format: Format, payload: Value) -> Result<T, NotRead> {
        let compiled = compiled();
        let id = compiled.function_id("fn.all").expect("fn.all");
        let fields = &compiled.function(id).result.tags[1].fields;
        let encoding = encoding(format);
        let bytes = encoded(&encoding, &payload);
        let mut reader = Reader::new(&bytes);
        read_checked_pack(&mut reader, &encoding, &compiled, Expect::Fields(fields))
    }
    for format in [Format::Pack, Format::PackOtherIds] {
        let whole = serde_json::json!({"reason": "left"});
        assert!(read::<Value>(format, whole).is_ok(), "{format:?}");
        let more = serde_json::json!({"reason": "left", "other": 1});
        let first_only = read::<FirstEntry>(format, more);
        assert!(
            first_only.is_err(),
            "{format:?}: the unread key was not checked"
        );
    }
}
