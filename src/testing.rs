//! `trellis test` (SPEC §10): expected diagnostics, then the cases.

use std::collections::BTreeSet;

use crate::diag::{Code, Diagnostics};
use crate::load::de::from_node;
use crate::load::raw::{RawCase, RawTestFile};
use crate::load::{self, Limits};
use crate::model::*;
use crate::source::{SourceMap, Span};
use crate::Checked;

/// One failed expectation, located in its test file.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `file:line` of the expectation.
    pub location: String,
    /// The case's name, if it has one.
    pub name: Option<String>,
    /// What was expected and what came instead.
    pub message: String,
}

/// What one expectation of a test file is: its `diagnostics` list, or a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseKind {
    /// The file's `diagnostics` expectation (present or not).
    Diagnostics,
    /// The case at this position (1-based) of the file's `tests`.
    Case(usize),
}

/// How one expectation came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It held.
    Passed,
    /// It did not: what was expected and what came instead, one per line.
    Failed(Vec<String>),
    /// It was not run (the set has errors).
    Skipped(String),
}

/// One expectation of a test file, run or not, for reports that list
/// every case (`trellis test --format json|junit`).
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The test file, as the diagnostics name it.
    pub file: String,
    /// Where the expectation is written (1-based).
    pub line: usize,
    /// Its column (1-based).
    pub column: usize,
    /// The `diagnostics` list or a case.
    pub kind: CaseKind,
    /// The case's `name`, if it has one.
    pub name: Option<String>,
    /// Passed, failed or skipped.
    pub outcome: Outcome,
}

impl CaseResult {
    /// The name a report shows: the case's `name`, or `case N` for an
    /// unnamed one, or `diagnostics`.
    pub fn title(&self) -> String {
        match (&self.kind, &self.name) {
            (CaseKind::Diagnostics, _) => "diagnostics".to_owned(),
            (CaseKind::Case(_), Some(n)) => n.clone(),
            (CaseKind::Case(i), None) => format!("case {i}"),
        }
    }
}

/// The outcome of running a set's test files.
#[derive(Debug, Default)]
pub struct Report {
    /// Expectations that held.
    pub passed: usize,
    /// Expectations that did not.
    pub failures: Vec<Failure>,
    /// Problems reading the test files themselves.
    pub test_file_diagnostics: Diagnostics,
    /// Every expectation of the test files that could be read: each file's
    /// `diagnostics` expectation, then each file's cases, in file order and
    /// then in the order written.
    pub cases: Vec<CaseResult>,
    /// The test files that could not be read, with their diagnostics.
    pub unreadable: Vec<String>,
}

fn loc(sources: &SourceMap, span: Span) -> String {
    let (s, _) = sources.line_col(span);
    format!("{}:{}:{}", sources.path(span.file), s.line, s.column)
}

fn case_at(
    sources: &SourceMap,
    span: Span,
    kind: CaseKind,
    name: Option<String>,
    outcome: Outcome,
) -> CaseResult {
    let (s, _) = sources.line_col(span);
    CaseResult {
        file: sources.path(span.file).to_owned(),
        line: s.line,
        column: s.column,
        kind,
        name,
        outcome,
    }
}

/// Runs every test file of a checked set.
pub fn run(checked: &mut Checked, limits: &Limits) -> Report {
    let mut report = Report::default();
    let paths = checked.test_paths.clone();
    let mut files = Vec::new();
    for path in &paths {
        let mut diags = Diagnostics::default();
        let Ok(Some(id)) = load::read_source(path, limits, &mut checked.sources, &mut diags) else {
            report.test_file_diagnostics.extend(diags);
            report.unreadable.push(path.display().to_string());
            continue;
        };
        let Some(root) = load::parse_tree(id, &checked.sources, limits, &mut diags) else {
            report.test_file_diagnostics.extend(diags);
            report.unreadable.push(checked.sources.path(id).to_owned());
            continue;
        };
        report.test_file_diagnostics.extend(diags);
        match from_node::<RawTestFile>(&root) {
            Ok(t) => files.push((id, t)),
            Err(e) => {
                report
                    .test_file_diagnostics
                    .push(e.into_diagnostic(root.span));
                report.unreadable.push(checked.sources.path(id).to_owned());
            }
        }
    }
    let has_errors = checked.diagnostics.has_errors();
    let mut actual: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
    actual.sort();
    for (id, file) in &files {
        let span = file
            .diagnostics
            .as_ref()
            .and_then(|d| d.first().map(|c| c.span))
            .unwrap_or(Span::file_start(*id));
        let mut expected = Vec::new();
        let mut bad = Vec::new();
        for c in file.diagnostics.iter().flatten() {
            match Code::parse(&c.value) {
                Some(code) => expected.push(code),
                None => {
                    let message = format!("unknown diagnostic code `{}`", c.value);
                    bad.push(message.clone());
                    report.failures.push(Failure {
                        location: loc(&checked.sources, c.span),
                        name: None,
                        message,
                    });
                }
            }
        }
        expected.sort();
        if !bad.is_empty() {
            report.cases.push(case_at(
                &checked.sources,
                span,
                CaseKind::Diagnostics,
                None,
                Outcome::Failed(bad),
            ));
            continue;
        }
        if expected == actual {
            report.passed += 1;
            report.cases.push(case_at(
                &checked.sources,
                span,
                CaseKind::Diagnostics,
                None,
                Outcome::Passed,
            ));
        } else {
            let show = |v: &[Code]| {
                if v.is_empty() {
                    "none".to_string()
                } else {
                    v.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
                }
            };
            let message = format!(
                "expected diagnostics [{}], got [{}]",
                show(&expected),
                show(&actual)
            );
            report.cases.push(case_at(
                &checked.sources,
                span,
                CaseKind::Diagnostics,
                None,
                Outcome::Failed(vec![message.clone()]),
            ));
            report.failures.push(Failure {
                location: loc(&checked.sources, span),
                name: None,
                message,
            });
        }
    }
    for (_, file) in &files {
        for (i, case) in file.tests.iter().enumerate() {
            let name = case.value.name.clone();
            let kind = CaseKind::Case(i + 1);
            if has_errors {
                report.cases.push(case_at(
                    &checked.sources,
                    case.span,
                    kind,
                    name,
                    Outcome::Skipped("the set has errors: cases were not run".to_owned()),
                ));
                continue;
            }
            let location = loc(&checked.sources, case.span);
            match run_case(&checked.model, &case.value) {
                Ok(()) => {
                    report.passed += 1;
                    report.cases.push(case_at(
                        &checked.sources,
                        case.span,
                        kind,
                        name,
                        Outcome::Passed,
                    ));
                }
                Err(messages) => {
                    for message in &messages {
                        report.failures.push(Failure {
                            location: location.clone(),
                            name: name.clone(),
                            message: message.clone(),
                        });
                    }
                    report.cases.push(case_at(
                        &checked.sources,
                        case.span,
                        kind,
                        name,
                        Outcome::Failed(messages),
                    ));
                }
            }
        }
    }
    report
}

fn org_of(m: &Model, name: &str) -> Result<OrgId, Vec<String>> {
    m.org_index
        .get(name)
        .copied()
        .ok_or_else(|| vec![format!("unknown org `{name}`")])
}

fn user_of(m: &Model, name: &str) -> Result<UserId, Vec<String>> {
    m.user_index
        .get(name)
        .copied()
        .ok_or_else(|| vec![format!("unknown user `{name}`")])
}

fn role_of(m: &Model, name: &str, scope: Scope) -> Result<RoleId, Vec<String>> {
    m.resolve_role(name, scope).ok_or_else(|| {
        vec![format!(
            "role `{name}` resolves to no role from `{}`",
            m.scope_name(scope)
        )]
    })
}

/// A `resources` map of a `can_assign` case; an unknown dimension or
/// resource makes the case malformed.
fn restriction_of(
    m: &Model,
    raw: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<crate::model::Restriction, Vec<String>> {
    let mut out = Vec::new();
    for (dim, ids) in raw {
        let Some(&d) = m.dimension_index.get(dim) else {
            return Err(vec![format!("unknown dimension `{dim}` in `resources`")]);
        };
        let mut v = Vec::new();
        for id in ids {
            match m.resource_index.get(id) {
                Some(&r) if m.resources[r.index()].dim == d => v.push(r),
                Some(_) => {
                    return Err(vec![format!("resource `{id}` is not of dimension `{dim}`")])
                }
                None => return Err(vec![format!("unknown resource `{id}` in `resources`")]),
            }
        }
        v.sort();
        v.dedup();
        out.push((d, v));
    }
    out.sort_by_key(|(d, _)| *d);
    Ok(crate::model::Restriction::new(out))
}

fn list(names: impl IntoIterator<Item = String>) -> String {
    let v: Vec<String> = names.into_iter().collect();
    format!("[{}]", v.join(", "))
}

fn run_case(m: &Model, c: &RawCase) -> Result<(), Vec<String>> {
    let mut failures = Vec::new();
    if let Some(ca) = &c.can_assign {
        let Some(expect) = c.expect else {
            return Err(vec!["a `can_assign` case needs `expect: true|false`".into()]);
        };
        let user = user_of(m, &ca.user.value)?;
        let admin = if ca.by.value == "self" {
            user
        } else {
            user_of(m, &ca.by.value)?
        };
        let org = match &ca.org {
            Some(o) => org_of(m, &o.value)?,
            None => m.user(user).home,
        };
        let role = role_of(m, &ca.role.value, Scope::Org(org))?;
        let given = restriction_of(m, &ca.resources)?;
        let got = m.can_assign_with(admin, role, user, org, &given);
        if got.is_ok() != expect {
            let why = match &got {
                Ok(()) => String::new(),
                Err(w) => format!(" ({w})"),
            };
            failures.push(format!(
                "can_assign by `{}` of `{}` to `{}` at `{}`: expected {expect}, got {}{why}",
                ca.by.value,
                ca.role.value,
                ca.user.value,
                m.org(org).id,
                got.is_ok()
            ));
        }
        return if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        };
    }
    // A question about a resource (its org by default); an unknown one
    // answers deny.
    let resource = c
        .resource
        .as_ref()
        .map(|r| (r, m.resource_index.get(&r.value).copied()));
    let default_org = match resource {
        Some((_, Some(q))) => m.resources[q.index()].org.map(|o| m.org(o).id.clone()),
        _ => None,
    };
    // An unknown resource answers deny, even with no org to ask at.
    if let (Some((name, None)), None) = (resource, &c.org) {
        if c.roles.is_some() || c.published.is_some() || c.unpublished.is_some() {
            return Err(vec![
                "`roles`, `published` and `unpublished` need `org` (the resource is unknown)"
                    .into(),
            ]);
        }
        let failures: Vec<String> = c
            .allow
            .iter()
            .flatten()
            .map(|p| {
                format!(
                    "expected allow `{}` on unknown resource `{}`, got deny",
                    p.value, name.value
                )
            })
            .collect();
        return if failures.is_empty() {
            Ok(())
        } else {
            Err(failures)
        };
    }
    let org_name = match (&c.org, default_org) {
        (Some(o), _) => o.clone(),
        (None, Some(o)) => crate::source::Located::new(
            o,
            c.resource
                .as_ref()
                .map_or_else(Default::default, |r| r.span),
        ),
        (None, None) if resource.is_some_and(|(_, q)| q.is_some()) => {
            return Err(vec!["a case about a resource of no org needs `org`".into()]);
        }
        (None, None) => return Err(vec!["a case needs `org` (or `can_assign`)".into()]),
    };
    let org_name = &org_name;
    let org = org_of(m, &org_name.value)?;
    let scope = Scope::Org(org);
    let wants_user = c.allow.is_some() || c.deny.is_some() || c.roles.is_some();
    if !wants_user && c.published.is_none() && c.unpublished.is_none() {
        return Err(vec![
            "the case checks nothing: give `allow`, `deny`, `roles`, `published` or `unpublished`"
                .into(),
        ]);
    }
    if wants_user {
        let Some(user_name) = &c.user else {
            return Err(vec!["`allow`, `deny` and `roles` need `user`".into()]);
        };
        let user = user_of(m, &user_name.value)?;
        for (list_, want) in [(&c.allow, true), (&c.deny, false)] {
            for p in list_.iter().flatten() {
                if !p.value.contains(':') {
                    failures.push(format!("malformed permission `{}`", p.value));
                    continue;
                }
                let got = match resource {
                    None => m
                        .parse_permission(&p.value)
                        .is_some_and(|pid| m.allow(user, pid, org)),
                    Some((_, None)) => false,
                    Some((_, Some(q))) => m
                        .parse_permission(&p.value)
                        .is_some_and(|pid| m.allow_on(user, pid, org, Some(q))),
                };
                if got != want {
                    failures.push(format!(
                        "`{}` at `{}`: expected {} `{}`, got {}",
                        user_name.value,
                        org_name.value,
                        if want { "allow" } else { "deny" },
                        p.value,
                        if got { "allow" } else { "deny" }
                    ));
                }
            }
        }
        if let Some(expected) = &c.roles {
            let mut want = BTreeSet::new();
            for r in expected {
                match role_of(m, &r.value, scope) {
                    Ok(id) => {
                        want.insert(id);
                    }
                    Err(e) => failures.extend(e),
                }
            }
            let got = m.roles_at(user, org);
            if got != want {
                failures.push(format!(
                    "roles of `{}` at `{}`: expected {}, got {}",
                    user_name.value,
                    org_name.value,
                    list(expected.iter().map(|r| r.value.clone())),
                    list({
                        let mut g: Vec<String> = got.iter().map(|r| m.role_display(*r)).collect();
                        g.sort();
                        g
                    })
                ));
            }
        }
    }
    for (names, want) in [(&c.published, true), (&c.unpublished, false)] {
        for r in names.iter().flatten() {
            match role_of(m, &r.value, scope) {
                Ok(id) => {
                    let got = m.published(id, org);
                    if got != want {
                        failures.push(format!(
                            "role `{}` at `{}`: expected {}, got {}",
                            r.value,
                            org_name.value,
                            if want { "published" } else { "unpublished" },
                            if got { "published" } else { "unpublished" }
                        ));
                    }
                }
                Err(e) => failures.extend(e),
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}
