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
pub(crate) use headers::check_headers;
pub(crate) use keys::MapKeys;
pub(crate) use nesting::{body_nests_too_deep, header_nests_too_deep, list_answer_nests_too_deep};
pub(crate) use possible_select::possible_select;
pub(crate) use read::{JSON_NESTING_LIMIT, NotRead, read_checked, readable};
pub(crate) use select::{Selector, with_sorted_names};
pub(crate) use value::Validator;
pub(crate) use write::{
    Expect, KeyText, NotWritten, write_result, write_result_binary, write_value,
};
