//! `struct.Point` renamed its field `z` to `y`; a struct literal using the old name no
//! longer compiles.

include!("../../../../tests/generated/features.rs");

fn main() {
    let _ = features::Point { x: 1.0, z: 2.0 };
}
