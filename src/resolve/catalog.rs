//! The catalog (SPEC §2): modules, their actions and permissions, access
//! policies, and permission patterns.

use fixedbitset::FixedBitSet;

use super::*;
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::load::is_valid_id;
use crate::model::HashMap;
use crate::model::*;
use crate::source::{Located, Span};

impl Builder<'_> {
    // ------------------------------------------------------------- catalog

    pub(super) fn catalog(&mut self) {
        let mut perms = 0u32;
        let modules: Vec<_> = self
            .files()
            .filter(|(_, s)| *s == Scope::Provider)
            .flat_map(|(f, _)| f.modules.iter())
            .collect();
        for item in modules {
            if let Some(first) = self.model.module_index.get(&item.id.value) {
                let d = dup(
                    "module",
                    &item.id.value,
                    item.id.span,
                    self.model.modules[first.index()].span,
                );
                self.diags.push(d);
                continue;
            }
            let mut actions: Vec<String> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for a in &item.body.actions {
                if !is_valid_id(&a.value) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::E002,
                            a.span,
                            format!("invalid action id `{}`", a.value),
                        )
                        .with_help("action ids are lowercase letters, digits, `_`, `.` and `-`"),
                    );
                    continue;
                }
                if let Some(first) = seen.get(a.value.as_str()) {
                    let d = dup("action", &a.value, a.span, *first);
                    self.diags.push(d);
                    continue;
                }
                seen.insert(&a.value, a.span);
                actions.push(a.value.clone());
            }
            let dimension = item
                .body
                .dimension
                .as_ref()
                .and_then(|d| self.dimension_ref(d));
            let id = ModuleId(self.model.modules.len() as u32);
            for i in 0..actions.len() {
                self.model.perms.push((id, i as u32));
            }
            self.model.module_index.insert(item.id.value.clone(), id);
            self.model.modules.push(Module {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                first_perm: perms,
                gated: item.body.gated,
                span: item.id.span,
                actions,
                dimension,
            });
            perms = self.model.perms.len() as u32;
        }
        let policies: Vec<_> = self
            .files()
            .filter(|(_, s)| *s == Scope::Provider)
            .flat_map(|(f, _)| f.policies.iter())
            .collect();
        for item in policies {
            if let Some(first) = self.model.policy_index.get(&item.id.value) {
                let d = dup(
                    "policy",
                    &item.id.value,
                    item.id.span,
                    self.model.policies[first.index()].span,
                );
                self.diags.push(d);
                continue;
            }
            let mut modules = Vec::new();
            for m in &item.body.modules {
                match self.model.module_index.get(&m.value) {
                    Some(id) => modules.push(*id),
                    None => {
                        let cands = self.model.module_index.keys().map(String::as_str).collect();
                        let d = self.unknown("module", m, cands);
                        self.diags.push(d);
                    }
                }
            }
            let id = PolicyId(self.model.policies.len() as u32);
            self.model.policy_index.insert(item.id.value.clone(), id);
            self.model.policies.push(Policy {
                description: item.body.description.clone(),
                id: item.id.value.clone(),
                modules,
                span: item.id.span,
            });
        }
    }

    /// Expands a permission pattern to permissions, or reports why it cannot.
    pub(super) fn pattern(&mut self, p: &Located<String>) -> Option<FixedBitSet> {
        let mut set = FixedBitSet::with_capacity(self.model.perms.len());
        let Some((module, action)) = p.value.split_once(':') else {
            self.diags.push(
                Diagnostic::new(
                    Code::E002,
                    p.span,
                    format!("malformed permission pattern `{}`", p.value),
                )
                .with_help("write `module:action`, `module:*`, `*:action` or `*:*`"),
            );
            return None;
        };
        let ok = |s: &str| s == "*" || is_valid_id(s);
        if !ok(module) || !ok(action) {
            self.diags.push(
                Diagnostic::new(
                    Code::E002,
                    p.span,
                    format!("malformed permission pattern `{}`", p.value),
                )
                .with_help("write `module:action`, `module:*`, `*:action` or `*:*`"),
            );
            return None;
        }
        let modules: Vec<ModuleId> = if module == "*" {
            (0..self.model.modules.len() as u32).map(ModuleId).collect()
        } else {
            match self.model.module_index.get(module) {
                Some(m) => vec![*m],
                None => {
                    let mut d = Diagnostic::new(
                        Code::E004,
                        p.span,
                        format!("unknown module `{module}` in `{}`", p.value),
                    )
                    .with_label("no module of this id");
                    if let Some(s) =
                        did_you_mean(module, self.model.module_index.keys().map(String::as_str))
                    {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    self.diags.push(d);
                    return None;
                }
            }
        };
        for m in &modules {
            let module_def = &self.model.modules[m.index()];
            for (i, a) in module_def.actions.iter().enumerate() {
                if action == "*" || a == action {
                    set.insert(module_def.first_perm as usize + i);
                }
            }
        }
        if set.is_clear() {
            let mut d = if module == "*" {
                Diagnostic::new(
                    Code::E004,
                    p.span,
                    format!("pattern `{}` matches no permission", p.value),
                )
            } else {
                Diagnostic::new(
                    Code::E004,
                    p.span,
                    format!("unknown action `{action}` of module `{module}`"),
                )
            };
            d = d.with_label("matches nothing in the catalog");
            if module != "*" {
                let actions = &self.model.modules[modules[0].index()].actions;
                if let Some(s) = did_you_mean(action, actions.iter().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{module}:{s}`?"));
                }
            }
            self.diags.push(d);
            return None;
        }
        Some(set)
    }
}
