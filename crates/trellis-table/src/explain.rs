//! Why a decision is what it is: the grants that reach the user, what each
//! does for the question, and the gate of the module, as data a service
//! can inspect ([`Explanation`]) and as the lines `trellis query --explain`
//! prints ([`Explanation::lines`]).

use crate::{
    resources, Dimension, GrantInfo, Granted, Org, Perm, Policy, Resource, Role, Table, User,
    ITEM_MASK, LOCKED_BIT, NONE, POLICY_BIT,
};

/// An answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    /// `"allow"` or `"deny"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Deny => "deny",
        }
    }
}

impl From<bool> for Decision {
    fn from(allowed: bool) -> Decision {
        if allowed {
            Decision::Allow
        } else {
            Decision::Deny
        }
    }
}

/// What one grant does for the question asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantEffect {
    /// Its role is not published at the org asked about: it counts for
    /// nothing there.
    NotPublished,
    /// It gives the permission (its role or one it includes grants it).
    Gives,
    /// It would give the permission, but a restriction to resources keeps
    /// this question out (another resource, or the whole module).
    Restricted,
    /// It counts, but does not give the permission (a policy, or a role
    /// that does not grant it).
    Other,
}

/// One step of an explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// No assignment or automatic rule reaches the user at the org.
    NoGrant,
    /// A grant that reaches the user at the org, and what it does.
    Grant {
        grant: GrantInfo,
        effect: GrantEffect,
    },
    /// The module is gated: whether an access policy listing it reaches
    /// the user there.
    Gate { opened: bool },
    /// The question is about a resource of another dimension than the
    /// permission's module.
    OtherDimension,
    /// The question is about a resource of another org than the one asked.
    OtherOrg { owner: Org },
}

/// A decision and the steps that lead to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub decision: Decision,
    pub user: User,
    pub permission: Perm,
    pub org: Org,
    pub resource: Option<Resource>,
    pub steps: Vec<Step>,
}

impl Table {
    /// The grants reaching `u` at `x` and whether each counts there (its
    /// role published at `x`; a policy always counts).
    pub fn grants(&self, u: User, x: Org) -> Vec<(GrantInfo, bool)> {
        self.grants_with_restriction(u, x)
            .into_iter()
            .map(|(g, counts, _)| (g, counts))
            .collect()
    }

    /// As [`Table::grants`], with each grant's restriction id (or `NONE`).
    fn grants_with_restriction(&self, u: User, x: Org) -> Vec<(GrantInfo, bool, u32)> {
        let d = self.d();
        let mut out = Vec::new();
        let pubset = d.org_pubset(x.0).unwrap_or(NONE);
        let mut visit = |g: &[u32], idx: usize, user_side: bool| {
            let item = g[2];
            let source = if user_side {
                d.user_grant_source.get(idx)
            } else {
                d.org_grant_source.get(idx)
            }
            .and_then(|s| (*s != NONE).then(|| String::from_utf8_lossy(d.string(*s)).into_owned()));
            let (granted, restr) = if item & POLICY_BIT != 0 {
                (Granted::Policy(Policy(item & ITEM_MASK)), NONE)
            } else {
                let (id, restr) = Self::role_item(d, item);
                (Granted::Role(Role(id)), restr)
            };
            let counts = match granted {
                Granted::Policy(_) => true,
                Granted::Role(r) => Self::bit(d.pub_pool, d.role_words, pubset, r.0),
            };
            let info = GrantInfo {
                granted,
                anchor: Org(g[0]),
                locked: item & LOCKED_BIT != 0,
                resources: if restr == NONE {
                    Vec::new()
                } else {
                    self.restriction(restr)
                },
                source,
            };
            out.push((info, counts, restr));
        };
        if let Some((a, b)) = d.user_grant_range(u.0) {
            for k in a..b {
                if let Some(g) = d.user_grants.get(k * 3..k * 3 + 3) {
                    if g[0] <= x.0 && x.0 < g[1] {
                        visit(g, k, true);
                    }
                }
            }
        }
        // The org grants of the home org and its ancestors (the member
        // list holds them flattened, without provenance).
        let mut a = d.user_home(u.0).unwrap_or(NONE);
        while a != NONE {
            if let (Some(&s), Some(&e)) = (
                d.org_grant_start.get(a as usize),
                d.org_grant_start.get(a as usize + 1),
            ) {
                for k in s as usize..e as usize {
                    if let Some(g) = d.org_grants.get(k * 3..k * 3 + 3) {
                        if g[0] <= x.0 && x.0 < g[1] {
                            visit(g, k, false);
                        }
                    }
                }
            }
            // Parents come before children (checked at load): this ends.
            a = d
                .org_parent
                .get(a as usize)
                .copied()
                .filter(|p| *p < a)
                .unwrap_or(NONE);
        }
        out
    }

    /// Why [`Table::allow`] answers as it does.
    pub fn explain(&self, u: User, p: Perm, x: Org) -> Explanation {
        self.explain_on(u, p, x, None)
    }

    /// Why [`Table::allow_on`] answers as it does.
    pub fn explain_on(&self, u: User, p: Perm, x: Org, q: Option<Resource>) -> Explanation {
        let d = self.d();
        let allowed = self.allow_on(u, p, x, q);
        let mut steps = Vec::new();
        let module = d.perm_module.get(p.0 as usize).copied().unwrap_or(NONE);
        let dim = d.module_dim.get(module as usize).copied().unwrap_or(NONE);
        if let Some(q) = q {
            if dim == NONE || self.resource_dimension(q) != Some(Dimension(dim)) {
                steps.push(Step::OtherDimension);
            } else if let Some(owner) = self.resource_org(q).filter(|o| *o != x) {
                steps.push(Step::OtherOrg { owner });
            }
        }
        let grants = self.grants_with_restriction(u, x);
        if grants.is_empty() {
            steps.push(Step::NoGrant);
        }
        let ident = d.user_identity(u.0).unwrap_or(0) as usize;
        let closure_row = ident * d.role_count as usize;
        let (perm_word, perm_bit) = (p.0 as usize >> 6, 1u64 << (p.0 & 63));
        let in_perms = |set: u32| {
            set != NONE
                && d.perm_pool
                    .get(set as usize * d.perm_words + perm_word)
                    .is_some_and(|w| w & perm_bit != 0)
        };
        for (g, counts, restr) in &grants {
            let effect = match g.granted {
                Granted::Policy(_) => GrantEffect::Other,
                Granted::Role(_) if !counts => GrantEffect::NotPublished,
                Granted::Role(r) => {
                    let cell = closure_row + r.0 as usize;
                    let free = d.closure_perms.get(cell).copied().unwrap_or(NONE);
                    let gives = if dim == NONE {
                        in_perms(free)
                    } else {
                        resources::path_allows(
                            d,
                            cell,
                            free,
                            *restr,
                            dim,
                            q.map(|q| q.0),
                            &in_perms,
                        )
                    };
                    let could = in_perms(free)
                        || resources::parts(d, cell)
                            .iter()
                            .any(|[set, _]| in_perms(*set));
                    match (gives, could) {
                        (true, _) => GrantEffect::Gives,
                        (false, true) if dim != NONE => GrantEffect::Restricted,
                        _ => GrantEffect::Other,
                    }
                }
            };
            steps.push(Step::Grant {
                grant: g.clone(),
                effect,
            });
        }
        if d.module_gated.get(module as usize).is_some_and(|g| *g != 0) {
            let opened = grants.iter().any(|(g, _, _)| match g.granted {
                Granted::Policy(pl) => Self::bit(d.policy_modules, d.module_words, pl.0, module),
                Granted::Role(_) => false,
            });
            steps.push(Step::Gate { opened });
        }
        Explanation {
            decision: allowed.into(),
            user: u,
            permission: p,
            org: x,
            resource: q,
            steps,
        }
    }
}

impl GrantEffect {
    /// The effect's name in JSON (`gives`, `restricted`, `not_published`,
    /// `other`).
    pub fn name(self) -> &'static str {
        match self {
            GrantEffect::Gives => "gives",
            GrantEffect::Restricted => "restricted",
            GrantEffect::NotPublished => "not_published",
            GrantEffect::Other => "other",
        }
    }
}

impl Step {
    /// The step as JSON, with names rather than handles: the shape the
    /// decision server's `/v1/explain` and the Node package give (and the
    /// Python package's dicts).
    pub fn to_json(&self, t: &Table) -> serde_json::Value {
        use serde_json::json;
        match self {
            Step::NoGrant => json!({ "kind": "no_grant" }),
            Step::OtherDimension => json!({ "kind": "other_dimension" }),
            Step::OtherOrg { owner } => json!({ "kind": "other_org", "owner": t.org_name(*owner) }),
            Step::Gate { opened } => json!({ "kind": "gate", "opened": opened }),
            Step::Grant { grant, effect } => {
                let (role, policy) = match grant.granted {
                    Granted::Role(r) => (Some(t.role_name(r)), None),
                    Granted::Policy(p) => (None, Some(t.policy_name(p))),
                };
                let resources: serde_json::Map<String, serde_json::Value> = grant
                    .resources
                    .iter()
                    .map(|(dim, list)| {
                        let ids: Vec<&str> = list.iter().map(|q| t.resource_name(*q)).collect();
                        (t.dimension_name(*dim).to_owned(), json!(ids))
                    })
                    .collect();
                json!({
                    "kind": "grant",
                    "role": role,
                    "policy": policy,
                    "at": t.org_name(grant.anchor),
                    "locked": grant.locked,
                    "resources": resources,
                    "source": grant.source.as_deref(),
                    "effect": effect.name(),
                })
            }
        }
    }
}

impl Explanation {
    /// The explanation as `trellis query --explain` prints it: the question
    /// and its answer, then one line per step.
    pub fn lines(&self, t: &Table) -> Vec<String> {
        let (user, org, perm) = (
            t.user_name(self.user),
            t.org_name(self.org),
            t.perm_name(self.permission),
        );
        let mut lines = vec![format!(
            "{}: may `{user}` use `{perm}` at `{org}`{}?",
            self.decision.as_str(),
            match self.resource {
                Some(q) => format!(" on `{}`", t.resource_name(q)),
                None => String::new(),
            }
        )];
        let list = |resources: &[(Dimension, Vec<Resource>)]| {
            resources
                .iter()
                .map(|(dim, list)| {
                    let names: Vec<String> = list
                        .iter()
                        .map(|q| format!("`{}`", t.resource_name(*q)))
                        .collect();
                    format!(
                        "`{}`: {}",
                        t.dimension_name(*dim),
                        if names.is_empty() {
                            "no resource".to_owned()
                        } else {
                            names.join(", ")
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        for step in &self.steps {
            lines.push(match step {
                Step::NoGrant => format!(
                    "  no assignment or automatic rule reaches `{user}` at `{org}`"
                ),
                Step::OtherDimension => format!(
                    "  `{perm}` is not a permission of the resource's dimension: deny"
                ),
                Step::OtherOrg { owner } => format!(
                    "  the resource belongs to `{}`, not `{org}`: deny",
                    t.org_name(*owner)
                ),
                Step::Gate { opened: true } => {
                    "  the module is gated and an access policy listing it reaches the user here"
                        .to_owned()
                }
                Step::Gate { opened: false } => {
                    "  missing: the module is gated and no access policy listing it reaches the user here"
                        .to_owned()
                }
                Step::Grant { grant: g, effect } => {
                    let what = match g.granted {
                        Granted::Role(r) => format!("role `{}`", t.role_name(r)),
                        Granted::Policy(pl) => format!("policy `{}`", t.policy_name(pl)),
                    };
                    let mut line = format!("  - {what} granted at `{}`", t.org_name(g.anchor));
                    if !g.resources.is_empty() {
                        line.push_str(&format!(" for {}", list(&g.resources)));
                    }
                    if g.locked {
                        line.push_str(", locked by the provider");
                    }
                    if let Some(s) = &g.source {
                        line.push_str(&format!(" ({s})"));
                    }
                    match effect {
                        GrantEffect::NotPublished => line.push_str(&format!(
                            ": not published at `{org}`, does not count"
                        )),
                        GrantEffect::Gives => line.push_str(&format!(
                            ": grants `{perm}` (itself or through `includes`)"
                        )),
                        GrantEffect::Restricted => line.push_str(&format!(
                            ": grants `{perm}` only on the resources it is tied to, not for this question"
                        )),
                        GrantEffect::Other => {}
                    }
                    line
                }
            });
        }
        lines
    }
}
