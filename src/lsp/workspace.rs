//! The policy set an open file belongs to, and one analysis of it: its
//! files read from the open buffers and the disk, then the library's
//! pipeline (load with a parse cache → resolve → check).

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use lsp_types::{Position, Range};

use super::navigate::Index;
use crate::load::{self, Limits, ParseCache};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::Checked;

/// The root of the set holding `file`: the nearest directory up the tree
/// holding a `.trellis` marker or a provider file (a policy file whose
/// `scope` is `provider`). Without one, the file's own directory. What was
/// learnt of each directory is kept in `known` (a directory of thousands of
/// tenant files is read once, not once per file opened).
pub(crate) fn find_root(
    file: &Path,
    open_text: Option<&str>,
    known: &mut HashMap<PathBuf, bool>,
) -> PathBuf {
    let own_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    if open_text.is_some_and(is_provider_text) {
        return own_dir;
    }
    for dir in file.ancestors().skip(1) {
        let is_root = *known
            .entry(dir.to_path_buf())
            .or_insert_with(|| holds_root_mark(dir));
        if is_root {
            return dir.to_path_buf();
        }
        // A repository's root ends the search.
        if dir.join(".git").exists() {
            break;
        }
    }
    own_dir
}

/// Does `dir` hold a `.trellis` marker or a provider file?
fn holds_root_mark(dir: &Path) -> bool {
    if dir.join(".trellis").exists() {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        let policy = [".yaml", ".yml", ".toml"].iter().any(|e| name.ends_with(e))
            && !load::is_test_file(&name)
            && !name.starts_with('.');
        policy
            && entry.file_type().is_ok_and(|t| t.is_file())
            && std::fs::read_to_string(entry.path()).is_ok_and(|t| is_provider_text(&t))
    })
}

/// Does this text say `scope: provider` (YAML) or `scope = "provider"`
/// (TOML) at the top level? A textual look, enough to find a root.
fn is_provider_text(text: &str) -> bool {
    text.lines().any(|l| {
        let Some(rest) = l.strip_prefix("scope") else {
            return false;
        };
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('=')) else {
            return false;
        };
        let value = rest.split('#').next().unwrap_or("").trim();
        value.trim_matches(|c| c == '"' || c == '\'') == "provider"
    })
}

/// A file as last read from the disk: its text with lines indexed (kept
/// as it is while the file does not change), or its bytes when they are
/// not UTF-8 (for the loader to report).
struct DiskFile {
    modified: Option<SystemTime>,
    len: u64,
    read: Read,
}

#[derive(Clone)]
enum Read {
    Text(Arc<SourceFile>),
    Bytes(Arc<[u8]>),
}

impl Read {
    fn new(path: &Path, bytes: Vec<u8>) -> Read {
        match String::from_utf8(bytes) {
            Ok(text) => Read::Text(Arc::new(SourceFile::new(path.to_path_buf(), text))),
            Err(e) => Read::Bytes(e.into_bytes().into()),
        }
    }

    fn input(&self, path: &Path) -> load::Input {
        match self {
            Read::Text(f) => load::Input::Text(Arc::clone(f)),
            Read::Bytes(b) => load::Input::Bytes(path.to_path_buf(), b.to_vec()),
        }
    }
}

/// One policy set.
pub(crate) struct Workspace {
    /// Its root directory.
    pub root: PathBuf,
    /// Has an open buffer of it changed since the last analysis?
    pub dirty: bool,
    /// May its files on disk have changed since (read the tree again)?
    pub rescan: bool,
    /// Its policy files on disk, as last found.
    paths: Vec<PathBuf>,
    /// The last analysis (`None` before the first, or when the root could not be read).
    pub analysis: Option<Analysis>,
    /// Files that had diagnostics in the last publication.
    pub published: BTreeSet<PathBuf>,
    /// How long each stage of the last analysis took (cumulative), for the log.
    pub timings: String,
    cache: ParseCache,
    disk: HashMap<PathBuf, DiskFile>,
    /// The open buffers as last analysed: one unchanged since is given
    /// again as it is.
    open: HashMap<PathBuf, Arc<SourceFile>>,
    /// What the last analysis's resolution kept, to resolve the set again
    /// from its model when an edit changed assignments alone.
    memo: Option<crate::resolve::Memo>,
    limits: Limits,
}

/// The set checked once.
pub(crate) struct Analysis {
    /// Sources, model and diagnostics.
    pub checked: Checked,
    /// Absolute path → its file.
    pub files: HashMap<PathBuf, FileId>,
    index: OnceCell<Index>,
}

impl Workspace {
    pub fn new(root: PathBuf) -> Workspace {
        let cache = load::ItemCache::default_dir()
            .and_then(|dir| load::ItemCache::for_set(&dir, std::slice::from_ref(&root)).ok())
            .map(std::sync::Arc::new);
        Workspace {
            root,
            dirty: true,
            rescan: true,
            paths: Vec::new(),
            analysis: None,
            published: BTreeSet::new(),
            timings: String::new(),
            cache: ParseCache::default(),
            disk: HashMap::new(),
            open: HashMap::new(),
            memo: None,
            // The first analysis reads the cache of parsed files (an editor
            // opening a large set); later ones keep their own in memory,
            // and writing the cache after every edit would cost more than
            // it saves.
            limits: Limits {
                cache,
                ..Limits::default()
            },
        }
    }

    /// Is `path` a policy file of this set (by name and place)?
    fn holds(&self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return false;
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The set's own files at its root (trellis.toml, the owners file)
        // are not policy files; below it the loader reports them.
        let own_file = rel.parent() == Some(Path::new("")) && load::is_reserved_name(&name);
        [".yaml", ".yml", ".toml"].iter().any(|e| name.ends_with(e))
            && !load::is_test_file(&name)
            && !own_file
            && rel
                .components()
                .all(|c| !c.as_os_str().to_string_lossy().starts_with('.'))
    }

    /// Checks the set again from `docs` (open buffers, by path) over the
    /// disk. Returns why the set could not be read, if it could not.
    pub fn analyze(&mut self, docs: &HashMap<PathBuf, String>) -> Option<String> {
        self.dirty = false;
        let started = std::time::Instant::now();
        let rescan = std::mem::take(&mut self.rescan) || self.analysis.is_none();
        if rescan {
            match load::discover(std::slice::from_ref(&self.root)) {
                Ok((found, _)) => self.paths = found,
                Err(e) => return Some(e.to_string()),
            }
        }
        let mut paths = self.paths.clone();
        for p in docs.keys() {
            if self.holds(p) {
                paths.push(p.clone());
            }
        }
        paths.sort();
        paths.dedup();
        let mut inputs = Vec::with_capacity(paths.len());
        let mut links = Vec::new();
        let mut seen = HashMap::with_capacity(paths.len());
        let mut open = HashMap::new();
        for p in paths {
            if let Some(text) = docs.get(&p) {
                let file = match self.open.remove(&p) {
                    Some(f) if *f.text == *text => f,
                    _ => Arc::new(SourceFile::new(p.clone(), text.clone())),
                };
                inputs.push(load::Input::Text(Arc::clone(&file)));
                open.insert(p, file);
                continue;
            }
            if !rescan {
                if let Some(d) = self.disk.get(&p) {
                    inputs.push(d.read.input(&p));
                    seen.insert(p, ());
                    continue;
                }
            }
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                links.push(p);
                continue;
            }
            let modified = meta.modified().ok();
            let fresh = self.disk.get(&p).is_some_and(|d| {
                d.modified == modified && d.len == meta.len() && modified.is_some()
            });
            if !fresh {
                if meta.len() > self.limits.max_file_size {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&p) else {
                    continue;
                };
                let read = Read::new(&p, bytes);
                self.disk.insert(
                    p.clone(),
                    DiskFile {
                        modified,
                        len: meta.len(),
                        read,
                    },
                );
            }
            if let Some(d) = self.disk.get(&p) {
                inputs.push(d.read.input(&p));
                seen.insert(p, ());
            }
        }
        self.disk.retain(|p, _| seen.contains_key(p));
        self.open = open;
        let read = started.elapsed();
        let t = std::time::Instant::now();
        let set = load::load_files_cached(inputs, &links, &self.limits, &mut self.cache);
        self.limits.cache = None;
        // The last model is taken to be resolved again (assignments alone
        // changed) or freed; the rest of the last analysis is freed off
        // the way.
        let last = match (self.analysis.take(), self.memo.take()) {
            (Some(a), Some(memo)) => {
                let crate::Checked {
                    model,
                    sources,
                    diagnostics,
                    ..
                } = a.checked;
                std::thread::spawn(move || drop((sources, diagnostics, a.files, a.index)));
                Some((model, memo))
            }
            _ => None,
        };
        let (checked, memo) = crate::analyze_loaded(set, t, last);
        self.memo = Some(memo);
        let files = (0..checked.sources.len() as u32)
            .filter_map(|i| {
                let id = FileId(i);
                checked.sources.get(id).map(|f| (f.path.clone(), id))
            })
            .collect();
        self.timings = std::iter::once(("read", read))
            .chain(checked.model.timings.iter().map(|(w, d)| (*w, read + *d)))
            .map(|(w, d)| format!("{w} {d:.1?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rules: Vec<String> = (checked.model.rule_timings.iter())
            .map(|(w, d)| format!("{w} {d:.1?}"))
            .collect();
        self.timings = format!("{}; rules: {}", self.timings, rules.join(", "));
        self.analysis = Some(Analysis {
            checked,
            files,
            index: OnceCell::new(),
        });
        None
    }

    /// The index of names of the last analysis, built on first use.
    pub fn index(&self) -> Option<&Index> {
        let a = self.analysis.as_ref()?;
        Some(
            a.index
                .get_or_init(|| Index::build(&a.checked, &self.cache)),
        )
    }

    /// The scope the file at `path` writes in (the provider's when unknown).
    pub fn scope_of(&self, path: &Path) -> crate::model::Scope {
        match (&self.analysis, self.cache.file(path)) {
            (Some(a), Some(f)) => super::navigate::file_scope(&a.checked.model, f),
            _ => crate::model::Scope::Provider,
        }
    }

    /// The last analysis and the file of `path` in it.
    pub fn file(&self, path: &Path) -> Option<(&Analysis, FileId)> {
        let a = self.analysis.as_ref()?;
        let id = *a.files.get(path)?;
        Some((a, id))
    }
}

impl Analysis {
    pub fn sources(&self) -> &SourceMap {
        &self.checked.sources
    }
}

/// The LSP range (UTF-16 columns) of `span`.
pub(crate) fn range(sources: &SourceMap, span: Span) -> Range {
    match sources.get(span.file) {
        Some(f) => Range::new(
            position(f, span.start as usize),
            position(f, span.end as usize),
        ),
        None => Range::default(),
    }
}

/// The LSP position of byte `offset`: 0-based line, UTF-16 code units from
/// the line's start (after a byte order mark on the first line).
pub(crate) fn position(file: &SourceFile, offset: usize) -> Position {
    let offset = offset.min(file.text.len());
    let line = file.line_of(offset);
    let start = file.line_text_range(line).start.min(offset);
    let column = file
        .text
        .get(start..offset)
        .map(|s| s.encode_utf16().count())
        .unwrap_or(offset - start);
    Position::new(line as u32, column as u32)
}

/// The byte offset of an LSP position (clamped to its line; a position
/// inside a surrogate pair lands before the character).
pub(crate) fn offset(file: &SourceFile, pos: Position) -> usize {
    let line = pos.line as usize;
    if line >= file.line_count() {
        return file.text.len();
    }
    let r = file.line_text_range(line);
    let text = file.text.get(r.clone()).unwrap_or("");
    let mut units = 0usize;
    for (i, c) in text.char_indices() {
        if units >= pos.character as usize {
            return r.start + i;
        }
        units += c.len_utf16();
        if units > pos.character as usize {
            return r.start + i;
        }
    }
    r.end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        // é is one unit and two bytes; 😀 two units and four bytes.
        let f = SourceFile::new("a.yaml".into(), "a: é😀x\nb\n".into());
        let x = f.text.find('x').unwrap_or(0);
        assert_eq!(position(&f, x), Position::new(0, 6));
        assert_eq!(offset(&f, Position::new(0, 6)), x);
        assert_eq!(
            offset(&f, Position::new(1, 0)),
            f.text.find('b').unwrap_or(0)
        );
        assert_eq!(offset(&f, Position::new(0, 99)), x + 1);
        let bom = SourceFile::new("b.yaml".into(), "\u{feff}ab".into());
        assert_eq!(position(&bom, 4), Position::new(0, 1));
        assert_eq!(offset(&bom, Position::new(0, 1)), 4);
    }

    #[test]
    fn provider_text_is_found_in_both_formats() {
        assert!(is_provider_text("# x\nscope: provider\n"));
        assert!(is_provider_text("scope = \"provider\"\n"));
        assert!(!is_provider_text("scope: acme\n"));
        assert!(!is_provider_text("  scope: provider\n"));
    }
}
