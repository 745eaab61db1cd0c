use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;

use super::*;

fn many(count: usize) -> Headers {
    (0..count).map(|i| (format!("@h{i}"), json!(i))).collect()
}

#[test]
fn insert_replaces_in_place_and_remove_keeps_the_order() {
    let mut headers = Headers::new();
    assert_eq!(headers.insert("@a", json!(1)), None);
    assert_eq!(headers.insert("@b".to_string(), json!(2)), None);
    assert_eq!(headers.insert("@c", json!(3)), None);
    assert_eq!(headers.insert("@a", json!(10)), Some(json!(1)));
    assert_eq!(headers.keys().collect::<Vec<_>>(), ["@a", "@b", "@c"]);
    assert_eq!(headers.remove("@b"), Some(json!(2)));
    assert_eq!(headers.remove("@b"), None);
    assert_eq!(headers.keys().collect::<Vec<_>>(), ["@a", "@c"]);
    assert_eq!(headers["@a"], json!(10));
    assert!(headers.contains_key("@c") && !headers.contains_key("@b"));
    *headers.get_mut("@c").unwrap() = json!("three");
    assert_eq!(headers.get("@c"), Some(&json!("three")));
}

#[test]
fn past_the_list_the_headers_move_into_an_index_and_behave_the_same() {
    for count in [LISTED - 1, LISTED, LISTED + 1, 3 * LISTED] {
        let mut headers = many(count);
        assert_eq!(headers.len(), count);
        assert_eq!(headers.get("@h0"), Some(&json!(0)));
        assert_eq!(headers.insert("@h0", json!("zero")), Some(json!(0)));
        let names: Vec<String> = (0..count).map(|i| format!("@h{i}")).collect();
        assert_eq!(headers.keys().collect::<Vec<_>>(), names);
        assert_eq!(headers.remove("@h1"), Some(json!(1)));
        assert_eq!(headers.keys().nth(1), names.get(2).map(String::as_str));
        headers.retain(|name, _| name != "@h0");
        assert_eq!(headers.len(), count - 2);
        assert_eq!(headers.iter().len(), count - 2);
    }
}

#[test]
fn json_round_trips_in_order_and_the_last_repeated_name_wins() {
    let headers: Headers = serde_json::from_str(r#"{"@b": 1, "@a": {"x": [1]}, "@b": 2}"#).unwrap();
    assert_eq!(headers.len(), 2);
    assert_eq!(headers["@b"], json!(2));
    assert_eq!(
        serde_json::to_string(&headers).unwrap(),
        r#"{"@b":2,"@a":{"x":[1]}}"#
    );
    let many: Headers = serde_json::from_value(Value::from(many(40))).unwrap();
    assert_eq!(many, self::many(40));
    assert!(serde_json::from_str::<Headers>("[1]").is_err());
}

#[test]
fn equal_whatever_the_order_and_convertible_to_and_from_a_map() {
    let one: Headers = [("@a", json!(1)), ("@b", json!(2))].into_iter().collect();
    let other: Headers = [("@b", json!(2)), ("@a", json!(1))].into_iter().collect();
    assert_eq!(one, other);
    assert_ne!(one, Headers::new());
    let map: Map<String, Value> = one.clone().into();
    assert_eq!(one, map);
    assert_eq!(Headers::from(map), other);
    assert_eq!(format!("{one:?}"), r#"{"@a": Number(1), "@b": Number(2)}"#);
}

#[test]
fn a_header_kept_as_checked_text_reads_as_the_value_it_spells() {
    let text = r#"{"Password": {"username": "ada", "password": "p\u00e4ss"}}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    let mut headers = Headers::new();
    headers.insert("@id_", json!(1));
    headers.insert_checked("@auth_".into(), Bytes::from(text), None);
    assert!(headers.contains_key("@auth_"));
    // Left to validation only while it is the checked text.
    let unchecked: Vec<_> = headers.unchecked().collect();
    assert_eq!(unchecked, [("@id_", Some(&json!(1))), ("@auth_", None)]);

    #[derive(Debug, Clone, PartialEq, Deserialize)]
    struct Password {
        username: String,
        password: String,
    }
    #[derive(Debug, Clone, PartialEq, Deserialize)]
    enum Auth {
        Password(Password),
    }
    let read = headers.get_as::<Auth>("@auth_").unwrap().unwrap();
    assert!(matches!(read, Cow::Owned(_)), "read from the text");
    let Auth::Password(password) = read.into_owned();
    assert_eq!(password.password, "päss");
    // A value read with the request is lent as it is.
    let mut typed = Headers::new();
    let given = Auth::Password(password.clone());
    typed.insert_checked(
        "@auth_".into(),
        Bytes::from(text),
        Some(Arc::new(given.clone())),
    );
    let lent = typed.get_as::<Auth>("@auth_").unwrap().unwrap();
    assert!(matches!(lent, Cow::Borrowed(auth) if *auth == given));
    assert_eq!(typed.get("@auth_"), Some(&value));
    assert!(headers.get_as::<Auth>("@none").is_none());
    assert!(headers.get_as::<bool>("@auth_").unwrap().is_err());

    assert_eq!(headers.get("@auth_"), Some(&value));
    let same: Headers = [("@id_", json!(1)), ("@auth_", value.clone())]
        .into_iter()
        .collect();
    assert_eq!(headers, same);
    assert_eq!(
        serde_json::to_value(&headers).unwrap(),
        Value::from(same.clone())
    );

    let mut changed = headers.clone();
    changed.get_mut("@auth_").unwrap()["Password"]["username"] = json!("bob");
    assert!(changed.unchecked().all(|(_, value)| value.is_some()));
    assert_eq!(changed["@auth_"]["Password"]["username"], json!("bob"));
    assert_eq!(headers.remove("@auth_"), Some(value));
}

#[test]
fn debug_names_the_credential_kind_not_the_credential() {
    let mut headers = Headers::new();
    headers.insert("@id_", json!("call-1"));
    headers.insert(
        "@auth_",
        json!({"Password": {"username": "lead-baker", "password": "opensesame"}}),
    );
    let message = crate::Message::new(headers.clone(), "fn.myShift", Default::default());
    for shown in [format!("{headers:?}"), format!("{message:?}")] {
        assert!(!shown.contains("opensesame"), "{shown}");
        assert!(!shown.contains("lead-baker"), "{shown}");
        assert!(shown.contains("Password(***)"), "{shown}");
        assert!(shown.contains("call-1"), "{shown}");
    }
    // A checked header kept as its text shows its kind alone too.
    let mut checked = Headers::new();
    let text = r#"{"Token": {"token": "t0k"}}"#;
    checked.insert_checked("@auth_".into(), Bytes::from(text), None);
    let shown = format!("{checked:?}");
    assert!(
        !shown.contains("t0k") && shown.contains("Token(***)"),
        "{shown}"
    );
    // A value that is no credential union still shows nothing of itself.
    let mut odd = Headers::new();
    odd.insert("@auth_", json!("opensesame"));
    assert_eq!(format!("{odd:?}"), r#"{"@auth_": ***}"#);
}
