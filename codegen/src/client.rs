//! Emits the typed client: two async methods per function over the runtime client
//! (`x(input)` with the client's default headers, `x_with(input, headers)`), calls with
//! a typed `@select_` and a raw call for what the generated types cannot hold; and
//! `Mock`, the schema's typed mock.

use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::pieces::Chunks;
use crate::plan::FunctionPlan;

impl Emitter<'_> {
    /// The typed client and the in-process mock, made when they are formatted.
    pub(crate) fn client(&self) -> Chunks<'_> {
        Box::new(std::iter::once_with(|| self.client_items()))
    }

    fn client_items(&self) -> TokenStream {
        let request_headers = self.item_ident(self.plan.request_headers);
        let response_headers = self.item_ident(self.plan.response_headers);
        let client_attributes = &self.options.client_attributes;
        let mock_docs = self.mock_docs();
        let methods = self
            .plan
            .functions
            .iter()
            .filter(|f| !f.standard)
            .map(|f| self.client_methods(f));
        quote! {
            /// Calls this schema's functions with typed inputs and outputs.
            ///
            /// A `@select_` header trims responses below the generated types, so the typed
            /// methods refuse it (`CallError::Selection`): send a typed selection with
            /// [`Client::call_selected`], which returns the trimmed result as JSON, or a
            /// raw one with [`Client::call_raw`].
            #[derive(Clone)]
            #client_attributes
            pub struct Client {
                inner: rt::Client,
                headers: #request_headers,
                answers: &'static rt::ValueValidator,
            }

            impl rt::fmt::Debug for Client {
                fn fmt(&self, f: &mut rt::fmt::Formatter<'_>) -> rt::fmt::Result {
                    // The default headers may hold credentials.
                    f.debug_struct("Client").finish_non_exhaustive()
                }
            }

            impl Client {
                /// Wraps a runtime client.
                pub fn new(inner: rt::Client) -> Self {
                    // Answers are checked against the schema before they are read: the
                    // generated types take some values the protocol refuses.
                    static ANSWERS: rt::OnceLock<rt::ValueValidator> = rt::OnceLock::new();
                    let answers = ANSWERS.get_or_init(|| rt::ValueValidator::new(schema()));
                    Self { inner, headers: #request_headers::default(), answers }
                }

                /// Sends `headers` with every call (credentials, say); a call's own headers
                /// take precedence, header by header.
                #[must_use]
                pub fn with_headers(mut self, headers: #request_headers) -> Self {
                    self.headers = headers;
                    self
                }

                /// The runtime client, for untyped calls.
                pub fn inner(&self) -> &rt::Client {
                    &self.inner
                }

                /// Calls `I`'s function with the default headers: any of this schema's, or
                /// a standard one such as `fn.ping_` (`telepact::typed::standard::PingInput`).
                pub async fn call<I: rt::FunctionInput>(
                    &self,
                    input: I,
                ) -> Result<rt::Response<I::Output, #response_headers>, rt::CallError> {
                    rt::call(&self.inner, self.answers, input, &self.headers).await
                }

                /// Like [`Client::call`], with `headers` over the default ones.
                pub async fn call_with<I: rt::FunctionInput>(
                    &self,
                    input: I,
                    headers: #request_headers,
                ) -> Result<rt::Response<I::Output, #response_headers>, rt::CallError> {
                    let headers = headers.or_defaults(&self.headers);
                    rt::call(&self.inner, self.answers, input, &headers).await
                }

                /// Calls `I`'s function with the default headers and `selection` as its
                /// `@select_` (field names from [`select`]); returns the result as the
                /// selection left it, as JSON, which the generated types cannot hold.
                pub async fn call_selected<I: rt::FunctionInput>(
                    &self,
                    input: I,
                    selection: &rt::Selection<I>,
                ) -> Result<rt::SelectedResponse<#response_headers>, rt::CallError> {
                    rt::call_selected(&self.inner, input, selection, &self.headers).await
                }

                /// Like [`Client::call_selected`], with `headers` over the default ones.
                pub async fn call_selected_with<I: rt::FunctionInput>(
                    &self,
                    input: I,
                    selection: &rt::Selection<I>,
                    headers: #request_headers,
                ) -> Result<rt::SelectedResponse<#response_headers>, rt::CallError> {
                    let headers = headers.or_defaults(&self.headers);
                    rt::call_selected(&self.inner, input, selection, &headers).await
                }

                /// Calls `I`'s function and returns the response as it came, without
                /// reading it into the generated types: for a raw `@select_`, whose
                /// trimmed results they cannot hold.
                pub async fn call_raw<I: rt::FunctionInput>(
                    &self,
                    input: I,
                    headers: #request_headers,
                ) -> Result<rt::Message, rt::CallError> {
                    let headers = headers.or_defaults(&self.headers);
                    rt::call_raw(&self.inner, input, &headers, rt::Headers::new()).await
                }

                #(#methods)*
            }

            #mock_docs
            #[derive(Clone, Debug)]
            pub struct Mock(rt::Mock);

            impl Mock {
                /// A mock of [`schema()`] that answers calls no stub matches with a
                /// generated `Ok_`.
                pub fn new() -> Result<Self, rt::MockError> {
                    rt::Mock::new(schema()).map(Self)
                }

                /// A mock of [`schema()`] with `options`.
                pub fn with_options(options: rt::MockOptions) -> Result<Self, rt::MockError> {
                    rt::Mock::with_options(schema(), options).map(Self)
                }

                /// A typed client that calls this mock in process.
                pub fn client(&self) -> Client {
                    Client::new(self.0.client())
                }

                /// Like [`Mock::client`], with client options (binary encoding, say).
                pub fn client_with_options(&self, options: rt::ClientOptions) -> Client {
                    Client::new(self.0.client_with_options(options))
                }
            }

            impl rt::Deref for Mock {
                type Target = rt::Mock;

                fn deref(&self) -> &rt::Mock {
                    &self.0
                }
            }
        }
    }

    /// The docs of `Mock`, linking to the runtime's `MockControl` by the runtime's path.
    fn mock_docs(&self) -> TokenStream {
        let runtime = &self.options.runtime_doc_path;
        let control = |method: &str| format!("[`{runtime}::typed::MockControl::{method}`]");
        let lines = [
            " A mock of this schema for tests, in process: stub its functions with the".into(),
            format!(" generated types ({}), call it through", control("stub")),
            format!(
                " [`Mock::client`] and verify the calls ({}),",
                control("verify")
            ),
            " with no HTTP in between. A mock in another process (`telepact mock`) is driven"
                .into(),
            format!(" the same way through {}.", control("new")),
        ];
        quote! { #( #[doc = #lines] )* }
    }

    fn client_methods(&self, function: &FunctionPlan) -> TokenStream {
        let fallback = format!(" Calls `{}`.", function.wire);
        let doc = doc_attrs(Some(function.doc.as_deref().unwrap_or(&fallback)));
        let method = ident(&function.method);
        let method_with = ident(&format!("{}_with", function.method));
        // The link names the method as Rust does (`self_`), or rustdoc cannot find it;
        // a raw identifier's `r#` is left out, as rustdoc reads the keyword alone.
        let with_doc = format!(
            " Like [`Client::{}`], with `headers` over the client's default ones.",
            method.to_string().trim_start_matches("r#")
        );
        let input = self.item_path(function.input);
        let output = self.item_path(function.output);
        let request_headers = self.item_ident(self.plan.request_headers);
        let response_headers = self.item_ident(self.plan.response_headers);
        // Plain functions handing back `call`'s future: an `async fn` per function
        // would make the compiler build and check one more state machine each.
        quote! {
            #doc
            pub fn #method(
                &self,
                input: #input,
            ) -> impl ::core::future::Future<
                Output = Result<rt::Response<#output, #response_headers>, rt::CallError>,
            > + '_ {
                self.call(input)
            }

            #[doc = #with_doc]
            pub fn #method_with(
                &self,
                input: #input,
                headers: #request_headers,
            ) -> impl ::core::future::Future<
                Output = Result<rt::Response<#output, #response_headers>, rt::CallError>,
            > + '_ {
                self.call_with(input, headers)
            }
        }
    }
}
