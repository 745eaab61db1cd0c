use super::*;
use crate::binary::convert::pack_to_json;
use proptest::prelude::*;
use rmpv::Value as Pack;

#[test]
fn a_declared_length_reserves_at_most_what_fits_and_never_past_the_cap() {
    assert_eq!(reserved(3, 100), 3);
    assert_eq!(reserved(u32::MAX as usize, 10), 10);
    assert_eq!(reserved(u32::MAX as usize, 1 << 20), MOST_RESERVED);
}

/// Maps nested as deep as a value may go, each claiming 2^32 entries, padded to a
/// megabyte: refused as truncated, having reserved little at each level (each level
/// reserved for all the bytes left before, gigabytes in all).
#[test]
fn nested_maps_claiming_huge_lengths_are_refused() {
    let mut bytes = Vec::new();
    for _ in 0..60 {
        bytes.extend_from_slice(&[0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, b'k']);
    }
    bytes.resize(1 << 20, 0xc0);
    let mut reader = Reader::new(&bytes);
    let read = reader.json(None, Depth(JSON_NESTING_LIMIT));
    assert!(read.is_err(), "{read:?}");
}

pub(in crate::binary) fn encoding() -> BinaryEncoding {
    BinaryEncoding::from_names(["fn.ping_", "Ok_", "items", "name"].map(String::from))
}

pub(in crate::binary) fn bytes_of(value: &Pack) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).unwrap();
    bytes
}

/// What the reader makes of `bytes`, and what decoding with `rmpv` then converting
/// makes of them.
fn both(bytes: &[u8]) -> (Result<Value, DecodeError>, Result<Value, DecodeError>) {
    let encoding = encoding();
    let direct = Reader::new(bytes).json(Some(&encoding), Depth(JSON_NESTING_LIMIT));
    let tree = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
    (direct, pack_to_json(tree, Some(&encoding)))
}

fn key() -> impl Strategy<Value = Pack> {
    prop_oneof![
        (0u64..6).prop_map(Pack::from),
        (-3i64..0).prop_map(Pack::from),
        "[a-z!]{0,6}".prop_map(Pack::from),
        Just(Pack::Boolean(true)),
        Just(Pack::Nil),
    ]
}

pub(in crate::binary) fn value() -> impl Strategy<Value = Pack> {
    let leaf = prop_oneof![
        Just(Pack::Nil),
        any::<bool>().prop_map(Pack::Boolean),
        any::<i64>().prop_map(Pack::from),
        any::<u64>().prop_map(Pack::from),
        any::<f32>().prop_map(Pack::F32),
        any::<f64>().prop_map(Pack::F64),
        ".{0,40}".prop_map(Pack::from),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Pack::Binary),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(kind, data)| Pack::Ext(kind, data)),
        // Not UTF-8.
        Just(Pack::String(rmpv::Utf8String::from(
            String::from_utf8_lossy(&[0xff]).into_owned()
        ))),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Pack::Array),
            prop::collection::vec((key(), inner), 0..8).prop_map(Pack::Map),
        ]
    })
}

proptest! {
    #[test]
    fn reads_what_rmpv_reads_and_converts(value in value()) {
        let bytes = bytes_of(&value);
        let (direct, converted) = both(&bytes);
        prop_assert_eq!(direct, converted);
        let mut reader = Reader::new(&bytes);
        prop_assert_eq!(reader.skip_value().unwrap(), &bytes[..]);
    }

    #[test]
    fn a_cut_value_is_refused_by_both(value in value(), cut in any::<prop::sample::Index>()) {
        let bytes = bytes_of(&value);
        let cut = cut.index(bytes.len());
        let rmpv_reads = rmpv::decode::read_value(&mut &bytes[..cut]).is_ok();
        prop_assert_eq!(Reader::new(&bytes[..cut]).skip_value().is_ok(), rmpv_reads);
    }
}

#[test]
fn invalid_utf8_is_refused_when_converted() {
    let bytes = [0xa1, 0xff];
    assert_eq!(Reader::new(&bytes).skip_value(), Ok(&bytes[..]));
    let direct = Reader::new(&bytes).json(None, Depth(JSON_NESTING_LIMIT));
    assert_eq!(direct, Err(DecodeError::InvalidUtf8));
}

#[test]
fn a_key_nested_past_the_limit_is_described_by_the_limit() {
    // {[[..nil..]]: nil}, the key nested deeper than `rmpv` reads on a test thread's
    // stack, unoptimised.
    let mut bytes = vec![0x81];
    bytes.extend(std::iter::repeat_n(0x91, 1_000));
    bytes.extend([0xc0, 0xc0]);
    let described = SyntaxError::TooDeep.to_string();
    let direct = Reader::new(&bytes).json(None, Depth(JSON_NESTING_LIMIT));
    assert_eq!(direct, Err(DecodeError::UnsupportedKey(described.clone())));
    let headers = Reader::new(&bytes).headers();
    assert_eq!(headers, Err(DecodeError::UnsupportedKey(described)));
}

#[test]
fn an_odd_key_is_described_as_rmpv_displays_it() {
    let map = Pack::Map(vec![(Pack::Array(vec![Pack::from(1)]), Pack::Nil)]);
    let (direct, converted) = both(&bytes_of(&map));
    assert_eq!(direct, Err(DecodeError::UnsupportedKey("[1]".into())));
    assert_eq!(direct, converted);
}

#[test]
fn a_huge_odd_key_is_described_clipped() {
    for key in [
        Pack::Binary(vec![7; 100_000]),
        Pack::Array(vec![Pack::Nil; 100_000]),
    ] {
        let map = Pack::Map(vec![(key, Pack::Nil)]);
        let (direct, converted) = both(&bytes_of(&map));
        let Err(DecodeError::UnsupportedKey(described)) = &direct else {
            panic!("refused: {direct:?}");
        };
        assert!(described.len() < 200, "{} bytes", described.len());
        assert!(described.ends_with(" bytes)"), "{described}");
        assert_eq!(direct, converted);
    }
}

/// A value of `depth` maps and lists, alternately, around `nil`: in MessagePack and
/// in JSON text.
fn nested(depth: usize) -> (Vec<u8>, String) {
    let (mut bytes, mut text) = (Vec::new(), String::new());
    for level in 0..depth {
        if level % 2 == 0 {
            bytes.push(0x91);
            text.push('[');
        } else {
            bytes.extend([0x81, 0xa1, b'a']);
            text.push_str("{\"a\":");
        }
    }
    bytes.push(0xc0);
    text.push_str("null");
    for level in (0..depth).rev() {
        text.push(if level % 2 == 0 { ']' } else { '}' });
    }
    (bytes, text)
}

#[test]
fn maps_and_lists_nest_as_deep_as_serde_json_reads_them() {
    for depth in [100, 126, 127, 128, 129, 511, 100_000] {
        let (bytes, text) = nested(depth);
        let json_reads = serde_json::from_str::<Value>(&text).is_ok();
        assert_eq!(json_reads, depth <= 127, "depth {depth}");
        let skipped = Reader::new(&bytes).skip_value();
        let read = Reader::new(&bytes).json(None, Depth(JSON_NESTING_LIMIT));
        assert_eq!(skipped.is_ok(), json_reads, "depth {depth}");
        assert_eq!(read.is_ok(), json_reads, "depth {depth}");
        if !json_reads {
            assert_eq!(skipped, Err(SyntaxError::TooDeep));
            assert_eq!(read, Err(SyntaxError::TooDeep.into()));
        }
    }
}

#[test]
fn the_frame_counts_as_a_level_of_its_items() {
    for depth in [124, 125, 126] {
        // [{}, {"a": [{"a": ..nil..}]}]: the frame, the body and `depth` more.
        let (value, text) = nested(depth);
        let mut bytes = vec![0x92, 0x80, 0x81, 0xa1, b'a'];
        bytes.extend(value);
        let text = format!("[{{}}, {{\"a\": {text}}}]");
        let json_reads = serde_json::from_str::<Value>(&text).is_ok();
        assert_eq!(json_reads, depth <= 125, "depth {depth}");

        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.array_len(), Ok(Some(2)));
        assert_eq!(reader.headers(), Ok(Headers::new()));
        let skipped = reader.skip_item();
        assert_eq!(skipped.is_ok(), json_reads, "depth {depth}");
        let mut reader = Reader::new(&bytes[2..]);
        assert_eq!(
            reader.json_object(None).is_ok(),
            json_reads,
            "depth {depth}"
        );
    }
}

#[test]
fn a_declared_length_allocates_nothing_the_bytes_cannot_hold() {
    // An array of 2^32 - 1 items in five bytes.
    let bytes = [0xdd, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        Reader::new(&bytes).skip_value(),
        Err(SyntaxError::UnexpectedEnd)
    );
    let direct = Reader::new(&bytes).json(None, Depth(JSON_NESTING_LIMIT));
    assert!(
        matches!(direct, Err(DecodeError::Malformed(_))),
        "{direct:?}"
    );
}
