//! The `@base64_` header: where a JSON message carries `bytes` values as base64 text.
//!
//! JSON has no bytes, so a server answering in JSON writes each `bytes` value as
//! base64 and names the places in `@base64_`: a tree of the body's keys whose leaves
//! are `true`, where `"*"` stands for every element of a list or every entry of a map,
//! e.g. `{"Ok_": {"blob": true, "pages": {"*": true}}}`. A binary answer carries bytes
//! as they are and has no such header. The server writes the tree with [`Base64Paths`]
//! from the body it sends (the mock's answers, generated or stubbed, included); the
//! client reads it back with [`marked_bytes`].

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::base64_text::BASE64;
use crate::message::Headers;

/// The header naming where a JSON body holds bytes.
pub(crate) const HEADER: &str = "@base64_";

/// The places of bytes values in a body, built one path at a time.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Base64Paths(Map<String, Value>);

impl Base64Paths {
    /// Marks the value at `path` (keys, with `"*"` for any element or entry) as bytes.
    pub(crate) fn mark<'a>(&mut self, path: impl IntoIterator<Item = &'a str>) {
        let path: Vec<&str> = path.into_iter().collect();
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut node = &mut self.0;
        for part in parents {
            let child = node
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            let Value::Object(child) = child else {
                return;
            };
            node = child;
        }
        node.insert(last.to_string(), Value::Bool(true));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tree as it goes into the header.
    #[cfg(test)]
    pub(crate) fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Puts the tree into `headers` as `@base64_`, when it names any place.
    pub(crate) fn write_header(self, headers: &mut Headers) {
        if !self.is_empty() {
            headers.insert(HEADER.to_string(), Value::Object(self.0));
        }
    }
}

/// One `bytes` value of a JSON message, found through its `@base64_` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedBytes {
    /// Where the value sits in the body: keys, and list indexes as decimal text.
    pub path: Vec<String>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
}

/// A `@base64_` header that does not fit its body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("@base64_ does not fit the body at {path:?}: {problem}")]
pub struct Base64HeaderError {
    /// Where in the body the header and the body disagree.
    pub path: Vec<String>,
    /// What is wrong there.
    pub problem: &'static str,
}

/// The bytes values a JSON message's `@base64_` header names, decoded, in body
/// order. A message without the header has none; `null` at a named place is skipped,
/// as a nullable `bytes` value may be `null`.
///
/// Below a `"*"` the tree names the places of every element together: a union tag or
/// an optional field that holds bytes in one element may be missing from another, and
/// an element of a nullable type may be `null`. There, a missing key or a `null` is
/// passed over; elsewhere the header must fit the body.
pub(crate) fn marked_bytes(
    headers: &Headers,
    body: &Map<String, Value>,
) -> Result<Vec<MarkedBytes>, Base64HeaderError> {
    let mut found = Vec::new();
    walk(headers, body, Some(&mut found))?;
    Ok(found)
}

/// Whether a JSON message's `@base64_` header fits its body and names base64 text
/// alone, without keeping what it names: a value's path is copied for each bytes value
/// found, which from a long list of empty strings deep in a body would be many times
/// the message's size.
pub(crate) fn check_marked_bytes(
    headers: &Headers,
    body: &Map<String, Value>,
) -> Result<(), Base64HeaderError> {
    walk(headers, body, None)
}

fn walk(
    headers: &Headers,
    body: &Map<String, Value>,
    found: Option<&mut Vec<MarkedBytes>>,
) -> Result<(), Base64HeaderError> {
    let Some(paths) = headers.get(HEADER) else {
        return Ok(());
    };
    let mut walk = Walk {
        path: Vec::new(),
        found,
        wildcards: 0,
    };
    match paths {
        Value::Object(tree) => walk.node(tree, body),
        _ => Err(walk.error("the header is not an object")),
    }
}

struct Walk<'f> {
    path: Vec<String>,
    /// Where to keep what is found; `None` only checks it.
    found: Option<&'f mut Vec<MarkedBytes>>,
    /// How many `"*"` the walk is below: the tree names the places of all elements.
    wildcards: usize,
}

impl Walk<'_> {
    fn error(&self, problem: &'static str) -> Base64HeaderError {
        Base64HeaderError {
            path: self.path.clone(),
            problem,
        }
    }

    /// Follows one level of the tree into an object of the body.
    fn node(
        &mut self,
        tree: &Map<String, Value>,
        object: &Map<String, Value>,
    ) -> Result<(), Base64HeaderError> {
        for (key, below) in tree {
            if key == "*" {
                self.wildcards += 1;
                for (entry, value) in object {
                    self.step(entry.clone(), below, value)?;
                }
                self.wildcards -= 1;
                continue;
            }
            match object.get(key) {
                Some(value) => self.step(key.clone(), below, value)?,
                None if self.wildcards > 0 => {}
                None => {
                    self.path.push(key.clone());
                    return Err(self.error("the body has no such key"));
                }
            }
        }
        Ok(())
    }

    fn step(&mut self, key: String, below: &Value, value: &Value) -> Result<(), Base64HeaderError> {
        self.path.push(key);
        self.value(below, value)?;
        self.path.pop();
        Ok(())
    }

    fn value(&mut self, below: &Value, value: &Value) -> Result<(), Base64HeaderError> {
        match (below, value) {
            (Value::Bool(true), Value::Null) => Ok(()),
            (Value::Bool(true), Value::String(text)) => {
                let bytes = BASE64
                    .decode(text)
                    .map_err(|_| self.error("the value is not base64"))?;
                if let Some(found) = self.found.as_deref_mut() {
                    found.push(MarkedBytes {
                        path: self.path.clone(),
                        bytes,
                    });
                }
                Ok(())
            }
            (Value::Bool(true), _) => Err(self.error("the value is not a string")),
            (Value::Object(tree), Value::Array(items)) => {
                let Some(every) = tree.get("*").filter(|_| tree.len() == 1) else {
                    return Err(self.error("a list is named by a key other than \"*\""));
                };
                self.wildcards += 1;
                for (index, item) in items.iter().enumerate() {
                    self.step(index.to_string(), every, item)?;
                }
                self.wildcards -= 1;
                Ok(())
            }
            (Value::Object(tree), Value::Object(object)) => self.node(tree, object),
            (Value::Object(_), Value::Null) if self.wildcards > 0 => Ok(()),
            (Value::Object(_), _) => Err(self.error("the value is neither a list nor an object")),
            _ => Err(self.error("a place is neither true nor an object")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tree(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn marked_paths_merge_into_one_tree() {
        let mut paths = Base64Paths::default();
        paths.mark(["Ok_", "blob"]);
        paths.mark(["Ok_", "pages", "*"]);
        paths.mark(["Ok_", "doc", "Pdf", "data"]);
        assert_eq!(
            Value::Object(paths.as_map().clone()),
            json!({"Ok_": {"blob": true, "pages": {"*": true}, "doc": {"Pdf": {"data": true}}}})
        );
    }

    #[test]
    fn an_empty_tree_writes_no_header() {
        let mut headers = Headers::new();
        Base64Paths::default().write_header(&mut headers);
        assert!(headers.is_empty());
    }

    #[test]
    fn bytes_are_found_in_lists_maps_and_nested_objects() {
        let headers = tree(json!({"@base64_": {"Ok_": {
            "list": {"*": true}, "map": {"*": true}, "union": {"Two": {"data": true}}
        }}}));
        let body = tree(json!({"Ok_": {
            "list": ["AAE=", null], "map": {"k": "aGk="}, "union": {"Two": {"data": ""}}
        }}));
        let headers: Headers = headers.into();
        assert_eq!(check_marked_bytes(&headers, &body), Ok(()));
        let found = marked_bytes(&headers, &body).expect("fits");
        let at = |path: &[&str], bytes: &[u8]| MarkedBytes {
            path: path.iter().map(|p| p.to_string()).collect(),
            bytes: bytes.to_vec(),
        };
        assert_eq!(
            found,
            vec![
                at(&["Ok_", "list", "0"], &[0, 1]),
                at(&["Ok_", "map", "k"], b"hi"),
                at(&["Ok_", "union", "Two", "data"], b""),
            ]
        );
    }

    #[test]
    fn a_header_that_does_not_fit_is_an_error() {
        let body = tree(json!({"Ok_": {"blob": "%%", "n": 1}}));
        let cases = [
            (json!({"Ok_": {"blob": true}}), "the value is not base64"),
            (json!({"Ok_": {"n": true}}), "the value is not a string"),
            (json!({"Ok_": {"gone": true}}), "the body has no such key"),
            (json!({"Ok_": true}), "the value is not a string"),
            (json!(true), "the header is not an object"),
        ];
        for (header, problem) in cases {
            let headers: Headers = tree(json!({ "@base64_": header })).into();
            let error = marked_bytes(&headers, &body).expect_err("does not fit");
            assert_eq!(error.problem, problem);
            assert_eq!(check_marked_bytes(&headers, &body), Err(error));
        }
    }

    /// The server marks the places of every element under one `"*"`: an element whose
    /// union tag, optional field or nullable value holds no bytes is passed over.
    #[test]
    fn below_a_wildcard_elements_without_a_named_place_are_passed_over() {
        let body = tree(json!({"Ok_": {
            "items": [{"One": {"data": "AQ=="}}, {"Two": {}}, null, {"Opt": {}}],
            "byName": {"a": {"data": "Ag=="}, "b": null, "c": {}}
        }}));
        let header = json!({"Ok_": {
            "items": {"*": {"One": {"data": true}, "Opt": {"data!": true}}},
            "byName": {"*": {"data": true}}
        }});
        let headers: Headers = tree(json!({ "@base64_": header })).into();
        let found = marked_bytes(&headers, &body).expect("fits");
        let bytes: Vec<&[u8]> = found.iter().map(|m| m.bytes.as_slice()).collect();
        assert_eq!(bytes, [&[1u8][..], &[2u8][..]]);
        assert_eq!(check_marked_bytes(&headers, &body), Ok(()));
        // Outside a wildcard the header still has to fit.
        let headers: Headers = tree(json!({"@base64_": {"Ok_": {"gone": {"data": true}}}})).into();
        let error = marked_bytes(&headers, &body).expect_err("does not fit");
        assert_eq!(error.problem, "the body has no such key");
    }
}
