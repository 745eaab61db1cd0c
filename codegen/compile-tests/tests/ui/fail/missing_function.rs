//! The schema gained `fn.approveSpecial`; an implementation written before it no longer
//! compiles.

mod bakery {
    include!("../../../../tests/generated/bakery.rs");
}

use bakery::*;
use telepact::HandlerError;

struct Bakery;

impl Handler for Bakery {
    async fn my_shift(&self, _: MyShiftInput, _: &mut Context) -> Result<MyShiftOutput, HandlerError> {
        Err("closed".into())
    }
}

fn main() {
    let _ = bakery::router(Bakery);
}
