//! The questions: decisions, effective roles, who may, publication and
//! delegated administration. Each answers false (or an empty list) for a
//! NULL table and for any unknown handle.
//!
//! Lists use the two-call pattern: the function writes at most `cap`
//! handles to `out` and returns how many there are in all, so a caller
//! asks once with `cap` 0 (and `out` NULL) for the length, then again
//! with a buffer that long. The answer is computed on each call.

use std::ffi::c_char;

use trellis_table::{Dimension, Org, Perm, Resource, Role, User};

use crate::{guard, handle, table, text, TrellisTable, TRELLIS_NO_RESOURCE};

impl TrellisTable {
    fn user_of(&self, h: i64) -> Option<User> {
        handle(h, self.table.user_count()).map(User)
    }
    fn org_of(&self, h: i64) -> Option<Org> {
        handle(h, self.table.org_count()).map(Org)
    }
    fn role_of(&self, h: i64) -> Option<Role> {
        handle(h, self.table.role_count()).map(Role)
    }
    /// Permissions are not counted on the hot path: the table answers
    /// false for one past the last.
    fn perm_of(&self, h: i64) -> Option<Perm> {
        u32::try_from(h).ok().map(Perm)
    }
    /// `Some(None)` for `TRELLIS_NO_RESOURCE`; `None` for an unknown one.
    fn resource_of(&self, h: i64) -> Option<Option<Resource>> {
        if h == TRELLIS_NO_RESOURCE {
            return Some(None);
        }
        handle(h, self.resources).map(|q| Some(Resource(q)))
    }
}

/// Asks `t` (false for NULL or a panic).
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
unsafe fn ask(t: *const TrellisTable, f: impl FnOnce(&TrellisTable) -> Option<bool>) -> bool {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let Some(t) = (unsafe { table(t) }) else {
        return false;
    };
    guard(false, || f(t).unwrap_or(false))
}

/// Writes the first `cap` of `list` to `out`; returns the length of `list`.
///
/// # Safety
/// `t` is NULL or a live table; `out` is NULL or valid for writing `cap`
/// `int64_t`s.
#[allow(unsafe_code)]
unsafe fn list(
    t: *const TrellisTable,
    out: *mut i64,
    cap: usize,
    f: impl FnOnce(&TrellisTable) -> Option<Vec<u32>>,
) -> usize {
    // SAFETY: the caller guarantees `t` as `table` needs.
    let Some(t) = (unsafe { table(t) }) else {
        return 0;
    };
    let all = guard(None, || f(t)).unwrap_or_default();
    if !out.is_null() {
        for (i, h) in all.iter().take(cap).enumerate() {
            // SAFETY: not NULL (checked above), and `i < cap`: the caller
            // guarantees room for `cap` values.
            unsafe { out.add(i).write(i64::from(*h)) };
        }
    }
    all.len()
}

/// May `user` do `permission` at `org`: the whole module (for a module of
/// resources, only grants unrestricted on its dimension count)? No
/// allocation, no lock.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_allow(
    t: *const TrellisTable,
    user: i64,
    permission: i64,
    org: i64,
) -> bool {
    // SAFETY: as this function's contract.
    unsafe {
        ask(t, |t| {
            Some(
                t.table
                    .allow(t.user_of(user)?, t.perm_of(permission)?, t.org_of(org)?),
            )
        })
    }
}

/// May `user` do `permission` on `resource` at `org`? `org` must be the
/// resource's org when it has one (`trellis_resource_org`); a resource of
/// no org is asked about at any org. With `TRELLIS_NO_RESOURCE`, as
/// `trellis_allow`; with `TRELLIS_NOT_FOUND` (a failed lookup), false.
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_allow_on(
    t: *const TrellisTable,
    user: i64,
    permission: i64,
    org: i64,
    resource: i64,
) -> bool {
    // SAFETY: as this function's contract.
    unsafe {
        ask(t, |t| {
            Some(t.table.allow_on(
                t.user_of(user)?,
                t.perm_of(permission)?,
                t.org_of(org)?,
                t.resource_of(resource)?,
            ))
        })
    }
}

/// `trellis_allow_on` by name: user id, `module:action`, org id and
/// resource id, each NUL-terminated. `resource` may be NULL (the whole
/// module); `org` may be NULL when `resource` belongs to an org (it is
/// asked there). Any unknown name answers false.
///
/// # Safety
/// `t` is NULL or a live table; each string is NULL or NUL-terminated.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_allow_names(
    t: *const TrellisTable,
    user: *const c_char,
    permission: *const c_char,
    org: *const c_char,
    resource: *const c_char,
) -> bool {
    // SAFETY: the caller guarantees each string as `text` needs.
    let (user, permission, org, resource) =
        unsafe { (text(user), text(permission), text(org), text(resource)) };
    // SAFETY: as this function's contract.
    unsafe {
        ask(t, |t| {
            let (index, table) = (t.index(), &t.table);
            let u = index.user(table, user?)?;
            let p = index.permission(table, permission?)?;
            let q = match resource {
                Some(name) => Some(index.resource(table, name)?),
                None => None,
            };
            let x = match (org, q) {
                (Some(name), _) => index.org(table, name)?,
                (None, Some(q)) => table.resource_org(q)?,
                (None, None) => return None,
            };
            Some(table.allow_on(u, p, x, q))
        })
    }
}

/// The effective roles of `user` at `org`, sorted by display name (a role
/// held for some resources only is held): at most `cap` handles written
/// to `out`, how many there are returned.
///
/// # Safety
/// `t` is NULL or a live table; `out` is NULL or valid for writing `cap`
/// `int64_t`s.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_roles(
    t: *const TrellisTable,
    user: i64,
    org: i64,
    out: *mut i64,
    cap: usize,
) -> usize {
    // SAFETY: as this function's contract.
    unsafe {
        list(t, out, cap, |t| {
            let roles = t.table.roles(t.user_of(user)?, t.org_of(org)?);
            Some(roles.into_iter().map(|r| r.0).collect())
        })
    }
}

/// Every user allowed `permission` at `org` (the whole module), by
/// handle: at most `cap` written to `out`, how many there are returned.
/// It asks every user of the table.
///
/// # Safety
/// `t` is NULL or a live table; `out` is NULL or valid for writing `cap`
/// `int64_t`s.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_who(
    t: *const TrellisTable,
    permission: i64,
    org: i64,
    out: *mut i64,
    cap: usize,
) -> usize {
    // SAFETY: as this function's contract.
    unsafe { trellis_who_on(t, permission, org, TRELLIS_NO_RESOURCE, out, cap) }
}

/// Every user allowed `permission` on `resource` at `org` (with
/// `TRELLIS_NO_RESOURCE`, as `trellis_who`), by handle: at most `cap`
/// written to `out`, how many there are returned.
///
/// # Safety
/// `t` is NULL or a live table; `out` is NULL or valid for writing `cap`
/// `int64_t`s.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_who_on(
    t: *const TrellisTable,
    permission: i64,
    org: i64,
    resource: i64,
    out: *mut i64,
    cap: usize,
) -> usize {
    // SAFETY: as this function's contract.
    unsafe {
        list(t, out, cap, |t| {
            let users = t.table.who_on(
                t.perm_of(permission)?,
                t.org_of(org)?,
                t.resource_of(resource)?,
            );
            Some(users.into_iter().map(|u| u.0).collect())
        })
    }
}

/// Is `role` published at `org` (visible there, so assignable there)?
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_published(t: *const TrellisTable, role: i64, org: i64) -> bool {
    // SAFETY: as this function's contract.
    unsafe {
        ask(t, |t| {
            Some(t.table.published(t.role_of(role)?, t.org_of(org)?))
        })
    }
}

/// May `admin` give `role` to `user` at `org`, with no resources on the
/// assignment (delegated administration)?
///
/// # Safety
/// `t` is NULL or a live table.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_can_assign(
    t: *const TrellisTable,
    admin: i64,
    role: i64,
    user: i64,
    org: i64,
) -> bool {
    // SAFETY: as this function's contract.
    unsafe { trellis_can_assign_with(t, admin, role, user, org, std::ptr::null(), 0) }
}

/// The resources of one dimension that an assignment names, for
/// `trellis_can_assign_with`.
#[repr(C)]
pub struct TrellisAssignmentResources {
    /// A dimension handle (`trellis_dimension`).
    pub dimension: i64,
    /// `count` resource handles of that dimension (NULL when `count` is 0).
    pub resources: *const i64,
    /// How many handles `resources` holds.
    pub count: usize,
}

/// May `admin` give `role` to `user` at `org` with the assignment naming
/// `given` (`given_count` entries, one per dimension; NULL when 0)? Beyond
/// `trellis_can_assign`, the assignment must name every dimension the role
/// requires, and what it reaches must lie within what `admin` manages.
/// An unknown dimension or resource handle answers false.
///
/// # Safety
/// `t` is NULL or a live table; `given` is NULL or valid for reading
/// `given_count` entries, each of whose `resources` is NULL or valid for
/// reading its `count` handles.
#[allow(unsafe_code)]
#[no_mangle]
pub unsafe extern "C" fn trellis_can_assign_with(
    t: *const TrellisTable,
    admin: i64,
    role: i64,
    user: i64,
    org: i64,
    given: *const TrellisAssignmentResources,
    given_count: usize,
) -> bool {
    let entries: &[TrellisAssignmentResources] = match (given.is_null(), given_count) {
        (_, 0) => &[],
        (true, _) => return false,
        // SAFETY: not NULL (matched above); the caller guarantees
        // `given_count` readable entries, alive for the call.
        (false, n) => unsafe { std::slice::from_raw_parts(given, n) },
    };
    let mut lists: Vec<(i64, &[i64])> = Vec::with_capacity(entries.len());
    for e in entries {
        let resources: &[i64] = match (e.resources.is_null(), e.count) {
            (_, 0) => &[],
            (true, _) => return false,
            // SAFETY: not NULL (matched above); the caller guarantees
            // `count` readable handles, alive for the call.
            (false, n) => unsafe { std::slice::from_raw_parts(e.resources, n) },
        };
        lists.push((e.dimension, resources));
    }
    // SAFETY: as this function's contract.
    unsafe {
        ask(t, |t| {
            let mut owned: Vec<(Dimension, Vec<Resource>)> = Vec::with_capacity(lists.len());
            for (dim, resources) in &lists {
                let dim = Dimension(u32::try_from(*dim).ok()?);
                if t.table.dimension(t.table.dimension_name(dim)) != Some(dim) {
                    return None;
                }
                let resources = resources
                    .iter()
                    .map(|q| handle(*q, t.resources).map(Resource))
                    .collect::<Option<Vec<_>>>()?;
                owned.push((dim, resources));
            }
            let borrowed: Vec<(Dimension, &[Resource])> =
                owned.iter().map(|(d, r)| (*d, r.as_slice())).collect();
            Some(t.table.can_assign_with(
                t.user_of(admin)?,
                t.role_of(role)?,
                t.user_of(user)?,
                t.org_of(org)?,
                &borrowed,
            ))
        })
    }
}
