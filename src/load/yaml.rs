//! YAML text -> [`Node`] tree, from saphyr's event stream, keeping spans.
//!
//! Building the tree ourselves (rather than deserialising straight into
//! types) lets us bound nesting and alias expansion, report duplicate keys as
//! E003 with both places, and keep plain scalars untyped until the model says
//! what it expects there.

use crate::model::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

mod fast;
pub(crate) mod split;

use super::node::{Entry, Node, Value};
use super::Limits;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Located, SourceFile, Span};

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<Entry>,
        /// The key waiting for its value; `Some(None)` discards the value of a bad key.
        key: Option<Option<Located<String>>>,
        /// Keys seen so far, indexed once the map grows (small maps scan).
        seen: Option<HashMap<String, Span>>,
    },
}

struct Builder<'a> {
    file: FileId,
    /// The text parsed (the whole file, or one piece of it) and the byte
    /// offset of its start in the file.
    text: &'a str,
    base: usize,
    ascii: bool,
    limits: &'a Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    /// Nodes and bytes that alias expansion (and anchor copies) may still create.
    alias_budget: usize,
    alias_bytes: usize,
    /// Last (character index, byte offset) converted: events arrive in order,
    /// so converting from here keeps long lines linear.
    cursor: (usize, usize),
    root: Option<Node>,
    diagnostics: Vec<Diagnostic>,
}

/// Parses one YAML document. Returns the root (if the text parsed) and the
/// problems found; syntax errors stop the file, duplicate keys do not.
///
/// A large file is parsed in pieces on every core when its layout allows
/// it (see [`split`]), and whole otherwise or when any piece finds a
/// problem: the pieces give the tree the whole parse gives, and the
/// whole parse alone reports problems.
pub fn parse(
    file: FileId,
    source: &SourceFile,
    limits: &Limits,
) -> (Option<Node>, Vec<Diagnostic>) {
    if parsed_in_pieces(source) {
        if let Some(root) = split::parse(file, source, limits, split::PIECE_BYTES) {
            return (Some(root), Vec::new());
        }
    }
    parse_whole(file, source, limits)
}

/// Is the file large enough to be parsed in pieces (when its layout
/// allows), with more than one core to parse them on?
pub(crate) fn parsed_in_pieces(source: &SourceFile) -> bool {
    source.text.len() >= split::MIN_FILE_BYTES && rayon::current_num_threads() > 1
}

fn parse_whole(
    file: FileId,
    source: &SourceFile,
    limits: &Limits,
) -> (Option<Node>, Vec<Diagnostic>) {
    let b = Builder::new(file, &source.text, 0, source.is_ascii(), limits);
    b.run(Some(source))
}

impl<'a> Builder<'a> {
    fn new(file: FileId, text: &'a str, base: usize, ascii: bool, limits: &'a Limits) -> Self {
        Builder {
            file,
            text,
            base,
            ascii,
            limits,
            stack: Vec::new(),
            anchors: HashMap::default(),
            alias_budget: limits.max_alias_nodes,
            alias_bytes: limits.max_alias_bytes,
            cursor: (0, 0),
            root: None,
            diagnostics: Vec::new(),
        }
    }

    /// Builds the tree of `self.text`. `source` (the whole file) places a
    /// syntax error; a piece, parsed without it, gives up at the first.
    /// Text of the plain layout is read by [`fast`], the rest by saphyr.
    fn run(self, source: Option<&SourceFile>) -> (Option<Node>, Vec<Diagnostic>) {
        match fast::parse(self.file, self.text, self.base, self.limits.max_depth) {
            Some(root) => (Some(root), Vec::new()),
            None => self.run_saphyr(source),
        }
    }

    /// [`Self::run`] by saphyr's events alone.
    fn run_saphyr(mut self, source: Option<&SourceFile>) -> (Option<Node>, Vec<Diagnostic>) {
        let file = self.file;
        let b = &mut self;
        let mut parser = Parser::new_from_str(b.text);
        let mut documents = 0usize;
        while let Some(next) = parser.next_event() {
            let (event, yspan) = match next {
                Ok(ev) => ev,
                Err(err) => {
                    let m = err.marker();
                    let at = source.map_or(0, |s| s.offset_of(m.line(), m.col()));
                    b.diagnostics.push(
                        Diagnostic::new(
                            Code::E001,
                            Span::new(file, at, at),
                            format!("invalid YAML: {}", err.info()),
                        )
                        .with_label("here"),
                    );
                    return (None, std::mem::take(&mut b.diagnostics));
                }
            };
            let span = b.span(yspan);
            let result = match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        Err(Diagnostic::new(
                            Code::E001,
                            span,
                            "a policy file holds one YAML document",
                        )
                        .with_label("second document starts here")
                        .with_help("split the documents into separate files"))
                    } else {
                        Ok(())
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let quoted = !matches!(style, ScalarStyle::Plain)
                        || tag
                            .as_ref()
                            .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                    let value = if quoted {
                        Value::Str(text.into_owned())
                    } else {
                        Value::Plain(text.into_owned())
                    };
                    b.complete(Node { span, value }, anchor)
                }
                Event::SequenceStart(anchor, _) => b.open(Frame::Seq {
                    start: span,
                    anchor,
                    items: Vec::new(),
                }),
                Event::MappingStart(anchor, _) => b.open(Frame::Map {
                    start: span,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: None,
                }),
                Event::SequenceEnd | Event::MappingEnd => b.close(span),
                Event::Alias(id) => b.alias(id, span),
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                    Ok(())
                }
            };
            if let Err(d) = result {
                b.diagnostics.push(d);
                return (None, std::mem::take(&mut b.diagnostics));
            }
        }
        // An empty document (or only comments) is a null root, not a parse failure.
        let root = b.root.take().unwrap_or(Node {
            span: Span::new(file, b.base, b.base),
            value: Value::Null,
        });
        (Some(root), std::mem::take(&mut b.diagnostics))
    }
}

#[expect(
    clippy::result_large_err,
    reason = "an error ends the file: it is built once, on the cold path"
)]
impl Builder<'_> {
    fn span(&mut self, s: YSpan) -> Span {
        let start = self.byte_offset(s.start.index());
        let end = self.byte_offset(s.end.index()).max(start);
        Span::new(self.file, self.base + start, self.base + end)
    }

    /// Byte offset of a character index, walking forward from the last one.
    fn byte_offset(&mut self, char_index: usize) -> usize {
        let text = self.text;
        let (mut c, mut b) = self.cursor;
        if char_index < c {
            (c, b) = (0, 0);
        }
        if self.ascii {
            b = char_index.min(text.len());
            c = char_index;
        } else {
            let mut chars = text.get(b..).unwrap_or("").chars();
            while c < char_index {
                match chars.next() {
                    Some(ch) => {
                        b += ch.len_utf8();
                        c += 1;
                    }
                    None => break,
                }
            }
        }
        self.cursor = (c, b);
        b
    }

    fn open(&mut self, frame: Frame) -> Result<(), Diagnostic> {
        if self.stack.len() >= self.limits.max_depth {
            let start = match &frame {
                Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
            };
            return Err(Diagnostic::new(
                Code::E001,
                start,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            )
            .with_label("too deep here"));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, end: Span) -> Result<(), Diagnostic> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let (node, anchor) = match frame {
            Frame::Seq {
                start,
                anchor,
                items,
            } => (
                Node {
                    span: Span::new(
                        self.file,
                        start.start as usize,
                        end.end.max(start.end) as usize,
                    ),
                    value: Value::Seq(items),
                },
                anchor,
            ),
            Frame::Map {
                start,
                anchor,
                entries,
                ..
            } => {
                let last_end = entries
                    .last()
                    .map(|e| e.value.span.end)
                    .unwrap_or(start.end);
                (
                    Node {
                        span: Span::new(
                            self.file,
                            start.start as usize,
                            last_end.max(start.end) as usize,
                        ),
                        value: Value::Map(entries),
                    },
                    anchor,
                )
            }
        };
        self.complete(node, anchor)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<(), Diagnostic> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(Diagnostic::new(
                Code::E001,
                span,
                "alias to an unknown anchor",
            ));
        };
        let size = target.size();
        let bytes = target.bytes();
        if size > self.alias_budget || bytes > self.alias_bytes {
            return Err(Diagnostic::new(
                Code::E001,
                span,
                format!(
                    "aliases expand to more than {} nodes or {} bytes",
                    self.limits.max_alias_nodes, self.limits.max_alias_bytes
                ),
            )
            .with_label("expansion budget exhausted here")
            .with_help(
                "YAML aliases are copied where used; a chain of them can grow exponentially",
            ));
        }
        self.alias_budget -= size;
        self.alias_bytes -= bytes;
        let node = target.clone();
        self.complete(node, 0)
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), Diagnostic> {
        if anchor != 0 {
            // The copy kept for later aliases is charged like an expansion.
            let (size, bytes) = (node.size(), node.bytes());
            if size > self.alias_budget || bytes > self.alias_bytes {
                return Err(Diagnostic::new(
                    Code::E001,
                    node.span,
                    format!(
                        "aliases expand to more than {} nodes or {} bytes",
                        self.limits.max_alias_nodes, self.limits.max_alias_bytes
                    ),
                )
                .with_label("anchored value too large"));
            }
            self.alias_budget -= size;
            self.alias_bytes -= bytes;
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, key, seen, ..
            }) => match key.take() {
                None => match node.value {
                    // The key's text moves into the entry: no copy per key.
                    Value::Str(s) | Value::Plain(s) => {
                        *key = Some(Some(Located::new(s, node.span)));
                    }
                    ref value => {
                        let node = Node {
                            span: node.span,
                            value: value.clone(),
                        };
                        // (rare: a list or map used as a key)
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E002,
                                node.span,
                                format!("a map key must be a string, found {}", node.describe()),
                            )
                            .with_label("not a valid key"),
                        );
                        *key = Some(None);
                    }
                },
                Some(None) => {}
                Some(Some(k)) => {
                    if seen.is_none() && entries.len() >= 16 {
                        *seen = Some(
                            entries
                                .iter()
                                .map(|e| (e.key.value.clone(), e.key.span))
                                .collect(),
                        );
                    }
                    let first = match seen {
                        Some(index) => index.get(&k.value).copied(),
                        None => entries
                            .iter()
                            .find(|e| e.key.value == k.value)
                            .map(|e| e.key.span),
                    };
                    if let Some(first) = first {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E003,
                                k.span,
                                format!("duplicate key `{}` in this map", k.value),
                            )
                            .with_label("second definition")
                            .with_secondary(first, "first defined here")
                            .with_help("remove one of the two entries"),
                        );
                    } else {
                        if let Some(index) = seen {
                            index.insert(k.value.clone(), k.span);
                        }
                        entries.push(Entry {
                            key: k,
                            value: node,
                        });
                    }
                }
            },
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// Every file under `dir`, for the tests that read the fixtures.
    pub(crate) fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
