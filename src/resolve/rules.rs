//! Exclusions (SPEC §6) and automatic rules (§9).

use super::*;
use crate::load::raw::{Descendants, RawAt};
use crate::model::*;
use crate::source::Located;

impl Builder<'_> {
    // ---------------------------------------------------------- exclusions

    fn unique_name(&mut self, scope: Scope, what: &'static str, name: &Located<String>) {
        let key = (scope, what, name.value.clone());
        if let Some(first) = self.names_seen.get(&key) {
            let d = dup(what, &name.value, name.span, *first)
                .with_note(format!("{what} names are unique within a scope"));
            self.diags.push(d);
        } else {
            self.names_seen.insert(key, name.span);
        }
    }

    pub(super) fn exclusions(&mut self) {
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.exclusions.iter().map(move |e| (e, s)))
            .collect();
        for (e, scope) in items {
            if let Some(n) = &e.value.name {
                let n = Located::new(n.value.clone(), n.span);
                self.unique_name(scope, "exclusion", &n);
            }
            let mut roles = Vec::new();
            for r in &e.value.roles {
                if let Some(id) = self.role_ref(r, scope) {
                    if !roles.contains(&id) {
                        roles.push(id);
                    }
                }
            }
            self.model.exclusions.push(Exclusion {
                description: e.value.description.clone(),
                name: e.value.name.as_ref().map(|n| n.value.clone()),
                scope,
                roles,
                max: e.value.max.as_ref().map(|m| m.value).unwrap_or(1),
                per: match e.value.per.unwrap_or_default() {
                    crate::load::raw::Per::User => Per::User,
                    crate::load::raw::Per::Org => Per::Org,
                },
                span: e.span,
            });
        }
    }

    // --------------------------------------------------------------- rules

    pub(super) fn rules(&mut self) {
        let items: Vec<_> = self
            .files()
            .flat_map(|(f, s)| f.automatic.iter().map(move |r| (r, s)))
            .collect();
        for (r, scope) in items {
            let raw = &r.value;
            if let Some(n) = &raw.name {
                let n = Located::new(n.value.clone(), n.span);
                self.unique_name(scope, "rule", &n);
            }
            let locked = match (&raw.locked, scope) {
                (Some(l), Scope::Provider) => l.value,
                (None, Scope::Provider) => true,
                (l, _) => self.tenant_locked(l.as_ref(), scope, "automatic rules"),
            };
            let w = raw.when.clone().unwrap_or_default();
            let mut when = Condition {
                owner: w.owner,
                identity: w.identity.as_ref().map(|k| k.value.clone()),
                org_kind: w.org_kind.as_ref().map(|k| k.value.clone()),
                org: None,
                attributes: w
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let mut ok = true;
            if let Some(o) = &w.org {
                when.org = self.org_ref(o);
                ok &= when.org.is_some();
            }
            if let (Some(k), true) = (&w.org_kind, self.model.kinds_declared) {
                ok &= self.kind_ref(k).is_some();
            }
            let mut grants = Vec::new();
            for g in &raw.grant {
                let mut roles = Vec::new();
                for name in &g.value.roles {
                    if let Some(id) = self.role_ref(name, scope) {
                        if scope != Scope::Provider && self.model.role(id).locked {
                            self.locked_role_use(id, name.span, "granted by an automatic rule");
                        }
                        roles.push((id, name.span));
                    }
                }
                let mut at = Vec::new();
                for place in &g.value.at {
                    match &place.value {
                        RawAt::Home(_) => at.push(Place::Home),
                        RawAt::Descendants {
                            descendants: Descendants::Any(_),
                        } => at.push(Place::Descendants(None)),
                        RawAt::Descendants {
                            descendants: Descendants::Kinds(kinds),
                        } => {
                            if self.model.kinds_declared {
                                let mut ids = Vec::new();
                                for k in kinds {
                                    if let Some(id) = self.kind_ref(k) {
                                        ids.push(id);
                                    }
                                }
                                at.push(Place::Descendants(Some(ids)));
                            } else {
                                at.push(Place::DescendantLabels(
                                    kinds.iter().map(|k| k.value.clone()).collect(),
                                ));
                            }
                        }
                    }
                }
                let resources = self.restriction(g.value.resources.as_ref(), scope);
                grants.push(RuleGrant {
                    roles,
                    at,
                    inherit: g.value.inherit.unwrap_or(false),
                    span: g.span,
                    resources,
                });
            }
            if !ok {
                continue;
            }
            let index = self.model.rules.len() as u32;
            let anchor = when.org.or(match scope {
                Scope::Org(o) => Some(o),
                Scope::Provider => None,
            });
            match (anchor, &when.org_kind) {
                (Some(o), _) => self.model.org_rules.entry(o).or_default().push(index),
                (None, Some(kind)) => {
                    let rules = self.model.kind_rules.entry(kind.clone()).or_default();
                    rules.push(index);
                }
                (None, None) => self.model.any_rules.push(index),
            }
            self.model.rules.push(Rule {
                description: raw.description.clone(),
                name: raw.name.as_ref().map(|n| n.value.clone()),
                scope,
                when,
                grants,
                locked,
                span: r.span,
            });
        }
    }
}
