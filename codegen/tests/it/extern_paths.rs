//! Schema types mapped to hand-written Rust types (`extern_path`): the till schema's
//! generated code (`tests/generated/till.rs` and its parts, options in `snapshots::extern_path_schema`)
//! compiles against the types below without warnings, uses them wherever the schema
//! refers to the mapped types, derives only what they declare, and its wire form still
//! passes the schema's validation.

#![deny(warnings)]

include!("../generated/till.rs");

use std::hash::Hash;

use serde::{Deserialize, Serialize};
use serde_json::json;
use telepact_codegen::Error;
use telepact_schema::Schema;
use till::*;

use crate::common;

/// `struct.Money`, declared `Eq`, `Hash` and `Default`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub(crate) struct Money {
    pub(crate) cents: i64,
    pub(crate) currency: String,
}

/// `union.Shape`, with only the traits every mapped type needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Shape {
    Circle { radius: i64 },
    Square { side: i64 },
}

/// `struct.Route`: it holds the generated `Stop`, which holds a `Route` again, so it
/// boxes the `Stop` (the generator cannot see inside it to box `Stop::next`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Route {
    pub(crate) first: Box<Stop>,
}

fn euros(cents: i64) -> Money {
    Money {
        cents,
        currency: "EUR".into(),
    }
}

/// The generated module's text: its skeleton and every part it includes.
fn generated() -> String {
    let golden = common::manifest_dir().join("tests/generated");
    let parts = std::fs::read_dir(golden.join("till.parts")).unwrap();
    std::iter::once(golden.join("till.rs"))
        .chain(parts.map(|entry| entry.unwrap().path()))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect()
}

#[test]
fn mapped_types_are_used_and_not_defined() {
    let code = generated();
    for definition in ["struct Money", "enum Shape", "ShapeCircle", "struct Route"] {
        assert!(!code.contains(definition), "{definition} is generated");
    }
    // Compiles only if the fields hold the hand-written types.
    let stop = Stop {
        name: "depot".into(),
        next: Some(Route {
            first: Box::new(Stop::default()),
        }),
    };
    let input = QuoteInput {
        item: "bread".into(),
        budget: Some(euros(500)),
    };
    let headers = RequestHeaders::default().with_float(euros(2000));
    assert_eq!(headers.float, Some(euros(2000)));
    assert_eq!(input.budget, Some(euros(500)));
    assert!(stop.next.is_some());
}

#[test]
fn types_holding_mapped_types_derive_what_the_mapped_types_declare() {
    fn eq_hash_default<T: Eq + Hash + Default>() {}
    eq_hash_default::<Price>();
    eq_hash_default::<QuoteInput>();
    let code = generated();
    // `QuoteOk` derives its serde impls as well (an alias on `outline`).
    let quote_ok =
        ", rt::Serialize, rt::Deserialize)]\n#[serde(crate = \"rt::serde\")]\npub struct QuoteOk";
    for (name, end) in [("Badge", ")]\npub struct Badge"), ("QuoteOk", quote_ok)] {
        assert!(
            code.contains(&format!("#[derive(Debug, Clone, PartialEq{end}")),
            "{name}: {code}"
        );
    }
    // `Option<Route>` has a default whatever `Route` declares.
    assert!(code.contains("#[derive(Debug, Clone, PartialEq, Default)]\npub struct Stop {"));
}

#[tokio::test]
async fn hand_written_types_travel_through_the_validating_mock() {
    let mock = Mock::new().unwrap();
    let ok = QuoteOutput::Ok(QuoteOk {
        price: Price {
            amount: euros(250),
            note: Some("fresh".into()),
        },
        badge: Badge {
            shape: Shape::Circle { radius: 3 },
            label: "round".into(),
        },
        route: Some(Route {
            first: Box::new(Stop {
                name: "oven".into(),
                next: None,
            }),
        }),
        totals: [("today".to_string(), euros(1000))].into_iter().collect(),
        outline: Some(Shape::Square { side: 2 }),
        receipt: Receipt::Paid(ReceiptPaid {
            price: Price::default(),
            shapes: vec![Shape::Circle { radius: 1 }],
        }),
    });
    let input = QuoteInput {
        item: "bread".into(),
        budget: Some(euros(500)),
    };
    mock.stub(input.clone(), ok.clone()).await.unwrap();
    let headers = RequestHeaders::default().with_float(euros(2000));
    let response = mock.client().quote_with(input, headers).await.unwrap();
    assert_eq!(response.output, ok);
    assert_eq!(
        serde_json::to_value(Shape::Square { side: 2 }).unwrap(),
        json!({"Square": {"side": 2}})
    );
}

/// `struct.Price` has a `#[serde(alias)]` on a field (`snapshots::extern_path_schema`),
/// so it derives its serde impls and the alias reads; other types write theirs out.
#[test]
fn a_serde_attribute_keeps_serde_derive_for_its_type() {
    let code = generated();
    assert!(
        code.contains(
            "#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, rt::Serialize, rt::Deserialize)]\n\
             #[serde(crate = \"rt::serde\")]\npub struct Price {"
        ),
        "{code}"
    );
    assert!(code.contains("impl rt::DeserializeStruct for Stop {"));
    assert!(!code.contains("impl rt::DeserializeStruct for Price {"));
    let price: Price =
        serde_json::from_value(json!({"amount": {"cents": 5, "currency": "EUR"}, "remark": "r"}))
            .unwrap();
    assert_eq!(price.note.as_deref(), Some("r"));
    assert_eq!(
        serde_json::to_value(&price).unwrap(),
        json!({"amount": {"cents": 5, "currency": "EUR"}, "note!": "r"})
    );
}

/// `fn.quote`'s `Ok_` derives its serde impls too (an alias on `outline`), and reads
/// its required nullable `outline` as the written impls do: `null` is `None`, and left
/// out it is missing, as the validator has it.
#[test]
fn a_derived_required_nullable_field_left_out_is_refused() {
    let mut ok = json!({
        "price": {"amount": {"cents": 5, "currency": "EUR"}},
        "badge": {"shape": {"Circle": {"radius": 1}}, "label": "b"},
        "totals": {},
        "sketch": null,
        "receipt": {"Void": {}}
    });
    let read: QuoteOk = serde_json::from_value(ok.clone()).unwrap();
    assert_eq!(read.outline, None);
    ok.as_object_mut().unwrap().remove("sketch");
    let error = serde_json::from_value::<QuoteOk>(ok).unwrap_err();
    assert_eq!(error.to_string(), "missing field `outline`");
}

fn generate_till(builder: telepact_codegen::Builder) -> Result<String, Error> {
    builder.generate(&Schema::from_dir(common::till_dir()).unwrap(), "till")
}

#[test]
fn a_misconfigured_extern_path_names_its_option() {
    let error = |name: &str| {
        let builder = telepact_codegen::configure().extern_path(name, "crate::Money");
        generate_till(builder).unwrap_err().to_string()
    };
    assert_eq!(
        error("struct.Mony"),
        "invalid option extern_path(\"struct.Mony\", \"crate::Money\"): \
         the schema defines no `struct.Mony`; did you mean `struct.Money`?"
    );
    assert_eq!(
        error("union.Weather"),
        "invalid option extern_path(\"union.Weather\", \"crate::Money\"): \
         the schema defines no `union.Weather`"
    );
    assert_eq!(
        error("fn.quote"),
        "invalid option extern_path(\"fn.quote\", \"crate::Money\"): \
         only `struct.*` and `union.*` types can be mapped, not `fn.quote`"
    );
    assert_eq!(
        error("struct.ValidationFailure_"),
        "invalid option extern_path(\"struct.ValidationFailure_\", \"crate::Money\"): \
         `struct.ValidationFailure_` is a standard definition, typed in \
         `telepact::typed::standard`"
    );
    let attributed = telepact_codegen::configure()
        .extern_path("struct.Money", "crate::Money")
        .type_attribute("struct.Money", "#[derive(Hash)]");
    assert_eq!(
        generate_till(attributed).unwrap_err().to_string(),
        "invalid option type_attribute(\"struct.Money\", ..): \
         `struct.Money` is mapped by extern_path: nothing is generated for it"
    );
    let undeclared = telepact_codegen::configure()
        .extern_path("struct.Money", "crate::Money")
        .extern_traits("struct.Money", ["Ord"]);
    assert!(matches!(
        generate_till(undeclared),
        Err(Error::InvalidOption { .. })
    ));
}

#[test]
fn declared_traits_decide_the_derives_of_the_types_holding_a_mapped_union() {
    let badge_derives = |traits: &[&str]| {
        let builder = telepact_codegen::configure()
            .extern_path("union.Shape", "crate::Shape")
            .extern_traits("union.Shape", traits.iter().copied());
        let code = generate_till(builder).unwrap();
        let end = code.find("\n    pub struct Badge {").expect("Badge");
        let start = code[..end].rfind("#[derive(").expect("its derives");
        code[start..end].lines().next().unwrap().to_string()
    };
    assert_eq!(
        badge_derives(&["Default"]),
        "#[derive(Debug, Clone, PartialEq, Default)]"
    );
    // `Hash` counts only with `Eq`.
    assert_eq!(
        badge_derives(&["Hash"]),
        "#[derive(Debug, Clone, PartialEq)]"
    );
    assert_eq!(
        badge_derives(&["Eq", "Hash", "Default"]),
        "#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]"
    );
}
