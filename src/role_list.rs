//! The role list of a tenant's console (SPEC §15 `trellis roles`): every
//! role published at an org, as a console lists it — name, owner, the role
//! type it was cloned from, status, restrictions and dimensions, locked,
//! whether an admin could assign it there, and how many users hold it
//! somewhere in the org's subtree — with a search over names and
//! descriptions that ignores case.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::*;

/// One role of an org's console list (`trellis roles`).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct RoleRow {
    /// The role itself (not printed: `name` names it).
    #[serde(skip)]
    pub id: RoleId,
    /// As `--roles` names roles: bare, or `owner::name` when shared.
    pub name: String,
    /// `provider` or the owning org's id.
    pub owner: String,
    /// The role it copies its permissions from (`from`), if any.
    pub cloned_from: Option<String>,
    /// `active` or `disabled`.
    pub status: &'static str,
    /// Provider-locked: read-only for tenants.
    pub locked: bool,
    /// Active, not locked and published here: an admin could assign it.
    pub assignable: bool,
    /// Dimension -> resources the role's own permissions are tied to.
    pub restrictions: BTreeMap<String, Vec<String>>,
    /// Dimensions every assignment of it must name.
    pub dimensions: Vec<String>,
    /// May one user hold it several times (once per resource)?
    pub multiple: bool,
    /// Users that hold it at some org of the subtree.
    pub users: usize,
    /// Its free-text description.
    pub description: Option<String>,
}

/// The roles published at `x`, sorted by name; only those whose name or
/// description contains `search` (ignoring case) when given.
pub fn role_list(m: &Model, x: OrgId, search: Option<&str>) -> Vec<RoleRow> {
    rows(m, x, search, holders_in_subtree(m, x))
}

/// What makes the role lists of many orgs cheap (`trellis site` writes one
/// per org): per org, the users homed there or linked there by a user
/// assignment, and per user, its roles at each org where they can change.
/// [`role_list_indexed`] with it gives what [`role_list`] gives.
pub struct Holdings {
    near: Vec<Vec<UserId>>,
    at: Vec<Vec<(OrgId, BTreeSet<RoleId>)>>,
}

impl Holdings {
    /// Computes the lists for every org and user of `m`.
    pub fn new(m: &Model) -> Holdings {
        use rayon::prelude::*;
        let mut near: Vec<Vec<UserId>> = vec![Vec::new(); m.orgs.len()];
        for (ui, user) in m.users.iter().enumerate() {
            let u = UserId(ui as u32);
            near[user.home.index()].push(u);
            for a in &m.user_assignments[ui] {
                near[m.assignments[a.index()].org.index()].push(u);
            }
        }
        let at = (0..m.users.len() as u32)
            .into_par_iter()
            .map(|u| {
                let u = UserId(u);
                m.candidate_orgs(u)
                    .into_iter()
                    .map(|o| (o, m.roles_at(u, o)))
                    .collect()
            })
            .collect();
        Holdings { near, at }
    }

    /// User `u`'s roles at each org where they can change
    /// ([`Model::candidate_orgs`]), in org order.
    pub fn roles_by_org(&self, u: UserId) -> &[(OrgId, BTreeSet<RoleId>)] {
        self.at.get(u.index()).map_or(&[], Vec::as_slice)
    }
}

/// [`role_list`], from the lists of `h` (the same rows, faster when the
/// lists of many orgs are wanted).
pub fn role_list_indexed(m: &Model, x: OrgId, search: Option<&str>, h: &Holdings) -> Vec<RoleRow> {
    // The users `holders_in_subtree` finds relevant: homed in the subtree
    // or above it, or linked into either by a user assignment.
    let lo = m.pre[x.index()] as usize;
    let hi = m.end[x.index()] as usize;
    let mut users: Vec<UserId> = Vec::new();
    for o in m.preorder.get(lo..hi).unwrap_or(&[]) {
        users.extend(&h.near[o.index()]);
    }
    for a in m.ancestors(x).skip(1) {
        users.extend(&h.near[a.index()]);
    }
    users.sort_unstable();
    users.dedup();
    let mut out: BTreeMap<RoleId, BTreeSet<UserId>> = BTreeMap::new();
    for u in users {
        let mut add = |roles: &BTreeSet<RoleId>| {
            for r in roles {
                out.entry(*r).or_default().insert(u);
            }
        };
        let mut x_is_candidate = false;
        for (o, roles) in &h.at[u.index()] {
            if m.in_subtree(*o, x) {
                x_is_candidate |= *o == x;
                add(roles);
            }
        }
        if !x_is_candidate {
            add(&m.roles_at(u, x));
        }
    }
    rows(m, x, search, out)
}

fn rows(
    m: &Model,
    x: OrgId,
    search: Option<&str>,
    holders: BTreeMap<RoleId, BTreeSet<UserId>>,
) -> Vec<RoleRow> {
    let needle = search.map(str::to_lowercase);
    let matches = |r: &Role| {
        needle.as_ref().is_none_or(|n| {
            r.name.to_lowercase().contains(n)
                || r.description
                    .as_ref()
                    .is_some_and(|d| d.to_lowercase().contains(n))
        })
    };
    let roles: Vec<RoleId> = (0..m.roles.len() as u32)
        .map(RoleId)
        .filter(|r| m.published(*r, x) && matches(m.role(*r)))
        .collect();
    let mut rows: Vec<RoleRow> = roles
        .into_iter()
        .map(|id| {
            let r = m.role(id);
            RoleRow {
                id,
                name: m.role_display(id),
                owner: m.scope_name(r.owner).to_owned(),
                cloned_from: r.from.map(|(f, _)| m.role_display(f)),
                status: if r.active { "active" } else { "disabled" },
                locked: r.locked,
                assignable: r.active && !r.locked,
                restrictions: r
                    .resources
                    .entries()
                    .iter()
                    .map(|(d, ids)| {
                        (
                            m.dimensions[d.index()].id.clone(),
                            ids.iter()
                                .map(|q| m.resources[q.index()].id.clone())
                                .collect(),
                        )
                    })
                    .collect(),
                dimensions: r
                    .dimensions
                    .iter()
                    .map(|d| m.dimensions[d.index()].id.clone())
                    .collect(),
                multiple: r.multiple,
                users: holders.get(&id).map_or(0, BTreeSet::len),
                description: r.description.clone(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// Role -> the users that hold it at some org of `x`'s subtree. A user's
/// roles change only at its candidate orgs, and what holds below one holds
/// at it, so those orgs inside the subtree (and `x`) are enough.
fn holders_in_subtree(m: &Model, x: OrgId) -> BTreeMap<RoleId, BTreeSet<UserId>> {
    let mut out: BTreeMap<RoleId, BTreeSet<UserId>> = BTreeMap::new();
    for (ui, user) in m.users.iter().enumerate() {
        let u = UserId(ui as u32);
        // Only users homed in the subtree or above it, or linked into it
        // by a user assignment, can hold anything there.
        let near = |o: OrgId| m.in_subtree(o, x) || m.in_subtree(x, o);
        let relevant = near(user.home)
            || m.user_assignments[ui]
                .iter()
                .any(|a| near(m.assignments[a.index()].org));
        if !relevant {
            continue;
        }
        let mut probes: Vec<OrgId> = m
            .candidate_orgs(u)
            .into_iter()
            .filter(|o| m.in_subtree(*o, x))
            .collect();
        probes.push(x);
        for o in probes {
            for r in m.roles_at(u, o) {
                out.entry(r).or_default().insert(u);
            }
        }
    }
    out
}

/// The list as a console shows it, one role a line.
pub fn human(org: &str, rows: &[RoleRow]) -> String {
    use std::fmt::Write as _;
    let mut s = format!("roles published at `{org}`: {}\n", rows.len());
    for r in rows {
        let mut notes = vec![format!("owner {}", r.owner)];
        if let Some(f) = &r.cloned_from {
            notes.push(format!("cloned from {f}"));
        }
        notes.push(r.status.to_owned());
        if r.locked {
            notes.push("locked by the provider".to_owned());
        } else if !r.assignable {
            notes.push("not assignable".to_owned());
        }
        for (d, ids) in &r.restrictions {
            notes.push(format!("{d}: {}", ids.join(", ")));
        }
        if !r.dimensions.is_empty() {
            notes.push(format!(
                "one assignment per {}{}",
                r.dimensions.join(" and "),
                if r.multiple { ", several allowed" } else { "" }
            ));
        }
        notes.push(format!(
            "{} user{}",
            r.users,
            if r.users == 1 { "" } else { "s" }
        ));
        let _ = write!(s, "  {}  ({})", r.name, notes.join("; "));
        if let Some(d) = &r.description {
            let _ = write!(s, "  — {d}");
        }
        s.push('\n');
    }
    s
}
