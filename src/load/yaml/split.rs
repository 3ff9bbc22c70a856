//! A large YAML file parsed in pieces on every core.
//!
//! saphyr reads one event after another, so one file of tens of MB is one
//! core's work. But a policy file's layout is plain: a map at column 0
//! whose big sections (`users:`, `assignments:`, `orgs:`) hold thousands of
//! entries, each starting on a line of its own at the section's indent.
//! Such a line cannot continue the entry before it (a value's next lines
//! are indented deeper), so the text between two of them parses on its own
//! to the same nodes at the same offsets. The file is cut there: each
//! top-level section is one piece, and the body of a big one is cut again
//! into parts of about [`PIECE_BYTES`], at entry lines chosen by their own
//! text (see [`cut_section`]), so that an edit moves the cuts near it only.
//!
//! [`parse`] puts the pieces' nodes back into the file's tree. The loader
//! goes further for the files of a set (`load::read_in_pieces`): each part
//! is read into its items and freed on its own, so that the whole file's
//! tree is never held.
//!
//! Any doubt falls back to the whole parse: a line at column 0 that is not
//! a plain `key:` (a document marker, a directive, a flow map), a piece
//! with any finding (a syntax error, a duplicate key, an alias to an anchor
//! in another piece), a piece of the wrong shape (a scalar, a map where the
//! section is a list), a key found in two pieces. So problems are always
//! reported by the whole parse, with the places it gives them, and a file
//! with one costs a second parse.

use rayon::prelude::*;

use super::{Builder, Entry, Limits, Node, Value};
use crate::source::{FileId, SourceFile, Span};

/// Files below this size are parsed whole: cutting them gains nothing.
pub(crate) const MIN_FILE_BYTES: usize = 4 << 20;
/// About how large a piece of a section's body is.
pub(crate) const PIECE_BYTES: usize = 1 << 20;

/// A range of the text parsed on its own, and at which level.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub start: usize,
    pub end: usize,
    depth: Depth,
}

/// What a range's nodes become.
pub(crate) enum Piece {
    /// A whole top-level section: parses to a map of that one key.
    Section(Range),
    /// A section whose body is cut: its `key:` line (parsing to that key
    /// with no value), then the body's parts, each parsing to a map (or a
    /// list) of some of the section's entries.
    Cut {
        header: Range,
        key: String,
        list: bool,
        parts: Vec<Range>,
    },
}

/// How a file is cut, and the limits each piece is parsed within.
pub(crate) struct Plan {
    pub pieces: Vec<Piece>,
    /// The file's alias budget shared out: pieces within their share
    /// cannot together expand more than the whole parse allows.
    root: Limits,
    /// The same, one level of nesting less (a body is a level down).
    body: Limits,
}

impl Plan {
    /// How `source` is cut in pieces of about `piece_bytes`; `None` when
    /// its layout is not the plain one.
    pub(crate) fn new(source: &SourceFile, limits: &Limits, piece_bytes: usize) -> Option<Plan> {
        let pieces = plan(&source.text, piece_bytes)?;
        let ranges = pieces
            .iter()
            .map(|p| match p {
                Piece::Section(_) => 1,
                Piece::Cut { parts, .. } => 1 + parts.len(),
            })
            .sum::<usize>()
            .max(1);
        let root = Limits {
            max_alias_nodes: limits.max_alias_nodes / ranges,
            max_alias_bytes: limits.max_alias_bytes / ranges,
            ..limits.clone()
        };
        let body = Limits {
            max_depth: limits.max_depth.saturating_sub(1),
            ..root.clone()
        };
        Some(Plan { pieces, root, body })
    }

    /// The limits `range` is parsed within.
    pub(crate) fn limits(&self, range: Range) -> &Limits {
        match range.depth {
            Depth::Root => &self.root,
            Depth::Body => &self.body,
        }
    }

    /// The nodes of `range`, `None` when parsing it finds anything.
    pub(crate) fn parse(&self, file: FileId, source: &SourceFile, range: Range) -> Option<Node> {
        let text = &source.text[range.start..range.end];
        let builder = Builder::new(
            file,
            text,
            range.start,
            source.is_ascii(),
            self.limits(range),
        );
        match builder.run(None) {
            (node, found) if found.is_empty() => node,
            _ => None,
        }
    }
}

/// The file's tree, parsed in pieces of about `piece_bytes`; `None` when
/// the file must be parsed whole.
pub(super) fn parse(
    file: FileId,
    source: &SourceFile,
    limits: &Limits,
    piece_bytes: usize,
) -> Option<Node> {
    let plan = Plan::new(source, limits, piece_bytes)?;
    let ranges: Vec<Range> = plan
        .pieces
        .iter()
        .flat_map(|p| match p {
            Piece::Section(r) => vec![*r],
            Piece::Cut { header, parts, .. } => std::iter::once(*header)
                .chain(parts.iter().copied())
                .collect(),
        })
        .collect();
    let parsed: Vec<Option<Node>> = ranges
        .par_iter()
        .map(|&r| plan.parse(file, source, r))
        .collect();
    let mut parsed = parsed.into_iter();
    let mut entries: Vec<Entry> = Vec::with_capacity(plan.pieces.len());
    for piece in &plan.pieces {
        match piece {
            Piece::Section(_) => entries.push(one_entry(parsed.next()??)?),
            Piece::Cut { list, parts, .. } => {
                let header = header_entry(parsed.next()??)?;
                let nodes: Vec<Node> = parsed.by_ref().take(parts.len()).collect::<Option<_>>()?;
                entries.push(Entry {
                    key: header.key,
                    value: joined(file, nodes, *list)?,
                });
            }
        }
    }
    if !unique(entries.iter().map(|e| e.key.value.as_str())) {
        return None;
    }
    let first = entries.first()?;
    let start = first.key.span.start as usize;
    let end = entries.last()?.value.span.end as usize;
    Some(Node {
        span: Span::new(file, start, end.max(first.key.span.end as usize)),
        value: Value::Map(entries),
    })
}

/// Are these keys all different?
pub(crate) fn unique<'a>(keys: impl IntoIterator<Item = &'a str>) -> bool {
    let keys = keys.into_iter();
    let mut seen = rustc_hash::FxHashSet::default();
    seen.reserve(keys.size_hint().0);
    keys.into_iter().all(|k| seen.insert(k))
}

/// The entry of a cut section's `key:` line, which has no value.
pub(crate) fn header_entry(node: Node) -> Option<Entry> {
    one_entry(node).filter(|e| e.value.is_null())
}

#[derive(Clone, Copy, Debug)]
enum Depth {
    /// Parsed as the file's root map.
    Root,
    /// Parsed as a section's value, one level below the root.
    Body,
}

/// The only entry of a piece that parsed to a map of one key.
pub(crate) fn one_entry(node: Node) -> Option<Entry> {
    match node.value {
        Value::Map(mut entries) if entries.len() == 1 => entries.pop(),
        _ => None,
    }
}

/// The section's value from its parts: one map (or list) of all their
/// entries, spanning from the first to the last, as the whole parse gives
/// it. `None` when a part is of another shape or a key is in two parts.
fn joined(file: FileId, parts: Vec<Node>, list: bool) -> Option<Node> {
    let start = parts.first()?.span.start as usize;
    let end = parts.last()?.span.end as usize;
    let value = if list {
        let mut items = Vec::new();
        for part in parts {
            match part.value {
                Value::Seq(more) => items.extend(more),
                _ => return None,
            }
        }
        Value::Seq(items)
    } else {
        let mut entries: Vec<Entry> = Vec::new();
        for part in parts {
            let Value::Map(more) = part.value else {
                return None;
            };
            entries.extend(more);
        }
        if !unique(entries.iter().map(|e| e.key.value.as_str())) {
            return None;
        }
        Value::Map(entries)
    };
    Some(Node {
        span: Span::new(file, start, end),
        value,
    })
}

/// Where the text is cut; `None` when its layout is not the plain one.
fn plan(text: &str, piece_bytes: usize) -> Option<Vec<Piece>> {
    let mut sections: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let first = line.as_bytes()[0];
        if !matches!(first, b' ' | b'\t' | b'#' | b'\n' | b'\r') {
            top_key(line)?;
            if let Some(last) = sections.last_mut() {
                last.1 = at;
            }
            sections.push((at, text.len()));
        } else if sections.is_empty() && !is_blank_or_comment(line) {
            // An indented line before any key: not the plain layout.
            return None;
        }
        at += line.len();
    }
    // Comments and blank lines before the first key go with it.
    sections.first_mut()?.0 = 0;
    let pieces = sections
        .into_iter()
        .map(|(start, end)| cut_section(text, start, end, piece_bytes))
        .collect();
    Some(pieces)
}

/// The key of a top-level line that is a plain `key:` followed by a
/// space, a tab or the line's end; `None` for anything else.
fn top_key(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let len = b.iter().position(|c| {
        !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'-'))
    })?;
    if len == 0 || !b[0].is_ascii_lowercase() || b[len] != b':' {
        return None;
    }
    matches!(b.get(len + 1), None | Some(b' ' | b'\t' | b'\n' | b'\r')).then(|| &line[..len])
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#') || t.starts_with('\n') || t.starts_with('\r')
}

/// One section's piece: cut when its `key:` line holds nothing else and
/// its body is larger than a piece, whole otherwise.
///
/// Where a body is cut depends on its entries' text alone, not on where
/// they are: an entry line is a cut when its hash falls in the right
/// range, unless the part would be under a quarter of a piece (and one is
/// made at the first entry past four pieces). An edit moves the cuts around it only.
fn cut_section(text: &str, start: usize, end: usize, piece_bytes: usize) -> Piece {
    let whole = Piece::Section(Range {
        start,
        end,
        depth: Depth::Root,
    });
    let section = &text[start..end];
    // The header is the section's first line at column 0 (comments and
    // blank lines before the file's first key come ahead of it).
    let mut header_start = 0;
    for line in section.split_inclusive('\n') {
        if !is_blank_or_comment(line) {
            break;
        }
        header_start += line.len();
    }
    let header_line = section[header_start..]
        .split_inclusive('\n')
        .next()
        .unwrap_or("");
    let Some(key) = top_key(header_line) else {
        return whole;
    };
    let rest = header_line[key.len() + 1..].trim_matches([' ', '\t', '\r', '\n']);
    let body_start = header_start + header_line.len();
    let body = &section[body_start..];
    let piece_bytes = piece_bytes.max(1);
    if !rest.is_empty() || body.len() < piece_bytes * 2 {
        return whole;
    }
    // The indent and shape of the body's first entry.
    let mut indent = None;
    let mut list = false;
    for line in body.split_inclusive('\n') {
        if is_blank_or_comment(line) {
            continue;
        }
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let after = &line[spaces..];
        if spaces == 0 || after.starts_with('\t') {
            return whole;
        }
        list = is_list_entry(after);
        indent = Some(spaces);
        break;
    }
    let Some(indent) = indent else {
        return whole;
    };
    // One entry line in this many is a cut: a piece of entries of about 64
    // bytes, fewer of longer ones (bounded below and above).
    let one_in = (piece_bytes / 64).max(1) as u64;
    let mut cuts = vec![body_start];
    let mut at = body_start;
    for line in body.split_inclusive('\n') {
        let since = at - cuts[cuts.len() - 1];
        if since >= piece_bytes / 4
            && is_entry(line, indent, list)
            && (xxhash_rust::xxh3::xxh3_64(line.as_bytes()).is_multiple_of(one_in)
                || since >= piece_bytes * 4)
        {
            cuts.push(at);
        }
        at += line.len();
    }
    cuts.push(at);
    cuts.dedup();
    if cuts.len() < 3 {
        return whole;
    }
    // A part but the last is parsed with the next entry's indent: a list
    // ending there ends at the next entry's first character, in the whole
    // parse as in the part's.
    let parts = cuts
        .windows(2)
        .enumerate()
        .map(|(i, w)| Range {
            start: start + w[0],
            end: start + w[1] + if i + 2 < cuts.len() { indent } else { 0 },
            depth: Depth::Body,
        })
        .collect();
    Piece::Cut {
        header: Range {
            start,
            end: start + body_start,
            depth: Depth::Root,
        },
        key: key.to_owned(),
        list,
        parts,
    }
}

/// `- item` or a lone `-`.
fn is_list_entry(after_indent: &str) -> bool {
    matches!(
        after_indent.as_bytes(),
        [b'-', b' ' | b'\t' | b'\n' | b'\r', ..] | [b'-']
    )
}

/// A line that starts an entry of the body: exactly `indent` spaces, then
/// `- ` in a list or a plain key's first character in a map.
fn is_entry(line: &str, indent: usize, list: bool) -> bool {
    let b = line.as_bytes();
    if b.len() <= indent || b[..indent].iter().any(|&c| c != b' ') {
        return false;
    }
    let after = &line[indent..];
    if list {
        is_list_entry(after)
    } else {
        after
            .as_bytes()
            .first()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    fn whole_and_split(text: &str, piece_bytes: usize) -> (Option<Node>, bool, Option<Node>) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new("t.yaml".into(), text.to_owned()));
        let source = sources.get(id).unwrap();
        let limits = Limits::default();
        let (whole, found) = super::super::parse_whole(id, source, &limits);
        let split = parse(id, source, &limits, piece_bytes);
        (whole, found.is_empty(), split)
    }

    /// Cut at every entry and at every few bytes: whenever the pieces give
    /// a tree, it is the whole parse's, and a text the whole parse finds a
    /// problem in is never taken from the pieces.
    fn agrees(text: &str) -> bool {
        let mut cut_once = false;
        for piece_bytes in [1, 7, 40, 1000] {
            let (whole, clean, split) = whole_and_split(text, piece_bytes);
            if let Some(split) = split {
                assert!(clean, "pieces parsed a text with findings:\n{text}");
                let (a, b) = (format!("{:?}", Some(split)), format!("{whole:?}"));
                if a != b {
                    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
                    let from = at.saturating_sub(300);
                    panic!(
                        "piece size {piece_bytes}: pieces give\n…{}\nwhole gives\n…{}\nfor:\n{text}",
                        &a[from..(at + 200).min(a.len())],
                        &b[from..(at + 200).min(b.len())]
                    );
                }
                cut_once = true;
            }
        }
        cut_once
    }

    #[test]
    fn pieces_give_the_whole_parse_tree() {
        let plain = "# leading comment\n\nscope: provider\nusers:\n  u1: { org: a }\n  # a comment\n  u2: { org: b, attributes: { k: v } }\n\n  u3:\n    org: c\n    owner: true\nassignments:\n  - { role: r, user: u1 }\n  - role: r\n    org: a\n  -\n    role: q\n    user: u2\nexclusions: []\n";
        assert!(agrees(plain));
        let odd = [
            "scope: provider\nusers:\n  u1: |\n    text\n  u2 continues\n",
            "scope: provider\nusers:\n  u1: \"two\n  lines\"\n  u2: x\n",
            "scope: provider\nusers:\n  u1: { org: a,\n  owner: true }\n  u2: x\n",
            "scope: provider\nusers:\n  u1: &a { org: a }\n  u2: *a\n",
            "scope: provider\nusers:\n  u1: x\n  u1: y\n",
            "scope: provider\nusers:\n  u1: x\nusers:\n  u2: y\n",
            "scope: provider\nroles:\n  r:\n  - a\n  - b\n  q: x\n",
            "scope: provider\nusers:\n  - a\n  b: c\n",
            "scope: provider\nusers:\n  a: b\n  - c\n",
            "scope: provider\n---\nusers:\n  a: b\n",
            "%YAML 1.2\n---\nscope: provider\nusers:\n  a: b\n  c: d\n",
            "scope: provider\nusers:\n  a: b\n    c: d\n  e: f\n",
            "scope: provider\nusers:\n  a: plain\n   continued\n  e: f\n",
            "scope: provider\nusers:\n\ta: b\n  c: d\n",
            "scope: provider\nusers:\n  a: b\n\tc: d\n  e: f\n",
            "scope: provider\nusers: {\n  a: b,\n  c: d }\n",
            "  scope: provider\n  users:\n    a: b\n    c: d\n",
            "scope: provider\nusers:\n  \"quoted key\": b\n  c: d\n",
            "scope: provider\nusers:\n  ? complex\n  : value\n  c: d\n",
            "scope: provider\nusers:\n  a: b\n  c: d\n...\n",
            "scope: provider\nusers:\n  a: 'it''s'\n  c: \"é\"\n  d: ü\n",
            "scope: provider\nusers:\n  a: >\n    folded\n    text\n\n  c: d\n",
            "scope: provider\nusers:\n  a: b # comment\n# top comment\n  c: d\n",
            "scope: provider\nusers:\n  a: b\n\n\n",
            "scope: provider\nusers:\n  a: !!str 1\n  c: !custom d\n",
            "scope: provider\nusers:\r\n  a: b\r\n  c: d\r\n",
            "scope: provider\nusers:\n  a:\n  - x\n  c: d\n",
        ];
        for text in odd {
            agrees(text);
        }
    }

    /// The bundled examples and every fixture, cut as finely as possible,
    /// parse as they do whole.
    #[test]
    fn example_and_fixture_files_agree() {
        let mut files = 0;
        let mut cut = 0;
        for root in ["policies-examples", "tests/fixtures"] {
            for entry in super::super::tests::walk(std::path::Path::new(root)) {
                if entry.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&entry).unwrap();
                    files += 1;
                    cut += usize::from(agrees(&text));
                }
            }
        }
        assert!(files > 30, "{files} files");
        assert!(cut * 2 > files, "only {cut} of {files} files were cut");
    }
}
