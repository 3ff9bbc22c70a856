//! Source files and byte spans: every diagnostic points into one of these.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file it is in.
    pub file: FileId,
    /// Byte offset of its first byte.
    pub start: u32,
    /// Byte offset just past its last byte.
    pub end: u32,
}

impl Span {
    /// The span of bytes `start..end` of `file` (offsets past `u32::MAX` are clamped).
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }

    /// An empty span at the start of a file, for problems of the whole file.
    pub fn file_start(file: FileId) -> Span {
        Span::new(file, 0, 0)
    }
}

/// A value together with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: Span,
}

impl<T> Located<T> {
    /// `value`, written at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Located { value, span }
    }
}

/// Line and column, both 1-based; columns count Unicode scalar values. A
/// byte order mark that starts a file is an encoding mark, not text: it is
/// not counted (line 1 starts after it, as in editors and YAML parsers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// One loaded file: its path as shown to users, and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to the working directory when given so).
    pub path: PathBuf,
    /// Its whole text (shared with the other revision's file of the same
    /// path and text, when a comparison reads both).
    pub text: Arc<String>,
    /// `path` as printed: computed once, borrowed by every diagnostic.
    display: String,
    line_starts: Arc<[usize]>,
    /// Columns are bytes when the whole text is ASCII (the common case).
    ascii: bool,
}

impl SourceFile {
    /// A file and its text; lines are indexed once, here.
    pub fn new(path: PathBuf, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        let ascii = text.is_ascii();
        SourceFile {
            display: display_path(&path),
            path,
            text: Arc::new(text),
            line_starts: line_starts.into(),
            ascii,
        }
    }

    /// A file at `path` whose text is `twin`'s, shared with it.
    pub fn sharing(path: PathBuf, twin: &SourceFile) -> SourceFile {
        SourceFile {
            display: display_path(&path),
            path,
            text: twin.text.clone(),
            line_starts: twin.line_starts.clone(),
            ascii: twin.ascii,
        }
    }

    /// Is the whole text ASCII (so that characters are bytes)?
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// The path with forward slashes, as printed in every output format.
    pub fn display_path(&self) -> &str {
        &self.display
    }

    /// Byte length of the byte order mark the text starts with (0 or 3).
    pub fn bom_len(&self) -> usize {
        if self.text.starts_with(BOM) {
            BOM.len_utf8()
        } else {
            0
        }
    }

    /// Number of lines (a final line without a newline counts; an empty text has one).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte range of 0-based line `line`'s text: from after a byte order mark
    /// (line 0) to before its newline.
    pub fn line_text_range(&self, line: usize) -> std::ops::Range<usize> {
        let mut start = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        if line == 0 {
            start += self.bom_len();
        }
        let end = self
            .line_starts
            .get(line + 1)
            .map(|next| next - 1)
            .unwrap_or(self.text.len())
            .max(start);
        start..end
    }

    /// Line and column of byte `offset` (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_of(offset);
        // `line_of` returns an index of `line_starts` (never empty: it starts with 0).
        let mut start = self.line_starts[line];
        if line == 0 && offset >= self.bom_len() {
            start += self.bom_len();
        }
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        LineCol {
            line: line + 1,
            column: column + 1,
        }
    }

    /// Byte offset of a 1-based line and a 0-based column counted in
    /// characters (after the byte order mark on line 1, see [`LineCol`]).
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        let mut start = match self.line_starts.get(line.saturating_sub(1)) {
            Some(s) => *s,
            None => return self.text.len(),
        };
        if line <= 1 {
            start += self.bom_len();
        }
        if self.ascii {
            let line_end = self
                .line_starts
                .get(line)
                .map(|e| e - 1)
                .unwrap_or(self.text.len());
            return (start + char_col).min(line_end.max(start));
        }
        let rest = self.text.get(start..).unwrap_or("");
        let mut offset = start;
        for (n, (i, c)) in rest.char_indices().enumerate() {
            if n == char_col || c == '\n' {
                return start + i;
            }
            offset = start + i + c.len_utf8();
        }
        offset
    }
}

const BOM: char = '\u{feff}';

pub(crate) fn display_path(path: &Path) -> String {
    let mut s = path.to_string_lossy().replace('\\', "/");
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}

/// All files of one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    /// Shared: the language server keeps the files it did not see change
    /// from one analysis to the next (their text, lines indexed, as is).
    files: Vec<Arc<SourceFile>>,
}

impl SourceMap {
    /// Adds a file; its id is its place in the map.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.add_shared(Arc::new(file))
    }

    /// Adds a file held elsewhere too.
    pub fn add_shared(&mut self, file: Arc<SourceFile>) -> FileId {
        self.files.push(file);
        FileId((self.files.len() - 1) as u32)
    }

    /// The file of `id` as shared, if it is in the map.
    pub(crate) fn shared(&self, id: FileId) -> Option<&Arc<SourceFile>> {
        self.files.get(id.0 as usize)
    }

    /// The file of `id`, if it is in the map.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize).map(|f| &**f)
    }

    /// The display path of a file; empty for an id not in the map.
    pub fn path(&self, id: FileId) -> &str {
        self.get(id).map_or("", SourceFile::display_path)
    }

    /// Start and end positions of `span` (1:1 for a file not in the map).
    pub fn line_col(&self, span: Span) -> (LineCol, LineCol) {
        match self.get(span.file) {
            Some(f) => (f.line_col(span.start), f.line_col(span.end)),
            None => (
                LineCol { line: 1, column: 1 },
                LineCol { line: 1, column: 1 },
            ),
        }
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Are there none?
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("a.yaml".into(), "ab\ncé: x\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'x' sits after "cé: " (é is two bytes)
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 5 });
        assert_eq!(f.offset_of(2, 4), 8);
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_a_column() {
        let f = SourceFile::new("a.yaml".into(), "\u{feff}ab: é\nc\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(7), LineCol { line: 1, column: 5 });
        assert_eq!(f.offset_of(1, 0), 3);
        assert_eq!(f.offset_of(1, 4), 7);
        assert_eq!(f.offset_of(2, 0), 10);
        assert_eq!(f.line_text_range(0), 3..9);
        assert_eq!(f.line_text_range(1), 10..11);
    }
}
