//! What a value must be at a given place of a message, as the checking writer and reader
//! see it: a type, a struct's fields, a union's tags, or anything.

use telepact_schema::{TypeExpr, TypeKind};

use super::compiled::{Compiled, FieldSet, FunctionEntry, TagSet};
use super::value::I64_MIN_AS_F64;

/// What the value at hand must be.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect<'c> {
    /// A value of a type expression (structs and unions are resolved on use).
    Type(&'c TypeExpr),
    /// A struct's fields, or a union tag's payload.
    Fields(&'c FieldSet),
    /// A union value: one tag and its payload.
    Tags(&'c TagSet),
    /// Anything (`any`), with only the forms whose bytes do not depend on the path.
    Any,
}

impl<'c> Expect<'c> {
    #[inline]
    pub(crate) fn kind(self) -> Option<&'c TypeKind> {
        match self {
            Expect::Type(ty) => Some(&ty.kind),
            Expect::Fields(_) | Expect::Tags(_) | Expect::Any => None,
        }
    }

    /// Any value but `null` passes (`null` only where [`accepts_null`](Self::accepts_null)).
    #[inline]
    pub(crate) fn any(self) -> bool {
        matches!(
            self,
            Expect::Any
                | Expect::Type(TypeExpr {
                    kind: TypeKind::Any,
                    ..
                })
        )
    }

    /// `null` passes: a nullable type, or anywhere inside an `any` value (an `any` field
    /// itself takes `null` only when nullable, as the validator has it).
    #[inline]
    pub(crate) fn accepts_null(self) -> bool {
        match self {
            Expect::Type(ty) => ty.nullable,
            Expect::Any => true,
            Expect::Fields(_) | Expect::Tags(_) => false,
        }
    }

    #[inline]
    pub(crate) fn is(self, kind: &TypeKind) -> bool {
        self.any() || self.kind() == Some(kind)
    }

    #[inline]
    pub(crate) fn accepts_integer(self) -> bool {
        self.any() || matches!(self.kind(), Some(TypeKind::Integer | TypeKind::Number))
    }

    /// A float passes: finite (a value holds no NaN or infinity, which become `null`),
    /// under `any`, or for a `number` unless it is -2^63, which the validator takes for
    /// an integer literal out of range.
    #[inline]
    pub(crate) fn accepts_float(self, v: f64) -> bool {
        let number = self.kind() == Some(&TypeKind::Number) && v != I64_MIN_AS_F64;
        v.is_finite() && (self.any() || number)
    }

    /// A signed integer passes: every `i64` is in the protocol's range.
    #[inline]
    pub(crate) fn accepts_i64(self, _v: i64) -> bool {
        self.accepts_integer()
    }

    /// An unsigned integer passes: as an integer up to `i64::MAX`; past it, out of the
    /// protocol's range, only under `any`.
    #[inline]
    pub(crate) fn accepts_u64(self, v: u64) -> bool {
        if i64::try_from(v).is_ok() {
            self.accepts_integer()
        } else {
            self.any()
        }
    }

    /// The fields a struct value (or a tag's payload) must have.
    #[inline]
    pub(crate) fn fields(self, compiled: &'c Compiled) -> Option<&'c FieldSet> {
        match (self, self.kind()) {
            (Expect::Fields(fields), _) => Some(fields),
            (_, Some(TypeKind::Struct(id))) => Some(&compiled.structs[id.0 as usize].fields),
            _ => None,
        }
    }

    /// The function a link value (`{"fn.x": {..arguments..}}`) must call.
    #[inline]
    pub(crate) fn link(self, compiled: &'c Compiled) -> Option<&'c FunctionEntry> {
        match self.kind() {
            Some(TypeKind::FunctionLink(id)) => Some(compiled.function(*id)),
            _ => None,
        }
    }

    /// The tags a union value must pick from.
    #[inline]
    pub(crate) fn tags(self, compiled: &'c Compiled) -> Option<&'c TagSet> {
        match (self, self.kind()) {
            (Expect::Tags(tags), _) => Some(tags),
            (_, Some(TypeKind::Union(id))) => Some(&compiled.unions[id.0 as usize]),
            _ => None,
        }
    }
}
