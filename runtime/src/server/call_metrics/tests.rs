use telepact_schema::Schema;

use super::*;

#[test]
fn every_tag_a_server_answers_with_has_a_key_made_in_advance() {
    let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#)
        .expect("schema loads");
    let every_key = CallKeys::new(&Compiled::new(&schema), None);
    for function in [Some("fn.add"), Some("fn.ping_"), Some("fn.invented"), None] {
        let keys = every_key.function(function);
        for tag in [
            "Ok_",
            "ErrorUnknown_",
            "ErrorParseFailure_",
            "ErrorInvalidRequestHeaders_",
            "ErrorInvalidRequestBody_",
            "ErrorInvalidResponseHeaders_",
            "ErrorInvalidResponseBody_",
        ] {
            let key = keys.calls.get(tag).map(|series| &series.key);
            let labels: Option<Vec<_>> =
                key.map(|key| key.labels().map(|l| l.value().to_string()).collect());
            assert_eq!(
                labels,
                Some(vec![keys.function.to_string(), tag.to_string()]),
                "{function:?} {tag}"
            );
        }
    }
    assert_eq!(
        every_key.function(Some("fn.add")).function.as_ref(),
        "fn.add"
    );
    // Found by id as by name; `Ok_` first, every tag found.
    let compiled = Compiled::new(&schema);
    for name in ["fn.add", "fn.ping_", "fn.api_"] {
        let id = compiled.function_id(name);
        let known = every_key.function_known(id, name);
        assert_eq!(known.function.as_ref(), name);
        assert_eq!(known.result_at("Ok_"), Some(0), "{name}");
        let unknown_at = known.result_at("ErrorUnknown_").expect("a standard tag");
        assert_eq!(
            known
                .calls
                .get_index(unknown_at)
                .map(|(tag, _)| tag.as_str()),
            Some("ErrorUnknown_")
        );
        assert_eq!(known.result_at("ErrorNotInTheSchema"), None);
    }
    for keys in [&every_key.unknown, &every_key.unparsed] {
        assert_eq!(keys.result_at("Ok_"), Some(0));
    }
    assert_eq!(
        every_key.function_known(None, "fn.add").function.as_ref(),
        "fn.add"
    );
    assert_eq!(
        every_key.function(Some("fn.invented")).function.as_ref(),
        UNKNOWN_FUNCTION
    );
    assert_eq!(every_key.function(None).function.as_ref(), "");
}

#[test]
fn a_tag_the_schema_does_not_know_is_counted_under_its_own_name() {
    use metrics_util::debugging::DebuggingRecorder;

    let schema = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#)
        .expect("schema loads");
    let keys = CallKeys::new(&Compiled::new(&schema), None);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let call = CallMetrics {
        keys: keys.function(Some("fn.add")),
        result: "ErrorNotInTheSchema",
        request_bytes: 10,
        response_bytes: Some(20),
        started: Instant::now(),
    };
    call.record_to(&recorder, 0.5);
    let counted: Vec<Vec<String>> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == CALLS)
        .map(|(key, ..)| {
            key.key()
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect()
        })
        .collect();
    assert_eq!(counted, [["function=fn.add", "result=ErrorNotInTheSchema"]]);
}
