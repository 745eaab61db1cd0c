//! Values of the extension types: `_ext.Select_`, and the mock's `_ext.Call_` and
//! `_ext.Stub_`.

use serde_json::{Map, Value};

use telepact_schema::Schema;

use super::generate::{Composite, Generator};
use crate::validate::possible_select;

/// The non-internal functions by name: what calls and stubs may name.
fn mockable_functions(schema: &Schema) -> Vec<&str> {
    let mut names: Vec<&str> = schema
        .functions()
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !name.ends_with('_'))
        .collect();
    names.sort_unstable();
    names
}

impl<'a> Generator<'a> {
    /// A selection from what the scope function's result can select (none once
    /// generation is tight).
    pub(super) fn select(&mut self) -> Value {
        // Each selection may name every field the result can hold: once generation is
        // tight, the smallest one, naming none.
        if !self.generous() {
            return Value::Object(Map::new());
        }
        let possible = self
            .schema
            .function_by_name(self.scope)
            .map(|(_, function)| possible_select(self.schema, &function.result));
        match possible {
            Some(possible) => self.sub_select(&possible),
            None => Value::Object(Map::new()),
        }
    }

    fn sub_select(&mut self, possible: &Value) -> Value {
        match possible {
            Value::Array(names) => {
                let mut chosen: Vec<&Value> = names
                    .iter()
                    .filter(|_| self.random.next_boolean())
                    .collect();
                chosen.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                Value::Array(chosen.into_iter().cloned().collect())
            }
            Value::Object(sections) => {
                let mut keys: Vec<&String> = sections.keys().collect();
                keys.sort();
                let mut chosen = Map::new();
                for key in keys {
                    if !self.random.next_boolean() {
                        continue;
                    }
                    let section = self.sub_select(&sections[key.as_str()]);
                    if section.as_object().is_some_and(Map::is_empty) {
                        continue;
                    }
                    chosen.insert(key.clone(), section);
                }
                Value::Object(chosen)
            }
            _ => Value::Object(Map::new()),
        }
    }

    /// `{"fn.x": {..some arguments..}}`.
    pub(super) fn mock_call(&mut self) -> Value {
        let schema = self.schema;
        let names = mockable_functions(schema);
        let index = self.random.next_int_below(names.len() as u32) as usize;
        let Some((id, function)) = names
            .get(index)
            .and_then(|name| schema.function_by_name(name))
        else {
            return Value::Object(Map::new());
        };
        self.within_scope(&function.name, |generator| {
            generator.with_required_fields_drawn(|generator| {
                generator.within(Composite::Function(id), |g| g.call(function, None))
            })
        })
    }

    /// `{"fn.x": {..some arguments..}, "->": {"Ok_": {..some fields..}}}`.
    pub(super) fn mock_stub(&mut self) -> Value {
        let schema = self.schema;
        let names = mockable_functions(schema);
        let index = self.random.next_int_below(names.len() as u32) as usize;
        let Some((id, function)) = names
            .get(index)
            .and_then(|name| schema.function_by_name(name))
        else {
            return Value::Object(Map::new());
        };
        let ok_fields = function.result.tags.get("Ok_").map(|tag| &tag.fields);
        self.within_scope(&function.name, |generator| {
            generator.with_required_fields_drawn(|generator| {
                let arguments = generator.within(Composite::Function(id), |g| {
                    Value::Object(g.fields(&function.args, None))
                });
                let ok = match ok_fields {
                    Some(fields) => generator.fields(fields, None),
                    None => Map::new(),
                };
                let mut result = Map::new();
                result.insert("Ok_".to_string(), Value::Object(ok));
                let mut stub = Map::new();
                stub.insert(function.name.clone(), arguments);
                stub.insert("->".to_string(), Value::Object(result));
                Value::Object(stub)
            })
        })
    }

    /// Runs `generate` with `_ext.Select_` values drawn from `function`'s result: a
    /// call's, stub's or link's selections select from its own function, as they are
    /// checked.
    pub(super) fn within_scope<T>(
        &mut self,
        function: &'a str,
        generate: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let outer = std::mem::replace(&mut self.scope, function);
        let out = generate(self);
        self.scope = outer;
        out
    }

    /// Runs `generate` flipping a coin for required fields too (and leaving them out
    /// once generation is tight), as calls and stubs may leave them out.
    fn with_required_fields_drawn<T>(&mut self, generate: impl FnOnce(&mut Self) -> T) -> T {
        let always = self.options.always_include_required_fields;
        self.options.always_include_required_fields = false;
        let out = generate(self);
        self.options.always_include_required_fields = always;
        out
    }
}
