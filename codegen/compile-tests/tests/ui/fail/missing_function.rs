//! The schema gained `fn.approveSpecial`; an implementation written before it no longer
//! compiles.

include!("../../../../tests/generated/api.rs");

use api::*;
use telepact::HandlerError;

struct Bakery;

impl Handler for Bakery {
    async fn my_shift(&self, _: MyShiftInput, _: &mut Context) -> Result<MyShiftOutput, HandlerError> {
        Err("closed".into())
    }
}

fn main() {
    let _ = api::router(Bakery);
}
