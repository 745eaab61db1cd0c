//! An answer cannot make a client's reading of it cost far more than its size: a
//! hostile server's `@base64_` header, binary body or `@enc_` names are read within
//! bounds, or refused.

use std::time::{Duration, Instant};

use rmpv::Value as Pack;
use serde_json::{Map, Value, json};
use telepact::binary::DecodeError;
use telepact::binary::pack::PACKED_LIST_EXT;
use telepact::client::{ClientOptions, InvalidResponse, TransportError};
use telepact::{Client, ClientError, Message};

/// How long a client may take to read any answer below: a debug build reads each in
/// well under a tenth of it, and the costs these tests guard against took 8 to 18 s.
const CLIENT_READS_WITHIN: Duration = Duration::from_secs(2);

/// A client that gets `answer` for every request, in JSON or binary (`binary` asks for
/// binary; the answer is what it is).
fn client_answered(answer: Vec<u8>, binary: bool) -> Client {
    Client::with_options(
        move |_request: Vec<u8>| {
            let answer = answer.clone();
            async move { Ok::<_, TransportError>(answer) }
        },
        ClientOptions::default().binary(binary),
    )
}

/// A call of `fn.x` and how long its answer took to read.
async fn read_timed(client: &Client) -> (Result<Message, ClientError>, Duration) {
    let started = Instant::now();
    let response = client
        .request(Message::new(Default::default(), "fn.x", Default::default()))
        .await;
    (response, started.elapsed())
}

/// A hostile server's JSON answer whose `@base64_` tree names one list by `"*"` and by
/// its key at each of ten levels, 1,024 ways in all: the client walked the list once per
/// way, base64-decoding each item each time (a 171 KB answer took 18 s). Each item is
/// now checked once; the answer reads as fast as one naming the list one way.
#[tokio::test]
async fn a_base64_header_naming_one_list_many_ways_is_checked_once_per_item() {
    let (depth, count) = (10, 50_000);
    let mut body = Value::Array(vec![json!(""); count]);
    let mut many_ways = json!({"*": true});
    for _ in 0..depth {
        body = json!({ "a": body });
        many_ways = json!({"*": many_ways.clone(), "a": many_ways});
    }
    let answer = json!([{"@base64_": {"Ok_": many_ways}}, {"Ok_": body}]);
    let size = answer.to_string().len();
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    let response = response.expect("the header fits the body");
    assert_eq!(response.target(), "Ok_");
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A hostile server's JSON answer whose `@base64_` names 8,000 keys under a `"*"` and
/// 8,000 keys of its own, each beside the `"*"` (276 KB): the places under each own key
/// gathered every key of the `"*"`, 64 million in all, which held a client 100 s. The
/// keys a place names are looked up as its entries are met.
#[tokio::test]
async fn a_wide_wildcard_beside_many_keys_is_read_in_time() {
    let count = 8_000;
    let (mut every, mut header, mut body) = (Map::new(), Map::new(), Map::new());
    for index in 0..count {
        every.insert(format!("c{index}"), json!(true));
        header.insert(format!("k{index}"), json!({}));
        body.insert(format!("k{index}"), json!({}));
    }
    header.insert("*".into(), Value::Object(every));
    let answer = json!([{"@base64_": {"Ok_": header}}, {"Ok_": body}]);
    let size = answer.to_string().len();
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    assert_eq!(response.expect("the header fits the body").target(), "Ok_");
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A header naming one place 1,024 ways, whose body holds 40,000 keys there: each key
/// is looked up in every naming, 40 million lookups. A header a server writes names a
/// place once; past 16 namings followed for each list item and object entry the answer
/// is refused.
#[tokio::test]
async fn a_place_named_many_ways_with_many_keys_is_refused() {
    let mut body = Value::Object((0..40_000).map(|i| (format!("k{i}"), json!({}))).collect());
    let mut header = json!({});
    for _ in 0..10 {
        body = json!({ "a": body });
        header = json!({"*": header.clone(), "a": header});
    }
    let answer = json!([{"@base64_": {"Ok_": header}}, {"Ok_": body}]);
    let client = client_answered(answer.to_string().into_bytes(), false);
    let (response, took) = read_timed(&client).await;
    let Err(ClientError::InvalidResponse(InvalidResponse::Base64Header(refused))) = response else {
        panic!("not refused: {response:?}");
    };
    assert_eq!(
        refused.problem,
        "the header names the body's places too many ways"
    );
    assert!(took < CLIENT_READS_WITHIN, "refused in {took:?}");
}

fn write_pack(value: &Pack) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).expect("writes into memory");
    bytes
}

/// A binary answer `[{"@bin_": [1], "@enc_": enc}, body]`, as a hostile server sends it.
fn binary_answer(enc: Vec<(Pack, Pack)>, body: Pack) -> Vec<u8> {
    binary_answer_with(enc, body, false)
}

/// [`binary_answer`], its body packed (`@pac_`) when `packed`.
fn binary_answer_with(enc: Vec<(Pack, Pack)>, body: Pack, packed: bool) -> Vec<u8> {
    let mut headers = vec![
        (Pack::from("@bin_"), Pack::Array(vec![Pack::from(1)])),
        (Pack::from("@enc_"), Pack::Map(enc)),
    ];
    if packed {
        headers.push((Pack::from("@pac_"), Pack::from(true)));
    }
    write_pack(&Pack::Array(vec![Pack::Map(headers), body]))
}

/// A hostile server's binary answer of 200,000 empty binaries in a list 110 maps deep
/// (400 KB): the client named each binary's place in `@base64_` by copying its whole
/// path and walking the tree from the root, key by key, which took 8 s. Each place is
/// now named once, a list's items together.
#[tokio::test]
async fn a_deep_list_of_binaries_is_named_once_for_all_its_items() {
    let (depth, count) = (110, 200_000);
    let mut list = Pack::Array(vec![Pack::Binary(Vec::new()); count]);
    let mut named = json!({"*": true});
    for _ in 0..depth {
        list = Pack::Map(vec![(Pack::from("a"), list)]);
        named = json!({ "a": named });
    }
    let body = Pack::Map(vec![(Pack::from(0), list)]);
    let answer = binary_answer(vec![(Pack::from("Ok_"), Pack::from(0))], body);
    let size = answer.len();
    let (response, took) = read_timed(&client_answered(answer, true)).await;
    let response = response.expect("the answer decodes");
    assert_eq!(
        response.headers.get("@base64_"),
        Some(&json!({ "Ok_": named }))
    );
    assert!(took < CLIENT_READS_WITHIN, "{size} bytes read in {took:?}");
}

/// A binary answer whose `@enc_` names one field with a 32 KiB name (id 1), which the
/// body refers to `references` times: `{"Ok_": {name: [{name: null}, ...]}}`. Packed,
/// the list is a table whose header names the field once and whose rows hold its value.
fn long_name_answer(references: usize, packed: bool) -> Vec<u8> {
    let name = "n".repeat(32 * 1024);
    let list = if packed {
        let header = Pack::Array(vec![Pack::Nil, Pack::from(1)]);
        let rows = std::iter::repeat_n(Pack::Array(vec![Pack::Nil]), references);
        let table = [Pack::Ext(PACKED_LIST_EXT, Vec::new()), header];
        Pack::Array(table.into_iter().chain(rows).collect())
    } else {
        let item = Pack::Map(vec![(Pack::from(1), Pack::Nil)]);
        Pack::Array(vec![item; references])
    };
    let body = Pack::Map(vec![(
        Pack::from(0),
        Pack::Map(vec![(Pack::from(1), list)]),
    )]);
    let enc = vec![
        (Pack::from("Ok_"), Pack::from(0)),
        (Pack::from(name.as_str()), Pack::from(1)),
    ];
    binary_answer_with(enc, body, packed)
}

/// A hostile server's 63 KB binary answer referring 10,000 times by id to a 32 KiB
/// field name: each reference became its own copy of the name, 280 MB in all. The
/// names an answer's keys stand for may take 128 times its length and 1 MiB; past
/// that the answer is refused as undecodable, while a hundred references read. A
/// packed answer (30 KB: a row a reference) is held to the same budget.
#[tokio::test]
async fn field_names_referred_to_by_id_past_the_budget_are_refused() {
    for packed in [false, true] {
        let answer = long_name_answer(10_000, packed);
        let size = answer.len();
        let (response, _) = read_timed(&client_answered(answer, true)).await;
        let Err(ClientError::InvalidResponse(InvalidResponse::Body(refused))) = response else {
            panic!("{size} bytes (packed: {packed}) not refused: {response:?}");
        };
        assert!(
            matches!(refused, DecodeError::NamesPastBudget(limit) if limit == 128 * size + (1 << 20)),
            "packed: {packed}: {refused}"
        );
        let within = client_answered(long_name_answer(100, packed), true);
        let (response, _) = read_timed(&within).await;
        assert_eq!(response.expect("within the budget").target(), "Ok_");
    }
}

/// A binary answer marks bytes by their MessagePack type, so a `@base64_` header the
/// server sends with it names nothing: the client names the bytes it read, and only
/// those. The server's header was kept when the body held no bytes, naming a string
/// (`"AAAA"`) as bytes.
#[tokio::test]
async fn a_binary_answers_own_base64_header_is_not_taken() {
    let enc = Pack::Map(vec![
        (Pack::from("Ok_"), Pack::from(0)),
        (Pack::from("s"), Pack::from(1)),
        (Pack::from("b"), Pack::from(2)),
    ]);
    let answer = |fields: Vec<(Pack, Pack)>| {
        let headers = Pack::Map(vec![
            (Pack::from("@bin_"), Pack::Array(vec![Pack::from(1)])),
            (Pack::from("@enc_"), enc.clone()),
            (
                Pack::from("@base64_"),
                Pack::Map(vec![(
                    Pack::from("Ok_"),
                    Pack::Map(vec![(Pack::from("s"), Pack::from(true))]),
                )]),
            ),
        ]);
        let body = Pack::Map(vec![(Pack::from(0), Pack::Map(fields))]);
        write_pack(&Pack::Array(vec![headers, body]))
    };
    let string = (Pack::from(1), Pack::from("AAAA"));
    let bytes = (Pack::from(2), Pack::Binary(vec![1, 2, 3]));
    for (fields, named) in [
        (vec![string.clone()], None),
        (vec![string, bytes], Some(json!({"Ok_": {"b": true}}))),
    ] {
        let (response, _) = read_timed(&client_answered(answer(fields), true)).await;
        let response = response.expect("the answer decodes");
        assert_eq!(response.headers.get("@base64_"), named.as_ref());
        let marked = response.marked_bytes().expect("the header fits the body");
        assert!(
            marked.iter().all(|found| found.bytes == [1, 2, 3]),
            "{marked:?}"
        );
    }
}

/// A binary answer `[{"@bin_": [1], "@enc_": {"Ok_": 0, "xs": 1}}, {"Ok_": {"xs": [nil; count]}}]`,
/// or with the nils in a header of its own when `in_header`, written byte by byte.
fn nils_answer(count: usize, in_header: bool) -> Vec<u8> {
    let enc = vec![
        (Pack::from("Ok_"), Pack::from(0)),
        (Pack::from("xs"), Pack::from(1)),
    ];
    let mut headers = vec![
        (Pack::from("@bin_"), Pack::Array(vec![Pack::from(1)])),
        (Pack::from("@enc_"), Pack::Map(enc)),
    ];
    let mut nils = vec![0xdd];
    nils.extend(u32::try_from(count).expect("fits").to_be_bytes());
    nils.resize(nils.len() + count, 0xc0);
    let mut answer = vec![0x92];
    if in_header {
        headers.push((Pack::from("nils"), Pack::Nil));
        let written = write_pack(&Pack::Map(headers));
        // The last header's value, nil, becomes the list.
        answer.extend(&written[..written.len() - 1]);
        answer.extend(nils);
        answer.extend(write_pack(&Pack::Map(vec![(
            Pack::from(0),
            Pack::Map(Vec::new()),
        )])));
    } else {
        answer.extend(write_pack(&Pack::Map(headers)));
        answer.extend([0x81, 0x00, 0x81, 0x01]);
        answer.extend(nils);
    }
    answer
}

/// A binary answer of 8 MiB of nils, in the body or a header: each became a 32-byte
/// `serde_json::Value` (a 64 MiB answer, what `HttpTransport` reads, took 2 GB). The
/// values an answer decodes into may take 16 times its length and 64 MiB, as much as a
/// JSON answer's (`0,` becomes 32 bytes); past that it is refused before any is built,
/// while a MiB of nils reads.
#[tokio::test]
async fn a_binary_answer_decoding_far_past_its_size_is_refused() {
    for in_header in [false, true] {
        let answer = nils_answer(8 << 20, in_header);
        let size = answer.len();
        let (response, took) = read_timed(&client_answered(answer, true)).await;
        let Err(ClientError::InvalidResponse(InvalidResponse::DecodedPastBudget(limit))) = response
        else {
            panic!("{size} bytes (in a header: {in_header}) not refused: {response:?}");
        };
        assert_eq!(limit, 16 * size + (64 << 20));
        assert!(took < CLIENT_READS_WITHIN, "refused in {took:?}");
        let within = client_answered(nils_answer(1 << 20, in_header), true);
        let (response, _) = read_timed(&within).await;
        assert_eq!(response.expect("within the budget").target(), "Ok_");
    }
}
