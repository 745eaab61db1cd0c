//! Header validation: every header needs the `@` prefix; declared ones need their type.

use telepact_schema::FunctionId;

use crate::message::Headers;

use super::compiled::{Compiled, HeaderSet};
use super::failure::{Reason, ValidationFailure};
use super::value::{Seg, Validator};

/// Validates request or response headers for `function`, in the headers' order.
pub(crate) fn check_headers(
    compiled: &Compiled,
    declared: &HeaderSet,
    headers: &Headers,
    function: Option<FunctionId>,
) -> Vec<ValidationFailure> {
    if headers.is_empty() {
        return Vec::new();
    }
    // A header checked as the request was read is not read into values to check again.
    let needs_check = |(name, value): (&str, Option<&_>)| {
        !name.starts_with('@') || value.is_some() && declared.get(name).is_some()
    };
    if !headers.unchecked().any(needs_check) {
        return Vec::new();
    }
    let mut validator = Validator::new(compiled, function);
    for (name, value) in headers.unchecked() {
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
