//! Splits the generated module into one file per type for the build script's output,
//! so that rustc's incremental cache survives a schema edit.
//!
//! rustc keys its incremental results on source positions: an edit that moves every
//! item below it by a line makes it check the whole generated module again (the
//! 200-function benchmark schema took as long after a one-field edit as from scratch).
//! Positions in one file do not move when another file changes, so `compile_dir` writes
//! the module as a skeleton holding `include!`s of per-type files: an edit rewrites
//! only the files of the types it changes (and the embedded schema's), and rustc reuses
//! what it knew of the rest. `Builder::generate` and the `telepact codegen` command
//! still produce the single file, the one to read.

use std::collections::{HashMap, HashSet};

use syn::{Item, Type};

use crate::emit::{Generated, format_items};

/// The generated module as a skeleton and the files it includes.
pub(crate) struct SplitOutput {
    /// The file `include_schema!` includes: the module, its docs and imports, and one
    /// `include!` per part.
    pub main: String,
    /// (file name inside the parts directory, content), in the skeleton's order.
    pub parts: Vec<(String, String)>,
}

/// Splits `generated` (one `pub mod`) into parts kept in the directory `parts_dir`,
/// named relative to the main file's directory.
pub(crate) fn split(generated: Generated, parts_dir: &str) -> SplitOutput {
    split_with(generated, parts_dir, |parts, items| {
        for item in items {
            if let Item::Mod(module) = item {
                parts.split_module(module, "");
            }
        }
    })
}

/// [`split`] for a module file (the runtime's `typed::standard`): its own items.
pub(crate) fn split_file(generated: Generated, parts_dir: &str) -> SplitOutput {
    split_with(generated, parts_dir, |parts, items| {
        parts.split_items(items, "")
    })
}

fn split_with(
    generated: Generated,
    parts_dir: &str,
    split_items: impl FnOnce(&mut Parts, &mut Vec<Item>),
) -> SplitOutput {
    let Generated { header, mut file } = generated;
    let mut parts = Parts::new(parts_dir);
    split_items(&mut parts, &mut file.items);
    let main = format!("{header}{}", format_items(file.items));
    SplitOutput {
        main,
        parts: parts.finish(),
    }
}

/// How much of a type's name a part's file name keeps.
const MAX_NAME_CHARS: usize = 64;

/// The parts collected so far, grouped by the type (or function) each item belongs to.
struct Parts {
    dir: String,
    /// Part names in first-seen order, with their items.
    order: Vec<String>,
    items: HashMap<String, Vec<Item>>,
    /// Lower-cased names taken, so no two parts clash on a case-insensitive file system.
    taken: HashSet<String>,
    /// (module prefix + owner) → part name.
    names: HashMap<String, String>,
}

impl Parts {
    fn new(dir: &str) -> Self {
        Parts {
            dir: dir.to_string(),
            order: Vec::new(),
            items: HashMap::new(),
            taken: HashSet::new(),
            names: HashMap::new(),
        }
    }

    /// Moves the items of `module` (and of its inline submodules) into parts, leaving
    /// its inner attributes, imports and one `include!` per part in their place.
    /// Part names of a submodule's items start with its name (`select.MyShiftOk.rs`).
    fn split_module(&mut self, module: &mut syn::ItemMod, prefix: &str) {
        if let Some((_, items)) = module.content.as_mut() {
            self.split_items(items, prefix);
        }
    }

    /// [`Parts::split_module`] for the items of a module.
    fn split_items(&mut self, items: &mut Vec<Item>, prefix: &str) {
        let mut kept = Vec::new();
        for mut item in std::mem::take(items) {
            match &mut item {
                Item::Use(_) | Item::Macro(_) => kept.push(item),
                Item::Mod(inner) if inner.content.is_some() => {
                    let inner_prefix = format!("{prefix}{}.", inner.ident);
                    self.split_module(inner, &inner_prefix);
                    kept.push(item);
                }
                _ => {
                    // The `include!` goes where the part's first item was.
                    if let Some(name) = self.add(prefix, owner(&item), item) {
                        let path = format!("{}/{name}", self.dir);
                        kept.push(syn::parse_quote! { include!(#path); });
                    }
                }
            }
        }
        *items = kept;
    }

    /// Files `item` under its owner's part; returns the part's name if the part is new.
    fn add(&mut self, prefix: &str, owner: String, item: Item) -> Option<String> {
        let key = format!("{prefix}{owner}");
        let (name, new) = match self.names.get(&key) {
            Some(name) => (name.clone(), false),
            None => {
                let name = self.unique_name(&key);
                self.names.insert(key, name.clone());
                self.order.push(name.clone());
                (name, true)
            }
        };
        self.items.entry(name.clone()).or_default().push(item);
        new.then_some(name)
    }

    /// A file name for the part `key`, unlike every other ignoring case, and cut to
    /// [`MAX_NAME_CHARS`]: file systems refuse names past 255 bytes and Windows paths
    /// past 260 characters, while a schema name can be longer.
    fn unique_name(&mut self, key: &str) -> String {
        let stem = match key.char_indices().nth(MAX_NAME_CHARS) {
            Some((end, _)) => &key[..end],
            None => key,
        };
        let mut name = format!("{stem}.rs");
        let mut n = 2;
        while !self.taken.insert(name.to_lowercase()) {
            name = format!("{stem}-{n}.rs");
            n += 1;
        }
        name
    }

    fn finish(mut self) -> Vec<(String, String)> {
        self.order
            .iter()
            .map(|name| {
                let items = self.items.remove(name).unwrap_or_default();
                let content = format!(
                    "// @generated by telepact-codegen: part of the module in `{}.rs`. Do not edit.\n\n{}",
                    self.dir.trim_end_matches(".parts"),
                    format_items(items)
                );
                (name.clone(), content)
            })
            .collect()
    }
}

/// The name an item is filed under: its own for a type, function, trait or constant;
/// the type it implements for an `impl`.
fn owner(item: &Item) -> String {
    match item {
        Item::Struct(item) => item.ident.to_string(),
        Item::Enum(item) => item.ident.to_string(),
        Item::Type(item) => item.ident.to_string(),
        Item::Trait(item) => item.ident.to_string(),
        Item::Fn(item) => item.sig.ident.to_string(),
        Item::Const(item) => item.ident.to_string(),
        Item::Static(item) => item.ident.to_string(),
        Item::Impl(item) => self_type_name(&item.self_ty),
        _ => "item".into(),
    }
}

fn self_type_name(ty: &Type) -> String {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| "impl".into(), |segment| segment.ident.to_string()),
        _ => "impl".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_source(source: &str) -> SplitOutput {
        let file = syn::parse_file(source).unwrap();
        split(
            Generated {
                header: String::new(),
                file,
            },
            "api.parts",
        )
    }

    #[test]
    fn long_names_are_cut_and_still_unlike() {
        let long = "A".repeat(300);
        let output = split_source(&format!(
            "pub mod api {{ pub struct {long}B {{}} pub struct {long}C {{}} }}"
        ));
        let names: Vec<&str> = output.parts.iter().map(|(name, _)| name.as_str()).collect();
        let stem = "A".repeat(MAX_NAME_CHARS);
        assert_eq!(names, [format!("{stem}.rs"), format!("{stem}-2.rs")]);
    }

    #[test]
    fn items_go_to_their_owners_file_and_names_never_clash_ignoring_case() {
        let output = split_source(
            "pub mod api {
                use x as rt;
                pub struct Loaf {}
                impl Loaf { fn new() {} }
                pub fn loaf() {}
                pub mod select { pub enum Loaf { A } }
                impl rt::Trait for Loaf {}
            }",
        );
        let names: Vec<&str> = output.parts.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["Loaf.rs", "loaf-2.rs", "select.Loaf.rs"]);
        assert_eq!(
            output.parts[0].1.matches("impl").count(),
            2,
            "{}",
            output.parts[0].1
        );
        assert!(output.main.contains("use x as rt;"), "{}", output.main);
        assert!(
            output
                .main
                .contains(r#"include!("api.parts/select.Loaf.rs");"#),
            "{}",
            output.main
        );
        assert!(
            output.parts[0]
                .1
                .starts_with("// @generated by telepact-codegen: part of the module in `api.rs`.")
        );
    }
}
