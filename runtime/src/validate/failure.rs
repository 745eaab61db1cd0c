//! Validation failures and their wire form (`struct.ValidationFailure_`).

use serde_json::{Map, Value, json};

/// Why a value failed validation: the protocol's `union.ValidationFailureReason_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The value has the wrong type.
    TypeUnexpected {
        /// The type the value has, e.g. `String`.
        actual: &'static str,
        /// The type the schema asks for, e.g. `Integer`.
        expected: &'static str,
    },
    /// A number outside the range its type allows (integers must fit in 64 bits).
    NumberOutOfRange,
    /// A key the struct or union does not declare.
    ObjectKeyDisallowed,
    /// A required struct field is absent.
    RequiredObjectKeyMissing {
        /// The missing field's name.
        key: String,
    },
    /// A key lacks a required prefix (every header name must start with `@`).
    RequiredObjectKeyPrefixMissing {
        /// The prefix, e.g. `@`.
        prefix: &'static str,
    },
    /// An object has the wrong number of entries (a union value must have exactly one).
    ObjectSizeUnexpected {
        /// How many entries it has.
        actual: usize,
        /// How many it must have.
        expected: usize,
    },
    /// An array element that is not allowed at this position.
    ArrayElementDisallowed,
    /// The request names a function the schema does not declare.
    FunctionUnknown,
    /// Not exactly `expected` of the object's keys match `regex` (`keys`: all of them,
    /// sorted).
    ObjectKeyRegexMatchCountUnexpected {
        /// The pattern the keys are matched against.
        regex: &'static str,
        /// How many keys match.
        actual: usize,
        /// How many must match.
        expected: usize,
        /// All of the object's keys, sorted.
        keys: Vec<String>,
    },
}

impl Reason {
    /// The reason as its one-entry JSON object, e.g. `{"NumberOutOfRange": {}}`.
    pub fn to_json(&self) -> Value {
        match self {
            Reason::TypeUnexpected { actual, expected } => json!({
                "TypeUnexpected": {"actual": {*actual: {}}, "expected": {*expected: {}}}
            }),
            Reason::NumberOutOfRange => json!({"NumberOutOfRange": {}}),
            Reason::ObjectKeyDisallowed => json!({"ObjectKeyDisallowed": {}}),
            Reason::RequiredObjectKeyMissing { key } => {
                json!({"RequiredObjectKeyMissing": {"key": key}})
            }
            Reason::RequiredObjectKeyPrefixMissing { prefix } => {
                json!({"RequiredObjectKeyPrefixMissing": {"prefix": prefix}})
            }
            Reason::ObjectSizeUnexpected { actual, expected } => {
                json!({"ObjectSizeUnexpected": {"actual": actual, "expected": expected}})
            }
            Reason::ArrayElementDisallowed => json!({"ArrayElementDisallowed": {}}),
            Reason::FunctionUnknown => json!({"FunctionUnknown": {}}),
            Reason::ObjectKeyRegexMatchCountUnexpected {
                regex,
                actual,
                expected,
                keys,
            } => json!({"ObjectKeyRegexMatchCountUnexpected": {
                "regex": regex, "actual": actual, "expected": expected, "keys": keys
            }}),
        }
    }
}

/// The most failures one validation reports: the first ones in the order of the walk.
///
/// The rest of the value is still checked, but nothing more is recorded, so a large
/// invalid message cannot make an answer, and the memory that builds it, many times its
/// own size. The reference libraries report every failure; no conformance vector comes
/// near this many.
pub const MAX_VALIDATION_FAILURES: usize = 100;

/// Records the failure `make` builds, unless `failures` already holds
/// [`MAX_VALIDATION_FAILURES`]; then nothing is built.
pub(crate) fn record(
    failures: &mut Vec<ValidationFailure>,
    make: impl FnOnce() -> ValidationFailure,
) {
    if failures.len() < MAX_VALIDATION_FAILURES {
        failures.push(make());
    }
}

/// One failure: where (keys and array indices from the validated root) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationFailure {
    /// Object keys and array indices from the validated root down to the failing value.
    pub path: Vec<Value>,
    /// What is wrong with it.
    pub reason: Reason,
}

impl ValidationFailure {
    /// The failure as a `struct.ValidationFailure_` value.
    pub fn to_json(&self) -> Value {
        let mut case = Map::new();
        case.insert("path".to_string(), Value::Array(self.path.clone()));
        case.insert("reason".to_string(), self.reason.to_json());
        Value::Object(case)
    }
}

/// The path and the reason as the wire writes them: `["fn.add", "x"]: {"TypeUnexpected":
/// {"actual": {"String": {}}, "expected": {"Integer": {}}}}`.
impl std::fmt::Display for ValidationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            Value::Array(self.path.clone()),
            self.reason.to_json()
        )
    }
}

/// The `cases` list of an `ErrorInvalid*_` result.
pub(crate) fn cases_json(failures: &[ValidationFailure]) -> Value {
    Value::Array(failures.iter().map(ValidationFailure::to_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reads_as_its_path_and_reason() {
        let failure = ValidationFailure {
            path: vec![json!("fn.add"), json!("x"), json!(0)],
            reason: Reason::TypeUnexpected {
                actual: "String",
                expected: "Integer",
            },
        };
        assert_eq!(
            failure.to_string(),
            r#"["fn.add","x",0]: {"TypeUnexpected":{"actual":{"String":{}},"expected":{"Integer":{}}}}"#
        );
    }
}
