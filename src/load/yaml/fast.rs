//! The plain layout of a policy file read without saphyr: block maps and
//! lists, one-line flow maps and lists, plain and simply quoted scalars,
//! comments. Most files are nothing else, and reading their bytes
//! directly is several times faster than saphyr's character-by-character
//! scanner and its event queue.
//!
//! This reader decides nothing saphyr would decide differently: it gives
//! the tree, with the spans, that the event stream gives (the span rules
//! below are saphyr's), or `None` at the first byte it has any doubt
//! about, and the file is read by saphyr instead. Doubt is anything
//! outside that layout: a tab, a carriage return, another control
//! character, a character YAML gives a meaning to beyond ASCII (a C1
//! control, the byte order mark, a line separator), a document marker
//! or directive, an anchor, alias or tag, a block scalar, a multi-line
//! scalar or flow collection, an escape, a quoted key, a plain scalar
//! starting with an indicator or a word with one, or holding `: ` (or a
//! flow indicator, in a flow collection), a trailing comma, an empty
//! list item or flow value, a duplicate key, nesting as deep as the
//! limit, an indentation saphyr would refuse. So every problem is still found, and
//! placed, by saphyr alone. A test compares both readers on every file
//! of the examples and fixtures and on generated documents.
//!
//! saphyr's spans, which the tree keeps: a plain scalar is its text; a
//! quoted scalar and a flow list's `]` reach over the spaces after them,
//! and a comment after those on the same line; a flow collection starts
//! at its bracket and its opening token reaches over the spaces after it;
//! a block map starts at its first key; a block list starts at its first
//! dash, or, when it sits at its key's indentation, at its first item;
//! a block list ends where the next token starts (the next line's text,
//! or the end of the input); a key with no value has an empty plain
//! scalar at its colon.

use super::{Entry, Node, Value};
use crate::model::HashMap;
use crate::source::{FileId, Located, Span};

/// The tree of `text` (whose first byte is at `base` in file `file`), or
/// `None` when saphyr must read it.
pub(super) fn parse(file: FileId, text: &str, base: usize, max_depth: usize) -> Option<Node> {
    let b = text.as_bytes();
    if b.iter().any(|&c| (c < b' ' && c != b'\n') || c == 0x7f) {
        return None;
    }
    // Text beyond ASCII is read as bytes (spans are byte offsets, and the
    // reader splits only at ASCII bytes), except characters YAML gives a
    // meaning to or refuses: C1 controls (U+0085 broke lines in YAML
    // 1.1), the byte order mark, the line and paragraph separators,
    // noncharacters.
    if !text.is_ascii()
        && text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
            )
        })
    {
        return None;
    }
    let mut r = Reader {
        b,
        i: 0,
        file,
        base,
        max_depth,
    };
    let (indent, at) = r.next_line()?;
    if indent == MARKER {
        return None;
    }
    r.i = at;
    let root = if r.is_dash(at) {
        r.block_list(indent, false, 0)?
    } else {
        r.block_map(indent, 0)?
    };
    // Nothing may follow the root (a line less indented than it, say).
    match r.next_line() {
        None => Some(root),
        Some(_) => None,
    }
}

/// The keys of a map being read, indexed once it grows (small maps scan)
/// by their text in the input (a plain key is its text).
#[derive(Default)]
struct Keys<'a>(Option<HashMap<&'a [u8], ()>>);

impl<'a> Keys<'a> {
    /// Adds `entry` to `entries` (read from `r`); `None` when its key is
    /// there already (a duplicate is saphyr's to report).
    fn push(&mut self, r: &Reader<'a>, entries: &mut Vec<Entry>, entry: Entry) -> Option<()> {
        let text = |e: &Entry| {
            let (start, end) = (e.key.span.start as usize, e.key.span.end as usize);
            r.b.get(start - r.base..end - r.base).unwrap_or(&[])
        };
        if self.0.is_none() && entries.len() >= 16 {
            self.0 = Some(entries.iter().map(|e| (text(e), ())).collect());
        }
        let duplicate = match &mut self.0 {
            Some(index) => index.insert(text(&entry), ()).is_some(),
            None => entries.iter().any(|e| e.key.value == entry.key.value),
        };
        if duplicate {
            return None;
        }
        entries.push(entry);
        Some(())
    }
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    file: FileId,
    base: usize,
    max_depth: usize,
}

/// May a plain scalar start with `c` (the next byte being `next`)? Fewer
/// bytes than YAML allows: none of its indicators.
fn plain_start(c: u8, next: u8, flow: bool) -> bool {
    c.is_ascii_alphanumeric()
        || c >= 0x80
        || matches!(
            c,
            b'_' | b'.' | b'/' | b'$' | b'(' | b')' | b'+' | b'=' | b'~' | b'^' | b';' | b'<'
        )
        || (c == b'-' && plain_inner(next, flow))
}

/// May a plain scalar hold `c` after its first byte (spaces and colons
/// aside)? In a flow collection, not a flow indicator.
fn plain_inner(c: u8, flow: bool) -> bool {
    c > b' ' && c != 0x7f && c != b':' && !(flow && matches!(c, b',' | b'[' | b']' | b'{' | b'}'))
}

/// The indentation [`Reader::next_line`] gives a line starting with a
/// document marker or a directive: deeper than any, so that every reader
/// gives up there.
const MARKER: usize = usize::MAX;

impl Reader<'_> {
    /// The byte at `i`; past the end, a line break.
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(b'\n')
    }

    fn node(&self, start: usize, end: usize, value: Value) -> Node {
        Node {
            span: self.span(start, end),
            value,
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    /// The indentation and first byte of the next line with content at or
    /// after `self.i` (blank lines and comment lines skipped), without
    /// moving; `None` at the end of the text ([`MARKER`] for a document
    /// marker or directive). `self.i` must be at a line's start or in the
    /// previous line.
    fn next_line(&self) -> Option<(usize, usize)> {
        let mut i = self.i;
        // The rest of the current line, when not at a line's start.
        if i > 0 && self.b[i - 1] != b'\n' {
            i = self.line_end(i);
            if i < self.b.len() {
                i += 1;
            }
        }
        loop {
            let start = i;
            while self.at(i) == b' ' && i < self.b.len() {
                i += 1;
            }
            if i >= self.b.len() {
                return None;
            }
            match self.b[i] {
                b'\n' => i += 1,
                b'#' => {
                    i = self.line_end(i);
                    if i < self.b.len() {
                        i += 1;
                    }
                }
                _ => {
                    // A document marker or a directive is saphyr's.
                    let rest = &self.b[i..];
                    if i == start
                        && (rest.starts_with(b"---") || rest.starts_with(b"...") || rest[0] == b'%')
                    {
                        return Some((MARKER, i));
                    }
                    return Some((i - start, i));
                }
            }
        }
    }

    fn line_end(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |p| from + p)
    }

    /// Is there a block list's dash at `i`?
    fn is_dash(&self, i: usize) -> bool {
        self.at(i) == b'-' && matches!(self.at(i + 1), b' ' | b'\n')
    }

    fn skip_spaces(&mut self) {
        while self.i < self.b.len() && self.b[self.i] == b' ' {
            self.i += 1;
        }
    }

    /// Where a token ending at `i` ends for saphyr when it is a quoted
    /// scalar or a flow list's `]`: over the spaces after it, and a
    /// comment after them.
    fn reach(&self, i: usize) -> usize {
        let mut i = self.reach_spaces(i);
        if self.at(i) == b'#' {
            i = self.line_end(i);
        }
        i
    }

    /// After a value on a line: spaces, perhaps a comment, then the line's
    /// end (not consumed).
    fn end_of_line(&mut self) -> Option<()> {
        let before = self.i;
        self.skip_spaces();
        if self.i >= self.b.len() || self.b[self.i] == b'\n' {
            return Some(());
        }
        if self.b[self.i] == b'#' && self.i > before {
            self.i = self.line_end(self.i);
            return Some(());
        }
        None
    }

    /// A plain scalar's end in a block: at the line's end or a comment,
    /// spaces before them left out. `None` at a byte of doubt.
    fn plain_block_end(&self, start: usize) -> Option<usize> {
        let end = self.words_end(start, false);
        match self.at(self.reach_spaces(end)) {
            b'\n' => Some(end),
            b'#' if self.at(end) == b' ' => Some(end),
            _ => None,
        }
    }

    /// A plain scalar's end in a flow collection: before `,` `]` `}`, spaces
    /// left out. `None` at a byte of doubt (a `:`, a comment, the line's end).
    fn plain_flow_end(&self, start: usize) -> Option<usize> {
        let end = self.words_end(start, true);
        matches!(self.at(self.reach_spaces(end)), b',' | b']' | b'}').then_some(end)
    }

    /// The end of the words of a plain scalar starting at `start`: each a
    /// byte a plain scalar may start with, then bytes it may hold, the
    /// words one or more spaces apart.
    fn words_end(&self, start: usize, flow: bool) -> usize {
        let mut i = start;
        let mut end = start;
        while plain_start(self.at(i), self.at(i + 1), flow) {
            i += 1;
            // A colon is text unless a space, a flow indicator or the
            // line's end follows (`provider::admin` is one scalar).
            loop {
                let c = self.at(i);
                let colon_text = c == b':' && {
                    let next = self.at(i + 1);
                    next == b':' || plain_inner(next, true)
                };
                if !(plain_inner(c, flow) || colon_text) {
                    break;
                }
                i += 1;
            }
            end = i;
            i = self.reach_spaces(i);
        }
        end
    }

    fn reach_spaces(&self, mut i: usize) -> usize {
        while self.at(i) == b' ' && i < self.b.len() {
            i += 1;
        }
        i
    }

    /// Where a plain key starting at `start` has its colon (followed by a
    /// space or the line's end), if the text there is one.
    fn key_colon(&self, start: usize) -> Option<usize> {
        let i = self.words_end(start, false);
        (i > start && self.at(i) == b':' && matches!(self.at(i + 1), b' ' | b'\n')).then_some(i)
    }

    /// A plain key at `self.i`, `self.i` left after its colon.
    fn key(&mut self) -> Option<Located<String>> {
        let start = self.i;
        let colon = self.key_colon(start)?;
        let text = std::str::from_utf8(&self.b[start..colon]).ok()?.to_owned();
        self.i = colon + 1;
        Some(Located::new(text, self.span(start, colon)))
    }

    /// A quoted scalar at `self.i` on one line, without escapes.
    fn quoted(&mut self) -> Option<Node> {
        let start = self.i;
        let quote = self.b[start];
        let len = self.b[start + 1..]
            .iter()
            .position(|&c| c == quote || c == b'\n' || c == b'\\')?;
        let close = start + 1 + len;
        if self.at(close) != quote || self.at(close + 1) == quote {
            return None;
        }
        let text = std::str::from_utf8(&self.b[start + 1..close])
            .ok()?
            .to_owned();
        self.i = close + 1;
        // `"a": b` is a quoted key.
        let after = self.reach(self.i);
        if self.at(after) == b':' {
            return None;
        }
        Some(self.node(start, after, Value::Str(text)))
    }

    /// A value on its key's line, after a dash, or (`flow`) inside a flow
    /// collection: a flow collection, a quoted or plain scalar. `None` for
    /// anything else.
    fn value(&mut self, depth: usize, flow: bool) -> Option<Node> {
        let c = self.at(self.i);
        match c {
            b'{' => self.flow_map(depth),
            b'[' => self.flow_list(depth),
            b'"' | b'\'' => self.quoted(),
            _ if plain_start(c, self.at(self.i + 1), flow) => {
                let start = self.i;
                let end = if flow {
                    self.plain_flow_end(start)?
                } else {
                    self.plain_block_end(start)?
                };
                let text = std::str::from_utf8(&self.b[start..end]).ok()?.to_owned();
                self.i = end;
                Some(self.node(start, end, Value::Plain(text)))
            }
            _ => None,
        }
    }

    /// A block map at indentation `indent`, `self.i` at its first key.
    fn block_map(&mut self, indent: usize, depth: usize) -> Option<Node> {
        if depth >= self.max_depth {
            return None;
        }
        let start = self.i;
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen = Keys::default();
        loop {
            let key = self.key()?;
            let colon = self.i - 1;
            self.skip_spaces();
            let value = match self.at(self.i) {
                b'\n' | b'#' => {
                    if self.at(self.i) == b'#' && self.b[self.i - 1] != b' ' {
                        return None;
                    }
                    match self.next_line() {
                        Some((i, at)) if i > indent && i != MARKER => {
                            self.i = at;
                            if self.is_dash(at) {
                                self.block_list(i, false, depth + 1)?
                            } else {
                                self.block_map(i, depth + 1)?
                            }
                        }
                        Some((i, at)) if i == indent && self.is_dash(at) => {
                            self.i = at;
                            self.block_list(i, true, depth + 1)?
                        }
                        _ => {
                            self.i = self.line_end(self.i);
                            self.node(colon, colon, Value::Plain(String::new()))
                        }
                    }
                }
                _ => {
                    let value = self.value(depth + 1, false)?;
                    self.end_of_line()?;
                    value
                }
            };
            seen.push(self, &mut entries, Entry { key, value })?;
            match self.next_line() {
                Some((i, at)) if i == indent => {
                    if self.is_dash(at) {
                        return None;
                    }
                    self.i = at;
                }
                Some((i, _)) if i > indent => return None,
                _ => break,
            }
        }
        let end = entries
            .last()
            .map_or(start, |e| e.value.span.end as usize - self.base);
        Some(self.node(start, end.max(start), Value::Map(entries)))
    }

    /// A block list at indentation `indent`, `self.i` at its first dash;
    /// `flush` when it sits at its key's indentation.
    fn block_list(&mut self, indent: usize, flush: bool, depth: usize) -> Option<Node> {
        if depth >= self.max_depth {
            return None;
        }
        let mut start = self.i;
        let mut items = Vec::new();
        loop {
            // At a dash: its item on the same line.
            self.i += 1;
            if self.at(self.i) != b' ' {
                return None;
            }
            self.skip_spaces();
            let at = self.i;
            if flush && items.is_empty() {
                start = at;
            }
            // `- key: value` starts a map at the key's column.
            let item = if self.key_colon(at).is_some() {
                let line = self.b[..at]
                    .iter()
                    .rposition(|&c| c == b'\n')
                    .map_or(0, |p| p + 1);
                self.block_map(at - line, depth + 1)?
            } else {
                let item = self.value(depth + 1, false)?;
                self.end_of_line()?;
                item
            };
            items.push(item);
            match self.next_line() {
                Some((i, at)) if i == indent && self.is_dash(at) => self.i = at,
                Some((i, _)) if i > indent && i != MARKER => return None,
                next => {
                    // The list ends where the next token starts.
                    let end = next.map_or(self.b.len(), |(_, at)| at);
                    self.i = self.line_end(self.i);
                    return Some(self.node(start, end.max(start), Value::Seq(items)));
                }
            }
        }
    }

    /// A flow map at `self.i` (`{`), on one line.
    fn flow_map(&mut self, depth: usize) -> Option<Node> {
        if depth >= self.max_depth {
            return None;
        }
        let start = self.i;
        self.i += 1;
        self.skip_spaces();
        let open_end = self.i;
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen = Keys::default();
        if self.at(self.i) == b'}' {
            self.i += 1;
            return Some(self.node(start, open_end, Value::Map(entries)));
        }
        loop {
            let key_start = self.i;
            if !plain_start(self.at(key_start), self.at(key_start + 1), true) {
                return None;
            }
            let key_end = self.plain_flow_colon(key_start)?;
            let text = std::str::from_utf8(&self.b[key_start..key_end])
                .ok()?
                .to_owned();
            let key = Located::new(text, self.span(key_start, key_end));
            self.i = key_end + 1;
            self.skip_spaces();
            let value = self.value(depth + 1, true)?;
            seen.push(self, &mut entries, Entry { key, value })?;
            self.skip_spaces();
            match self.at(self.i) {
                b',' => {
                    self.i += 1;
                    self.skip_spaces();
                    if self.at(self.i) == b'}' {
                        return None;
                    }
                }
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        let end = entries
            .last()
            .map_or(open_end, |e| e.value.span.end as usize - self.base);
        Some(self.node(start, end.max(open_end), Value::Map(entries)))
    }

    /// A flow map's key at `start`: plain, ending in `: `. Its end.
    fn plain_flow_colon(&self, start: usize) -> Option<usize> {
        let i = self.words_end(start, true);
        (i > start && self.at(i) == b':' && self.at(i + 1) == b' ').then_some(i)
    }

    /// A flow list at `self.i` (`[`), on one line.
    fn flow_list(&mut self, depth: usize) -> Option<Node> {
        if depth >= self.max_depth {
            return None;
        }
        let start = self.i;
        self.i += 1;
        self.skip_spaces();
        let mut items = Vec::new();
        if self.at(self.i) != b']' {
            loop {
                items.push(self.value(depth + 1, true)?);
                self.skip_spaces();
                match self.at(self.i) {
                    b',' => {
                        self.i += 1;
                        self.skip_spaces();
                        if self.at(self.i) == b']' {
                            return None;
                        }
                    }
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.i += 1;
        let end = self.reach(self.i);
        Some(self.node(start, end, Value::Seq(items)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Builder, Limits};
    use super::*;

    /// saphyr's tree of `text` (at `base`, within `max_depth`), when it
    /// finds nothing wrong.
    fn saphyr(text: &str, base: usize, max_depth: usize) -> Option<Node> {
        let limits = Limits {
            max_depth,
            ..Limits::default()
        };
        let b = Builder::new(FileId(0), text, base, text.is_ascii(), &limits);
        match b.run_saphyr(None) {
            (Some(root), found) if found.is_empty() => Some(root),
            _ => None,
        }
    }

    /// Whether the fast reader took `text`; when it did, its tree is
    /// saphyr's, spans and all (at two bases and two depth limits).
    fn agrees(text: &str) -> bool {
        let mut taken = false;
        for (base, depth) in [(0, 64), (7, 3)] {
            if let Some(fast) = parse(FileId(0), text, base, depth) {
                let slow = saphyr(text, base, depth);
                assert_eq!(Some(&fast), slow.as_ref(), "for:\n{text}");
                taken = true;
            }
        }
        taken
    }

    #[test]
    fn the_plain_layout_is_read_as_saphyr_reads_it() {
        let plain = [
            // The generated shape: flow maps in block maps and lists.
            "# Generated\nscope: provider\n\nkinds:\n  unit: { parents: [customer, unit] }\n  top: { parents: [] }\nusers:\n  u1: { org: c1-u0, attributes: { department: hr } }\n  u2: { org: c1, owner: true }\nassignments:\n  - { role: viewer-80, org: d0 }\n  - { role: \"c15::local-0\", org: d2, inherit: false }\n",
            // Block maps and lists, flush and indented, comments, empty values.
            "scope: t1\nroles:\n  r:\n    description: Runs finance, for the org (and below)\n    includes: [provider::admin]\n    grants:\n    - \"a:read\"\n    - b:write   # plain, with a colon\n  q:\n# between\n  empty:\nlast: 'it is'  # c\n",
            "tests:\n  - name: the customer's admin\n    user: e1\n    allow: [\"docs:read\"]\n  - user: c1\n    roles: []\n",
            "a:\n  - x\n  -   y  \n  - {a: b}\n\n  # c\ng:\n- k: v\n  j: w\n- z\nh: \"q\"\n\n# end\n",
            "  - { role: r, org: a }\n  - { role: q, org: b }\n",
            "  u1: { org: a }\n  u2: x\n",
            "name: Müller, § 4 — 中文\nx: [é, \"ü\"]\n",
            "a: [ ]\nb: {}\nc: [ [a] , b ]  # c\nd: { a: [x] , b: c }\ne:   # c\nf: \n",
            "a: 1\nb: ~\nc: -1.5\nd: true\ne: 007\nf: no",
            "many:\n  k0: 0\n  k1: 1\n  k2: 2\n  k3: 3\n  k4: 4\n  k5: 5\n  k6: 6\n  k7: 7\n  k8: 8\n  k9: 9\n  k10: 10\n  k11: 11\n  k12: 12\n  k13: 13\n  k14: 14\n  k15: 15\n  k16: 16\n  k17: 17\n",
        ];
        for text in plain {
            assert!(agrees(text), "not taken by the fast reader:\n{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_saphyr() {
        let declined = [
            "a: b\n\tc: d\n",
            "a: b\r\nc: d\r\n",
            "---\na: b\n",
            "%YAML 1.2\n---\na: b\n",
            "a: b\n...\n",
            "a: &x { b: c }\nd: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >-\n  text\n",
            "a: plain\n  continued\n",
            "a: \"two\n  lines\"\n",
            "a: { b: c,\n  d: e }\n",
            "a: \"esc\\\"aped\"\n",
            "a: 'it''s'\n",
            "\"quoted key\": b\n",
            "? complex\n: value\n",
            "a: b: c\n",
            "a: x\na: y\n",
            "a: { b: 1, b: 2 }\n",
            "a:\n  b: c\n d: e\n",
            "a: b\n  c: d\n",
            "a: b\n- c\n",
            "- a\nb: c\n",
            "a:\n  -\n    b: c\n",
            "a: [b, ]\n",
            "a: { b }\n",
            "a: { b: }\n",
            "a : b\n",
            "a:b\n",
            "a: -\n",
            "a: @b\n",
            "a: `b`\n",
            "a: \u{85}\n",
            "\u{feff}a: b\n",
            "",
            "# only a comment\n",
            "a: [[[[x]]]]\n",
        ];
        for text in declined {
            assert!(parse(FileId(0), text, 0, 4).is_none(), "taken:\n{text}");
            // And saphyr reads it as before (a problem found is found).
            agrees(text);
        }
        // A duplicate in a map large enough to be indexed, block and flow.
        let keys: Vec<String> = (0..20).map(|i| format!("k{i}: {i}")).collect();
        let block = format!("{}\nk3: again\n", keys.join("\n"));
        let flow = format!("m: {{ {}, k17: again }}\n", keys.join(", "));
        for text in [block, flow] {
            assert!(parse(FileId(0), &text, 0, 64).is_none(), "taken:\n{text}");
            let unique = text
                .replace("k3: again", "k30: x")
                .replace("k17: again", "k30: x");
            assert!(agrees(&unique), "not taken:\n{unique}");
        }
        // A duplicate key is still E003, placed by saphyr.
        let mut sources = crate::source::SourceMap::default();
        let id = sources.add(crate::source::SourceFile::new(
            "t.yaml".into(),
            "a: x\nb: y\na: z\n".to_owned(),
        ));
        let (_, found) = super::super::parse(id, sources.get(id).unwrap(), &Limits::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, crate::diag::Code::E003);
        assert_eq!(found[0].primary.span.start, 10);
    }

    /// Every policy file of the examples and fixtures, and thousands of
    /// generated documents and mutations of them.
    #[test]
    fn example_fixture_and_generated_documents_agree() {
        let (mut files, mut taken) = (0, 0);
        for root in ["policies-examples", "tests/fixtures", "tests/scenarios"] {
            for path in super::super::tests::walk(std::path::Path::new(root)) {
                if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    files += 1;
                    taken += usize::from(agrees(&text));
                }
            }
        }
        assert!(files > 100, "{files} files");
        assert!(
            taken * 10 > files * 8,
            "only {taken} of {files} files were taken"
        );

        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut docs, mut docs_taken) = (0, 0);
        for _ in 0..20_000 {
            let mut doc = String::new();
            let list = r.below(6) == 0;
            let indent = [0, 0, 2][r.below(3)];
            block(&mut r, &mut doc, indent, 0, list);
            if r.below(5) == 0 {
                doc.pop();
            }
            docs += 1;
            docs_taken += usize::from(agrees(&doc));
            agrees(&mutate(&mut r, &doc));
        }
        assert!(
            docs_taken * 4 > docs,
            "only {docs_taken} of {docs} documents were taken"
        );
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len())]
        }
    }

    const WORDS: &[&str] = &[
        "a",
        "org",
        "c8403-u0",
        "true",
        "007",
        "~",
        "x y",
        "-1",
        "1.5",
        "role/x",
        "$v",
        "(p)",
        "<<",
        "e@x.com",
        "100%",
        "a&b",
        "-x",
        "..x",
        "Müller",
        "中文",
        "provider::ops",
        "http://x.y/z",
        "a:b",
        "a::",
        "::a",
        "a: b",
        "it's",
        "a, b",
        "(x, y)",
        "a#b",
        "a [b]",
        "a {b}",
        "x 'y'",
        "a|b",
        "a -",
        "a - b",
        "- a",
        "a *b",
        "a ?b",
        "a:[b]",
        "a:,",
        "a ,b",
    ];
    const KEYS: &[&str] = &["a", "org", "kind", "role", "u", "my key", "k-1", "x.y"];
    const NASTY: &[&str] = &[
        " ", "\n", ":", "#", "- ", "'", "\"", "{", "}", "[", "]", ",", "&a", "*a", "!t", "|", ">",
        "%", "?", "---", "...", "\\", "\t", "\r\n", "é", "\u{85}", "\u{a0}", ": ", " #", "::",
        "\n  ", "\n- ",
    ];

    fn key(r: &mut Rng) -> String {
        let k = r.pick(KEYS);
        if r.below(8) == 0 {
            k.to_owned()
        } else {
            format!("{k}{}", r.below(1000))
        }
    }
    fn scalar(r: &mut Rng) -> String {
        match r.below(10) {
            0 => format!("\"{}\"", r.pick(WORDS)),
            1 => format!("'{}'", r.pick(WORDS)),
            _ => r.pick(WORDS).to_owned(),
        }
    }
    fn space(r: &mut Rng) -> &'static str {
        ["", " ", " ", "  "][r.below(4)]
    }
    fn flow(r: &mut Rng, depth: usize) -> String {
        match if depth > 2 { 9 } else { r.below(10) } {
            0..=2 => {
                let items: Vec<String> = (0..r.below(4))
                    .map(|_| format!("{}: {}", key(r), flow(r, depth + 1)))
                    .collect();
                let sep = format!(",{}", space(r));
                format!("{{{}{}{}}}", space(r), items.join(&sep), space(r))
            }
            3..=4 => {
                let items: Vec<String> = (0..r.below(4)).map(|_| flow(r, depth + 1)).collect();
                let sep = format!("{},{}", space(r), space(r));
                format!("[{}{}{}]", space(r), items.join(&sep), space(r))
            }
            _ => scalar(r),
        }
    }
    fn comment(r: &mut Rng) -> &'static str {
        ["  # note", " #c", "   ", "", "", "", "", ""][r.below(8)]
    }
    fn block(r: &mut Rng, out: &mut String, indent: usize, depth: usize, list: bool) {
        for _ in 0..1 + r.below(4) {
            if r.below(8) == 0 {
                out.push_str(["\n", "# c\n", "  # c\n"][r.below(3)]);
            }
            out.push_str(&" ".repeat(indent));
            if list {
                out.push_str("- ");
                if depth < 4 && r.below(3) == 0 {
                    out.push_str(&format!("{}: {}{}\n", key(r), flow(r, 0), comment(r)));
                    if r.below(2) == 0 {
                        let pad = " ".repeat(indent + 2);
                        out.push_str(&format!("{pad}{}: {}\n", key(r), flow(r, 0)));
                    }
                } else {
                    out.push_str(&format!("{}{}\n", flow(r, 0), comment(r)));
                }
            } else {
                out.push_str(&key(r));
                out.push(':');
                match if depth > 3 { 0 } else { r.below(6) } {
                    0..=2 => out.push_str(&format!(" {}{}\n", flow(r, 0), comment(r))),
                    3 => {
                        out.push_str(&format!("{}\n", comment(r)));
                        let step = [1, 2, 4][r.below(3)];
                        block(r, out, indent + step, depth + 1, false);
                    }
                    4 => {
                        out.push_str(&format!("{}\n", comment(r)));
                        let step = [0, 2][r.below(2)];
                        block(r, out, indent + step, depth + 1, true);
                    }
                    _ => out.push_str(&format!("{}\n", comment(r))),
                }
            }
        }
    }
    fn mutate(r: &mut Rng, text: &str) -> String {
        let mut b = text.as_bytes().to_vec();
        for _ in 0..1 + r.below(3) {
            let at = r.below(b.len() + 1);
            match r.below(3) {
                0 => {
                    let nasty = r.pick(NASTY);
                    b.splice(at..at, nasty.bytes());
                }
                1 => {
                    let end = (at + 1 + r.below(3)).min(b.len());
                    b.drain(at..end);
                }
                _ if at < b.len() => {
                    let byte = b" :-#'\"{}[],\nabx"[r.below(15)];
                    b[at] = byte;
                }
                _ => {}
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }
}
