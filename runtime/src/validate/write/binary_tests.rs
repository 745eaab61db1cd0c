//! The binary writer against the value path: it writes a value exactly when the JSON
//! writer does (the same checks), and then the bytes the binary encoder writes for the
//! value's JSON values. Without a schema's `bytes` places (the server uses it only for
//! results that hold none), so `bytes` stay strings on both sides here.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde_json::{Value, json};
use telepact_schema::Schema;

use super::tests::{
    AllOk, AllOutput, Circle, Gone, SCHEMA, Shape, compiled, every_form, typed_ok, variants,
};
use super::{NotWritten, write_result, write_result_binary};
use crate::binary::{BinaryEncoding, Encoder, Shape as BodyShape};
use crate::validate::Compiled;

fn encoding() -> BinaryEncoding {
    BinaryEncoding::new(&Schema::from_text(SCHEMA).expect("the test schema loads"))
}

/// What the binary writer makes of `value`: its bytes, or `NotWritten`.
fn written<T: Serialize + ?Sized>(
    compiled: &Compiled,
    encoding: &BinaryEncoding,
    value: &T,
) -> Result<Vec<u8>, NotWritten> {
    let result = &compiled
        .function(compiled.function_id("fn.all").expect("fn.all"))
        .result;
    let mut out = b"prefix".to_vec();
    match write_result_binary(value, compiled, result, encoding, &mut out) {
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

/// Whether the JSON writer writes `value`.
fn written_as_json<T: Serialize + ?Sized>(compiled: &Compiled, value: &T) -> bool {
    let result = &compiled
        .function(compiled.function_id("fn.all").expect("fn.all"))
        .result;
    write_result(value, compiled, result, &mut Vec::new()).is_ok()
}

/// The value path's bytes for `values`, a body of JSON values.
pub(crate) fn encoded(encoding: &BinaryEncoding, values: &Value) -> Vec<u8> {
    let encoder = Encoder {
        encoding: Some(encoding),
        schema: None,
    };
    let mut out = Vec::new();
    let body = values.as_object().expect("a body is an object");
    encoder
        .write_object(&mut out, body, BodyShape::Unknown)
        .expect("writes to a Vec");
    out
}

#[test]
fn values_are_written_as_the_encoder_writes_them_when_the_json_writer_takes_them() {
    let (compiled, encoding) = (compiled(), encoding());
    let mut accepted = 0;
    for body in variants() {
        let outcome = written(&compiled, &encoding, &body);
        assert_eq!(outcome.is_ok(), written_as_json(&compiled, &body), "{body}");
        if let Ok(bytes) = outcome {
            accepted += 1;
            assert_eq!(bytes, encoded(&encoding, &body), "{body}");
        }
    }
    assert!(accepted > 40, "only {accepted} variants were written");
}

#[test]
fn typed_values_are_written_as_their_encoded_json_values() {
    let (compiled, encoding) = (compiled(), encoding());
    let numbers = AllOk {
        count: 1 << 40,
        ratio: 3.0,
        nested: vec![vec![Some(-1), Some(127), Some(128), Some(-33), None]],
        later: Some(-(1 << 20)),
        shape: Box::new(Shape::Circle(Circle { radius: -0.0 })),
        anything: json!({"Ok_": [u64::MAX, i64::MIN, "fn.all", {"points": 1}]}),
        ..typed_ok()
    };
    let outputs = [
        AllOutput::Ok(Box::new(typed_ok())),
        AllOutput::Ok(Box::new(numbers)),
        AllOutput::ErrorGone(Gone {
            reason: "sold out".to_string(),
        }),
    ];
    for output in &outputs {
        let bytes = written(&compiled, &encoding, output).expect("a valid typed value");
        let values = serde_json::to_value(output).expect("converts");
        assert_eq!(bytes, encoded(&encoding, &values));
    }
}

/// Given an encoding other than the schema's own (here one more name moves every id),
/// the writer looks each field's id up by name instead of taking the schema's, and
/// still writes the encoder's bytes.
#[test]
fn another_encodings_ids_are_looked_up_by_name() {
    let (compiled, own) = (compiled(), encoding());
    let other =
        BinaryEncoding::from_names(own.names().iter().cloned().chain(["!first".to_string()]));
    assert_ne!(other.checksum(), own.checksum());
    let output = AllOutput::Ok(Box::new(typed_ok()));
    let values = serde_json::to_value(&output).expect("converts");
    let in_other = written(&compiled, &other, &output).expect("a valid typed value");
    assert_eq!(in_other, encoded(&other, &values));
    let in_own = written(&compiled, &own, &output).expect("a valid typed value");
    assert_ne!(in_other, in_own, "the ids differ");
    for body in variants() {
        let outcome = written(&compiled, &other, &body);
        assert_eq!(outcome.is_ok(), written_as_json(&compiled, &body), "{body}");
        if let Ok(bytes) = outcome {
            assert_eq!(bytes, encoded(&other, &body), "{body}");
        }
    }
}

/// MessagePack announces a map's or list's length before its entries: a value whose
/// count differs from what it announced, or that announces none, is not written.
#[test]
fn lengths_other_than_announced_are_not_written() {
    let (compiled, encoding) = (compiled(), encoding());

    struct Announces {
        len: usize,
        fields: usize,
    }
    impl Serialize for Announces {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut point = serializer.serialize_struct("Point", self.len)?;
            for (key, value) in [("x", json!(1)), ("y", json!(2.0))]
                .into_iter()
                .take(self.fields)
            {
                point.serialize_field(key, &value)?;
            }
            point.end()
        }
    }
    struct Unannounced;
    impl Serialize for Unannounced {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            map.serialize_entry("x", &1)?;
            map.serialize_entry("y", &2.0)?;
            map.end()
        }
    }
    #[derive(Serialize)]
    enum OkOf<P> {
        #[serde(rename = "Ok_")]
        Ok(Points<P>),
    }
    #[derive(Serialize)]
    struct Points<P> {
        flag: bool,
        count: i64,
        ratio: f64,
        name: &'static str,
        blob: &'static str,
        anything: Value,
        maybe: Option<String>,
        points: Vec<P>,
        #[serde(rename = "byName")]
        by_name: Value,
        shape: Value,
        nested: Value,
    }
    fn of<P>(point: P) -> OkOf<P> {
        OkOf::Ok(Points {
            flag: true,
            count: 1,
            ratio: 1.0,
            name: "n",
            blob: "",
            anything: json!(1),
            maybe: None,
            points: vec![point],
            by_name: json!({}),
            shape: json!({"Dot": {}}),
            nested: json!([]),
        })
    }
    assert!(written(&compiled, &encoding, &of(Announces { len: 2, fields: 2 })).is_ok());
    assert!(written_as_json(
        &compiled,
        &of(Announces { len: 3, fields: 2 })
    ));
    assert_eq!(
        written(&compiled, &encoding, &of(Announces { len: 3, fields: 2 })),
        Err(NotWritten)
    );
    assert!(written_as_json(&compiled, &of(Unannounced)));
    assert_eq!(
        written(&compiled, &encoding, &of(Unannounced)),
        Err(NotWritten)
    );
}

/// The runtime's generated standard types (structs with optional fields and counted
/// lengths, nested unions, maps of values) are written in binary, as their encoded JSON
/// values, not left to the value path.
#[test]
fn generated_types_are_written_as_their_encoded_json_values() {
    use crate::typed::standard::*;

    let schema = Schema::from_text("[]").expect("an empty schema loads");
    let (compiled, encoding) = (Compiled::new(&schema), BinaryEncoding::new(&schema));
    let api = compiled.function_id("fn.api_").expect("fn.api_");
    let result = &compiled.function(api).result;
    let failure = |reason| ValidationFailure {
        path: vec![json!("fn.x"), json!(0), json!("field!")],
        reason,
    };
    let data = indexmap::IndexMap::from([("limit".to_string(), json!(3))]);
    let outputs = [
        ApiOutput::Ok(ApiOk {
            api: vec![indexmap::IndexMap::from([(
                "fn.x".to_string(),
                json!({"a": "integer"}),
            )])],
        }),
        ApiOutput::ErrorUnknown(ErrorUnknown {
            case_id: "case-1".to_string(),
        }),
        ApiOutput::ErrorInvalidRequestBody(ErrorInvalidRequestBody {
            cases: vec![
                failure(ValidationFailureReason::ExtensionValidationFailed(
                    ValidationFailureReasonExtensionValidationFailed {
                        reason: "too many".to_string(),
                        data: Some(data),
                    },
                )),
                failure(ValidationFailureReason::ExtensionValidationFailed(
                    ValidationFailureReasonExtensionValidationFailed {
                        reason: "no data".to_string(),
                        data: None,
                    },
                )),
                failure(ValidationFailureReason::NullDisallowed(
                    ValidationFailureReasonNullDisallowed {},
                )),
            ],
        }),
    ];
    for output in &outputs {
        let values = serde_json::to_value(output).expect("converts");
        let mut bytes = Vec::new();
        write_result_binary(output, &compiled, result, &encoding, &mut bytes)
            .unwrap_or_else(|NotWritten| panic!("not written: {values}"));
        assert_eq!(bytes, encoded(&encoding, &values), "{values}");
    }
}

/// Under `any` the binary writer takes every form serde has for data (the `anything`
/// field of a result here) and writes the encoder's bytes for its JSON value.
#[test]
fn every_form_under_any_is_written_as_the_encoder_writes_its_value() {
    #[derive(Serialize)]
    enum OkWith<A> {
        #[serde(rename = "Ok_")]
        Ok(Body<A>),
    }
    #[derive(Serialize)]
    struct Body<A> {
        flag: bool,
        count: i64,
        ratio: f64,
        name: &'static str,
        blob: &'static str,
        anything: A,
        maybe: Option<String>,
        points: Vec<Value>,
        #[serde(rename = "byName")]
        by_name: Value,
        shape: Value,
        nested: Value,
    }
    let output = OkWith::Ok(Body {
        flag: false,
        count: 0,
        ratio: 0.5,
        name: "",
        blob: "",
        anything: every_form(),
        maybe: None,
        points: Vec::new(),
        by_name: json!({}),
        shape: json!({"Dot": {}}),
        nested: json!([]),
    });
    let (compiled, encoding) = (compiled(), encoding());
    let bytes = written(&compiled, &encoding, &output).expect("written");
    let values = serde_json::to_value(&output).expect("converts");
    assert_eq!(bytes, encoded(&encoding, &values));
}
