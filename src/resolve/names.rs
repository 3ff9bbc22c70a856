//! Role names across owners (SPEC §4): a custom role that takes the name of
//! a role visible from its owner's parent shadows it.

use super::Builder;
use crate::diag::{Code, Diagnostic};
use crate::model::*;

pub(super) fn shadowing(b: &mut Builder<'_>) {
    for i in 0..b.model.roles.len() {
        let role = &b.model.roles[i];
        let Scope::Org(owner) = role.owner else {
            continue;
        };
        let above = match b.model.org(owner).parent {
            Some(p) => Scope::Org(p),
            None => Scope::Provider,
        };
        let Some(shadowed) = b.model.resolve_role(&role.name, above) else {
            continue;
        };
        let me = b.model.role_qualified(RoleId(i as u32));
        let other = b.model.role_qualified(shadowed);
        let other_span = b.model.role(shadowed).span;
        let d = if b.model.role(shadowed).locked {
            Diagnostic::new(
                Code::E011,
                role.span,
                format!("custom role `{me}` shadows the locked role `{other}`"),
            )
            .with_label("a tenant may not shadow a provider lock")
            .with_secondary(other_span, "locked by the provider here")
            .with_help("rename the custom role")
        } else {
            Diagnostic::new(
                Code::W101,
                role.span,
                format!("custom role `{me}` shadows `{other}`"),
            )
            .with_label(format!(
                "bare `{}` now means this role in `{}`'s subtree",
                role.name,
                b.model.org(owner).id
            ))
            .with_secondary(other_span, "shadowed role")
            .with_help(format!(
                "rename the role, or write `{other}` where the original is meant"
            ))
        };
        b.diags.push(d);
    }
}
