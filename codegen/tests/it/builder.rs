//! The build-script API: output files, rebuild hygiene and error messages.

use crate::common;

use std::path::{Path, PathBuf};

use telepact_codegen::Error;
use telepact_schema::Schema;
use telepact_test_support::nested_cargo;

fn scratch_dir(name: &str) -> PathBuf {
    telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), name)
}

fn generate_text(schema: &str) -> Result<String, Error> {
    let schema = Schema::from_text(schema).unwrap();
    telepact_codegen::configure().generate(&schema, "test")
}

/// A function of the user's schema marked internal (`$internal: true`, or a name ending
/// in `_`) gets a handler method and a route, as it gets a client method: the runtime
/// answers only the standard functions, and the reference's servers route the user's
/// internal ones to the user's handler. It had none, so a typed server answered such
/// calls `ErrorUnknown_` with no way to serve them.
#[test]
fn an_internal_function_of_the_users_schema_has_a_handler_method() {
    let generated = generate_text(
        r#"[{"$internal": true, "fn.hidden": {}, "->": [{"Ok_": {}}]},
            {"fn.debug_": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .unwrap();
    let handler = generated
        .split("pub trait Handler")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("a Handler trait");
    for method in ["fn hidden(", "fn debug("] {
        assert!(handler.contains(method), "{method} missing from {handler}");
    }
    for input in ["HiddenInput", "DebugInput"] {
        let route = format!("rt::route::<H, {input}, ");
        assert!(generated.contains(&route), "no route for {input}");
    }
}

/// Every file under `dir`, with its modification time.
fn files_with_mtimes(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            (path, modified)
        })
        .collect();
    files.sort();
    files
}

/// Backdates every file under `dir` (and `dir/api.parts`): any write, however soon, moves
/// a file's mtime to now.
fn backdate(dir: &Path) -> std::time::SystemTime {
    let backdated = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for dir in [dir.to_path_buf(), dir.join("api.parts")] {
        for (path, _) in files_with_mtimes(&dir) {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(backdated).unwrap();
        }
    }
    backdated
}

#[test]
fn compile_dir_writes_the_module_and_a_file_per_type_and_keeps_them_when_unchanged() {
    let out = scratch_dir("compile_dir_out");
    let builder = telepact_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false);
    let path = builder.compile_dir(common::bakery_dir()).unwrap();
    assert_eq!(path, out.join("api.rs"));
    let module = std::fs::read_to_string(&path).unwrap();
    assert!(module.contains("pub mod api {"), "{module}");
    assert!(
        module.contains(r#"include!("api.parts/MyShiftOutput.rs");"#),
        "{module}"
    );
    assert!(
        module.contains(r#"include!("api.parts/select.MyShiftOk.rs");"#),
        "{module}"
    );
    let output = std::fs::read_to_string(out.join("api.parts/MyShiftOutput.rs")).unwrap();
    assert!(output.contains("pub enum MyShiftOutput {"), "{output}");

    let backdated = backdate(&out);
    builder.compile_dir(common::bakery_dir()).unwrap();
    for dir in [out.clone(), out.join("api.parts")] {
        for (file, modified) in files_with_mtimes(&dir) {
            assert_eq!(modified, backdated, "{} rewritten", file.display());
        }
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), module);
}

#[test]
fn a_schema_edit_rewrites_only_the_files_of_the_types_it_changes() {
    let root = scratch_dir("compile_dir_edit");
    let schema_dir = root.join("api");
    std::fs::create_dir_all(&schema_dir).unwrap();
    let write_schema = |extra: &str| {
        let schema = format!(
            r#"[{{"struct.Loaf": {{"weight": "integer"{extra}}}}},
                {{"struct.Tray": {{"loaves": ["struct.Loaf"]}}}},
                {{"struct.Crumb": {{}}}},
                {{"fn.bake": {{"tray": "struct.Tray"}}, "->": [{{"Ok_": {{}}}}]}}]"#
        );
        std::fs::write(schema_dir.join("api.telepact.json"), schema).unwrap();
    };
    write_schema("");
    let out = root.join("out");
    let builder = telepact_codegen::configure()
        .out_dir(&out)
        .emit_rerun_if_changed(false);
    builder.compile_dir(&schema_dir).unwrap();
    let backdated = backdate(&out);

    write_schema(r#", "flour": "string""#);
    builder.compile_dir(&schema_dir).unwrap();
    let rewritten: Vec<String> = files_with_mtimes(&out.join("api.parts"))
        .into_iter()
        .filter(|(_, modified)| *modified != backdated)
        .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // The changed struct and the embedded schema; the module itself is unchanged.
    assert_eq!(rewritten, ["Loaf.rs", "SCHEMA_JSON.rs"]);
    assert_eq!(files_with_mtimes(&out)[0].1, backdated, "api.rs rewritten");

    let schema = r#"[{"fn.bake": {}, "->": [{"Ok_": {}}]}]"#;
    std::fs::write(schema_dir.join("api.telepact.json"), schema).unwrap();
    builder.compile_dir(&schema_dir).unwrap();
    assert!(
        !out.join("api.parts/Loaf.rs").exists(),
        "a removed type's file stays"
    );
    assert!(
        !out.join("api.parts/Crumb.rs").exists(),
        "a removed type's file stays"
    );
    assert!(out.join("api.parts/BakeInput.rs").exists());
}

/// Writes, for each `(side, name)`, a schema directory `root/side/name` holding one
/// function named after its side.
fn write_schema_dirs<const N: usize>(root: &std::path::Path, dirs: [(&str, &str); N]) {
    for (side, name) in dirs {
        let dir = root.join(side).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let schema = format!(r#"[{{"fn.{side}": {{}}, "->": [{{"Ok_": {{}}}}]}}]"#);
        std::fs::write(dir.join("api.telepact.json"), schema).unwrap();
    }
}

#[test]
fn two_schema_directories_of_one_name_never_overwrite_each_other() {
    let root = scratch_dir("same_name");
    write_schema_dirs(&root, [("a", "api"), ("b", "api")]);
    let builder = telepact_codegen::configure()
        .out_dir(root.join("out"))
        .emit_rerun_if_changed(false);
    builder.compile_dir(root.join("a/api")).unwrap();
    let error = builder.compile_dir(root.join("b/api")).unwrap_err();
    assert!(matches!(error, Error::OutputClash { .. }), "{error}");
    let embedded = std::fs::read_to_string(root.join("out/api.parts/SCHEMA_JSON.rs")).unwrap();
    assert!(embedded.contains("\"fn.a\""), "the first output stays");
}

/// `api` and `API` write `api.rs` and `API.rs`, one file on macOS and Windows: the
/// second is refused, naming both directories, wherever the build runs.
#[test]
fn two_schema_directories_whose_names_differ_only_in_case_never_overwrite_each_other() {
    let root = scratch_dir("same_name_but_case");
    write_schema_dirs(&root, [("a", "api"), ("b", "API")]);
    let builder = telepact_codegen::configure()
        .out_dir(root.join("out"))
        .emit_rerun_if_changed(false);
    builder.compile_dir(root.join("a/api")).unwrap();
    let error = builder.compile_dir(root.join("b/API")).unwrap_err();
    assert!(matches!(error, Error::OutputClash { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("a/api") && message.contains("b/API") && message.contains("api.rs"),
        "{message}"
    );
    assert!(
        !root.join("out/API.rs").exists(),
        "the second output is written"
    );
}

/// What a build script returning the build error for a schema directory holding `text`
/// prints (its Debug form), with the directory shown as `DIR`; also checks that its
/// message and the command line's rendering are the loader's rendered failures.
fn build_error(name: &str, text: &str) -> String {
    let dir = scratch_dir(name);
    std::fs::write(dir.join("orchard.telepact.yaml"), text).unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let message = format!("{error:?}");
    let rendered = message.trim_start_matches("invalid Telepact schema:\n\n");
    assert_eq!(error.render(false), rendered);
    assert_eq!(error.to_string(), rendered);
    message.replace(&dir.display().to_string(), "DIR")
}

#[test]
fn a_typo_in_a_type_fails_with_the_line_a_caret_and_a_suggestion() {
    let message = build_error(
        "typo_schema",
        "- struct.Tree:\n    id: \"integr\"\n    name: string\n",
    );
    let expected = "\
invalid Telepact schema:

error: field `id` of `struct.Tree` has an unknown type `integr`
 --> DIR/orchard.telepact.yaml:2:9
  |
2 |     id: \"integr\"
  |         ^^^^^^^^ not a type
  |
  = help: did you mean `integer`?

error: the schema has 1 error";
    assert_eq!(message, expected);
}

#[test]
fn a_function_without_its_result_fails_saying_what_to_add() {
    let message = build_error(
        "missing_result_schema",
        "- fn.plant:\n    tree: string\n- fn.water:\n    tree: string\n  ->:\n    - Ok_: {}\n",
    );
    let expected = "\
invalid Telepact schema:

error: function `fn.plant` has no result `->`
 --> DIR/orchard.telepact.yaml:1:3
  |
1 | - fn.plant:
  |   ^^^^^^^^ `->` expected
  |
  = help: a function lists its result after `->`, such as `->: [{Ok_: {}}]`

error: the schema has 1 error";
    assert_eq!(message, expected);
}

/// A docstring's indented code in a quote is hidden from doctests, but rustdoc still
/// reads it as Rust, and `cargo doc` warned (`invalid_rust_codeblocks`) where it does
/// not parse (`it's`): the module's docs hold no Rust, so it allows that lint.
#[test]
fn code_in_a_docstring_that_is_not_rust_keeps_rustdoc_quiet() {
    let schema = r#"[{"///": "Note:\n\n>     it's {\"a\": 1}", "struct.S": {}}]"#;
    let code = generate_text(schema).unwrap();
    assert!(
        code.contains("cfg_attr(not(doctest), doc = \" >     it's"),
        "{code}"
    );
    let allows = code.split("#![allow(").nth(1).unwrap_or_default();
    let allows = allows.split(')').next().unwrap_or_default();
    assert!(
        allows.contains("rustdoc::invalid_rust_codeblocks"),
        "{allows}"
    );
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let error = telepact_codegen::configure()
        .generate_dir("/nonexistent/schema")
        .unwrap_err();
    assert!(matches!(error, Error::Schema(_)));
    assert!(error.to_string().contains("/nonexistent/schema"), "{error}");
}

#[test]
fn two_definitions_with_one_rust_name_are_refused() {
    let error = generate_text(r#"[{"struct.Foo": {}}, {"struct.Foo_": {}}]"#).unwrap_err();
    assert!(
        matches!(error, Error::NameCollisions(ref found) if found[0].name == "Foo"),
        "{error}"
    );
    assert!(error.to_string().contains("rename one of them"), "{error}");
}

#[test]
fn the_generated_codes_own_names_are_reserved() {
    assert!(generate_text(r#"[{"struct.Client": {}}]"#).is_err());
    assert!(generate_text(r#"[{"fn.new": {}, "->": [{"Ok_": {}}]}]"#).is_err());
}

#[test]
fn fields_that_collide_in_snake_case_are_refused() {
    let error =
        generate_text(r#"[{"struct.S": {"aB": "boolean", "a_b": "boolean"}}]"#).unwrap_err();
    assert!(
        matches!(error, Error::NameCollisions(ref found) if found[0].name == "a_b"),
        "{error}"
    );
}

#[test]
fn every_name_collision_is_reported_where_the_schema_writes_it() {
    let dir = scratch_dir("name_collisions").join("api");
    std::fs::create_dir_all(&dir).unwrap();
    let schema = "\
- fn.getBook: {}
  ->:
    - Ok_: {}
- struct.S:
    aB: boolean
    a_b: boolean
- struct.GetBookInput: {}
- struct.Box: {}
- headers.Trace_:
    '@traceId': string
    '@trace_id': string
  ->:
    '@spanId': string
    '@span_id': string
";
    std::fs::write(dir.join("shop.telepact.yaml"), schema).unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let file = dir.join("shop.telepact.yaml");
    let file = file.display();
    assert_eq!(
        error.to_string(),
        format!(
            "{file}:1:3: fn.getBook and struct.GetBookInput would both be named `GetBookInput` in Rust; rename one of them\n\
             {file}:6:5: struct.S.a_b and struct.S.aB would both be named `a_b` in Rust; rename one of them\n\
             {file}:8:3: struct.Box and the generated code would both be named `Box` in Rust; rename one of them\n\
             {file}:11:5: headers.Trace_.@trace_id and headers.Trace_.@traceId would both be named `trace_id` in Rust; rename one of them\n\
             {file}:14:5: headers.Trace_.->.@span_id and headers.Trace_.->.@spanId would both be named `span_id` in Rust; rename one of them"
        )
    );
    let rendered = error.render(false);
    assert_eq!(rendered.lines().count(), 5, "{rendered}");
    assert!(
        rendered.lines().all(|line| line.starts_with("error: ")),
        "{rendered}"
    );
}

/// A header named like a standard one but for the `_` (`@id` beside `@id_`) is the
/// user's to rename: its line is given, though the standard one claimed the name second.
#[test]
fn a_collision_with_a_standard_definition_is_reported_where_the_schema_writes_its_own() {
    let dir = scratch_dir("standard_collision").join("api");
    std::fs::create_dir_all(&dir).unwrap();
    // Named to come before `headers.Id_`, whose `@id_` then claims the name second.
    let schema = "\
- headers.A:
    '@id': string
  ->: {}
";
    std::fs::write(dir.join("shop.telepact.yaml"), schema).unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let file = dir.join("shop.telepact.yaml");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:2:5: ", file.display())),
        "{error}"
    );
}

/// A result tag named like a standard error but for the `_` is the user's to rename:
/// its line is given, where the function's `->` was, as the standard tag's path is
/// not in the schema's files and was located only as far as the result.
#[test]
fn a_result_tag_named_like_a_standard_error_is_reported_where_the_schema_writes_it() {
    let dir = scratch_dir("standard_tag_collision").join("api");
    std::fs::create_dir_all(&dir).unwrap();
    let schema = "\
- fn.pay:
    cents: integer
  ->:
    - Ok_: {}
    - ErrorUnknown: {}
";
    std::fs::write(dir.join("shop.telepact.yaml"), schema).unwrap();
    let error = telepact_codegen::configure()
        .generate_dir(&dir)
        .unwrap_err();
    let file = dir.join("shop.telepact.yaml");
    assert_eq!(
        error.to_string(),
        format!(
            "{}:5:7: fn.pay.->.ErrorUnknown and fn.pay.->.ErrorUnknown_ would both be named \
             `ErrorUnknown` in Rust; rename one of them",
            file.display()
        )
    );
}

#[test]
fn options_that_are_not_rust_are_refused() {
    let schema = Schema::from_text("[]").unwrap();
    let bad_attribute = telepact_codegen::configure().type_attribute(".", "derive(Hash)");
    assert!(matches!(
        bad_attribute.generate(&schema, "x"),
        Err(Error::InvalidOption { .. })
    ));
    let bad_path = telepact_codegen::configure().runtime_path("not a path");
    assert!(matches!(
        bad_path.generate(&schema, "x"),
        Err(Error::InvalidOption { .. })
    ));
}

/// `released` and `current` hold the same schema file, then `current` is edited.
fn released_and_current(name: &str, released: &str, current: &str) -> (PathBuf, PathBuf) {
    let root = scratch_dir(name);
    for (folder, text) in [("api.released", released), ("api", current)] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
        std::fs::write(root.join(folder).join("shop.telepact.yaml"), text).unwrap();
    }
    (root.join("api.released"), root.join("api"))
}

const RELEASED_SHOP: &str = "\
- fn.order:
    item: string
  ->:
    - Ok_:
        id: integer
";

#[test]
fn compatible_with_accepts_a_compatible_edit() {
    let current = format!("{RELEASED_SHOP}- fn.cancel:\n    id: integer\n  ->:\n    - Ok_: {{}}\n")
        .replace("item: string", "item: string\n    note!: string");
    let (released, api) = released_and_current("compatible_edit", RELEASED_SHOP, &current);
    telepact_codegen::configure()
        .compatible_with(&released)
        .generate_dir(&api)
        .unwrap();
}

#[test]
fn compatible_with_refuses_a_breaking_edit_with_one_located_line_per_change() {
    let current = RELEASED_SHOP
        .replace("item: string", "item: string\n    quantity: integer")
        .replace("id: integer", "id: string");
    let (released, api) = released_and_current("breaking_edit", RELEASED_SHOP, &current);
    let error = telepact_codegen::configure()
        .compatible_with(&released)
        .generate_dir(&api)
        .unwrap_err();
    let file = api.join("shop.telepact.yaml");
    assert_eq!(
        error.to_string(),
        format!(
            "the schema is not backwards compatible with {}:\n\
             {file}:3:5: New required field 'quantity' has been added to struct 'fn.order' on argument path\n\
             {file}:6:9: Field 'id' in struct 'fn.order.->.Ok_' has changed type from 'integer' to 'string'",
            released.display(),
            file = file.display(),
        )
    );
}

#[test]
fn a_released_schema_that_cannot_be_read_is_named_as_compatible_with_s() {
    let (released, api) = released_and_current("missing_release", RELEASED_SHOP, RELEASED_SHOP);
    let missing = released.with_file_name("api.never-released");
    let error = telepact_codegen::configure()
        .compatible_with(&missing)
        .generate_dir(&api)
        .unwrap_err();
    let said = format!(
        "the released schema compatible_with names ({}) cannot be loaded",
        missing.display()
    );
    assert_eq!(error.to_string(), said);
    let message = format!("{error:?}");
    assert!(
        message.starts_with(&format!("{said}: cannot read {}: ", missing.display())),
        "{message}"
    );
}

#[test]
fn a_removed_function_points_at_the_released_schema() {
    let (released, api) = released_and_current("removed_function", RELEASED_SHOP, "[]");
    let error = telepact_codegen::configure()
        .compatible_with(&released)
        .generate_dir(&api)
        .unwrap_err();
    let file = released.join("shop.telepact.yaml");
    assert!(
        error.to_string().ends_with(&format!(
            ":\n{}:1:3: Type 'fn.order' has been removed",
            file.display()
        )),
        "{error}"
    );
}

/// A crate whose build script guards its schema with `compatible_with`: `cargo build`
/// passes while the schema stays compatible and fails, naming the change, once it is
/// not.
#[test]
fn a_breaking_schema_edit_fails_cargo_build() {
    let root = scratch_dir("guarded_crate");
    let codegen = common::manifest_dir();
    let manifest = format!(
        r#"[package]
name = "guarded"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[build-dependencies]
telepact-codegen = {{ path = "{}" }}
"#,
        codegen.display()
    );
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(codegen.join("../Cargo.lock"), root.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        root.join("build.rs"),
        "fn main() -> Result<(), telepact_codegen::Error> {\n    \
         telepact_codegen::configure().compatible_with(\"api.released\").compile_dir(\"api\")?;\n    \
         Ok(())\n}\n",
    )
    .unwrap();
    for folder in ["api", "api.released"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
        std::fs::write(root.join(folder).join("shop.telepact.yaml"), RELEASED_SHOP).unwrap();
    }
    // `check` runs the build script, the only part this test is about. It runs in
    // trybuild's target dir with its settings, and the manifest declares no profile, as
    // trybuild's project and the bakery's schema-drift copies do (see
    // `telepact_test_support::nested_target_dir`): the generator is built once for them all.
    let build = || {
        // Not `--quiet`, which would hide the build script's warnings.
        nested_cargo("check", &root, Path::new(env!("CARGO_TARGET_TMPDIR")))
            .output()
            .expect("cargo runs")
    };
    let schema = root.join("api/shop.telepact.yaml");

    // A misspelt `$authenticated` is no incompatibility, but is named as a warning.
    let compatible = RELEASED_SHOP
        .replace("item: string", "item: string\n    note!: string")
        .replace("- fn.order:", "- $authenticate: false\n  fn.order:");
    std::fs::write(&schema, compatible).unwrap();
    let output = build();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "a compatible edit builds:\n{stderr}"
    );
    assert!(
        stderr.contains("warning: guarded@0.1.0: api: `fn.order`: `$authenticate` is not a key"),
        "{stderr}"
    );

    let breaking = RELEASED_SHOP.replace("item: string", "item: integer");
    std::fs::write(&schema, breaking).unwrap();
    let output = build();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a breaking edit must not build");
    assert!(
        stderr.contains(&format!(
            "{}:2:5: Field 'item' in struct 'fn.order' has changed type from 'string' to 'integer'",
            Path::new("api/shop.telepact.yaml").display()
        )),
        "{stderr}"
    );
}
