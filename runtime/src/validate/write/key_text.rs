//! Map keys as text: how the checked writer and a typed body's tag read a key.

use std::marker::PhantomData;

use serde::Serialize;
use serde::ser::{self, Impossible, Serializer};

use super::not_written;

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

    fn serialize_bool(self, _v: bool) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_i8(self, _v: i8) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_i16(self, _v: i16) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_i32(self, _v: i32) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_i64(self, _v: i64) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_u8(self, _v: u8) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_u16(self, _v: u16) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_u32(self, _v: u32) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_u64(self, _v: u64) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_f32(self, _v: f32) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_f64(self, _v: f64) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_char(self, _v: char) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_none(self) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_unit(self) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<R, E> {
        Err(not_written())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, E> {
        Err(not_written())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, E> {
        Err(not_written())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, E> {
        Err(not_written())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, E> {
        Err(not_written())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, E> {
        Err(not_written())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, E> {
        Err(not_written())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, E> {
        Err(not_written())
    }
}
