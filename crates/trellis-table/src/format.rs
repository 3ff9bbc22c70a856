//! The table file: a 40-byte header, then the arrays in a fixed order.
//!
//! ```text
//! magic "TRELLIS\0" | version u32 | flags u32 | input hash u64 | payload length u64 | checksum u64
//! payload: each scalar as u64; each array as u64 count then little-endian items
//! ```
//! The checksum of the payload catches truncation and bit flips
//! before anything is decoded; decoding then checks every length and offset.

use crate::data::TableData;

pub const MAGIC: &[u8; 8] = b"TRELLIS\0";
/// 2: member-grant lists found from the user record, user names by position.
pub const VERSION: u32 = 2;
const HEADER: usize = 40;

/// Why a table could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    Io(String),
    NotATable,
    Version(u32),
    Truncated { expected: u64, found: u64 },
    Checksum,
    Corrupt(&'static str),
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableError::Io(e) => write!(f, "cannot read the table: {e}"),
            TableError::NotATable => write!(f, "not a trellis decision table (wrong magic number)"),
            TableError::Version(v) => write!(
                f,
                "table format version {v} is not supported (this trellis reads version {VERSION}); recompile it"
            ),
            TableError::Truncated { expected, found } => {
                write!(f, "table is truncated: payload of {expected} bytes announced, {found} present")
            }
            TableError::Checksum => write!(f, "table is corrupt: checksum mismatch"),
            TableError::Corrupt(what) => write!(f, "table is corrupt: {what}"),
        }
    }
}

impl std::error::Error for TableError {}

/// The payload checksum: four independent multiply-rotate lanes over 8-byte
/// words (fast enough that checking a 64 MB table costs a few milliseconds),
/// then the tail and the length. It catches truncation and bit flips; it is
/// not a defence against a forger (nothing in a table is secret).
fn checksum(bytes: &[u8]) -> u64 {
    const K: [u64; 4] = [
        0x9E37_79B9_7F4A_7C15,
        0xC2B2_AE3D_27D4_EB4F,
        0x1656_67B1_9E37_79F9,
        0x85EB_CA77_C2B2_AE63,
    ];
    let mut lanes = K;
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let mut w = [0u8; 8];
            w.copy_from_slice(&block[i * 8..i * 8 + 8]);
            *lane = (*lane ^ u64::from_le_bytes(w))
                .wrapping_mul(K[i])
                .rotate_left(29);
        }
    }
    let mut h = lanes.iter().fold(bytes.len() as u64, |h, l| {
        (h ^ l).wrapping_mul(K[0]).rotate_left(31)
    });
    for b in blocks.remainder() {
        h = (h ^ *b as u64).wrapping_mul(K[1]).rotate_left(23);
    }
    h ^ (h >> 29)
}

/// Rewrites the header's magic, version, payload length and checksum so
/// that `bytes` passes the integrity check: lets the table fuzz target reach
/// the structural checks behind it. Not for anything else.
#[doc(hidden)]
pub fn reseal(bytes: &mut Vec<u8>) {
    if bytes.len() < HEADER {
        bytes.resize(HEADER, 0);
    }
    bytes[..8].copy_from_slice(MAGIC);
    bytes[8..12].copy_from_slice(&VERSION.to_le_bytes());
    let len = (bytes.len() - HEADER) as u64;
    bytes[24..32].copy_from_slice(&len.to_le_bytes());
    let sum = checksum(&bytes[HEADER..]);
    bytes[32..40].copy_from_slice(&sum.to_le_bytes());
}

struct Writer(Vec<u8>);

impl Writer {
    fn scalar(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32s(&mut self, v: &[u32]) {
        self.scalar(v.len() as u64);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn u64s(&mut self, v: &[u64]) {
        self.scalar(v.len() as u64);
        for x in v {
            self.0.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn bytes(&mut self, v: &[u8]) {
        self.scalar(v.len() as u64);
        self.0.extend_from_slice(v);
    }
}

/// The fields, in file order; one list drives both encoding and decoding.
macro_rules! fields {
    ($m:ident) => {
        $m!(scalar, provenance);
        $m!(bytes, str_blob);
        $m!(u32s, str_off);
        $m!(u32s, org_name);
        $m!(u32s, org_sorted);
        $m!(u32s, org_parent);
        $m!(u32s, org_end);
        $m!(u32s, org_rec);
        $m!(u32s, member_grants);
        $m!(u32s, org_grant_start);
        $m!(u32s, org_grants);
        $m!(u32s, org_grant_source);
        $m!(scalar, user_name_first);
        $m!(u32s, user_rec);
        $m!(u32s, user_home);
        $m!(bytes, user_ident);
        $m!(scalar, ident_width);
        $m!(u32s, user_grants);
        $m!(u32s, user_grant_source);
        $m!(u32s, identity_name);
        $m!(scalar, role_count);
        $m!(scalar, role_words);
        $m!(scalar, identity_words);
        $m!(u32s, role_name);
        $m!(u32s, role_name_sorted);
        $m!(u32s, role_qualified);
        $m!(u32s, role_qualified_sorted);
        $m!(u32s, role_display);
        $m!(u32s, role_flags);
        $m!(u32s, role_approval);
        $m!(u64s, role_identity);
        $m!(u32s, assignable_start);
        $m!(u32s, assignable_by);
        $m!(u32s, closure_roles);
        $m!(u32s, closure_perms);
        $m!(u64s, role_pool);
        $m!(u64s, pub_pool);
        $m!(scalar, perm_words);
        $m!(u64s, perm_pool);
        $m!(scalar, module_words);
        $m!(u32s, module_name);
        $m!(u32s, module_sorted);
        $m!(u32s, module_first_perm);
        $m!(u32s, module_gated);
        $m!(u32s, perm_module);
        $m!(u32s, perm_action);
        $m!(u32s, policy_name);
        $m!(u32s, policy_sorted);
        $m!(u64s, policy_modules);
    };
}

/// Serialises a table: byte-identical for identical data. The payload is
/// written once, into a buffer sized in advance, behind the header.
pub fn encode(d: &TableData) -> Vec<u8> {
    let mut size = HEADER;
    macro_rules! measure {
        (scalar, $f:ident) => {
            size += 8
        };
        (bytes, $f:ident) => {
            size += 8 + d.$f.len()
        };
        (u32s, $f:ident) => {
            size += 8 + 4 * d.$f.len()
        };
        (u64s, $f:ident) => {
            size += 8 + 8 * d.$f.len()
        };
    }
    fields!(measure);
    let mut w = Writer(Vec::with_capacity(size));
    w.0.resize(HEADER, 0);
    macro_rules! put {
        (scalar, $f:ident) => {
            w.scalar(d.$f as u64)
        };
        ($kind:ident, $f:ident) => {
            w.$kind(&d.$f)
        };
    }
    fields!(put);
    let mut out = w.0;
    let payload_len = (out.len() - HEADER) as u64;
    let sum = checksum(&out[HEADER..]);
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    header.extend_from_slice(&d.input_hash.to_le_bytes());
    header.extend_from_slice(&payload_len.to_le_bytes());
    header.extend_from_slice(&sum.to_le_bytes());
    out[..HEADER].copy_from_slice(&header);
    out
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], TableError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(TableError::Corrupt("length overflow"))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(TableError::Corrupt("array runs past the end"))?;
        self.pos = end;
        Ok(s)
    }
    fn scalar(&mut self) -> Result<u64, TableError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn len(&mut self, item: usize) -> Result<usize, TableError> {
        let n = self.scalar()?;
        let n = usize::try_from(n).map_err(|_| TableError::Corrupt("length overflow"))?;
        if n.checked_mul(item)
            .is_none_or(|b| b > self.buf.len() - self.pos)
        {
            return Err(TableError::Corrupt("array length exceeds the file"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, TableError> {
        let n = self.len(1)?;
        Ok(self.take(n)?.to_vec())
    }
    fn u32s(&mut self) -> Result<Vec<u32>, TableError> {
        let n = self.len(4)?;
        let b = self.take(n * 4)?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn u64s(&mut self) -> Result<Vec<u64>, TableError> {
        let n = self.len(8)?;
        let b = self.take(n * 8)?;
        Ok(b.chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }
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

pub fn decode(bytes: &[u8]) -> Result<TableData, TableError> {
    if bytes.len() < 8 || &bytes[..8] != MAGIC {
        return Err(TableError::NotATable);
    }
    if bytes.len() < HEADER {
        return Err(TableError::Truncated {
            expected: HEADER as u64,
            found: bytes.len() as u64,
        });
    }
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(TableError::Version(version));
    }
    let input_hash = u64_at(bytes, 16);
    let len = u64_at(bytes, 24);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len {
        return Err(TableError::Truncated {
            expected: len,
            found: payload.len() as u64,
        });
    }
    if checksum(payload) != u64_at(bytes, 32) {
        return Err(TableError::Checksum);
    }
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let mut d = TableData {
        input_hash,
        ..TableData::default()
    };
    macro_rules! get {
        (scalar, provenance) => {
            d.provenance = r.scalar()? != 0
        };
        (scalar, $f:ident) => {
            d.$f = r
                .scalar()?
                .try_into()
                .map_err(|_| TableError::Corrupt(concat!(stringify!($f), " out of range")))?
        };
        ($kind:ident, $f:ident) => {
            d.$f = r.$kind()?
        };
    }
    fields!(get);
    if r.pos != payload.len() {
        return Err(TableError::Corrupt("trailing bytes after the last array"));
    }
    validate(&d)?;
    Ok(d)
}

fn monotonic(v: &[u32], limit: usize) -> bool {
    v.windows(2).all(|w| w[0] <= w[1]) && v.last().is_none_or(|l| *l as usize <= limit)
}

/// Structural invariants, so that queries on a decoded table stay in bounds.
/// Every product below has a factor read from the file: all are checked.
fn validate(d: &TableData) -> Result<(), TableError> {
    let orgs = d.org_name.len();
    let users = d.user_home.len();
    let strings = d.str_off.len().saturating_sub(1);
    let roles = d.role_count as usize;
    let identities = d.identity_name.len().max(1);
    let grants = d.user_grants.len() / 3;
    let members = d.member_grants.len() / 3;
    let user_starts: Vec<u32> = d.user_rec.iter().step_by(2).copied().collect();
    // Every member-grant list ends with a terminator before the array does.
    let terminator = |at: u32| {
        d.member_grants
            .get(at as usize * 3..at as usize * 3 + 3)
            .is_some_and(|g| g.iter().all(|v| *v == super::NONE))
    };
    // Grant lists are sorted by `lo`: decisions stop scanning past `x`.
    let lo_sorted = |list: &[u32]| {
        list.as_chunks::<3>()
            .0
            .windows(2)
            .all(|w| w[0][0] == super::NONE || w[0][0] <= w[1][0])
    };
    let user_lists_sorted = d
        .user_rec
        .chunks_exact(2)
        .zip(d.user_rec.chunks_exact(2).skip(1))
        .all(|(a, b)| {
            d.user_grants
                .get(a[0] as usize * 3..b[0] as usize * 3)
                .is_some_and(lo_sorted)
        });
    let checks: [(&'static str, bool); 16] = [
        (
            "member grants",
            d.member_grants.len().is_multiple_of(3)
                && (members == 0 || terminator(members as u32 - 1))
                && lo_sorted(&d.member_grants),
        ),
        ("user grant order", user_lists_sorted),
        ("string offsets", monotonic(&d.str_off, d.str_blob.len())),
        (
            "org arrays",
            [d.org_sorted.len(), d.org_parent.len(), d.org_end.len()]
                .iter()
                .all(|n| *n == orgs)
                // Preorder: a parent comes before its child and a subtree
                // ends after its root, so walks up the tree always end.
                && d.org_parent
                    .iter()
                    .enumerate()
                    .all(|(i, p)| *p == super::NONE || (*p as usize) < i)
                && d.org_end
                    .iter()
                    .enumerate()
                    .all(|(i, e)| (*e as usize) > i && (*e as usize) <= orgs),
        ),
        (
            "org records",
            d.org_rec.len() == orgs * 4
                && d.org_rec
                    .chunks_exact(4)
                    .all(|r| r[1] <= r[2] && terminator(r[2])),
        ),
        (
            "org grant offsets",
            d.org_grant_start.len() == orgs + 1
                && monotonic(&d.org_grant_start, d.org_grants.len() / 3),
        ),
        (
            "user names",
            (d.user_name_first as usize)
                .checked_add(users)
                .is_some_and(|e| e <= strings),
        ),
        (
            "user records",
            d.user_rec.len() == (users + 1) * 2
                && d.user_home.iter().all(|h| (*h as usize) < orgs)
                && d.user_rec
                    .chunks_exact(2)
                    .take(users)
                    .all(|r| (r[1] as usize) < members)
                && monotonic(&user_starts, grants),
        ),
        (
            "user identity types",
            matches!(d.ident_width, 1 | 2 | 4)
                && Some(d.user_ident.len()) == users.checked_mul(d.ident_width)
                && match d.ident_width {
                    1 => d.user_ident.iter().all(|b| (*b as usize) < identities),
                    _ => (0..users as u32).all(|u| {
                        d.user_identity(u)
                            .is_some_and(|i| (i as usize) < identities)
                    }),
                },
        ),
        ("role word count", d.role_words == roles.div_ceil(64).max(1)),
        (
            "role arrays",
            [
                d.role_name.len(),
                d.role_qualified.len(),
                d.role_display.len(),
                d.role_flags.len(),
                d.role_approval.len(),
            ]
            .iter()
            .all(|n| *n == roles),
        ),
        (
            "assigners",
            d.assignable_start.len() == roles + 1
                && monotonic(&d.assignable_start, d.assignable_by.len()),
        ),
        (
            "role closures",
            Some(d.closure_roles.len()) == d.identity_name.len().checked_mul(roles)
                && Some(d.closure_perms.len()) == d.identity_name.len().checked_mul(roles),
        ),
        (
            "modules",
            d.module_first_perm.len() == d.module_name.len() + 1
                && monotonic(&d.module_first_perm, d.perm_module.len()),
        ),
        (
            "bitset widths",
            d.perm_words == d.perm_module.len().div_ceil(64).max(1)
                && d.module_words == d.module_name.len().div_ceil(64).max(1)
                && d.identity_words == d.identity_name.len().div_ceil(64).max(1)
                && Some(d.role_identity.len()) == roles.checked_mul(d.identity_words)
                && d.perm_pool.len().checked_rem(d.perm_words) == Some(0)
                && d.role_pool.len().checked_rem(d.role_words) == Some(0)
                && d.pub_pool.len().checked_rem(d.role_words) == Some(0)
                && Some(d.policy_modules.len()) == d.policy_name.len().checked_mul(d.module_words),
        ),
        ("module words", d.module_words > 0),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((what, _)) => Err(TableError::Corrupt(what)),
        None => Ok(()),
    }
}

impl TableData {
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }
}
