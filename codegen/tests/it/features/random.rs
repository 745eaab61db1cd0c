//! Values drawn at random as the generated types.

use super::*;

/// Values drawn at random read as the generated types, and are exactly what an untyped
/// draw of the same seed makes; a function's argument and result are drawn typed too.
#[test]
fn random_values_draw_as_the_generated_types() {
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
    use telepact::typed::Call;

    let schema = features::schema();
    let prepared = PreparedSchema::new(&schema);
    let options = GenerateOptions::default();
    let seeded = |seed| {
        let mut random = RandomGenerator::new(0, 3);
        random.set_seed(seed);
        random
    };
    let mut tags = std::collections::BTreeSet::new();
    for seed in 0..100 {
        drawn_as::<Scalars>(&prepared, seed);
        drawn_as::<Envelope>(&prepared, seed);
        drawn_as::<Collections>(&prepared, seed);
        drawn_as::<Point>(&prepared, seed);
        drawn_as::<Node>(&prepared, seed);
        drawn_as::<Shape>(&prepared, seed);
        drawn_as::<Keywords>(&prepared, seed);
        drawn_as::<Links>(&prepared, seed);
        drawn_as::<Auth>(&prepared, seed);
        let input: EchoInput = seeded(seed).generate_input(&prepared, &options).unwrap();
        let call = telepact::schema::TypeExpr {
            kind: telepact::schema::TypeKind::FunctionLink(
                schema.function_by_name("fn.echo").unwrap().0,
            ),
            nullable: false,
        };
        let untyped = seeded(seed).generate_from(&prepared, &call, &options);
        assert_eq!(
            serde_json::to_value(Call(input)).unwrap(),
            untyped,
            "seed {seed}"
        );
        let output = seeded(seed).generate_output::<GetPointInput>(&prepared, &options);
        let output = serde_json::to_value(output.unwrap()).unwrap();
        tags.extend(output.as_object().unwrap().keys().cloned());
    }
    assert!(tags.contains("Ok_") && tags.len() > 2, "{tags:?}");
}

fn drawn_as<T: telepact::typed::SchemaType + Serialize>(
    prepared: &telepact::random::PreparedSchema<'_>,
    seed: i64,
) {
    use telepact::random::{GenerateOptions, RandomGenerator};
    use telepact::schema::{TypeExpr, TypeKind, TypeName};

    let options = GenerateOptions::default();
    let mut random = RandomGenerator::new(0, 3);
    random.set_seed(seed);
    let typed: T = random
        .generate_as(prepared, &options)
        .unwrap_or_else(|error| panic!("{} with seed {seed}: {error}", T::SCHEMA_KEY));
    let kind = match prepared.schema().names()[T::SCHEMA_KEY] {
        TypeName::Struct(id) => TypeKind::Struct(id),
        TypeName::Union(id) => TypeKind::Union(id),
        _ => unreachable!("a struct or union"),
    };
    random.set_seed(seed);
    let untyped = random.generate_from(
        prepared,
        &TypeExpr {
            kind,
            nullable: false,
        },
        &options,
    );
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        untyped,
        "{} with seed {seed}",
        T::SCHEMA_KEY
    );
}

/// A type of another schema is not drawn from this one.
#[test]
fn a_type_the_schema_lacks_is_not_drawn() {
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator, TypedGenerateError};

    let schema = collisions::schema();
    let prepared = PreparedSchema::new(&schema);
    let drawn =
        RandomGenerator::new(0, 3).generate_as::<Point>(&prepared, &GenerateOptions::default());
    assert!(
        matches!(drawn, Err(TypedGenerateError::NotInSchema("struct.Point"))),
        "{drawn:?}"
    );
}
