//! E016: a dimensioned role whose `multiple` is false, given to one user
//! more than once or for more than one resource (SPEC §15).

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    if m.dimensions.is_empty() {
        return;
    }
    for (ui, ids) in m.user_assignments.iter().enumerate() {
        // This user's assignments of single-held dimensioned roles, by
        // role, in path order then position.
        let mut by_role: Vec<(RoleId, &Assignment)> = ids
            .iter()
            .map(|id| &m.assignments[id.index()])
            .filter_map(|a| match a.grant {
                Grant::Role(r) if !m.role(r).dimensions.is_empty() && !m.role(r).multiple => {
                    Some((r, a))
                }
                _ => None,
            })
            .collect();
        by_role.sort_by_key(|(r, a)| (*r, a.order));
        for group in by_role.chunk_by(|a, b| a.0 == b.0) {
            let (role, first) = group[0];
            let dims = &m.role(role).dimensions;
            let name = m.role_display(role);
            let user = &m.users[ui].id;
            let d = if let Some((_, second)) = group.get(1) {
                Diagnostic::new(
                    Code::E016,
                    second.span,
                    format!(
                        "role `{name}` is assigned to `{user}` again, and its `multiple` is false"
                    ),
                )
                .with_label("second assignment")
                .with_secondary(first.span, "first assignment")
            } else {
                let Some(d) = dims
                    .iter()
                    .find(|d| first.resources.on(**d).is_some_and(|v| v.len() > 1))
                else {
                    continue;
                };
                Diagnostic::new(
                    Code::E016,
                    first.span,
                    format!(
                        "role `{name}` is given to `{user}` for several `{}` resources, and its `multiple` is false",
                        m.dimensions[d.index()].id
                    ),
                )
                .with_label("more than one resource on a dimension of the role")
            };
            diags.push(d.with_help(format!(
                "give `{user}` one assignment naming one resource per dimension, or declare `{name}` with `multiple: true`"
            )));
        }
    }
}
