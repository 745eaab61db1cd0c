//! The schemas the conformance vectors and the benchmark run against load into the
//! expected model.

use crate::common;

use telepact_schema::{Schema, TypeKind, TypeName};

fn load_dir(relative: &str) -> Option<Schema> {
    let dir = common::conformance_dir()?.join(relative);
    match Schema::from_dir(&dir) {
        Ok(schema) => Some(schema),
        Err(error) => panic!("{} failed to load:\n{error}", dir.display()),
    }
}

#[test]
fn example_schema_loads() {
    let Some(schema) = load_dir("schemas/example") else {
        return;
    };
    let (_, test) = schema.function_by_name("fn.test").expect("fn.test");
    assert!(!test.internal);
    for tag in [
        "Ok_",
        "ErrorExample",
        "ErrorUnknown_",
        "ErrorInvalidRequestBody_",
    ] {
        assert!(test.result.tags.contains_key(tag), "fn.test lacks {tag}");
    }
    let (_, ping) = schema.function_by_name("fn.ping_").expect("fn.ping_");
    assert!(ping.internal);
    assert!(ping.result.tags.contains_key("ErrorUnknown_"));
    assert!(!ping.result.tags.contains_key("ErrorExample"));
    assert!(!schema.has_auth());
    assert!(schema.request_headers().contains_key("@id_"));
    assert!(schema.response_headers().contains_key("@enc_"));
    assert_eq!(schema.names().get("_ext.Select_"), Some(&TypeName::Select));
    assert!(schema.full().len() > schema.original().len());
}

#[test]
fn auth_schema_adds_auth_definitions() {
    let Some(schema) = load_dir("schemas/auth") else {
        return;
    };
    assert!(schema.has_auth());
    let (_, test) = schema.function_by_name("fn.test").expect("fn.test");
    assert!(schema.requires_auth(test));
    assert!(test.result.tags.contains_key("ErrorUnauthenticated_"));
    let (_, api) = schema.function_by_name("fn.api_").expect("fn.api_");
    assert!(!schema.requires_auth(api));
    let auth = &schema.request_headers()["@auth_"];
    assert!(matches!(auth.ty.kind, TypeKind::Union(_)));
    let listed: Vec<String> = schema
        .original()
        .iter()
        .filter_map(|def| {
            def.as_object()?
                .keys()
                .find(|k| !k.starts_with(['/', '-', '$']))
                .cloned()
        })
        .collect();
    assert_eq!(
        listed,
        [
            "info.AuthExample",
            "errors.Auth_",
            "fn.test",
            "headers.Auth_",
            "union.Auth_"
        ]
    );
}

#[test]
fn binary_schema_loads() {
    assert!(load_dir("schemas/binary").is_none_or(|s| s.function_by_name("fn.ping_").is_some()));
}

#[test]
fn benchmark_schema_loads() {
    let Some(dir) = common::bench_data_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("benchmark.telepact.json")).expect("readable");
    let schema = Schema::from_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!schema.functions().is_empty());
}

#[test]
fn bakery_schema_loads_from_yaml() {
    let text = include_str!("../../../api/auth.telepact.yaml");
    let schema =
        Schema::from_documents([("auth.telepact.yaml", text)]).unwrap_or_else(|e| panic!("{e}"));
    assert!(schema.has_auth());
    let (_, shift) = schema.function_by_name("fn.myShift").expect("fn.myShift");
    assert!(schema.requires_auth(shift));
    assert_eq!(shift.result.tags["Ok_"].fields.len(), 3);
}
