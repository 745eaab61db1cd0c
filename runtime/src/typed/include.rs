//! The macro that brings a build script's generated code into the crate.

/// Includes the code `telepact_codegen` generated for a schema directory in the build
/// script: `telepact::include_schema!("api")` includes `$OUT_DIR/api.rs`, which defines
/// `pub mod api`.
///
/// ```ignore
/// telepact::include_schema!("api");
///
/// let server = api::server_builder(MyHandler).build()?;
/// ```
#[macro_export]
macro_rules! include_schema {
    ($name:literal) => {
        include!(concat!(
            env!(
                "OUT_DIR",
                "OUT_DIR is not set: telepact::include_schema! includes the code a build script \
                 generates, so the package needs a build.rs that calls \
                 telepact_codegen::configure().compile_dir(\"api\") (with telepact-codegen under \
                 [build-dependencies])"
            ),
            "/",
            $name,
            ".rs"
        ));
    };
}
