//! Emits the server side: the `Handler` trait (one method per public function), the
//! handler `Context`, and the glue that routes a `Handler` through a `FunctionRouter`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::FunctionPlan;

impl Emitter<'_> {
    pub(crate) fn server(&self) -> TokenStream {
        let request_headers = self.item_ident(self.plan.request_headers);
        let response_headers = self.item_ident(self.plan.response_headers);
        let public: Vec<&FunctionPlan> =
            self.plan.functions.iter().filter(|f| !f.internal).collect();
        let methods = public.iter().map(|f| self.handler_method(f));
        let routes = public.iter().map(|f| self.route(f));
        let unused = public
            .is_empty()
            .then(|| quote! { let _ = (router, handler); });
        let handler_attributes = &self.options.handler_attributes;
        quote! {
            /// What a handler sees of a request besides its input: typed and raw headers,
            /// the extensions attached before routing (such as the caller's identity), and
            /// the response headers to send back.
            pub type Context = rt::Context<#request_headers, #response_headers>;

            /// The schema's public functions, one method each. Implement it and serve it
            /// with [`server_builder`], [`router`] or [`register`].
            #handler_attributes
            pub trait Handler: Send + Sync + 'static {
                #(#methods)*
            }

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
                rt::Server::builder(schema(), router(handler))
            }
        }
    }

    fn handler_method(&self, function: &FunctionPlan) -> TokenStream {
        let fallback = format!(" Serves `{}`.", function.wire);
        let doc = doc_attrs(Some(function.doc.as_deref().unwrap_or(&fallback)));
        let method = ident(&function.method);
        let input = self.item_path(function.input);
        let output = self.item_path(function.output);
        quote! {
            #doc
            fn #method(
                &self,
                input: #input,
                context: &mut Context,
            ) -> impl rt::Future<Output = Result<#output, rt::HandlerError>> + Send;
        }
    }

    fn route(&self, function: &FunctionPlan) -> TokenStream {
        let method = ident(&function.method);
        let input = self.item_path(function.input);
        let wire = &function.wire;
        quote! {
            let routed = rt::Arc::clone(&handler);
            router.insert(#wire, move |request: rt::Message| {
                let handler = rt::Arc::clone(&routed);
                async move {
                    let (input, mut context): (#input, Context) = rt::decode_request(request)?;
                    let output = handler.#method(input, &mut context).await?;
                    rt::encode_response(&output, context)
                }
            });
        }
    }
}
