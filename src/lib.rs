//! The bakery shift board: Telepact's auth example, served by the Rust runtime.

pub mod identity_log;
pub mod staff;
