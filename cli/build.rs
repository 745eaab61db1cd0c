//! Generates the demo server's types and handler trait from `calculator/`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    telepact_codegen::configure()
        .build_client(false)
        .compile_dir("calculator")?;
    Ok(())
}
