//! Emits the server side: the `Handler` trait (one method per public function), the
//! handler `Context`, and the glue that routes a `Handler` through a `FunctionRouter`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::FunctionPlan;

impl Emitter<'_> {
    pub fn server(&self) -> TokenStream {
        let rt = &self.options.runtime;
        let request_headers = self.item_ident(self.plan.request_headers);
        let response_headers = self.item_ident(self.plan.response_headers);
        let public: Vec<&FunctionPlan> =
            self.plan.functions.iter().filter(|f| !f.internal).collect();
        let methods = public.iter().map(|f| self.handler_method(f));
        let routes = public.iter().map(|f| self.route(f));
        let allows = self.item_allows();
        let unused = public
            .is_empty()
            .then(|| quote! { let _ = (router, handler); });
        quote! {
            /// What a handler sees of a request besides its input: typed and raw headers,
            /// the extensions attached before routing (such as the caller's identity), and
            /// the response headers to send back.
            #allows
            pub type Context = #rt::typed::Context<#request_headers, #response_headers>;

            /// The schema's public functions, one method each. Implement it and serve it
            /// with [`router`] or [`register`].
            #allows
            pub trait Handler: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#methods)*
            }

            /// Adds a route for every function of [`Handler`] to `router`.
            #allows
            pub fn register<H: Handler>(router: &mut #rt::FunctionRouter, handler: ::std::sync::Arc<H>) {
                #unused
                #(#routes)*
            }

            /// A router serving every function of [`Handler`] with `handler`.
            #allows
            pub fn router<H: Handler>(handler: H) -> #rt::FunctionRouter {
                let mut router = #rt::FunctionRouter::new();
                register(&mut router, ::std::sync::Arc::new(handler));
                router
            }
        }
    }

    fn handler_method(&self, function: &FunctionPlan) -> TokenStream {
        let rt = &self.options.runtime;
        let fallback = format!(" Serves `{}`.", function.wire);
        let doc = doc_attrs(Some(function.doc.as_deref().unwrap_or(&fallback)));
        let method = ident(&function.method);
        let input = self.item_ident(function.input);
        let output = self.item_ident(function.output);
        quote! {
            #doc
            fn #method(
                &self,
                input: #input,
                context: &mut Context,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<#output, #rt::HandlerError>,
            > + ::core::marker::Send;
        }
    }

    fn route(&self, function: &FunctionPlan) -> TokenStream {
        let rt = &self.options.runtime;
        let method = ident(&function.method);
        let input = self.item_ident(function.input);
        let wire = &function.wire;
        quote! {
            {
                let handler = ::std::sync::Arc::clone(&handler);
                router.insert(#wire, move |request: #rt::Message| {
                    let handler = ::std::sync::Arc::clone(&handler);
                    async move {
                        let (input, mut context): (#input, Context) = #rt::typed::decode_request(request)?;
                        let output = handler.#method(input, &mut context).await?;
                        #rt::typed::encode_response(&output, context)
                    }
                });
            }
        }
    }
}
