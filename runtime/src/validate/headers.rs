//! Header validation: every header needs the `@` prefix; declared ones need their type.

use serde_json::Value;
use telepact_schema::FunctionId;

use crate::message::Headers;

use super::compiled::{Compiled, HeaderSet};
use super::failure::{Reason, ValidationFailure};
use super::value::{AddedFields, Seg, Validator};

/// Validates request headers for `function`, in the headers' order. A header checked
/// as the request was read is not read into values to check again.
pub(crate) fn check_request_headers(
    compiled: &Compiled,
    headers: &Headers,
    function: Option<FunctionId>,
) -> Vec<ValidationFailure> {
    check_headers(
        compiled,
        &compiled.request_headers,
        || headers.unchecked(),
        function,
        AddedFields::Refused,
    )
}

/// Validates response headers for `function`, in the headers' order. Every one is
/// checked, a request's header checked as it was read too (middleware echoing the
/// request's headers): that was a check against the request header's type, and the
/// schema may give the response header of that name another.
pub(crate) fn check_response_headers(
    compiled: &Compiled,
    headers: &Headers,
    function: FunctionId,
    added_fields: AddedFields,
) -> Vec<ValidationFailure> {
    let all = || headers.iter().map(|(name, value)| (name, Some(value)));
    check_headers(
        compiled,
        &compiled.response_headers,
        all,
        Some(function),
        added_fields,
    )
}

/// Validates `headers` (each value `None` when it needs no check of its type) against
/// `declared`.
fn check_headers<'h, I>(
    compiled: &Compiled,
    declared: &HeaderSet,
    headers: impl Fn() -> I,
    function: Option<FunctionId>,
    added_fields: AddedFields,
) -> Vec<ValidationFailure>
where
    I: Iterator<Item = (&'h str, Option<&'h Value>)>,
{
    let needs_check = |(name, value): (&str, Option<&_>)| {
        !name.starts_with('@') || value.is_some() && declared.get(name).is_some()
    };
    if !headers().any(needs_check) {
        return Vec::new();
    }
    let mut validator = Validator::new(compiled, function).with_added_fields(added_fields);
    for (name, value) in headers() {
        if !name.starts_with('@') {
            validator.fail(
                &[Seg::Key(name)],
                Reason::RequiredObjectKeyPrefixMissing { prefix: "@" },
            );
        }
        if let Some((ty, value)) = declared.get(name).zip(value) {
            validator.push(Seg::Key(name));
            validator.check_type(ty, value);
            validator.pop();
        }
    }
    validator.into_failures()
}
