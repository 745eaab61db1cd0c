//! Emits the server side: the `Handler` trait (one method per function of the user's
//! schema, internal ones included), the
//! handler `Context`, and the glue that routes a `Handler` through a `FunctionRouter`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::pieces::Chunks;
use crate::plan::{FunctionPlan, ItemId};

impl Emitter<'_> {
    /// The server side in chunks: the trait, the function's routes one by one, then
    /// the functions that register them.
    pub(crate) fn server(&self) -> Chunks<'_> {
        // Every function of the user's schema, internal ones too: the runtime answers
        // only the standard ones, and routes the rest to the handler.
        let handled = || self.plan.functions.iter().filter(|f| !f.standard);
        let route_impls = handled().map(|f| self.route_impl(f));
        Box::new(
            std::iter::once_with(move || self.handler_trait(handled()))
                .chain(route_impls)
                .chain(std::iter::once_with(move || self.registration(handled()))),
        )
    }

    fn handler_trait<'f>(&self, handled: impl Iterator<Item = &'f FunctionPlan>) -> TokenStream {
        let (request_headers, response_headers) = self.header_idents();
        let methods = handled.map(|f| self.handler_method(f));
        let handler_attributes = &self.options.handler_attributes;
        quote! {
            /// What a handler sees of a request besides its input: typed and raw headers,
            /// the extensions attached before routing (such as the caller's identity), and
            /// the response headers to send back.
            pub type Context = rt::Context<#request_headers, #response_headers>;

            /// The schema's functions, one method each (the server answers the protocol's own,
            /// `fn.ping_` and `fn.api_`, itself). Implement it and serve it
            /// with [`server_builder`], [`router`] or [`register`].
            #handler_attributes
            pub trait Handler: Send + Sync + 'static {
                #(#methods)*
            }
        }
    }

    fn registration<'f>(&self, handled: impl Iterator<Item = &'f FunctionPlan>) -> TokenStream {
        let routes: Vec<TokenStream> = handled.map(|f| self.route(f)).collect();
        let unused = routes
            .is_empty()
            .then(|| quote! { let _ = (router, handler); });
        let typed_auth = self.credentials_item().map(|id| {
            let auth = self.item_path(id);
            quote! { .typed_header::<#auth>("@auth_") }
        });
        quote! {
            /// Adds a route for every function of [`Handler`] to `router`.
            pub fn register<H: Handler>(router: &mut rt::FunctionRouter, handler: rt::Arc<H>) {
                #unused
                #(#routes)*
            }

            /// A router serving every function of [`Handler`] with `handler`.
            pub fn router<H: Handler>(handler: H) -> rt::FunctionRouter {
                let mut router = rt::FunctionRouter::new();
                register(&mut router, rt::Arc::new(handler));
                router
            }

            /// A server for [`schema`] whose functions `handler` serves; add the auth
            /// hook and middleware, then build it.
            pub fn server_builder<H: Handler>(handler: H) -> rt::ServerBuilder {
                rt::Server::builder(schema(), router(handler)) #typed_auth
            }
        }
    }

    fn handler_method(&self, function: &FunctionPlan) -> TokenStream {
        let fallback = format!(" Serves `{}`.", function.wire);
        let doc = doc_attrs(Some(function.doc.as_deref().unwrap_or(&fallback)));
        let method = ident(&function.method);
        let input = self.item_path(function.input);
        let output = self.item_path(function.output);
        // Paths the implementing crate can write as they are: rustc quotes this line
        // when an implementation is missing or does not match, and `rt` is this
        // module's private name for the runtime.
        let runtime = &self.options.runtime;
        quote! {
            #doc
            fn #method(
                &self,
                input: #input,
                context: &mut Context,
            ) -> impl ::std::future::Future<Output = Result<#output, #runtime::HandlerError>> + Send;
        }
    }

    /// Serving the function: its input type calls the handler's method.
    fn route_impl(&self, function: &FunctionPlan) -> TokenStream {
        let method = ident(&function.method);
        let input = self.item_path(function.input);
        let output = self.item_path(function.output);
        let (request, response) = self.header_idents();
        quote! {
            impl<H: Handler> rt::Route<H, #request, #response> for #input {
                fn serve(
                    handler: &H,
                    input: Self,
                    context: &mut Context,
                ) -> impl rt::Future<Output = Result<#output, rt::HandlerError>> + Send {
                    handler.#method(input, context)
                }
            }
        }
    }

    /// The decode-call-encode glue is the runtime's `route`, compiled once.
    fn route(&self, function: &FunctionPlan) -> TokenStream {
        let input = self.item_path(function.input);
        let (request, response) = self.header_idents();
        quote! {
            rt::route::<H, #input, #request, #response>(router, &handler);
        }
    }

    /// The type of `union.Auth_`, which the server reads `@auth_` into as a request
    /// is read, for the auth hook to take with `Headers::get_as`.
    fn credentials_item(&self) -> Option<ItemId> {
        self.plan
            .items
            .iter()
            .position(|item| item.key == "union.Auth_")
    }

    fn header_idents(&self) -> (Ident, Ident) {
        (
            self.item_ident(self.plan.request_headers),
            self.item_ident(self.plan.response_headers),
        )
    }
}
