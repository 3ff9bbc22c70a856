//! The table file (format 3, documented in `docs/table-format.md`): a
//! 64-byte header, a directory of sections, then the sections, each at an
//! 8-byte-aligned offset so that it is read in place as a slice of
//! little-endian `u8`, `u32` or `u64`.
//!
//! ```text
//!  0 magic "TRELLIS\0"   8 major u16   10 minor u16   12 flags u32
//! 16 input hash u64      24 file length u64
//! 32 section count u32   36 first user name u32
//! 40 checksum u64 (xxh3-64 of the file with these 8 bytes left out)
//! 48 identity width u32  52..64 zero
//! 64 directory: per section, id u32 | item width u32 | offset u64 | items u64
//! ```
//! Loading checks the header, the checksum (accidental damage: truncation,
//! bit flips), then that every section is in the file and every array the
//! queries index is consistent with the others; queries still bounds-check
//! every read, so a table that passes is answered without a panic.

use crate::data::{arrays, Arrays, TableData, View, ORG_REC};
use crate::NONE;

/// The first 8 bytes of every table file.
pub const MAGIC: &[u8; 8] = b"TRELLIS\0";
/// The format's major version: a reader refuses any other. 3: sections in
/// place, a directory, xxh3-64, resources and restrictions.
pub const VERSION: u32 = 3;
/// The minor version this writer writes: a minor adds sections that older
/// readers of the same major skip.
pub const MINOR: u16 = 1;
/// The last section id of minor 0: a table of minor 0 has none after it.
const LAST_OF_MINOR_0: u32 = 57;
const HEADER: usize = 64;
const ENTRY: usize = 24;
const CHECKSUM_AT: usize = 40;
const FLAG_PROVENANCE: u32 = 1;

/// Why a table could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TableError {
    /// The file could not be read.
    #[error("cannot read the table: {0}")]
    Io(#[source] std::sync::Arc<std::io::Error>),
    /// The bytes do not start with the table magic number.
    #[error("not a trellis decision table (wrong magic number)")]
    NotATable,
    /// A major version this reader does not read.
    #[error("table format version {0} is not supported (this trellis reads version {VERSION}); recompile it")]
    Version(u32),
    /// Fewer (or more) bytes than the header announces.
    #[error("table is truncated: {expected} bytes announced, {found} present")]
    Truncated { expected: u64, found: u64 },
    /// The checksum does not match the content.
    #[error("table is corrupt: checksum mismatch")]
    Checksum,
    /// A structural invariant does not hold; names what.
    #[error("table is corrupt: {0}")]
    Corrupt(&'static str),
}

impl PartialEq for TableError {
    fn eq(&self, other: &TableError) -> bool {
        use TableError::*;
        match (self, other) {
            (Io(a), Io(b)) => a.kind() == b.kind(),
            (NotATable, NotATable) | (Checksum, Checksum) => true,
            (Version(a), Version(b)) => a == b,
            (
                Truncated {
                    expected: a,
                    found: b,
                },
                Truncated {
                    expected: c,
                    found: d,
                },
            ) => a == c && b == d,
            (Corrupt(a), Corrupt(b)) => a == b,
            _ => false,
        }
    }
}
impl Eq for TableError {}

impl From<std::io::Error> for TableError {
    fn from(e: std::io::Error) -> TableError {
        TableError::Io(std::sync::Arc::new(e))
    }
}

/// The checksum of a whole file: xxh3-64 (seed 0) of every byte but the
/// checksum field itself.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(bytes.get(..CHECKSUM_AT).unwrap_or(bytes));
    h.update(bytes.get(CHECKSUM_AT + 8..).unwrap_or(&[]));
    h.digest()
}

/// The checksum a header announces.
pub(crate) fn announced_checksum(header: &[u8]) -> u64 {
    u64_at(header, CHECKSUM_AT)
}

/// Rewrites the header's magic, version, length and checksum so that
/// `bytes` passes the integrity check: lets the fuzz target and the tests
/// reach the structural checks behind it. Not for anything else.
#[doc(hidden)]
pub fn reseal(bytes: &mut Vec<u8>) {
    if bytes.len() < HEADER {
        bytes.resize(HEADER, 0);
    }
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..10].copy_from_slice(&(VERSION as u16).to_le_bytes());
    let len = bytes.len() as u64;
    bytes[24..32].copy_from_slice(&len.to_le_bytes());
    let sum = checksum(bytes);
    bytes[CHECKSUM_AT..CHECKSUM_AT + 8].copy_from_slice(&sum.to_le_bytes());
}

/// An array as the writer sees it: its id, item width and bytes.
struct Section<'a> {
    id: u32,
    width: u32,
    bytes: &'a [u8],
}

trait Item: bytemuck::Pod {}
impl Item for u8 {}
impl Item for u32 {}
impl Item for u64 {}

fn section<T: Item>(id: u32, v: &[T]) -> Section<'_> {
    Section {
        id,
        width: std::mem::size_of::<T>() as u32,
        bytes: bytemuck::cast_slice(v),
    }
}

/// A file's bytes in order: the header and directory (the checksum left
/// zero), then each section after the padding that aligns it.
struct Layout<'a> {
    head: Vec<u8>,
    sections: Vec<(usize, Section<'a>)>,
    len: usize,
}

fn layout(d: &TableData) -> Layout<'_> {
    macro_rules! sections {
        ($(($id:literal, $name:ident, $t:ty)),* $(,)?) => {
            [$(section::<$t>($id, &d.$name)),*]
        };
    }
    let sections = arrays!(sections);
    let align = |n: usize| n.div_ceil(8) * 8;
    let mut at = align(HEADER + ENTRY * sections.len());
    let mut directory = Vec::with_capacity(ENTRY * sections.len());
    let mut placed = Vec::with_capacity(sections.len());
    let mut end = HEADER + ENTRY * sections.len();
    for s in sections {
        directory.extend_from_slice(&s.id.to_le_bytes());
        directory.extend_from_slice(&s.width.to_le_bytes());
        directory.extend_from_slice(&(at as u64).to_le_bytes());
        directory.extend_from_slice(&((s.bytes.len() / s.width as usize) as u64).to_le_bytes());
        placed.push((at - end, s));
        end = at + placed.last().map_or(0, |(_, s)| s.bytes.len());
        at = align(end);
    }
    let mut head = Vec::with_capacity(HEADER + directory.len());
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&(VERSION as u16).to_le_bytes());
    // Runs are derived data (the compiler adds them): a table written
    // without them is minor 0, answered from the grant lists.
    let minor = if d.user_run_rec.is_empty() { 0 } else { MINOR };
    head.extend_from_slice(&minor.to_le_bytes());
    let flags = if d.provenance { FLAG_PROVENANCE } else { 0 };
    head.extend_from_slice(&flags.to_le_bytes());
    head.extend_from_slice(&d.input_hash.to_le_bytes());
    head.extend_from_slice(&(at as u64).to_le_bytes());
    head.extend_from_slice(&(placed.len() as u32).to_le_bytes());
    head.extend_from_slice(&d.user_name_first.to_le_bytes());
    head.extend_from_slice(&[0u8; 8]);
    head.extend_from_slice(&d.ident_width.to_le_bytes());
    head.resize(HEADER, 0);
    head.extend_from_slice(&directory);
    Layout {
        head,
        sections: placed,
        len: at,
    }
}

impl Layout<'_> {
    /// Feeds every byte of the file, in order, to `out`, and returns the
    /// checksum (the checksum field itself counted as zero and left so).
    fn emit(&self, out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<u64> {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut put = |bytes: &[u8], hashed: bool| {
            if hashed {
                h.update(bytes);
            }
            out(bytes)
        };
        put(&self.head[..CHECKSUM_AT], true)?;
        put(&self.head[CHECKSUM_AT..CHECKSUM_AT + 8], false)?;
        put(&self.head[CHECKSUM_AT + 8..], true)?;
        let zeros = [0u8; 8];
        let mut written = self.head.len();
        for (pad, s) in &self.sections {
            put(&zeros[..*pad], true)?;
            if cfg!(target_endian = "little") {
                put(s.bytes, true)?;
            } else {
                for item in s.bytes.chunks_exact(s.width as usize) {
                    let mut b = item.to_vec();
                    b.reverse();
                    put(&b, true)?;
                }
            }
            written += pad + s.bytes.len();
        }
        put(&zeros[..self.len - written], true)?;
        Ok(h.digest())
    }
}

/// Serialises a table: byte-identical for identical data. Little-endian
/// machines write the arrays as they are in memory.
pub fn encode(d: &TableData) -> Vec<u8> {
    let layout = layout(d);
    let mut out = Vec::with_capacity(layout.len);
    let sum = layout
        .emit(&mut |b| {
            out.extend_from_slice(b);
            Ok(())
        })
        .unwrap_or(0);
    out[CHECKSUM_AT..CHECKSUM_AT + 8].copy_from_slice(&sum.to_le_bytes());
    out
}

/// Writes the bytes [`encode`] would return to `w`, section by section
/// (no copy of the file in memory), then the checksum at its place.
/// Returns the file's length.
pub fn encode_to<W: std::io::Write + std::io::Seek>(
    d: &TableData,
    w: &mut W,
) -> std::io::Result<u64> {
    let layout = layout(d);
    let sum = layout.emit(&mut |b| w.write_all(b))?;
    w.seek(std::io::SeekFrom::Start(CHECKSUM_AT as u64))?;
    w.write_all(&sum.to_le_bytes())?;
    w.seek(std::io::SeekFrom::Start(layout.len as u64))?;
    Ok(layout.len as u64)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .unwrap_or(0)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .unwrap_or(0)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map(|s| u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]))
        .unwrap_or(0)
}

/// The header's checks that come before the checksum: magic, major
/// version, announced length. `header` is at least the file's first bytes.
pub(crate) fn check_header(header: &[u8], file_len: u64) -> Result<(), TableError> {
    if header.len() < 8 || &header[..8] != MAGIC {
        return Err(TableError::NotATable);
    }
    if header.len() < HEADER {
        return Err(TableError::Truncated {
            expected: HEADER as u64,
            found: file_len,
        });
    }
    let major = u16_at(header, 8) as u32;
    if major != VERSION {
        return Err(TableError::Version(major));
    }
    let len = u64_at(header, 24);
    if len != file_len {
        return Err(TableError::Truncated {
            expected: len,
            found: file_len,
        });
    }
    Ok(())
}

/// Reads a whole table in place. `checked` says the caller has verified
/// the checksum already (`Table::open` does, from the file). `bytes` must
/// start at an 8-byte-aligned address (a mapping or a `u64` buffer).
pub(crate) fn parse(bytes: &[u8], checked: bool) -> Result<View<'_>, TableError> {
    check_header(bytes, bytes.len() as u64)?;
    if !checked && checksum(bytes) != u64_at(bytes, CHECKSUM_AT) {
        return Err(TableError::Checksum);
    }
    let count = u32_at(bytes, 32) as usize;
    let dir_end = count
        .checked_mul(ENTRY)
        .and_then(|n| n.checked_add(HEADER))
        .filter(|e| *e <= bytes.len())
        .ok_or(TableError::Corrupt("section directory runs past the end"))?;
    let directory = &bytes[HEADER..dir_end];
    let mut previous = 0u32;
    for e in directory.chunks_exact(ENTRY) {
        let id = u32_at(e, 0);
        if id <= previous {
            return Err(TableError::Corrupt("section directory out of order"));
        }
        previous = id;
    }
    // A section's bytes, checked against the directory and the file.
    let find = |want: u32, width: usize| -> Result<&[u8], TableError> {
        let e = directory
            .chunks_exact(ENTRY)
            .find(|e| u32_at(e, 0) == want)
            .ok_or(TableError::Corrupt("a section is missing"))?;
        if u32_at(e, 4) as usize != width {
            return Err(TableError::Corrupt("a section has the wrong item width"));
        }
        let (offset, items) = (u64_at(e, 8), u64_at(e, 16));
        let start = usize::try_from(offset)
            .ok()
            .filter(|s| s % 8 == 0 && *s >= dir_end)
            .ok_or(TableError::Corrupt("a section is misplaced"))?;
        let end = usize::try_from(items)
            .ok()
            .and_then(|n| n.checked_mul(width))
            .and_then(|n| n.checked_add(start))
            .filter(|e| *e <= bytes.len())
            .ok_or(TableError::Corrupt("a section runs past the end"))?;
        Ok(&bytes[start..end])
    };
    let minor = u16_at(bytes, 10);
    macro_rules! read {
        ($(($id:literal, $name:ident, $t:ty)),* $(,)?) => {
            Arrays {
                $($name: if minor == 0 && $id > LAST_OF_MINOR_0 {
                    &[]
                } else {
                    let raw = find($id, std::mem::size_of::<$t>())?;
                    bytemuck::try_cast_slice::<u8, $t>(raw)
                        .map_err(|_| TableError::Corrupt("a section is not aligned"))?
                },)*
            }
        };
    }
    if cfg!(target_endian = "big") {
        return Err(TableError::Corrupt(
            "this reader reads tables in place on little-endian machines only",
        ));
    }
    let arrays = arrays!(read);
    let ident_width = u32_at(bytes, 48) as usize;
    let view = View::new(
        u64_at(bytes, 16),
        u32_at(bytes, 12) & FLAG_PROVENANCE != 0,
        minor,
        u32_at(bytes, 36),
        ident_width,
        arrays,
    );
    validate(&view)?;
    Ok(view)
}

fn monotonic(v: &[u32], limit: usize) -> bool {
    v.windows(2).all(|w| w[0] <= w[1]) && v.last().is_none_or(|l| *l as usize <= limit)
}

/// Offsets `start` (one more than `items`) cut `into` (of `len` entries)
/// into consecutive ranges.
fn offsets(start: &[u32], items: usize, len: usize) -> bool {
    start.len() == items + 1 && start.first().is_none_or(|s| *s == 0) && monotonic(start, len)
}

fn all_below(v: &[u32], limit: usize) -> bool {
    v.iter().all(|x| (*x as usize) < limit)
}

fn below_or_none(v: &[u32], limit: usize) -> bool {
    v.iter().all(|x| *x == NONE || (*x as usize) < limit)
}

/// The structural invariants, section by section: every length and every
/// offset of the arrays that are sized by orgs, roles, sets and resources.
/// They cost time in those, never in users, names or grants (see
/// [`check_user_records`]); every product below has a factor read from the
/// file, so all are checked.
fn validate(d: &View<'_>) -> Result<(), TableError> {
    let checks = [
        strings(d),
        orgs(d),
        users(d),
        roles(d),
        catalog(d),
        resources(d),
        runs(d),
    ];
    for part in checks {
        if let Some((what, _)) = part.iter().find(|(_, ok)| !ok) {
            return Err(TableError::Corrupt(what));
        }
    }
    Ok(())
}

type Checks = Vec<(&'static str, bool)>;

fn strings(d: &View<'_>) -> Checks {
    vec![("string offsets", d.str_off.first() == Some(&0))]
}

/// Every member-grant list ends with a `[NONE; 3]` terminator.
fn terminated(d: &View<'_>, at: u32) -> bool {
    d.member_grants
        .get(at as usize * 3..at as usize * 3 + 3)
        .is_some_and(|g| g.iter().all(|v| *v == NONE))
}

fn orgs(d: &View<'_>) -> Checks {
    let orgs = d.org_name.len();
    let members = d.member_grants.len() / 3;
    vec![
        (
            "member grants",
            d.member_grants.len().is_multiple_of(3)
                && (members == 0 || terminated(d, members as u32 - 1)),
        ),
        (
            "org arrays",
            [d.org_sorted.len(), d.org_parent.len(), d.org_end.len()]
                .iter()
                .all(|n| *n == orgs)
                && all_below(d.org_sorted, orgs)
                // Preorder: a parent comes before its child and a subtree
                // ends after its root, so walks up the tree always end.
                && d.org_parent
                    .iter()
                    .enumerate()
                    .all(|(i, p)| *p == NONE || (*p as usize) < i)
                && d.org_end
                    .iter()
                    .enumerate()
                    .all(|(i, e)| (*e as usize) > i && (*e as usize) <= orgs),
        ),
        (
            "org records",
            d.org_rec.len() == orgs * ORG_REC
                && d.org_rec
                    .chunks_exact(ORG_REC)
                    .all(|r| r[1] <= r[2] && (r[2] as usize) < members.max(1)),
        ),
        (
            "org grant offsets",
            d.org_grants.len().is_multiple_of(3)
                && offsets(d.org_grant_start, orgs, d.org_grants.len() / 3)
                && (d.org_grant_source.is_empty()
                    || d.org_grant_source.len() == d.org_grants.len() / 3),
        ),
    ]
}

fn users(d: &View<'_>) -> Checks {
    let users = d.user_home.len();
    let strings = d.str_off.len().saturating_sub(1);
    let grants = d.user_grants.len() / 3;
    vec![
        (
            "user names",
            (d.user_name_first as usize)
                .checked_add(users)
                .is_some_and(|e| e <= strings),
        ),
        (
            "user records",
            d.user_rec.len() == (users + 1) * 2
                && d.user_grants.len().is_multiple_of(3)
                && d.user_rec.first().is_none_or(|s| *s == 0)
                && d.user_rec
                    .get(users * 2)
                    .is_some_and(|e| *e as usize == grants)
                && (d.user_grant_source.is_empty() || d.user_grant_source.len() == grants),
        ),
        (
            "user identity types",
            matches!(d.ident_width, 1 | 2 | 4)
                && Some(d.user_ident.len()) == users.checked_mul(d.ident_width),
        ),
    ]
}

fn roles(d: &View<'_>) -> Checks {
    let roles = d.role_count as usize;
    let cells = d.identity_name.len().checked_mul(roles);
    vec![
        (
            "role arrays",
            [
                d.role_name.len(),
                d.role_qualified.len(),
                d.role_display.len(),
                d.role_approval.len(),
                d.role_restr.len(),
            ]
            .iter()
            .all(|n| *n == roles)
                && all_below(d.role_name_sorted, roles)
                && all_below(d.role_qualified_sorted, roles),
        ),
        (
            "assigners",
            offsets(d.assignable_start, roles, d.assignable_by.len())
                && all_below(d.assignable_by, roles),
        ),
        (
            "role closures",
            Some(d.closure_roles.len()) == cells && Some(d.closure_perms.len()) == cells,
        ),
        (
            "bitset widths",
            Some(d.role_identity.len()) == roles.checked_mul(d.identity_words)
                && d.perm_pool.len().is_multiple_of(d.perm_words)
                && d.role_pool.len().is_multiple_of(d.role_words)
                && d.pub_pool.len().is_multiple_of(d.role_words)
                && Some(d.policy_modules.len()) == d.policy_name.len().checked_mul(d.module_words),
        ),
        (
            "set references",
            below_or_none(d.closure_roles, d.role_pool.len() / d.role_words)
                && below_or_none(d.closure_perms, d.perm_pool.len() / d.perm_words)
                && d.org_rec
                    .chunks_exact(ORG_REC)
                    .all(|r| (r[0] as usize) < d.pub_pool.len() / d.role_words),
        ),
    ]
}

fn catalog(d: &View<'_>) -> Checks {
    let modules = d.module_name.len();
    vec![
        (
            "modules",
            offsets(d.module_first_perm, modules, d.perm_module.len())
                && d.module_gated.len() == modules
                && d.module_dim.len() == modules
                && all_below(d.module_sorted, modules)
                && d.perm_action.len() == d.perm_module.len()
                && all_below(d.perm_module, modules),
        ),
        ("policies", all_below(d.policy_sorted, d.policy_name.len())),
    ]
}

fn resources(d: &View<'_>) -> Checks {
    let (dims, res, orgs) = (d.dim_name.len(), d.res_name.len(), d.org_name.len());
    let restrictions = d.restr_start.len().saturating_sub(1);
    let cells = d.identity_name.len() * d.role_count as usize;
    vec![
        (
            "resources",
            below_or_none(d.module_dim, dims)
                && d.res_dim.len() == res
                && all_below(d.res_dim, dims)
                && d.res_org.len() == res
                && below_or_none(d.res_org, orgs)
                && ((res == 0 && d.org_res_start.is_empty())
                    || offsets(d.org_res_start, orgs, d.org_res.len()))
                && all_below(d.org_res, res),
        ),
        (
            "restrictions",
            d.restr_entries.len().is_multiple_of(3)
                && offsets(d.restr_start, restrictions, d.restr_entries.len() / 3)
                && d.restr_entries.chunks_exact(3).all(|e| {
                    (e[0] as usize) < dims && e[1] <= e[2] && (e[2] as usize) <= d.restr_res.len()
                })
                && all_below(d.restr_res, res)
                && below_or_none(d.role_restr, restrictions),
        ),
        (
            "required dimensions",
            offsets(d.role_req_start, d.role_count as usize, d.role_req.len())
                && all_below(d.role_req, dims),
        ),
        (
            "restricted grants",
            d.restricted_items.len().is_multiple_of(2)
                && d.restricted_items.chunks_exact(2).all(|p| {
                    (p[0] as usize) < d.role_count as usize && (p[1] as usize) < restrictions
                }),
        ),
        (
            "closure parts",
            d.closure_parts.len().is_multiple_of(2)
                && offsets(d.closure_part_start, cells, d.closure_parts.len() / 2)
                && d.closure_parts.chunks_exact(2).all(|p| {
                    (p[0] as usize) < d.perm_pool.len() / d.perm_words
                        && (p[1] as usize) < restrictions
                }),
        ),
    ]
}

/// The runs' sizes and set references (minor 1; a table of minor 0 has
/// none and is answered from its grant lists).
fn runs(d: &View<'_>) -> Checks {
    if !d.runs {
        return Vec::new();
    }
    let users = d.user_home.len();
    let runsets = d.runset_start.len().saturating_sub(1);
    let members = d.member_runs.len() / 3;
    vec![
        (
            "user runs",
            d.user_run_rec.len() == (users + 1) * 3
                && d.user_runs.len().is_multiple_of(3)
                && d.user_run_rec.first() == Some(&0)
                && d.user_run_rec
                    .get(users * 3)
                    .is_some_and(|e| *e as usize == d.user_runs.len() / 3),
        ),
        (
            "member runs",
            d.member_runs.len().is_multiple_of(3)
                && d.member_runs
                    .get(d.member_runs.len().saturating_sub(3)..)
                    .is_some_and(|t| members == 0 || t.iter().all(|v| *v == NONE)),
        ),
        (
            "run sets",
            offsets(d.runset_start, runsets, d.runset_items.len())
                && Some(d.runset_perms.len()) == runsets.checked_mul(d.identity_name.len())
                && below_or_none(d.runset_perms, d.perm_pool.len() / d.perm_words),
        ),
    ]
}

/// The invariants that cost time in users, names and grants, and read
/// pages all over the file: each grant list sorted by where its grants
/// start and ended by its terminator (decisions stop scanning there), the
/// string offsets in order, every user record within its arrays. Queries
/// stay in bounds without them (every read is checked); a table that
/// passes the checksum and breaks them was written so on purpose, and
/// answers wrongly but never crashes.
pub(crate) fn check_user_records(d: &View<'_>) -> Result<(), TableError> {
    let users = d.user_home.len();
    let orgs = d.org_name.len();
    let members = d.member_grants.len() / 3;
    let identities = d.identity_name.len().max(1);
    let lo_sorted = |list: &[u32]| {
        list.as_chunks::<3>()
            .0
            .windows(2)
            .all(|w| w[0][0] == NONE || w[0][0] <= w[1][0])
    };
    let starts_ok = d
        .user_rec
        .chunks_exact(2)
        .zip(d.user_rec.chunks_exact(2).skip(1))
        .all(|(a, b)| a[0] <= b[0]);
    let checks = [
        // The string offsets cost time in names (a million users' ids).
        ("string offsets", monotonic(d.str_off, d.str_blob.len())),
        (
            "member grants",
            lo_sorted(d.member_grants)
                && d.org_rec.chunks_exact(ORG_REC).all(|r| terminated(d, r[2])),
        ),
        (
            "user grant order",
            starts_ok
                && d.user_rec
                    .chunks_exact(2)
                    .zip(d.user_rec.chunks_exact(2).skip(1))
                    .all(|(a, b)| {
                        d.user_grants
                            .get(a[0] as usize * 3..b[0] as usize * 3)
                            .is_some_and(lo_sorted)
                    }),
        ),
        (
            "user records",
            all_below(d.user_home, orgs)
                && d.user_rec
                    .chunks_exact(2)
                    .take(users)
                    .all(|r| (r[1] as usize) < members),
        ),
        (
            "user runs",
            !d.runs
                || (lo_sorted(d.member_runs)
                    && d.user_run_rec
                        .chunks_exact(3)
                        .zip(d.user_run_rec.chunks_exact(3).skip(1))
                        .enumerate()
                        .all(|(u, (a, b))| {
                            (a[1] as usize) < d.member_runs.len() / 3
                                && d.user_identity(u as u32) == Some(a[2])
                                && a[0] <= b[0]
                                && d.user_runs
                                    .get(a[0] as usize * 3..b[0] as usize * 3)
                                    .is_some_and(lo_sorted)
                        })),
        ),
        (
            "user identity types",
            (0..users as u32).all(|u| {
                d.user_identity(u)
                    .is_some_and(|i| (i as usize) < identities)
            }),
        ),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((what, _)) => Err(TableError::Corrupt(what)),
        None => Ok(()),
    }
}

impl TableData {
    /// The file's bytes (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// The same bytes written to `w` as they are laid out (see
    /// [`encode_to`]); returns the file's length.
    pub fn encode_to<W: std::io::Write + std::io::Seek>(&self, w: &mut W) -> std::io::Result<u64> {
        encode_to(self, w)
    }
}
