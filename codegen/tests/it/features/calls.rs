//! Typed calls of the feature schema's mock: selections, stubs and refused values.

use super::*;

fn node(label: &str, children: Vec<Node>, shape: Option<Shape>) -> Node {
    Node {
        label: label.into(),
        children,
        parent: None,
        next: None,
        shape: shape.map(Box::new),
    }
}

/// Scalars the schema accepts (`any` is not nullable).
fn scalars() -> Scalars {
    Scalars {
        anything: json!({}),
        ..Scalars::default()
    }
}

fn circle(radius: f64) -> Shape {
    Shape::Circle(ShapeCircle {
        center: Point { x: 1.0, y: 2.0 },
        radius,
    })
}

/// A typed selection trims the result, in the `Ok_` fields, a struct and a union's
/// tag wherever they appear, to what the same selection as a raw `@select_` leaves.
#[tokio::test]
async fn a_typed_selection_keeps_exactly_the_selected_fields() {
    let mock =
        Mock::with_options(telepact::mock::MockOptions::default().include_optional_fields(false))
            .unwrap();
    let input = EchoInput {
        scalars: scalars(),
        collections: None,
        keywords: None,
        tree: None,
        shape: circle(0.5),
        links: None,
    };
    let tree = node("root", vec![node("leaf", vec![], None)], Some(circle(2.0)));
    let output = EchoOk {
        scalars: scalars(),
        collections: None,
        keywords: None,
        tree: Some(tree),
        shape: circle(3.0),
        links: None,
    };
    mock.stub(input.clone(), EchoOutput::Ok(output))
        .await
        .unwrap();
    let selection = telepact::typed::Selection::<EchoInput>::new()
        .ok([select::EchoOk::Tree, select::EchoOk::Shape])
        .fields([select::Node::Label, select::Node::Children])
        .fields([select::Node::Shape])
        .fields([select::ShapeCircle::Radius]);
    let raw_select = json!({
        "->": {"Ok_": ["tree!", "shape"]},
        "struct.Node": ["label", "children", "shape!"],
        "union.Shape": {"Circle": ["radius"]}
    });
    assert_eq!(
        serde_json::to_value(selection.to_select()).unwrap(),
        raw_select
    );

    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let client = mock.client().with_headers(credentials);
    let selected = client
        .call_selected(input.clone(), &selection)
        .await
        .unwrap();
    assert_eq!(selected.tag, "Ok_");
    let expected = json!({
        "tree!": {
            "label": "root",
            "children": [{"label": "leaf", "children": []}],
            "shape!": {"Circle": {"radius": 2.0}}
        },
        "shape": {"Circle": {"radius": 3.0}}
    });
    assert_eq!(Value::Object(selected.payload.clone()), expected);
    assert_eq!(selected.ok(), Some(&selected.payload));

    let Value::Object(raw_select) = raw_select else {
        unreachable!()
    };
    let headers = RequestHeaders::default().with_select(telepact::typed::Select(raw_select));
    let raw = client.call_raw(input, headers).await.unwrap();
    assert_eq!(Value::Object(raw.into_body()), json!({"Ok_": expected}));
}

/// The enums name fields the schema has; whether a function's result can hold a struct
/// is the server's to check, as for a raw `@select_`.
#[tokio::test]
async fn a_struct_out_of_the_result_is_refused_by_the_server() {
    let mock = Mock::new().unwrap();
    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let selection = telepact::typed::Selection::<StatusInput>::new().fields([select::Point::X]);
    let selected = mock
        .client()
        .call_selected_with(StatusInput {}, &selection, credentials)
        .await
        .unwrap();
    assert_eq!(selected.tag, "ErrorInvalidRequestHeaders_");
    assert_eq!(
        Value::Object(selected.payload),
        json!({"cases": [{
            "path": ["@select_", "struct.Point"],
            "reason": {"ObjectKeyDisallowed": {}}
        }]})
    );
}

/// A stub or verification that leaves out a required argument, given as JSON: `id` is
/// required in `GetPointInput`, and `json!({})` matches every call.
#[tokio::test]
async fn stubs_and_verifications_may_match_part_of_an_argument_as_json() {
    use telepact::typed::{MockCallError, StubOptions, Times};

    let mock = Mock::new().unwrap();
    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let ok = GetPointOutput::Ok(GetPointOk {
        point: Point { x: 1.0, y: 2.0 },
    });
    mock.stub_matching::<GetPointInput>(json!({}), ok.clone(), StubOptions::default())
        .await
        .unwrap();
    let client = mock.client();
    for id in [1, 2] {
        let answer = client
            .get_point_with(GetPointInput { id }, credentials.clone())
            .await
            .unwrap();
        assert_eq!(answer.output, telepact::typed::Reply::Known(ok.clone()));
    }
    mock.verify_matching::<GetPointInput>(json!({}), Times::exactly(2))
        .await
        .unwrap();
    mock.verify_matching::<GetPointInput>(json!({"id": 2}), Times::exactly(1))
        .await
        .unwrap();
    // An argument the schema refuses is the mock's refusal, not a silent stub.
    let refused = mock
        .stub_matching::<GetPointInput>(json!({"id": "two"}), ok, StubOptions::default())
        .await;
    assert!(
        matches!(refused, Err(MockCallError::Refused { .. })),
        "{refused:?}"
    );
}

/// A call whose input holds NaN or an infinity is refused before it is sent, naming
/// where, in JSON and in binary: `serde_json` would have sent `null`, which a nullable
/// field takes.
#[tokio::test]
async fn a_call_holding_nan_is_refused_before_it_is_sent() {
    use telepact::typed::CallError;

    let mock = Mock::new().unwrap();
    for binary in [false, true] {
        let options = telepact::client::ClientOptions::default().binary(binary);
        let client = mock.client_with_options(options);
        let input = |radius: f64, maybe_ratio: Option<f64>| EchoInput {
            scalars: Scalars {
                maybe_ratio,
                ..scalars()
            },
            collections: None,
            keywords: None,
            tree: None,
            shape: circle(radius),
            links: None,
        };
        let refused = client.echo(input(1.0, Some(f64::INFINITY))).await;
        let Err(CallError::Encode { function, reason }) = refused else {
            panic!("not refused: {refused:?}");
        };
        assert_eq!(function, "fn.echo");
        assert_eq!(
            reason,
            "inf at .fn.echo.scalars.maybeRatio: JSON has no such number (it would be sent as null)"
        );
        let refused = client.echo(input(f64::NAN, None)).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("NaN at .fn.echo.shape.Circle.radius"),
            "{refused}"
        );
        client
            .echo(input(1.0, None))
            .await
            .expect("a finite call is sent");
    }
}

/// A stub holding NaN is refused, naming where: `serde_json` would have stubbed `null`.
#[tokio::test]
async fn a_stub_holding_nan_is_refused_naming_where() {
    use telepact::typed::MockCallError;

    let mock = Mock::new().unwrap();
    let nan = GetPointOutput::Ok(GetPointOk {
        point: Point {
            x: 1.0,
            y: f64::NAN,
        },
    });
    let refused = mock.stub(GetPointInput { id: 1 }, nan).await;
    let Err(MockCallError::Encode { function, reason }) = refused else {
        panic!("not refused: {refused:?}");
    };
    assert_eq!(function, "fn.getPoint");
    assert_eq!(
        reason,
        "NaN at .Ok_.point.y: JSON has no such number (it would be sent as null)"
    );
}

/// A typed client of the feature schema whose server answers every call with `answer`.
fn answering(answer: Value) -> Client {
    let bytes = json!([{}, answer]).to_string().into_bytes();
    Client::new(telepact::Client::new(move |_request: Vec<u8>| {
        let bytes = bytes.clone();
        async move { Ok::<_, telepact::client::TransportError>(bytes) }
    }))
}

/// The answer of `fn.echo` holding `scalars` and `collections`.
fn echo_answer(scalars: Value, collections: Value) -> Value {
    json!({"Ok_": {"scalars": scalars, "collections!": collections, "shape": {"Empty": {}}}})
}

fn scalars_wire(anything: Value) -> Value {
    json!({
        "flag": true, "count": 1, "ratio": 0.5, "label": "", "blob": "", "anything": anything,
        "maybeFlag": null, "maybeCount": null, "maybeRatio": null, "maybeLabel": null,
        "maybeBlob": null, "maybeAnything": null
    })
}

fn collections_wire(tables: Value) -> Value {
    json!({
        "list": [], "nullableItems": [], "map": {}, "nullableValues": {}, "grid": [],
        "index": {}, "tables": tables
    })
}

fn echo_input() -> EchoInput {
    EchoInput {
        scalars: scalars(),
        collections: None,
        keywords: None,
        tree: None,
        shape: Shape::Empty(ShapeEmpty {}),
        links: None,
    }
}

/// An answer the protocol's validator refuses is the typed caller's error, never a
/// value: `null` where `any` is not nullable, a struct written as an array, integers
/// past 64 bits. Keys the schema does not declare are no error: a newer server may add
/// fields to a result (a compatible change), and they are left out.
#[tokio::test]
async fn an_answer_the_validator_refuses_is_an_error_not_a_value() {
    use telepact::typed::{CallError, Reply, Response};

    let valid = echo_answer(scalars_wire(json!(1)), collections_wire(json!([{"k": 1}])));
    let refused_echoes = [
        echo_answer(scalars_wire(Value::Null), collections_wire(json!([]))),
        echo_answer(
            scalars_wire(json!(1)),
            collections_wire(json!([{"k": null}])),
        ),
    ];
    let output = answering(valid).echo(echo_input()).await.unwrap().output;
    assert!(
        matches!(output, Reply::Known(EchoOutput::Ok(_))),
        "{output:?}"
    );
    for answer in refused_echoes {
        let read = answering(answer.clone()).echo(echo_input()).await;
        assert!(
            matches!(read, Err(CallError::Decode(_))),
            "{answer}: {read:?}"
        );
    }
    let newer = json!({"Ok_": {"point": {"x": 1, "y": 2.0, "z": null}, "later": [null]}});
    let read = answering(newer).get_point(GetPointInput { id: 1 }).await;
    let Ok(Response {
        output: Reply::Known(GetPointOutput::Ok(ok)),
        ..
    }) = read
    else {
        panic!("a newer server's fields are not left out: {read:?}");
    };
    assert_eq!(ok.point, Point { x: 1.0, y: 2.0 });
    let as_array = json!({"Ok_": {"point": [1.0, 2.0]}});
    let read = answering(as_array).get_point(GetPointInput { id: 1 }).await;
    assert!(matches!(read, Err(CallError::Decode(_))), "{read:?}");
    for items in ["9223372036854775808", "18446744073709551616", "-1e30"] {
        let answer: Value =
            serde_json::from_str(&format!(r#"{{"Ok_": {{"items": [{items}]}}}}"#)).unwrap();
        let read = answering(answer).paginate(PaginateInput::default()).await;
        assert!(
            matches!(read, Err(CallError::Decode(_))),
            "{items}: {read:?}"
        );
    }
}

/// Response headers the validator refuses are the typed caller's error too: `null` for
/// `@id_` (`any`) or in `@warn_` read as values. A header the schema does not declare
/// is no error.
#[tokio::test]
async fn response_headers_the_validator_refuses_are_an_error_not_a_value() {
    use telepact::typed::CallError;

    let answered = |headers: Value| {
        let bytes = json!([headers, {"Ok_": {"point": {"x": 1, "y": 2}}}]).to_string();
        Client::new(telepact::Client::new(move |_request: Vec<u8>| {
            let bytes = bytes.clone().into_bytes();
            async move { Ok::<_, telepact::client::TransportError>(bytes) }
        }))
    };
    let read = answered(json!({"@id_": 7, "@warn_": [1], "@later": null}))
        .get_point(GetPointInput { id: 1 })
        .await
        .unwrap();
    assert_eq!(read.headers.id, Some(json!(7)));
    for headers in [json!({"@id_": null}), json!({"@warn_": [null]})] {
        let read = answered(headers.clone())
            .get_point(GetPointInput { id: 1 })
            .await;
        assert!(
            matches!(read, Err(CallError::Decode(_))),
            "{headers}: {read:?}"
        );
    }
}
