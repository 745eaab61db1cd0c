//! The build-script entry point: configure, then compile a schema directory into
//! `OUT_DIR`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use quote::quote;
use telepact_schema::{LoadError, Schema};

use crate::compat;
use crate::emit::{Options, generate, parse_attributes};
use crate::error::Error;
use crate::externs;
use crate::pieces::Module;
use crate::split::{SplitOutput, split};
use crate::write::write_if_changed;

/// Starts a [`Builder`] with the defaults: runtime at `::telepact`, types, server and
/// client all generated, output in `OUT_DIR`.
pub fn configure() -> Builder {
    Builder::default()
}

/// Code generation settings, in the style of `tonic-build`.
#[derive(Debug, Clone)]
pub struct Builder {
    runtime_path: String,
    type_attributes: Vec<(String, String)>,
    field_attributes: Vec<(String, String)>,
    handler_attributes: Vec<String>,
    client_attributes: Vec<String>,
    extern_paths: Vec<(String, String)>,
    extern_traits: Vec<(String, Vec<String>)>,
    build_server: bool,
    build_client: bool,
    out_dir: Option<PathBuf>,
    emit_rerun_if_changed: bool,
    compatible_with: Option<PathBuf>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            runtime_path: "::telepact".into(),
            type_attributes: Vec::new(),
            field_attributes: Vec::new(),
            handler_attributes: Vec::new(),
            client_attributes: Vec::new(),
            extern_paths: Vec::new(),
            extern_traits: Vec::new(),
            build_server: true,
            build_client: true,
            out_dir: None,
            emit_rerun_if_changed: true,
            compatible_with: None,
        }
    }
}

impl Builder {
    /// The path of the runtime crate in generated code (default `::telepact`).
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = path.into();
        self
    }

    /// Adds attributes (such as `#[derive(PartialOrd)]`) to generated types. `selector` is `.`
    /// for every type, or a schema key (`struct.Point`, `union.Auth_`, `fn.myShift`)
    /// selecting that definition's types and those derived from it (`fn.myShift.->`,
    /// `union.Auth_.Password`). Paths in the attribute resolve where the code is included.
    /// A derive of a trait the generated type already has (`Debug`, `Clone`, `PartialEq`,
    /// serde's, and `Eq`, `Hash` or `Default` wherever its fields allow) is left out; one
    /// of `Eq`, `Hash` or `Default` that its fields do not allow fails generation for the
    /// type the selector names, and is left out for the types under it (`fn.x.->`).
    pub fn type_attribute(
        mut self,
        selector: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.type_attributes
            .push((selector.into(), attribute.into()));
        self
    }

    /// Adds attributes (such as `#[serde(alias = "begin")]`) to one generated field. A
    /// `#[serde(..)]` attribute makes the type holding the field derive its serde impls
    /// (see the crate documentation); a key of it that the generated field sets too
    /// (`rename`, `default`, ...) is left out when it says the same, and fails generation
    /// when it says otherwise; so does a `default` on a required field, which would read
    /// the field left out. `path` is the schema key of the type holding it and the field's name as the
    /// schema spells it (the `!` of an optional field is optional here):
    /// `struct.Shift.start`, `fn.addItem.due`, `fn.myShift.->.Ok_.station`.
    pub fn field_attribute(
        mut self,
        path: impl Into<String>,
        attribute: impl Into<String>,
    ) -> Self {
        self.field_attributes.push((path.into(), attribute.into()));
        self
    }

    /// Adds attributes to the generated `Handler` trait (`#[allow(async_fn_in_trait)]`, a
    /// `#[doc(alias = ..)]`, ...).
    pub fn handler_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.handler_attributes.push(attribute.into());
        self
    }

    /// Adds attributes to the generated `Client` struct.
    pub fn client_attribute(mut self, attribute: impl Into<String>) -> Self {
        self.client_attributes.push(attribute.into());
        self
    }

    /// Uses an existing Rust type for the schema type `schema_name` (`struct.Money`,
    /// `union.Shape`, as the schema writes it), as prost-build's `extern_path` does:
    /// the generated code refers to `rust_path` wherever the schema refers to the type
    /// and defines no type of its own for it (nor, for a union, its tags' payloads). The
    /// path resolves inside the generated module, so make it absolute
    /// (`crate::money::Money`, `::shop::Money`).
    ///
    /// The type must read and write exactly the schema type's JSON (the server still
    /// validates it against the schema) and implement `Serialize`, `Deserialize`,
    /// `Clone`, `Debug` and `PartialEq`, and `Send` and `Sync` when a function's input or
    /// answer holds it (an answer, and a client's call, stay typed, shared by the
    /// message's clones, until they are written). Types holding it derive `Eq`, `Hash` or
    /// `Default` only when [`extern_traits`](Self::extern_traits) declares them for it.
    /// The generator cannot see its fields, so fields holding it are never boxed: if it
    /// holds generated types that hold it again, it boxes them itself.
    ///
    /// Generation fails with [`Error::InvalidOption`] naming the option when
    /// `schema_name` is not a `struct.*` or `union.*` of the schema, is a standard
    /// definition (`struct.ValidationFailure_`, ...: the runtime types those), is mapped
    /// twice, or `rust_path` is not a type path.
    ///
    /// ```no_run
    /// // build.rs: `struct.Money` is `shop::Money`, which implements `Eq` and `Hash`.
    /// telepact_codegen::configure()
    ///     .extern_path("struct.Money", "::shop::Money")
    ///     .extern_traits("struct.Money", ["Eq", "Hash"])
    ///     .compile_dir("api")
    ///     .unwrap();
    /// ```
    pub fn extern_path(
        mut self,
        schema_name: impl Into<String>,
        rust_path: impl Into<String>,
    ) -> Self {
        self.extern_paths
            .push((schema_name.into(), rust_path.into()));
        self
    }

    /// Declares which of `Eq`, `Hash` and `Default` the type mapped to `schema_name` with
    /// [`extern_path`](Self::extern_path) implements, so the generated types holding it
    /// may derive them (`Hash` counts only with `Eq`). Other trait names, or a name
    /// not mapped, fail generation with [`Error::InvalidOption`].
    pub fn extern_traits<T: Into<String>>(
        mut self,
        schema_name: impl Into<String>,
        traits: impl IntoIterator<Item = T>,
    ) -> Self {
        let traits = traits.into_iter().map(Into::into).collect();
        self.extern_traits.push((schema_name.into(), traits));
        self
    }

    /// Whether to generate the `Handler` trait and its router glue (default on).
    pub fn build_server(mut self, enabled: bool) -> Self {
        self.build_server = enabled;
        self
    }

    /// Whether to generate the typed `Client` (default on).
    pub fn build_client(mut self, enabled: bool) -> Self {
        self.build_client = enabled;
        self
    }

    /// Writes output here instead of `OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines, and a `cargo:warning` for each of
    /// the schema's [warnings](telepact_schema::Schema::warnings) (default on). A schema
    /// file whose path such a line cannot hold (not UTF-8, or with a line break) is
    /// watched through its directory; a schema directory whose path it cannot hold fails
    /// [`compile_dir`](Self::compile_dir) with [`Error::UnwatchablePath`].
    pub fn emit_rerun_if_changed(mut self, enabled: bool) -> Self {
        self.emit_rerun_if_changed = enabled;
        self
    }

    /// Fails generation when the schema is not backwards compatible with the released
    /// schema in `released` (a copy of the schema directory as of the last release), as
    /// [`telepact_schema::compare()`] judges it: removed types, fields, tags or headers,
    /// changed field and header types, new required fields where requests reach them,
    /// new tags where results reach them, functions that come to require credentials.
    /// The error has one `file:row:col: change` line per change.
    /// Applies to [`generate_dir`](Self::generate_dir) and
    /// [`compile_dir`](Self::compile_dir).
    ///
    /// ```no_run
    /// // build.rs: `api/` is the schema, `api.released/` its copy at the last release.
    /// telepact_codegen::configure()
    ///     .compatible_with("api.released")
    ///     .compile_dir("api")
    ///     .unwrap();
    /// ```
    pub fn compatible_with(mut self, released: impl Into<PathBuf>) -> Self {
        self.compatible_with = Some(released.into());
        self
    }

    /// The generated source for an already loaded schema. `source` is the schema's name:
    /// the file's header names it, and it names the module, made a Rust identifier
    /// (`my-api` → `pub mod my_api`; `schemas/api.telepact.yaml` →
    /// `schemas_api_telepact_yaml`), as [`compile_dir`](Self::compile_dir) names it after
    /// the schema directory.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidOption`] naming the option when one is not valid: an attribute
    ///   or the runtime path that is not Rust (or nests too deep or runs too long), a
    ///   selector or field path that names nothing the schema generates, an attribute the
    ///   generated type or field cannot take, or an [`extern_path`](Self::extern_path) /
    ///   [`extern_traits`](Self::extern_traits) mapping the schema does not allow.
    /// - [`Error::NameCollisions`] when definitions map to one Rust name, or one maps to a
    ///   name the generated code takes.
    /// - [`Error::Unparsable`] when the generated code does not parse.
    pub fn generate(&self, schema: &Schema, source: &str) -> Result<String, Error> {
        self.emit(schema, source, |module| module.into_source())
    }

    /// Generates the code for `schema` and gives it to `into` as it is made.
    fn emit<T>(
        &self,
        schema: &Schema,
        source: &str,
        into: impl FnOnce(Module<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut options = Options::new(
            &self.runtime_path,
            &self.type_attributes,
            self.build_server,
            self.build_client,
        )?;
        options.externs = externs::parse(&self.extern_paths, &self.extern_traits)?;
        for (path, attribute) in &self.field_attributes {
            let attributes = parse_attributes("field_attribute", path, attribute)?;
            options.field_attributes.push((path.clone(), attributes));
        }
        for attribute in &self.handler_attributes {
            let attributes = parse_attributes("handler_attribute", "Handler", attribute)?;
            options
                .handler_attributes
                .extend(quote! { #(#attributes)* });
        }
        for attribute in &self.client_attributes {
            let attributes = parse_attributes("client_attribute", "Client", attribute)?;
            options.client_attributes.extend(quote! { #(#attributes)* });
        }
        generate(schema, &options, source, into)
    }

    /// Loads the schema in `dir` and returns the generated source.
    ///
    /// # Errors
    ///
    /// - [`Error::Schema`] when the schema cannot be read or is invalid (see
    ///   [`Schema::from_dir`]).
    /// - [`Error::Released`] and [`Error::Incompatible`] when
    ///   [`compatible_with`](Self::compatible_with) is set and the released copy cannot
    ///   be loaded, or the schema breaks compatibility with it.
    /// - Each failure of [`generate`](Self::generate), located in `dir`'s files.
    pub fn generate_dir(&self, dir: impl AsRef<Path>) -> Result<String, Error> {
        let dir = dir.as_ref();
        self.generate(&self.load_dir(dir)?, &schema_name(dir))
            .map_err(|error| error.located_in(dir))
    }

    /// Loads the schema in `dir`, checked against its released copy if one is set.
    fn load_dir(&self, dir: &Path) -> Result<Schema, Error> {
        let schema = Schema::from_dir(dir)?;
        if let Some(released) = &self.compatible_with {
            compat::check(&schema, dir, released)?;
        }
        Ok(schema)
    }

    /// Generates `<OUT_DIR>/<dir name>.rs`, the module `<dir name>`, from the schema in
    /// `dir` (include it with `telepact::include_schema!("<dir name>")`) and returns its
    /// path.
    ///
    /// The module's items are written one file per type under `<OUT_DIR>/<dir name>.parts/`
    /// and included from the module, so that after a schema edit rustc's incremental
    /// cache still holds for the types the edit did not change; `generate_dir` gives the
    /// same code as one file. A file is rewritten only when its content changes, and
    /// files of types no longer generated are removed.
    ///
    /// # Errors
    ///
    /// Each failure of [`generate_dir`](Self::generate_dir), and:
    /// - [`Error::UnwatchablePath`] when [`emit_rerun_if_changed`](Self::emit_rerun_if_changed)
    ///   is on and a schema directory's path cannot be written in a
    ///   `cargo:rerun-if-changed` line;
    /// - [`Error::NoOutDir`] when neither [`out_dir`](Self::out_dir) nor `OUT_DIR` is set;
    /// - [`Error::OutputClash`] when another schema directory of the same name, or of
    ///   one that differs only in case, was compiled to the same output in this process;
    /// - [`Error::Io`] when an output file or directory cannot be written, or a stale part
    ///   cannot be removed.
    pub fn compile_dir(&self, dir: impl AsRef<Path>) -> Result<PathBuf, Error> {
        let dir = dir.as_ref();
        if self.emit_rerun_if_changed {
            print_rerun_if_changed(dir)?;
            if let Some(released) = &self.compatible_with {
                print_rerun_if_changed(released)?;
            }
        }
        let name = schema_name(dir);
        let schema = self.load_dir(dir)?;
        if self.emit_rerun_if_changed {
            for warning in schema.warnings() {
                // A key the warning quotes may hold a line break, which would end it.
                let warning = warning.to_string().replace(['\n', '\r'], " ");
                println!("cargo:warning={}: {warning}", dir.display());
            }
        }
        let generated = self
            .emit(&schema, &name, |module| module.into_syntax())
            .map_err(|error| error.located_in(dir))?;
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let path = out_dir.join(format!("{name}.rs"));
        claim_output(&path, dir)?;
        // Never the schema directory itself, whose last component is `name`.
        let output = split(generated, &format!("{name}.parts"));
        write_split(&out_dir, &name, &output)?;
        Ok(path)
    }
}

/// Records that `dir` generates `path` in this build script, and refuses a second
/// schema directory of the same name (`a/api`, `b/api`): it would overwrite the first.
/// Names that differ only in case (`api`, `API`) count as one, as they name one file
/// on the case-insensitive file systems of macOS and Windows.
fn claim_output(path: &Path, dir: &Path) -> Result<(), Error> {
    static OUTPUTS: Mutex<Option<HashMap<PathBuf, (PathBuf, PathBuf)>>> = Mutex::new(None);
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut outputs = OUTPUTS.lock().unwrap_or_else(PoisonError::into_inner);
    let (first_path, first_dir) = outputs
        .get_or_insert_with(HashMap::new)
        .entry(case_folded(path))
        .or_insert_with(|| (path.to_path_buf(), dir.clone()));
    if *first_dir == dir && first_path == path {
        return Ok(());
    }
    Err(Error::OutputClash {
        path: first_path.clone(),
        first: first_dir.clone(),
        second: dir,
    })
}

/// `path` with its file name lower-cased: one key for the names a case-insensitive
/// file system takes for one.
fn case_folded(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(name.to_lowercase())
}

/// The module a schema directory's code is generated as (its last component, `api` for
/// `api/`), as [`Builder::compile_dir`] and [`Builder::generate_dir`] name it. A path
/// whose last component is `.` or `..` is named after the directory it resolves to;
/// `schema` when there is none (the root).
pub fn schema_name(dir: &Path) -> String {
    let resolved = || dir.canonicalize().ok();
    let named = |path: &Path| path.file_name().map(|n| n.to_string_lossy().into_owned());
    named(dir)
        .or_else(|| resolved().as_deref().and_then(named))
        .unwrap_or_else(|| "schema".into())
}

fn print_rerun_if_changed(dir: &Path) -> Result<(), Error> {
    // A schema directory that cannot be listed is the loader's error, as it would be next.
    let io = |source| {
        Error::Schema(LoadError::Io {
            path: dir.to_path_buf(),
            source,
        })
    };
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for path in rerun_paths(dir, &files)? {
        println!("cargo:rerun-if-changed={path}");
    }
    Ok(())
}

/// What to print `cargo:rerun-if-changed` for: the schema directory `dir`, then each of
/// its `files` whose path cargo can read. The files it cannot are covered by the
/// directory, which cargo scans for any change.
fn rerun_paths<'a>(dir: &'a Path, files: &'a [PathBuf]) -> Result<Vec<&'a str>, Error> {
    let dir_text = cargo_path(dir).ok_or_else(|| Error::UnwatchablePath(dir.to_path_buf()))?;
    let file_texts = files.iter().filter_map(|file| cargo_path(file));
    Ok(std::iter::once(dir_text).chain(file_texts).collect())
}

/// `path` as a cargo directive may hold it: not when it is not UTF-8 (cargo would get a
/// lossy path that never exists, and rerun the build script every time) or holds a
/// line break (the rest would be read as another directive).
fn cargo_path(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| !text.contains(['\n', '\r']))
}

/// Writes a split module into `out_dir`: `<name>.rs`, and its parts in `<name>.parts/`.
pub(crate) fn write_split(out_dir: &Path, name: &str, output: &SplitOutput) -> Result<(), Error> {
    write_parts(&out_dir.join(format!("{name}.parts")), &output.parts)?;
    write_if_changed(&out_dir.join(format!("{name}.rs")), &output.main)
}

/// Writes the parts of a split module into `dir` and removes the `.rs` files of parts
/// that are no longer generated.
fn write_parts(dir: &Path, parts: &[(String, String)]) -> Result<(), Error> {
    for (name, content) in parts {
        write_if_changed(&dir.join(name), content)?;
    }
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let stale = path.extension().is_some_and(|ext| ext == "rs")
            && !parts
                .iter()
                .any(|(name, _)| path.file_name() == Some(name.as_ref()));
        if stale {
            fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_cargo_cannot_be_given_are_left_to_their_directory() {
        let dir = Path::new("api");
        let files = [
            dir.join("a.telepact.yaml"),
            dir.join("x\ncargo:warning=INJECTED\ny.telepact.yaml"),
            dir.join("z\r.telepact.yaml"),
        ];
        let paths = rerun_paths(dir, &files).unwrap();
        assert_eq!(paths, ["api", "api/a.telepact.yaml"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_is_left_to_its_directory() {
        use std::os::unix::ffi::OsStrExt;
        let dir = Path::new("api");
        let files = [dir.join(std::ffi::OsStr::from_bytes(b"b\xff.telepact.yaml"))];
        assert_eq!(rerun_paths(dir, &files).unwrap(), ["api"]);
    }

    #[test]
    fn a_directory_cargo_cannot_be_given_is_an_error() {
        let dir = Path::new("a\ncargo:warning=INJECTED");
        let error = rerun_paths(dir, &[]).unwrap_err();
        assert!(matches!(error, Error::UnwatchablePath(_)), "{error}");
    }
}
