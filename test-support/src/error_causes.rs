//! The check that an error's chain shows each cause once.

use std::error::Error;

/// Asserts that `error` has a cause, and that neither it nor any of its causes writes
/// the text of a cause further down its chain (`source()`) into its own message. The
/// workspace's errors say only what failed at their own layer, so that a person reading
/// the chain (`ErrorChain`, `anyhow`'s `{:#}` and `{:?}`) sees each cause once. `name`
/// says which error a failure is about. A dependency's error in the chain is held to
/// the rule too (`rmpv`'s I/O errors, say, repeat their cause, which `ErrorChain` then
/// shows once): give errors whose dependencies' causes follow it.
///
/// # Panics
///
/// When `error` has no cause, or a message repeats a cause's text.
pub fn assert_causes_shown_once(name: &str, error: &(dyn Error + 'static)) {
    let mut layers = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(next) = cause {
        layers.push(next.to_string());
        cause = next.source();
    }
    assert!(layers.len() > 1, "{name}: has no cause to check: {error:?}");
    for (depth, text) in layers.iter().enumerate() {
        for below in &layers[depth + 1..] {
            assert!(
                below.is_empty() || !text.contains(below.as_str()),
                "{name}: the message {text:?} repeats its cause's {below:?}"
            );
        }
    }
}
