//! Emits the typed client: one async method per function over the runtime client, with
//! default headers and a raw call for what the generated types cannot hold.

use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::FunctionPlan;

impl Emitter<'_> {
    pub fn client(&self) -> TokenStream {
        let rt = &self.options.runtime;
        let allows = self.item_allows();
        let request_headers = self.item_ident(self.plan.request_headers);
        let methods = self.plan.functions.iter().map(|f| self.client_method(f));
        quote! {
            /// Calls this schema's functions with typed inputs and outputs.
            ///
            /// A `@select_` header trims responses below the generated types, so the typed
            /// methods refuse it (`CallError::Selection`); send selections with
            /// [`Client::call_raw`].
            #allows
            #[derive(Clone)]
            pub struct Client {
                inner: #rt::Client,
                headers: #request_headers,
            }

            #allows
            impl Client {
                /// Wraps a runtime client.
                pub fn new(inner: #rt::Client) -> Self {
                    Self { inner, headers: #request_headers::default() }
                }

                /// Sends `headers` with every call (credentials, say); a call's own headers
                /// take precedence, header by header.
                #[must_use]
                pub fn with_headers(mut self, headers: #request_headers) -> Self {
                    self.headers = headers;
                    self
                }

                /// The runtime client, for untyped calls.
                pub fn inner(&self) -> &#rt::Client {
                    &self.inner
                }

                /// Calls `I`'s function and returns the response as it came, without
                /// reading it into the generated types: for `@select_`, whose trimmed
                /// results they cannot hold.
                pub async fn call_raw<I: #rt::typed::FunctionInput>(
                    &self,
                    input: I,
                    headers: #request_headers,
                ) -> ::core::result::Result<#rt::Message, #rt::typed::CallError> {
                    let headers = headers.or_defaults(&self.headers);
                    #rt::typed::call_raw(&self.inner, input, &headers, #rt::Headers::new()).await
                }

                #(#methods)*
            }
        }
    }

    fn client_method(&self, function: &FunctionPlan) -> TokenStream {
        let rt = &self.options.runtime;
        let fallback = format!(" Calls `{}`.", function.wire);
        let doc = doc_attrs(Some(function.doc.as_deref().unwrap_or(&fallback)));
        let method = ident(&function.method);
        let input = self.item_ident(function.input);
        let output = self.item_ident(function.output);
        let request_headers = self.item_ident(self.plan.request_headers);
        let response_headers = self.item_ident(self.plan.response_headers);
        quote! {
            #doc
            pub async fn #method(
                &self,
                input: #input,
                headers: #request_headers,
            ) -> ::core::result::Result<
                #rt::typed::Response<#output, #response_headers>,
                #rt::typed::CallError,
            > {
                let headers = headers.or_defaults(&self.headers);
                #rt::typed::call(&self.inner, input, &headers).await
            }
        }
    }
}
