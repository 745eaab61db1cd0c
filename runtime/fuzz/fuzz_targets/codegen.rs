//! Feeds arbitrary schema texts to the code generator: whatever schema loads, it is
//! turned into Rust source, or refused with an error about the schema (two definitions
//! that would share a Rust name, say). It never panics, and never reports that its own
//! output does not parse: with no options given, that would be the generator's bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use telepact::schema::Schema;
use telepact_codegen::Error;

fuzz_target!(|data: &[u8]| {
    let Some(schema) = std::str::from_utf8(data)
        .ok()
        .and_then(|text| Schema::from_text(text).ok())
    else {
        return;
    };
    match telepact_codegen::configure().generate(&schema, "fuzz") {
        Ok(source) => assert!(source.contains("pub mod fuzz"), "no module in the source"),
        Err(Error::Unparsable(reason)) => panic!("the generated code does not parse: {reason}"),
        Err(_) => {}
    }
});
