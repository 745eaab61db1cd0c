//! `fn.getPoint` gained the `NotFound` result; a match written before it no longer
//! compiles.

include!("../../../../tests/generated/features.rs");

use features::GetPointOutput;

fn describe(output: &GetPointOutput) -> &'static str {
    match output {
        GetPointOutput::Ok(_) => "ok",
        GetPointOutput::ErrorQuotaExceeded(_) => "slow down",
        GetPointOutput::ErrorUnauthenticated(_) | GetPointOutput::ErrorUnauthorized(_) => "denied",
        GetPointOutput::ErrorUnknown(_)
        | GetPointOutput::ErrorInvalidRequestHeaders(_)
        | GetPointOutput::ErrorInvalidRequestBody(_)
        | GetPointOutput::ErrorInvalidResponseHeaders(_)
        | GetPointOutput::ErrorInvalidResponseBody(_)
        | GetPointOutput::ErrorParseFailure(_) => "failed",
    }
}

fn main() {
    let _ = describe;
}
