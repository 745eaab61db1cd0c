//! Telepact code generator.
