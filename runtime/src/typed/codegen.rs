//! What generated code names through the runtime, gathered in one module that generated
//! modules import as `rt` (`use ::telepact::typed::__codegen as rt;`): an application
//! needs no direct dependency on serde or indexmap, and a schema's type names can never
//! shadow the ones the generated code relies on.
//!
//! Not part of the public API: it changes with the generator.

pub use std::fmt;
pub use std::future::Future;
pub use std::ops::Deref;
pub use std::sync::{Arc, OnceLock};

pub use serde::de::{MapAccess, VariantAccess};
pub use serde::{self, Deserialize, Deserializer, Serialize, Serializer};
pub use serde_json;

pub use super::client::{call, call_raw, call_selected, call_with};
pub use super::optional::deserialize_present;
pub use super::serde_glue::{
    DeserializeStruct, DeserializeUnion, StructWriter, deserialize_struct, deserialize_union,
    read_field, read_present, required, unknown_tag, write_struct,
};
pub use super::server::{Route, decode_request, encode_response, route};
pub use super::{
    Boxed, Bytes, Call, CallError, Context, FunctionInput, IndexMap, Mock, MockControl, Reply,
    Response, ResultField, SchemaType, Section, Select, SelectField, SelectedResponse, Selection,
    Value, standard,
};
pub use crate::client::ClientOptions;
pub use crate::mock::{MockError, MockOptions};
pub use crate::schema::Schema;
pub use crate::{
    Client, FunctionRouter, HandlerError, Headers, Message, Server, ServerBuilder, ValueValidator,
};

/// The schema a generated module embeds, loaded. The generator validated it, so it
/// loads unless the runtime is older than the generator.
///
/// # Panics
///
/// When the embedded schema does not load.
pub fn embedded_schema(module: &str, json: &str) -> Schema {
    match Schema::from_documents([(format!("{module}.telepact.json"), json)]) {
        Ok(schema) => schema,
        Err(error) => {
            panic!("the schema embedded in the generated module `{module}` does not load:\n{error}")
        }
    }
}
