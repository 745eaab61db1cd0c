//! Validation of messages against a schema, with the protocol's failure reasons.

mod compiled;
mod expect;
mod failure;
mod headers;
mod keys;
mod mock;
mod nesting;
mod possible_select;
pub(crate) mod read;
mod select;
mod value;
mod write;

pub(crate) use compiled::{Compiled, FieldSet, FunctionEntry, TagSet};
pub(crate) use failure::cases_json;
pub use failure::{MAX_VALIDATION_FAILURES, Reason, ValidationFailure};
pub(crate) use headers::{check_request_headers, check_response_headers};
pub(crate) use keys::MapKeys;
pub(crate) use nesting::{
    BODY_LEVELS, body_nests_too_deep, header_nests_too_deep, list_answer_nests_too_deep,
    map_nests_deeper_than,
};
pub(crate) use possible_select::possible_select;
pub(crate) use read::{JSON_NESTING_LIMIT, NotRead, read_checked, readable};
pub(crate) use select::{Selector, with_sorted_names};
pub(crate) use value::{AddedFields, Validator};
pub(crate) use write::{
    Expect, KeyText, NotWritten, write_result, write_result_binary, write_value,
};

/// Names in `result`'s `@base64_` header the bytes its body holds, read as `function`'s
/// result (replacing any header it had): a JSON answer's, from the body as it is sent.
pub(crate) fn name_result_bytes(
    compiled: &Compiled,
    function: telepact_schema::FunctionId,
    result: &mut crate::message::Message,
) {
    let entry = compiled.function(function);
    let mut validator = Validator::new(compiled, Some(function)).collecting_bytes();
    validator.check_union_map(&entry.result, result.body());
    let paths = validator.take_bytes_paths();
    drop(validator);
    result.headers.remove(crate::base64_paths::HEADER);
    paths.write_header(&mut result.headers);
}
