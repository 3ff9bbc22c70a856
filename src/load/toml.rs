//! TOML text -> [`Node`] tree, through `toml`'s spanned document parser.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::node::{Entry, Node, Value};
use super::Limits;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Located, SourceFile, Span};

pub fn parse(
    file: FileId,
    source: &SourceFile,
    limits: &Limits,
) -> (Option<Node>, Vec<Diagnostic>) {
    if let Some(at) = too_deep(&source.text, limits.max_depth) {
        let d = Diagnostic::new(
            Code::E001,
            Span::new(file, at, at + 1),
            format!("nesting deeper than {} levels", limits.max_depth),
        )
        .with_label("too deep here")
        .with_help("each part of a table header or dotted key is a level, as is each array or inline table");
        return (None, vec![d]);
    }
    match DeTable::parse(&source.text) {
        Ok(table) => {
            let span = table.span();
            let node = Node {
                span: Span::new(file, span.start, span.end),
                value: table_value(file, table.get_ref()),
            };
            (Some(node), Vec::new())
        }
        Err(err) => {
            let range = err.span();
            let message = err.message().trim().replace('\n', " ");
            let at = range.clone().unwrap_or(0..0);
            let mut d = Diagnostic::new(
                Code::E001,
                Span::new(file, at.start, at.end),
                format!("invalid TOML: {message}"),
            )
            .with_label("here");
            if range.is_none() {
                d = d.with_note("the TOML parser gave no position for this error");
            }
            (None, vec![d])
        }
    }
}

fn table_value(file: FileId, table: &DeTable<'_>) -> Value {
    Value::Map(
        table
            .iter()
            .map(|(k, v)| {
                let ks = k.span();
                Entry {
                    key: Located::new(k.get_ref().to_string(), Span::new(file, ks.start, ks.end)),
                    value: node(file, v),
                }
            })
            .collect(),
    )
}

fn node(file: FileId, v: &Spanned<DeValue<'_>>) -> Node {
    let s = v.span();
    let value = match v.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Str(i.as_str().to_owned()),
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => Value::Str(f.as_str().to_owned()),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => Value::Seq(items.iter().map(|i| node(file, i)).collect()),
        DeValue::Table(t) => table_value(file, t),
    };
    Node {
        span: Span::new(file, s.start, s.end),
        value,
    }
}

/// Byte offset where nesting first exceeds `max` levels, skipping strings
/// and comments; a cheap guard so that no parser recurses without bound, and
/// so that a too deep key is reported where it is (the `toml` parser refuses
/// a dotted key of 80 parts with an error that has no place).
///
/// Every table level counts, however it is written: a part of a table
/// header (`[a.b.c]` is three levels), a part of a dotted key but its last
/// (`a.b.c = 1` is two), an array or an inline table.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    Depth {
        bytes: text.as_bytes(),
        i: 0,
        max,
    }
    .scan()
}

struct Depth<'a> {
    bytes: &'a [u8],
    i: usize,
    max: usize,
}

impl Depth<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_comment(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.i += 1;
        }
    }

    /// Skips a string starting at `i` (a quote), triple-quoted or not.
    fn skip_string(&mut self) {
        let Some(quote) = self.peek() else { return };
        let b = self.bytes;
        let three = [quote, quote, quote];
        let escapes = quote == b'"';
        if b.get(self.i..self.i + 3) == Some(&three[..]) {
            self.i += 3;
            while self.i < b.len() && b.get(self.i..self.i + 3) != Some(&three[..]) {
                self.i += if escapes && b[self.i] == b'\\' { 2 } else { 1 };
            }
            self.i += 3;
            // A closing run may hold one or two more quotes (`""""`).
            while self.peek() == Some(quote) {
                self.i += 1;
            }
        } else {
            self.i += 1;
            while self.i < b.len() && b[self.i] != quote && b[self.i] != b'\n' {
                self.i += if escapes && b[self.i] == b'\\' { 2 } else { 1 };
            }
            self.i += 1;
        }
        self.i = self.i.min(b.len());
    }

    /// Reads a (dotted) key; returns the start of each part.
    fn key(&mut self) -> Vec<usize> {
        let bare = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
        let mut parts = Vec::new();
        loop {
            self.skip_blanks();
            parts.push(self.i);
            match self.peek() {
                Some(b'"' | b'\'') => self.skip_string(),
                _ => {
                    while self.peek().is_some_and(bare) {
                        self.i += 1;
                    }
                }
            }
            self.skip_blanks();
            if self.peek() == Some(b'.') {
                self.i += 1;
            } else {
                return parts;
            }
        }
    }

    fn scan(mut self) -> Option<usize> {
        // Depth of the table that top-level keys go into (its header's parts).
        let mut table = 0usize;
        // Open arrays and inline tables: the bracket and the depth it creates.
        let mut open: Vec<(u8, usize)> = Vec::new();
        // Whether a key comes next (line start, after `{`, or `,` in `{}`).
        let mut at_key = true;
        // Depth of the table or array that holds what comes next.
        let mut level = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'#' => self.skip_comment(),
                b'\n' => {
                    self.i += 1;
                    if open.is_empty() {
                        at_key = true;
                        level = table;
                    }
                }
                b'[' if at_key && open.is_empty() => {
                    // A table header, `[a.b]` or `[[a.b]]`: part k is level k + 1.
                    self.i += 1;
                    if self.peek() == Some(b'[') {
                        self.i += 1;
                    }
                    let parts = self.key();
                    if let Some(&at) = parts.get(self.max) {
                        return Some(at);
                    }
                    table = parts.len();
                    level = table;
                    at_key = false;
                    while self.peek() == Some(b']') {
                        self.i += 1;
                    }
                }
                b']' | b'}' => {
                    open.pop();
                    level = open.last().map_or(table, |&(_, d)| d);
                    at_key = false;
                    self.i += 1;
                }
                _ if at_key => {
                    // A key/value pair: part k (0-based) of its key but the
                    // last is a table at `level + k + 1`.
                    let start = self.i;
                    let parts = self.key();
                    let created = parts.len() - 1;
                    if level + created > self.max {
                        return parts.get(self.max - level.min(self.max)).copied();
                    }
                    level += created;
                    at_key = false;
                    if self.peek() == Some(b'=') {
                        self.i += 1;
                    } else if self.i == start {
                        // Not a key at all: step over it.
                        self.i += 1;
                    }
                }
                b'"' | b'\'' => self.skip_string(),
                b'[' | b'{' => {
                    let depth = level + 1;
                    if depth > self.max {
                        return Some(self.i);
                    }
                    open.push((c, depth));
                    level = depth;
                    at_key = c == b'{';
                    self.i += 1;
                }
                b',' => {
                    if let Some(&(bracket, d)) = open.last() {
                        level = d;
                        at_key = bracket == b'{';
                    }
                    self.i += 1;
                }
                _ => self.i += 1,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::too_deep;

    fn dotted(n: usize) -> String {
        (0..n)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(".")
    }

    #[test]
    fn every_table_level_counts_wherever_it_is_written() {
        // 64 levels are fine, the 65th is reported at its own part.
        assert_eq!(too_deep(&format!("[{}]\nx = 1\n", dotted(64)), 64), None);
        let text = format!("a = 1\n[{}]\n", dotted(65));
        assert_eq!(too_deep(&text, 64), text.find("k64"));
        let text = format!("[[{}]]\n", dotted(65));
        assert_eq!(too_deep(&text, 64), text.find("k64"));
        // A dotted key: all parts but the last are tables.
        assert_eq!(too_deep(&format!("{} = 1\n", dotted(65)), 64), None);
        let text = format!("{} = 1\n", dotted(66));
        assert_eq!(too_deep(&text, 64), text.find("k64"));
        // Under a header, inside an inline table, in an array.
        let text = format!("[{}]\nx = {{ {} = 1 }}\n", dotted(30), dotted(40));
        assert_eq!(too_deep(&text, 64), text.find("k33."));
        let text = format!("[{}]\nx = [[[1]]]\n", dotted(62));
        assert_eq!(too_deep(&text, 64), text.find("[1"));
        // Dots in strings, comments and values are no levels.
        let text = format!(
            "\"{}\" = \"{}\" # {}\nv = 1.5\n",
            dotted(90),
            dotted(90),
            dotted(90)
        );
        assert_eq!(too_deep(&text, 64), None);
        let text = format!(
            "x = '''\n[{}]\n'''\ny = \"\"\"\n{} = 1\"\"\"\n",
            dotted(90),
            dotted(90)
        );
        assert_eq!(too_deep(&text, 64), None);
        // Brackets alone, as before.
        let text = format!("x = {}{}\n", "[".repeat(70), "]".repeat(70));
        assert_eq!(too_deep(&text, 64), Some(4 + 64));
    }
}
