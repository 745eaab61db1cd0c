//! Type expressions that differ only in where they allow `null`.

use super::written::written_type;
use crate::model::{Schema, TypeExpr, TypeKind};

/// How the places that allow `null` changed between two type expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NullChange {
    /// Nowhere: the expressions are the same.
    Unchanged,
    /// Some place allows `null` that did not, and none stopped.
    Allowed,
    /// Some place no longer allows `null`, and none started.
    Disallowed,
    /// Some places started and others stopped.
    Both,
}

impl NullChange {
    fn of(old_nullable: bool, new_nullable: bool) -> NullChange {
        match (old_nullable, new_nullable) {
            (false, true) => NullChange::Allowed,
            (true, false) => NullChange::Disallowed,
            _ => NullChange::Unchanged,
        }
    }

    fn and(self, other: NullChange) -> NullChange {
        match (self, other) {
            (NullChange::Unchanged, change) | (change, NullChange::Unchanged) => change,
            (first, second) if first == second => first,
            _ => NullChange::Both,
        }
    }
}

/// The change from `old` to `new` when it is only in where `null` is allowed (`T` to
/// `T?`, `["T?"]` to `["T"]`); `None` when the types themselves differ.
pub(super) fn null_change(
    old_schema: &Schema,
    old: &TypeExpr,
    new_schema: &Schema,
    new: &TypeExpr,
) -> Option<NullChange> {
    let here = NullChange::of(old.nullable, new.nullable);
    let inside = match (&old.kind, &new.kind) {
        (TypeKind::Array(old_item), TypeKind::Array(new_item))
        | (TypeKind::Object(old_item), TypeKind::Object(new_item)) => {
            null_change(old_schema, old_item, new_schema, new_item)?
        }
        (TypeKind::Array(_) | TypeKind::Object(_), _)
        | (_, TypeKind::Array(_) | TypeKind::Object(_)) => return None,
        (old_kind, new_kind) => {
            let bare = |kind: &TypeKind| TypeExpr {
                kind: kind.clone(),
                nullable: false,
            };
            if written_type(old_schema, &bare(old_kind))
                != written_type(new_schema, &bare(new_kind))
            {
                return None;
            }
            NullChange::Unchanged
        }
    };
    Some(here.and(inside))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(old: &str, new: &str) -> Option<NullChange> {
        let schema = |ty: &str| {
            let text = format!(
                r#"[{{"struct.A": {{}}}}, {{"struct.B": {{}}}}, {{"fn.f": {{"x": {ty}}}, "->": [{{"Ok_": {{}}}}]}}]"#
            );
            Schema::from_text(&text).unwrap()
        };
        let (old_schema, new_schema) = (schema(old), schema(new));
        let field = |schema: &Schema| {
            let id = match schema.names["fn.f"] {
                crate::model::TypeName::Function(id) => id,
                _ => unreachable!("fn.f is a function"),
            };
            schema.function(id).args["x"].ty.clone()
        };
        null_change(
            &old_schema,
            &field(&old_schema),
            &new_schema,
            &field(&new_schema),
        )
    }

    #[test]
    fn tells_where_null_started_or_stopped_being_allowed() {
        assert_eq!(
            change(r#""integer""#, r#""integer""#),
            Some(NullChange::Unchanged)
        );
        assert_eq!(
            change(r#""struct.A""#, r#""struct.A?""#),
            Some(NullChange::Allowed)
        );
        assert_eq!(
            change(r#"["integer?"]"#, r#"["integer"]"#),
            Some(NullChange::Disallowed)
        );
        assert_eq!(
            change(r#"{"string": ["boolean"]}"#, r#"{"string": ["boolean?"]}"#),
            Some(NullChange::Allowed)
        );
    }

    #[test]
    fn changes_in_both_directions_combine() {
        let both = NullChange::Allowed.and(NullChange::Disallowed);
        assert_eq!(both, NullChange::Both);
        assert_eq!(
            NullChange::Unchanged.and(NullChange::Allowed),
            NullChange::Allowed
        );
        assert_eq!(
            NullChange::Disallowed.and(NullChange::Disallowed),
            NullChange::Disallowed
        );
    }

    #[test]
    fn other_differences_are_not_null_changes() {
        assert_eq!(change(r#""integer""#, r#""number?""#), None);
        assert_eq!(change(r#""struct.A""#, r#""struct.B""#), None);
        assert_eq!(change(r#"["integer"]"#, r#"{"string": "integer"}"#), None);
        assert_eq!(change(r#"["integer"]"#, r#""integer""#), None);
    }
}
