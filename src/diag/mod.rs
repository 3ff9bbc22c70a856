//! Diagnostics: one type for every finding, with a stable code (SPEC §12).

mod codes;
pub mod junit;
pub mod render;
mod snippet;

pub use codes::Code;

use crate::source::{FileId, SourceMap, Span};

/// How bad a finding is: an error fails the run, a warning only with `--deny-warnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the run (exit 1); a table is never built.
    Error,
    /// Reported; fails the run only with `--deny-warnings`.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in the source with an optional message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where it points.
    pub span: Span,
    /// What it says there, if anything.
    pub message: Option<String>,
}

impl Label {
    /// A label with a message.
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: Some(message.into()),
        }
    }
}

/// One finding: a code, a message, the exact node it is about, and context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Its stable code, which fixes its severity.
    pub code: Code,
    /// What is wrong, in one lowercase line.
    pub message: String,
    /// The node it is about.
    pub primary: Label,
    /// Related places (the other end of a duplicate, each link of a cycle).
    pub secondary: Vec<Label>,
    /// The concrete fix, when there is one.
    pub help: Option<String>,
    /// Further context, one line each.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A finding at `span`, without labels, help or notes yet.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            primary: Label {
                span,
                message: None,
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Its code's severity.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Labels the primary span.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = Some(message.into());
        self
    }

    /// Adds a related place.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(span, message));
        self
    }

    /// Sets the fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// The diagnostics of one run, in a stable order.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Adds one finding.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Adds several findings.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// Is any finding an error?
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    /// How many findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    }

    /// The findings, in their current order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// How many findings.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Are there none?
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorts by file path, position, then code, and drops exact duplicates,
    /// so that output never depends on the order checks ran in.
    pub fn sort(&mut self, sources: &SourceMap) {
        // Files ranked by their path once, so that comparing two findings
        // allocates nothing.
        let mut by_path: Vec<(&str, usize)> = (0..sources.len())
            .map(|i| (sources.path(FileId(i as u32)), i))
            .collect();
        by_path.sort();
        // Files with one path (a file and its base revision) share a rank.
        let mut rank = vec![0usize; sources.len()];
        let mut r = 0;
        for (k, (path, i)) in by_path.iter().enumerate() {
            if k > 0 && by_path[k - 1].0 != *path {
                r += 1;
            }
            rank[*i] = r;
        }
        let key = |d: &Diagnostic| {
            let s = d.primary.span;
            (
                rank.get(s.file.0 as usize).copied().unwrap_or(usize::MAX),
                s.start,
                s.end,
                d.code,
            )
        };
        self.items
            .sort_by(|a, b| key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message)));
        self.items.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The closest candidate to `word`, for "did you mean" hints.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}
