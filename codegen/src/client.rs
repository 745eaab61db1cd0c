//! Emits the typed client: one async method per function over the runtime client.

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
        let methods = self.plan.functions.iter().map(|f| self.client_method(f));
        quote! {
            /// Calls this schema's functions with typed inputs and outputs.
            #allows
            #[derive(Clone)]
            pub struct Client {
                inner: #rt::Client,
            }

            #allows
            impl Client {
                /// Wraps a runtime client.
                pub fn new(inner: #rt::Client) -> Self {
                    Self { inner }
                }

                /// The runtime client, for untyped calls.
                pub fn inner(&self) -> &#rt::Client {
                    &self.inner
                }

                #(#methods)*
            }
        }
    }

    fn client_method(&self, function: &FunctionPlan) -> TokenStream {
        let rt = &self.options.runtime;
        let doc = doc_attrs(function.doc.as_deref());
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
                #rt::typed::call(&self.inner, input, &headers).await
            }
        }
    }
}
