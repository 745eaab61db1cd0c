//! What a typed client reads from a result: a tag its generated types know, or one a
//! newer server added.

use serde_json::{Map, Value};

use crate::logging::clipped;

/// The result of a typed call. The generated result enums stay exhaustive, so a handler
/// answers only the tags its schema declares and a new tag breaks a `match` at compile
/// time; a client, though, may talk to a newer server, and reads a tag its types do not
/// know as [`Reply::Unknown`] rather than failing the call. Handlers never return a
/// `Reply`, so the catch-all exists on the client side only.
///
/// It compares with the result enum directly: `assert_eq!(response.output,
/// MyShiftOutput::Ok(..))`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<Output> {
    /// A result the generated types know.
    Known(Output),
    /// A result tag the generated types do not know.
    Unknown(UnknownResult),
}

/// A result with a tag the client's generated types do not know, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownResult {
    /// The result tag, such as `ErrorOutOfFlour`.
    pub tag: String,
    /// The tag's payload.
    pub payload: Map<String, Value>,
}

impl<Output> Reply<Output> {
    /// The known result, or `None` for an unknown tag.
    pub fn known(self) -> Option<Output> {
        match self {
            Reply::Known(output) => Some(output),
            Reply::Unknown(_) => None,
        }
    }

    /// The known result by reference, or `None` for an unknown tag.
    pub fn as_known(&self) -> Option<&Output> {
        match self {
            Reply::Known(output) => Some(output),
            Reply::Unknown(_) => None,
        }
    }

    /// The known result, or the unknown one as an error (to use with `?`).
    ///
    /// # Errors
    ///
    /// The [`UnknownResult`], with its tag and payload, when the result is
    /// [`Reply::Unknown`].
    pub fn into_known(self) -> Result<Output, UnknownResult> {
        match self {
            Reply::Known(output) => Ok(output),
            Reply::Unknown(unknown) => Err(unknown),
        }
    }
}

impl<Output: PartialEq> PartialEq<Output> for Reply<Output> {
    fn eq(&self, other: &Output) -> bool {
        self.as_known() == Some(other)
    }
}

/// Names the tag clipped, as a log field holds it: the server's may be as long as its
/// answer.
impl std::fmt::Display for UnknownResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the result tag `{}` is not in the generated types",
            clipped(&self.tag)
        )
    }
}

impl std::error::Error for UnknownResult {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tag as long as an answer went whole into the error's text.
    #[test]
    fn an_unknown_tag_is_named_clipped() {
        let unknown = UnknownResult {
            tag: "T".repeat(100_000),
            payload: Map::new(),
        };
        let text = unknown.to_string();
        let clipped = format!("{}… (100000 bytes)", "T".repeat(128));
        let expected = format!("the result tag `{clipped}` is not in the generated types");
        assert!(text == expected, "{} bytes", text.len());
    }
}
