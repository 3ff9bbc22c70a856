//! E011: tenant publications that undo a provider lock (SPEC §8). The other
//! E011 cases (using or shadowing a locked role) are found while resolving.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Span;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    // Locked assignments by role, so that each tenant entry looks at few.
    let mut locked_by_role: Vec<Vec<&Assignment>> = vec![Vec::new(); m.roles.len()];
    for a in m.assignments.iter().filter(|a| a.locked) {
        if let Grant::Role(r) = a.grant {
            locked_by_role[r.index()].push(a);
        }
    }
    for (ri, entries) in m.publications.iter().enumerate() {
        let role = RoleId(ri as u32);
        let mut tenant: Vec<(&OrgId, &PublicationEntry)> = entries
            .iter()
            .filter(|(_, e)| e.scope != Scope::Provider)
            .collect();
        tenant.sort_by_key(|(o, _)| **o);
        for (&y, e) in tenant {
            let name = m.role_display(role);
            let provider_above = m.ancestors(y).skip(1).find_map(|a| {
                entries
                    .get(&a)
                    .filter(|p| p.scope == Scope::Provider)
                    .map(|p| (a, *p))
            });
            if e.publish {
                if let Some((a, p)) = provider_above {
                    if p.locked && !p.publish {
                        diags.push(
                            Diagnostic::new(
                                Code::E011,
                                e.span,
                                format!("publication of `{name}` at `{}` undoes a locked non-publication", m.org(y).id),
                            )
                            .with_label("tenant publication")
                            .with_secondary(p.span, format!("locked non-publication at `{}`", m.org(a).id)),
                        );
                    }
                }
                continue;
            }
            // A non-publication at y stops grants in y's subtree.
            let mut cut: Option<(Span, String)> = None;
            if let Some((a, p)) = provider_above {
                if p.locked && p.publish {
                    cut = Some((p.span, format!("locked publication at `{}`", m.org(a).id)));
                }
            }
            if cut.is_none() {
                cut = locked_by_role[ri]
                    .iter()
                    .find(|a| m.in_subtree(a.org, y) || (a.inherit && m.in_subtree(y, a.org)))
                    .map(|a| {
                        (
                            a.span,
                            format!("locked assignment at `{}`", m.org(a.org).id),
                        )
                    });
            }
            if cut.is_none() {
                cut = locked_rule_reaching(m, role, y);
            }
            if let Some((span, what)) = cut {
                diags.push(
                    Diagnostic::new(
                        Code::E011,
                        e.span,
                        format!("non-publication of `{name}` at `{}` would cut a provider lock", m.org(y).id),
                    )
                    .with_label("tenant non-publication")
                    .with_secondary(span, what)
                    .with_help("a tenant cannot undo what the provider locked; ask the provider to change it"),
                );
            }
        }
    }
}

/// A locked rule that grants `role` to some user at an org inside `y`'s subtree.
fn locked_rule_reaching(m: &Model, role: RoleId, y: OrgId) -> Option<(Span, String)> {
    for rule in m.rules.iter().filter(|r| r.locked) {
        for g in rule
            .grants
            .iter()
            .filter(|g| g.roles.iter().any(|(r, _)| *r == role))
        {
            for (ui, user) in m.users.iter().enumerate() {
                if !m.rule_matches(rule, UserId(ui as u32)) {
                    continue;
                }
                let hit = m
                    .rule_targets(g, user.home)
                    .into_iter()
                    .any(|t| m.in_subtree(t, y) || (g.inherit && m.in_subtree(y, t)));
                if hit {
                    let name = rule.name.clone().unwrap_or_else(|| "unnamed".into());
                    return Some((
                        g.span,
                        format!("locked automatic rule `{name}` grants it to `{}`", user.id),
                    ));
                }
            }
        }
    }
    None
}
