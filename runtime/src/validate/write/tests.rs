//! The writer against the value path: every value it writes is one the validator
//! accepts, written as `serde_json` writes the value's JSON values; the typed shapes
//! generated code produces are written, not left to the value path.

use indexmap::IndexMap;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use telepact_schema::Schema;

use super::{NotWritten, write_result};
use crate::validate::{Compiled, Validator};

pub(crate) const SCHEMA: &str = r#"[
  {"struct.Point": {"x": "integer", "y": "number", "label!": "string?"}},
  {"union.Shape": [{"Circle": {"radius": "number"}}, {"Dot": {}}]},
  {"fn.all": {}, "->": [
    {"Ok_": {
      "flag": "boolean", "count": "integer", "ratio": "number", "name": "string",
      "blob": "bytes", "anything": "any", "maybe": "string?", "later!": "integer",
      "points": ["struct.Point"], "byName": {"string": "integer?"},
      "shape": "union.Shape", "nested": [["integer?"]], "call!": "fn.other"
    }},
    {"ErrorGone": {"reason": "string"}}
  ]},
  {"fn.other": {"a": "integer", "b!": "boolean"}, "->": [{"Ok_": {}}]}
]"#;

pub(super) fn compiled() -> Compiled {
    Compiled::new(&Schema::from_text(SCHEMA).expect("the test schema loads"))
}

/// What the writer makes of `value`: its bytes, or `NotWritten`.
fn written<T: Serialize + ?Sized>(compiled: &Compiled, value: &T) -> Result<Vec<u8>, NotWritten> {
    let result = &compiled
        .function(compiled.function_id("fn.all").expect("fn.all"))
        .result;
    let mut out = b"prefix".to_vec();
    let outcome = write_result(value, compiled, result, &mut out);
    match outcome {
        Ok(_) => Ok(out.split_off(6)),
        Err(NotWritten) => {
            assert_eq!(
                out, b"prefix",
                "a refused value leaves the buffer as it was"
            );
            Err(NotWritten)
        }
    }
}

/// Whether the validator accepts `body` as a result of `fn.all`.
pub(crate) fn valid(compiled: &Compiled, body: &Value) -> bool {
    let id = compiled.function_id("fn.all").expect("fn.all");
    let mut validator = Validator::new(compiled, Some(id));
    match body {
        Value::Object(map) => validator.check_union_map(&compiled.function(id).result, map),
        _ => return false,
    }
    validator.into_failures().is_empty()
}

fn ok_body() -> Value {
    json!({"Ok_": {
        "flag": true, "count": -3, "ratio": 0.25, "name": "ana \"quoted\" \u{e9}",
        "blob": "AAEC", "anything": {"deep": [null, 1.5, "x", {"k": false}]},
        "maybe": null, "later!": 9,
        "points": [{"x": 1, "y": 2.0}, {"x": -1, "y": 1e300, "label!": null}, {"x": 0, "y": 3, "label!": "z"}],
        "byName": {"a": 1, "b": null}, "shape": {"Circle": {"radius": 1.5}},
        "nested": [[1, null], []], "call!": {"fn.other": {"a": 1}}
    }})
}

/// Sets the value at `path` (keys and indexes) inside `body`.
fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut at = &mut body;
    for step in &path[..path.len() - 1] {
        at = match step.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*step],
        };
    }
    let last = path[path.len() - 1];
    match (last.parse::<usize>(), at) {
        (Ok(i), Value::Array(items)) => items[i] = value,
        (_, Value::Object(map)) => {
            map.insert(last.to_string(), value);
        }
        _ => panic!("no place {path:?}"),
    }
    body
}

fn without(mut body: Value, path: &[&str]) -> Value {
    let mut at = &mut body;
    for step in &path[..path.len() - 1] {
        at = match step.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*step],
        };
    }
    at.as_object_mut()
        .expect("an object")
        .shift_remove(path[path.len() - 1]);
    body
}

/// Values the writer and the validator must judge alike.
pub(crate) fn variants() -> Vec<Value> {
    let ok = ok_body();
    let leaves = [
        json!(null),
        json!(true),
        json!(7),
        json!(-7),
        json!(2.5),
        json!(9223372036854775808u64),
        json!(-9223372036854775808.0),
        json!(1e20),
        json!("text"),
        json!("YWJj"),
        json!([]),
        json!({}),
        json!({"Circle": {"radius": 1}}),
        json!({"Dot": {}, "Circle": {"radius": 1}}),
        json!({"fn.other": {"a": 2, "b!": true}}),
        json!({"fn.other": {"b!": true}}),
        json!({"fn.all": {}}),
        json!({"fn.all": {"a": 2}}),
    ];
    let places: [&[&str]; 16] = [
        &["Ok_", "flag"],
        &["Ok_", "count"],
        &["Ok_", "ratio"],
        &["Ok_", "name"],
        &["Ok_", "blob"],
        &["Ok_", "anything"],
        &["Ok_", "maybe"],
        &["Ok_", "later!"],
        &["Ok_", "points", "1", "label!"],
        &["Ok_", "points", "0"],
        &["Ok_", "byName", "c"],
        &["Ok_", "shape"],
        &["Ok_", "nested", "0", "1"],
        &["Ok_", "unknown"],
        &["Ok_", "call!"],
        &["Ok_", "call!", "fn.other", "a"],
    ];
    let mut out = vec![ok.clone()];
    for place in places {
        for leaf in &leaves {
            out.push(with(ok.clone(), place, leaf.clone()));
        }
    }
    for required in ["flag", "count", "points", "shape"] {
        out.push(without(ok.clone(), &["Ok_", required]));
    }
    out.push(without(ok.clone(), &["Ok_", "later!"]));
    out.push(without(ok.clone(), &["Ok_", "points", "0", "x"]));
    out.push(json!({"ErrorGone": {"reason": "left"}}));
    out.push(json!({"ErrorGone": {}}));
    out.push(json!({"ErrorOther": {}}));
    out.push(json!({"Ok_": 1}));
    out.push(json!({}));
    out.push(json!({"ErrorGone": {"reason": "a"}, "Ok_": {}}));
    out
}

#[test]
fn values_are_written_exactly_when_the_validator_accepts_them() {
    let compiled = compiled();
    let mut accepted = 0;
    for body in variants() {
        let outcome = written(&compiled, &body);
        assert_eq!(outcome.is_ok(), valid(&compiled, &body), "{body}");
        if let Ok(bytes) = outcome {
            accepted += 1;
            assert_eq!(bytes, serde_json::to_vec(&body).unwrap(), "{body}");
        }
    }
    assert!(accepted > 40, "only {accepted} variants were valid");
}

#[derive(Serialize)]
pub(super) enum AllOutput {
    #[serde(rename = "Ok_")]
    Ok(Box<AllOk>),
    ErrorGone(Gone),
}

#[derive(Serialize)]
pub(super) struct Gone {
    pub(super) reason: String,
}

#[derive(Serialize, Clone)]
pub(super) struct AllOk {
    pub(super) flag: bool,
    pub(super) count: i64,
    pub(super) ratio: f64,
    pub(super) name: String,
    pub(super) blob: String,
    pub(super) anything: Value,
    pub(super) maybe: Option<String>,
    #[serde(rename = "later!", skip_serializing_if = "Option::is_none")]
    pub(super) later: Option<i64>,
    pub(super) points: Vec<Point>,
    #[serde(rename = "byName")]
    pub(super) by_name: IndexMap<String, Option<i64>>,
    pub(super) shape: Box<Shape>,
    pub(super) nested: Vec<Vec<Option<i32>>>,
}

#[derive(Serialize, Clone)]
pub(super) struct Point {
    x: i64,
    y: f64,
    #[serde(rename = "label!", skip_serializing_if = "Option::is_none")]
    label: Option<Option<String>>,
}

#[derive(Serialize, Clone)]
pub(super) enum Shape {
    Circle(Circle),
    Dot(Dot),
}

#[derive(Serialize, Clone)]
pub(super) struct Circle {
    pub(super) radius: f64,
}

#[derive(Serialize, Clone)]
pub(super) struct Dot {}

pub(super) fn typed_ok() -> AllOk {
    AllOk {
        flag: false,
        count: i64::MIN,
        ratio: -0.5,
        name: "line\nbreak".to_string(),
        blob: String::new(),
        anything: json!([1, {"a": null}]),
        maybe: Some("here".to_string()),
        later: None,
        points: vec![
            Point {
                x: 3,
                y: 4.0,
                label: Some(None),
            },
            Point {
                x: 5,
                y: f64::MAX,
                label: None,
            },
        ],
        by_name: IndexMap::from([("one".to_string(), Some(1)), ("none".to_string(), None)]),
        shape: Box::new(Shape::Dot(Dot {})),
        nested: vec![vec![Some(i32::MAX), None]],
    }
}

/// Generated types write structs, optional fields and unions the way these derives
/// do: each is written directly, with the bytes of its JSON values.
#[test]
fn typed_values_are_written_as_their_json_values() {
    let compiled = compiled();
    let circle = AllOk {
        shape: Box::new(Shape::Circle(Circle { radius: 2.0 })),
        later: Some(1),
        ..typed_ok()
    };
    let outputs = [
        AllOutput::Ok(Box::new(typed_ok())),
        AllOutput::Ok(Box::new(circle)),
        AllOutput::ErrorGone(Gone {
            reason: "sold out".to_string(),
        }),
    ];
    for output in &outputs {
        let bytes = written(&compiled, output).expect("a valid typed value is written");
        let values = serde_json::to_value(output).unwrap();
        assert_eq!(bytes, serde_json::to_vec(&values).unwrap());
    }
}

#[test]
fn the_tag_of_a_typed_result_is_known_once_written() {
    let compiled = compiled();
    let result = &compiled
        .function(compiled.function_id("fn.all").unwrap())
        .result;
    let gone = AllOutput::ErrorGone(Gone {
        reason: String::new(),
    });
    let mut out = Vec::new();
    let tag = write_result(&gone, &compiled, result, &mut out);
    assert_eq!(tag, Ok(Some("ErrorGone")));
    // As JSON values, the tag is a map key: the writer does not keep it.
    let tag = write_result(&ok_body(), &compiled, result, &mut Vec::new());
    assert_eq!(tag, Ok(None));
}

/// What the validator would refuse, or what `to_value` would write otherwise, goes to
/// the value path.
#[test]
fn typed_values_the_value_path_must_judge_are_not_written() {
    let compiled = compiled();
    let not_finite = [f64::NAN, f64::INFINITY, -9_223_372_036_854_775_808.0];
    for ratio in not_finite {
        let output = AllOutput::Ok(Box::new(AllOk {
            ratio,
            ..typed_ok()
        }));
        assert_eq!(written(&compiled, &output), Err(NotWritten), "{ratio}");
    }
    let not_base64 = AllOutput::Ok(Box::new(AllOk {
        blob: "abc".to_string(),
        ..typed_ok()
    }));
    assert_eq!(written(&compiled, &not_base64), Err(NotWritten));

    #[derive(Serialize)]
    enum Narrow {
        #[serde(rename = "Ok_")]
        Ok { flag: f32 },
    }
    assert_eq!(
        written(&compiled, &Narrow::Ok { flag: 1.0 }),
        Err(NotWritten)
    );

    #[derive(Serialize)]
    struct PartialOk {
        flag: bool,
    }
    #[derive(Serialize)]
    enum Partial {
        #[serde(rename = "Ok_")]
        Ok(PartialOk),
    }
    let partial = Partial::Ok(PartialOk { flag: true });
    assert_eq!(
        written(&compiled, &partial),
        Err(NotWritten),
        "fields missing"
    );
    let body = serde_json::to_value(AllOutput::Ok(Box::new(typed_ok()))).unwrap();
    let with_radius = |times| WithField {
        body: body.clone(),
        key: "shape",
        value: ShapeTwice(Circle { radius: 1.0 }, times),
    };
    let with_b = |times| WithField {
        body: body.clone(),
        key: "call!",
        value: OtherCall(times),
    };
    assert!(written(&compiled, &with_radius(1)).is_ok());
    assert!(written(&compiled, &with_b(1)).is_ok());
    assert_eq!(
        written(&compiled, &with_b(2)),
        Err(NotWritten),
        "an optional field twice"
    );
    assert_eq!(
        written(&compiled, &with_radius(2)),
        Err(NotWritten),
        "a field twice"
    );

    #[derive(Serialize)]
    struct OtherArguments {
        a: i64,
    }
    #[derive(Serialize)]
    enum Link {
        #[serde(rename = "fn.other")]
        Other(OtherArguments),
        #[serde(rename = "fn.all")]
        All(OtherArguments),
    }
    let body = serde_json::to_value(AllOutput::Ok(Box::new(typed_ok()))).unwrap();
    let with_link = |link| WithField {
        body: body.clone(),
        key: "call!",
        value: link,
    };
    let other = Link::Other(OtherArguments { a: 1 });
    assert!(written(&compiled, &with_link(other)).is_ok());
    let all = Link::All(OtherArguments { a: 1 });
    assert_eq!(
        written(&compiled, &with_link(all)),
        Err(NotWritten),
        "another function"
    );

    #[derive(Serialize)]
    enum Unknown {
        ErrorOther {},
    }
    assert_eq!(written(&compiled, &Unknown::ErrorOther {}), Err(NotWritten));
}

/// A `Circle` whose payload writes its field `.1` times.
struct ShapeTwice(Circle, usize);

impl Serialize for ShapeTwice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Payload<'a>(&'a Circle, usize);
        impl Serialize for Payload<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut fields = serializer.serialize_struct("Circle", self.1)?;
                for _ in 0..self.1 {
                    fields.serialize_field("radius", &self.0.radius)?;
                }
                fields.end()
            }
        }
        let payload = Payload(&self.0, self.1);
        serializer.serialize_newtype_variant("Shape", 0, "Circle", &payload)
    }
}

/// An `Ok_` result (given as values) whose field `key` is written by `value`.
struct WithField<T> {
    body: Value,
    key: &'static str,
    value: T,
}

impl<T: Serialize> Serialize for WithField<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Payload<'a, T>(&'a WithField<T>);
        impl<T: Serialize> Serialize for Payload<'_, T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let fields = self.0.body["Ok_"].as_object().into_iter().flatten();
                let mut map = serializer.serialize_map(None)?;
                for (key, value) in fields.filter(|(key, _)| *key != self.0.key) {
                    map.serialize_entry(key, value)?;
                }
                map.serialize_entry(self.0.key, &self.0.value)?;
                map.end()
            }
        }
        serializer.serialize_newtype_variant("AllOutput", 0, "Ok_", &Payload(self))
    }
}

/// A call of `fn.other` whose optional `b!` is written `.0` times.
struct OtherCall(usize);

impl Serialize for OtherCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Arguments(usize);
        impl Serialize for Arguments {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut fields = serializer.serialize_struct("Other", 1 + self.0)?;
                fields.serialize_field("a", &1)?;
                for _ in 0..self.0 {
                    fields.serialize_field("b!", &true)?;
                }
                fields.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("fn.other", &Arguments(self.0))?;
        map.end()
    }
}

/// A map that writes one key twice: as JSON values it would keep one entry.
struct Twice;

impl Serialize for Twice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("a", &1)?;
        map.serialize_entry("a", &2)?;
        map.end()
    }
}

/// A struct given as a map, with a key that is not a string.
struct NumberKey;

impl Serialize for NumberKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&1, &1)?;
        map.end()
    }
}

#[test]
fn repeated_and_non_string_keys_are_not_written() {
    #[derive(Serialize)]
    struct WithMap<M> {
        #[serde(flatten)]
        rest: Map<String, Value>,
        #[serde(rename = "byName")]
        by_name: M,
    }
    #[derive(Serialize)]
    enum Output<M> {
        #[serde(rename = "Ok_")]
        Ok(WithMap<M>),
    }

    let compiled = compiled();
    let mut rest = ok_body()["Ok_"].as_object().unwrap().clone();
    rest.shift_remove("byName");
    let plain = Output::Ok(WithMap {
        rest: rest.clone(),
        by_name: IndexMap::from([("a", 1)]),
    });
    assert!(written(&compiled, &plain).is_ok());
    let repeated = Output::Ok(WithMap {
        rest: rest.clone(),
        by_name: Twice,
    });
    assert_eq!(written(&compiled, &repeated), Err(NotWritten));
    let number_key = Output::Ok(WithMap {
        rest,
        by_name: NumberKey,
    });
    assert_eq!(written(&compiled, &number_key), Err(NotWritten));
}

/// Repeated keys are found in maps of every size, past the scanned ones too.
#[test]
fn a_repeated_key_is_found_in_a_map_of_any_size() {
    for count in [1, 2, 16, 17, 40] {
        let mut seen = crate::validate::keys::Seen::default();
        for i in 0..count {
            assert!(seen.first(&format!("k{i}")), "{count}: k{i} is new");
        }
        for i in 0..count {
            assert!(!seen.first(&format!("k{i}")), "{count}: k{i} again");
        }
    }
}

/// A value of every form serde has for data: tuples, unit and newtype structs, each
/// kind of enum variant, chars, the widest integers, escaped text and keys.
pub(super) fn every_form() -> impl Serialize {
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Unit;
    #[derive(Serialize)]
    struct Newtype(i64);
    #[derive(Serialize)]
    struct Pair(i8, String);
    #[derive(Serialize)]
    enum Forms {
        Unit,
        Tuple(u8, char),
        Newtype(bool),
    }
    let keys = BTreeMap::from([("quo\"te", Some(1u16)), ("plain", None)]);
    (
        (i32::MIN, "a\"b\\c\n\u{1}\u{1F600}"),
        Unit,
        Newtype(-7),
        Pair(-128, "é \u{7f} plain".to_string()),
        Forms::Unit,
        Forms::Tuple(255, 'x'),
        Forms::Newtype(true),
        (u64::MAX, i64::MIN, 0.1f64, -0.0f64, 1e300f64),
        keys,
        Vec::<()>::new(),
        (None::<i64>, Some(()), ()),
    )
}

/// Under `any` the JSON writer takes every form serde has for data and writes the bytes
/// `serde_json` writes for its value.
#[test]
fn every_form_under_any_is_written_as_serde_json_writes_its_value() {
    use super::write_value;
    use crate::validate::Expect;

    let all = every_form();
    let compiled = compiled();
    let mut out = b"prefix".to_vec();
    write_value(&all, &compiled, Expect::Any, &mut out).expect("written");
    let values = serde_json::to_value(&all).expect("converts");
    assert_eq!(
        String::from_utf8_lossy(&out[6..]),
        String::from_utf8_lossy(&serde_json::to_vec(&values).expect("writes"))
    );
}
