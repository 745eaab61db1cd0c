//! `refuse_serialize!`: the `Serializer` methods a partial serializer does not take, each
//! returning the given error. The serializers that read only a few forms (a map key as
//! text, a body's result tag) list what they refuse instead of writing each method out.

/// Writes the named `Serializer` methods, each returning `Err($error)`. The compound
/// ones need their associated types to be `serde::ser::Impossible`.
macro_rules! refuse_serialize {
    ($error:expr; $($method:ident),* $(,)?) => {
        $( $crate::serde_refuse::refuse_serialize!(@one $error; $method); )*
    };
    (@one $e:expr; serialize_bool) => { fn serialize_bool(self, _: bool) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_i8) => { fn serialize_i8(self, _: i8) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_i16) => { fn serialize_i16(self, _: i16) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_i32) => { fn serialize_i32(self, _: i32) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_i64) => { fn serialize_i64(self, _: i64) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_u8) => { fn serialize_u8(self, _: u8) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_u16) => { fn serialize_u16(self, _: u16) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_u32) => { fn serialize_u32(self, _: u32) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_u64) => { fn serialize_u64(self, _: u64) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_f32) => { fn serialize_f32(self, _: f32) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_f64) => { fn serialize_f64(self, _: f64) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_char) => { fn serialize_char(self, _: char) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_str) => { fn serialize_str(self, _: &str) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_bytes) => { fn serialize_bytes(self, _: &[u8]) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_none) => { fn serialize_none(self) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_unit) => { fn serialize_unit(self) -> Result<Self::Ok, Self::Error> { Err($e) } };
    (@one $e:expr; serialize_some) => {
        fn serialize_some<T: serde::Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_unit_struct) => {
        fn serialize_unit_struct(self, _: &'static str) -> Result<Self::Ok, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_unit_variant) => {
        fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<Self::Ok, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_newtype_struct) => {
        fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<Self::Ok, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_newtype_variant) => {
        fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<Self::Ok, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_seq) => {
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_tuple) => {
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_tuple_struct) => {
        fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_tuple_variant) => {
        fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_map) => {
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_struct) => {
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Self::Error> { Err($e) }
    };
    (@one $e:expr; serialize_struct_variant) => {
        fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Self::Error> { Err($e) }
    };
}

pub(crate) use refuse_serialize;
