//! Generates the service's types, handler trait and client from `api/`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    telepact_codegen::configure().compile_dir("api")?;
    Ok(())
}
