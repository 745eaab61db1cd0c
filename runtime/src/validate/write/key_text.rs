//! Map keys as text: how the checked writer and a typed body's tag read a key.

use std::marker::PhantomData;

use serde::ser::{self, Impossible, Serializer};

use super::not_written;
use crate::serde_refuse::refuse_serialize;

/// Reads a map key that is a string (as every key of a JSON value is) and hands it to
/// the closure; any other key is left to the value path.
pub(crate) struct KeyText<F, E>(pub(crate) F, pub(crate) PhantomData<E>);

impl<F, R, E> Serializer for KeyText<F, E>
where
    F: FnOnce(&str) -> R,
    E: ser::Error,
{
    type Ok = R;
    type Error = E;
    type SerializeSeq = Impossible<R, E>;
    type SerializeTuple = Impossible<R, E>;
    type SerializeTupleStruct = Impossible<R, E>;
    type SerializeTupleVariant = Impossible<R, E>;
    type SerializeMap = Impossible<R, E>;
    type SerializeStruct = Impossible<R, E>;
    type SerializeStructVariant = Impossible<R, E>;

    fn serialize_str(self, v: &str) -> Result<R, E> {
        Ok((self.0)(v))
    }

    refuse_serialize!(not_written();
        serialize_bool, serialize_i8, serialize_i16, serialize_i32, serialize_i64,
        serialize_u8, serialize_u16, serialize_u32, serialize_u64, serialize_f32,
        serialize_f64, serialize_char, serialize_bytes, serialize_none, serialize_some,
        serialize_unit, serialize_unit_struct, serialize_unit_variant,
        serialize_newtype_struct, serialize_newtype_variant, serialize_seq, serialize_tuple,
        serialize_tuple_struct, serialize_tuple_variant, serialize_map, serialize_struct,
        serialize_struct_variant,
    );
}
