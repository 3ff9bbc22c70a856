//! What the human renderer (miette) is shown of a file: the lines a
//! diagnostic's labels need, long lines clipped around the labels, no byte
//! order mark; every line and column it prints is still the file's own.
//!
//! miette lays a line out with `format!` widths, which panic past 65,535
//! columns, and counts columns in bytes; a clipped line and positions computed
//! here (characters, as every other format counts them) avoid both.

use miette::{MietteError, SourceCode, SourceSpan, SpanContents};

use crate::source::SourceFile;

/// Lines longer than this many bytes are clipped around the labels.
const LONG_LINE: usize = 240;
/// Characters kept on each side of a label's start or end on a clipped line.
const AROUND: usize = 40;
/// Stands for the text left out of a clipped line.
const ELLIPSIS: &str = "…";

/// A run of the file's text copied into the snippet unchanged.
#[derive(Clone, Copy, Debug)]
struct Piece {
    /// Byte offset in the file's text.
    file: usize,
    /// Byte offset in the snippet's text.
    shown: usize,
    /// Byte length (the same in both).
    len: usize,
    /// 0-based line and character column of the piece's start in the file.
    line: usize,
    column: usize,
}

/// The shown text of one file for one diagnostic; the file's name is
/// borrowed from its [`SourceFile`], not copied.
#[derive(Debug)]
pub struct Snippet<'a> {
    name: &'a str,
    text: String,
    /// Sorted by `file` and by `shown` alike; each line starts with one.
    pieces: Vec<Piece>,
}

impl<'a> Snippet<'a> {
    /// Nothing to show (a label in a file that is not loaded).
    pub fn empty() -> Snippet<'a> {
        Snippet {
            name: "",
            text: String::new(),
            pieces: Vec::new(),
        }
    }

    /// The lines from the first to the last of `points` (byte offsets of
    /// label starts and ends), with `context` lines around them.
    pub fn new(file: &'a SourceFile, points: &[usize], context: usize) -> Snippet<'a> {
        let len = file.text.len();
        let first = points.iter().min().map_or(0, |&p| file.line_of(p.min(len)));
        let last = points.iter().max().map_or(0, |&p| file.line_of(p.min(len)));
        let first = first.saturating_sub(context);
        let last = (last + context).min(file.line_count().saturating_sub(1));
        let mut points: Vec<usize> = points.iter().map(|&p| p.min(len)).collect();
        points.sort_unstable();
        let mut s = Snippet {
            name: file.display_path(),
            text: String::new(),
            pieces: Vec::new(),
        };
        for line in first..=last {
            let range = file.line_text_range(line);
            let windows = if range.len() > LONG_LINE {
                let on_line = points
                    .iter()
                    .copied()
                    .filter(|p| range.contains(p) || *p == range.end);
                windows(&file.text, range.clone(), on_line)
            } else {
                vec![range.clone()]
            };
            // Characters of the line before `at`.
            let mut column = 0;
            let mut at = range.start;
            for (k, w) in windows.into_iter().enumerate() {
                if w.start > at {
                    if k == 0 {
                        // Every line starts with a piece, even an empty one.
                        s.push_piece(file, at..at, line, 0);
                    }
                    s.text.push_str(ELLIPSIS);
                }
                column += char_count(&file.text, at..w.start);
                s.push_piece(file, w.clone(), line, column);
                column += char_count(&file.text, w.clone());
                at = w.end;
            }
            if at < range.end {
                s.text.push_str(ELLIPSIS);
            }
            if file.text.as_bytes().get(range.end) == Some(&b'\n') {
                s.text.push('\n');
            }
        }
        s
    }

    fn push_piece(
        &mut self,
        file: &SourceFile,
        range: std::ops::Range<usize>,
        line: usize,
        column: usize,
    ) {
        let shown = self.text.len();
        let text = file.text.get(range.clone()).unwrap_or("");
        // A lone carriage return is no line break to us, but one to miette.
        let bytes = file.text.as_bytes();
        for (i, c) in text.char_indices() {
            let lone_cr = c == '\r' && bytes.get(range.start + i + 1) != Some(&b'\n');
            self.text.push(if lone_cr { ' ' } else { c });
        }
        self.pieces.push(Piece {
            file: range.start,
            shown,
            len: range.len(),
            line,
            column,
        });
    }

    /// Where the file's byte `offset` is shown: a start in left-out text is
    /// shown before its ellipsis, an end after it.
    pub fn shown(&self, offset: usize, end: bool) -> usize {
        let i = self.pieces.partition_point(|p| p.file <= offset);
        let Some(p) = i.checked_sub(1).and_then(|i| self.pieces.get(i)) else {
            return 0;
        };
        if offset <= p.file + p.len {
            return p.shown + (offset - p.file);
        }
        let after = p.shown + p.len;
        if end
            && self
                .text
                .get(after..)
                .is_some_and(|t| t.starts_with(ELLIPSIS))
        {
            after + ELLIPSIS.len()
        } else {
            after
        }
    }

    /// The file's 0-based line and character column of a shown offset.
    fn position(&self, shown: usize) -> (usize, usize) {
        let i = self.pieces.partition_point(|p| p.shown <= shown);
        let Some(p) = i.checked_sub(1).and_then(|i| self.pieces.get(i)) else {
            return (0, 0);
        };
        let upto = shown.min(p.shown + p.len);
        let chars = self
            .text
            .get(p.shown..upto)
            .map_or(upto - p.shown, |t| t.chars().count());
        (p.line, p.column + chars)
    }
}

impl SourceCode for Snippet<'_> {
    fn read_span<'s>(
        &'s self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'s> + 's>, MietteError> {
        let inner = <str as SourceCode>::read_span(
            &self.text,
            span,
            context_lines_before,
            context_lines_after,
        )?;
        let (line, column) = self.position(inner.span().offset());
        Ok(Box::new(Shown {
            name: self.name,
            data: inner.data(),
            span: *inner.span(),
            line,
            column,
            line_count: inner.line_count(),
        }))
    }
}

/// What miette reads of a snippet: the shown text with the file's own line
/// and column, named by a borrowed path (miette's own contents type would
/// copy the name on every read).
struct Shown<'s> {
    name: &'s str,
    data: &'s [u8],
    span: SourceSpan,
    line: usize,
    column: usize,
    line_count: usize,
}

impl<'s> SpanContents<'s> for Shown<'s> {
    fn data(&self) -> &'s [u8] {
        self.data
    }
    fn span(&self) -> &SourceSpan {
        &self.span
    }
    fn name(&self) -> Option<&str> {
        Some(self.name)
    }
    fn line(&self) -> usize {
        self.line
    }
    fn column(&self) -> usize {
        self.column
    }
    fn line_count(&self) -> usize {
        self.line_count
    }
}

fn char_count(text: &str, range: std::ops::Range<usize>) -> usize {
    text.get(range.clone())
        .map_or(range.len(), |t| t.chars().count())
}

/// The parts of a long line kept: `AROUND` characters on each side of every
/// point, merged where they meet; the line's start when no point is on it.
fn windows(
    text: &str,
    line: std::ops::Range<usize>,
    points: impl Iterator<Item = usize>,
) -> Vec<std::ops::Range<usize>> {
    let back = |p: usize| {
        text.get(line.start..p)
            .and_then(|t| t.char_indices().rev().nth(AROUND - 1))
            .map_or(line.start, |(i, _)| line.start + i)
    };
    let forward = |p: usize| {
        text.get(p..line.end)
            .and_then(|t| t.char_indices().nth(AROUND))
            .map_or(line.end, |(i, _)| p + i)
    };
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for p in points {
        let w = back(p)..forward(p);
        match out.last_mut() {
            Some(last) if w.start <= last.end => last.end = last.end.max(w.end),
            _ => out.push(w),
        }
    }
    if out.is_empty() {
        out.push(line.start..forward(line.start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_clipped_around_the_label_with_exact_positions() {
        let line = format!("{}é colour: 1, {}", "x".repeat(70_000), "y".repeat(70_000));
        let text = format!("\u{feff}a\n{line}\nb\n");
        let file = SourceFile::new("p.yaml".into(), text.clone());
        let at = text.find("colour").unwrap_or(0);
        let s = Snippet::new(&file, &[at, at + 6], 1);
        assert!(s.text.len() < 400, "{}", s.text.len());
        assert!(s.text.starts_with("a\n…"), "{}", s.text);
        assert!(s.text.ends_with("…\nb\n"), "{}", s.text);
        let shown = s.shown(at, false);
        assert_eq!(s.text.get(shown..shown + 6), Some("colour"));
        // Line 2, after 70,000 `x`, `é` and a space: column 70,003 (1-based).
        assert_eq!(s.position(shown), (1, 70_002));
        assert_eq!(s.position(0), (0, 0));
        assert_eq!(s.position(2), (1, 0));
    }
}
