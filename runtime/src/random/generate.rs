//! Walks a type and draws its value from the [`RandomGenerator`], in the protocol's
//! order: struct fields and union tags by name, a `?` coin before a nullable value.
//! A blueprint (a partial value) is kept where it says something and completed where
//! it does not.

use std::borrow::Cow;

use base64::Engine;
use indexmap::IndexMap;
use serde_json::{Map, Value};
use telepact_schema::{Field, FunctionDef, FunctionId, Schema, Tag, TypeExpr, TypeKind};

use super::RandomGenerator;
use super::order::{FieldOrder, NameOrders};
use crate::base64_text::BASE64;
pub(super) use crate::budget::Composite;
use crate::budget::{Budget, GenerationLimits, Room};
use telepact_schema::ShortestDepths;

/// What a generated struct holds, and how much may be generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// Generate optional fields (`name!`) at all.
    pub include_optional_fields: bool,
    /// Flip a coin for each optional field (with `include_optional_fields`).
    pub randomize_optional_fields: bool,
    /// Always generate required fields; otherwise flip a coin for each.
    pub always_include_required_fields: bool,
    /// Bounds one generated value: past them generation turns tight (required fields
    /// only, empty collections, `null` where allowed, unions by their shortest tag).
    /// Within them, generation is the protocol's, draw for draw.
    pub limits: GenerationLimits,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            include_optional_fields: true,
            randomize_optional_fields: true,
            always_include_required_fields: true,
            limits: GenerationLimits::default(),
        }
    }
}

crate::__option_setters!(GenerateOptions {
    include_optional_fields: bool,
    randomize_optional_fields: bool,
    always_include_required_fields: bool,
    limits: GenerationLimits,
});

/// One generation: the schema, the sequence, and what was generated so far.
pub(crate) struct Generator<'a> {
    pub(super) schema: &'a Schema,
    /// How each definition ends soonest (for tight generation).
    depths: &'a ShortestDepths,
    pub(super) random: &'a mut RandomGenerator,
    pub(super) options: GenerateOptions,
    /// The function whose possible selects `_ext.Select_` values draw from.
    pub(super) scope: &'a str,
    budget: Budget,
    orders: NameOrders<'a>,
}

impl<'a> Generator<'a> {
    pub(crate) fn new(
        schema: &'a Schema,
        depths: &'a ShortestDepths,
        random: &'a mut RandomGenerator,
        options: GenerateOptions,
        scope: &'a str,
    ) -> Self {
        Generator {
            schema,
            depths,
            random,
            options,
            scope,
            budget: Budget::new(options.limits),
            orders: NameOrders::default(),
        }
    }

    /// How many values this generation has produced (see [`GenerationLimits::max_values`]).
    pub(crate) fn values_generated(&self) -> usize {
        self.budget.values()
    }

    /// Whether generation is still generous here (not past a limit).
    pub(super) fn generous(&self) -> bool {
        self.budget.room() == Room::Generous
    }

    /// A value of `ty`, completing `blueprint` when given.
    pub(crate) fn value(&mut self, ty: &TypeExpr, blueprint: Option<&Value>) -> Value {
        // A stub may give more values than the limits allow generated; counting them
        // would leave the fields it left out null, and its answer invalid.
        // A value drawn afresh whatever is given (see `kind`) is generated, and counted.
        let room = match blueprint {
            Some(_) if !drawn_afresh(&ty.kind) => self.budget.enter_given(),
            _ => self.budget.enter(),
        };
        let value = match (blueprint, room) {
            // A given null (valid only where the type is nullable) is the answer, for
            // every type: no draw, so the `any` and select rule below does not apply.
            (Some(Value::Null), _) => Value::Null,
            (Some(given), Room::Exhausted) => given.clone(),
            (None, Room::Exhausted) => Value::Null,
            (None, Room::Tight) if ty.nullable => Value::Null,
            (None, Room::Generous) if ty.nullable && self.random.next_boolean() => Value::Null,
            _ => self.kind(&ty.kind, blueprint),
        };
        self.budget.leave();
        value
    }

    fn kind(&mut self, kind: &TypeKind, blueprint: Option<&Value>) -> Value {
        let schema = self.schema;
        match (kind, blueprint) {
            // Every reference library draws these afresh even when given a value (a
            // stubbed `any` field included); keeping the given value would shift every
            // later draw of the sequence.
            (TypeKind::Any, _) => self.any(),
            (TypeKind::Select, _) => self.select(),
            (TypeKind::MockCall, _) => self.mock_call(),
            (TypeKind::MockStub, _) => self.mock_stub(),
            (TypeKind::Array(inner), Some(Value::Array(items))) => {
                let items = items.iter().map(|v| self.value(inner, Some(v))).collect();
                Value::Array(items)
            }
            (TypeKind::Object(inner), Some(Value::Object(entries))) => {
                let entries = entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.value(inner, Some(v))))
                    .collect();
                Value::Object(entries)
            }
            (TypeKind::Struct(id), Some(Value::Object(given))) => {
                let fields = &schema.struct_def(*id).fields;
                self.within(Composite::Struct(*id), |g| {
                    Value::Object(g.fields(fields, Some(given)))
                })
            }
            (TypeKind::Union(id), Some(Value::Object(given))) => {
                let tags = &schema.union_def(*id).tags;
                self.within(Composite::Union(*id), |g| g.union(tags, Some(given)))
            }
            (TypeKind::FunctionLink(id), Some(Value::Object(given))) => {
                let function = schema.function(*id);
                self.within_scope(&function.name, |g| {
                    g.within(Composite::Function(*id), |g| g.call(function, Some(given)))
                })
            }
            (_, Some(given)) => given.clone(),
            (_, None) => self.fresh(kind),
        }
    }

    /// A value of `kind` drawn without a blueprint.
    fn fresh(&mut self, kind: &TypeKind) -> Value {
        let schema = self.schema;
        match kind {
            TypeKind::Boolean => Value::Bool(self.random.next_boolean()),
            TypeKind::Integer => Value::from(self.random.next_int()),
            TypeKind::Number => Value::from(self.random.next_double()),
            TypeKind::String => Value::from(self.random.next_string()),
            TypeKind::Bytes => Value::String(BASE64.encode(self.random.next_bytes())),
            TypeKind::Array(inner) => {
                let length = self.collection_length();
                let items = (0..length).map(|_| self.value(inner, None)).collect();
                Value::Array(items)
            }
            TypeKind::Object(inner) => {
                let length = self.collection_length();
                let mut entries = Map::new();
                for _ in 0..length {
                    let key = self.random.next_string().to_string();
                    let value = self.value(inner, None);
                    entries.insert(key, value);
                }
                Value::Object(entries)
            }
            TypeKind::Struct(id) => {
                let fields = &schema.struct_def(*id).fields;
                self.within(Composite::Struct(*id), |g| {
                    Value::Object(g.fields(fields, None))
                })
            }
            TypeKind::Union(id) => {
                let tags = &schema.union_def(*id).tags;
                self.within(Composite::Union(*id), |g| g.union(tags, None))
            }
            TypeKind::FunctionLink(id) => {
                let function = schema.function(*id);
                self.within_scope(&function.name, |g| {
                    g.within(Composite::Function(*id), |g| g.call(function, None))
                })
            }
            TypeKind::Any => self.any(),
            TypeKind::Select => self.select(),
            TypeKind::MockCall => self.mock_call(),
            TypeKind::MockStub => self.mock_stub(),
        }
    }

    /// A random index below `len` (0 when empty).
    pub(crate) fn random_index(&mut self, len: usize) -> usize {
        self.random.next_int_below(len as u32) as usize
    }

    /// A random word.
    pub(crate) fn random_string(&mut self) -> &'static str {
        self.random.next_string()
    }

    /// The length of the next collection (0 once generation is tight).
    pub(crate) fn collection_length(&mut self) -> u32 {
        if !self.generous() {
            return 0;
        }
        // Items past the value budget would all be tight, and the options may ask for
        // millions: the first of them turns the rest of the value tight, and is the last.
        let left = u32::try_from(self.budget.values_left()).unwrap_or(u32::MAX);
        self.random
            .next_collection_length()
            .min(left.saturating_add(1))
    }

    /// Generates the payload of a definition that may recur.
    pub(super) fn within(
        &mut self,
        composite: Composite,
        generate: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        self.budget.enter_composite(composite);
        let value = generate(self);
        self.budget.leave_composite();
        value
    }

    fn any(&mut self) -> Value {
        match self.random.next_int_below(3) {
            0 => Value::Bool(self.random.next_boolean()),
            1 => Value::from(self.random.next_int()),
            _ => Value::from(self.random.next_string()),
        }
    }

    /// A struct's fields in name order: given ones completed, missing ones generated
    /// as the options say.
    pub(crate) fn fields(
        &mut self,
        fields: &'a IndexMap<String, Field>,
        given: Option<&Map<String, Value>>,
    ) -> Map<String, Value> {
        let generous = self.generous();
        let order = self.orders.of_fields(fields);
        // An optional field without a blueprint is drawn only then: the others are
        // visited alone, so a tight value of a wide struct costs its required fields.
        let visited = if generous && self.options.include_optional_fields {
            Cow::Borrowed(order.all.as_slice())
        } else {
            Cow::Owned(required_and_given(&order, fields, given))
        };
        let mut out = Map::new();
        for &position in visited.iter() {
            let field = &fields[position];
            let blueprint = given.and_then(|g| g.get(&field.key));
            // Asked again for each field: the fields before may have used up the
            // values, and each optional field kept past them would be tight, then cut.
            if blueprint.is_none() && !self.wants(field, self.generous()) {
                continue;
            }
            let value = self.value(&field.ty, blueprint);
            out.insert(field.key.clone(), value);
        }
        out
    }

    /// Whether a field without a blueprint is generated (drawing a coin when the
    /// options ask for one). Tight generation keeps the fields that must be there:
    /// required ones, unless they may be left out.
    fn wants(&mut self, field: &Field, generous: bool) -> bool {
        let options = self.options;
        if !field.optional {
            return options.always_include_required_fields
                || (generous && !self.random.next_boolean());
        }
        if !options.include_optional_fields || !generous {
            return false;
        }
        !(options.randomize_optional_fields && self.random.next_boolean())
    }

    /// `{tag: {..fields..}}`: the given tag completed, or a tag drawn by name order.
    pub(crate) fn union(
        &mut self,
        tags: &'a IndexMap<String, Tag>,
        given: Option<&Map<String, Value>>,
    ) -> Value {
        let (tag, payload) = match given.and_then(|g| g.iter().next()) {
            Some((name, payload)) => match tags.get(name) {
                Some(tag) => (tag, payload.as_object()),
                None => return Value::Object(given.cloned().unwrap_or_default()),
            },
            None => {
                let order = self.orders.of_tags(tags, self.depths);
                let index = if self.generous() {
                    self.random.next_int_below(order.sorted.len() as u32) as usize
                } else {
                    order.shortest
                };
                let Some(tag) = order.sorted.get(index).map(|&position| &tags[position]) else {
                    return Value::Object(Map::new());
                };
                (tag, None)
            }
        };
        self.tagged(&tag.name, &tag.fields, payload)
    }

    /// `{"fn.x": {..arguments..}}`: a function's call, `given`'s completed.
    pub(crate) fn call(
        &mut self,
        function: &'a FunctionDef,
        given: Option<&Map<String, Value>>,
    ) -> Value {
        let payload = match given.and_then(|g| g.iter().next()) {
            Some((name, payload)) if *name == function.name => payload.as_object(),
            Some(_) => return Value::Object(given.cloned().unwrap_or_default()),
            None => {
                // A call is a union of one tag, which the protocol draws all the same.
                if self.generous() {
                    self.random.next_int_below(1);
                }
                None
            }
        };
        self.tagged(&function.name, &function.args, payload)
    }

    /// `{tag: {..fields..}}`, `payload` completed.
    fn tagged(
        &mut self,
        tag: &str,
        fields: &'a IndexMap<String, Field>,
        payload: Option<&Map<String, Value>>,
    ) -> Value {
        let payload = self.fields(fields, payload);
        let mut out = Map::new();
        out.insert(tag.to_string(), Value::Object(payload));
        Value::Object(out)
    }

    /// A function's result, completing `given` (`{"Ok_": {..}}`).
    pub(crate) fn result(
        &mut self,
        function: FunctionId,
        given: Option<&Map<String, Value>>,
    ) -> Value {
        let schema = self.schema;
        self.union(&schema.function(function).result.tags, given)
    }
}

/// Whether values of `kind` are drawn afresh even when a blueprint gives one.
fn drawn_afresh(kind: &TypeKind) -> bool {
    matches!(
        kind,
        TypeKind::Any | TypeKind::Select | TypeKind::MockCall | TypeKind::MockStub
    )
}

/// The positions, in name order, of the required fields and of those `given` holds.
fn required_and_given(
    order: &FieldOrder,
    fields: &IndexMap<String, Field>,
    given: Option<&Map<String, Value>>,
) -> Vec<usize> {
    let mut positions = order.required.clone();
    let Some(given) = given.filter(|given| !given.is_empty()) else {
        return positions;
    };
    let optional = given
        .keys()
        .filter_map(|key| fields.get_index_of(key.as_str()))
        .filter(|&position| fields[position].optional);
    positions.extend(optional);
    positions.sort_by(|&a, &b| fields[a].key.cmp(&fields[b].key));
    positions
}

/// The first non-internal function by name (or the first function): where
/// `_ext.Select_` values outside a function draw their selection from.
pub(super) fn default_scope(schema: &Schema) -> String {
    let mut public: Vec<&str> = schema
        .functions()
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !name.ends_with('_'))
        .collect();
    public.sort_unstable();
    let mut all: Vec<&str> = schema.functions().iter().map(|f| f.name.as_str()).collect();
    all.sort_unstable();
    public
        .first()
        .or(all.first())
        .map_or_else(|| "fn.ping_".to_string(), |name| name.to_string())
}
