//! The names the generator gives where a schema's names meet Rust's, the prelude's or
//! the standard definitions'.

use super::*;

/// A schema's own `struct.Type`, `union.ParseFailure` and `fn.ping` live beside the
/// standard `union.Type_`, `union.ParseFailure_` and `fn.ping_`, which the runtime types.
#[test]
fn names_of_standard_definitions_are_free_for_the_schema() {
    use collisions::{ParseFailure, ParseFailureGarbled, PingInput, PingOk, PingOutput, Type};
    round_trip::<PingInput>(json!({"message": "hi"}));
    assert_eq!(
        round_trip::<PingOutput>(
            json!({"Ok_": {"kind": {"name": "t"}, "failure!": {"Garbled": {"at": 3}}}})
        ),
        PingOutput::Ok(PingOk {
            kind: Type { name: "t".into() },
            failure: Some(ParseFailure::Garbled(ParseFailureGarbled { at: 3 })),
        })
    );
    round_trip::<PingOutput>(json!({"ErrorParseFailure_": {"reasons": [{"JsonInvalid": {}}]}}));
    round_trip::<telepact::typed::standard::PingOutput>(json!({"Ok_": {}}));
    assert_eq!(
        <PingInput as telepact::typed::FunctionInput>::NAME,
        "fn.ping"
    );
}

/// Types named like the prelude's `Some` and `Ok` (values, not types, in the generated
/// impls' `Some(..)` and `Ok(..)`) and fields named like the impls' locals read and write.
#[test]
fn prelude_value_names_and_local_names_do_not_clash() {
    use collisions::{Ok as Outcome, OkErr, OkNone, Some as Record};
    let record = round_trip::<Record>(json!({
        "map": 1, "read": "r", "index!": true, "len": 2, "fields!": null, "serializer": 3
    }));
    assert_eq!(record.fields, Some(None));
    assert_eq!(record.index, Some(true));
    round_trip::<Record>(json!({"map": 1, "read": "r", "len": 2, "serializer": 3}));
    assert_eq!(
        round_trip::<Outcome>(json!({"None": {"payload": 4}})),
        Outcome::None(OkNone { payload: 4 })
    );
    assert_eq!(
        round_trip::<Outcome>(json!({"Err": {}})),
        Outcome::Err(OkErr {})
    );
}

/// `Self` and `self` take a `_` where Rust needs one (`Self_`, `self_`), and the names
/// built on them stay UpperCamelCase (`SelfMatch`, `SelfInput`), so users' builds do
/// not warn of them.
#[test]
fn names_like_self_are_escaped_and_stay_camel_case() {
    use collisions::{Self_, SelfInput, SelfMatch, SelfOk, SelfOutput};
    assert_eq!(
        round_trip::<SelfInput>(json!({"self": {"Match": {"crate": 1}}})),
        SelfInput {
            self_: Self_::Match(SelfMatch { crate_: 1 })
        }
    );
    assert_eq!(
        round_trip::<SelfOutput>(json!({"Ok_": {"matched": true}})),
        SelfOutput::Ok(SelfOk { matched: true })
    );
    round_trip::<Self_>(json!({"None": {}}));
}

/// An `errors.*` set whose name holds a dot is the schema's own, typed beside its other
/// types (not looked for among the standard ones), and a name with a letter beyond
/// ASCII keeps its ASCII letters.
#[test]
fn dotted_error_sets_and_names_beyond_ascii_are_typed() {
    use collisions::{CrMe, ErrorOvenCold, PingOutput};
    assert_eq!(
        round_trip::<PingOutput>(json!({"ErrorOvenCold": {"degrees": 40}})),
        PingOutput::ErrorOvenCold(ErrorOvenCold { degrees: 40 })
    );
    assert_eq!(
        round_trip::<CrMe>(json!({"sweet": true})),
        CrMe { sweet: true }
    );
}
