//! Assignments (SPEC §5, §7): E007 not published, E009 identity type,
//! W102 disabled role, E013/E014 delegated assignment.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::eval::Publication;
use crate::model::*;

pub fn check(m: &Model, diags: &mut Diagnostics) {
    for a in &m.assignments {
        let Grant::Role(role) = a.grant else { continue };
        let r = m.role(role);
        // Its name is written only into a finding (a few of millions).
        let name = || m.role_display(role);
        if !r.active {
            diags.push(
                Diagnostic::new(
                    Code::W102,
                    a.grant_span,
                    format!("role `{}` is disabled", name()),
                )
                .with_label("this assignment grants nothing")
                .with_secondary(r.span, "disabled here")
                .with_help("remove the assignment, or set the role's `status: active`"),
            );
        }
        if !m.published(role, a.org) {
            let mut d = Diagnostic::new(
                Code::E007,
                a.org_span,
                format!(
                    "role `{}` is not published at `{}`",
                    name(),
                    m.org(a.org).id
                ),
            )
            .with_label("assigned here")
            .with_secondary(a.grant_span, "role");
            match m.publication(role, a.org) {
                Publication::Entry(at, e) => {
                    d = d.with_secondary(
                        e.span,
                        format!("non-publication at `{}` decides", m.org(at).id),
                    );
                }
                Publication::Default(_) => {
                    let why = match r.owner {
                        Scope::Provider => {
                            "the role type is declared with `published: false`".to_owned()
                        }
                        Scope::Org(o) if r.published => {
                            format!(
                                "a custom role is published only on its owner `{}`'s subtree",
                                m.org(o).id
                            )
                        }
                        Scope::Org(_) => "the role is declared with `published: false`".to_owned(),
                    };
                    d = d.with_note(why);
                }
            }
            diags.push(d.with_help(
                "publish the role there (`publications`), or assign it where it is published",
            ));
        }
        if let Target::User(u) = a.target {
            let user = m.user(u);
            // A role that refuses an identity type lists the ones it allows.
            if let (false, Some(types)) = (r.allows_identity(&user.identity), &r.identity_types) {
                let types = types.join(", ");
                diags.push(
                    Diagnostic::new(
                        Code::E009,
                        a.grant_span,
                        format!(
                            "user `{}` of identity type `{}` may not hold role `{}`",
                            user.id,
                            user.identity,
                            name()
                        ),
                    )
                    .with_label("role not allowed for this identity type")
                    .with_secondary(r.span, format!("allows: {types}")),
                );
            }
            if let Some((by, span)) = a.by.as_deref().copied() {
                match by {
                    Assigner::SelfService if !r.self_service => {
                        diags.push(
                            Diagnostic::new(
                                Code::E014,
                                span,
                                format!("role `{}` is not self-service", name()),
                            )
                            .with_label("`by: self`")
                            .with_secondary(r.span, "role declared here")
                            .with_help(
                                "set `self_service: true` on the role, or have an admin assign it",
                            ),
                        );
                    }
                    Assigner::SelfService | Assigner::Admin(_) => {
                        let admin = match by {
                            Assigner::Admin(x) => x,
                            Assigner::SelfService => u,
                        };
                        if let Err(why) = m.can_assign_with(admin, role, u, a.org, &a.resources) {
                            diags.push(
                                Diagnostic::new(
                                    Code::E013,
                                    span,
                                    format!(
                                        "`{}` may not assign role `{}` to `{}` at `{}`",
                                        m.user(admin).id,
                                        name(),
                                        user.id,
                                        m.org(a.org).id
                                    ),
                                )
                                .with_label(why),
                            );
                        }
                    }
                }
            }
        }
    }
}
