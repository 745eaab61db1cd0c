//! Random values as the generated types: a definition's type, a function's argument or
//! its result, drawn as their JSON is and then read.

use serde::de::DeserializeOwned;
use serde_json::Value;
use telepact_schema::{TypeExpr, TypeKind, TypeName};

use super::{GenerateOptions, Generator, PreparedSchema, RandomGenerator};
use crate::typed::{Call, FunctionInput, SchemaType};

/// Why a value of a generated type could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TypedGenerateError {
    /// The schema drawn from has no such definition: the type was generated from
    /// another schema.
    #[error("`{0}` is not a definition of the schema drawn from")]
    NotInSchema(&'static str),
    /// The value drawn does not read as the type: the type was generated from another
    /// version of the schema, or generation was cut short by its
    /// [limits](super::GenerationLimits). `source()` says why.
    #[error("the value drawn for `{key}` does not read as its generated type")]
    Unreadable {
        /// The schema key drawn.
        key: &'static str,
        /// Why it does not read.
        #[source]
        source: serde_json::Error,
    },
}

impl RandomGenerator {
    /// A random value of a generated struct or union type, drawn as
    /// [`generate_from`](Self::generate_from) draws its schema type.
    ///
    /// ```ignore
    /// let schema = api::schema();
    /// let prepared = PreparedSchema::new(&schema);
    /// let mut random = RandomGenerator::new(0, 3);
    /// let item: api::Item = random.generate_as(&prepared, &GenerateOptions::default())?;
    /// ```
    ///
    /// # Errors
    ///
    /// - [`TypedGenerateError::NotInSchema`] when the schema drawn from has no struct or
    ///   union named `T::SCHEMA_KEY`.
    /// - [`TypedGenerateError::Unreadable`] when the value drawn does not read as the
    ///   generated type (generated from another version of the schema, or drawn short by
    ///   the [limits](super::GenerationLimits)).
    pub fn generate_as<T: SchemaType>(
        &mut self,
        prepared: &PreparedSchema<'_>,
        options: &GenerateOptions,
    ) -> Result<T, TypedGenerateError> {
        let kind = match prepared.schema().names().get(T::SCHEMA_KEY) {
            Some(TypeName::Struct(id)) => TypeKind::Struct(*id),
            Some(TypeName::Union(id)) => TypeKind::Union(*id),
            _ => return Err(TypedGenerateError::NotInSchema(T::SCHEMA_KEY)),
        };
        let ty = TypeExpr {
            kind,
            nullable: false,
        };
        read(T::SCHEMA_KEY, self.generate_from(prepared, &ty, options))
    }

    /// A random argument of `I`'s function, drawn as a field of type `fn.x` is.
    ///
    /// # Errors
    ///
    /// - [`TypedGenerateError::NotInSchema`] when the schema drawn from has no function
    ///   named `I::NAME`.
    /// - [`TypedGenerateError::Unreadable`] when the value drawn does not read as the
    ///   generated type (generated from another version of the schema, or drawn short by
    ///   the [limits](super::GenerationLimits)).
    pub fn generate_input<I: FunctionInput>(
        &mut self,
        prepared: &PreparedSchema<'_>,
        options: &GenerateOptions,
    ) -> Result<I, TypedGenerateError> {
        let id = function(prepared, I::NAME)?;
        let ty = TypeExpr {
            kind: TypeKind::FunctionLink(id),
            nullable: false,
        };
        let mut generator = self.generator(prepared, options, I::NAME);
        let call: Call<I> = read(I::NAME, generator.value(&ty, None))?;
        Ok(call.0)
    }

    /// A random result of `I`'s function: any of its tags, each as likely, the
    /// standard errors merged into every result included (`ErrorParseFailure_`,
    /// `ErrorInvalidRequestBody_`...). A mock answering a call no stub matches draws
    /// `Ok_` alone.
    ///
    /// # Errors
    ///
    /// As [`generate_input`](Self::generate_input).
    pub fn generate_output<I: FunctionInput>(
        &mut self,
        prepared: &PreparedSchema<'_>,
        options: &GenerateOptions,
    ) -> Result<I::Output, TypedGenerateError> {
        let id = function(prepared, I::NAME)?;
        let mut generator = self.generator(prepared, options, I::NAME);
        read(I::NAME, generator.result(id, None))
    }

    /// A generation whose `_ext.Select_` values select from `scope`'s results.
    fn generator<'a>(
        &'a mut self,
        prepared: &'a PreparedSchema<'_>,
        options: &GenerateOptions,
        scope: &'a str,
    ) -> Generator<'a> {
        Generator::new(prepared.schema(), &prepared.depths, self, *options, scope)
    }
}

/// The id of the function named `name` in the schema drawn from.
fn function(
    prepared: &PreparedSchema<'_>,
    name: &'static str,
) -> Result<telepact_schema::FunctionId, TypedGenerateError> {
    let found = prepared.schema().function_by_name(name);
    found
        .map(|(id, _)| id)
        .ok_or(TypedGenerateError::NotInSchema(name))
}

fn read<T: DeserializeOwned>(key: &'static str, value: Value) -> Result<T, TypedGenerateError> {
    serde_json::from_value(value).map_err(|source| TypedGenerateError::Unreadable { key, source })
}
