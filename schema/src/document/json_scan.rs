//! Locates keys and array elements in JSON text (serde_json reports no positions).
//!
//! Runs only when a failure must be located, over text that already parsed, so it
//! favours simplicity over speed.

use super::locate::{Locations, NodeId};
use crate::error::Location;

/// Nesting deeper than this is not located (serde_json refuses it anyway).
const MAX_DEPTH: usize = 256;

/// Records the start of every key and array element of `text`. `None` when the text
/// cannot be scanned or an object repeats a key (the reference then locates nothing).
pub(crate) fn json_locations(text: &str) -> Option<Locations> {
    let mut scanner = Scanner {
        chars: text.chars().collect(),
        pos: 0,
        row: 1,
        col: 1,
        locations: Locations::new(Location::START),
    };
    scanner.skip_whitespace();
    let root = scanner.here();
    scanner.locations.set_root(root);
    scanner.value(NodeId::ROOT, 0)?;
    Some(scanner.locations)
}

struct Scanner {
    chars: Vec<char>,
    pos: usize,
    row: usize,
    col: usize,
    locations: Locations,
}

impl Scanner {
    fn here(&self) -> Location {
        Location {
            row: self.row,
            col: self.col,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        // A `\r` ends a line unless a `\n` follows, as in YAML (and in the reference's
        // positions, which it reads for JSON documents too).
        let line_ends = c == '\n' || (c == '\r' && self.peek() != Some('\n'));
        if line_ends {
            self.row += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, wanted: char) -> Option<()> {
        self.skip_whitespace();
        (self.bump()? == wanted).then_some(())
    }

    /// The value of the node `id`, recording where its keys and elements start.
    fn value(&mut self, id: NodeId, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_whitespace();
        match self.peek()? {
            '{' => self.object(id, depth),
            '[' => self.array(id, depth),
            '"' => self.string().map(|_| ()),
            _ => self.scalar(),
        }
    }

    fn object(&mut self, id: NodeId, depth: usize) -> Option<()> {
        self.bump();
        self.skip_whitespace();
        if self.peek()? == '}' {
            self.bump();
            return Some(());
        }
        loop {
            self.skip_whitespace();
            let start = self.here();
            let key = self.string()?;
            // A repeated key is refused: `record` keeps only a first one.
            let child = self.locations.record(id, key.into(), start)?;
            self.expect(':')?;
            self.value(child, depth + 1)?;
            self.skip_whitespace();
            match self.bump()? {
                ',' => continue,
                '}' => return Some(()),
                _ => return None,
            }
        }
    }

    fn array(&mut self, id: NodeId, depth: usize) -> Option<()> {
        self.bump();
        self.skip_whitespace();
        if self.peek()? == ']' {
            self.bump();
            return Some(());
        }
        let mut index: usize = 0;
        loop {
            self.skip_whitespace();
            let start = self.here();
            let child = self.locations.record(id, index.into(), start)?;
            self.value(child, depth + 1)?;
            index += 1;
            self.skip_whitespace();
            match self.bump()? {
                ',' => continue,
                ']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// Reads a string literal and returns its decoded content.
    fn string(&mut self) -> Option<String> {
        let begin = self.pos;
        if self.bump()? != '"' {
            return None;
        }
        loop {
            match self.bump()? {
                '\\' => {
                    self.bump()?;
                }
                '"' => break,
                _ => {}
            }
        }
        let literal: String = self.chars[begin..self.pos].iter().collect();
        serde_json::from_str(&literal).ok()
    }

    /// Numbers, `true`, `false`, `null`: skipped up to the next delimiter.
    fn scalar(&mut self) -> Option<()> {
        let begin = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, ',' | ']' | '}' | ' ' | '\t' | '\n' | '\r') {
                break;
            }
            self.bump();
        }
        (self.pos > begin).then_some(())
    }
}
