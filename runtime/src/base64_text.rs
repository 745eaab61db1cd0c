//! Base64 text, the JSON form of `bytes`: the standard alphabet, padded (RFC 4648 §4).
//! One engine reads and writes it everywhere, so that what the validator accepts is
//! what the typed `Bytes`, the binary encoding and the client's `@base64_` reading
//! decode.

use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};

/// Writes padded standard base64, and reads it with any bits past the last whole byte
/// (`AB==` as well as `AA==`), as [`is_base64`] accepts and the reference libraries
/// decode.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Whether `text` is padded standard base64 (the empty string is); exactly the texts
/// [`BASE64`] decodes.
pub(crate) fn is_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return false;
    }
    let body = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(bytes);
    body.iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn base64_needs_the_standard_alphabet_and_padding() {
        for good in ["", "YWJj", "AAEC", "YQ==", "YWI=", "+/+/", "AB==", "YWJ="] {
            assert!(is_base64(good), "{good}");
        }
        for bad in ["@not_base64", "YWJ", "YQ=", "Y===", "YW=j", "-_-_"] {
            assert!(!is_base64(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn what_is_base64_is_what_decodes(text in "[AB+/=_]{0,12}") {
            prop_assert_eq!(is_base64(&text), BASE64.decode(&text).is_ok(), "{}", text);
        }

        #[test]
        fn what_is_written_reads_back(bytes in prop::collection::vec(any::<u8>(), 0..32)) {
            let text = BASE64.encode(&bytes);
            prop_assert!(is_base64(&text));
            prop_assert_eq!(BASE64.decode(&text).ok(), Some(bytes));
        }
    }
}
