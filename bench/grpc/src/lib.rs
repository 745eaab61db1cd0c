//! The gRPC side of the comparison: prost messages shaped like the Telepact benchmark's
//! (the bakery's `fn.myShift` answer, the `fn.roundTripTypical` item list) and a tonic
//! service for them, written out by hand so no build script or `protoc` is needed.
//!
//! ```proto
//! service Bench {
//!   rpc MyShift(MyShiftRequest) returns (MyShiftResponse);   // credentials in metadata
//!   rpc RoundTripTypical(Items) returns (Items);             // echoes the items
//! }
//! ```

use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

/// The service's name on the wire.
pub const SERVICE: &str = "bench.Bench";
/// The path of `MyShift`.
pub const MY_SHIFT: &str = "/bench.Bench/MyShift";
/// The path of `RoundTripTypical`.
pub const ROUND_TRIP: &str = "/bench.Bench/RoundTripTypical";

/// `fn.myShift`'s (empty) input.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MyShiftRequest {}

/// `fn.myShift`'s `Ok_`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MyShiftResponse {
    #[prost(string, tag = "1")]
    pub employee_id: String,
    #[prost(string, tag = "2")]
    pub station: String,
    #[prost(string, tag = "3")]
    pub pastry: String,
}

/// `struct.TypicalItem`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Item {
    #[prost(int64, tag = "1")]
    pub account_id: i64,
    #[prost(string, tag = "2")]
    pub customer_name: String,
    #[prost(string, tag = "3")]
    pub region: String,
    #[prost(double, tag = "4")]
    pub unit_price: f64,
    #[prost(int64, tag = "5")]
    pub quantity: i64,
}

/// `fn.roundTripTypical`'s input and `Ok_`: `{items}`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Items {
    #[prost(message, repeated, tag = "1")]
    pub items: Vec<Item>,
}

/// Signs the caller in from `username` / `password` metadata, like the bakery's auth
/// hook does from `@auth_`, and answers the caller's shift.
fn my_shift(request: &Request<MyShiftRequest>) -> Result<MyShiftResponse, Status> {
    let metadata = request.metadata();
    let field = |name| metadata.get(name).and_then(|value| value.to_str().ok());
    match (field("username"), field("password")) {
        (Some("lead-baker"), Some("opensesame")) => Ok(MyShiftResponse {
            employee_id: "baker-001".to_string(),
            station: "oven".to_string(),
            pastry: "sesame loaf".to_string(),
        }),
        _ => Err(Status::unauthenticated("Valid authentication is required.")),
    }
}

/// The tonic service: what `tonic-build` would generate for the proto above.
#[derive(Debug, Clone, Copy, Default)]
pub struct BenchServer;

impl NamedService for BenchServer {
    const NAME: &'static str = SERVICE;
}

struct MyShift;

impl UnaryService<MyShiftRequest> for MyShift {
    type Response = MyShiftResponse;
    type Future = std::future::Ready<Result<Response<MyShiftResponse>, Status>>;

    fn call(&mut self, request: Request<MyShiftRequest>) -> Self::Future {
        std::future::ready(my_shift(&request).map(Response::new))
    }
}

struct RoundTrip;

impl UnaryService<Items> for RoundTrip {
    type Response = Items;
    type Future = std::future::Ready<Result<Response<Items>, Status>>;

    fn call(&mut self, request: Request<Items>) -> Self::Future {
        std::future::ready(Ok(Response::new(request.into_inner())))
    }
}

impl<B> Service<http::Request<B>> for BenchServer
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        match request.uri().path() {
            MY_SHIFT => Box::pin(async move {
                let mut grpc = Grpc::new(ProstCodec::<MyShiftResponse, MyShiftRequest>::default());
                Ok(grpc.unary(MyShift, request).await)
            }),
            ROUND_TRIP => Box::pin(async move {
                let mut grpc = Grpc::new(ProstCodec::<Items, Items>::default());
                Ok(grpc.unary(RoundTrip, request).await)
            }),
            _ => Box::pin(async move { Ok(Status::unimplemented("no such method").into_http()) }),
        }
    }
}

/// The `items` of a Telepact `fn.roundTripTypical` request body, as prost items.
pub fn items_from_telepact_request(body: &[u8]) -> Result<Items, String> {
    let request: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("request body: {e}"))?;
    let items = request[1]["fn.roundTripTypical"]["items"]
        .as_array()
        .ok_or("the request body has no fn.roundTripTypical items")?;
    let item = |value: &serde_json::Value| Item {
        account_id: value["accountId"].as_i64().unwrap_or_default(),
        customer_name: value["customerName"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        region: value["region"].as_str().unwrap_or_default().to_string(),
        unit_price: value["unitPrice"].as_f64().unwrap_or_default(),
        quantity: value["quantity"].as_i64().unwrap_or_default(),
    };
    Ok(Items {
        items: items.iter().map(item).collect(),
    })
}
