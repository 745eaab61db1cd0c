//! The function router: function name → async handler of `Message -> Message`.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use foldhash::fast::RandomState;

use telepact_schema::{FunctionId, TypeExpr};

use crate::binary::{BinaryEncoding, Reader};
use crate::message::{CheckedCall, Message};
use crate::validate::{Compiled, FieldSet, NotRead};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a handler, middleware or hook may fail with. The server answers such a failure
/// with `ErrorUnknown_` and reports the error to its on-error hook.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One function's implementation, untyped.
pub trait Function: Send + Sync + 'static {
    /// Handles `request` and answers its result message.
    fn call(&self, request: Message) -> BoxFuture<'static, Result<Message, HandlerError>>;
}

impl<F, Fut> Function for F
where
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Message, HandlerError>> + Send + 'static,
{
    fn call(&self, request: Message) -> BoxFuture<'static, Result<Message, HandlerError>> {
        Box::pin(self(request))
    }
}

/// Reads a typed route's input from a request's payload, checked against the function's
/// arguments as it is read (see `validate::read`).
#[derive(Clone, Copy)]
pub(crate) struct ReadInput {
    /// From a binary request's MessagePack.
    pub(crate) binary: for<'a> fn(
        &mut Reader<'a>,
        &BinaryEncoding,
        &Compiled,
        &FieldSet,
    ) -> Result<CheckedCall, NotRead>,
    /// From a JSON request's payload text.
    pub(crate) json: fn(&str, &Compiled, &FieldSet) -> Result<CheckedCall, NotRead>,
}

/// Reads a request header's text into its typed value, checked against the type the
/// schema declares for it (see [`ServerBuilder::typed_header`]); `None` when it does not
/// fit.
///
/// [`ServerBuilder::typed_header`]: crate::ServerBuilder::typed_header
pub(crate) type ReadHeader = fn(&str, &Compiled, &TypeExpr) -> Option<TypedHeader>;

/// A header's typed value, as [`ReadHeader`] gives it.
pub(crate) type TypedHeader = Arc<dyn Any + Send + Sync>;

/// What the server needs to read typed routes' inputs from a request's bytes.
#[derive(Clone, Copy)]
pub(crate) struct TypedInputs<'s> {
    pub(crate) compiled: &'s Compiled,
    pub(crate) router: &'s FunctionRouter,
    /// The request's bytes, when the transport holds them shared.
    pub(crate) shared: Option<&'s Bytes>,
    /// Request headers read into typed values, by name.
    pub(crate) headers: &'s [(String, ReadHeader)],
}

impl<'s> TypedInputs<'s> {
    /// How to read the input of `function`, the arguments to check it against and the
    /// function's id, when the function is in the schema and its route is typed.
    #[inline]
    pub(crate) fn reader(&self, function: &str) -> Option<(ReadInput, &'s FieldSet, FunctionId)> {
        let read = self.router.input_reader(function)?;
        let id = self.compiled.function_id(function)?;
        Some((read, &self.compiled.function(id).args, id))
    }

    /// How header `name` is read into a typed value, if it is.
    #[inline]
    pub(crate) fn header_reader(&self, name: &str) -> Option<ReadHeader> {
        let mut readers = self.headers.iter();
        readers.find_map(|(reader_of, read)| (reader_of == name).then_some(*read))
    }

    /// `payload`, a part of the request, to keep: a slice of the shared bytes when the
    /// transport gave them, a copy otherwise.
    pub(crate) fn keep(&self, payload: &[u8]) -> Bytes {
        let within = |shared: &&Bytes| {
            let range = shared.as_ptr_range();
            range.start <= payload.as_ptr() && payload.as_ptr_range().end <= range.end
        };
        match self.shared.filter(within) {
            Some(shared) => shared.slice_ref(payload),
            None => Bytes::copy_from_slice(payload),
        }
    }
}

/// Routes a request to its function by the body's target (`fn.myShift`). Cheap to
/// clone: clones share the routes.
#[derive(Clone, Default)]
pub struct FunctionRouter {
    /// Looked up on every call by a caller-chosen name; never grown by one, so a fast
    /// seeded hash suffices.
    routes: Arc<HashMap<String, Arc<dyn Function>, RandomState>>,
    /// How typed routes read their input from a request's bytes, by function name.
    inputs: Arc<HashMap<String, ReadInput, RandomState>>,
    /// Set on the router a middleware sees when more middleware follows it: every call
    /// goes on down the chain instead of straight to a route.
    next: Option<Arc<dyn Function>>,
}

impl FunctionRouter {
    /// A router with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the implementation of `name` (`fn.myShift`).
    pub fn route(mut self, name: impl Into<String>, function: impl Function) -> Self {
        self.insert(name, function);
        self
    }

    /// Adds (or replaces) the implementation of `name` in place.
    pub fn insert(&mut self, name: impl Into<String>, function: impl Function) {
        let name = name.into();
        if self.inputs.contains_key(&name) {
            Arc::make_mut(&mut self.inputs).remove(&name);
        }
        Arc::make_mut(&mut self.routes).insert(name, Arc::new(function));
    }

    /// [`insert`](Self::insert) for a typed route, which reads its input with `read`.
    pub(crate) fn insert_typed(&mut self, name: &str, read: ReadInput, function: impl Function) {
        self.insert(name, function);
        Arc::make_mut(&mut self.inputs).insert(name.to_string(), read);
    }

    /// Merges another router's routes into this one.
    pub fn merge(mut self, other: FunctionRouter) -> Self {
        let routes = Arc::unwrap_or_clone(other.routes);
        let inputs = Arc::unwrap_or_clone(other.inputs);
        if !self.inputs.is_empty() {
            // A route of `other` replaces a typed route of the same name here.
            let inputs = Arc::make_mut(&mut self.inputs);
            inputs.retain(|name, _| !routes.contains_key(name));
        }
        Arc::make_mut(&mut self.routes).extend(routes);
        if !inputs.is_empty() {
            Arc::make_mut(&mut self.inputs).extend(inputs);
        }
        self
    }

    /// Whether some route is typed.
    #[inline]
    pub(crate) fn has_typed_routes(&self) -> bool {
        !self.inputs.is_empty()
    }

    /// How the typed route of `function` reads its input, if it is a typed route.
    #[inline]
    pub(crate) fn input_reader(&self, function: &str) -> Option<ReadInput> {
        if self.inputs.is_empty() {
            return None;
        }
        self.inputs.get(function).copied()
    }

    /// Whether a function is routed.
    pub fn contains(&self, name: &str) -> bool {
        self.routes.contains_key(name)
    }

    /// The names routed, in no order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// Calls the function the request names (through the middleware that follows,
    /// when this is the router a middleware was given).
    ///
    /// The function's own future, as it is: a middleware hands it on as its answer
    /// without wrapping (and boxing) it again.
    pub fn call(&self, request: Message) -> BoxFuture<'static, Result<Message, HandlerError>> {
        if let Some(next) = &self.next {
            return next.call(request);
        }
        match self.routes.get(request.target()) {
            Some(function) => function.call(request),
            None => {
                let error = format!("no route for function {:?}", request.target());
                Box::pin(std::future::ready(Err(error.into())))
            }
        }
    }
}

impl FunctionRouter {
    /// The same routes, with every call handed to `next` instead.
    pub(crate) fn through(&self, next: impl Function) -> FunctionRouter {
        FunctionRouter {
            routes: Arc::clone(&self.routes),
            inputs: Arc::clone(&self.inputs),
            next: Some(Arc::new(next)),
        }
    }
}

impl std::fmt::Debug for FunctionRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.routes.keys().collect();
        names.sort();
        f.debug_struct("FunctionRouter")
            .field("routes", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telepact_schema::Schema;

    /// A payload within the shared request is kept as a slice of it; any other is
    /// copied.
    #[test]
    fn a_payload_is_kept_as_a_slice_of_shared_bytes() {
        let compiled = Compiled::new(&Schema::from_text("[]").expect("loads"));
        let router = FunctionRouter::new();
        let request = Bytes::from_static(b"[{},{\"fn.x\":{\"a\":1}}]");
        let inputs = TypedInputs {
            compiled: &compiled,
            router: &router,
            shared: Some(&request),
            headers: &[],
        };
        let payload = &request[12..19];
        let kept = inputs.keep(payload);
        assert_eq!((&kept[..], kept.as_ptr()), (payload, payload.as_ptr()));
        let elsewhere = b"{\"a\":1}".to_vec();
        let copied = inputs.keep(&elsewhere);
        assert_eq!(&copied[..], &elsewhere[..]);
        assert_ne!(copied.as_ptr(), elsewhere.as_ptr());
        let unshared = TypedInputs {
            shared: None,
            ..inputs
        };
        assert_ne!(unshared.keep(payload).as_ptr(), payload.as_ptr());
    }
}
