//! E011: tenant publication entries that undo a provider lock (SPEC §8,
//! §14.10). The other E011 cases (using or shadowing a locked role) are
//! found while resolving.
//!
//! An entry is judged by its effect, against the provider's entries alone:
//! a tenant entry at `y` decides the orgs of `y`'s subtree whose nearest
//! provider entry is above `y` (its *region*), and all of them share that
//! entry's answer. If the entry gives the same answer, it changes nothing
//! (a repeat of a locked decision, or a non-publication of a role that is
//! not published there anyway). Otherwise it flips the whole region, and it
//! is E011 when a locked item loses what it did there: the deciding entry
//! itself, when locked; or, for a non-publication, a locked assignment or
//! locked rule grant whose role it stops. Other tenant entries never count,
//! so a repeat of a lock followed by an entry below it is still caught.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;
use crate::source::Span;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    let mut ctx = Ctx::new(m);
    for (ri, entries) in m.publications.iter().enumerate() {
        let role = RoleId(ri as u32);
        let mut tenant: Vec<(OrgId, &PublicationEntry)> = entries
            .iter()
            .filter(|(_, e)| e.scope != Scope::Provider)
            .map(|(o, e)| (*o, e))
            .collect();
        tenant.sort_by_key(|(o, _)| m.pre[o.index()]);
        for (y, e) in tenant {
            if let Some(d) = ctx.judge(role, y, e) {
                diags.push(d);
            }
        }
    }
}

struct Ctx<'m> {
    m: &'m Model,
    /// Locked role assignments, by role.
    locked_assignments: Vec<Vec<&'m Assignment>>,
    /// Users by home org, built on first need (only locked rules use it).
    members: Option<Vec<Vec<UserId>>>,
}

/// The nearest provider entry strictly above `y`, and what the provider's
/// entries alone decide for `y`'s region.
struct Above {
    entry: Option<(OrgId, PublicationEntry)>,
    published: bool,
}

impl<'m> Ctx<'m> {
    fn new(m: &'m Model) -> Ctx<'m> {
        let mut locked_assignments: Vec<Vec<&Assignment>> = vec![Vec::new(); m.roles.len()];
        for a in m.assignments.iter().filter(|a| a.locked) {
            if let Grant::Role(r) = a.grant {
                locked_assignments[r.index()].push(a);
            }
        }
        Ctx {
            m,
            locked_assignments,
            members: None,
        }
    }

    fn provider_entry(&self, role: RoleId, o: OrgId) -> Option<PublicationEntry> {
        self.m.publications[role.index()]
            .get(&o)
            .filter(|e| e.scope == Scope::Provider)
            .copied()
    }

    fn above(&self, role: RoleId, y: OrgId) -> Above {
        let m = self.m;
        let r = m.role(role);
        let entry = m
            .ancestors(y)
            .skip(1)
            .find_map(|a| self.provider_entry(role, a).map(|e| (a, e)));
        let in_owner = match r.owner {
            Scope::Provider => true,
            Scope::Org(o) => m.in_subtree(y, o),
        };
        let published = in_owner
            && match entry {
                Some((_, e)) => e.publish,
                None => r.published,
            };
        Above { entry, published }
    }

    /// Is `z` in the region that the entry at `y` decides: inside `y`'s
    /// subtree with no provider entry on the way up to `y` (exclusive)?
    fn in_region(&self, role: RoleId, y: OrgId, z: OrgId) -> bool {
        let m = self.m;
        if !m.in_subtree(z, y) {
            return false;
        }
        m.ancestors(z)
            .take_while(|a| *a != y)
            .all(|a| self.provider_entry(role, a).is_none())
    }

    fn judge(&mut self, role: RoleId, y: OrgId, e: &PublicationEntry) -> Option<Diagnostic> {
        let m = self.m;
        let above = self.above(role, y);
        if e.publish == above.published {
            return None;
        }
        let name = m.role_display(role);
        let at = &m.org(y).id;
        if let Some((a, p)) = above.entry.filter(|(_, p)| p.locked) {
            let (msg, label) = if e.publish {
                (
                    format!("publication of `{name}` at `{at}` undoes a locked non-publication"),
                    format!("locked non-publication at `{}`", m.org(a).id),
                )
            } else {
                (
                    format!("non-publication of `{name}` at `{at}` undoes a locked publication"),
                    format!("locked publication at `{}`", m.org(a).id),
                )
            };
            return Some(
                Diagnostic::new(Code::E011, e.span, msg)
                    .with_label("tenant publication entry")
                    .with_secondary(p.span, label)
                    .with_help("a tenant cannot undo what the provider locked; ask the provider to change it"),
            );
        }
        if e.publish || !m.role(role).active {
            // A publication only adds; an inactive role gives nothing to cut.
            return None;
        }
        let cut = self
            .locked_assignment_cut(role, y)
            .or_else(|| self.locked_rule_cut(role, y))?;
        Some(
            Diagnostic::new(
                Code::E011,
                e.span,
                format!("non-publication of `{name}` at `{at}` would cut a provider lock"),
            )
            .with_label("tenant non-publication")
            .with_secondary(cut.0, cut.1)
            .with_help(
                "a tenant cannot undo what the provider locked; ask the provider to change it",
            ),
        )
    }

    /// A locked assignment of `role` that gives it at some org of `y`'s region.
    fn locked_assignment_cut(&self, role: RoleId, y: OrgId) -> Option<(Span, String)> {
        let m = self.m;
        self.locked_assignments[role.index()]
            .iter()
            .find(|a| self.in_region(role, y, a.org) || (a.inherit && m.in_subtree(y, a.org)))
            .map(|a| {
                (
                    a.span,
                    format!("locked assignment at `{}`", m.org(a.org).id),
                )
            })
    }

    /// A locked rule grant that gives `role` to some user it matches at some
    /// org of `y`'s region.
    fn locked_rule_cut(&mut self, role: RoleId, y: OrgId) -> Option<(Span, String)> {
        let m = self.m;
        let r = m.role(role);
        let items: Vec<(&Rule, &RuleGrant)> = m
            .rules
            .iter()
            .filter(|rule| rule.locked)
            .flat_map(|rule| rule.grants.iter().map(move |g| (rule, g)))
            .filter(|(_, g)| g.roles.iter().any(|(x, _)| *x == role))
            .collect();
        if items.is_empty() {
            return None;
        }
        // A rule targets a user's home or its descendants, so only users
        // homed in the region or above `y` can be given the role there.
        let lo = m.pre[y.index()] as usize;
        let hi = m.end[y.index()] as usize;
        let region: Vec<OrgId> = m
            .preorder
            .get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .copied()
            .filter(|z| self.in_region(role, y, *z))
            .collect();
        let members = self.members.get_or_insert_with(|| {
            let mut v = vec![Vec::new(); m.orgs.len()];
            for (ui, u) in m.users.iter().enumerate() {
                v[u.home.index()].push(UserId(ui as u32));
            }
            v
        });
        let homes = region.iter().copied().chain(m.ancestors(y).skip(1));
        for home in homes {
            for &u in &members[home.index()] {
                let user = m.user(u);
                if !r.allows_identity(&user.identity) {
                    continue;
                }
                for (rule, g) in &items {
                    if !m.rule_matches(rule, u) {
                        continue;
                    }
                    let gives = |z: OrgId| g.at.iter().any(|p| m.place_matches(p, home, z));
                    // Orgs of the region the item targets, or (inherit)
                    // targets above it on the path from `y` to the home.
                    let hit = region.iter().any(|z| m.in_subtree(*z, home) && gives(*z))
                        || (g.inherit
                            && m.ancestors(y)
                                .take_while(|a| m.in_subtree(*a, home))
                                .any(gives));
                    if hit {
                        let rule_name = rule.name.as_deref().unwrap_or("unnamed");
                        return Some((
                            g.span,
                            format!(
                                "locked automatic rule `{rule_name}` grants it to `{}`",
                                user.id
                            ),
                        ));
                    }
                }
            }
        }
        None
    }
}
