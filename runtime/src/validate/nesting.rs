//! How deep a message may nest. `serde_json` reads at most [`JSON_NESTING_LIMIT`] lists
//! and maps on a path from a message's root, and the MessagePack reader keeps to the
//! same number, so an answer nested deeper reaches no client: the server answers
//! `ErrorUnknown_` instead. Whether answers with a function's result tag can nest that
//! deep at all is worked out from the schema once, so most answers are never measured.

use serde_json::{Map, Value};
use telepact_schema::{Field, Schema, Tag, TypeExpr, TypeKind};

use super::JSON_NESTING_LIMIT;

/// How many lists and maps a message's body may open on any path, itself included:
/// the message's array is one more.
pub(crate) const BODY_LEVELS: u16 = JSON_NESTING_LIMIT - 1;

/// How many a header's value may open: the message's array and the headers' map are two.
const HEADER_LEVELS: u16 = JSON_NESTING_LIMIT - 2;

/// Whether `value` opens more than `levels` lists and maps on some path, itself counted.
/// Looks no deeper than `levels`, so a handler's value of any depth is measured in
/// bounded stack.
fn nests_deeper_than(value: &Value, levels: u16) -> bool {
    match value {
        Value::Array(items) => opens_too_many(items.iter(), levels),
        Value::Object(entries) => opens_too_many(entries.values(), levels),
        _ => false,
    }
}

/// Whether a list or map of `inside` opens more than `levels`, itself counted.
fn opens_too_many<'v>(mut inside: impl Iterator<Item = &'v Value>, levels: u16) -> bool {
    match levels.checked_sub(1) {
        None => true,
        Some(inner) => inside.any(|item| nests_deeper_than(item, inner)),
    }
}

/// Whether a body, `{tag: payload}`, nests deeper than a message carries.
pub(crate) fn body_nests_too_deep(body: &Map<String, Value>) -> bool {
    opens_too_many(body.values(), BODY_LEVELS)
}

/// Whether a body `{tag: {field: [items]}}` (`fn.api_`'s listing) nests deeper than a
/// message carries, measured without building it: the body, its payload and the list
/// take three levels, the list counted here.
pub(crate) fn list_answer_nests_too_deep(items: &[Value]) -> bool {
    opens_too_many(items.iter(), BODY_LEVELS - 2)
}

/// Whether `map` opens more than `levels` lists and maps on some path, itself counted:
/// whether it fits where an answer leaves it that many.
pub(crate) fn map_nests_deeper_than(map: &Map<String, Value>, levels: u16) -> bool {
    opens_too_many(map.values(), levels)
}

/// Whether a header's value nests deeper than a message carries.
pub(crate) fn header_nests_too_deep(value: &Value) -> bool {
    nests_deeper_than(value, HEADER_LEVELS)
}

/// The most lists and maps a value of each definition can open, counted up to one past
/// [`BODY_LEVELS`] (past that, how deep no longer matters): structs, then unions, then
/// calls (`{"fn.x": {arguments}}`, a field of type `fn.x`), in the schema's order.
pub(crate) struct Depths {
    levels: Vec<u16>,
    unions_from: usize,
    functions_from: usize,
}

/// Where depth is counted no further: deeper than any body may be.
const PAST: u16 = BODY_LEVELS + 1;

impl Depths {
    /// Works each definition out once its fields' definitions are (in the order of a
    /// topological sort). Definitions left over are on a cycle of definitions, or reach
    /// one: their values can nest without end.
    pub(crate) fn new(schema: &Schema) -> Self {
        let unions_from = schema.structs().len();
        let functions_from = unions_from + schema.unions().len();
        let count = functions_from + schema.functions().len();
        let mut depths = Depths {
            levels: vec![PAST; count],
            unions_from,
            functions_from,
        };
        let mut referrers = vec![Vec::new(); count];
        let mut waiting_on = vec![0usize; count];
        let mut hold = |definition: usize, fields: &mut dyn Iterator<Item = &Field>| {
            for held in fields.filter_map(|field| depths.held(&field.ty.kind)) {
                referrers[held].push(definition);
                waiting_on[definition] += 1;
            }
        };
        for (definition, s) in schema.structs().iter().enumerate() {
            hold(definition, &mut s.fields.values());
        }
        for (index, u) in schema.unions().iter().enumerate() {
            let mut fields = u.tags.values().flat_map(|tag| tag.fields.values());
            hold(unions_from + index, &mut fields);
        }
        for (index, f) in schema.functions().iter().enumerate() {
            hold(functions_from + index, &mut f.args.values());
        }
        let mut ready: Vec<usize> = (0..count).filter(|&d| waiting_on[d] == 0).collect();
        while let Some(definition) = ready.pop() {
            depths.levels[definition] = depths.of_definition(schema, definition);
            for &referrer in &referrers[definition] {
                waiting_on[referrer] -= 1;
                if waiting_on[referrer] == 0 {
                    ready.push(referrer);
                }
            }
        }
        depths
    }

    /// The levels of a value of `definition`, whose fields' definitions are worked out.
    fn of_definition(&self, schema: &Schema, definition: usize) -> u16 {
        if definition < self.unions_from {
            self.fields(schema.structs()[definition].fields.values())
        } else if definition < self.functions_from {
            let tags = schema.unions()[definition - self.unions_from].tags.values();
            tags.map(|tag| self.tag(tag)).max().unwrap_or(0)
        } else {
            let function = &schema.functions()[definition - self.functions_from];
            (1 + self.fields(function.args.values())).min(PAST)
        }
    }

    /// The definition a value of `kind` holds, past its lists and maps.
    fn held(&self, kind: &TypeKind) -> Option<usize> {
        match kind {
            TypeKind::Array(inner) | TypeKind::Object(inner) => self.held(&inner.kind),
            TypeKind::Struct(id) => Some(id.0 as usize),
            TypeKind::Union(id) => Some(self.unions_from + id.0 as usize),
            TypeKind::FunctionLink(id) => Some(self.functions_from + id.0 as usize),
            _ => None,
        }
    }

    /// Which result tags of function `index` can answer `{tag: {fields}}` opening more
    /// lists and maps than a body may: bit `i` for the tag at position `i`, and every
    /// tag past the 64th taken to.
    pub(crate) fn result_tags_past_limit(&self, schema: &Schema, index: usize) -> u64 {
        let tags = schema.functions()[index].result.tags.values().enumerate();
        let mut past = 0;
        for (position, tag) in tags.take(64) {
            if self.tag(tag) > BODY_LEVELS {
                past |= 1 << position;
            }
        }
        past
    }

    /// The levels of a tagged value, `{tag: {fields}}`: the tag's map and its payload.
    fn tag(&self, tag: &Tag) -> u16 {
        (1 + self.fields(tag.fields.values())).min(PAST)
    }

    /// The levels of a map of `fields`: itself and its deepest field.
    fn fields<'f>(&self, fields: impl Iterator<Item = &'f Field>) -> u16 {
        let deepest = fields.map(|field| self.of_type(&field.ty)).max();
        (1 + deepest.unwrap_or(0)).min(PAST)
    }

    fn of_type(&self, ty: &TypeExpr) -> u16 {
        let levels = match &ty.kind {
            TypeKind::Boolean
            | TypeKind::Integer
            | TypeKind::Number
            | TypeKind::String
            | TypeKind::Bytes => 0,
            // JSON of any shape.
            TypeKind::Any | TypeKind::Select | TypeKind::MockCall | TypeKind::MockStub => PAST,
            TypeKind::Array(inner) | TypeKind::Object(inner) => 1 + self.of_type(inner),
            TypeKind::Struct(id) => self.levels[id.0 as usize],
            TypeKind::Union(id) => self.levels[self.unions_from + id.0 as usize],
            TypeKind::FunctionLink(id) => self.levels[self.functions_from + id.0 as usize],
        };
        levels.min(PAST)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `fn.f`, whose `Ok_` holds a chain of `links` structs, the last holding `last`.
    fn chain_schema(links: usize, last: Value) -> Schema {
        let mut definitions = vec![json!({"fn.f": {}, "->": [{"Ok_": {"a": "struct.S1"}}]})];
        for link in 1..links {
            let next = format!("struct.S{}", link + 1);
            definitions.push(json!({format!("struct.S{link}"): {"a": next}}));
        }
        definitions.push(json!({format!("struct.S{links}"): {"a": last}}));
        let text = serde_json::to_string(&definitions).expect("JSON");
        Schema::from_text(&text).expect("the schema loads")
    }

    /// Whether `fn.f`'s `Ok_` can pass the limit.
    fn can_pass(schema: &Schema) -> bool {
        let index = schema.functions().iter().position(|f| f.name == "fn.f");
        let index = index.expect("fn.f");
        let tag = schema.functions()[index].result.tags.get_index_of("Ok_");
        Depths::new(schema).result_tags_past_limit(schema, index) >> tag.expect("Ok_") & 1 == 1
    }

    /// The answer a chain of `links` structs makes at its deepest: the body and its
    /// payload, then one map a link.
    fn deepest_body(links: usize) -> Map<String, Value> {
        let chain = (0..links).fold(json!(1), |inner, _| json!({"a": inner}));
        let Value::Object(body) = json!({"Ok_": {"a": chain}}) else {
            unreachable!("an object")
        };
        body
    }

    #[test]
    fn a_chain_of_types_can_pass_the_limit_exactly_when_its_deepest_answer_does() {
        let longest = usize::from(BODY_LEVELS) - 2;
        for links in [1, longest - 1, longest, longest + 1, longest + 40] {
            let passes = body_nests_too_deep(&deepest_body(links));
            assert_eq!(passes, links > longest, "{links} links");
            assert_eq!(
                can_pass(&chain_schema(links, json!("integer"))),
                passes,
                "{links} links"
            );
        }
    }

    #[test]
    fn json_of_any_shape_and_recursive_types_can_pass_the_limit() {
        assert!(can_pass(&chain_schema(1, json!("any"))));
        assert!(can_pass(&chain_schema(3, json!("struct.S1?"))));
        assert!(can_pass(&chain_schema(2, json!([{"string": "struct.S2"}]))));
        assert!(!can_pass(&chain_schema(3, json!([{"string": "boolean"}]))));
    }

    #[test]
    fn a_listing_nests_too_deep_exactly_when_its_body_does() {
        let levels = usize::from(BODY_LEVELS);
        for depth in [0, levels - 4, levels - 3, levels - 2, levels + 10] {
            let item = (0..depth).fold(json!(1), |inner, _| json!([inner]));
            let items = vec![json!({"struct.A": {}}), item];
            let Value::Object(body) = json!({"Ok_": {"api": items.clone()}}) else {
                unreachable!("an object")
            };
            assert_eq!(
                list_answer_nests_too_deep(&items),
                body_nests_too_deep(&body),
                "an item of {depth} levels"
            );
        }
        assert!(!list_answer_nests_too_deep(&[json!([[]])]));
        let deepest = (0..levels - 3).fold(json!(1), |inner, _| json!([inner]));
        assert!(!list_answer_nests_too_deep(std::slice::from_ref(&deepest)));
        assert!(list_answer_nests_too_deep(&[json!([deepest])]));
    }

    #[test]
    fn lists_and_maps_count_themselves_and_scalars_nothing() {
        assert!(!nests_deeper_than(&json!(1), 0));
        assert!(nests_deeper_than(&json!([]), 0));
        assert!(!nests_deeper_than(&json!([]), 1));
        assert!(nests_deeper_than(&json!({"a": [1, {}]}), 2));
        assert!(!nests_deeper_than(&json!({"a": [1, {}]}), 3));
        assert!(!nests_deeper_than(&json!([[[]], {}]), 3));
        assert!(nests_deeper_than(&json!([{}, [[]]]), 2));
    }
}
