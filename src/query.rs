//! Answers to "may this user do this, here?" from a resolved set, with the
//! derivation for `--explain` (SPEC §5, §11, §14.8).

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::eval::{Hit, Origin, Publication};
use crate::model::*;
use crate::source::{SourceMap, Span};

/// One question, by name as a user writes it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Question {
    /// The user's id.
    pub user: String,
    /// May be left out for a resource that belongs to an org (its org).
    #[serde(default)]
    pub org: String,
    /// `module:action`.
    pub permission: String,
    /// Ask about this resource (SPEC §15).
    #[serde(default)]
    pub resource: Option<String>,
}

/// A decision and, when asked for, why.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Answer {
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// The user asked about.
    pub user: String,
    /// The org asked at (a resource's own org when none was given).
    pub org: String,
    /// The permission asked about.
    pub permission: String,
    /// The resource asked about, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The derivation, line by line (only when asked for).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

fn at(sources: &SourceMap, span: Span) -> String {
    let (start, _) = sources.line_col(span);
    format!("{}:{}", sources.path(span.file), start.line)
}

/// Decides one question; `explain` fills in the derivation.
pub fn decide(m: &Model, sources: &SourceMap, q: &Question, explain: bool) -> Answer {
    let mut lines = Vec::new();
    // A resource of an org is asked about at that org unless told otherwise.
    let resource = q
        .resource
        .as_ref()
        .map(|r| (r, m.resource_index.get(r).copied()));
    let org_name = match resource {
        Some((_, Some(r))) if q.org.is_empty() => m.resources[r.index()]
            .org
            .map(|o| m.org(o).id.clone())
            .unwrap_or_default(),
        _ => q.org.clone(),
    };
    let answer = |allow: bool, lines: Vec<String>| Answer {
        decision: if allow { "allow" } else { "deny" },
        user: q.user.clone(),
        org: org_name.clone(),
        permission: q.permission.clone(),
        resource: q.resource.clone(),
        explanation: if explain { lines } else { Vec::new() },
    };
    let user = m.user_index.get(&q.user).copied();
    let org = m.org_index.get(&org_name).copied();
    let perm = m.parse_permission(&q.permission);
    if user.is_none() {
        lines.push(format!("  unknown user `{}`", q.user));
    }
    if org.is_none() {
        if org_name.is_empty() {
            lines.push(match resource {
                Some((_, Some(_))) => "  no org given (the resource belongs to no org)".to_owned(),
                _ => "  no org given".to_owned(),
            });
        } else {
            lines.push(format!("  unknown org `{org_name}`"));
        }
    }
    if let Some((name, None)) = resource {
        lines.push(format!("  unknown resource `{name}`"));
    }
    if perm.is_none() {
        lines.push(format!("  unknown permission `{}`", q.permission));
    }
    let (Some(u), Some(x), Some(p)) = (user, org, perm) else {
        return answer(false, lines);
    };
    if let Some((_, q)) = resource {
        let Some(q) = q else {
            return answer(false, lines);
        };
        let allow = m.allow_on(u, p, x, Some(q));
        if explain {
            lines = explain_decision(m, sources, u, p, x, allow);
            lines.extend(explain_resource(m, u, p, x, q));
        }
        return answer(allow, lines);
    }
    if !explain {
        return answer(m.allow(u, p, x), lines);
    }
    let allow = m.allow(u, p, x);
    lines = explain_decision(m, sources, u, p, x, allow);
    lines.extend(explain_whole_module(m, u, p, x));
    answer(allow, lines)
}

/// For a question without a resource about a resource module: only grant
/// paths unrestricted on its dimension count (SPEC §15); name the ones a
/// restriction keeps out.
fn explain_whole_module(m: &Model, u: UserId, p: PermId, x: OrgId) -> Vec<String> {
    let (module, _) = m.perms[p.index()];
    let Some(dim) = m.modules[module.index()].dimension else {
        return Vec::new();
    };
    let dname = &m.dimensions[dim.index()].id;
    let mut out = Vec::new();
    let hits = m.hits(u, x);
    for (origin, via, held) in m.grant_paths(u, p, x, &hits) {
        let item = m.origin_resources(origin).names(dim);
        if item || m.role(held).resources.names(dim) {
            out.push(format!(
                "  `{}` through `{}` is tied to `{dname}` resources ({}): it counts only for questions about those resources (`--resource`)",
                m.role_display(held),
                m.role_display(via),
                if item { "by its grant" } else { "by the role" }
            ));
        }
    }
    out
}

fn describe_hit(m: &Model, sources: &SourceMap, h: &Hit, u: UserId, x: OrgId) -> String {
    let what = match h.grant {
        Grant::Role(r) => format!("role `{}`", m.role_display(r)),
        Grant::Policy(p) => format!("policy `{}`", m.policies[p.index()].id),
    };
    let lock = if h.locked {
        ", locked by the provider"
    } else {
        ""
    };
    match h.origin {
        Origin::Assignment(a) => {
            let asg = &m.assignments[a.index()];
            let whom = match asg.target {
                Target::User(_) => format!("to `{}`", m.user(u).id),
                Target::Org => format!("to every member of `{}`", m.org(asg.org).id),
            };
            let place = place(m, h.anchor, x);
            format!(
                "assignment of {what} {whom} {place} ({}{lock})",
                at(sources, asg.span)
            )
        }
        Origin::Rule(r, g) => {
            let rule = &m.rules[r.index()];
            let name = rule.name.clone().unwrap_or_else(|| "unnamed".into());
            let span = rule
                .grants
                .get(g as usize)
                .map(|g| g.span)
                .unwrap_or(rule.span);
            let place = place(m, h.anchor, x);
            format!(
                "automatic rule `{name}` gives {what} {place} ({}{lock})",
                at(sources, span)
            )
        }
    }
}

/// "at X", or "at A, inherited down to X" for a grant anchored above X.
fn place(m: &Model, anchor: OrgId, x: OrgId) -> String {
    if anchor == x {
        format!("at `{}`", m.org(x).id)
    } else {
        format!(
            "at `{}`, inherited down to `{}`",
            m.org(anchor).id,
            m.org(x).id
        )
    }
}

fn describe_publication(m: &Model, sources: &SourceMap, r: RoleId, x: OrgId) -> String {
    let name = m.role_display(r);
    if let Scope::Org(o) = m.role(r).owner {
        if !m.in_subtree(x, o) {
            return format!("custom role `{name}` is not published at `{}`: it is outside its owner `{}`'s subtree", m.org(x).id, m.org(o).id);
        }
    }
    match m.publication(r, x) {
        Publication::Entry(o, e) => format!(
            "role `{name}` is {} at `{}` by the entry at `{}` ({})",
            if e.publish {
                "published"
            } else {
                "not published"
            },
            m.org(x).id,
            m.org(o).id,
            at(sources, e.span)
        ),
        Publication::Default(b) => format!(
            "role `{name}` is {} at `{}` by default",
            if b { "published" } else { "not published" },
            m.org(x).id
        ),
    }
}

/// The grants that reach `u` at `x`, one line each with where it is
/// written, and for each role whether it counts there (status, identity
/// type, publication); returns the roles that count. The first part of
/// `--explain`, and the "why" of a user's page in `trellis site`.
pub fn explain_grants(
    m: &Model,
    sources: &SourceMap,
    u: UserId,
    x: OrgId,
    hits: &[Hit],
    lines: &mut Vec<String>,
) -> BTreeSet<RoleId> {
    let user = m.user(u);
    if hits.is_empty() {
        lines.push(format!(
            "  no assignment or automatic rule reaches `{}` at `{}`",
            user.id,
            m.org(x).id
        ));
    }
    let mut base = BTreeSet::new();
    for h in hits {
        lines.push(format!("  - {}", describe_hit(m, sources, h, u, x)));
        if let Grant::Role(r) = h.grant {
            let role = m.role(r);
            if !role.active {
                lines.push(format!(
                    "      role `{}` is disabled: it grants nothing ({})",
                    m.role_display(r),
                    at(sources, role.span)
                ));
            } else if !role.allows_identity(&user.identity) {
                lines.push(format!(
                    "      identity type `{}` may not hold `{}`",
                    user.identity,
                    m.role_display(r)
                ));
            } else {
                let published = m.published(r, x);
                lines.push(format!(
                    "      {}{}",
                    describe_publication(m, sources, r, x),
                    if published {
                        ""
                    } else {
                        ": it does not count here"
                    }
                ));
                if published {
                    base.insert(r);
                }
            }
        }
    }
    base
}

fn explain_decision(
    m: &Model,
    sources: &SourceMap,
    u: UserId,
    p: PermId,
    x: OrgId,
    allow: bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    let user = m.user(u);
    let perm = m.perm_name(p);
    lines.push(format!(
        "{}: may `{}` use `{perm}` at `{}`?",
        if allow { "allow" } else { "deny" },
        user.id,
        m.org(x).id
    ));
    let hits = m.hits(u, x);
    let base = explain_grants(m, sources, u, x, &hits, &mut lines);
    // Which held role grants the permission, and through which `includes`.
    let mut parent: HashMap<RoleId, RoleId> = HashMap::new();
    let mut seen: BTreeSet<RoleId> = BTreeSet::new();
    let mut queue: VecDeque<RoleId> = base.iter().copied().collect();
    let mut granting = None;
    while let Some(r) = queue.pop_front() {
        let role = m.role(r);
        if !role.active || !role.allows_identity(&user.identity) || !seen.insert(r) {
            continue;
        }
        if granting.is_none() && role.perms.contains(p.index()) {
            granting = Some(r);
        }
        if !role.cyclic {
            for (i, _) in &role.includes {
                if !seen.contains(i) {
                    parent.entry(*i).or_insert(r);
                    queue.push_back(*i);
                }
            }
        }
    }
    let mut held: Vec<String> = seen
        .iter()
        .map(|r| format!("`{}`", m.role_display(*r)))
        .collect();
    held.sort();
    lines.push(format!(
        "  effective roles at `{}`: {}",
        m.org(x).id,
        if held.is_empty() {
            "none".into()
        } else {
            held.join(", ")
        }
    ));
    match granting {
        Some(r) => {
            let mut chain = vec![r];
            while let Some(pr) = parent.get(chain.last().unwrap_or(&r)) {
                if chain.contains(pr) {
                    break;
                }
                chain.push(*pr);
            }
            chain.reverse();
            let names: Vec<String> = chain
                .iter()
                .map(|c| format!("`{}`", m.role_display(*c)))
                .collect();
            let role = m.role(r);
            let how = if role.own.contains(p.index()) {
                "grants"
            } else {
                "copies (with `from`)"
            };
            if chain.len() > 1 {
                lines.push(format!(
                    "  {}; `{}` {how} `{perm}` ({})",
                    names.join(" includes "),
                    m.role_display(r),
                    at(sources, role.span)
                ));
            } else {
                lines.push(format!(
                    "  role `{}` {how} `{perm}` ({})",
                    m.role_display(r),
                    at(sources, role.span)
                ));
            }
        }
        None => {
            lines.push(format!(
                "  missing: no role held at `{}` grants `{perm}`",
                m.org(x).id
            ));
            // A role that would grant it but does not count here.
            for h in &hits {
                if let Grant::Role(r) = h.grant {
                    if m.closure_any(r)
                        .iter()
                        .any(|q| m.role(*q).perms.contains(p.index()))
                        && !base.contains(&r)
                    {
                        lines.push(format!(
                            "  role `{}` would grant it, but it does not count at `{}` (see above)",
                            m.role_display(r),
                            m.org(x).id
                        ));
                    }
                }
            }
        }
    }
    let (module, _) = m.perms[p.index()];
    let md = &m.modules[module.index()];
    if md.gated {
        let policies: Vec<&Hit> = hits
            .iter()
            .filter(|h| matches!(h.grant, Grant::Policy(pid) if m.policies[pid.index()].modules.contains(&module)))
            .collect();
        if policies.is_empty() {
            lines.push(format!(
                "  missing: module `{}` is gated and no access policy listing it reaches `{}` at `{}`",
                md.id,
                user.id,
                m.org(x).id
            ));
        } else {
            for h in policies {
                lines.push(format!(
                    "  module `{}` is gated; opened by {}",
                    md.id,
                    describe_hit(m, sources, h, u, x)
                ));
            }
        }
    }
    lines
}

/// The effective roles, sorted by display name, each once (SPEC §14.8).
pub fn roles(m: &Model, user: &str, org: &str) -> Result<Vec<String>, String> {
    let u = *m
        .user_index
        .get(user)
        .ok_or_else(|| format!("unknown user `{user}`"))?;
    let x = *m
        .org_index
        .get(org)
        .ok_or_else(|| format!("unknown org `{org}`"))?;
    let mut names: Vec<String> = m
        .roles_at(u, x)
        .into_iter()
        .map(|r| m.role_display(r))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Why a question about resource `q` is answered as it is (SPEC §15): the
/// resource's dimension and org, and for each grant path that gives the
/// permission, the restriction that lets it through or stops it.
fn explain_resource(m: &Model, u: UserId, p: PermId, x: OrgId, q: ResId) -> Vec<String> {
    let res = &m.resources[q.index()];
    let dim = &m.dimensions[res.dim.index()];
    let mut out = vec![format!(
        "  resource `{}` (dimension `{}`, {})",
        res.id,
        dim.id,
        match res.org {
            Some(o) => format!("of org `{}`", m.org(o).id),
            None => "of no org".to_owned(),
        }
    )];
    let (module, _) = m.perms[p.index()];
    let module = &m.modules[module.index()];
    if module.dimension != Some(res.dim) {
        out.push(format!(
            "  `{}` is not a module of dimension `{}`: deny",
            module.id, dim.id
        ));
        return out;
    }
    if let Some(o) = res.org.filter(|o| *o != x) {
        out.push(format!(
            "  the resource belongs to `{}`, not `{}`: deny",
            m.org(o).id,
            m.org(x).id
        ));
        return out;
    }
    let list = |v: Option<&[ResId]>| match v {
        None => "every resource".to_owned(),
        Some([]) => "no resource".to_owned(),
        Some(v) => v
            .iter()
            .map(|r| format!("`{}`", m.resources[r.index()].id))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let hits = m.hits(u, x);
    for (origin, via, held) in m.grant_paths(u, p, x, &hits) {
        let item = m.origin_resources(origin).on(res.dim);
        let own = m.role(held).resources.on(res.dim);
        let passes = item.is_none_or(|v| v.contains(&q)) && own.is_none_or(|v| v.contains(&q));
        out.push(format!(
            "  `{}` through `{}`: the grant allows {}, the role {}: {}",
            m.role_display(held),
            m.role_display(via),
            list(item),
            list(own),
            if passes { "allows it" } else { "stops it" }
        ));
    }
    out
}
