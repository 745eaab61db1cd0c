//! Feeds pairs of schema texts (split at the first `0xff`, a byte no schema text holds)
//! to the backwards-compatibility check: whatever two schemas load, comparing them
//! either way lists incompatibilities or none, never panics, and a schema is always
//! compatible with itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use telepact::schema::{Schema, compare};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |byte| *byte == 0xff);
    let (Some(old), Some(new)) = (parts.next(), parts.next()) else {
        return;
    };
    let load = |text: &[u8]| {
        std::str::from_utf8(text)
            .ok()
            .and_then(|text| Schema::from_text(text).ok())
    };
    let (Some(old), Some(new)) = (load(old), load(new)) else {
        return;
    };
    assert!(compare(&old, &old).is_empty(), "a schema breaks itself");
    assert!(compare(&new, &new).is_empty(), "a schema breaks itself");
    let _ = compare(&old, &new);
    let _ = compare(&new, &old);
});
