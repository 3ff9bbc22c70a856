//! The questions of `trellis query` beyond `allow` and `--roles`: who is
//! allowed, which access policies reach a user, which roles are published,
//! may an admin assign a role. Asked of sources or of a table alike, with
//! the same answers; an unknown name gives the empty (or `false`) answer
//! and is listed under `unknown`, as the server's endpoints do.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use trellis::model::{Model, RoleId, Scope};
use trellis::query::Question;

use super::query::Engine;

/// A role by name as `--roles` prints it: `owner::name` (`provider::name`
/// for the provider's), or the bare name when one owner has it. The table
/// resolves names the same way.
fn model_role(m: &Model, name: &str) -> Option<RoleId> {
    if name.contains("::") {
        return m.resolve_role(name, Scope::Provider);
    }
    match m.role_names.get(name).map(Vec::as_slice) {
        Some([r]) => Some(*r),
        _ => None,
    }
}

fn unknown(what: &str, name: &str) -> String {
    format!("{what} `{name}`")
}

/// A question other than `allow`, as a batch line or the flags give it.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "question", rename_all = "snake_case", deny_unknown_fields)]
pub enum Asked {
    /// The effective roles of a user at an org.
    Roles { user: String, org: String },
    /// Every user allowed a permission at an org (or on a resource).
    Who {
        permission: String,
        #[serde(default)]
        org: Option<String>,
        #[serde(default)]
        resource: Option<String>,
    },
    /// The access policies reaching a user at an org.
    Policies { user: String, org: String },
    /// The roles published at an org, or whether one role is.
    Published {
        org: String,
        #[serde(default)]
        role: Option<String>,
    },
    /// May `by` give `role` to `user` at `org`?
    CanAssign {
        #[serde(alias = "admin")]
        by: String,
        role: String,
        user: String,
        org: String,
        /// The assignment's `resources`: dimension → resource ids.
        #[serde(default)]
        resources: BTreeMap<String, Vec<String>>,
    },
}

/// The answer of an [`Asked`]: its text line(s) and its JSON document.
pub struct Told {
    /// The answer's own lines (a name per line, or one verdict).
    pub lines: Vec<String>,
    /// The derivation, when asked for.
    pub explanation: Vec<String>,
    /// The JSON answer (the question, the answer, `unknown`).
    pub json: Value,
}

impl Told {
    /// The human text of a single question: one name or verdict per line,
    /// then the derivation.
    pub fn text(&self) -> String {
        let mut s = String::new();
        for l in self.lines.iter().chain(&self.explanation) {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// One line of a batch: the names separated by spaces (an empty line
    /// for none), or the verdict.
    pub fn batch_line(&self) -> String {
        self.lines.join(" ")
    }
}

fn object(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if !v.is_null() {
            m.insert(k.to_owned(), v);
        }
    }
    Value::Object(m)
}

impl Engine {
    /// Answers `q`; `explain` adds each user's path (`who`) or the refusal's
    /// reason (`can_assign`, from sources).
    pub fn ask(&self, q: &Asked, explain: bool) -> Told {
        match q {
            Asked::Roles { user, org } => {
                let (names, missing) = self.roles_of(user, org);
                Told {
                    json: object(vec![
                        ("question", json!("roles")),
                        ("user", json!(user)),
                        ("org", json!(org)),
                        ("roles", json!(names)),
                        ("unknown", json!(missing)),
                    ]),
                    explanation: explained_unknown(explain, &missing),
                    lines: names,
                }
            }
            Asked::Who {
                permission,
                org,
                resource,
            } => self.who(permission, org.as_deref(), resource.as_deref(), explain),
            Asked::Policies { user, org } => {
                let (names, missing) = self.policies(user, org);
                Told {
                    json: object(vec![
                        ("question", json!("policies")),
                        ("user", json!(user)),
                        ("org", json!(org)),
                        ("policies", json!(names)),
                        ("unknown", json!(missing)),
                    ]),
                    explanation: explained_unknown(explain, &missing),
                    lines: names,
                }
            }
            Asked::Published { org, role: None } => {
                let (names, missing) = self.published_roles(org);
                Told {
                    json: object(vec![
                        ("question", json!("published")),
                        ("org", json!(org)),
                        ("roles", json!(names)),
                        ("unknown", json!(missing)),
                    ]),
                    explanation: explained_unknown(explain, &missing),
                    lines: names,
                }
            }
            Asked::Published {
                org,
                role: Some(role),
            } => {
                let (yes, missing) = self.published_one(role, org);
                Told {
                    json: object(vec![
                        ("question", json!("published")),
                        ("role", json!(role)),
                        ("org", json!(org)),
                        ("published", json!(yes)),
                        ("unknown", json!(missing)),
                    ]),
                    explanation: explained_unknown(explain, &missing),
                    lines: vec![if yes { "published" } else { "unpublished" }.to_owned()],
                }
            }
            Asked::CanAssign {
                by,
                role,
                user,
                org,
                resources,
            } => {
                let (yes, missing, why) = self.can_assign(by, role, user, org, resources);
                let mut explanation = explained_unknown(explain, &missing);
                if explain {
                    if let Some(why) = &why {
                        explanation.push(format!("  {why}"));
                    }
                }
                Told {
                    json: object(vec![
                        ("question", json!("can_assign")),
                        ("by", json!(by)),
                        ("role", json!(role)),
                        ("user", json!(user)),
                        ("org", json!(org)),
                        (
                            "resources",
                            if resources.is_empty() {
                                Value::Null
                            } else {
                                json!(resources)
                            },
                        ),
                        ("allowed", json!(yes)),
                        ("unknown", json!(missing)),
                        (
                            "explanation",
                            if explain {
                                json!(explanation)
                            } else {
                                Value::Null
                            },
                        ),
                    ]),
                    explanation,
                    lines: vec![if yes { "allow" } else { "deny" }.to_owned()],
                }
            }
        }
    }

    fn roles_of(&self, user: &str, org: &str) -> (Vec<String>, Vec<String>) {
        match self.roles(user, org) {
            Ok(names) => (names, Vec::new()),
            Err(_) => (Vec::new(), self.unknown_user_org(user, org)),
        }
    }

    fn unknown_user_org(&self, user: &str, org: &str) -> Vec<String> {
        let (u, x) = match self {
            Engine::Sources(c) => (
                c.model.user_index.contains_key(user),
                c.model.org_index.contains_key(org),
            ),
            Engine::Table(t) => (t.user(user).is_some(), t.org(org).is_some()),
        };
        [
            (!u).then(|| unknown("user", user)),
            (!x).then(|| unknown("org", org)),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn who(
        &self,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
        explain: bool,
    ) -> Told {
        // A resource of an org is asked about at its org unless told otherwise.
        let (known_resource, resource_org) = match resource.map(|r| self.resource_org(r)) {
            None => (true, None),
            Some(Some(o)) => (true, o),
            Some(None) => (false, None),
        };
        let org_name = org.map(str::to_owned).or(resource_org).unwrap_or_default();
        let (org_known, perm_known) = match self {
            Engine::Sources(c) => (
                c.model.org_index.contains_key(&org_name),
                c.model.parse_permission(permission).is_some(),
            ),
            Engine::Table(t) => (
                t.org(&org_name).is_some(),
                t.permission(permission).is_some(),
            ),
        };
        let mut missing = Vec::new();
        if !perm_known {
            missing.push(unknown("permission", permission));
        }
        if org_name.is_empty() {
            missing.push(if known_resource && resource.is_some() {
                "org (none given, and the resource belongs to no org)".to_owned()
            } else {
                "org (none given)".to_owned()
            });
        } else if !org_known {
            missing.push(unknown("org", &org_name));
        }
        if let (false, Some(r)) = (known_resource, resource) {
            missing.push(unknown("resource", r));
        }
        let users: Vec<String> = if missing.is_empty() {
            self.allowed_users(permission, &org_name, resource)
        } else {
            Vec::new()
        };
        let mut explanations = Map::new();
        let mut text = explained_unknown(explain, &missing);
        let mut lines = Vec::new();
        for u in &users {
            if explain {
                let why = self
                    .answer(
                        &Question {
                            user: u.clone(),
                            org: org_name.clone(),
                            permission: permission.to_owned(),
                            resource: resource.map(str::to_owned),
                        },
                        true,
                    )
                    .explanation;
                text.push(u.clone());
                text.extend(why.iter().map(|l| format!("  {l}")));
                explanations.insert(u.clone(), json!(why));
            } else {
                lines.push(u.clone());
            }
        }
        Told {
            json: object(vec![
                ("question", json!("who")),
                ("permission", json!(permission)),
                ("org", json!(org_name)),
                ("resource", json!(resource)),
                ("users", json!(users)),
                ("unknown", json!(missing)),
                (
                    "explanations",
                    if explain {
                        Value::Object(explanations)
                    } else {
                        Value::Null
                    },
                ),
            ]),
            lines,
            explanation: text,
        }
    }

    /// The users allowed `permission` at `org` (known names), sorted.
    fn allowed_users(&self, permission: &str, org: &str, resource: Option<&str>) -> Vec<String> {
        let mut out: Vec<String> = match self {
            Engine::Sources(c) => {
                let m = &c.model;
                let (Some(&x), Some(p)) = (m.org_index.get(org), m.parse_permission(permission))
                else {
                    return Vec::new();
                };
                let q = resource.and_then(|r| m.resource_index.get(r).copied());
                m.user_index
                    .values()
                    .filter(|u| match resource {
                        None => m.allow(**u, p, x),
                        Some(_) => q.is_some_and(|q| m.allow_on(**u, p, x, Some(q))),
                    })
                    .map(|u| m.user(*u).id.clone())
                    .collect()
            }
            Engine::Table(t) => {
                let (Some(x), Some(p)) = (t.org(org), t.permission(permission)) else {
                    return Vec::new();
                };
                let q = resource.map(|r| t.resource(r));
                if matches!(q, Some(None)) {
                    return Vec::new();
                }
                t.who_on(p, x, q.flatten())
                    .into_iter()
                    .map(|u| t.user_name(u).to_owned())
                    .collect()
            }
        };
        out.sort();
        out
    }

    fn policies(&self, user: &str, org: &str) -> (Vec<String>, Vec<String>) {
        let missing = self.unknown_user_org(user, org);
        if !missing.is_empty() {
            return (Vec::new(), missing);
        }
        let mut names: Vec<String> = match self {
            Engine::Sources(c) => {
                let m = &c.model;
                match (m.user_index.get(user), m.org_index.get(org)) {
                    (Some(&u), Some(&x)) => m
                        .policies_at(u, x)
                        .into_iter()
                        .map(|p| m.policies[p.index()].id.clone())
                        .collect(),
                    _ => Vec::new(),
                }
            }
            Engine::Table(t) => match (t.user(user), t.org(org)) {
                (Some(u), Some(x)) => t
                    .policies(u, x)
                    .into_iter()
                    .map(|p| t.policy_name(p).to_owned())
                    .collect(),
                _ => Vec::new(),
            },
        };
        names.sort();
        names.dedup();
        (names, Vec::new())
    }

    fn published_roles(&self, org: &str) -> (Vec<String>, Vec<String>) {
        let mut names: Vec<String> = match self {
            Engine::Sources(c) => {
                let m = &c.model;
                let Some(&x) = m.org_index.get(org) else {
                    return (Vec::new(), vec![unknown("org", org)]);
                };
                (0..m.roles.len() as u32)
                    .map(RoleId)
                    .filter(|r| m.published(*r, x))
                    .map(|r| m.role_display(r))
                    .collect()
            }
            Engine::Table(t) => {
                let Some(x) = t.org(org) else {
                    return (Vec::new(), vec![unknown("org", org)]);
                };
                (0..t.role_count() as u32)
                    .map(trellis_table::Role)
                    .filter(|r| t.published(*r, x))
                    .map(|r| t.role_name(r).to_owned())
                    .collect()
            }
        };
        names.sort();
        (names, Vec::new())
    }

    fn published_one(&self, role: &str, org: &str) -> (bool, Vec<String>) {
        let (yes, r, x) = match self {
            Engine::Sources(c) => {
                let m = &c.model;
                let (r, x) = (model_role(m, role), m.org_index.get(org).copied());
                (
                    matches!((r, x), (Some(r), Some(x)) if m.published(r, x)),
                    r.is_some(),
                    x.is_some(),
                )
            }
            Engine::Table(t) => {
                let (r, x) = (t.role(role), t.org(org));
                (
                    matches!((r, x), (Some(r), Some(x)) if t.published(r, x)),
                    r.is_some(),
                    x.is_some(),
                )
            }
        };
        let missing = [
            (!r).then(|| unknown("role", role)),
            (!x).then(|| unknown("org", org)),
        ]
        .into_iter()
        .flatten()
        .collect();
        (yes, missing)
    }

    /// The verdict, the unknown names, and (from sources) why it is refused.
    fn can_assign(
        &self,
        by: &str,
        role: &str,
        user: &str,
        org: &str,
        resources: &BTreeMap<String, Vec<String>>,
    ) -> (bool, Vec<String>, Option<String>) {
        // `self` is the user assigning a role to themselves.
        let admin = if by == "self" { user } else { by };
        let mut missing = Vec::new();
        let known = |ok: bool, what: &str, name: &str, missing: &mut Vec<String>| {
            if !ok {
                missing.push(unknown(what, name));
            }
        };
        match self {
            Engine::Sources(c) => {
                let m = &c.model;
                let (a, r, u, x) = (
                    m.user_index.get(admin).copied(),
                    model_role(m, role),
                    m.user_index.get(user).copied(),
                    m.org_index.get(org).copied(),
                );
                known(a.is_some() || by == "self", "user", admin, &mut missing);
                known(r.is_some(), "role", role, &mut missing);
                known(u.is_some(), "user", user, &mut missing);
                known(x.is_some(), "org", org, &mut missing);
                let mut given = Vec::new();
                for (dim, ids) in resources {
                    let Some(&d) = m.dimension_index.get(dim) else {
                        missing.push(unknown("dimension", dim));
                        continue;
                    };
                    let mut list = Vec::new();
                    for id in ids {
                        match m.resource_index.get(id) {
                            Some(&q) if m.resources[q.index()].dim == d => list.push(q),
                            _ => missing.push(format!("resource `{id}` of dimension `{dim}`")),
                        }
                    }
                    list.sort();
                    list.dedup();
                    given.push((d, list));
                }
                given.sort_by_key(|(d, _)| *d);
                let given = trellis::model::Restriction::new(given);
                match (a, r, u, x) {
                    (Some(a), Some(r), Some(u), Some(x)) if missing.is_empty() => {
                        match m.can_assign_with(a, r, u, x, &given) {
                            Ok(()) => (true, missing, None),
                            Err(why) => (false, missing, Some(why)),
                        }
                    }
                    _ => (false, missing, None),
                }
            }
            Engine::Table(t) => {
                let (a, r, u, x) = (t.user(admin), t.role(role), t.user(user), t.org(org));
                known(a.is_some() || by == "self", "user", admin, &mut missing);
                known(r.is_some(), "role", role, &mut missing);
                known(u.is_some(), "user", user, &mut missing);
                known(x.is_some(), "org", org, &mut missing);
                let mut given: Vec<(trellis_table::Dimension, Vec<trellis_table::Resource>)> =
                    Vec::new();
                for (dim, ids) in resources {
                    let Some(d) = t.dimension(dim) else {
                        missing.push(unknown("dimension", dim));
                        continue;
                    };
                    let mut list = Vec::new();
                    for id in ids {
                        match t.resource(id) {
                            Some(q) if t.resource_dimension(q) == Some(d) => list.push(q),
                            _ => missing.push(format!("resource `{id}` of dimension `{dim}`")),
                        }
                    }
                    list.sort();
                    list.dedup();
                    given.push((d, list));
                }
                let borrowed: Vec<(trellis_table::Dimension, &[trellis_table::Resource])> =
                    given.iter().map(|(d, v)| (*d, v.as_slice())).collect();
                let yes = match (a, r, u, x) {
                    (Some(a), Some(r), Some(u), Some(x)) if missing.is_empty() => {
                        t.can_assign_with(a, r, u, x, &borrowed)
                    }
                    _ => false,
                };
                let why = (!yes && missing.is_empty()).then(|| {
                    "refused (a compiled table does not record why: ask the policy set for the reason)"
                        .to_owned()
                });
                (yes, missing, why)
            }
        }
    }
}

/// `  unknown user `x``, one line per unknown name, for `--explain`.
fn explained_unknown(explain: bool, missing: &[String]) -> Vec<String> {
    if explain {
        missing.iter().map(|m| format!("  unknown {m}")).collect()
    } else {
        Vec::new()
    }
}
