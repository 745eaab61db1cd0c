//! The mock extensions `_ext.Call_` and `_ext.Stub_`: a call object naming one
//! function, and a stub (a call plus the `->` result to answer). Required fields may be
//! left out on both sides, so `RequiredObjectKeyMissing` failures are dropped.

use serde_json::{Map, Value};
use telepact_schema::FunctionId;

use super::failure::Reason;
use super::value::{Seg, Validator};

/// The pattern of the one function key of a call or stub.
const FUNCTION_KEY_REGEX: &str = "^fn\\..*$";
/// The result key of a stub.
const RESULT_KEY: &str = "->";

impl<'v> Validator<'_, 'v> {
    /// Validates an `_ext.Call_` value: `{"fn.x": {..arguments..}}`.
    pub(crate) fn check_mock_call(&mut self, value: &'v Value) {
        let Some((name, id, map)) = self.mock_function(value) else {
            return;
        };
        let start = self.failures.len();
        self.within_function(id, |v| v.check_arguments(id, name, &map[name]));
        self.drop_missing_required(start);
    }

    /// Validates an `_ext.Stub_` value: `{"fn.x": {..arguments..}, "->": {..result..}}`.
    pub(crate) fn check_mock_stub(&mut self, value: &'v Value) {
        let Some((name, id, map)) = self.mock_function(value) else {
            return;
        };
        let start = self.failures.len();
        self.within_function(id, |v| v.check_arguments(id, name, &map[name]));
        self.drop_missing_required(start);
        match map.get_key_value(RESULT_KEY) {
            None => self.fail(
                &[],
                Reason::RequiredObjectKeyMissing {
                    key: RESULT_KEY.to_string(),
                },
            ),
            Some((key, result)) => {
                let start = self.failures.len();
                let tags = &self.compiled().function(id).result;
                self.push(Seg::Key(key));
                self.within_function(id, |v| v.check_union(tags, result));
                self.pop();
                self.drop_missing_required(start);
            }
        }
        for key in map.keys() {
            if key != name && key != RESULT_KEY {
                self.fail(&[Seg::Key(key)], Reason::ObjectKeyDisallowed);
            }
        }
    }

    /// The object's one `fn.*` key and its function, or `None` after recording why
    /// there is none.
    fn mock_function(
        &mut self,
        value: &'v Value,
    ) -> Option<(&'v String, FunctionId, &'v Map<String, Value>)> {
        let Value::Object(map) = value else {
            self.type_unexpected(&[], value, "Object");
            return None;
        };
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        let names: Vec<&String> = keys
            .iter()
            .copied()
            .filter(|k| k.starts_with("fn."))
            .collect();
        let [name] = names.as_slice() else {
            let reason = Reason::ObjectKeyRegexMatchCountUnexpected {
                regex: FUNCTION_KEY_REGEX,
                actual: names.len(),
                expected: 1,
                keys: keys.into_iter().cloned().collect(),
            };
            self.fail(&[], reason);
            return None;
        };
        let Some(id) = self.compiled().function_id(name) else {
            self.fail(&[Seg::Key(name)], Reason::FunctionUnknown);
            return None;
        };
        Some((name, id, map))
    }

    fn check_arguments(&mut self, id: FunctionId, name: &'v str, arguments: &'v Value) {
        let Value::Object(arguments) = arguments else {
            return self.type_unexpected(&[Seg::Key(name)], arguments, "Object");
        };
        let fields = &self.compiled().function(id).args;
        self.push(Seg::Key(name));
        self.check_fields(fields, None, arguments);
        self.pop();
    }

    fn drop_missing_required(&mut self, start: usize) {
        let mut index = 0;
        self.failures.retain(|failure| {
            index += 1;
            index <= start || !matches!(failure.reason, Reason::RequiredObjectKeyMissing { .. })
        });
    }
}
