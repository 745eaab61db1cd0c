//! Feeds arbitrary text to the schema loader (JSON and YAML documents): it must load or
//! refuse with a `LoadError` that renders, never panic or hang.

#![no_main]

use libfuzzer_sys::fuzz_target;
use telepact::schema::Schema;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = Schema::from_text(text) {
        let _ = error.render(false);
    }
});
