//! Parsed trees kept between runs, by the content of what was parsed.
//!
//! Parsing the text (saphyr's scanner, then building the [`Node`] tree) is
//! most of loading a large set; reading a tree back is several times
//! faster. A tree is found by a key that hashes everything it depends on:
//! the text, whether it is YAML or TOML, the nesting and alias limits, and
//! the build of trellis that wrote it. Nothing read back is trusted without
//! checking: the file's header, index and footer must be sound, a payload
//! must match its checksum (xxh3-64), and the tree it decodes to must fit
//! the text it stands for (every span within the text and on character
//! boundaries, every string UTF-8, nesting within the limit). What fails a
//! check is parsed instead. Only trees that parsed without a diagnostic are
//! kept, so a file read back reports exactly what parsing it would (the
//! checks after the tree, from E002 on, run on it as on a fresh one).
//!
//! The trees of one set are one file, `sets/<hash of the set's path>.trees`
//! in the cache directory. Loading reads its index, then the payload of
//! each file it finds there; when some file was parsed, a new cache file is
//! written beside it as the trees are parsed, completed after the load with
//! the trees the run read back, and renamed over the old one (so that runs
//! side by side never read half a file; the last one to finish wins). It
//! holds the set's current files only, and the directory is safe to delete
//! at any time.
//!
//! The layout, little-endian: `TRELTREE`, the format (u32) and four zero
//! bytes; the payloads, one after another; the index, an entry per tree
//! sorted by key (the key, u128; the payload's offset and length, u64; its
//! xxh3-64, u64); and the footer: the number of index entries (u64), the
//! xxh3-64 of the index (u64), and `TRELTREE` again.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::node::{Entry, Node, Value};
use super::Limits;
use crate::source::{FileId, Located, Span};

/// Bumped whenever the file layout changes.
const FORMAT: u32 = 1;
const MAGIC: &[u8; 8] = b"TRELTREE";
/// Magic, format, four zero bytes.
const HEADER: u64 = 16;
/// Key, offset, length, checksum.
const INDEX_ENTRY: usize = 16 + 8 + 8 + 8;
/// Entry count, index checksum, magic.
const FOOTER: u64 = 24;

/// The text's kind, which decides its parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Yaml,
    Toml,
}

/// A cache directory inside the set it would serve: not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsideSet;

/// `path` made absolute with its links followed, for the part of it that
/// exists (a cache directory need not exist yet).
fn nearest_canonical(path: &Path) -> Option<PathBuf> {
    let mut at = path;
    loop {
        if let Ok(c) = at.canonicalize() {
            return Some(c.join(path.strip_prefix(at).ok()?));
        }
        at = at.parent()?;
    }
}

/// Where a tree is in a cache file: its key, its payload's offset and
/// length, and the payload's checksum.
#[derive(Clone, Copy, Debug)]
struct Place {
    key: u128,
    at: u64,
    len: u64,
    sum: u64,
}

/// The parsed trees of one set (see the module's documentation).
#[derive(Debug)]
pub struct TreeCache {
    path: PathBuf,
    /// What the build of trellis contributes to every key: trees written
    /// by another build are never read.
    build: Vec<u8>,
    /// The cache file's index, while a load runs (read on the first
    /// look-up).
    kept: Mutex<Option<Arc<Kept>>>,
    /// The next cache file, once a tree was parsed.
    next: Mutex<Option<Next>>,
    /// Writing the next file failed in this load: the rest is not tried.
    failed: AtomicBool,
    /// The trees earlier loads of this run wrote: a later load (the other
    /// revision of a comparison) keeps them too.
    written: Mutex<rustc_hash::FxHashSet<u128>>,
    /// Trees read back and files parsed since the counts were last taken.
    hits: AtomicUsize,
    parsed: AtomicUsize,
}

/// The cache file as found at the start of a load.
#[derive(Debug, Default)]
struct Kept {
    file: Option<File>,
    index: Vec<Place>,
    /// Which trees this run read back (the next file keeps those).
    used: Vec<AtomicBool>,
}

/// The cache file being written: its temporary name, where the next
/// payload goes, and the trees in it so far.
#[derive(Debug)]
struct Next {
    tmp: PathBuf,
    out: std::io::BufWriter<File>,
    at: u64,
    index: Vec<Place>,
}

impl TreeCache {
    /// The cache of the set whose identity is `set` (its canonical path),
    /// in the cache directory `dir` (created when first written to).
    pub fn at(dir: &Path, set: &Path) -> TreeCache {
        let name = format!("{:016x}.trees", xxh3_64(set.as_os_str().as_encoded_bytes()));
        TreeCache {
            path: dir.join("sets").join(name),
            build: build_identity(),
            kept: Mutex::new(None),
            next: Mutex::new(None),
            failed: AtomicBool::new(false),
            written: Mutex::new(rustc_hash::FxHashSet::default()),
            hits: AtomicUsize::new(0),
            parsed: AtomicUsize::new(0),
        }
    }

    /// Where the cache lives: `$TRELLIS_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/trellis`, else `~/.cache/trellis` (`None` without
    /// any of them).
    pub fn default_dir() -> Option<PathBuf> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("TRELLIS_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("trellis")))
            .or_else(|| env("HOME").map(|d| d.join(".cache").join("trellis")))
    }

    /// The cache in `dir` of the set read from `paths`, whose identity is
    /// their canonical paths. Refused (`Err(InsideSet)`) when `dir` is inside
    /// the set, by any path: whoever can change the set could plant a file
    /// there, and one crafted with sound checksums and positions would be
    /// believed.
    pub fn for_set(dir: &Path, paths: &[PathBuf]) -> Result<TreeCache, InsideSet> {
        let sets: Vec<PathBuf> = paths.iter().filter_map(|p| p.canonicalize().ok()).collect();
        let cache = nearest_canonical(dir).ok_or(InsideSet)?;
        let inside = sets.iter().any(|set| {
            let root = if set.is_file() {
                set.parent().unwrap_or(set)
            } else {
                set
            };
            cache.starts_with(root)
        });
        if inside {
            return Err(InsideSet);
        }
        let identity = sets
            .iter()
            .map(|p| p.as_os_str())
            .collect::<Vec<_>>()
            .join(std::ffi::OsStr::new("\n"));
        Ok(TreeCache::at(dir, Path::new(&identity)))
    }

    /// The file the set's trees are kept in.
    pub fn file(&self) -> &Path {
        &self.path
    }

    /// Trees read back, and files parsed (whose trees were kept), since the
    /// last call: what the last load did, for `TRELLIS_TIMINGS`.
    pub fn take_counts(&self) -> (usize, usize) {
        (
            self.hits.swap(0, Ordering::Relaxed),
            self.parsed.swap(0, Ordering::Relaxed),
        )
    }

    /// The key of a tree: the text and all that parsing it depends on.
    pub(crate) fn key(&self, kind: Kind, limits: &Limits, text: &str) -> u128 {
        self.key_of(kind, false, limits, text)
    }

    /// The key of a piece of a YAML file parsed on its own (see
    /// `yaml::split`): its text and the limits it was parsed within. Its
    /// tree's spans are kept from the piece's start, wherever that is in
    /// the file, so that a piece moved by an edit above it is found again.
    pub(crate) fn piece_key(&self, limits: &Limits, text: &str) -> u128 {
        self.key_of(Kind::Yaml, true, limits, text)
    }

    fn key_of(&self, kind: Kind, piece: bool, limits: &Limits, text: &str) -> u128 {
        let mut input = Vec::with_capacity(self.build.len() + 64);
        input.extend_from_slice(b"trellis tree ");
        input.extend_from_slice(&FORMAT.to_le_bytes());
        input.extend_from_slice(&self.build);
        input.push(match (kind, piece) {
            (_, true) => b'p',
            (Kind::Yaml, false) => b'y',
            (Kind::Toml, false) => b't',
        });
        for n in [
            limits.max_depth,
            limits.max_alias_nodes,
            limits.max_alias_bytes,
        ] {
            input.extend_from_slice(&(n as u64).to_le_bytes());
        }
        input.extend_from_slice(&xxh3_128(text.as_bytes()).to_le_bytes());
        xxh3_128(&input)
    }

    fn kept(&self) -> Arc<Kept> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get_or_insert_with(|| Arc::new(Kept::open(&self.path).unwrap_or_default()))
            .clone()
    }

    /// The tree kept for `key`, its spans in `file`, if there is one and
    /// it fits `text` (see the module's documentation).
    pub(crate) fn get(&self, key: u128, file: FileId, text: &str, limits: &Limits) -> Option<Node> {
        let node = self.get_piece(key, file, text, limits)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(node)
    }

    /// [`Self::get`] for a piece of a file, not counted (the file is, once,
    /// by [`Self::count_file`]).
    pub(crate) fn get_piece(
        &self,
        key: u128,
        file: FileId,
        text: &str,
        limits: &Limits,
    ) -> Option<Node> {
        let kept = self.kept();
        let i = kept.index.binary_search_by_key(&key, |p| p.key).ok()?;
        let payload = kept.payload(&kept.index[i])?;
        let node = decode(&payload, file, text, limits.max_depth.saturating_add(1))?;
        kept.used[i].store(true, Ordering::Relaxed);
        Some(node)
    }

    /// Counts a file read in pieces: read back when every piece was.
    pub(crate) fn count_file(&self, read_back: bool) {
        let count = if read_back { &self.hits } else { &self.parsed };
        count.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `node` as the tree of `key`, in the next cache file (which
    /// [`Self::save`] completes).
    pub(crate) fn put(&self, key: u128, node: &Node) {
        self.parsed.fetch_add(1, Ordering::Relaxed);
        self.put_piece(key, node);
    }

    /// [`Self::put`] for a piece of a file, not counted.
    pub(crate) fn put_piece(&self, key: u128, node: &Node) {
        let mut payload = Vec::with_capacity(256);
        encode(node, &mut payload);
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        if next.is_none() {
            *next = Next::start(&self.path).ok();
        }
        if next.as_mut().is_none_or(|n| n.add(key, &payload).is_err()) {
            // Nothing of this load is kept (a cache directory that cannot
            // be written, a full disk): the next run parses again.
            self.failed.store(true, Ordering::Relaxed);
            if let Some(n) = next.take() {
                let _ = std::fs::remove_file(&n.tmp);
            }
        }
    }

    /// After a load: completes the next cache file with the trees this load
    /// read back and those earlier loads of this run wrote, and puts it in
    /// place of the old one (when no tree was parsed, the old one already
    /// holds them all). A failure to write is not an error: the next run
    /// parses those files again.
    pub(crate) fn save(&self) {
        self.failed.store(false, Ordering::Relaxed);
        let kept = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(next) = self
            .next
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = &kept {
            for (place, used) in kept.index.iter().zip(&kept.used) {
                if written.contains(&place.key) {
                    used.store(true, Ordering::Relaxed);
                }
            }
        }
        let saved = next.finish(kept.as_deref()).and_then(|(tmp, keys)| {
            std::fs::rename(&tmp, &self.path)
                .inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })
                .map(|()| keys)
        });
        if let Ok(keys) = saved {
            written.extend(keys);
        }
    }
}

impl Drop for TreeCache {
    /// A cache file begun and never completed (a load that stopped half
    /// way) leaves no temporary file behind.
    fn drop(&mut self) {
        let next = self.next.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = next.take() {
            let _ = std::fs::remove_file(&n.tmp);
        }
    }
}

impl Kept {
    /// A cache file's index, if its footer and index are sound (each
    /// payload is checked when it is read).
    fn open(path: &Path) -> Option<Kept> {
        // Only a regular file: opening a FIFO planted there would block.
        if !std::fs::metadata(path).ok()?.is_file() {
            return None;
        }
        let file = File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let mut head = [0u8; HEADER as usize];
        read_at(&file, &mut head, 0).ok()?;
        if &head[..8] != MAGIC || head[8..12] != FORMAT.to_le_bytes() {
            return None;
        }
        let mut foot = [0u8; FOOTER as usize];
        read_at(&file, &mut foot, len.checked_sub(FOOTER)?).ok()?;
        if &foot[16..] != MAGIC {
            return None;
        }
        let count = u64::from_le_bytes(foot[..8].try_into().ok()?);
        let index_len = count.checked_mul(INDEX_ENTRY as u64)?;
        let index_at = len.checked_sub(FOOTER)?.checked_sub(index_len)?;
        if index_at < HEADER {
            return None;
        }
        let mut raw = vec![0u8; usize::try_from(index_len).ok()?];
        read_at(&file, &mut raw, index_at).ok()?;
        if xxh3_64(&raw) != u64::from_le_bytes(foot[8..16].try_into().ok()?) {
            return None;
        }
        let word = |e: &[u8], at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(e.get(at..at + 8)?.try_into().ok()?))
        };
        let mut index: Vec<Place> = Vec::with_capacity(raw.len() / INDEX_ENTRY);
        for e in raw.chunks_exact(INDEX_ENTRY) {
            let place = Place {
                key: u128::from_le_bytes(e[..16].try_into().ok()?),
                at: word(e, 16)?,
                len: word(e, 24)?,
                sum: word(e, 32)?,
            };
            let inside = place.at >= HEADER
                && place
                    .at
                    .checked_add(place.len)
                    .is_some_and(|end| end <= index_at);
            if !inside || index.last().is_some_and(|p| p.key >= place.key) {
                return None;
            }
            index.push(place);
        }
        let used = index.iter().map(|_| AtomicBool::new(false)).collect();
        Some(Kept {
            file: Some(file),
            index,
            used,
        })
    }

    /// The payload at `place`, if it reads and its checksum holds.
    fn payload(&self, place: &Place) -> Option<Vec<u8>> {
        let mut payload = vec![0u8; usize::try_from(place.len).ok()?];
        read_at(self.file.as_ref()?, &mut payload, place.at).ok()?;
        (xxh3_64(&payload) == place.sum).then_some(payload)
    }
}

/// Fills `buf` from `file` at offset `at`, sharing the handle between
/// threads (no seek position).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// Creates `dir` and its missing parents, readable by the user alone on
/// unix (the trees hold the set's names and attributes).
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

impl Next {
    fn start(path: &Path) -> std::io::Result<Next> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT.to_le_bytes())?;
        out.write_all(&[0; 4])?;
        Ok(Next {
            tmp,
            out,
            at: HEADER,
            index: Vec::new(),
        })
    }

    fn add(&mut self, key: u128, payload: &[u8]) -> std::io::Result<()> {
        self.out.write_all(payload)?;
        self.index.push(Place {
            key,
            at: self.at,
            len: payload.len() as u64,
            sum: xxh3_64(payload),
        });
        self.at += payload.len() as u64;
        Ok(())
    }

    /// Adds the trees of `kept` marked used, then the index and the
    /// footer; returns the temporary file's path and the keys it holds.
    fn finish(mut self, kept: Option<&Kept>) -> std::io::Result<(PathBuf, Vec<u128>)> {
        let result = (|| {
            if let Some(kept) = kept {
                for (place, used) in kept.index.iter().zip(&kept.used) {
                    if used.load(Ordering::Relaxed) {
                        if let Some(payload) = kept.payload(place) {
                            self.add(place.key, &payload)?;
                        }
                    }
                }
            }
            self.index.sort_by_key(|p| p.key);
            self.index.dedup_by_key(|p| p.key);
            let mut raw = Vec::with_capacity(self.index.len() * INDEX_ENTRY);
            for p in &self.index {
                raw.extend_from_slice(&p.key.to_le_bytes());
                for w in [p.at, p.len, p.sum] {
                    raw.extend_from_slice(&w.to_le_bytes());
                }
            }
            self.out.write_all(&raw)?;
            self.out
                .write_all(&(self.index.len() as u64).to_le_bytes())?;
            self.out.write_all(&xxh3_64(&raw).to_le_bytes())?;
            self.out.write_all(MAGIC)?;
            self.out.flush()
        })();
        match result {
            Ok(()) => Ok((self.tmp, self.index.iter().map(|p| p.key).collect())),
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                Err(e)
            }
        }
    }
}

/// The running executable's length and modification time, with the
/// version: a rebuilt binary (whose parser may differ) starts afresh.
fn build_identity() -> Vec<u8> {
    let mut id = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
    if let Some(meta) = std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::metadata(p).ok())
    {
        id.extend_from_slice(&meta.len().to_le_bytes());
        if let Ok(d) = meta
            .modified()
            .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default())
        {
            id.extend_from_slice(&d.as_nanos().to_le_bytes());
        }
    }
    id
}

/// The tree of a payload, its spans in `file`, if it fits `text`.
fn decode(payload: &[u8], file: FileId, text: &str, max_depth: usize) -> Option<Node> {
    let mut r = Reader {
        bytes: payload,
        at: 0,
        file,
        text,
    };
    let node = r.node(max_depth)?;
    // Everything read: trailing bytes mean the payload is not what it says.
    (r.at == payload.len()).then_some(node)
}

// The payload: a node is a tag byte, its span (start and end as LEB128
// varints), then by tag: nothing (null, false, true), 8 bytes (an integer
// or a float's bits, little-endian), a length and UTF-8 bytes (a quoted or
// a plain string), a count and the items (a list), or a count and for each
// entry the key's span, the key's length and bytes, and the value (a map).
const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const FLOAT: u8 = 4;
const STR: u8 = 5;
const PLAIN: u8 = 6;
const SEQ: u8 = 7;
const MAP: u8 = 8;

fn encode(node: &Node, out: &mut Vec<u8>) {
    let tag = match &node.value {
        Value::Null => NULL,
        Value::Bool(false) => FALSE,
        Value::Bool(true) => TRUE,
        Value::Int(_) => INT,
        Value::Float(_) => FLOAT,
        Value::Str(_) => STR,
        Value::Plain(_) => PLAIN,
        Value::Seq(_) => SEQ,
        Value::Map(_) => MAP,
    };
    out.push(tag);
    span(node.span, out);
    match &node.value {
        Value::Null | Value::Bool(_) => {}
        Value::Int(i) => out.extend_from_slice(&i.to_le_bytes()),
        Value::Float(f) => out.extend_from_slice(&f.to_bits().to_le_bytes()),
        Value::Str(s) | Value::Plain(s) => string(s, out),
        Value::Seq(items) => {
            varint(items.len() as u64, out);
            for item in items {
                encode(item, out);
            }
        }
        Value::Map(entries) => {
            varint(entries.len() as u64, out);
            for e in entries {
                span(e.key.span, out);
                string(&e.key.value, out);
                encode(&e.value, out);
            }
        }
    }
}

fn span(s: Span, out: &mut Vec<u8>) {
    varint(u64::from(s.start), out);
    varint(u64::from(s.end), out);
}

fn string(s: &str, out: &mut Vec<u8>) {
    varint(s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a payload back, refusing (with `None`) anything that a tree of
/// `text` could not be.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    file: FileId,
    text: &'a str,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A count of items that each take at least `min` bytes: no more than
    /// the bytes left allow, so a corrupt count cannot ask for memory.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= (self.bytes.len() - self.at) / min).then_some(n)
    }

    fn span(&mut self) -> Option<Span> {
        let start = usize::try_from(self.varint()?).ok()?;
        let end = usize::try_from(self.varint()?).ok()?;
        let fits = start <= end
            && end <= self.text.len()
            && self.text.is_char_boundary(start)
            && self.text.is_char_boundary(end);
        fits.then(|| Span::new(self.file, start, end))
    }

    fn string(&mut self) -> Option<String> {
        let n = usize::try_from(self.varint()?).ok()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    fn node(&mut self, depth: usize) -> Option<Node> {
        let depth = depth.checked_sub(1)?;
        let tag = self.byte()?;
        let span = self.span()?;
        let value = match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Int(i64::from_le_bytes(self.eight()?)),
            FLOAT => Value::Float(f64::from_bits(u64::from_le_bytes(self.eight()?))),
            STR => Value::Str(self.string()?),
            PLAIN => Value::Plain(self.string()?),
            SEQ => {
                // A node takes at least three bytes (tag and span).
                let n = self.count(3)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.node(depth)?);
                }
                Value::Seq(items)
            }
            MAP => {
                // An entry takes at least six bytes (key span and length,
                // and a node).
                let n = self.count(6)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let key_span = self.span()?;
                    let key = self.string()?;
                    let value = self.node(depth)?;
                    entries.push(Entry {
                        key: Located::new(key, key_span),
                        value,
                    });
                }
                Value::Map(entries)
            }
            _ => return None,
        };
        Some(Node { span, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceMap};

    fn parsed(text: &str) -> (FileId, Node) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new("t.yaml".into(), text.to_owned()));
        let source = sources.get(id).expect("added");
        let (node, diags) = super::super::yaml::parse(id, source, &Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        (id, node.expect("a tree"))
    }

    const TEXT: &str = "scope: c1\nusers:\n  ann: { org: c1, owner: true, n: 7, f: 1.5, q: \"007\" }\nassignments:\n  - { role: viewer, user: ann }\n  - ~\n# é\nx: [é, 'b']\n";
    const OTHER: &str = "scope: c2\norgs: { c2-u: { parent: c2 } }\n";

    /// A cache of TEXT and OTHER under a fresh directory.
    fn written(dir: &Path) -> TreeCache {
        let cache = TreeCache::at(dir, Path::new("/set"));
        let l = Limits::default();
        for text in [TEXT, OTHER] {
            let (_, node) = parsed(text);
            cache.put(cache.key(Kind::Yaml, &l, text), &node);
        }
        cache.save();
        cache
    }

    #[test]
    fn a_tree_reads_back_as_it_was_written_with_spans_in_the_file_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let cache = TreeCache::at(dir.path(), Path::new("/set"));
        let l = Limits::default();
        let (id, node) = parsed(TEXT);
        let key = cache.key(Kind::Yaml, &l, TEXT);
        assert_eq!(cache.get(key, id, TEXT, &l), Some(node.clone()));
        let other = FileId(id.0 + 5);
        let moved = cache.get(key, other, TEXT, &l).expect("kept");
        assert_eq!(moved.span.file, other);
        assert_ne!(moved, node, "spans name the file asked for");
        // Another set's file is another file.
        let elsewhere = TreeCache::at(dir.path(), Path::new("/other"));
        assert_eq!(elsewhere.get(key, id, TEXT, &l), None);
    }

    #[test]
    fn saving_keeps_the_trees_the_run_used_and_the_new_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let l = Limits::default();
        let cache = TreeCache::at(dir.path(), Path::new("/set"));
        let (id, _) = parsed(TEXT);
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, TEXT), id, TEXT, &l)
            .is_some());
        let third = "scope: c3\n";
        let (_, node) = parsed(third);
        cache.put(cache.key(Kind::Yaml, &l, third), &node);
        cache.save();
        let again = TreeCache::at(dir.path(), Path::new("/set"));
        assert!(again
            .get(again.key(Kind::Yaml, &l, TEXT), id, TEXT, &l)
            .is_some());
        assert!(again
            .get(again.key(Kind::Yaml, &l, third), id, third, &l)
            .is_some());
        assert!(
            again
                .get(again.key(Kind::Yaml, &l, OTHER), id, OTHER, &l)
                .is_none(),
            "OTHER was not used by the last run"
        );
    }

    #[test]
    fn a_second_load_of_the_run_keeps_what_the_first_one_wrote() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let l = Limits::default();
        let cache = TreeCache::at(dir.path(), Path::new("/set"));
        let (id, _) = parsed(TEXT);
        let third = "scope: c3\n";
        let fourth = "scope: c4\n";
        // The head: TEXT read back, `third` parsed.
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, TEXT), id, TEXT, &l)
            .is_some());
        cache.put(cache.key(Kind::Yaml, &l, third), &parsed(third).1);
        cache.save();
        // The base: OTHER is gone (the head did not use it), `fourth` is
        // parsed; TEXT and `third` stay, though the base used neither.
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, OTHER), id, OTHER, &l)
            .is_none());
        cache.put(cache.key(Kind::Yaml, &l, fourth), &parsed(fourth).1);
        cache.save();
        assert_eq!(cache.take_counts(), (1, 2));
        let next = TreeCache::at(dir.path(), Path::new("/set"));
        for text in [TEXT, third, fourth] {
            assert!(
                next.get(next.key(Kind::Yaml, &l, text), id, text, &l)
                    .is_some(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_corrupt_file_is_never_believed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = written(dir.path());
        let bytes = std::fs::read(cache.file()).expect("written");
        let l = Limits::default();
        let (id, node) = parsed(TEXT);
        let key = cache.key(Kind::Yaml, &l, TEXT);
        let read = |bytes: &[u8]| {
            std::fs::write(cache.file(), bytes).expect("write");
            TreeCache::at(dir.path(), Path::new("/set")).get(key, id, TEXT, &l)
        };
        assert_eq!(read(&bytes), Some(node.clone()));
        for cut in 0..bytes.len() {
            let got = read(&bytes[..cut]);
            assert!(got.is_none() || got == Some(node.clone()), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            let got = read(&flipped);
            assert!(got.is_none() || got == Some(node.clone()), "byte {i}");
        }
        assert!(read(b"").is_none());
    }

    /// A payload with a sound checksum (as a hostile writer would make one)
    /// must still fit the text it is read for.
    #[test]
    fn a_well_formed_payload_that_does_not_fit_the_text_is_refused() {
        let (id, node) = parsed(TEXT);
        let mut payload = Vec::new();
        encode(&node, &mut payload);
        assert!(decode(&payload, id, TEXT, 65).is_some());
        assert!(
            decode(&payload, id, &TEXT[..20], 65).is_none(),
            "spans past the text"
        );
        let mut longer = payload.clone();
        longer.push(0);
        assert!(decode(&longer, id, TEXT, 65).is_none(), "trailing bytes");
        let at = TEXT.find('é').expect("é") + 1;
        let inside = Node {
            span: Span::new(id, at, at),
            value: Value::Null,
        };
        let mut payload = Vec::new();
        encode(&inside, &mut payload);
        assert!(
            decode(&payload, id, TEXT, 65).is_none(),
            "a span inside a character"
        );
        let mut deep = Node {
            span: Span::new(id, 0, 0),
            value: Value::Null,
        };
        for _ in 0..70 {
            deep = Node {
                span: Span::new(id, 0, 0),
                value: Value::Seq(vec![deep]),
            };
        }
        let mut payload = Vec::new();
        encode(&deep, &mut payload);
        assert!(
            decode(&payload, id, TEXT, 65).is_none(),
            "nesting past the limit"
        );
        assert!(decode(&payload, id, TEXT, 100).is_some());
        for payload in [
            vec![SEQ, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f],
            vec![
                MAP, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
            ],
            vec![9, 0, 0],
            vec![STR, 0, 0, 2, 0xc3, 0x28],
            vec![INT, 0, 0, 1, 2, 3],
        ] {
            assert!(decode(&payload, id, TEXT, 65).is_none(), "{payload:?}");
        }
    }

    #[test]
    fn the_key_depends_on_the_text_the_kind_and_the_limits() {
        let cache = TreeCache::at(Path::new("unused"), Path::new("/set"));
        let l = Limits::default();
        let k = cache.key(Kind::Yaml, &l, TEXT);
        assert_eq!(k, cache.key(Kind::Yaml, &l, TEXT));
        assert_ne!(k, cache.key(Kind::Toml, &l, TEXT));
        assert_ne!(k, cache.key(Kind::Yaml, &l, &TEXT[1..]));
        let deeper = Limits {
            max_depth: 65,
            ..Limits::default()
        };
        assert_ne!(k, cache.key(Kind::Yaml, &deeper, TEXT));
    }
}
