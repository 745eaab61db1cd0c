//! The generated module, made and formatted a piece at a time.
//!
//! Formatting a module of thousands of types as one token stream and one syntax tree
//! held the whole module several times over: a 1 MB schema took 3.6 GB to give 76 MB
//! of Rust. Made and formatted chunk by chunk (a type and its impls, say), only one
//! chunk is held as tokens or syntax, and the formatted text is the largest thing kept.
//! Each chunk is formatted at the depth it sits at, so the text is the same as
//! formatting the module whole.

use proc_macro2::TokenStream;
use quote::quote;

use crate::emit::{Generated, file_of, space_items};
use crate::error::Error;

/// Token streams made one at a time, as they are formatted.
pub(crate) type Chunks<'a> = Box<dyn Iterator<Item = TokenStream> + 'a>;

/// A part of the generated code.
pub(crate) enum Piece<'a> {
    /// Items, made chunk by chunk.
    Items(Chunks<'a>),
    /// An inline module: `outer` holds its outer attributes and `pub mod name`, `inner`
    /// its inner attributes and imports; its other items are `pieces`.
    Module {
        outer: TokenStream,
        inner: TokenStream,
        pieces: Vec<Piece<'a>>,
    },
}

impl<'a> Piece<'a> {
    /// Items made chunk by chunk, as `chunks` yields them.
    pub(crate) fn items(chunks: impl Iterator<Item = TokenStream> + 'a) -> Self {
        Piece::Items(Box::new(chunks))
    }

    /// Items made in one chunk.
    pub(crate) fn item(tokens: TokenStream) -> Self {
        Piece::items(std::iter::once(tokens))
    }
}

/// The generated code and the header comment of its file.
pub(crate) struct Module<'a> {
    pub header: String,
    pub pieces: Vec<Piece<'a>>,
}

impl Module<'_> {
    /// The code as one formatted file.
    pub(crate) fn into_source(self) -> Result<String, Error> {
        let mut code = String::new();
        for piece in self.pieces {
            piece.format_into(0, &mut code)?;
        }
        Ok(self.header + &space_items(&code))
    }

    /// The code as one syntax tree, for splitting into files.
    pub(crate) fn into_syntax(self) -> Result<Generated, Error> {
        let mut items = Vec::new();
        for piece in self.pieces {
            piece.append_items(&mut items)?;
        }
        Ok(Generated {
            header: self.header,
            file: file_of(items),
        })
    }
}

/// An item that marks where a module's own items go in its formatted text.
const PLACEHOLDER: &str = "const __TELEPACT_ITEMS: () = ();";

impl Piece<'_> {
    /// Appends the piece's items to `items` as syntax.
    fn append_items(self, items: &mut Vec<syn::Item>) -> Result<(), Error> {
        match self {
            Piece::Items(chunks) => {
                for chunk in chunks {
                    items.extend(parse_items(chunk)?);
                }
            }
            Piece::Module {
                outer,
                inner,
                pieces,
            } => {
                let mut module = parse_module(outer, inner)?;
                let content = &mut module.content.get_or_insert_with(Default::default).1;
                for piece in pieces {
                    piece.append_items(content)?;
                }
                items.push(syn::Item::Mod(module));
            }
        }
        Ok(())
    }

    /// Appends the piece, formatted as it is inside `depth` modules, to `out`.
    fn format_into(self, depth: usize, out: &mut String) -> Result<(), Error> {
        match self {
            Piece::Items(chunks) => {
                for chunk in chunks {
                    let items = parse_items(chunk)?;
                    if !items.is_empty() {
                        format_at(items, depth, out);
                    }
                }
            }
            Piece::Module {
                outer,
                inner,
                pieces,
            } => {
                // The module is formatted around a placeholder item, whose line the
                // module's items take.
                let placeholder: syn::Item =
                    syn::parse_str(PLACEHOLDER).map_err(|e| Error::Unparsable(e.to_string()))?;
                let mut module = parse_module(outer, inner)?;
                let content = &mut module.content.get_or_insert_with(Default::default).1;
                content.push(placeholder);
                let mut text = String::new();
                format_at(vec![syn::Item::Mod(module)], depth, &mut text);
                let (opening, closing) = text
                    .split_once(&format!("{}\n", PLACEHOLDER))
                    .ok_or_else(|| Error::Unparsable("a generated module".into()))?;
                // The placeholder's indentation ends the opening.
                out.push_str(opening.trim_end_matches(' '));
                for piece in pieces {
                    piece.format_into(depth + 1, out)?;
                }
                out.push_str(closing);
            }
        }
        Ok(())
    }
}

fn parse_items(chunk: TokenStream) -> Result<Vec<syn::Item>, Error> {
    syn::parse2::<syn::File>(chunk)
        .map(|file| file.items)
        .map_err(|e| Error::Unparsable(e.to_string()))
}

fn parse_module(outer: TokenStream, inner: TokenStream) -> Result<syn::ItemMod, Error> {
    syn::parse2(quote! { #outer { #inner } }).map_err(|e| Error::Unparsable(e.to_string()))
}

/// Appends `items` to `out` formatted as they are inside `depth` modules: wrapped in as
/// many, formatted, and unwrapped again, so that lines break where they would in the
/// whole module.
fn format_at(items: Vec<syn::Item>, depth: usize, out: &mut String) {
    let mut items = items;
    for _ in 0..depth {
        let mut wrapper: syn::ItemMod = syn::parse_quote! { mod wrapper {} };
        if let Some((_, content)) = wrapper.content.as_mut() {
            *content = items;
        }
        items = vec![syn::Item::Mod(wrapper)];
    }
    let text = prettyplease::unparse(&file_of(items));
    // The wrappers' openings are the first `depth` lines, their closings the last.
    let start = text.split_inclusive('\n').take(depth).map(str::len).sum();
    let end = text.len()
        - text
            .rsplit_terminator('\n')
            .take(depth)
            .map(|line| line.len() + 1)
            .sum::<usize>();
    out.push_str(&text[start..end]);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use telepact_schema::Schema;

    use crate::emit::{Options, format_items, generate};

    /// The module formatted a chunk at a time is the module formatted whole.
    #[test]
    fn formatting_by_chunks_gives_the_whole_modules_text() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in [
            "tests/schemas/features",
            "tests/schemas/collisions",
            "../api",
        ] {
            let schema = Schema::from_dir(manifest.join(dir)).unwrap();
            for (server, client) in [(true, true), (true, false), (false, true)] {
                let options = Options::new("::telepact", &[], server, client).unwrap();
                let by_chunks = generate(&schema, &options, "api", |m| m.into_source()).unwrap();
                let whole = generate(&schema, &options, "api", |m| m.into_syntax()).unwrap();
                let expected = whole.header + &format_items(whole.file.items);
                assert!(
                    by_chunks == expected,
                    "{dir} (server {server}, client {client})"
                );
            }
        }
    }
}
