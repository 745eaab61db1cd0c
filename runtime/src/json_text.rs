//! Plain text inside JSON strings, found eight bytes at a time: where the reader of a
//! request's frame finds a string's end, and where the writer of an answer sees that a
//! string needs no escape.

/// Where the plain text at the start of `bytes`, inside a string, stops: at a quote, a
/// backslash or (with `control`) a control character. Eight bytes are looked at a
/// time, as `serde_json` does: a byte matches where subtracting one from its XOR with
/// the byte sought borrows. A borrow can carry into the bytes after a match, never
/// before it, so the lowest flagged byte is the first match.
pub(crate) fn string_stop(bytes: &[u8], control: bool) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let flags = |equal_to: u8, word: u64| {
        let xored = word ^ (ONES * u64::from(equal_to));
        xored.wrapping_sub(ONES) & !xored
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let mut found = flags(b'"', word) | flags(b'\\', word);
        if control {
            found |= word.wrapping_sub(ONES * 0x20) & !word;
        }
        let found = found & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let stops = |byte: &u8| matches!(*byte, b'"' | b'\\') || (control && *byte < 0x20);
    chunks.remainder().iter().position(stops).map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::string_stop;

    /// What `string_stop` finds, a byte at a time.
    fn first_stop(bytes: &[u8], control: bool) -> Option<usize> {
        let stops = |byte: &u8| matches!(*byte, b'"' | b'\\') || (control && *byte < 0x20);
        bytes.iter().position(stops)
    }

    #[test]
    fn each_stopping_byte_is_found_at_each_place() {
        for len in 0..=24 {
            for at in 0..len {
                for stop in [b'"', b'\\', 0x00, 0x1f] {
                    // Bytes around it that match nothing, high ones among them.
                    let mut bytes: Vec<u8> =
                        (0..len).map(|i| [b'a', 0x20, 0xa2, 0xdc][i % 4]).collect();
                    bytes[at] = stop;
                    for control in [false, true] {
                        let found = string_stop(&bytes, control);
                        assert_eq!(found, first_stop(&bytes, control), "{bytes:?} {control}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn finds_the_first_stop_as_a_byte_by_byte_scan(
            bytes in proptest::collection::vec(any::<u8>(), 0..40),
            control: bool,
        ) {
            prop_assert_eq!(string_stop(&bytes, control), first_stop(&bytes, control));
        }
    }
}
