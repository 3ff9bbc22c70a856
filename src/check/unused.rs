//! W103: a custom role nobody assigns, includes or clones (SPEC §12).

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::*;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    let mut used = vec![false; m.roles.len()];
    for a in &m.assignments {
        if let Grant::Role(r) = a.grant {
            used[r.index()] = true;
        }
    }
    for rule in &m.rules {
        for g in &rule.grants {
            for (r, _) in &g.roles {
                used[r.index()] = true;
            }
        }
    }
    for role in &m.roles {
        for (r, _) in &role.includes {
            used[r.index()] = true;
        }
        if let Some((r, _)) = role.from {
            used[r.index()] = true;
        }
    }
    for (i, role) in m.roles.iter().enumerate() {
        if matches!(role.owner, Scope::Org(_)) && !used[i] {
            diags.push(
                Diagnostic::new(
                    Code::W103,
                    role.span,
                    format!(
                        "custom role `{}` is never assigned, included nor cloned",
                        m.role_display(RoleId(i as u32))
                    ),
                )
                .with_label("unused")
                .with_help("assign it, or remove it"),
            );
        }
    }
}
