//! The blob of `fn.export` and `fn.import`: a caller's variables and paper tape as
//! MessagePack, `{"variables": {name: value}, "evaluations": [oldest, .., latest]}`.

use std::collections::BTreeMap;

use rmpv::Value as Pack;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::calculator::Evaluation;
use super::expression::MAX_NESTING;

/// What a blob holds.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Snapshot {
    pub(super) variables: BTreeMap<String, f64>,
    pub(super) evaluations: Vec<Evaluation>,
}

/// Why bytes are not a blob of this server; `source()` gives the reader's or writer's
/// error.
#[derive(Debug, thiserror::Error)]
pub(super) enum BlobError {
    #[error("the blob is not MessagePack")]
    Syntax(#[from] rmpv::decode::Error),
    #[error("the blob has {0} bytes after its value")]
    Trailing(usize),
    #[error("the blob holds {0}, which has no JSON form")]
    NoJsonForm(&'static str),
    #[error("the blob does not hold variables and evaluations")]
    Shape(#[from] serde_json::Error),
    #[error("the blob could not be written")]
    Write(#[from] rmpv::encode::Error),
}

/// The blob of `snapshot`.
pub(super) fn encode(snapshot: &Snapshot) -> Result<Vec<u8>, BlobError> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &to_pack(serde_json::to_value(snapshot)?))?;
    Ok(bytes)
}

/// How deep the reader may go into a blob, in its own count (two steps for each map or
/// list entered, one for each value read): 13 for an export whose expressions are
/// constants or variables, and 4 more for each operation an expression nests (two
/// maps: the union's tag and its payload). The tests hold it to exports.
const MAX_BLOB_DEPTH: usize = 13 + 4 * MAX_NESTING;

/// The snapshot in `blob`. Nesting past what an export can hold is refused as it is
/// read, so a hostile blob cannot exhaust the stack, and every expression imported
/// nests no deeper than [`MAX_NESTING`].
pub(super) fn decode(blob: &[u8]) -> Result<Snapshot, BlobError> {
    let mut rest = blob;
    let pack = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_BLOB_DEPTH)?;
    if !rest.is_empty() {
        return Err(BlobError::Trailing(rest.len()));
    }
    Ok(serde_json::from_value(to_json(pack)?)?)
}

fn to_pack(value: Value) -> Pack {
    match value {
        Value::Null => Pack::Nil,
        Value::Bool(flag) => Pack::Boolean(flag),
        Value::Number(number) => match (number.as_i64(), number.as_u64()) {
            (Some(integer), _) => Pack::from(integer),
            (None, Some(integer)) => Pack::from(integer),
            _ => Pack::F64(number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => Pack::from(text),
        Value::Array(items) => Pack::Array(items.into_iter().map(to_pack).collect()),
        Value::Object(entries) => Pack::Map(
            entries
                .into_iter()
                .map(|(key, value)| (Pack::from(key), to_pack(value)))
                .collect(),
        ),
    }
}

fn to_json(pack: Pack) -> Result<Value, BlobError> {
    Ok(match pack {
        Pack::Nil => Value::Null,
        Pack::Boolean(flag) => Value::Bool(flag),
        Pack::Integer(integer) => match (integer.as_i64(), integer.as_u64()) {
            (Some(integer), _) => Value::from(integer),
            (None, Some(integer)) => Value::from(integer),
            _ => return Err(BlobError::NoJsonForm("an integer out of range")),
        },
        Pack::F32(float) => float_to_json(f64::from(float))?,
        Pack::F64(float) => float_to_json(float)?,
        Pack::String(text) => match text.into_str() {
            Some(text) => Value::String(text),
            None => return Err(BlobError::NoJsonForm("a string that is not UTF-8")),
        },
        Pack::Array(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Pack::Map(entries) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| match key {
                    Pack::String(key) => match key.into_str() {
                        Some(key) => Ok((key, to_json(value)?)),
                        None => Err(BlobError::NoJsonForm("a key that is not UTF-8")),
                    },
                    _ => Err(BlobError::NoJsonForm("a key that is not a string")),
                })
                .collect::<Result<Map<_, _>, _>>()?,
        ),
        Pack::Binary(_) => return Err(BlobError::NoJsonForm("bytes")),
        Pack::Ext(..) => return Err(BlobError::NoJsonForm("an extension type")),
    })
}

fn float_to_json(float: f64) -> Result<Value, BlobError> {
    Number::from_f64(float)
        .map(Value::Number)
        .ok_or(BlobError::NoJsonForm("a number that is not finite"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::expression::tests::{add, constant, nested, variable};

    fn snapshot_of(expression: super::super::calculator::Expression) -> Snapshot {
        let evaluation = Evaluation {
            expression,
            result: Some(1.0),
            timestamp: 1_800_000_000,
            successful: true,
        };
        let variables = BTreeMap::from([("a".to_string(), 1.5)]);
        Snapshot {
            variables,
            evaluations: vec![evaluation],
        }
    }

    #[test]
    fn an_export_reads_back_at_the_deepest_nesting_allowed() {
        let with_a_variable_at_the_bottom =
            (0..MAX_NESTING).fold(variable("x"), |inner, _| add(constant(1.0), inner));
        for expression in [nested(MAX_NESTING), with_a_variable_at_the_bottom] {
            let snapshot = snapshot_of(expression);
            let read = decode(&encode(&snapshot).unwrap()).unwrap();
            assert_eq!(read.variables, snapshot.variables);
            assert_eq!(read.evaluations, snapshot.evaluations);
        }
    }

    #[test]
    fn a_blob_nested_deeper_is_refused_as_it_is_read() {
        let blob = encode(&snapshot_of(nested(MAX_NESTING + 1))).unwrap();
        assert!(matches!(decode(&blob), Err(BlobError::Syntax(_))));
    }

    #[test]
    fn bytes_that_are_not_a_blob_are_refused() {
        let mut blob = encode(&snapshot_of(constant(2.0))).unwrap();
        blob.push(0xc0);
        assert!(matches!(decode(&blob), Err(BlobError::Trailing(1))));
        assert!(matches!(decode(&[0x90]), Err(BlobError::Shape(_))));
        assert!(matches!(
            decode(&[0xc4, 0x01, 0x00]),
            Err(BlobError::NoJsonForm(_))
        ));
        assert!(matches!(decode(&[]), Err(BlobError::Syntax(_))));
    }

    #[test]
    fn no_message_repeats_its_cause() {
        let too_deep = encode(&snapshot_of(nested(MAX_NESTING + 1))).unwrap();
        for (name, blob) in [
            ("nested too deep", &too_deep[..]),
            ("of another shape", &[0x90]),
        ] {
            let error = decode(blob).expect_err("refused");
            telepact_test_support::assert_causes_shown_once(name, &error);
        }
    }
}
