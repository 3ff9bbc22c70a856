//! Names to handles and back, and how many of each the table holds.
//!
//! Lookups take NUL-terminated UTF-8 and answer a handle `>= 0` or
//! `TRELLIS_NOT_FOUND`; users, orgs, permissions and resources go through
//! a hash index built on the first lookup, roles and dimensions through
//! the table's sorted names. Names by handle point into the table (or a
//! buffer it owns): valid until `trellis_table_free`, *not* NUL-terminated,
//! their length in `*len`.

use std::ffi::c_char;

use trellis_table::{Dimension, Org, Resource, Role, User};

use crate::{guard, handle, table, text, TrellisTable, TRELLIS_NOT_FOUND};

/// Looks a name up with `find`, answering `TRELLIS_NOT_FOUND` for a NULL
/// table or name, a name that is not UTF-8, or one the table lacks.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
unsafe fn lookup(
    t: *const TrellisTable,
    name: *const c_char,
    find: impl FnOnce(&TrellisTable, &str) -> Option<u32>,
) -> i64 {
    // SAFETY: the caller guarantees `t` as `table` needs and `name` as
    // `text` needs.
    let (Some(t), Some(name)) = (unsafe { table(t) }, unsafe { text(name) }) else {
        return TRELLIS_NOT_FOUND;
    };
    guard(TRELLIS_NOT_FOUND, || {
        find(t, name).map_or(TRELLIS_NOT_FOUND, i64::from)
    })
}

/// Gives a name to C: its first byte, and its length in `*len` (when `len`
/// is not NULL). NULL and a length of 0 for `None`.
///
/// # Safety
/// `len` is NULL or points to a writable `size_t`.
#[allow(unsafe_code)]
unsafe fn give(name: Option<&str>, len: *mut usize) -> *const c_char {
    if !len.is_null() {
        // SAFETY: not NULL (checked above); the caller guarantees a
        // writable `size_t`.
        unsafe { len.write(name.map_or(0, str::len)) };
    }
    name.map_or(std::ptr::null(), |n| n.as_ptr().cast())
}

/// The name of handle `h` through `name` (`None` for an unknown one).
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
unsafe fn name_of<'a>(
    t: *const TrellisTable,
    h: i64,
    len: *mut usize,
    name: impl FnOnce(&'a TrellisTable, i64) -> Option<&'a str>,
) -> *const c_char {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let found = unsafe { table(t) }.and_then(|t| guard(None, || name(t, h)));
    // SAFETY: the caller guarantees `len` as `give` needs.
    unsafe { give(found, len) }
}

/// A count, 0 for a NULL table.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
unsafe fn count(t: *const TrellisTable, n: impl FnOnce(&TrellisTable) -> usize) -> usize {
    // SAFETY: the caller guarantees `t` as `table` needs.
    unsafe { table(t) }.map_or(0, |t| guard(0, || n(t)))
}

/// The user with id `name`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_user(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe { lookup(t, name, |t, n| t.index().user(&t.table, n).map(|u| u.0)) }
}

/// The org with id `name`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_org(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe { lookup(t, name, |t, n| t.index().org(&t.table, n).map(|o| o.0)) }
}

/// The role named `owner::name`, or by its bare name when only one owner
/// has a role of that name; otherwise `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_role(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe { lookup(t, name, |t, n| t.table.role(n).map(|r| r.0)) }
}

/// The permission `module:action`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_permission(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe {
        lookup(t, name, |t, n| {
            t.index().permission(&t.table, n).map(|p| p.0)
        })
    }
}

/// The resource with id `name`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_resource(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe { lookup(t, name, |t, n| t.index().resource(&t.table, n).map(|q| q.0)) }
}

/// The dimension with id `name`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table; `name` is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_dimension(t: *const TrellisTable, name: *const c_char) -> i64 {
    // SAFETY: as this function's contract.
    unsafe { lookup(t, name, |t, n| t.table.dimension(n).map(|d| d.0)) }
}

/// The org resource `resource` belongs to (where questions about it are
/// asked), or `TRELLIS_NOT_FOUND` for a resource of no org (asked about at
/// any org) and for an unknown resource.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_resource_org(t: *const TrellisTable, resource: i64) -> i64 {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let Some(t) = (unsafe { table(t) }) else {
        return TRELLIS_NOT_FOUND;
    };
    guard(TRELLIS_NOT_FOUND, || {
        handle(resource, t.resources)
            .and_then(|q| t.table.resource_org(Resource(q)))
            .map_or(TRELLIS_NOT_FOUND, |o| i64::from(o.0))
    })
}

/// The dimension of resource `resource`, or `TRELLIS_NOT_FOUND`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_resource_dimension(t: *const TrellisTable, resource: i64) -> i64 {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let Some(t) = (unsafe { table(t) }) else {
        return TRELLIS_NOT_FOUND;
    };
    guard(TRELLIS_NOT_FOUND, || {
        handle(resource, t.resources)
            .and_then(|q| t.table.resource_dimension(Resource(q)))
            .map_or(TRELLIS_NOT_FOUND, |d| i64::from(d.0))
    })
}

/// User `user`'s id (not NUL-terminated: its length in `*len`), or NULL
/// for an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_user_name(
    t: *const TrellisTable,
    user: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, user, len, |t, h| {
            handle(h, t.table.user_count()).map(|u| t.table.user_name(User(u)))
        })
    }
}

/// Org `org`'s id (not NUL-terminated: its length in `*len`), or NULL for
/// an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_org_name(
    t: *const TrellisTable,
    org: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, org, len, |t, h| {
            handle(h, t.table.org_count()).map(|o| t.table.org_name(Org(o)))
        })
    }
}

/// Role `role`'s display name: bare when unique in the set, `owner::name`
/// otherwise (either is found again by `trellis_role`). Not NUL-terminated:
/// its length in `*len`. NULL for an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_role_name(
    t: *const TrellisTable,
    role: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, role, len, |t, h| {
            handle(h, t.table.role_count()).map(|r| t.table.role_name(Role(r)))
        })
    }
}

/// Permission `permission` as `module:action` (not NUL-terminated: its
/// length in `*len`), or NULL for an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_permission_name(
    t: *const TrellisTable,
    permission: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, permission, len, |t, h| {
            u32::try_from(h).ok().and_then(|p| t.perms().get(p))
        })
    }
}

/// Resource `resource`'s id (not NUL-terminated: its length in `*len`),
/// or NULL for an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_resource_name(
    t: *const TrellisTable,
    resource: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, resource, len, |t, h| {
            handle(h, t.resources).map(|q| t.table.resource_name(Resource(q)))
        })
    }
}

/// Dimension `dimension`'s id (not NUL-terminated: its length in `*len`),
/// or NULL for an unknown handle.
///
/// # Safety
/// `t` is NULL or a live table; `len` is NULL or a writable `size_t`.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_dimension_name(
    t: *const TrellisTable,
    dimension: i64,
    len: *mut usize,
) -> *const c_char {
    // SAFETY: as this function's contract.
    unsafe {
        name_of(t, dimension, len, |t, h| {
            let d = Dimension(u32::try_from(h).ok()?);
            let name = t.table.dimension_name(d);
            (t.table.dimension(name) == Some(d)).then_some(name)
        })
    }
}

/// How many users the table holds: their handles are `0 .. count - 1`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_user_count(t: *const TrellisTable) -> usize {
    // SAFETY: as this function's contract.
    unsafe { count(t, |t| t.table.user_count()) }
}

/// How many orgs the table holds: their handles are `0 .. count - 1`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_org_count(t: *const TrellisTable) -> usize {
    // SAFETY: as this function's contract.
    unsafe { count(t, |t| t.table.org_count()) }
}

/// How many roles the table holds: their handles are `0 .. count - 1`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_role_count(t: *const TrellisTable) -> usize {
    // SAFETY: as this function's contract.
    unsafe { count(t, |t| t.table.role_count()) }
}

/// How many permissions the table holds: their handles are
/// `0 .. count - 1`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_permission_count(t: *const TrellisTable) -> usize {
    // SAFETY: as this function's contract.
    unsafe { count(t, |t| t.perms().ends.len()) }
}

/// How many resources the table holds: their handles are `0 .. count - 1`.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_resource_count(t: *const TrellisTable) -> usize {
    // SAFETY: as this function's contract.
    unsafe { count(t, |t| t.resources) }
}
