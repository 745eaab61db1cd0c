//! A typed selection names fields by the generated enums: a field its type does not
//! have does not compile, nor does a field of another function's result.

include!("../../../../tests/generated/features.rs");

use features::{EchoInput, StatusInput, select};
use telepact::typed::Selection;

fn main() {
    let _ = Selection::<EchoInput>::new().fields([select::Point::Z]);
    let _ = Selection::<StatusInput>::new().ok([select::EchoOk::Tree]);
}
