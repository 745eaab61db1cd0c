use serde_json::json;

use super::*;

fn tree(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

#[test]
fn marked_paths_merge_into_one_tree() {
    let mut paths = Base64Paths::default();
    paths.mark(["Ok_", "blob"]);
    paths.mark(["Ok_", "pages", "*"]);
    paths.mark(["Ok_", "doc", "Pdf", "data"]);
    assert_eq!(
        Value::Object(paths.as_map().clone()),
        json!({"Ok_": {"blob": true, "pages": {"*": true}, "doc": {"Pdf": {"data": true}}}})
    );
}

#[test]
fn an_empty_tree_writes_no_header() {
    let mut headers = Headers::new();
    Base64Paths::default().write_header(&mut headers);
    assert!(headers.is_empty());
}

#[test]
fn bytes_are_found_in_lists_maps_and_nested_objects() {
    let headers = tree(json!({"@base64_": {"Ok_": {
        "list": {"*": true}, "map": {"*": true}, "union": {"Two": {"data": true}}
    }}}));
    let body = tree(json!({"Ok_": {
        "list": ["AAE=", null], "map": {"k": "aGk="}, "union": {"Two": {"data": ""}}
    }}));
    let headers: Headers = headers.into();
    assert_eq!(check_marked_bytes(&headers, &body), Ok(()));
    let found = marked_bytes(&headers, &body).expect("fits");
    let at = |path: &[&str], bytes: &[u8]| MarkedBytes {
        path: path.iter().map(|p| p.to_string()).collect(),
        bytes: bytes.to_vec(),
    };
    assert_eq!(
        found,
        vec![
            at(&["Ok_", "list", "0"], &[0, 1]),
            at(&["Ok_", "map", "k"], b"hi"),
            at(&["Ok_", "union", "Two", "data"], b""),
        ]
    );
}

#[test]
fn a_header_that_does_not_fit_is_an_error() {
    let body = tree(json!({"Ok_": {"blob": "%%", "n": 1}}));
    let cases = [
        (json!({"Ok_": {"blob": true}}), "the value is not base64"),
        (json!({"Ok_": {"n": true}}), "the value is not a string"),
        (json!({"Ok_": {"gone": true}}), "the body has no such key"),
        (json!({"Ok_": true}), "the value is not a string"),
        (json!(true), "the header is not an object"),
    ];
    for (header, problem) in cases {
        let headers: Headers = tree(json!({ "@base64_": header })).into();
        let error = marked_bytes(&headers, &body).expect_err("does not fit");
        assert_eq!(error.problem, problem);
        assert_eq!(check_marked_bytes(&headers, &body), Err(error));
    }
}

/// A tree naming a list by `"*"` and by its key at each of ten levels names each of
/// its items 1,024 ways: the namings of a place are gathered once and shared by the
/// items, so the work is the header's size, whatever the list's length.
#[test]
fn a_list_named_many_ways_is_followed_once_per_item() {
    let (depth, count) = (10, 1_000);
    let mut body = Value::Array(vec![json!("AQ=="); count]);
    let mut header = json!({"*": true});
    for _ in 0..depth {
        body = json!({"a": body});
        header = json!({"*": header.clone(), "a": header});
    }
    let body = tree(json!({ "Ok_": body }));
    let header = json!({ "Ok_": header });
    let mut found = Vec::new();
    let mut walk = Walk::new(&header, Some(&mut found));
    assert_eq!(walk.run(&body), Ok(()));
    let namings: usize = walk.places.iter().map(|p| p.namings.len()).sum();
    fn nodes(tree: &Value) -> usize {
        1 + tree
            .as_object()
            .map_or(0, |tree| tree.values().map(nodes).sum())
    }
    // Followed once per way, the items alone were 1,024,000 visits.
    assert!(namings <= nodes(&header), "{namings} namings gathered");
    assert_eq!(found.len(), count, "each item found once");
}

/// A header as a server writes it names each place once: a body of many values is
/// followed well within the work it allows.
#[test]
fn a_servers_header_stays_within_the_work_allowed() {
    let item = json!({"id": 1, "name": "n", "data": "AQ==", "tags": ["a", "b"]});
    let body = tree(json!({"Ok_": {"items": vec![item; 10_000]}}));
    let header = json!({"Ok_": {"items": {"*": {"data": true}}}});
    let mut walk = Walk::new(&header, None);
    assert_eq!(walk.run(&body), Ok(()));
    // `Ok_`, `items`, and each item with its four entries.
    let values = 2 + 10_000 * 5;
    let allowed = WORK_FLOOR + WORK_PER_VALUE * values;
    assert!(walk.work_left > allowed * 3 / 4, "{} left", walk.work_left);
}

/// The server marks the places of every element under one `"*"`: an element whose
/// union tag, optional field or nullable value holds no bytes is passed over.
#[test]
fn below_a_wildcard_elements_without_a_named_place_are_passed_over() {
    let body = tree(json!({"Ok_": {
        "items": [{"One": {"data": "AQ=="}}, {"Two": {}}, null, {"Opt": {}}],
        "byName": {"a": {"data": "Ag=="}, "b": null, "c": {}}
    }}));
    let header = json!({"Ok_": {
        "items": {"*": {"One": {"data": true}, "Opt": {"data!": true}}},
        "byName": {"*": {"data": true}}
    }});
    let headers: Headers = tree(json!({ "@base64_": header })).into();
    let found = marked_bytes(&headers, &body).expect("fits");
    let bytes: Vec<&[u8]> = found.iter().map(|m| m.bytes.as_slice()).collect();
    assert_eq!(bytes, [&[1u8][..], &[2u8][..]]);
    assert_eq!(check_marked_bytes(&headers, &body), Ok(()));
    // Outside a wildcard the header still has to fit.
    let headers: Headers = tree(json!({"@base64_": {"Ok_": {"gone": {"data": true}}}})).into();
    let error = marked_bytes(&headers, &body).expect_err("does not fit");
    assert_eq!(error.problem, "the body has no such key");
}
