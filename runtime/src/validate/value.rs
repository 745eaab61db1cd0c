//! Validates JSON values against schema types, collecting every failure with its path.

use serde_json::{Map, Number, Value};
use smallvec::SmallVec;
use telepact_schema::{FunctionId, TypeExpr, TypeKind, json_type_name};

use crate::base64_paths::Base64Paths;
use crate::base64_text::is_base64;

use super::compiled::{Compiled, FieldSet, TagSet};
use super::failure::{MAX_VALIDATION_FAILURES, Reason, ValidationFailure, record};
use super::select::check_select;

/// One step of the path from the validated root to the current value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'v> {
    Key(&'v str),
    /// A key of a map (`object` type): one of many entries of the same type.
    Entry(&'v str),
    Index(usize),
}

/// The most bytes of key text the paths of one validation's failures hold together,
/// past the first failure's: a key is the client's text, as long as the body allows, and
/// each failure below it repeats it in its path, so that a megabyte key over a hundred
/// invalid items answered a hundred megabytes.
const FAILURE_PATH_BYTES: usize = 64 * 1024;

/// The key text in `path`: what its failure repeats of the client's text.
fn path_bytes<'a, 'v: 'a>(path: impl Iterator<Item = &'a Seg<'v>>) -> usize {
    path.map(|seg| match seg {
        Seg::Key(k) | Seg::Entry(k) => k.len(),
        Seg::Index(_) => 0,
    })
    .sum()
}

impl Seg<'_> {
    fn to_json(self) -> Value {
        match self {
            Seg::Key(k) | Seg::Entry(k) => Value::String(k.to_string()),
            Seg::Index(i) => Value::from(i),
        }
    }
}

/// Walks a value against a type, recording failures; the happy path allocates nothing.
pub(crate) struct Validator<'s, 'v> {
    compiled: &'s Compiled,
    /// The `@select_` header while validating a response: omitted fields may be missing.
    select: Option<&'v Map<String, Value>>,
    /// The function whose possible selects `_ext.Select_` values are checked against.
    function: Option<FunctionId>,
    /// Inline up to a depth most messages never pass: every call validates its headers,
    /// body and result, and a heap path would be one allocation each.
    path: SmallVec<[Seg<'v>; 8]>,
    pub(crate) failures: Vec<ValidationFailure>,
    /// The bytes of key text the failures' paths hold together (see
    /// [`FAILURE_PATH_BYTES`]).
    failure_path_bytes: usize,
    /// With [`collecting_bytes`](Self::collecting_bytes): where valid bytes values are.
    bytes: Option<Base64Paths>,
    /// Whether a struct's keys the schema does not declare are refused.
    added_fields: AddedFields,
}

/// What a check does with a struct's keys the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddedFields {
    /// `ObjectKeyDisallowed`, as the protocol has it.
    Refused,
    /// Passed over: a client reading a newer server's answer, which may add fields.
    Allowed,
}

impl<'s, 'v> Validator<'s, 'v> {
    pub(crate) fn new(compiled: &'s Compiled, function: Option<FunctionId>) -> Self {
        Validator {
            compiled,
            select: None,
            function,
            path: SmallVec::new(),
            failures: Vec::new(),
            failure_path_bytes: 0,
            bytes: None,
            added_fields: AddedFields::Refused,
        }
    }

    /// Passes over a struct's keys the schema does not declare (see [`AddedFields`]).
    pub(crate) fn with_added_fields(mut self, added_fields: AddedFields) -> Self {
        self.added_fields = added_fields;
        self
    }

    pub(crate) fn with_select(mut self, select: Option<&'v Map<String, Value>>) -> Self {
        self.select = select;
        self
    }

    /// Runs `check` with `_ext.Select_` values selecting from function `id`: a stub's,
    /// call's or link's own function, whose arguments (and result) it holds.
    pub(crate) fn within_function(&mut self, id: FunctionId, check: impl FnOnce(&mut Self)) {
        let outer = self.function.replace(id);
        check(self);
        self.function = outer;
    }

    /// Also records where the value holds valid bytes, for the `@base64_` header.
    pub(crate) fn collecting_bytes(mut self) -> Self {
        self.bytes = Some(Base64Paths::default());
        self
    }

    /// The places of bytes recorded since [`collecting_bytes`](Self::collecting_bytes).
    pub(crate) fn take_bytes_paths(&mut self) -> Base64Paths {
        self.bytes.take().unwrap_or_default()
    }

    pub(crate) fn into_failures(self) -> Vec<ValidationFailure> {
        self.failures
    }

    pub(crate) fn push(&mut self, seg: Seg<'v>) {
        self.path.push(seg);
    }

    pub(crate) fn pop(&mut self) {
        self.path.pop();
    }

    /// Records a failure at the current path plus `extra`, while the failures' paths
    /// have room for it (see [`FAILURE_PATH_BYTES`]).
    pub(crate) fn fail(&mut self, extra: &[Seg<'_>], reason: Reason) {
        let bytes = path_bytes(self.path.iter().chain(extra));
        if !self.has_room_for(bytes) {
            return;
        }
        let path = &self.path;
        let before = self.failures.len();
        record(&mut self.failures, || ValidationFailure {
            path: path.iter().chain(extra).map(|s| s.to_json()).collect(),
            reason,
        });
        if self.failures.len() > before {
            self.failure_path_bytes += bytes;
        }
    }

    /// Whether a failure whose path holds `bytes` of key text may still be recorded:
    /// the first always is.
    fn has_room_for(&self, bytes: usize) -> bool {
        self.failures.is_empty() || self.failure_path_bytes + bytes <= FAILURE_PATH_BYTES
    }

    pub(crate) fn compiled(&self) -> &'s Compiled {
        self.compiled
    }

    pub(crate) fn type_unexpected(
        &mut self,
        extra: &[Seg<'_>],
        value: &Value,
        expected: &'static str,
    ) {
        let actual = json_type_name(value);
        self.fail(extra, Reason::TypeUnexpected { actual, expected });
    }

    /// Validates `value` against a type expression.
    pub(crate) fn check_type(&mut self, ty: &'s TypeExpr, value: &'v Value) {
        if value.is_null() {
            if !ty.nullable {
                self.type_unexpected(&[], value, expected_name(&ty.kind));
            }
            return;
        }
        match &ty.kind {
            TypeKind::Boolean => {
                if !value.is_boolean() {
                    self.type_unexpected(&[], value, "Boolean");
                }
            }
            TypeKind::Integer => self.check_integer(value),
            TypeKind::Number => self.check_number(value),
            TypeKind::String => {
                if !value.is_string() {
                    self.type_unexpected(&[], value, "String");
                }
            }
            TypeKind::Bytes => self.check_bytes(value),
            TypeKind::Any => {}
            TypeKind::Array(inner) => self.check_array(inner, value),
            TypeKind::Object(inner) => self.check_object(inner, value),
            TypeKind::Struct(id) => {
                let entry = &self.compiled.structs[id.0 as usize];
                match value {
                    Value::Object(map) => {
                        let selected = self.selected_list(&entry.name);
                        self.check_fields(&entry.fields, selected, map);
                    }
                    _ => self.type_unexpected(&[], value, "Object"),
                }
            }
            TypeKind::Union(id) => {
                let tags = &self.compiled.unions[id.0 as usize];
                self.check_union(tags, value);
            }
            TypeKind::FunctionLink(id) => self.check_function_link(*id, value),
            TypeKind::Select => self.check_select_value(value),
            TypeKind::MockCall => self.check_mock_call(value),
            TypeKind::MockStub => self.check_mock_stub(value),
        }
    }

    fn check_integer(&mut self, value: &Value) {
        match value {
            Value::Number(n) => match classify(n) {
                NumberClass::Integer => {}
                NumberClass::IntegerOutOfRange => self.fail(&[], Reason::NumberOutOfRange),
                NumberClass::Float if is_whole_beyond_64_bits(n) => {
                    self.fail(&[], Reason::NumberOutOfRange)
                }
                NumberClass::Float => self.type_unexpected(&[], value, "Integer"),
            },
            _ => self.type_unexpected(&[], value, "Integer"),
        }
    }

    fn check_number(&mut self, value: &Value) {
        match value {
            Value::Number(n) => {
                if classify(n) == NumberClass::IntegerOutOfRange {
                    self.fail(&[], Reason::NumberOutOfRange);
                }
            }
            _ => self.type_unexpected(&[], value, "Number"),
        }
    }

    fn check_bytes(&mut self, value: &Value) {
        match value {
            Value::String(s) => {
                if !is_base64(s) {
                    self.type_unexpected(&[], value, "Base64String");
                } else if let Some(paths) = &mut self.bytes {
                    paths.mark(self.path.iter().map(|seg| match seg {
                        Seg::Key(key) => *key,
                        Seg::Entry(_) | Seg::Index(_) => "*",
                    }));
                }
            }
            _ => self.type_unexpected(&[], value, "Bytes"),
        }
    }

    fn check_array(&mut self, inner: &'s TypeExpr, value: &'v Value) {
        let Value::Array(items) = value else {
            return self.type_unexpected(&[], value, "Array");
        };
        for (i, item) in items.iter().enumerate() {
            self.push(Seg::Index(i));
            self.check_type(inner, item);
            self.pop();
        }
    }

    fn check_object(&mut self, inner: &'s TypeExpr, value: &'v Value) {
        let Value::Object(map) = value else {
            return self.type_unexpected(&[], value, "Object");
        };
        for (key, item) in map {
            self.push(Seg::Entry(key));
            self.check_type(inner, item);
            self.pop();
        }
    }

    /// Validates a struct-like object: missing required fields first (in declaration
    /// order), then each present key in the order given.
    pub(crate) fn check_fields(
        &mut self,
        fields: &'s FieldSet,
        selected: Option<&'v Vec<Value>>,
        actual: &'v Map<String, Value>,
    ) {
        let first_failure = self.failures.len();
        let mut required_present = 0;
        let mut expected = 0;
        for (key, item) in actual {
            let Some((index, field)) = fields.find_from(key, expected) else {
                if self.added_fields == AddedFields::Refused {
                    self.fail(&[Seg::Key(key)], Reason::ObjectKeyDisallowed);
                }
                continue;
            };
            expected = index + 1;
            if !field.optional {
                required_present += 1;
            }
            self.push(Seg::Key(key));
            self.check_type(&field.ty, item);
            self.pop();
        }
        if required_present < fields.required {
            self.insert_missing(fields, selected, actual, first_failure);
        }
    }

    fn insert_missing(
        &mut self,
        fields: &FieldSet,
        selected: Option<&Vec<Value>>,
        actual: &Map<String, Value>,
        at: usize,
    ) {
        if at >= MAX_VALIDATION_FAILURES {
            return;
        }
        let bytes = path_bytes(self.path.iter());
        // The failures' paths share their room too: a long key above the struct would
        // be repeated in each missing field's failure.
        let room = FAILURE_PATH_BYTES
            .saturating_sub(self.failure_path_bytes)
            .checked_div(bytes)
            .unwrap_or(usize::MAX);
        let room = if self.failures.is_empty() {
            room.max(1)
        } else {
            room
        };
        let path: Vec<Value> = self.path.iter().map(|s| s.to_json()).collect();
        let missing = fields.fields.iter().filter(|f| {
            !f.optional && !actual.contains_key(&f.key) && !omitted_by(selected, &f.key)
        });
        // They go before the failures of the fields present, and the list keeps its bound.
        let missing: Vec<ValidationFailure> = missing
            .take((MAX_VALIDATION_FAILURES - at).min(room))
            .map(|f| ValidationFailure {
                path: path.clone(),
                reason: Reason::RequiredObjectKeyMissing { key: f.key.clone() },
            })
            .collect();
        self.failure_path_bytes += bytes * missing.len();
        self.failures.splice(at..at, missing);
        self.failures.truncate(MAX_VALIDATION_FAILURES);
    }

    /// Validates a union value `{tag: {..fields..}}`.
    pub(crate) fn check_union(&mut self, tags: &'s TagSet, value: &'v Value) {
        match value {
            Value::Object(map) => self.check_union_map(tags, map),
            _ => self.type_unexpected(&[], value, "Object"),
        }
    }

    /// Validates a union given as its object (a result body, for instance).
    pub(crate) fn check_union_map(&mut self, tags: &'s TagSet, map: &'v Map<String, Value>) {
        let Some((tag, payload)) = single_entry(map) else {
            let actual = map.len();
            return self.fail(
                &[],
                Reason::ObjectSizeUnexpected {
                    actual,
                    expected: 1,
                },
            );
        };
        let Some(entry) = tags.find(tag) else {
            return self.fail(&[Seg::Key(tag)], Reason::ObjectKeyDisallowed);
        };
        let Value::Object(payload) = payload else {
            return self.type_unexpected(&[Seg::Key(tag)], payload, "Object");
        };
        let selected = self.selected_tag_list(&tags.select_key, tag);
        self.push(Seg::Key(tag));
        self.check_fields(&entry.fields, selected, payload);
        self.pop();
    }

    /// Validates `{"fn.x": {..arguments..}}`: a union whose only tag is the function.
    pub(crate) fn check_function_link(&mut self, id: FunctionId, value: &'v Value) {
        // A link is a call of its function, checked whole: a `@select_` leaves it whole
        // (see `Selector`), and the selections in it select from its own function.
        let select = self.select.take();
        match value {
            Value::Object(map) => self.within_function(id, |v| v.check_call_map(id, map)),
            _ => self.type_unexpected(&[], value, "Object"),
        }
        self.select = select;
    }

    /// Validates a call object `{"fn.x": {..arguments..}}` (a request body, a link).
    pub(crate) fn check_call_map(&mut self, id: FunctionId, map: &'v Map<String, Value>) {
        let function = self.compiled.function(id);
        let Some((tag, payload)) = single_entry(map) else {
            let actual = map.len();
            return self.fail(
                &[],
                Reason::ObjectSizeUnexpected {
                    actual,
                    expected: 1,
                },
            );
        };
        if tag != &function.name {
            return self.fail(&[Seg::Key(tag)], Reason::ObjectKeyDisallowed);
        }
        let Value::Object(payload) = payload else {
            return self.type_unexpected(&[Seg::Key(tag)], payload, "Object");
        };
        self.push(Seg::Key(tag));
        self.check_fields(&function.args, None, payload);
        self.pop();
    }

    fn check_select_value(&mut self, value: &'v Value) {
        if !value.is_object() {
            return self.type_unexpected(&[], value, "Object");
        }
        let Some(function) = self.function else {
            return;
        };
        let possible = self.compiled.possible_select(function);
        let mut failures = Vec::new();
        check_select(&mut Vec::new(), value, possible, &mut failures);
        let base: Vec<Value> = self.path.iter().map(|s| s.to_json()).collect();
        for mut failure in failures {
            record(&mut self.failures, || {
                let mut path = base.clone();
                path.append(&mut failure.path);
                ValidationFailure { path, ..failure }
            });
        }
    }

    fn selected_list(&self, key: &str) -> Option<&'v Vec<Value>> {
        self.select?.get(key)?.as_array()
    }

    fn selected_tag_list(&self, union_key: &str, tag: &str) -> Option<&'v Vec<Value>> {
        self.select?
            .get(union_key)?
            .as_object()?
            .get(tag)?
            .as_array()
    }
}

fn single_entry(map: &Map<String, Value>) -> Option<(&String, &Value)> {
    if map.len() == 1 {
        map.iter().next()
    } else {
        None
    }
}

fn omitted_by(selected: Option<&Vec<Value>>, key: &str) -> bool {
    selected.is_some_and(|names| !super::select::lists(names, key))
}

/// The name a `TypeUnexpected` reason gives a type.
pub(crate) fn expected_name(kind: &TypeKind) -> &'static str {
    match kind {
        TypeKind::Boolean => "Boolean",
        TypeKind::Integer => "Integer",
        TypeKind::Number => "Number",
        TypeKind::String => "String",
        TypeKind::Bytes => "Bytes",
        TypeKind::Any => "Any",
        TypeKind::Array(_) => "Array",
        TypeKind::Object(_)
        | TypeKind::Struct(_)
        | TypeKind::Union(_)
        | TypeKind::FunctionLink(_)
        | TypeKind::Select
        | TypeKind::MockCall
        | TypeKind::MockStub => "Object",
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NumberClass {
    Integer,
    IntegerOutOfRange,
    Float,
}

/// `i64::MIN` as an `f64`: where JSON parsing puts integer literals just below it.
pub(crate) const I64_MIN_AS_F64: f64 = -9_223_372_036_854_775_808.0;

/// Whether a number is a 64-bit integer, an integer outside that range, or a float.
///
/// JSON parsing keeps integers that fit in `i64` or `u64` exactly, so a `u64` above
/// `i64::MAX` is out of range. Integer literals below `i64::MIN` arrive as the nearest
/// `f64`, which for the first ones past the bound is `-2^63` exactly: that float is taken
/// for such a literal. Integer literals further out (beyond `u64::MAX`, or a thousand
/// below `i64::MIN`) cannot be told from floats without arbitrary precision and are
/// treated as floats.
pub(crate) fn classify(n: &Number) -> NumberClass {
    if n.is_i64() {
        return NumberClass::Integer;
    }
    if n.is_u64() {
        return NumberClass::IntegerOutOfRange;
    }
    match n.as_f64() {
        Some(f) if f == I64_MIN_AS_F64 => NumberClass::IntegerOutOfRange,
        _ => NumberClass::Float,
    }
}

/// A whole float outside the 64-bit range: how an integer literal past `u64::MAX` (or
/// far below `i64::MIN`) arrives, so an `integer` field calls it out of range rather
/// than of the wrong type. A `number` field keeps accepting such floats.
fn is_whole_beyond_64_bits(n: &Number) -> bool {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    n.as_f64().is_some_and(|f| {
        f.is_finite() && f.fract() == 0.0 && !(-TWO_POW_63..TWO_POW_63).contains(&f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).expect("a JSON number")
    }

    #[test]
    fn integers_within_64_bits_are_integers() {
        for text in ["0", "-1", "9223372036854775807", "-9223372036854775808"] {
            assert_eq!(classify(&number(text)), NumberClass::Integer, "{text}");
        }
    }

    #[test]
    fn integer_literals_past_64_bits_are_out_of_range() {
        for text in [
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775809",
        ] {
            assert_eq!(
                classify(&number(text)),
                NumberClass::IntegerOutOfRange,
                "{text}"
            );
        }
    }

    #[test]
    fn whole_floats_past_64_bits_stand_for_huge_integer_literals() {
        for text in [
            "100000000000000000000",
            "-100000000000000000000",
            "1e20",
            "-1e300",
        ] {
            assert!(is_whole_beyond_64_bits(&number(text)), "{text}");
        }
        for text in ["1.0", "0.5", "9.2e18", "1e18", "-9.2e18"] {
            assert!(!is_whole_beyond_64_bits(&number(text)), "{text}");
        }
    }

    #[test]
    fn floats_are_floats() {
        for text in [
            "0.5",
            "1.0",
            "-1.7976931348623157e+308",
            "2.2250738585072014e-308",
        ] {
            assert_eq!(classify(&number(text)), NumberClass::Float, "{text}");
        }
    }
}
