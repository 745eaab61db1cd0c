//! Validation of one value against one named schema type, outside any message: for
//! tests and tools that check values made elsewhere (generated types, fixtures). It runs
//! the server's own validator, so a value it accepts is one the server accepts.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use telepact_schema::{FunctionId, Schema, TypeExpr, TypeKind, TypeName};

use crate::message::Headers;
use crate::validate::{
    AddedFields, Compiled, Expect, ValidationFailure, Validator, check_response_headers,
    write_value,
};

/// The suffix of a function's result type name: `fn.x.->`.
const RESULT_SUFFIX: &str = ".->";

/// A type name that names nothing [`ValueValidator::validate`] can check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a type of the schema: expected `struct.X`, `union.X`, `fn.x` (arguments) or `fn.x.->` (result)"
)]
pub struct UnknownType(pub String);

/// Validates values against the types of one schema, compiled once.
#[derive(Debug)]
pub struct ValueValidator {
    compiled: Compiled,
    names: HashMap<String, TypeName>,
}

/// What a type name resolves to.
enum Target {
    Type(TypeExpr),
    Arguments(FunctionId),
    Result(FunctionId),
}

impl ValueValidator {
    /// Compiles `schema` for validation, keeping it (as [`MockServer::new`] and
    /// [`Server::builder`] do): pass a clone where the schema is used afterwards.
    ///
    /// [`MockServer::new`]: crate::mock::MockServer::new
    /// [`Server::builder`]: crate::Server::builder
    pub fn new(schema: impl Into<Arc<Schema>>) -> Self {
        let schema = schema.into();
        let names = schema
            .names()
            .iter()
            .map(|(name, target)| (name.clone(), *target))
            .collect();
        ValueValidator {
            compiled: Compiled::shared(&schema),
            names,
        }
    }

    /// The failures of `value` as a value of `type_name`, in the order the server
    /// reports them; empty when it is valid. `type_name` is `struct.X`, `union.X`,
    /// `fn.x` for the function's argument object (not the `{"fn.x": ..}` call) or
    /// `fn.x.->` for its result (`{"Ok_": {..}}`, including merged error tags). At most
    /// the first [`MAX_VALIDATION_FAILURES`](crate::MAX_VALIDATION_FAILURES) are given.
    ///
    /// Paths start at `value`. `_ext.Select_` values inside a function's arguments or
    /// result are checked against what that function may select; elsewhere they only
    /// need to be objects.
    ///
    /// # Errors
    ///
    /// [`UnknownType`] when the schema defines no `type_name`, or it is `x.->` for an `x`
    /// that is not a function. An invalid `value` is no error: its failures are the
    /// answer.
    pub fn validate(
        &self,
        type_name: &str,
        value: &Value,
    ) -> Result<Vec<ValidationFailure>, UnknownType> {
        let target = self.resolve(type_name)?;
        let function = match &target {
            Target::Arguments(id) | Target::Result(id) => Some(*id),
            Target::Type(_) => None,
        };
        let object = any_object();
        let mut validator = Validator::new(&self.compiled, function);
        match &target {
            Target::Type(ty) => validator.check_type(ty, value),
            Target::Arguments(id) => match value {
                Value::Object(map) => {
                    validator.check_fields(&self.compiled.function(*id).args, None, map)
                }
                // Reported exactly as a non-object where an object is expected.
                other => validator.check_type(&object, other),
            },
            Target::Result(id) => validator.check_union(&self.compiled.function(*id).result, value),
        }
        Ok(validator.into_failures())
    }

    /// Writes a typed `value` of `type_name` (named as for [`validate`](Self::validate))
    /// as JSON, checking it as it goes: what the server does with a typed handler's
    /// answer. `Some` holds the bytes `serde_json` writes for the value, when it is
    /// valid; `None` when it is not, or takes a form the writer leaves to validation
    /// (an `f32`, a map key that is not a string, `_ext.Select_`...): then `validate` on
    /// its JSON values says what, if anything, is wrong.
    ///
    /// # Errors
    ///
    /// [`UnknownType`], as [`validate`](Self::validate) fails with it.
    pub fn write<T: Serialize + ?Sized>(
        &self,
        type_name: &str,
        value: &T,
    ) -> Result<Option<Vec<u8>>, UnknownType> {
        let target = self.resolve(type_name)?;
        let expect = match &target {
            Target::Type(ty) => Expect::Type(ty),
            Target::Arguments(id) => Expect::Fields(&self.compiled.function(*id).args),
            Target::Result(id) => Expect::Tags(&self.compiled.function(*id).result),
        };
        let mut out = Vec::new();
        let written = write_value(value, &self.compiled, expect, &mut out).is_ok();
        Ok(written.then_some(out))
    }

    /// The failures of `result` as an answer of `function` (`fn.x`) read by a client: as
    /// the server checks its own, but for keys the schema does not declare, which a
    /// newer server may add. `None` when the schema has no such function.
    pub(crate) fn answer_failures(
        &self,
        function: &str,
        result: &Value,
    ) -> Option<Vec<ValidationFailure>> {
        let id = self.compiled.function_id(function)?;
        let mut validator =
            Validator::new(&self.compiled, Some(id)).with_added_fields(AddedFields::Allowed);
        validator.check_union(&self.compiled.function(id).result, result);
        Some(validator.into_failures())
    }

    /// The failures of `headers` as the response headers of `function` read by a
    /// client, as [`answer_failures`](Self::answer_failures) checks its result.
    pub(crate) fn answer_header_failures(
        &self,
        function: &str,
        headers: &Headers,
    ) -> Option<Vec<ValidationFailure>> {
        let id = self.compiled.function_id(function)?;
        Some(check_response_headers(
            &self.compiled,
            headers,
            id,
            AddedFields::Allowed,
        ))
    }

    fn resolve(&self, type_name: &str) -> Result<Target, UnknownType> {
        let unknown = || UnknownType(type_name.to_string());
        let (name, result) = match type_name.strip_suffix(RESULT_SUFFIX) {
            Some(function) => (function, true),
            None => (type_name, false),
        };
        let kind = match (self.names.get(name).ok_or_else(unknown)?, result) {
            (TypeName::Function(id), true) => return Ok(Target::Result(*id)),
            (TypeName::Function(id), false) => return Ok(Target::Arguments(*id)),
            (_, true) => return Err(unknown()),
            (TypeName::Struct(id), false) => TypeKind::Struct(*id),
            (TypeName::Union(id), false) => TypeKind::Union(*id),
            (TypeName::Select, false) => TypeKind::Select,
            (TypeName::MockCall, false) => TypeKind::MockCall,
            (TypeName::MockStub, false) => TypeKind::MockStub,
        };
        Ok(Target::Type(TypeExpr {
            kind,
            nullable: false,
        }))
    }
}

fn any_object() -> TypeExpr {
    let any = TypeExpr {
        kind: TypeKind::Any,
        nullable: true,
    };
    TypeExpr {
        kind: TypeKind::Object(Box::new(any)),
        nullable: false,
    }
}

/// The failures of `value` as a value of `type_name` in `schema`; see
/// [`ValueValidator::validate`]. Compiles the schema on every call: build a
/// [`ValueValidator`] once to check many values.
///
/// # Errors
///
/// [`UnknownType`], as [`ValueValidator::validate`] fails with it.
pub fn validate_value(
    schema: &Schema,
    type_name: &str,
    value: &Value,
) -> Result<Vec<ValidationFailure>, UnknownType> {
    ValueValidator::new(schema.clone()).validate(type_name, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Reason;
    use serde_json::json;

    const SCHEMA: &str = r#"[
        {"struct.Point": {"x": "number", "y!": "number"}},
        {"union.Shape": [{"Dot": {"at": "struct.Point"}}, {"Empty": {}}]},
        {"fn.move": {"to": "struct.Point"}, "->": [{"Ok_": {"moved": "boolean"}}]}
    ]"#;

    fn validator() -> ValueValidator {
        let schema = Schema::from_text(SCHEMA).expect("a valid schema");
        ValueValidator::new(schema)
    }

    fn reasons(type_name: &str, value: Value) -> Vec<(Vec<Value>, Reason)> {
        validator()
            .validate(type_name, &value)
            .expect("a known type")
            .into_iter()
            .map(|f| (f.path, f.reason))
            .collect()
    }

    #[test]
    fn valid_values_of_every_kind_of_name_pass() {
        assert!(reasons("struct.Point", json!({"x": 1.5})).is_empty());
        assert!(reasons("union.Shape", json!({"Dot": {"at": {"x": 0}}})).is_empty());
        assert!(reasons("fn.move", json!({"to": {"x": 0, "y!": 1}})).is_empty());
        assert!(reasons("fn.move.->", json!({"Ok_": {"moved": true}})).is_empty());
        let unknown = json!({"ErrorUnknown_": {"caseId": "c"}});
        assert!(reasons("fn.move.->", unknown).is_empty());
    }

    #[test]
    fn valid_values_are_written_and_others_left_to_validation() {
        let validator = validator();
        let point = json!({"x": 1.5, "y!": 2});
        let written = validator
            .write("struct.Point", &point)
            .expect("a known type");
        assert_eq!(written, Some(serde_json::to_vec(&point).unwrap()));
        let moved = json!({"Ok_": {"moved": true}});
        let written = validator.write("fn.move.->", &moved).expect("a known type");
        assert_eq!(written, Some(serde_json::to_vec(&moved).unwrap()));
        let written = validator.write("fn.move", &json!({"to": {"x": 0}}));
        assert!(written.expect("a known type").is_some());

        let far = json!({"Dot": {"at": {"x": "far"}}});
        assert_eq!(validator.write("union.Shape", &far), Ok(None));
        assert_eq!(
            validator.write("struct.Nowhere", &point),
            Err(UnknownType("struct.Nowhere".to_string()))
        );
    }

    #[test]
    fn failures_are_located_from_the_value_root() {
        assert_eq!(
            reasons("union.Shape", json!({"Dot": {"at": {"x": "far"}}})),
            vec![(
                vec![json!("Dot"), json!("at"), json!("x")],
                Reason::TypeUnexpected {
                    actual: "String",
                    expected: "Number"
                }
            )]
        );
        assert_eq!(
            reasons("fn.move", json!({})),
            vec![(
                vec![],
                Reason::RequiredObjectKeyMissing { key: "to".into() }
            )]
        );
        assert_eq!(
            reasons("fn.move", json!([])),
            vec![(
                vec![],
                Reason::TypeUnexpected {
                    actual: "Array",
                    expected: "Object"
                }
            )]
        );
    }

    #[test]
    fn names_of_nothing_checkable_are_errors() {
        let validator = validator();
        for name in ["struct.Nope", "struct.Point.->", "Point", "fn.nope.->"] {
            assert_eq!(
                validator.validate(name, &json!({})),
                Err(UnknownType(name.into()))
            );
        }
    }
}
