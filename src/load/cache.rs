//! Files' items kept between runs, by the content of what was read.
//!
//! Reading a file (parsing its text into a tree, then reading the tree
//! into its items) is most of loading a large set; decoding the items a
//! run kept is several times faster than either step. A file's items are
//! found by a key that hashes everything they depend on: the text, whether
//! it is YAML or TOML, the nesting and alias limits, and the build of
//! trellis that wrote them. Nothing read back is trusted without checking:
//! the file's header, index and footer must be sound, a payload must match
//! its checksum (xxh3-64), and the items it decodes to must fit the text
//! they stand for (see [`codec`]). What fails a check is parsed instead.
//! Only files read without a diagnostic are kept, so a file read back
//! reports exactly what reading it would (nothing), and the checks after
//! loading run on its items as on fresh ones.
//!
//! The items of one set are one file, `sets/<hash of the set's path>.items`
//! in the cache directory. Loading reads its index, then the payload of
//! each file it finds there; when some file was parsed, a new cache file is
//! written beside it as files are read, completed after the load with
//! the payloads the run read back, and renamed over the old one (so that
//! runs side by side never read half a file; the last one to finish wins).
//! It holds the set's current files only, and the directory is safe to
//! delete at any time.
//!
//! The layout, little-endian: `TRELITEM`, the format (u32) and four zero
//! bytes; the payloads, one after another; the index, an entry per file
//! sorted by key (the key, u128; the payload's offset and length, u64; its
//! xxh3-64, u64); and the footer: the number of index entries (u64), the
//! xxh3-64 of the index (u64), and `TRELITEM` again.

mod codec;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::{Limits, PolicyFile};
use crate::source::FileId;

/// Bumped whenever the file layout changes.
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"TRELITEM";
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

/// Where a file's items are in a cache file: its key, its payload's offset and
/// length, and the payload's checksum.
#[derive(Clone, Copy, Debug)]
struct Place {
    key: u128,
    at: u64,
    len: u64,
    sum: u64,
}

/// The files' items of one set (see the module's documentation).
#[derive(Debug)]
pub struct ItemCache {
    path: PathBuf,
    /// What the build of trellis contributes to every key: items written
    /// by another build are never read.
    build: Vec<u8>,
    /// The cache file's index, while a load runs (read on the first
    /// look-up).
    kept: Mutex<Option<Arc<Kept>>>,
    /// The next cache file, once a file was parsed.
    next: Mutex<Option<Next>>,
    /// Writing the next file failed in this load: the rest is not tried.
    failed: AtomicBool,
    /// The payloads earlier loads of this run wrote: a later load (the other
    /// revision of a comparison) keeps them too.
    written: Mutex<rustc_hash::FxHashSet<u128>>,
    /// Files read back and files parsed since the counts were last taken.
    hits: AtomicUsize,
    parsed: AtomicUsize,
}

/// The cache file as found at the start of a load.
#[derive(Debug, Default)]
struct Kept {
    file: Option<File>,
    index: Vec<Place>,
    /// Which payloads this run read back (the next file keeps those).
    used: Vec<AtomicBool>,
}

/// The cache file being written: its temporary name, where the next
/// payload goes, and the payloads in it so far.
#[derive(Debug)]
struct Next {
    tmp: PathBuf,
    out: std::io::BufWriter<File>,
    at: u64,
    index: Vec<Place>,
}

impl ItemCache {
    /// The cache of the set whose identity is `set` (its canonical path),
    /// in the cache directory `dir` (created when first written to).
    pub fn at(dir: &Path, set: &Path) -> ItemCache {
        let name = format!("{:016x}.items", xxh3_64(set.as_os_str().as_encoded_bytes()));
        ItemCache {
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
    pub fn for_set(dir: &Path, paths: &[PathBuf]) -> Result<ItemCache, InsideSet> {
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
        Ok(ItemCache::at(dir, Path::new(&identity)))
    }

    /// The file the set's items are kept in.
    pub fn file(&self) -> &Path {
        &self.path
    }

    /// Files read back, and files parsed, since the
    /// last call: what the last load did, for `TRELLIS_TIMINGS`.
    pub fn take_counts(&self) -> (usize, usize) {
        (
            self.hits.swap(0, Ordering::Relaxed),
            self.parsed.swap(0, Ordering::Relaxed),
        )
    }

    /// The key of a file's items: its text and all that reading it
    /// depends on (the build of trellis is in every key).
    pub(crate) fn key(&self, kind: Kind, limits: &Limits, text: &str) -> u128 {
        let mut input = Vec::with_capacity(self.build.len() + 64);
        input.extend_from_slice(b"trellis items ");
        input.extend_from_slice(&FORMAT.to_le_bytes());
        input.extend_from_slice(&self.build);
        input.push(match kind {
            Kind::Yaml => b'y',
            Kind::Toml => b't',
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

    /// The items kept for `key`, their spans in `file`, if there are some
    /// and they fit `text` (see the module's documentation).
    pub(crate) fn get(&self, key: u128, file: FileId, text: &str) -> Option<PolicyFile> {
        let kept = self.kept();
        let i = kept.index.binary_search_by_key(&key, |p| p.key).ok()?;
        let payload = kept.payload(&kept.index[i])?;
        let items = codec::decode(&payload, file, text)?;
        kept.used[i].store(true, Ordering::Relaxed);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(items)
    }

    /// Counts a file that was not in the cache, and was parsed.
    pub(crate) fn count_parsed(&self) {
        self.parsed.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `items`, read from `text`, as those of `key`, in the next
    /// cache file (which [`Self::save`] completes).
    pub(crate) fn put(&self, key: u128, items: &PolicyFile, text: &str) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let payload = codec::encode(items, text);
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

    /// After a load: completes the next cache file with the payloads this load
    /// read back and those earlier loads of this run wrote, and puts it in
    /// place of the old one (when no file was kept, the old one already
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

impl Drop for ItemCache {
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
/// unix (the items hold the set's names and attributes).
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

    /// Adds the payloads of `kept` marked used, then the index and the
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Located, SourceFile, SourceMap, Span};

    /// `text`'s items, read as a file of a set is (without a diagnostic).
    fn read(text: &str) -> (FileId, PolicyFile) {
        let mut sources = SourceMap::default();
        let id = sources.add(SourceFile::new("t.yaml".into(), text.to_owned()));
        let (file, diags) = super::super::read_file(id, &sources, &Limits::default(), None);
        assert!(diags.is_empty(), "{diags:?}");
        (id, file.expect("items"))
    }

    const TEXT: &str = "scope: c1\n# é\nusers:\n  ann: { org: c1, owner: true, type: \"contractor\", attributes: { code: 007, team: 'ops' } }\nassignments:\n  - { role: viewer, user: ann, locked: true }\n  - { role: \"é-editor\", org: c1-u, inherit: false }\n";
    const OTHER: &str = "scope: c2\norgs: { c2-u: { parent: c2 } }\n";

    /// A cache of TEXT and OTHER under a fresh directory.
    fn written(dir: &Path) -> ItemCache {
        let cache = ItemCache::at(dir, Path::new("/set"));
        let l = Limits::default();
        for text in [TEXT, OTHER] {
            let (_, items) = read(text);
            cache.put(cache.key(Kind::Yaml, &l, text), &items, text);
        }
        cache.save();
        cache
    }

    #[test]
    fn a_file_reads_back_as_it_was_read_with_spans_in_the_file_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let cache = ItemCache::at(dir.path(), Path::new("/set"));
        let l = Limits::default();
        let (id, items) = read(TEXT);
        let key = cache.key(Kind::Yaml, &l, TEXT);
        assert_eq!(cache.get(key, id, TEXT), Some(items.clone()));
        let other = FileId(id.0 + 5);
        let moved = cache.get(key, other, TEXT).expect("kept");
        assert_eq!((moved.file, moved.users[0].id.span.file), (other, other));
        assert_ne!(moved, items, "spans name the file asked for");
        // Another set's file is another file.
        let elsewhere = ItemCache::at(dir.path(), Path::new("/other"));
        assert_eq!(elsewhere.get(key, id, TEXT), None);
    }

    #[test]
    fn saving_keeps_the_files_the_run_used_and_the_new_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let l = Limits::default();
        let cache = ItemCache::at(dir.path(), Path::new("/set"));
        let (id, _) = read(TEXT);
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, TEXT), id, TEXT)
            .is_some());
        let third = "scope: c3\n";
        cache.put(cache.key(Kind::Yaml, &l, third), &read(third).1, third);
        cache.save();
        let again = ItemCache::at(dir.path(), Path::new("/set"));
        assert!(again
            .get(again.key(Kind::Yaml, &l, TEXT), id, TEXT)
            .is_some());
        assert!(again
            .get(again.key(Kind::Yaml, &l, third), id, third)
            .is_some());
        assert!(
            again
                .get(again.key(Kind::Yaml, &l, OTHER), id, OTHER)
                .is_none(),
            "OTHER was not used by the last run"
        );
    }

    #[test]
    fn a_second_load_of_the_run_keeps_what_the_first_one_wrote() {
        let dir = tempfile::tempdir().expect("tempdir");
        written(dir.path());
        let l = Limits::default();
        let cache = ItemCache::at(dir.path(), Path::new("/set"));
        let (id, _) = read(TEXT);
        let third = "scope: c3\n";
        let fourth = "scope: c4\n";
        // The head: TEXT read back, `third` parsed.
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, TEXT), id, TEXT)
            .is_some());
        cache.put(cache.key(Kind::Yaml, &l, third), &read(third).1, third);
        cache.save();
        // The base: OTHER is gone (the head did not use it), `fourth` is
        // parsed; TEXT and `third` stay, though the base used neither.
        assert!(cache
            .get(cache.key(Kind::Yaml, &l, OTHER), id, OTHER)
            .is_none());
        cache.put(cache.key(Kind::Yaml, &l, fourth), &read(fourth).1, fourth);
        cache.save();
        assert_eq!(
            cache.take_counts(),
            (1, 0),
            "nothing counted but what was read back"
        );
        let next = ItemCache::at(dir.path(), Path::new("/set"));
        for text in [TEXT, third, fourth] {
            assert!(
                next.get(next.key(Kind::Yaml, &l, text), id, text).is_some(),
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
        let (id, items) = read(TEXT);
        let key = cache.key(Kind::Yaml, &l, TEXT);
        let read_back = |bytes: &[u8]| {
            std::fs::write(cache.file(), bytes).expect("write");
            ItemCache::at(dir.path(), Path::new("/set")).get(key, id, TEXT)
        };
        assert_eq!(read_back(&bytes), Some(items.clone()));
        for cut in 0..bytes.len() {
            let got = read_back(&bytes[..cut]);
            assert!(got.is_none() || got == Some(items.clone()), "cut at {cut}");
        }
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            let got = read_back(&flipped);
            assert!(got.is_none() || got == Some(items.clone()), "byte {i}");
        }
        assert!(read_back(b"").is_none());
    }

    /// A payload with a sound checksum (as a hostile writer would make
    /// one) must still give items that reading its text could give.
    #[test]
    fn a_well_formed_payload_that_does_not_fit_the_text_is_refused() {
        let (id, items) = read(TEXT);
        let payload = codec::encode(&items, TEXT);
        assert_eq!(codec::decode(&payload, id, TEXT), Some(items.clone()));
        assert!(
            codec::decode(&payload, id, &TEXT[..40]).is_none(),
            "spans past the text"
        );
        let mut longer = payload.clone();
        longer.push(0);
        assert!(codec::decode(&longer, id, TEXT).is_none(), "trailing bytes");
        for cut in 0..payload.len() {
            assert!(
                codec::decode(&payload[..cut], id, TEXT).is_none(),
                "cut at {cut}"
            );
        }
        // Items of another shape than reading gives: each is refused.
        let at = TEXT.find('é').expect("é") + 1;
        let refused = |what: &str, change: &dyn Fn(&mut PolicyFile)| {
            let mut other = items.clone();
            change(&mut other);
            let payload = codec::encode(&other, TEXT);
            assert!(codec::decode(&payload, id, TEXT).is_none(), "{what}");
        };
        refused("a span inside a character", &|f| {
            f.users[0].id.span = Span::new(id, at, at);
        });
        refused("a span that ends before it starts", &|f| {
            f.users[0].id.span = Span::new(id, 9, 8);
        });
        refused("an id reading refuses", &|f| {
            f.users[0].id.value = "Ann".into()
        });
        refused("a scope reading refuses", &|f| f.scope.value = "C 1".into());
        refused("a section that is none", &|f| {
            f.sections[0].value = "scope".into()
        });
        // Bytes no encoder writes: a string that is not UTF-8, a count
        // past the bytes left (more in the codec's own tests).
        let empty = PolicyFile {
            scope: Located::new("provider".to_owned(), Span::new(id, 0, 0)),
            ..PolicyFile::default()
        };
        let mut bytes = codec::encode(&empty, TEXT);
        assert!(codec::decode(&bytes, id, TEXT).is_some());
        // The scope: its span (0, 0), then the length plus one and bytes.
        assert_eq!(&bytes[..3], &[0, 0, 9]);
        bytes[3] = 0xc3;
        bytes[4] = 0x28;
        assert!(codec::decode(&bytes, id, TEXT).is_none(), "not UTF-8");
        let mut counted = codec::encode(&empty, TEXT);
        let sections = 3 + 8;
        counted.splice(sections..=sections, [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(
            codec::decode(&counted, id, TEXT).is_none(),
            "a count past the end"
        );
    }

    /// Strings that are the text at their place are taken from it: most of
    /// a payload is not the text again.
    #[test]
    fn a_payload_is_smaller_than_its_text() {
        let text = "scope: c1\nusers:\n  ann-a-long-user-name: { org: c1-some-long-org-name }\n  bob-another-long-name: { org: c1-some-long-org-name }\n";
        let (_, items) = read(text);
        let payload = codec::encode(&items, text);
        assert!(
            payload.len() * 2 < text.len(),
            "{} of {}",
            payload.len(),
            text.len()
        );
    }

    #[test]
    fn the_key_depends_on_the_text_the_kind_and_the_limits() {
        let cache = ItemCache::at(Path::new("unused"), Path::new("/set"));
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
