//! Telepact runtime.
