//! What the set knows about the name under the cursor, as Markdown.

use std::collections::BTreeSet;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, TextDocumentPositionParams};

use super::navigate::Sym;
use super::workspace::{offset, range};
use super::{Failure, Server};
use crate::model::{Grant, Model, OrgId, RoleId, Scope, Target};

/// The hover text of the name under the cursor.
pub(super) fn hover(
    server: &mut Server,
    p: &TextDocumentPositionParams,
) -> Result<Option<Hover>, Failure> {
    let (ws, path) = server.workspace_of(&p.text_document.uri)?;
    let Some((a, id)) = ws.file(&path) else {
        return Ok(None);
    };
    let Some(file) = a.sources().get(id) else {
        return Ok(None);
    };
    let Some(index) = ws.index() else {
        return Ok(None);
    };
    let Some(occ) = index.at(id, offset(file, p.position)) else {
        return Ok(None);
    };
    let m = &a.checked.model;
    let text = match &occ.sym {
        Sym::Role(r) => role(m, *r),
        Sym::Org(o) => match m.org_index.get(o) {
            Some(o) => org(m, *o),
            None => return Ok(None),
        },
        Sym::User(u) => match m.user_index.get(u) {
            Some(u) => user(
                m,
                *u,
                occ.at_org
                    .as_ref()
                    .and_then(|o| m.org_index.get(o))
                    .copied(),
            ),
            None => return Ok(None),
        },
        Sym::Perm(p) => perm(m, p),
        Sym::Module(md) => match m.module_index.get(md) {
            Some(i) => {
                let module = &m.modules[i.index()];
                let mut s = format!(
                    "**module** `{md}`\n\nactions: {}",
                    module.actions.join(", ")
                );
                if module.gated {
                    s.push_str("\n\ngated: needs an access policy naming it");
                }
                if let Some(d) = &module.description {
                    s.push_str(&format!("\n\n{d}"));
                }
                s
            }
            None => return Ok(None),
        },
        Sym::Policy(pol) => match m.policy_index.get(pol) {
            Some(i) => {
                let policy = &m.policies[i.index()];
                let modules: Vec<&str> = policy
                    .modules
                    .iter()
                    .map(|md| m.modules[md.index()].id.as_str())
                    .collect();
                let mut s = format!(
                    "**access policy** `{pol}`\n\nmodules: {}",
                    modules.join(", ")
                );
                if let Some(d) = &policy.description {
                    s.push_str(&format!("\n\n{d}"));
                }
                s
            }
            None => return Ok(None),
        },
        Sym::Kind(k) => format!("**org kind** `{k}`"),
        Sym::Dimension(d) => format!("**dimension** `{d}`"),
        Sym::Resource(r) => format!("**resource** `{r}`"),
    };
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(range(a.sources(), occ.span)),
    }))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = items.into_iter().collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

/// Everything said about a role.
pub(crate) fn role(m: &Model, r: RoleId) -> String {
    let role = m.role(r);
    let mut s = format!("**role** `{}`", m.role_qualified(r));
    s.push_str(&format!(
        "\n\nowner: {}",
        match role.owner {
            Scope::Provider => "the provider".to_owned(),
            Scope::Org(o) => format!("org `{}`", m.org(o).id),
        }
    ));
    if role.locked {
        s.push_str(" · **locked** (provider-managed, read-only for tenants)");
    }
    if !role.active {
        s.push_str(" · **disabled**");
    }
    if let Some(d) = &role.description {
        s.push_str(&format!("\n\n{d}"));
    }
    let perms = |bits: &fixedbitset::FixedBitSet| {
        list(
            bits.ones()
                .map(|p| format!("`{}`", m.perm_name(crate::model::PermId(p as u32)))),
        )
    };
    // Everything holding it confers: its own and cloned part, and those
    // of every role it includes (active links).
    let mut all = role.perms.clone();
    for x in m.closure_any(r) {
        all.union_with(&m.role(x).perms);
    }
    s.push_str(&format!("\n\npermissions: {}", perms(&all)));
    s.push_str(&format!("\n\n- own: {}", perms(&role.own)));
    if let Some((from, _)) = role.from {
        let mut cloned = role.perms.clone();
        cloned.difference_with(&role.own);
        s.push_str(&format!(
            "\n- cloned from `{}`: {}",
            m.role_display(from),
            perms(&cloned)
        ));
    }
    if !role.includes.is_empty() {
        s.push_str(&format!(
            "\n- includes: {}",
            list(
                role.includes
                    .iter()
                    .map(|(i, _)| format!("`{}`", m.role_display(*i)))
            )
        ));
    }
    let entries = &m.publications[r.index()];
    let mut published: Vec<String> = entries
        .iter()
        .map(|(o, e)| {
            format!(
                "`{}` {}{}",
                m.org(*o).id,
                if e.publish { "published" } else { "withdrawn" },
                if e.locked { " (locked)" } else { "" }
            )
        })
        .collect();
    published.sort();
    let default = match (role.owner, role.published) {
        (_, false) => "unpublished by default".to_owned(),
        (Scope::Provider, true) => "published everywhere by default".to_owned(),
        (Scope::Org(o), true) => format!("published in `{}`'s subtree by default", m.org(o).id),
    };
    s.push_str(&format!("\n\npublication: {default}"));
    if !published.is_empty() {
        s.push_str(&format!("; entries: {}", published.join(", ")));
    }
    // Users whose grants give the role, directly or through an including role.
    let giving: BTreeSet<RoleId> = (0..m.roles.len() as u32)
        .map(RoleId)
        .filter(|x| m.closure_any(*x).contains(&r))
        .collect();
    let holders = holders(m, &giving);
    let direct: BTreeSet<_> = m
        .assignments
        .iter()
        .filter(|a| a.grant == Grant::Role(r))
        .filter_map(|a| match a.target {
            Target::User(u) => Some(u),
            Target::Org => None,
        })
        .collect();
    s.push_str(&format!(
        "\n\nheld by {holders} user(s) ({} assigned it directly)",
        direct.len()
    ));
    s
}

/// How many users a grant of which names a role of `giving` (as
/// `Model::source_roles` counts them: their own assignments, those of their
/// home org and its ancestors, the rules that match them). Found from the
/// grants: one pass over the assignments, then a walk up from each user's
/// home, instead of every user's grants collected into a set.
fn holders(m: &Model, giving: &BTreeSet<RoleId>) -> usize {
    let gives = |g: &Grant| matches!(g, Grant::Role(r) if giving.contains(r));
    let mut by_user = vec![false; m.users.len()];
    let mut by_org = vec![false; m.orgs.len()];
    for a in m.assignments.iter().filter(|a| gives(&a.grant)) {
        let marks = match a.target {
            Target::User(u) => by_user.get_mut(u.index()),
            Target::Org => by_org.get_mut(a.org.index()),
        };
        if let Some(mark) = marks {
            *mark = true;
        }
    }
    let rules: Vec<_> = m
        .rules
        .iter()
        .filter(|r| {
            r.grants
                .iter()
                .any(|g| g.roles.iter().any(|(x, _)| giving.contains(x)))
        })
        .collect();
    (0..m.users.len() as u32)
        .map(crate::model::UserId)
        .filter(|u| {
            by_user[u.index()]
                || m.ancestors(m.user(*u).home).any(|o| by_org[o.index()])
                || rules.iter().any(|r| m.rule_matches(r, *u))
        })
        .count()
}

/// The org's path from the top, its kind, and the roles published there.
pub(crate) fn org(m: &Model, o: OrgId) -> String {
    let org = m.org(o);
    let mut path: Vec<&str> = m.ancestors(o).map(|a| m.org(a).id.as_str()).collect();
    path.reverse();
    let mut s = format!("**org** `{}`\n\npath: {}", org.id, path.join(" / "));
    if let Some(k) = &org.kind_label {
        s.push_str(&format!("\n\nkind: `{k}`"));
    }
    if let Some(d) = &org.description {
        s.push_str(&format!("\n\n{d}"));
    }
    let members = m.users.iter().filter(|u| u.home == o).count();
    s.push_str(&format!(
        "\n\n{} child org(s), {members} member(s)",
        m.children[o.index()].len()
    ));
    let mut roles: Vec<String> = (0..m.roles.len() as u32)
        .map(RoleId)
        .filter(|r| m.published(*r, o) && m.role(*r).active)
        .map(|r| {
            let name = format!("`{}`", m.role_display(r));
            if m.role(r).locked {
                format!("{name} (locked)")
            } else {
                name
            }
        })
        .collect();
    roles.sort();
    s.push_str(&format!("\n\nroles published here: {}", list(roles)));
    let grants: Vec<String> = m
        .assignments
        .iter()
        .filter(|a| a.org == o || (a.inherit && m.in_subtree(o, a.org)))
        .take(20)
        .map(|a| {
            let what = match a.grant {
                Grant::Role(r) => m.role_display(r),
                Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
            };
            let who = match a.target {
                Target::User(u) => m.user(u).id.clone(),
                Target::Org => format!("members of {}", m.org(a.org).id),
            };
            format!(
                "`{what}` → {who}{}",
                if a.locked { " (locked)" } else { "" }
            )
        })
        .collect();
    s.push_str(&format!("\n\ngrants reaching it: {}", list(grants)));
    s
}

/// A user's home, type, and effective roles at `at` (the org of the
/// assignment the user is named in), else at home.
pub(crate) fn user(m: &Model, u: crate::model::UserId, at: Option<OrgId>) -> String {
    let user = m.user(u);
    let home = user.home;
    let at = at.unwrap_or(home);
    let mut s = format!(
        "**user** `{}`\n\nhome: `{}` · type: `{}`{}",
        user.id,
        m.org(home).id,
        user.identity,
        if user.owner { " · owner" } else { "" }
    );
    if let Some(d) = &user.description {
        s.push_str(&format!("\n\n{d}"));
    }
    let roles = m.roles_at(u, at);
    s.push_str(&format!(
        "\n\neffective roles at `{}`: {}",
        m.org(at).id,
        list(roles.iter().map(|r| format!("`{}`", m.role_display(*r))))
    ));
    s
}

fn perm(m: &Model, p: &str) -> String {
    let mut s = format!("**permission** `{p}`");
    if let Some(id) = m.parse_permission(p) {
        let mut roles: Vec<String> = (0..m.roles.len() as u32)
            .map(RoleId)
            .filter(|r| m.role(*r).perms.contains(id.index()))
            .map(|r| format!("`{}`", m.role_display(r)))
            .collect();
        roles.sort();
        s.push_str(&format!("\n\nconferred by: {}", list(roles)));
    } else {
        s.push_str("\n\nnot in the catalog");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count from the grants is the count of users whose
    /// `source_roles` name a role giving `r`, for every role of every
    /// bundled example (rules, org and user assignments, includes).
    #[test]
    fn holders_from_the_grants_are_those_of_every_users_sources() {
        let mut roles_seen = 0;
        for entry in std::fs::read_dir("policies-examples")
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(c) = crate::check_paths(&[entry.path()], &crate::load::Limits::default()) else {
                continue;
            };
            let m = &c.model;
            for r in (0..m.roles.len() as u32).map(RoleId) {
                let giving: BTreeSet<RoleId> = (0..m.roles.len() as u32)
                    .map(RoleId)
                    .filter(|x| m.closure_any(*x).contains(&r))
                    .collect();
                let naive = (0..m.users.len() as u32)
                    .map(crate::model::UserId)
                    .filter(|u| m.source_roles(*u).iter().any(|x| giving.contains(x)))
                    .count();
                assert_eq!(holders(m, &giving), naive, "{}", m.role_qualified(r));
                roles_seen += 1;
            }
        }
        assert!(roles_seen > 20, "only {roles_seen} roles looked at");
    }
}
