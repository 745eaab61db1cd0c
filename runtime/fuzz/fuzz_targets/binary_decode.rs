//! Feeds arbitrary MessagePack bodies to the binary request decoder, behind headers that
//! carry the right checksum (so decoding gets past the encoding check): it must decode
//! or refuse with a `ParseFailure`, never panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use telepact::binary::{MSGPACK_MESSAGE_MARKER, ServerBinary};
use telepact::schema::Schema;

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string?", "tags!": ["string"], "next!": "struct.Item?", "blob!": "bytes"}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}]},
  {"fn.echo": {"items": ["struct.Item"], "shape!": "union.Shape", "any!": "any"},
   "->": [{"Ok_": {"items": ["struct.Item"]}}]}
]"#;

fn binary() -> &'static ServerBinary {
    static BINARY: OnceLock<ServerBinary> = OnceLock::new();
    BINARY.get_or_init(|| ServerBinary::new(Schema::from_text(SCHEMA).expect("schema loads")))
}

/// `[{"@bin_": [checksum], "@pac_": packed}, <body>]` with `body` as given.
fn frame(checksum: i32, packed: bool, body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![MSGPACK_MESSAGE_MARKER, 0x82];
    bytes.push(0xa5);
    bytes.extend_from_slice(b"@bin_");
    bytes.extend_from_slice(&[0x91, 0xd2]);
    bytes.extend_from_slice(&checksum.to_be_bytes());
    bytes.push(0xa5);
    bytes.extend_from_slice(b"@pac_");
    bytes.push(if packed { 0xc3 } else { 0xc2 });
    bytes.extend_from_slice(body);
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let binary = binary();
    let _ = binary.decode_request(&frame(binary.checksum(), flags & 1 == 1, body));
    // The raw bytes as a whole message too: framing errors must be refusals as well.
    let _ = binary.decode_request(data);
});
