//! The README's transports example.

// The example's `main` is public for its own crate (documented), not for this one.
#[allow(unreachable_pub)]
#[path = "../../examples/transports.rs"]
mod transports_example;

#[test]
fn the_transports_example_runs() {
    transports_example::main().expect("every call of the example is answered");
}
