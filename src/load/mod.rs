//! Stage 1: find the files of a policy set, parse them (YAML or TOML) into
//! span-carrying trees, and deserialise each section item by item, so that
//! one bad item or file never hides the problems of the others.

mod cache;
pub(crate) mod de;
pub(crate) mod node;
#[allow(
    missing_docs,
    reason = "doc comments on these types become the JSON Schema's descriptions (`trellis schema`, schema/trellis.schema.json); the keys are documented in docs/manual.md"
)]
pub mod raw;
mod toml;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use self::cache::{InsideSet, ItemCache};
use self::de::{from_node, from_node_all, Spanned};
use self::node::{Node, Value};
use self::raw::*;
use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Located, SourceFile, SourceMap, Span};

/// Bounds on hostile input.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes a file may have (`--max-file-size`).
    pub max_file_size: u64,
    /// Levels a document may nest.
    pub max_depth: usize,
    /// Nodes YAML alias expansion may produce in one file.
    pub max_alias_nodes: usize,
    /// Bytes YAML alias expansion may produce in one file.
    pub max_alias_bytes: usize,
    /// Where files' items are kept between runs (`None`: every file is
    /// parsed). It sits with the limits because both are passed wherever
    /// a file is parsed, and the limits are part of every entry's key.
    pub cache: Option<std::sync::Arc<ItemCache>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 256 * 1024 * 1024,
            max_depth: 64,
            max_alias_nodes: 1_000_000,
            max_alias_bytes: 64 * 1024 * 1024,
            cache: None,
        }
    }
}

/// A failure to read the set at all (exit code 2), as opposed to a diagnostic.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A path given does not exist.
    #[error("path `{}` does not exist", .0.display())]
    NotFound(PathBuf),
    /// A path could not be read.
    #[error("cannot read `{}`: {}", .0.display(), .1)]
    Io(PathBuf, #[source] std::io::Error),
    /// The paths given hold no policy file.
    #[error("no policy files (*.yaml, *.yml, *.toml) found in {}", list(.0))]
    NoPolicyFiles(Vec<PathBuf>),
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A map-section entry: its id (with the key's span) and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<T> {
    /// The entry's key, where it is written.
    pub id: Located<String>,
    /// The entry's value.
    pub body: T,
}

/// One policy file after loading.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PolicyFile {
    /// The file it was read from.
    pub file: FileId,
    /// `scope`: `provider` or an org id, where it is written.
    pub scope: Located<String>,
    /// Sections present in the file, with the span of their key (for E010).
    pub sections: Vec<Located<String>>,
    /// `modules` entries.
    pub modules: Vec<Item<RawModule>>,
    /// `policies` entries.
    pub policies: Vec<Item<RawPolicy>>,
    /// `kinds` entries.
    pub kinds: Vec<Item<RawKind>>,
    /// `orgs` entries.
    pub orgs: Vec<Item<RawOrg>>,
    /// `users` entries.
    pub users: Vec<Item<RawUser>>,
    /// `roles` entries.
    pub roles: Vec<Item<RawRole>>,
    /// `assignments` items.
    pub assignments: Vec<Spanned<RawAssignment>>,
    /// `publications` items.
    pub publications: Vec<Spanned<RawPublication>>,
    /// `exclusions` items.
    pub exclusions: Vec<Spanned<RawExclusion>>,
    /// `automatic` rules.
    pub automatic: Vec<Spanned<RawRule>>,
    /// `dimensions` entries.
    pub dimensions: Vec<Item<RawDimension>>,
    /// `resources` entries.
    pub resources: Vec<Item<RawResource>>,
}

impl Default for Located<String> {
    fn default() -> Self {
        Located::new(String::new(), Span::default())
    }
}

impl PolicyFile {
    /// Is it written by the provider (`scope: provider`)?
    pub fn is_provider(&self) -> bool {
        self.scope.value == "provider"
    }
}

/// Everything read from disk for one run.
#[derive(Debug, Default)]
pub(crate) struct LoadedSet {
    pub sources: SourceMap,
    /// The files parsed, shared: the language server keeps each between
    /// edits and hands the same one to every analysis, which reads it in
    /// place ([`crate::resolve::resolve`] takes apart only the files no one
    /// else holds).
    pub files: Vec<Arc<PolicyFile>>,
    /// Test files found beside the policies (SPEC §10), not yet parsed.
    pub test_paths: Vec<PathBuf>,
    pub diagnostics: Diagnostics,
}

/// Is `name` a test file's name (`*.test.yaml`, `*.test.yml`, `*.test.toml`)?
pub fn is_test_file(name: &str) -> bool {
    [".test.yaml", ".test.yml", ".test.toml"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// The set's own files, named alike in every set: the configuration
/// (`trellis.toml`) and the owners file (`trellis-owners.toml`). They are
/// never policy files. At the set's root they are skipped; anywhere below
/// it each is an E002 (see `parse_tree`), so that a tenant cannot plant
/// one that either changes the set or silently vanishes.
pub const RESERVED_NAMES: [&str; 2] = ["trellis.toml", "trellis-owners.toml"];

/// Is `name` one of [`RESERVED_NAMES`]?
pub fn is_reserved_name(name: &str) -> bool {
    RESERVED_NAMES.contains(&name)
}

fn is_policy_ext(name: &str) -> bool {
    [".yaml", ".yml", ".toml"].iter().any(|s| name.ends_with(s))
}

/// Finds policy and test files under `paths`, in sorted path order.
pub(crate) fn discover(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), LoadError> {
    let mut policies = Vec::new();
    let mut tests = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => LoadError::NotFound(path.clone()),
            _ => LoadError::Io(path.clone(), e),
        })?;
        if meta.is_dir() {
            walk(path, &mut policies, &mut tests)?;
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_test_file(&name) {
                tests.push(path.clone());
            } else {
                policies.push(path.clone());
            }
        }
    }
    policies.sort();
    policies.dedup();
    tests.sort();
    tests.dedup();
    Ok((policies, tests))
}

/// Walks a directory tree without recursion (nothing is skipped for its
/// depth). Symbolic links are not followed: one named like a policy file is
/// kept so that reading it reports E001, a linked directory is not entered.
/// A directory below the root that holds a `.git` entry is another
/// repository (a nested one, or a submodule) and not part of the set.
fn walk(
    root: &Path,
    policies: &mut Vec<PathBuf>,
    tests: &mut Vec<PathBuf>,
) -> Result<(), LoadError> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| LoadError::Io(dir.clone(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| LoadError::Io(dir.clone(), e))?;
            let child = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| LoadError::Io(child.clone(), e))?;
            if dir == root && !kind.is_dir() && is_reserved_name(&name) {
                // The set's configuration or owners file, not a policy (a
                // link there is refused by what reads it).
            } else if kind.is_symlink() {
                if is_policy_ext(&name) && !is_test_file(&name) {
                    policies.push(child);
                }
            } else if kind.is_dir() {
                if std::fs::symlink_metadata(child.join(".git")).is_err() {
                    stack.push(child);
                }
            } else if is_test_file(&name) {
                tests.push(child);
            } else if is_policy_ext(&name) {
                policies.push(child);
            }
        }
    }
    Ok(())
}

/// Policy files as read: each path with its contents.
pub type Inputs = Vec<(PathBuf, Vec<u8>)>;

/// The policy files under `dir` with their contents, and the symbolic
/// links named like policy files (each an E001 when loaded).
pub(crate) fn read_dir_inputs(dir: &Path) -> Result<(Inputs, Vec<PathBuf>), LoadError> {
    let (paths, _) = discover(std::slice::from_ref(&dir.to_path_buf()))?;
    if paths.is_empty() {
        return Err(LoadError::NoPolicyFiles(vec![dir.to_path_buf()]));
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut links = Vec::new();
    for p in paths {
        let meta = std::fs::symlink_metadata(&p).map_err(|e| LoadError::Io(p.clone(), e))?;
        if meta.file_type().is_symlink() {
            links.push(p);
        } else {
            let bytes = std::fs::read(&p).map_err(|e| LoadError::Io(p.clone(), e))?;
            files.push((p, bytes));
        }
    }
    Ok((files, links))
}

/// E001 for a symbolic link named like a policy file: links are not
/// followed, so that a directory and a git revision of it read the same set.
fn symlink_not_followed(path: &Path, sources: &mut SourceMap, diagnostics: &mut Diagnostics) {
    let id = sources.add(SourceFile::new(path.to_path_buf(), String::new()));
    diagnostics.push(
        Diagnostic::new(
            Code::E001,
            Span::file_start(id),
            "symbolic link not followed: policy files must be regular files",
        )
        .with_help("replace the link with the file it points to, or give it a name that is not a policy file's"),
    );
}

/// Reads one file into the source map. Returns `None` (with a diagnostic)
/// when it is too large or not UTF-8.
pub(crate) fn read_source(
    path: &Path,
    limits: &Limits,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Result<Option<FileId>, LoadError> {
    let bytes = read_bytes(path, limits)?;
    Ok(add_read(path, bytes, limits, sources, diagnostics))
}

/// A file as read: its text ready for the source map (UTF-8 checked, lines
/// indexed, which is worth doing on every core for thousands of files), bytes
/// that are not UTF-8, or its length when it is over the size limit
/// (checked before reading it).
enum ReadFile {
    Text(SourceFile),
    Symlink,
    NotUtf8(Vec<u8>),
    TooLarge(u64),
}

fn read_bytes(path: &Path, limits: &Limits) -> Result<ReadFile, LoadError> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
    if meta.file_type().is_symlink() {
        return Ok(ReadFile::Symlink);
    }
    if meta.len() > limits.max_file_size {
        return Ok(ReadFile::TooLarge(meta.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
    if bytes.len() as u64 > limits.max_file_size {
        return Ok(ReadFile::TooLarge(bytes.len() as u64));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => ReadFile::Text(SourceFile::new(path.to_path_buf(), text)),
        Err(e) => ReadFile::NotUtf8(e.into_bytes()),
    })
}

fn add_read(
    path: &Path,
    read: ReadFile,
    limits: &Limits,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<FileId> {
    match read {
        ReadFile::Text(file) => Some(sources.add(file)),
        ReadFile::Symlink => {
            symlink_not_followed(path, sources, diagnostics);
            None
        }
        // The same diagnostic as for contents from a git revision.
        ReadFile::NotUtf8(bytes) => add_source(path, bytes, limits, sources, diagnostics),
        ReadFile::TooLarge(len) => {
            too_large(path, len, limits, sources, diagnostics);
            None
        }
    }
}

fn too_large(
    path: &Path,
    len: u64,
    limits: &Limits,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) {
    let id = sources.add(SourceFile::new(path.to_path_buf(), String::new()));
    diagnostics.push(
        Diagnostic::new(
            Code::E001,
            Span::file_start(id),
            format!(
                "file is {len} bytes, more than the limit of {} bytes",
                limits.max_file_size
            ),
        )
        .with_help("raise the limit with `--max-file-size` if this file is genuine"),
    );
}

/// Adds file contents (from disk or from a git revision) to the source map.
pub(crate) fn add_source(
    path: &Path,
    bytes: Vec<u8>,
    limits: &Limits,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<FileId> {
    if bytes.len() as u64 > limits.max_file_size {
        too_large(path, bytes.len() as u64, limits, sources, diagnostics);
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(sources.add(SourceFile::new(path.to_path_buf(), text))),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
            let id = sources.add(SourceFile::new(path.to_path_buf(), text));
            diagnostics.push(
                Diagnostic::new(
                    Code::E001,
                    Span::new(id, at, at + 1),
                    "file is not valid UTF-8",
                )
                .with_label("invalid byte here")
                .with_help("policy files must be UTF-8 text"),
            );
            None
        }
    }
}

/// Adds the files given to `set`'s sources in path order (each symbolic
/// link reported first, E001), returning the ids of those that were read.
fn add_inputs(
    mut inputs: Vec<Input>,
    links: &[PathBuf],
    limits: &Limits,
    set: &mut LoadedSet,
) -> Vec<FileId> {
    let mut links = links.to_vec();
    links.sort();
    for link in &links {
        symlink_not_followed(link, &mut set.sources, &mut set.diagnostics);
    }
    inputs.sort_by(|a, b| a.path().cmp(b.path()));
    let mut ids = Vec::with_capacity(inputs.len());
    for input in inputs {
        let id = match input {
            Input::Bytes(path, bytes) => {
                add_source(&path, bytes, limits, &mut set.sources, &mut set.diagnostics)
            }
            Input::Text(f) if f.text.len() as u64 > limits.max_file_size => {
                let len = f.text.len() as u64;
                too_large(&f.path, len, limits, &mut set.sources, &mut set.diagnostics);
                None
            }
            Input::Text(f) => Some(set.sources.add_shared(f)),
        };
        ids.extend(id);
    }
    ids
}

/// Loads policy files given as contents (e.g. read from a git revision),
/// adding them to `sources` (which may already hold other files).
pub(crate) fn load_files(
    inputs: Vec<(PathBuf, Vec<u8>)>,
    links: &[PathBuf],
    limits: &Limits,
    sources: SourceMap,
) -> LoadedSet {
    let mut set = LoadedSet {
        sources,
        ..LoadedSet::default()
    };
    // A file with the path and text of one already read (the head's, when
    // the base of a comparison is read) shares that text: the base of a
    // one-file change at L is 24,276 such files, 187 MB.
    let twins: rustc_hash::FxHashMap<&str, FileId> = (0..set.sources.len() as u32)
        .map(FileId)
        .filter_map(|id| Some((set.sources.get(id)?.display_path(), id)))
        .collect();
    let inputs = inputs
        .into_iter()
        .map(|(p, b)| {
            let display = crate::source::display_path(&p);
            let twin = twins
                .get(display.as_str())
                .and_then(|id| set.sources.get(*id));
            match twin {
                Some(twin) if twin.text.as_bytes() == b.as_slice() => {
                    Input::Text(Arc::new(SourceFile::sharing(p, twin)))
                }
                _ => Input::Bytes(p, b),
            }
        })
        .collect();
    drop(twins);
    let ids = add_inputs(inputs, links, limits, &mut set);
    parse_all(&ids, limits, &mut set);
    set
}

/// Parsed files kept between runs (the language server's edits): each
/// file's path, the hash of its text and its [`FileId`] with what parsing
/// it gave. A file is parsed again only when one of the three changed (its
/// spans carry the id, so a file that moved in the set is parsed anew).
#[derive(Debug, Default)]
pub(crate) struct ParseCache {
    entries: rustc_hash::FxHashMap<PathBuf, CachedParse>,
}

#[derive(Debug)]
struct CachedParse {
    /// The text parsed: a file given again as this very one is known
    /// unchanged without hashing it.
    source: Arc<SourceFile>,
    hash: u64,
    id: FileId,
    file: Option<Arc<PolicyFile>>,
    diags: Vec<Diagnostic>,
}

impl ParseCache {
    /// The parsed file at `path`, as last loaded (for the language
    /// server's index of names).
    pub(crate) fn file(&self, path: &Path) -> Option<&PolicyFile> {
        self.entries.get(path).and_then(|c| c.file.as_deref())
    }
}

/// A policy file given to [`load_files_cached`]: its bytes, or its text
/// already read (kept from an earlier run, not copied).
pub(crate) enum Input {
    Bytes(PathBuf, Vec<u8>),
    Text(Arc<SourceFile>),
}

impl Input {
    fn path(&self) -> &Path {
        match self {
            Input::Bytes(p, _) => p,
            Input::Text(f) => &f.path,
        }
    }
}

/// [`load_files`] for the language server: the files given as [`Input`]s,
/// reusing the parse of every file whose path, text and id are those of
/// `cache` (and keeping the new ones there, dropping files that are gone).
pub(crate) fn load_files_cached(
    inputs: Vec<Input>,
    links: &[PathBuf],
    limits: &Limits,
    cache: &mut ParseCache,
) -> LoadedSet {
    let mut set = LoadedSet::default();
    let ids = add_inputs(inputs, links, limits, &mut set);
    // Each file's key: its id and text's hash, unless it is the very text
    // the cache holds (then its entry stands as it is).
    let keys: Vec<(FileId, Option<u64>)> = ids
        .iter()
        .filter_map(|id| {
            let f = set.sources.shared(*id)?;
            let same = cache
                .entries
                .get(&f.path)
                .is_some_and(|c| c.id == *id && Arc::ptr_eq(&c.source, f));
            Some((*id, (!same).then(|| text_hash(&f.text))))
        })
        .collect();
    let stale: Vec<FileId> = keys
        .iter()
        .filter(|(id, hash)| {
            let Some(hash) = hash else { return false };
            let path = set.sources.get(*id).map(|f| &f.path);
            !path
                .and_then(|p| cache.entries.get(p))
                .is_some_and(|c| c.id == *id && c.hash == *hash)
        })
        .map(|k| k.0)
        .collect();
    let sources = &set.sources;
    let parsed: Vec<_> = stale
        .par_iter()
        .map(|id| {
            let (file, diags) = read_file(*id, sources, limits, limits.cache.as_deref());
            (*id, file, diags)
        })
        .collect();
    if let Some(cache) = &limits.cache {
        cache.save();
    }
    let mut fresh: rustc_hash::FxHashMap<FileId, (Option<PolicyFile>, Diagnostics)> = parsed
        .into_iter()
        .map(|(id, file, diags)| (id, (file, diags)))
        .collect();
    let mut entries = rustc_hash::FxHashMap::default();
    for (id, hash) in keys {
        let Some(source) = set.sources.shared(id).cloned() else {
            continue;
        };
        let path = source.path.clone();
        let entry = match fresh.remove(&id) {
            Some((file, diags)) => CachedParse {
                hash: hash.unwrap_or_else(|| text_hash(&source.text)),
                source,
                id,
                file: file.map(Arc::new),
                diags: diags.into_iter().collect(),
            },
            None => match cache.entries.remove(&path) {
                // The same text, maybe read again: this one is kept.
                Some(c) => CachedParse { source, ..c },
                None => continue,
            },
        };
        set.diagnostics.extend(entry.diags.iter().cloned());
        if let Some(f) = &entry.file {
            set.files.push(Arc::clone(f));
        }
        entries.insert(path, entry);
    }
    cache.entries = entries;
    set
}

fn text_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// Parses a file's text into a node tree by its extension.
pub(crate) fn parse_tree(
    id: FileId,
    sources: &SourceMap,
    limits: &Limits,
    diagnostics: &mut Diagnostics,
) -> Option<Node> {
    let source = sources.get(id)?;
    if let Some(name) = source
        .path
        .file_name()
        .map(|n| n.to_string_lossy())
        .filter(|n| is_reserved_name(n))
    {
        // Only the set's root holds these (the walk skips them there).
        diagnostics.push(
            Diagnostic::new(
                Code::E002,
                Span::file_start(id),
                format!("`{name}` below the set's root is not read"),
            )
            .with_label("neither a policy file nor the set's own")
            .with_help(format!(
                "only the `{name}` at the root of the set counts; move what it says there (the provider's file) or delete this one"
            )),
        );
        return None;
    }
    parse_text(id, sources, limits, diagnostics)
}

/// Parses a file's text into a node tree by its extension, whatever its
/// name (the set's own files, `trellis.toml` and the owners file).
pub(crate) fn parse_text(
    id: FileId,
    sources: &SourceMap,
    limits: &Limits,
    diagnostics: &mut Diagnostics,
) -> Option<Node> {
    let source = sources.get(id)?;
    let (node, diags) = if is_toml(source) {
        toml::parse(id, source, limits)
    } else {
        yaml::parse(id, source, limits)
    };
    diagnostics.extend(diags);
    node
}

/// A policy file's items and what reading it found, through `cache` when
/// given: read back when the cache holds the file's text, else read (and
/// kept when reading found nothing). Only the loads that complete the
/// cache file when they are done (`parse_all`, `load_files_cached`) pass
/// the cache of `limits`: items read elsewhere would be put in a cache
/// file that nothing completes.
fn read_file(
    id: FileId,
    sources: &SourceMap,
    limits: &Limits,
    cache: Option<&ItemCache>,
) -> (Option<PolicyFile>, Diagnostics) {
    let read = || {
        if let Some(read) = read_in_pieces(id, sources, limits) {
            return read;
        }
        let mut diags = Diagnostics::default();
        let file = parse_tree(id, sources, limits, &mut diags)
            .and_then(|root| read_policy_file(id, &root, &mut diags));
        (file, diags)
    };
    // A reserved name is refused whatever its text (by `parse_tree`).
    let cached = sources
        .get(id)
        .filter(|source| !parse_tree_refused(source))
        .zip(cache);
    let Some((source, cache)) = cached else {
        return read();
    };
    let kind = if is_toml(source) {
        cache::Kind::Toml
    } else {
        cache::Kind::Yaml
    };
    let key = cache.key(kind, limits, &source.text);
    if let Some(file) = cache.get(key, id, &source.text) {
        return (Some(file), Diagnostics::default());
    }
    cache.count_parsed();
    let (file, diags) = read();
    if let (Some(file), true) = (&file, diags.is_empty()) {
        cache.put(key, file, &source.text);
    }
    (file, diags)
}

/// Is it read as TOML (by its extension; anything else is YAML)?
fn is_toml(source: &SourceFile) -> bool {
    source.path.extension().is_some_and(|e| e == "toml")
}

/// May a large file's section of this key be read in parts? Those of
/// items may (a part's items are those of its entries); `scope` and
/// `description` are not lists of items, and an unknown key is reported by
/// the whole read.
fn read_in_parts(key: &str) -> bool {
    key != "scope" && key != "description" && raw::FILE_KEYS.contains(&key)
}

/// A large YAML file read in pieces on every core (`yaml::split`): each
/// part of a big section is parsed, read into its items and freed on its
/// own, so that the file's whole tree is never held (for a file of tens
/// of MB, several times the memory of its items). `None` when the file is
/// to be read whole: not large, not of the plain layout, or any piece
/// found a problem (the whole read reports it, where it is).
fn read_in_pieces(
    id: FileId,
    sources: &SourceMap,
    limits: &Limits,
) -> Option<(Option<PolicyFile>, Diagnostics)> {
    let source = sources.get(id)?;
    if is_toml(source) || !yaml::parsed_in_pieces(source) || parse_tree_refused(source) {
        return None;
    }
    read_cut(id, source, limits, yaml::split::PIECE_BYTES)
}

/// [`read_in_pieces`] of any file, in pieces of about `piece_bytes`.
fn read_cut(
    id: FileId,
    source: &SourceFile,
    limits: &Limits,
    piece_bytes: usize,
) -> Option<(Option<PolicyFile>, Diagnostics)> {
    use yaml::split::{self, Piece, Plan};
    let plan = Plan::new(source, limits, piece_bytes)?;
    let tree = |range: split::Range| plan.parse(id, source, range);
    // The top-level entries; a cut section's has no value here (its items
    // are read from its parts below).
    let heads: Vec<split::Range> = plan
        .pieces
        .iter()
        .map(|p| match p {
            Piece::Section(r) => *r,
            Piece::Cut { header, .. } => *header,
        })
        .collect();
    let heads: Vec<Option<Node>> = heads.par_iter().map(|r| tree(*r)).collect();
    let mut entries = Vec::with_capacity(heads.len());
    for (piece, node) in plan.pieces.iter().zip(heads) {
        entries.push(match piece {
            Piece::Section(_) => split::one_entry(node?)?,
            Piece::Cut { key, .. } if read_in_parts(key) => split::header_entry(node?)?,
            Piece::Cut { .. } => return None,
        });
    }
    if !split::unique(entries.iter().map(|e| e.key.value.as_str())) {
        return None;
    }
    let first = entries.first()?;
    let root = Node {
        span: Span::new(
            id,
            first.key.span.start as usize,
            first.key.span.end as usize,
        ),
        value: Value::Map(entries),
    };
    let mut diags = Diagnostics::default();
    let Some(mut file) = read_policy_file(id, &root, &mut diags) else {
        return Some((None, diags));
    };
    drop(root);
    for piece in &plan.pieces {
        let Piece::Cut { key, parts, .. } = piece else {
            continue;
        };
        let key = key.as_str();
        match key {
            "modules" => file.modules = map_parts(parts, &tree, key, "module")?,
            "policies" => file.policies = map_parts(parts, &tree, key, "policy")?,
            "kinds" => file.kinds = map_parts(parts, &tree, key, "kind")?,
            "orgs" => file.orgs = map_parts(parts, &tree, key, "org")?,
            "users" => file.users = map_parts(parts, &tree, key, "user")?,
            "roles" => file.roles = map_parts(parts, &tree, key, "role")?,
            "dimensions" => file.dimensions = map_parts(parts, &tree, key, "dimension")?,
            "resources" => file.resources = map_parts(parts, &tree, key, "resource")?,
            "assignments" => file.assignments = list_parts(parts, &tree, key)?,
            "publications" => file.publications = list_parts(parts, &tree, key)?,
            "exclusions" => file.exclusions = list_parts(parts, &tree, key)?,
            "automatic" => file.automatic = list_parts(parts, &tree, key)?,
            _ => return None,
        }
    }
    Some((Some(file), diags))
}

/// Is the file one [`parse_tree`] refuses whatever its text (a reserved
/// name below the set's root)? Such a file is left to it.
fn parse_tree_refused(source: &SourceFile) -> bool {
    source
        .path
        .file_name()
        .is_some_and(|n| is_reserved_name(&n.to_string_lossy()))
}

/// The items of a map section's parts, each read as its own map; `None`
/// when a part is not a map, reading one finds anything, or an id is in
/// two parts (each the whole read reports).
fn map_parts<T: serde::de::DeserializeOwned + Send>(
    parts: &[yaml::split::Range],
    tree: &(impl Fn(yaml::split::Range) -> Option<Node> + Sync),
    section: &str,
    what: &str,
) -> Option<Vec<Item<T>>> {
    let read: Vec<Option<Vec<Item<T>>>> = parts
        .par_iter()
        .map(|range| {
            let node = tree(*range)?;
            let Value::Map(entries) = &node.value else {
                return None;
            };
            let mut found = Diagnostics::default();
            let items = map_section::<T>(&node, section, what, &mut found);
            (found.is_empty() && items.len() == entries.len()).then_some(items)
        })
        .collect();
    let read: Vec<Vec<Item<T>>> = read.into_iter().collect::<Option<_>>()?;
    let ids = read.iter().flatten().map(|item| item.id.value.as_str());
    if !yaml::split::unique(ids) {
        return None;
    }
    Some(read.into_iter().flatten().collect())
}

/// The items of a list section's parts, each read as its own list; `None`
/// when a part is not a list or reading one finds anything.
fn list_parts<T: serde::de::DeserializeOwned + Send>(
    parts: &[yaml::split::Range],
    tree: &(impl Fn(yaml::split::Range) -> Option<Node> + Sync),
    section: &str,
) -> Option<Vec<Spanned<T>>> {
    let read: Vec<Option<Vec<Spanned<T>>>> = parts
        .par_iter()
        .map(|range| {
            let node = tree(*range)?;
            let Value::Seq(elements) = &node.value else {
                return None;
            };
            let mut found = Diagnostics::default();
            let items = list_section::<T>(&node, section, &mut found);
            (found.is_empty() && items.len() == elements.len()).then_some(items)
        })
        .collect();
    let read: Vec<Vec<Spanned<T>>> = read.into_iter().collect::<Option<_>>()?;
    Some(read.into_iter().flatten().collect())
}

/// Loads every policy file under `paths`.
pub(crate) fn load_set(paths: &[PathBuf], limits: &Limits) -> Result<LoadedSet, LoadError> {
    let (policy_paths, test_paths) = discover(paths)?;
    if policy_paths.is_empty() {
        return Err(LoadError::NoPolicyFiles(paths.to_vec()));
    }
    let mut set = LoadedSet {
        test_paths,
        ..LoadedSet::default()
    };
    // Read on every core (thousands of small files), add in path order.
    let read: Vec<_> = policy_paths
        .par_iter()
        .map(|p| read_bytes(p, limits))
        .collect();
    let mut ids = Vec::with_capacity(policy_paths.len());
    for (path, bytes) in policy_paths.iter().zip(read) {
        if let Some(id) = add_read(path, bytes?, limits, &mut set.sources, &mut set.diagnostics) {
            ids.push(id);
        }
    }
    parse_all(&ids, limits, &mut set);
    Ok(set)
}

/// Parses the given files on every core, then merges in path order so that
/// the result does not depend on scheduling.
fn parse_all(ids: &[FileId], limits: &Limits, set: &mut LoadedSet) {
    let sources = &set.sources;
    let results: Vec<_> = ids
        .par_iter()
        .map(|id| read_file(*id, sources, limits, limits.cache.as_deref()))
        .collect();
    if let Some(cache) = &limits.cache {
        cache.save();
    }
    for (file, diags) in results {
        set.diagnostics.extend(diags);
        if let Some(f) = file {
            set.files.push(Arc::new(f));
        }
    }
}

pub(crate) fn is_valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
}

fn bad_id(what: &str, id: &Located<String>) -> Diagnostic {
    Diagnostic::new(Code::E002, id.span, format!("invalid {what} id `{}`", id.value))
        .with_label("not a valid id")
        .with_help("ids are lowercase letters, digits, `_`, `.` and `-`, start with a letter or digit, and are at most 128 bytes")
}

/// Turns one parsed file into its sections, reporting shape problems.
pub(crate) fn read_policy_file(
    file: FileId,
    root: &Node,
    diags: &mut Diagnostics,
) -> Option<PolicyFile> {
    let Some(entries) = root.as_map() else {
        let what = if root.is_null() {
            "empty".to_string()
        } else {
            format!("{}, not a map", root.describe())
        };
        diags.push(
            Diagnostic::new(
                Code::E002,
                Span::new(file, root.span.start as usize, root.span.start as usize),
                format!("policy file is {what}"),
            )
            .with_help(
                "a policy file is a map that starts with `scope: provider` or `scope: <org id>`",
            ),
        );
        return None;
    };
    let mut out = PolicyFile {
        file,
        ..PolicyFile::default()
    };
    let scope = entries.iter().find(|e| e.key.value == "scope");
    match scope.map(|e| (&e.value, e.value.scalar_text())) {
        None => {
            diags.push(
                Diagnostic::new(
                    Code::E002,
                    Span::new(file, root.span.start as usize, root.span.start as usize),
                    "missing required key `scope`",
                )
                .with_help("start the file with `scope: provider` or `scope: <org id>`"),
            );
            return None;
        }
        Some((node, Some(text)))
            if !matches!(node.value, Value::Seq(_) | Value::Map(_)) && !node.is_null() =>
        {
            let scope = Located::new(text, node.span);
            if scope.value != "provider" && !is_valid_id(&scope.value) {
                diags.push(bad_id("scope org", &scope));
                return None;
            }
            out.scope = scope;
        }
        Some((node, _)) => {
            diags.push(Diagnostic::new(
                Code::E002,
                node.span,
                format!(
                    "`scope` must be `provider` or an org id, found {}",
                    node.describe()
                ),
            ));
            return None;
        }
    }
    for entry in entries {
        let key = entry.key.value.as_str();
        if key == "scope" {
            continue;
        }
        if !FILE_KEYS.contains(&key) {
            let help = match did_you_mean(key, FILE_KEYS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("valid top-level keys: {}", FILE_KEYS.join(", ")),
            };
            diags.push(
                Diagnostic::new(Code::E002, entry.key.span, format!("unknown key `{key}`"))
                    .with_label("not a policy file section")
                    .with_help(help),
            );
            continue;
        }
        if key == "description" {
            if let Err(e) = from_node::<String>(&entry.value) {
                diags.push(e.into_diagnostic(entry.value.span));
            }
            continue;
        }
        out.sections.push(entry.key.clone());
        match key {
            "modules" => out.modules = map_section(&entry.value, key, "module", diags),
            "policies" => out.policies = map_section(&entry.value, key, "policy", diags),
            "kinds" => out.kinds = map_section(&entry.value, key, "kind", diags),
            "orgs" => out.orgs = map_section(&entry.value, key, "org", diags),
            "users" => out.users = map_section(&entry.value, key, "user", diags),
            "roles" => out.roles = map_section(&entry.value, key, "role", diags),
            "assignments" => out.assignments = list_section(&entry.value, key, diags),
            "publications" => out.publications = list_section(&entry.value, key, diags),
            "exclusions" => out.exclusions = list_section(&entry.value, key, diags),
            "automatic" => out.automatic = list_section(&entry.value, key, diags),
            "dimensions" => out.dimensions = map_section(&entry.value, key, "dimension", diags),
            "resources" => out.resources = map_section(&entry.value, key, "resource", diags),
            _ => {}
        }
    }
    Some(out)
}

fn map_section<T: serde::de::DeserializeOwned>(
    node: &Node,
    section: &str,
    what: &str,
    diags: &mut Diagnostics,
) -> Vec<Item<T>> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(entries) = node.as_map() else {
        diags.push(Diagnostic::new(
            Code::E002,
            node.span,
            format!(
                "`{section}` must be a map of id to {what}, found {}",
                node.describe()
            ),
        ));
        return Vec::new();
    };
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        if !is_valid_id(&entry.key.value) {
            diags.push(bad_id(what, &entry.key));
            continue;
        }
        // `id: {}` and `id:` (null) both mean an item with every default.
        let empty = Node {
            span: entry.value.span,
            value: Value::Map(Vec::new()),
        };
        let body_node = if entry.value.is_null() {
            &empty
        } else {
            &entry.value
        };
        let (body, errors) = from_node_all::<T>(body_node);
        diags.extend(
            errors
                .into_iter()
                .map(|e| e.into_diagnostic(entry.value.span)),
        );
        // An item with unknown keys is still resolved (its other mistakes
        // are worth reporting in the same run); one that failed to read is not.
        if let Some(body) = body {
            items.push(Item {
                id: entry.key.clone(),
                body,
            });
        }
    }
    items
}

fn list_section<T: serde::de::DeserializeOwned>(
    node: &Node,
    section: &str,
    diags: &mut Diagnostics,
) -> Vec<Spanned<T>> {
    if node.is_null() {
        return Vec::new();
    }
    let Value::Seq(elements) = &node.value else {
        diags.push(Diagnostic::new(
            Code::E002,
            node.span,
            format!("`{section}` must be a list, found {}", node.describe()),
        ));
        return Vec::new();
    };
    let mut items = Vec::with_capacity(elements.len());
    for element in elements {
        let (value, errors) = from_node_all::<T>(element);
        diags.extend(errors.into_iter().map(|e| e.into_diagnostic(element.span)));
        if let Some(value) = value {
            items.push(Spanned {
                span: element.span,
                value,
            });
        }
    }
    items
}

/// Loads one in-memory file as if read from `name` (the extension picks the
/// format); the entry point of the loader fuzz target. Never panics.
pub fn load_bytes(name: &str, bytes: &[u8], limits: &Limits) -> (Option<PolicyFile>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut sources = SourceMap::default();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(e) => {
            let id = sources.add(SourceFile::new(
                name.into(),
                String::from_utf8_lossy(bytes).into_owned(),
            ));
            let at = e.valid_up_to();
            diags.push(Diagnostic::new(
                Code::E001,
                Span::new(id, at, at + 1),
                "file is not valid UTF-8",
            ));
            return (None, diags);
        }
    };
    let id = sources.add(SourceFile::new(name.into(), text));
    let Some(root) = parse_tree(id, &sources, limits, &mut diags) else {
        return (None, diags);
    };
    let file = read_policy_file(id, &root, &mut diags);
    (file, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example and fixture policy file (YAML or TOML).
    fn example_files() -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut dirs = vec![
            PathBuf::from("policies-examples"),
            PathBuf::from("tests/fixtures"),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "toml") {
                    paths.push(p);
                }
            }
        }
        paths.sort();
        paths
    }

    /// Every example and fixture YAML file read in pieces, cut as finely
    /// as possible, gives what reading it whole gives (its items and its
    /// findings, those of a file's layout included).
    #[test]
    fn files_read_in_pieces_are_read_as_whole_ones() {
        let limits = Limits::default();
        let (mut files, mut cut, mut clean, mut cut_with_findings) = (0, 0, 0, 0);
        for path in example_files() {
            if path.extension().is_some_and(|x| x == "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let mut sources = SourceMap::default();
            let id = sources.add(SourceFile::new(path.clone(), text));
            let source = sources.get(id).unwrap();
            let mut whole_found = Diagnostics::default();
            let whole = parse_tree(id, &sources, &limits, &mut whole_found)
                .and_then(|root| read_policy_file(id, &root, &mut whole_found));
            files += 1;
            clean += usize::from(whole_found.is_empty());
            let Some((file, found)) = read_cut(id, source, &limits, 1) else {
                continue;
            };
            let (found, whole_found): (Vec<_>, Vec<_>) =
                (found.iter().collect(), whole_found.iter().collect());
            assert_eq!(found, whole_found, "{}", path.display());
            assert!(file == whole, "{}: the files differ", path.display());
            cut += 1;
            cut_with_findings += usize::from(!found.is_empty());
        }
        assert!(files > 30 && clean > 15, "{files} files, {clean} clean");
        assert!(
            cut * 3 > clean * 2,
            "only {cut} of {clean} clean files were read in pieces"
        );
        assert!(
            cut_with_findings > 0,
            "no file read in pieces had a finding to compare"
        );
    }

    /// Every example and fixture file read without a diagnostic is kept by
    /// the cache and read back as it was read; a file with a diagnostic is
    /// not kept, and reports it again.
    #[test]
    fn files_read_back_from_the_cache_are_read_as_fresh_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ItemCache::at(dir.path(), Path::new("/read-back-test"));
        let limits = Limits::default();
        let (mut kept, mut refused) = (0, 0);
        for path in example_files() {
            let text = std::fs::read_to_string(&path).unwrap();
            let read = || {
                let mut sources = SourceMap::default();
                let id = sources.add(SourceFile::new(path.clone(), text.clone()));
                let read = read_file(id, &sources, &limits, Some(&cache));
                cache.save();
                (read, cache.take_counts())
            };
            // A reserved name (`trellis.toml` below the root) is refused
            // before the cache is asked.
            let reserved = path
                .file_name()
                .is_some_and(|n| is_reserved_name(&n.to_string_lossy()));
            let parsed = (0, usize::from(!reserved));
            let ((fresh, found), counts) = read();
            assert_eq!(counts, parsed, "{}", path.display());
            let ((back, found_again), counts) = read();
            let (a, b): (Vec<_>, Vec<_>) = (found.iter().collect(), found_again.iter().collect());
            assert_eq!(a, b, "{}", path.display());
            assert!(back == fresh, "{}: the files differ", path.display());
            if found.is_empty() {
                assert_eq!(counts, (1, 0), "{}", path.display());
                kept += 1;
            } else {
                assert_eq!(counts, parsed, "{}", path.display());
                refused += 1;
            }
        }
        assert!(kept > 20 && refused > 10, "{kept} kept, {refused} refused");
    }

    fn node_at<'a>(root: &'a Node, path: &[&str]) -> &'a Node {
        let mut n = root;
        for key in path {
            n = match key.parse::<usize>() {
                Ok(i) => match &n.value {
                    Value::Seq(items) => &items[i],
                    _ => panic!("not a list at {key}"),
                },
                Err(_) => {
                    let entries = n.as_map().unwrap_or_else(|| panic!("not a map at {key}"));
                    let entry = entries.iter().find(|e| e.key.value == *key);
                    &entry.unwrap_or_else(|| panic!("no key {key}")).value
                }
            };
        }
        n
    }

    fn position(text: &str, name: &str, path: &[&str]) -> (usize, usize, usize, usize) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new(name.into(), text.into()));
        let mut diags = Diagnostics::default();
        let root = parse_tree(id, &sources, &Limits::default(), &mut diags).expect("parses");
        assert!(diags.is_empty(), "{diags:?}");
        let (s, e) = sources.line_col(node_at(&root, path).span);
        (s.line, s.column, e.line, e.column)
    }

    #[test]
    fn yaml_spans_point_at_the_exact_nested_node() {
        let text = "scope: provider\nroles:\n  auditor:\n    grants: [\"docs:read\", \"finance:read\"]\n    includes:\n      - viewer\n";
        // "finance:read" with its quotes: line 4, columns 27 to 41.
        assert_eq!(
            position(text, "a.yaml", &["roles", "auditor", "grants", "1"]),
            (4, 27, 4, 41)
        );
        assert_eq!(
            position(text, "a.yaml", &["roles", "auditor", "includes", "0"]),
            (6, 9, 6, 15)
        );
        // Multi-byte text before the node on the same line: `señor` at columns 27 to 32.
        let text = "scope: provider\nusers:\n  zoë: { org: café, type: señor }\n";
        assert_eq!(
            position(text, "a.yaml", &["users", "zoë", "type"]),
            (3, 27, 3, 32)
        );
    }

    #[test]
    fn toml_spans_point_at_the_exact_nested_node() {
        let text = "scope = \"provider\"\n\n[roles.auditor]\ngrants = [\"docs:read\", \"finance:read\"]\n\n[[assignments]]\nrole = \"auditor\"\nuser = \"bob\"\n";
        // The string with its quotes: columns 24 to 38.
        assert_eq!(
            position(text, "a.toml", &["roles", "auditor", "grants", "1"]),
            (4, 24, 4, 38)
        );
        assert_eq!(
            position(text, "a.toml", &["assignments", "0", "user"]),
            (8, 8, 8, 13)
        );
    }

    #[test]
    fn yaml_and_toml_give_the_same_sections() {
        let yaml = "scope: acme\nusers:\n  bob: { org: acme, owner: true, attributes: { code: 007 } }\nassignments:\n  - { role: viewer, user: bob, inherit: false }\n";
        let toml = "scope = \"acme\"\n[users.bob]\norg = \"acme\"\nowner = true\nattributes = { code = \"007\" }\n[[assignments]]\nrole = \"viewer\"\nuser = \"bob\"\ninherit = false\n";
        let (y, dy) = load_bytes("a.yaml", yaml.as_bytes(), &Limits::default());
        let (t, dt) = load_bytes("a.toml", toml.as_bytes(), &Limits::default());
        assert!(dy.is_empty() && dt.is_empty());
        let (y, t) = (y.expect("yaml"), t.expect("toml"));
        assert_eq!(y.scope.value, t.scope.value);
        let (uy, ut) = (&y.users[0].body, &t.users[0].body);
        assert_eq!(
            (uy.org.value.as_str(), uy.owner),
            (ut.org.value.as_str(), ut.owner)
        );
        // YAML 1.2: `007` where a string is expected is its text.
        assert_eq!(uy.attributes.get("code").map(String::as_str), Some("007"));
        assert_eq!(uy.attributes, ut.attributes);
        assert_eq!(
            y.assignments[0].value.inherit,
            t.assignments[0].value.inherit
        );
    }
}
