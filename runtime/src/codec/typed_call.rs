//! The fast path for a JSON request to a typed route: the frame walked once, declared
//! headers and the input checked against the schema as they are read.

use std::sync::Arc;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use telepact_schema::TypeExpr;

use crate::json_text::string_stop;
use crate::message::{HEADER_ROOM, HeaderName, Headers, Message, Payload};
use crate::router::{TypedHeader, TypedInputs};
use crate::validate::{Compiled, Expect, JSON_NESTING_LIMIT, read_checked, readable};

/// A well-formed JSON request to a typed route, its input read straight from the
/// payload's text and checked against the schema as it is read; `None` for any other
/// request, which is then read as values.
///
/// The frame `[headers, {"fn.x": payload}]` is walked here, so that the payload's text
/// is known without reading it twice: the headers one by one (see
/// [`Cursor::headers`]), then the function's name, and the payload is what
/// lies between the name's colon and the closing `}` and `]` at the end. A body of more
/// than one entry leaves the payload's text longer than one value, which the input's
/// reader refuses.
pub(super) fn read_typed_call(text: &str, inputs: TypedInputs<'_>) -> Option<Message> {
    let mut at = Cursor {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    at.expect(b'[')?;
    let headers = at.headers(inputs)?;
    // Read on their own, the headers may nest one level deeper than inside the
    // message's array, where the value path's parser reads them. (The checked ones
    // stop short of it: the checked reader opens fewer levels.)
    if nesting(&headers) >= usize::from(JSON_NESTING_LIMIT) {
        return None;
    }
    at.expect(b',')?;
    at.expect(b'{')?;
    // A name written with an escape is left to the value path.
    let function = at.plain_string()?;
    at.expect(b':')?;
    let payload = at.rest_before(b"}]")?;
    let (read, args, id) = inputs.reader(function)?;
    let call = (read.json)(payload, inputs.compiled, args).ok()?;
    let call = call.read_from(Payload::Json(inputs.keep(payload.as_bytes())), id);
    Some(Message::checked_call(headers, call))
}

/// Reads a header's `text` into a `T`, checked against its declared type `ty`, for
/// hooks and handlers to take (see [`ServerBuilder::typed_header`]).
///
/// [`ServerBuilder::typed_header`]: crate::ServerBuilder::typed_header
pub(crate) fn read_typed_header<T>(
    text: &str,
    compiled: &Compiled,
    ty: &TypeExpr,
) -> Option<TypedHeader>
where
    T: DeserializeOwned + Send + Sync + 'static,
{
    let value: T = read_header(text, compiled, ty)?;
    Some(Arc::new(value))
}

/// Reads a header's `text` into a `T`, checked against its declared type `ty`.
fn read_header<T: DeserializeOwned>(text: &str, compiled: &Compiled, ty: &TypeExpr) -> Option<T> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = read_checked(&mut json, compiled, Expect::Type(ty)).ok()?;
    json.end().ok()?;
    Some(value)
}

/// A position in a JSON text. The text was checked as UTF-8 once, as a whole; the parts
/// handed to `serde_json` are read as `str`, which it does not check again string by
/// string (as it does a slice).
struct Cursor<'b> {
    text: &'b str,
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    /// Steps over whitespace and then `byte`.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (*self.bytes.get(self.at)? == byte).then(|| self.at += 1)
    }

    fn skip_space(&mut self) {
        while self.bytes.get(self.at).copied().is_some_and(is_json_space) {
            self.at += 1;
        }
    }

    /// Reads a headers object. A header the schema declares, with a type the checked
    /// reader reads, is checked against it and kept as its text
    /// ([`Headers::insert_checked`]): the auth hook reads `@auth_` from it straight into
    /// its own types. Any other is read into values. Each value's extent is found by
    /// [`skip_value`](Self::skip_value) and its text read by `serde_json`, which refuses
    /// anything malformed. A header that does not fit its type leaves the request to
    /// the value path, which says what is wrong; so does a name written with an escape.
    fn headers(&mut self, inputs: TypedInputs<'_>) -> Option<Headers> {
        let compiled = inputs.compiled;
        let mut headers = Headers::new();
        self.expect(b'{')?;
        if self.expect(b'}').is_some() {
            return Some(headers);
        }
        loop {
            let name = self.plain_string()?;
            self.expect(b':')?;
            let text = self.skip_value()?;
            if headers.is_empty() {
                headers = Headers::with_capacity(1 + HEADER_ROOM);
            }
            let declared = compiled.request_headers.get(name);
            match declared.filter(|ty| readable(Expect::Type(ty))) {
                Some(ty) => {
                    let typed = match inputs.header_reader(name) {
                        Some(read) => Some(read(text, compiled, ty)?),
                        None => {
                            read_header::<IgnoredAny>(text, compiled, ty)?;
                            None
                        }
                    };
                    headers.insert_checked(header_name(name), inputs.keep(text.as_bytes()), typed);
                }
                None => {
                    let value: Value = serde_json::from_str(text).ok()?;
                    headers.insert(header_name(name), value);
                }
            }
            self.skip_space();
            let next = *self.bytes.get(self.at)?;
            self.at += 1;
            match next {
                b',' => continue,
                b'}' => return Some(headers),
                _ => return None,
            }
        }
    }

    /// A string written without escapes (after whitespace): its text. `None` for one
    /// with an escape or a control character.
    fn plain_string(&mut self) -> Option<&'b str> {
        self.expect(b'"')?;
        let rest = self.bytes.get(self.at..)?;
        let len = string_stop(rest, true)?;
        if rest[len] != b'"' {
            return None;
        }
        // Between two quotes: on character boundaries of the text, checked as UTF-8.
        let text = self.text.get(self.at..self.at + len)?;
        self.at += len + 1;
        Some(text)
    }

    /// Steps over one value (after whitespace) and gives its text: strings are
    /// skipped to their closing quote, brackets counted until the value's own closes,
    /// and a scalar runs to the next delimiter. Only the extent is found here; whoever
    /// reads the text checks it is JSON.
    fn skip_value(&mut self) -> Option<&'b str> {
        self.skip_space();
        let start = self.at;
        let mut depth = 0_usize;
        loop {
            let byte = *self.bytes.get(self.at)?;
            match byte {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                }
                b'}' | b']' | b',' if depth == 0 => break,
                _ if depth == 0 && is_json_space(byte) => break,
                _ => self.at += 1,
            }
            if depth == 0 && matches!(byte, b'"' | b'}' | b']') {
                break;
            }
        }
        // The value's ends are at ASCII delimiters: on character boundaries.
        self.text
            .get(start..self.at)
            .filter(|value| !value.is_empty())
    }

    /// Steps over a string, from its opening quote to past its closing one.
    fn skip_string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            let rest = self.bytes.get(self.at..)?;
            let stop = string_stop(rest, false)?;
            self.at += stop + 1;
            if rest[stop] == b'"' {
                return Some(());
            }
            // The escaped character, whatever it is, does not end the string.
            self.at += 1;
        }
    }

    /// What is left before `closing` (each byte after optional whitespace) at the end.
    fn rest_before(&self, closing: &[u8]) -> Option<&'b str> {
        let mut end = self.bytes.len();
        for byte in closing.iter().rev() {
            let text = &self.bytes[self.at..end];
            let last = text.iter().rposition(|b| !is_json_space(*b))?;
            if text[last] != *byte {
                return None;
            }
            end = self.at + last;
        }
        self.text.get(self.at..end)
    }
}

/// The protocol's own request headers, named without a copy of the name.
const STANDARD_HEADERS: [&str; 7] = [
    "@auth_", "@id_", "@time_", "@select_", "@bin_", "@pac_", "@unsafe_",
];

/// `name` as a header's name: one of [`STANDARD_HEADERS`] borrowed, any other copied.
fn header_name(name: &str) -> HeaderName {
    match STANDARD_HEADERS.iter().find(|standard| **standard == name) {
        Some(standard) => HeaderName::Borrowed(standard),
        None => HeaderName::Owned(name.to_string()),
    }
}

/// How many maps and arrays the deepest value of `headers` sits in, the map included.
/// Headers checked against the schema as they were read are not counted: the checked
/// reader opens fewer levels than this limit.
fn nesting(headers: &Headers) -> usize {
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(entries) => 1 + entries.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let unchecked = headers.unchecked().filter_map(|(_, value)| value);
    1 + unchecked.map(depth).max().unwrap_or(0)
}

fn is_json_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}
