//! E008: separation of duty (SPEC §6, §8). One diagnostic per exclusion and
//! user, labelling every assignment or rule that put the roles on the user.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::eval::{Hit, Origin};
use crate::model::*;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    if m.exclusions.is_empty() {
        return;
    }
    // Roles each role brings through `includes` (active links only): a cheap
    // upper bound that skips users who cannot violate anything.
    let reach: Vec<BTreeSet<RoleId>> = (0..m.roles.len())
        .map(|r| m.closure_any(RoleId(r as u32)))
        .collect();
    // Roles that bring any excluded role, and those that alone bring more
    // than an exclusion allows: most users hold neither twice and are skipped
    // without building anything.
    let excluded: BTreeSet<RoleId> = m
        .exclusions
        .iter()
        .flat_map(|e| e.roles.iter().copied())
        .collect();
    let relevant: Vec<bool> = reach
        .iter()
        .map(|r| r.iter().any(|x| excluded.contains(x)))
        .collect();
    let alone: Vec<bool> = reach
        .iter()
        .map(|r| {
            m.exclusions
                .iter()
                .any(|e| e.roles.iter().filter(|x| r.contains(x)).count() > e.max as usize)
        })
        .collect();
    // Users are independent of one another: runs of them on every core,
    // findings back in user order.
    use rayon::prelude::*;
    let run = m
        .users
        .len()
        .div_ceil(8 * rayon::current_num_threads())
        .max(1);
    let (reach, relevant, alone) = (&reach, &relevant, &alone);
    let found: Vec<Diagnostics> = (0..m.users.len())
        .into_par_iter()
        .step_by(run)
        .map(|start| {
            let mut d = Diagnostics::default();
            for ui in start..(start + run).min(m.users.len()) {
                check_user(m, UserId(ui as u32), reach, relevant, alone, &mut d);
            }
            d
        })
        .collect();
    for d in found {
        diags.extend(d);
    }
}

/// The exclusions user `u` violates. `reach`, `relevant` and `alone` are
/// per role: the roles it brings, whether it brings an excluded one, and
/// whether it alone brings more than an exclusion allows.
fn check_user(
    m: &Model,
    u: UserId,
    reach: &[BTreeSet<RoleId>],
    relevant: &[bool],
    alone: &[bool],
    diags: &mut Diagnostics,
) {
    let user = m.user(u);
    if !m.exclusions.iter().any(|e| m.in_scope(user.home, e.scope)) {
        return;
    }
    let applicable: Vec<&Exclusion> = m
        .exclusions
        .iter()
        .filter(|e| m.in_scope(user.home, e.scope))
        .collect();
    let mut relevant_sources = 0usize;
    let mut single_violates = false;
    m.for_each_source_role(u, |r| {
        if relevant[r.index()] {
            relevant_sources += 1;
            single_violates |= alone[r.index()];
        }
    });
    if relevant_sources == 0 || (relevant_sources == 1 && !single_violates) {
        return;
    }
    let mut possible = BTreeSet::new();
    for r in m.source_roles(u) {
        possible.extend(reach[r.index()].iter().copied());
    }
    let worth = applicable
        .iter()
        .any(|e| e.roles.iter().filter(|r| possible.contains(r)).count() > e.max as usize);
    if !worth {
        return;
    }
    // Held roles at every org where they can change, with the hits behind them.
    let mut per_org: Vec<(OrgId, BTreeSet<RoleId>, Vec<Hit>)> = Vec::new();
    for x in m.candidate_orgs(u) {
        let hits = m.hits(u, x);
        let held = m.closure(&user.identity, m.base_roles(u, x, &hits));
        per_org.push((x, held, hits));
    }
    for e in applicable {
        let count = |held: &BTreeSet<RoleId>| e.roles.iter().filter(|r| held.contains(r)).count();
        let (violating_orgs, held_roles): (Vec<OrgId>, BTreeSet<RoleId>) = match e.per {
            Per::User => {
                let all: BTreeSet<RoleId> = per_org
                    .iter()
                    .flat_map(|(_, h, _)| h.iter().copied())
                    .collect();
                if count(&all) <= e.max as usize {
                    continue;
                }
                let held = e
                    .roles
                    .iter()
                    .copied()
                    .filter(|r| all.contains(r))
                    .collect();
                (Vec::new(), held)
            }
            Per::Org => {
                let orgs: Vec<OrgId> = per_org
                    .iter()
                    .filter(|(_, h, _)| count(h) > e.max as usize)
                    .map(|(x, _, _)| *x)
                    .collect();
                if orgs.is_empty() {
                    continue;
                }
                let held = per_org
                    .iter()
                    .filter(|(x, _, _)| orgs.contains(x))
                    .flat_map(|(_, h, _)| e.roles.iter().copied().filter(|r| h.contains(r)))
                    .collect();
                (orgs, held)
            }
        };
        diags.push(violation(m, e, u, &violating_orgs, &held_roles, &per_org));
    }
}

fn violation(
    m: &Model,
    e: &Exclusion,
    u: UserId,
    orgs: &[OrgId],
    held: &BTreeSet<RoleId>,
    per_org: &[(OrgId, BTreeSet<RoleId>, Vec<Hit>)],
) -> Diagnostic {
    let user = m.user(u);
    let what = match &e.name {
        Some(n) => format!("exclusion `{n}`"),
        None if e.roles.len() == 2 => format!(
            "exclusion `{}` excludes `{}`",
            m.role_display(e.roles[0]),
            m.role_display(e.roles[1])
        ),
        None => "an exclusion".to_owned(),
    };
    let names: Vec<String> = held
        .iter()
        .map(|r| format!("`{}`", m.role_display(*r)))
        .collect();
    let mut message = format!(
        "user `{}` violates {what}: holds {} of its roles ({}), at most {} allowed",
        user.id,
        held.len(),
        names.join(", "),
        e.max
    );
    if !orgs.is_empty() {
        let o: Vec<String> = orgs.iter().map(|x| format!("`{}`", m.org(*x).id)).collect();
        message.push_str(&format!(" at {}", o.join(", ")));
    }
    let mut d = Diagnostic::new(Code::E008, e.span, message)
        .with_label(match e.per {
            Per::User => "exclusion declared here (per user)",
            Per::Org => "exclusion declared here (per org)",
        })
        .with_help("remove one of the assignments, or change the exclusion");
    // Every grant whose role brings one of the held excluded roles.
    let mut contributors: BTreeMap<Origin, (Hit, BTreeSet<RoleId>)> = BTreeMap::new();
    for (x, _, hits) in per_org {
        if !orgs.is_empty() && !orgs.contains(x) {
            continue;
        }
        for h in hits {
            let Grant::Role(r) = h.grant else { continue };
            if !m.published(r, *x) {
                continue;
            }
            let brings: BTreeSet<RoleId> = m
                .closure(&user.identity, [r])
                .into_iter()
                .filter(|q| held.contains(q))
                .collect();
            if !brings.is_empty() {
                contributors
                    .entry(h.origin)
                    .or_insert((*h, BTreeSet::new()))
                    .1
                    .extend(brings);
            }
        }
    }
    let mut locked = false;
    for (origin, (hit, roles)) in &contributors {
        let gives: Vec<String> = roles
            .iter()
            .map(|r| format!("`{}`", m.role_display(*r)))
            .collect();
        let (span, what) = match origin {
            Origin::Assignment(a) => (m.assignments[a.index()].span, "assignment"),
            Origin::Rule(r, g) => (
                m.rules[r.index()]
                    .grants
                    .get(*g as usize)
                    .map(|g| g.span)
                    .unwrap_or(m.rules[r.index()].span),
                "automatic rule",
            ),
        };
        let lock = if hit.locked {
            " (locked by the provider)"
        } else {
            ""
        };
        // Name the role the grant is of when the excluded roles come through `includes`.
        let via = match hit.grant {
            Grant::Role(r) if !roles.contains(&r) => format!(" (through `{}`)", m.role_display(r)),
            _ => String::new(),
        };
        d = d.with_secondary(
            span,
            format!("{what} gives {}{via}{lock}", gives.join(", ")),
        );
        locked |= hit.locked;
    }
    if locked && e.scope != Scope::Provider {
        d = d.with_note("a locked assignment is managed by the provider and cannot change here: remove the other assignment or ask the provider");
    }
    d
}
