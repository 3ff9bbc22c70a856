//! `trellis show --org X`: what customer X sees (SPEC §11) — its subtree,
//! the roles visible there, its users and what they hold, and every grant
//! that reaches it, provider-locked items marked read-only.

use serde::Serialize;

use crate::model::*;
use crate::source::SourceMap;

/// The customer's view of one org (`trellis show`), also its JSON.
#[derive(Debug, Serialize)]
pub struct View {
    /// The org shown.
    pub org: String,
    /// Its subtree, in preorder.
    pub orgs: Vec<OrgView>,
    /// The roles visible there.
    pub roles: Vec<RoleView>,
    /// Users whose home is in the subtree.
    pub users: Vec<UserView>,
    /// Assignments that reach the subtree.
    pub assignments: Vec<AssignmentView>,
    /// Publication entries inside the subtree, and those above that decide at the org.
    pub publications: Vec<PublicationView>,
    /// Automatic rules that match a user of the subtree.
    pub rules: Vec<RuleView>,
    /// Resources of the subtree's orgs, and those of no org (SPEC §15).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceView>,
}

/// A resource visible from the org.
#[derive(Debug, Serialize)]
pub struct ResourceView {
    /// Its id.
    pub id: String,
    /// Its dimension.
    pub dimension: String,
    /// `None`: available at every org.
    pub org: Option<String>,
    /// Roles whose own permissions are tied to it.
    pub roles: Vec<String>,
    /// Assignments (`role -> whom @ org`) restricted to it.
    pub assignments: Vec<String>,
    /// Written by the provider: visible, not changeable here.
    pub read_only: bool,
}

/// A restriction by names, `dimension: a, b`, dimensions separated by `; `.
pub(crate) fn restriction_text(m: &Model, r: &Restriction) -> Vec<String> {
    r.entries()
        .iter()
        .map(|(d, ids)| {
            let ids: Vec<&str> = ids
                .iter()
                .map(|q| m.resources[q.index()].id.as_str())
                .collect();
            format!("{}: {}", m.dimensions[d.index()].id, ids.join(", "))
        })
        .collect()
}

/// One org of the subtree.
#[derive(Debug, Serialize)]
pub struct OrgView {
    /// Its id.
    pub id: String,
    /// Its parent's id (none for a root).
    pub parent: Option<String>,
    /// Its kind, if it has one.
    pub kind: Option<String>,
    /// Levels below the org shown.
    pub depth: u32,
}

/// A role visible at the org.
#[derive(Debug, Serialize)]
pub struct RoleView {
    /// Its name, as displayed.
    pub name: String,
    /// `provider` or the owning org's id.
    pub owner: String,
    /// `active` or `disabled`.
    pub status: &'static str,
    /// What holding it alone confers (own grants and the cloned part).
    pub permissions: Vec<String>,
    /// The roles it includes, as displayed.
    pub includes: Vec<String>,
    /// Written by the provider: visible, not changeable here.
    pub read_only: bool,
    /// Locked by the provider (SPEC §8).
    pub locked: bool,
    /// What its own permissions are tied to (SPEC §15).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// A user whose home is in the subtree.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Its id.
    pub id: String,
    /// Its home org.
    pub home: String,
    /// Its identity type.
    pub identity: String,
    /// Is it an owner of its home org?
    pub owner: bool,
    /// Effective roles at the home org.
    pub roles: Vec<String>,
    /// Roles at the home org that come from a provider lock.
    pub locked_roles: Vec<String>,
}

/// An assignment that reaches the subtree.
#[derive(Debug, Serialize)]
pub struct AssignmentView {
    /// The role or policy given.
    pub grant: String,
    /// The user, or every member of the org.
    pub to: String,
    /// The org it is made at.
    pub org: String,
    /// Does it reach the org's descendants?
    pub inherit: bool,
    /// The scope of the file that writes it.
    pub written_by: String,
    /// `file:line` where it is written.
    pub source: String,
    /// Not changeable from the org shown.
    pub read_only: bool,
    /// Locked by the provider (SPEC §8).
    pub locked: bool,
    /// What everything it gives is tied to (SPEC §15).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// A publication entry (SPEC §5).
#[derive(Debug, Serialize)]
pub struct PublicationView {
    /// The role, as displayed.
    pub role: String,
    /// The org of the entry.
    pub org: String,
    /// Published (`true`) or withdrawn.
    pub publish: bool,
    /// The scope of the file that writes it.
    pub written_by: String,
    /// `file:line` where it is written.
    pub source: String,
    /// Not changeable from the org shown.
    pub read_only: bool,
    /// Locked by the provider (SPEC §8).
    pub locked: bool,
}

/// An automatic rule that matches users of the subtree.
#[derive(Debug, Serialize)]
pub struct RuleView {
    /// Its name (`unnamed` when it has none).
    pub name: String,
    /// The scope of the file that writes it.
    pub written_by: String,
    /// The users of the subtree it matches.
    pub matches: Vec<String>,
    /// `file:line` where it is written.
    pub source: String,
    /// Written by the provider: not changeable here.
    pub read_only: bool,
    /// Locked by the provider (SPEC §8).
    pub locked: bool,
}

pub(crate) fn at(sources: &SourceMap, span: crate::source::Span) -> String {
    let (s, _) = sources.line_col(span);
    format!("{}:{}", sources.path(span.file), s.line)
}

/// A user's row: its effective roles at its home org, and those a provider
/// lock gives.
pub fn user_view(m: &Model, uid: UserId) -> UserView {
    let u = m.user(uid);
    let hits = m.hits(uid, u.home);
    let held = m.closure(&u.identity, m.base_roles(uid, u.home, &hits));
    let locked_base: Vec<RoleId> = hits
        .iter()
        .filter(|h| h.locked)
        .filter_map(|h| match h.grant {
            Grant::Role(r) if m.published(r, u.home) => Some(r),
            _ => None,
        })
        .collect();
    let locked = m.closure(&u.identity, locked_base);
    let mut names: Vec<String> = held.iter().map(|r| m.role_display(*r)).collect();
    names.sort();
    let mut locked_names: Vec<String> = locked.iter().map(|r| m.role_display(*r)).collect();
    locked_names.sort();
    UserView {
        id: u.id.clone(),
        home: m.org(u.home).id.clone(),
        identity: u.identity.clone(),
        owner: u.owner,
        roles: names,
        locked_roles: locked_names,
    }
}

/// Does assignment `a` reach org `x`'s subtree: made inside it, or made
/// above it with `inherit` for every member or for a user homed inside?
pub fn assignment_reaches(m: &Model, a: &Assignment, x: OrgId) -> bool {
    let inside = m.in_subtree(a.org, x);
    let from_above = a.inherit && m.in_subtree(x, a.org) && a.org != x;
    inside
        || (from_above
            && match a.target {
                Target::User(u) => m.in_subtree(m.user(u).home, x),
                Target::Org => true,
            })
}

/// An assignment's row, as seen from org `x`.
pub fn assignment_view(m: &Model, sources: &SourceMap, a: &Assignment, x: OrgId) -> AssignmentView {
    AssignmentView {
        grant: match a.grant {
            Grant::Role(r) => m.role_display(r),
            Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
        },
        to: match a.target {
            Target::User(u) => m.user(u).id.clone(),
            Target::Org => format!("every member of {}", m.org(a.org).id),
        },
        org: m.org(a.org).id.clone(),
        inherit: a.inherit,
        written_by: m.scope_name(a.scope).to_owned(),
        source: at(sources, a.span),
        read_only: a.locked || !m.in_scope(a.org, Scope::Org(x)) || a.scope == Scope::Provider,
        locked: a.locked,
        resources: restriction_text(m, &a.resources),
    }
}

/// A publication entry's row (role `r`, at org `o`), as seen from org `x`.
pub fn publication_view(
    m: &Model,
    sources: &SourceMap,
    r: RoleId,
    o: OrgId,
    e: &PublicationEntry,
    x: OrgId,
) -> PublicationView {
    PublicationView {
        role: m.role_display(r),
        org: m.org(o).id.clone(),
        publish: e.publish,
        written_by: m.scope_name(e.scope).to_owned(),
        source: at(sources, e.span),
        read_only: e.locked || e.scope == Scope::Provider || !m.in_subtree(o, x),
        locked: e.locked,
    }
}

/// The view of org `x` and its subtree.
pub fn view(m: &Model, sources: &SourceMap, x: OrgId) -> View {
    let lo = m.pre[x.index()] as usize;
    let hi = m.end[x.index()] as usize;
    let subtree: Vec<OrgId> = m.preorder.get(lo..hi).unwrap_or(&[]).to_vec();
    let orgs = subtree
        .iter()
        .map(|o| OrgView {
            id: m.org(*o).id.clone(),
            parent: m.org(*o).parent.map(|p| m.org(p).id.clone()),
            kind: m.org(*o).kind_label.clone(),
            depth: m.depth[o.index()] - m.depth[x.index()],
        })
        .collect();
    let mut roles = Vec::new();
    for (ri, r) in m.roles.iter().enumerate() {
        let id = RoleId(ri as u32);
        let owned_inside = matches!(r.owner, Scope::Org(o) if m.in_subtree(o, x));
        if !owned_inside && !m.published(id, x) {
            continue;
        }
        roles.push(RoleView {
            name: m.role_display(id),
            owner: m.scope_name(r.owner).to_owned(),
            status: if r.active { "active" } else { "disabled" },
            permissions: r
                .perms
                .ones()
                .map(|p| m.perm_name(PermId(p as u32)))
                .collect(),
            includes: r.includes.iter().map(|(i, _)| m.role_display(*i)).collect(),
            read_only: r.locked || r.owner == Scope::Provider,
            locked: r.locked,
            resources: restriction_text(m, &r.resources),
        });
    }
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    let mut users = Vec::new();
    for (ui, u) in m.users.iter().enumerate() {
        if !m.in_subtree(u.home, x) {
            continue;
        }
        users.push(user_view(m, UserId(ui as u32)));
    }
    // Assignments that reach the subtree: made inside it, or made above it with
    // `inherit` (org assignments reaching its members, user links).
    let mut assignments = Vec::new();
    for a in &m.assignments {
        if !assignment_reaches(m, a, x) {
            continue;
        }
        assignments.push(assignment_view(m, sources, a, x));
    }
    let mut publications = Vec::new();
    for (ri, entries) in m.publications.iter().enumerate() {
        let mut list: Vec<(&OrgId, &PublicationEntry)> = entries.iter().collect();
        list.sort_by_key(|(o, _)| m.pre[o.index()]);
        for (o, e) in list {
            // Entries inside the subtree, and the ones above that decide at `x`.
            let decides_here = !m.in_subtree(*o, x)
                && matches!(m.publication(RoleId(ri as u32), x), crate::eval::Publication::Entry(a, _) if a == *o);
            if !m.in_subtree(*o, x) && !decides_here {
                continue;
            }
            publications.push(publication_view(m, sources, RoleId(ri as u32), *o, e, x));
        }
    }
    let mut rules = Vec::new();
    for rule in &m.rules {
        let matched: Vec<String> = m
            .users
            .iter()
            .enumerate()
            .filter(|(ui, u)| m.in_subtree(u.home, x) && m.rule_matches(rule, UserId(*ui as u32)))
            .map(|(_, u)| u.id.clone())
            .collect();
        if matched.is_empty() {
            continue;
        }
        rules.push(RuleView {
            name: rule.name.clone().unwrap_or_else(|| "unnamed".into()),
            written_by: m.scope_name(rule.scope).to_owned(),
            matches: matched,
            source: at(sources, rule.span),
            read_only: rule.locked || rule.scope == Scope::Provider,
            locked: rule.locked,
        });
    }
    let mut resources = Vec::new();
    for (qi, res) in m.resources.iter().enumerate() {
        if res.org.is_some_and(|o| !m.in_subtree(o, x)) {
            continue;
        }
        let q = ResId(qi as u32);
        let tied = |r: &Restriction| r.on(res.dim).is_some_and(|v| v.contains(&q));
        let mut role_names: Vec<String> = (0..m.roles.len())
            .filter(|r| tied(&m.roles[*r].resources))
            .map(|r| m.role_display(RoleId(r as u32)))
            .collect();
        role_names.sort();
        let mut given: Vec<String> = m
            .assignments
            .iter()
            .filter(|a| m.in_subtree(a.org, x) || (a.inherit && m.in_subtree(x, a.org)))
            .filter(|a| tied(&a.resources))
            .map(|a| {
                let grant = match a.grant {
                    Grant::Role(r) => m.role_display(r),
                    Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
                };
                let to = match a.target {
                    Target::User(u) => m.user(u).id.clone(),
                    Target::Org => format!("every member of {}", m.org(a.org).id),
                };
                format!("{grant} -> {to} @ {}", m.org(a.org).id)
            })
            .collect();
        given.sort();
        resources.push(ResourceView {
            id: res.id.clone(),
            dimension: m.dimensions[res.dim.index()].id.clone(),
            org: res.org.map(|o| m.org(o).id.clone()),
            roles: role_names,
            assignments: given,
            read_only: res.scope == Scope::Provider
                || !matches!(res.scope, Scope::Org(s) if m.in_subtree(s, x)),
        });
    }
    users.sort_by(|a, b| a.id.cmp(&b.id));
    // Stable whatever the files are named: by place, then what, then whom.
    assignments.sort_by(|a, b| {
        (&a.org, &a.grant, &a.to, &a.source).cmp(&(&b.org, &b.grant, &b.to, &b.source))
    });
    publications.sort_by(|a, b| (&a.role, &a.org).cmp(&(&b.role, &b.org)));
    rules.sort_by(|a, b| (&a.written_by, &a.name).cmp(&(&b.written_by, &b.name)));
    View {
        org: m.org(x).id.clone(),
        orgs,
        roles,
        users,
        assignments,
        publications,
        rules,
        resources,
    }
}

/// The view for a terminal.
pub fn human(v: &View) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let ro = |read_only: bool, locked: bool| match (read_only, locked) {
        (_, true) => "  [locked by the provider: read-only]",
        (true, false) => "  [provider: read-only]",
        _ => "",
    };
    let _ = writeln!(out, "org `{}`\n\norgs:", v.org);
    for o in &v.orgs {
        let kind = o
            .kind
            .as_ref()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}{}{kind}", "  ".repeat(o.depth as usize), o.id);
    }
    let _ = writeln!(out, "\nroles visible here:");
    for r in &v.roles {
        let status = if r.status == "disabled" {
            " (disabled)"
        } else {
            ""
        };
        let inc = if r.includes.is_empty() {
            String::new()
        } else {
            format!(" (includes {})", r.includes.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} [{}]{inc}{status}: {}{}{}",
            r.name,
            r.owner,
            r.permissions.join(", "),
            if r.resources.is_empty() {
                String::new()
            } else {
                format!(" (on {})", r.resources.join("; "))
            },
            ro(r.read_only, r.locked)
        );
    }
    let _ = writeln!(out, "\nusers:");
    for u in &v.users {
        let locked = if u.locked_roles.is_empty() {
            String::new()
        } else {
            format!("  [locked by the provider: {}]", u.locked_roles.join(", "))
        };
        let _ = writeln!(
            out,
            "  {} @ {} ({}{}): {}{locked}",
            u.id,
            u.home,
            u.identity,
            if u.owner { ", owner" } else { "" },
            u.roles.join(", ")
        );
    }
    let _ = writeln!(out, "\nassignments:");
    for a in &v.assignments {
        let _ = writeln!(
            out,
            "  {} -> {} at {}{}{} (by {}, {}){}",
            a.grant,
            a.to,
            a.org,
            if a.inherit { " and below" } else { " only" },
            if a.resources.is_empty() {
                String::new()
            } else {
                format!(" for {}", a.resources.join("; "))
            },
            a.written_by,
            a.source,
            ro(a.read_only, a.locked)
        );
    }
    if !v.publications.is_empty() {
        let _ = writeln!(out, "\npublications:");
        for p in &v.publications {
            let _ = writeln!(
                out,
                "  {} {} at {} (by {}, {}){}",
                p.role,
                if p.publish {
                    "published"
                } else {
                    "not published"
                },
                p.org,
                p.written_by,
                p.source,
                ro(p.read_only, p.locked)
            );
        }
    }
    if !v.resources.is_empty() {
        let _ = writeln!(out, "\nresources:");
        for r in &v.resources {
            let mut what = Vec::new();
            if !r.roles.is_empty() {
                what.push(format!("roles {}", r.roles.join(", ")));
            }
            if !r.assignments.is_empty() {
                what.push(format!("assignments {}", r.assignments.join("; ")));
            }
            let _ = writeln!(
                out,
                "  {} ({}, {}){}{}",
                r.id,
                r.dimension,
                r.org
                    .as_deref()
                    .map_or("every org".to_owned(), |o| format!("of {o}")),
                if what.is_empty() {
                    String::new()
                } else {
                    format!(": {}", what.join("; "))
                },
                ro(r.read_only, false)
            );
        }
    }
    if !v.rules.is_empty() {
        let _ = writeln!(out, "\nautomatic rules:");
        for r in &v.rules {
            let _ = writeln!(
                out,
                "  {} (by {}, {}): {}{}",
                r.name,
                r.written_by,
                r.source,
                r.matches.join(", "),
                ro(r.read_only, r.locked)
            );
        }
    }
    out
}
