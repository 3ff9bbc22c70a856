//! The C ABI of trellis: a decision table (`trellis compile -o FILE`) opened
//! and asked from C, and from every language that calls C (Go through cgo,
//! Java through the FFM API, Python through ctypes, ...). A thin layer over
//! `trellis-table`: each function checks its pointers, turns `int64_t`
//! handles into the runtime's, asks, and returns plain values.
//!
//! The contract, as `include/trellis.h` states it to C:
//! - a corrupt, truncated or foreign file is an error code and a message
//!   in a caller's `TrellisError`, never an abort;
//! - every name lookup answers a handle `>= 0` or `TRELLIS_NOT_FOUND`,
//!   and every question about an unknown handle answers false (or empty);
//! - no Rust panic crosses the boundary: each entry point catches it and
//!   answers its failure value (`TRELLIS_STATUS_PANIC` when opening);
//! - a table is read-only once open: any number of threads may ask one
//!   table at once; only `trellis_table_free` needs them all done.
//!
//! The header is generated from this crate by cbindgen (`cbindgen.toml`);
//! `tests/header.rs` fails when the checked-in file differs.

#![deny(unsafe_op_in_unsafe_fn)]

mod names;
mod questions;

pub use names::*;
pub use questions::*;

use std::ffi::{c_char, CStr};
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use trellis_table::{NameIndex, Perm, Table, TableError};

/// Returned by every lookup of a name that the table does not hold (and
/// by the lookups that answer an org or dimension when there is none).
/// Any question asked with it answers false.
pub const TRELLIS_NOT_FOUND: i64 = -1;

/// Passed as the resource of `trellis_allow_on` and `trellis_who_on`:
/// a question about the whole module, not about one resource. Distinct
/// from `TRELLIS_NOT_FOUND`, so that a resource whose lookup failed
/// answers deny instead of silently asking about the whole module.
pub const TRELLIS_NO_RESOURCE: i64 = -2;

/// Bytes in `TrellisError.message`, its terminating NUL included.
pub const TRELLIS_MESSAGE_CAPACITY: usize = 256;

/// What went wrong when opening a table (`TrellisError.code`).
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrellisStatus {
    /// No error.
    Ok = 0,
    /// A required pointer was NULL (the path, or bytes with a length).
    NullArgument = 1,
    /// An argument could not be used (a path that is not UTF-8 where the
    /// platform needs it).
    InvalidArgument = 2,
    /// The file could not be read (missing, unreadable, a directory).
    Io = 3,
    /// Not a trellis decision table (wrong magic number).
    NotATable = 4,
    /// A format version this library does not read: recompile the table.
    Version = 5,
    /// Fewer or more bytes than the table announces.
    Truncated = 6,
    /// The content does not match its checksum.
    Checksum = 7,
    /// A structural check failed; the message names which.
    Corrupt = 8,
    /// A bug in trellis: an internal panic, caught at the boundary.
    Panic = 9,
}

/// An error report, filled by the functions that take a `TrellisError *`
/// (which may be NULL when the caller does not want one). On success
/// `code` is `TRELLIS_STATUS_OK` and `message` is empty.
#[repr(C)]
pub struct TrellisError {
    /// What went wrong.
    pub code: TrellisStatus,
    /// A readable message, NUL-terminated (cut at a character boundary to
    /// fit), in English, for a log line.
    pub message: [c_char; TRELLIS_MESSAGE_CAPACITY],
}

/// An open decision table. Create it with `trellis_table_open` or
/// `trellis_table_from_bytes`, free it with `trellis_table_free`.
/// Read-only: share one between threads.
pub struct TrellisTable {
    table: Table,
    /// Names to handles, built on the first lookup by name.
    index: OnceLock<NameIndex>,
    /// `module:action` of every permission, built on first use (the table
    /// keeps modules and actions apart).
    perms: OnceLock<PermNames>,
    /// How many resources the table holds.
    resources: usize,
}

// Concurrent readers: the C header promises it.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<TrellisTable>();
};

impl TrellisTable {
    fn new(table: Table) -> TrellisTable {
        let resources = table
            .stats()
            .iter()
            .find(|(what, _)| *what == "resources")
            .map_or(0, |(_, n)| *n);
        TrellisTable {
            table,
            index: OnceLock::new(),
            perms: OnceLock::new(),
            resources,
        }
    }

    fn index(&self) -> &NameIndex {
        self.index.get_or_init(|| NameIndex::new(&self.table))
    }

    fn perms(&self) -> &PermNames {
        self.perms.get_or_init(|| PermNames::new(&self.table))
    }
}

/// Every permission's `module:action`, end to end, with where each ends.
struct PermNames {
    text: String,
    ends: Vec<usize>,
}

impl PermNames {
    /// Permissions are numbered `0..n`; the first handle whose name does
    /// not lead back to it is `n`.
    fn new(t: &Table) -> PermNames {
        let mut names = PermNames {
            text: String::new(),
            ends: Vec::new(),
        };
        for p in (0..u32::MAX).map(Perm) {
            let name = t.perm_name(p);
            if t.permission(&name) != Some(p) {
                break;
            }
            names.text.push_str(&name);
            names.ends.push(names.text.len());
        }
        names
    }

    fn get(&self, p: u32) -> Option<&str> {
        let p = p as usize;
        let start = match p.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.text.get(start..*self.ends.get(p)?)
    }
}

/// Runs `f`, answering `fallback` if it panics: no panic crosses the C
/// boundary. The functions only read the table, so nothing is left half
/// changed by an unwind.
fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// The table behind a caller's pointer.
///
/// # Safety
/// `t` is NULL or a pointer from `trellis_table_open` or
/// `trellis_table_from_bytes` that has not been freed.
#[allow(unsafe_code)]
unsafe fn table<'a>(t: *const TrellisTable) -> Option<&'a TrellisTable> {
    // SAFETY: `as_ref` checks for NULL; otherwise the caller guarantees a
    // live table, only ever read through shared references.
    unsafe { t.as_ref() }
}

/// A caller's NUL-terminated string as UTF-8 (`None` for NULL or for bytes
/// that are not UTF-8, which no name in a table is).
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string alive for the call.
#[allow(unsafe_code)]
unsafe fn text<'a>(s: *const c_char) -> Option<&'a str> {
    if s.is_null() {
        return None;
    }
    // SAFETY: not NULL (checked above); the caller guarantees the NUL and
    // that the string outlives the call, which is all `'a` is used for.
    unsafe { CStr::from_ptr(s) }.to_str().ok()
}

/// A caller's handle as the runtime's: `None` for a negative one or one
/// past `u32`, or (when given) one not below `count`.
fn handle(h: i64, count: usize) -> Option<u32> {
    u32::try_from(h).ok().filter(|h| (*h as usize) < count)
}

/// Fills `*err` (when not NULL) with `code` and `message`.
///
/// # Safety
/// `err` is NULL or points to writable memory for one `TrellisError`.
#[allow(unsafe_code)]
unsafe fn report(err: *mut TrellisError, code: TrellisStatus, message: &str) {
    if err.is_null() {
        return;
    }
    let mut out = TrellisError {
        code,
        message: [0; TRELLIS_MESSAGE_CAPACITY],
    };
    let mut n = message.len().min(TRELLIS_MESSAGE_CAPACITY - 1);
    while !message.is_char_boundary(n) {
        n -= 1;
    }
    for (o, b) in out.message.iter_mut().zip(&message.as_bytes()[..n]) {
        *o = *b as c_char;
    }
    // SAFETY: not NULL (checked above); the caller guarantees room for one
    // `TrellisError`. `write` does not read the old contents, which may be
    // uninitialised.
    unsafe { err.write(out) };
}

fn status(e: &TableError) -> TrellisStatus {
    match e {
        TableError::Io(_) => TrellisStatus::Io,
        TableError::NotATable => TrellisStatus::NotATable,
        TableError::Version(_) => TrellisStatus::Version,
        TableError::Truncated { .. } => TrellisStatus::Truncated,
        TableError::Checksum => TrellisStatus::Checksum,
        TableError::Corrupt(_) => TrellisStatus::Corrupt,
    }
}

/// A table for C, or the code and message of why there is none.
fn opening(
    opened: Result<Table, TableError>,
) -> Result<Box<TrellisTable>, (TrellisStatus, String)> {
    match opened {
        Ok(table) => Ok(Box::new(TrellisTable::new(table))),
        Err(e) => Err((status(&e), e.to_string())),
    }
}

/// The outcome of an open as a pointer for C, reported in `err`.
///
/// # Safety
/// As `report`.
#[allow(unsafe_code)]
unsafe fn opened(
    err: *mut TrellisError,
    outcome: std::thread::Result<Result<Box<TrellisTable>, (TrellisStatus, String)>>,
) -> *mut TrellisTable {
    let (code, message) = match outcome {
        Ok(Ok(table)) => {
            // SAFETY: as this function's contract.
            unsafe { report(err, TrellisStatus::Ok, "") };
            return Box::into_raw(table);
        }
        Ok(Err(e)) => e,
        Err(_) => (
            TrellisStatus::Panic,
            "internal error in trellis (a bug: please report it)".to_owned(),
        ),
    };
    // SAFETY: as this function's contract.
    unsafe { report(err, code, &message) };
    std::ptr::null_mut()
}

/// Opens the table file at `path` (a NUL-terminated path) and checks it:
/// header, version, checksum and structure. The file is mapped, not read:
/// pages enter memory as questions touch them. Replace a table by writing
/// a new file and renaming it over the old one; a table open on the old
/// file keeps answering from it (changing a file in place while it is open
/// is not supported).
///
/// Returns the table, or NULL with the reason in `*err` (when `err` is not
/// NULL). Free the table with `trellis_table_free`.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `err` is NULL or points to
/// writable memory for one `TrellisError`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_table_open(
    path: *const c_char,
    err: *mut TrellisError,
) -> *mut TrellisTable {
    let outcome = std::panic::catch_unwind(|| {
        if path.is_null() {
            return Err((TrellisStatus::NullArgument, "the path is NULL".to_owned()));
        }
        // SAFETY: not NULL (checked above); the caller guarantees a
        // NUL-terminated string alive for the call.
        let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
        let path = path_of(bytes).ok_or((
            TrellisStatus::InvalidArgument,
            "the path is not UTF-8".to_owned(),
        ))?;
        opening(Table::open(path))
    });
    // SAFETY: the caller guarantees `err` as `opened` needs.
    unsafe { opened(err, outcome) }
}

#[cfg(unix)]
fn path_of(bytes: &[u8]) -> Option<&std::path::Path> {
    use std::os::unix::ffi::OsStrExt;
    Some(std::path::Path::new(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> Option<&std::path::Path> {
    std::str::from_utf8(bytes).ok().map(std::path::Path::new)
}

/// Checks a table held in memory (`len` bytes at `bytes`) and opens it.
/// The bytes are copied once, into an aligned buffer: the caller may free
/// them as soon as this returns.
///
/// Returns the table, or NULL with the reason in `*err` (when `err` is not
/// NULL). Free the table with `trellis_table_free`.
///
/// # Safety
/// `bytes` is valid for reading `len` bytes (it may be NULL when `len` is
/// 0); `err` is NULL or points to writable memory for one `TrellisError`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_table_from_bytes(
    bytes: *const u8,
    len: usize,
    err: *mut TrellisError,
) -> *mut TrellisTable {
    let outcome = std::panic::catch_unwind(|| {
        let bytes: &[u8] = if len == 0 {
            &[]
        } else if bytes.is_null() {
            return Err((
                TrellisStatus::NullArgument,
                "the bytes are NULL (with a length)".to_owned(),
            ));
        } else {
            // SAFETY: not NULL (checked above); the caller guarantees `len`
            // readable bytes, alive for the call (they are copied).
            unsafe { std::slice::from_raw_parts(bytes, len) }
        };
        opening(Table::from_bytes(bytes))
    });
    // SAFETY: the caller guarantees `err` as `opened` needs.
    unsafe { opened(err, outcome) }
}

/// Frees a table (NULL is ignored). Every pointer the table gave out (the
/// names) dies with it. No other thread may be using the table.
///
/// # Safety
/// `t` is NULL or a pointer from `trellis_table_open` or
/// `trellis_table_from_bytes` that has not been freed yet.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_table_free(t: *mut TrellisTable) {
    if t.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: not NULL (checked above); the caller guarantees it came
        // from `Box::into_raw` in `opened` and is freed once.
        drop(unsafe { Box::from_raw(t) });
    });
}

/// The major version of the table format this library reads (tables of
/// any other are refused with `TRELLIS_STATUS_VERSION`).
#[allow(unsafe_code)]
#[no_mangle]
pub extern "C" fn trellis_format_version() -> u32 {
    trellis_table::format::VERSION
}

/// The hash of the policy files the table was compiled from (as `trellis`
/// prints it, in 16 hexadecimal digits); 0 for a NULL table.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_table_input_hash(t: *const TrellisTable) -> u64 {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let Some(t) = (unsafe { table(t) }) else {
        return 0;
    };
    guard(0, || t.table.input_hash())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_answers_the_fallback() {
        assert_eq!(guard(7, || -> i32 { panic!("boom") }), 7);
        assert_eq!(guard(7, || 8), 8);
    }

    #[test]
    #[allow(unsafe_code)]
    fn messages_are_cut_at_a_character_boundary() {
        let mut e = TrellisError {
            code: TrellisStatus::Panic,
            message: [1; TRELLIS_MESSAGE_CAPACITY],
        };
        let long = "é".repeat(300);
        // SAFETY: `e` is a live, writable `TrellisError`.
        unsafe { report(&mut e, TrellisStatus::Corrupt, &long) };
        // SAFETY: `report` NUL-terminates within the buffer.
        let text = unsafe { CStr::from_ptr(e.message.as_ptr()) };
        assert_eq!(text.to_str().ok(), Some("é".repeat(127).as_str()));
        assert_eq!(e.code, TrellisStatus::Corrupt);
    }

    #[test]
    fn handles_out_of_range_are_none() {
        assert_eq!(handle(-1, 10), None);
        assert_eq!(handle(10, 10), None);
        assert_eq!(handle(i64::MAX, usize::MAX), None);
        assert_eq!(handle(3, 10), Some(3));
    }
}
