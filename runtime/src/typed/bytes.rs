//! `bytes` values: raw bytes in Rust, base64 text in JSON.

use std::fmt;

use base64::Engine;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::base64_text::BASE64;

/// A Telepact `bytes` value. In JSON it is a standard, padded base64 string.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Bytes, E> {
        BASE64
            .decode(text)
            .map(Bytes)
            .map_err(|e| E::custom(format_args!("invalid base64: {e}")))
    }

    /// Binary formats (MessagePack) carry bytes as they are.
    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Bytes, E> {
        Ok(Bytes(bytes.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Bytes, E> {
        Ok(Bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::Bytes;

    #[test]
    fn bytes_are_base64_in_json() {
        let bytes = Bytes(b"hi!".to_vec());
        let json = serde_json::to_value(&bytes).unwrap();
        assert_eq!(json, serde_json::json!("aGkh"));
        assert_eq!(serde_json::from_value::<Bytes>(json).unwrap(), bytes);
    }

    /// The validator accepts base64 whose last character has bits past the last byte
    /// (`AB==`), as the reference libraries decode it: so does the typed value.
    #[test]
    fn bits_past_the_last_byte_are_read_as_the_validator_accepts_them() {
        let json = serde_json::json!("AB==");
        assert!(crate::base64_text::is_base64("AB=="));
        assert_eq!(
            serde_json::from_value::<Bytes>(json).unwrap(),
            Bytes(vec![0])
        );
    }

    #[test]
    fn invalid_base64_is_an_error() {
        assert!(serde_json::from_value::<Bytes>(serde_json::json!("%%")).is_err());
    }
}
