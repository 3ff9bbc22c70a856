//! Seeded random policy sets for tests (SPEC §2–§9).
//!
//! [`generate`] builds one set from a seed; the same seed gives the same
//! files, byte for byte, on every machine ([`Set::write`] puts them in a
//! directory). A set covers: modules (some gated) and access policies with
//! policy assignments; declared kinds (or, now and then, free kind labels);
//! an org tree several levels deep, parts of it declared in tenant files;
//! users of several identity types, owners, attributes; role types with
//! `includes`, `from` + `remove`, `identity_types`, `status: disabled`,
//! `published: false`, `locked: true`; tenant files (`scope: <org>`, YAML or
//! TOML) at several depths with custom roles (shadowing now and then),
//! tenant assignments (user and org, `inherit` true/false), tenant
//! publications, non-publications and re-publications below them; provider
//! publications and non-publications, some locked; locked provider
//! assignments; automatic rules in provider files (locked by default, some
//! `locked: false`) and in tenant files, with `when` on owner, type,
//! org_kind, org and attributes and `at: [self, {descendants: [kinds]},
//! {descendants: any}]`, `inherit` true/false.
//!
//! The generator avoids most errors (an assignment where its role is not
//! published, E007, or of a role its user's type may not hold, E009, is
//! usually dropped) but leaves some in, and never avoids E011: tenant
//! entries near provider locks are made on purpose. About one set in ten
//! has a tenant file that names a role of a sibling (or of a sub-tenant) as
//! `owner::name`, which SPEC §14.11 makes E010; [`Set::sibling_refs`] says
//! where.
//!
//! Besides the files, a [`Set`] lists every publication entry it wrote
//! (file, line, scope, the role name as written) and every role's
//! definition (grants, includes, from, remove), so that tests can judge the
//! set without trusting the resolver.

use std::collections::HashSet;
use std::path::Path;

/// SplitMix64: small, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<T: Clone>(&mut self, v: &[T]) -> Option<T> {
        if v.is_empty() {
            None
        } else {
            Some(v[self.below(v.len())].clone())
        }
    }
    /// Between 1 and `max` distinct elements (none when `v` is empty), in `v`'s order.
    pub fn some_of<T: Clone>(&mut self, v: &[T], max: usize) -> Vec<T> {
        if v.is_empty() {
            return Vec::new();
        }
        let k = self.range(1, max.min(v.len()).max(1));
        let mut idx: Vec<usize> = (0..v.len()).collect();
        for i in 0..k {
            let j = i + self.below(idx.len() - i);
            idx.swap(i, j);
        }
        let mut chosen = idx[..k].to_vec();
        chosen.sort_unstable();
        chosen.into_iter().map(|i| v[i].clone()).collect()
    }
}

// ------------------------------------------------------------------ output

/// One publication entry as written.
#[derive(Clone, Debug)]
pub struct PubRecord {
    /// Path relative to the set's root, with `/`.
    pub file: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// `None` for the provider, else the tenant file's scope org.
    pub scope: Option<String>,
    /// The role name exactly as written (bare or `owner::name`).
    pub role: String,
    pub org: String,
    pub publish: bool,
    pub locked: bool,
}

/// A role definition as written (its names resolved by the generator).
#[derive(Clone, Debug)]
pub struct RoleRecord {
    /// `None` for a role type, else the owner org.
    pub owner: Option<String>,
    pub name: String,
    pub grants: Vec<String>,
    /// Indices into [`Set::roles`].
    pub includes: Vec<usize>,
    pub from: Option<usize>,
    pub remove: Vec<String>,
}

/// A place that SPEC §14.11 makes E010: a tenant file naming a role of an
/// owner that is neither the provider nor the file's scope nor an ancestor.
#[derive(Clone, Debug)]
pub struct SiblingRef {
    pub file: String,
    pub line: usize,
    /// The role as written (`owner::name`).
    pub role: String,
}

/// A generated policy set.
#[derive(Clone, Debug)]
pub struct Set {
    pub seed: u64,
    /// (relative path, text), in path order.
    pub files: Vec<(String, String)>,
    pub pubs: Vec<PubRecord>,
    pub roles: Vec<RoleRecord>,
    /// Module id and its actions.
    pub modules: Vec<(String, Vec<String>)>,
    pub sibling_refs: Vec<SiblingRef>,
}

impl Set {
    /// Writes the files under `dir` (which must exist).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, text) in &self.files {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, text)?;
        }
        Ok(())
    }
}

/// Generates the set of `seed` and writes it under `dir`.
pub fn write_set(seed: u64, dir: &Path) -> Set {
    let set = generate(seed);
    if let Err(e) = set.write(dir) {
        panic!("seed {seed}: cannot write the set: {e}");
    }
    set
}

// ------------------------------------------------------------ value tree

/// An inline (flow) value, rendered as YAML flow or TOML inline.
#[derive(Clone, Debug)]
enum V {
    S(String),
    B(bool),
    L(Vec<V>),
    M(Vec<(String, V)>),
}

fn st(s: impl Into<String>) -> V {
    V::S(s.into())
}

fn strs<S: AsRef<str>>(v: &[S]) -> V {
    V::L(v.iter().map(|s| st(s.as_ref())).collect())
}

fn plain_yaml(s: &str) -> bool {
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
        && !matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off")
        && s.parse::<f64>().is_err()
}

fn quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl V {
    fn yaml(&self, out: &mut String) {
        match self {
            V::S(s) if plain_yaml(s) => out.push_str(s),
            V::S(s) => out.push_str(&quoted(s)),
            V::B(b) => out.push_str(if *b { "true" } else { "false" }),
            V::L(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.yaml(out);
                }
                out.push(']');
            }
            V::M(items) => {
                out.push_str("{ ");
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push_str(": ");
                    v.yaml(out);
                }
                out.push_str(" }");
            }
        }
    }
    fn toml(&self, out: &mut String) {
        match self {
            V::S(s) => out.push_str(&quoted(s)),
            V::B(b) => out.push_str(if *b { "true" } else { "false" }),
            V::L(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.toml(out);
                }
                out.push(']');
            }
            V::M(items) => {
                out.push_str("{ ");
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push_str(" = ");
                    v.toml(out);
                }
                out.push_str(" }");
            }
        }
    }
}

/// A builder of `V::M` that skips absent keys.
#[derive(Default)]
struct Obj(Vec<(String, V)>);

impl Obj {
    fn with(mut self, k: &str, v: V) -> Obj {
        self.0.push((k.to_owned(), v));
        self
    }
    fn opt(self, k: &str, v: Option<V>) -> Obj {
        match v {
            Some(v) => self.with(k, v),
            None => self,
        }
    }
    fn v(self) -> V {
        V::M(self.0)
    }
}

#[derive(Clone, Copy, Debug)]
enum Mark {
    Pub(usize),
    Sibling(usize),
}

const MAP_SECTIONS: [&str; 6] = ["modules", "policies", "kinds", "orgs", "users", "roles"];
const LIST_SECTIONS: [&str; 3] = ["assignments", "publications", "automatic"];

/// One policy file being built.
struct Doc {
    path: String,
    scope: String,
    toml: bool,
    maps: [Vec<(String, V)>; 6],
    lists: [Vec<(V, Vec<Mark>)>; 3],
}

impl Doc {
    fn new(path: String, scope: String, toml: bool) -> Doc {
        Doc {
            path,
            scope,
            toml,
            maps: Default::default(),
            lists: Default::default(),
        }
    }
    fn put(&mut self, section: usize, key: &str, v: V) {
        self.maps[section].push((key.to_owned(), v));
    }
    fn push(&mut self, section: usize, v: V, marks: Vec<Mark>) {
        self.lists[section].push((v, marks));
    }
    /// The text, and the line of every mark.
    fn render(&self) -> (String, Vec<(Mark, usize)>) {
        let mut out = String::new();
        let mut marks = Vec::new();
        let mut line = 1;
        let emit = |out: &mut String, s: &str, line: &mut usize| {
            out.push_str(s);
            out.push('\n');
            *line += 1;
        };
        if self.toml {
            emit(
                &mut out,
                &format!("scope = {}", quoted(&self.scope)),
                &mut line,
            );
            for (si, items) in self.lists.iter().enumerate() {
                if items.is_empty() {
                    continue;
                }
                emit(&mut out, &format!("{} = [", LIST_SECTIONS[si]), &mut line);
                for (v, ms) in items {
                    let mut s = String::from("  ");
                    v.toml(&mut s);
                    s.push(',');
                    marks.extend(ms.iter().map(|m| (*m, line)));
                    emit(&mut out, &s, &mut line);
                }
                emit(&mut out, "]", &mut line);
            }
            for (si, items) in self.maps.iter().enumerate() {
                if items.is_empty() {
                    continue;
                }
                emit(&mut out, &format!("[{}]", MAP_SECTIONS[si]), &mut line);
                for (k, v) in items {
                    let mut s = format!("{k} = ");
                    v.toml(&mut s);
                    emit(&mut out, &s, &mut line);
                }
            }
        } else {
            emit(&mut out, &format!("scope: {}", self.scope), &mut line);
            for (si, items) in self.maps.iter().enumerate() {
                if items.is_empty() {
                    continue;
                }
                emit(&mut out, &format!("{}:", MAP_SECTIONS[si]), &mut line);
                for (k, v) in items {
                    let mut s = format!("  {k}: ");
                    v.yaml(&mut s);
                    emit(&mut out, &s, &mut line);
                }
            }
            for (si, items) in self.lists.iter().enumerate() {
                if items.is_empty() {
                    continue;
                }
                emit(&mut out, &format!("{}:", LIST_SECTIONS[si]), &mut line);
                for (v, ms) in items {
                    let mut s = String::from("  - ");
                    v.yaml(&mut s);
                    marks.extend(ms.iter().map(|m| (*m, line)));
                    emit(&mut out, &s, &mut line);
                }
            }
        }
        (out, marks)
    }
}

// ------------------------------------------------------------ the world

const KINDS: [(&str, &[&str]); 4] = [
    ("top", &[]),
    ("mid", &["top"]),
    ("unit", &["top", "mid", "unit"]),
    ("lab", &["mid", "unit"]),
];
const TYPES: [&str; 3] = ["employee", "contractor", "service"];
const DEPARTMENTS: [&str; 3] = ["it", "finance", "ops"];
const REGIONS: [&str; 2] = ["eu", "us"];
const ROLE_NAMES: [&str; 12] = [
    "viewer",
    "editor",
    "admin",
    "auditor",
    "clerk",
    "approver",
    "operator",
    "support",
    "manager",
    "analyst",
    "beta-user",
    "reader",
];
const CUSTOM_BASES: [&str; 5] = ["local", "team", "desk", "lead", "crew"];

struct GOrg {
    id: String,
    parent: Option<usize>,
    kind: Option<&'static str>,
    /// `None`: the provider file; else the tenant scope (an org index).
    declared_in: Option<usize>,
    named: bool,
}

struct GUser {
    id: String,
    home: usize,
    ty: Option<&'static str>,
    owner: bool,
    attrs: Vec<(&'static str, &'static str)>,
    declared_in: Option<usize>,
}

struct GRole {
    owner: Option<usize>,
    name: String,
    grants: Vec<String>,
    includes: Vec<usize>,
    from: Option<usize>,
    remove: Vec<String>,
    ident: Option<Vec<&'static str>>,
    disabled: bool,
    /// `Some(true)` is written `status: active`.
    status_written: bool,
    published: bool,
    locked: bool,
    assignable_by: Vec<usize>,
    self_service: Option<bool>,
    description: bool,
}

#[derive(Clone)]
struct GPub {
    scope: Option<usize>,
    role: usize,
    org: usize,
    publish: bool,
    write_publish: bool,
    locked: bool,
    /// Names a role the file may not see (SPEC §14.11).
    sibling: bool,
}

#[derive(Clone, Copy)]
enum What {
    Role(usize),
    Policy(usize),
}

struct GAsg {
    scope: Option<usize>,
    what: What,
    user: Option<usize>,
    /// `None`: the user's home (not written).
    org: Option<usize>,
    inherit: Option<bool>,
    locked: bool,
    sibling: bool,
}

enum GPlace {
    Home,
    Kinds(Vec<&'static str>),
    Any,
}

struct GGrant {
    roles: Vec<usize>,
    at: Vec<GPlace>,
    inherit: Option<bool>,
    description: bool,
}

#[derive(Default)]
struct GCond {
    owner: Option<bool>,
    ty: Option<&'static str>,
    org_kind: Option<&'static str>,
    org: Option<usize>,
    attrs: Vec<(&'static str, &'static str)>,
}

struct GRule {
    scope: Option<usize>,
    name: Option<String>,
    when: GCond,
    grants: Vec<GGrant>,
    locked: Option<bool>,
    /// Names a role the file may not see (SPEC §14.11).
    sibling: bool,
}

struct G {
    rng: Rng,
    kinds_declared: bool,
    modules: Vec<(String, Vec<String>, bool)>,
    policies: Vec<(String, Vec<String>)>,
    orgs: Vec<GOrg>,
    users: Vec<GUser>,
    roles: Vec<GRole>,
    /// Tenant scopes (org indices), parents before children.
    tenants: Vec<usize>,
    tenant_toml: Vec<bool>,
    pubs: Vec<GPub>,
    asgs: Vec<GAsg>,
    rules: Vec<GRule>,
}

/// Generates the set of `seed` (deterministic).
pub fn generate(seed: u64) -> Set {
    let mut g = G {
        rng: Rng::new(seed),
        kinds_declared: false,
        modules: Vec::new(),
        policies: Vec::new(),
        orgs: Vec::new(),
        users: Vec::new(),
        roles: Vec::new(),
        tenants: Vec::new(),
        tenant_toml: Vec::new(),
        pubs: Vec::new(),
        asgs: Vec::new(),
        rules: Vec::new(),
    };
    g.catalog();
    g.org_tree();
    g.choose_tenants();
    g.place_orgs();
    g.make_users();
    g.provider_roles();
    g.custom_roles();
    g.provider_assignments();
    g.provider_rules();
    g.provider_publications();
    g.tenant_items();
    g.sibling_injection();
    g.drop_most_errors();
    g.render(seed)
}

impl G {
    // ----------------------------------------------------------- tree helpers

    fn is_anc_or_self(&self, a: usize, x: usize) -> bool {
        let mut cur = Some(x);
        while let Some(c) = cur {
            if c == a {
                return true;
            }
            cur = self.orgs[c].parent;
        }
        false
    }
    fn depth(&self, x: usize) -> usize {
        let mut d = 0;
        let mut cur = self.orgs[x].parent;
        while let Some(c) = cur {
            d += 1;
            cur = self.orgs[c].parent;
        }
        d
    }
    fn subtree(&self, x: usize) -> Vec<usize> {
        (0..self.orgs.len())
            .filter(|&o| self.is_anc_or_self(x, o))
            .collect()
    }
    fn strict_below(&self, x: usize) -> Vec<usize> {
        (0..self.orgs.len())
            .filter(|&o| o != x && self.is_anc_or_self(x, o))
            .collect()
    }
    fn in_scope(&self, x: usize, scope: Option<usize>) -> bool {
        scope.is_none_or(|s| self.is_anc_or_self(s, x))
    }

    // ---------------------------------------------------------- role helpers

    /// May a file of `scope` name role `r` (SPEC §14.11)?
    fn visible(&self, r: usize, scope: Option<usize>) -> bool {
        match (self.roles[r].owner, scope) {
            (None, _) | (_, None) => true,
            (Some(t), Some(s)) => self.is_anc_or_self(t, s),
        }
    }
    /// A bare name in a file of `scope` (SPEC §4).
    fn resolve_bare(&self, name: &str, scope: Option<usize>) -> Option<usize> {
        let mut cur = scope;
        while let Some(s) = cur {
            if let Some(r) = self
                .roles
                .iter()
                .position(|r| r.owner == Some(s) && r.name == name)
            {
                return Some(r);
            }
            cur = self.orgs[s].parent;
        }
        self.roles
            .iter()
            .position(|r| r.owner.is_none() && r.name == name)
    }
    fn qualified(&self, r: usize) -> String {
        let owner = match self.roles[r].owner {
            None => "provider".to_owned(),
            Some(o) => self.orgs[o].id.clone(),
        };
        format!("{owner}::{}", self.roles[r].name)
    }
    /// How a file of `scope` writes role `r`: the bare name when it
    /// resolves to `r` (mostly), else `owner::name`.
    fn ref_name(&mut self, r: usize, scope: Option<usize>) -> String {
        if self.resolve_bare(&self.roles[r].name, scope) == Some(r) && !self.rng.chance(0.15) {
            self.roles[r].name.clone()
        } else {
            self.qualified(r)
        }
    }
    /// Roles a file of `scope` may name and use (visible, not locked unless provider).
    fn usable(&self, scope: Option<usize>) -> Vec<usize> {
        (0..self.roles.len())
            .filter(|&r| self.visible(r, scope) && (scope.is_none() || !self.roles[r].locked))
            .collect()
    }
    /// Publication as the generator sees it (every entry it wrote counts).
    fn published(&self, r: usize, x: usize) -> bool {
        let mut cur = Some(x);
        while let Some(c) = cur {
            if let Some(p) = self
                .pubs
                .iter()
                .find(|p| !p.sibling && p.role == r && p.org == c)
            {
                return p.publish;
            }
            cur = self.orgs[c].parent;
        }
        let role = &self.roles[r];
        role.published && role.owner.is_none_or(|o| self.is_anc_or_self(o, x))
    }

    // ---------------------------------------------------------------- catalog

    fn catalog(&mut self) {
        let r = &mut self.rng;
        let mut modules: Vec<(String, Vec<String>, bool)> = vec![
            (
                "docs".into(),
                vec!["read".into(), "write".into(), "delete".into()],
                false,
            ),
            (
                "pay".into(),
                vec!["enter".into(), "approve".into(), "export".into()],
                false,
            ),
        ];
        if r.chance(0.7) {
            modules.push(("ops".into(), vec!["run".into(), "read".into()], false));
        }
        if r.chance(0.5) {
            modules.push(("audit".into(), vec!["read".into()], false));
        }
        modules.push(("beta".into(), vec!["read".into(), "use".into()], true));
        if r.chance(0.5) {
            let gated = r.chance(0.7);
            modules.push(("labs".into(), vec!["try".into()], gated));
        }
        let gated: Vec<String> = modules
            .iter()
            .filter(|m| m.2)
            .map(|m| m.0.clone())
            .collect();
        let mut policies = vec![("beta-access".to_owned(), vec!["beta".to_owned()])];
        if gated.len() > 1 && r.chance(0.7) {
            policies.push(("all-gated".to_owned(), gated.clone()));
        }
        if r.chance(0.4) {
            policies.push((
                "docs-and-beta".to_owned(),
                vec!["docs".into(), "beta".into()],
            ));
        }
        self.modules = modules;
        self.policies = policies;
        self.kinds_declared = self.rng.chance(0.85);
    }

    fn perm_pattern(&mut self) -> String {
        let x = self.rng.below(100);
        let mi = self.rng.below(self.modules.len());
        let (m, actions, _) = &self.modules[mi];
        let a = &actions[self.rng.below(actions.len())];
        if x < 64 {
            format!("{m}:{a}")
        } else if x < 82 {
            format!("{m}:*")
        } else if x < 97 {
            format!("*:{a}")
        } else {
            "*:*".to_owned()
        }
    }
    fn remove_pattern(&mut self) -> String {
        let mi = self.rng.below(self.modules.len());
        let (m, actions, _) = &self.modules[mi];
        if self.rng.chance(0.75) {
            format!("{m}:{}", actions[self.rng.below(actions.len())])
        } else {
            format!("{m}:*")
        }
    }

    // -------------------------------------------------------------- org tree

    fn child_kinds(kind: Option<&str>) -> &'static [&'static str] {
        match kind {
            Some("top") => &["mid", "unit"],
            Some("mid") => &["unit", "lab"],
            Some("unit") => &["unit", "unit", "lab"],
            Some(_) => &[],
            None => &["mid", "unit", "lab"],
        }
    }

    fn org_tree(&mut self) {
        let n = self.rng.range(6, 18);
        for i in 0..n {
            let parents: Vec<usize> = (0..i)
                .filter(|&o| !Self::child_kinds(self.orgs[o].kind).is_empty())
                .collect();
            let top = i == 0 || parents.is_empty() || self.rng.chance(0.1);
            let (parent, mut kind) = if top {
                (None, Some("top"))
            } else {
                let p = if self.rng.chance(0.55) {
                    let tail = &parents[parents.len().saturating_sub(4)..];
                    tail[self.rng.below(tail.len())]
                } else {
                    parents[self.rng.below(parents.len())]
                };
                let ks = Self::child_kinds(self.orgs[p].kind);
                (Some(p), Some(ks[self.rng.below(ks.len())]))
            };
            if !self.kinds_declared && self.rng.chance(0.15) {
                kind = None;
            }
            let named = self.rng.chance(0.2);
            self.orgs.push(GOrg {
                id: format!("o{i}"),
                parent,
                kind,
                declared_in: None,
                named,
            });
        }
    }

    fn choose_tenants(&mut self) {
        let n = self.orgs.len();
        let want = self.rng.range(1, 4);
        let mut tenants: Vec<usize> = Vec::new();
        for _ in 0..want * 3 {
            if tenants.len() >= want {
                break;
            }
            let below_existing: Vec<usize> = tenants
                .iter()
                .flat_map(|&t| self.strict_below(t))
                .filter(|o| !tenants.contains(o))
                .collect();
            let pick = if !below_existing.is_empty() && self.rng.chance(0.5) {
                below_existing[self.rng.below(below_existing.len())]
            } else {
                let with_children: Vec<usize> = (0..n)
                    .filter(|&o| self.orgs.iter().any(|c| c.parent == Some(o)))
                    .collect();
                if !with_children.is_empty() && self.rng.chance(0.7) {
                    with_children[self.rng.below(with_children.len())]
                } else {
                    self.rng.below(n)
                }
            };
            if !tenants.contains(&pick) {
                tenants.push(pick);
            }
        }
        tenants.sort_by_key(|&t| (self.depth(t), t));
        self.tenant_toml = tenants.iter().map(|_| self.rng.chance(0.2)).collect();
        self.tenants = tenants;
    }

    /// Some orgs are declared in the file of a tenant above them.
    fn place_orgs(&mut self) {
        for o in 0..self.orgs.len() {
            let above: Vec<usize> = self
                .tenants
                .iter()
                .copied()
                .filter(|&t| t != o && self.is_anc_or_self(t, o))
                .collect();
            if !above.is_empty() && self.rng.chance(0.25) {
                self.orgs[o].declared_in = self.rng.pick(&above);
            }
        }
    }

    fn make_users(&mut self) {
        let n = self.rng.range(4, 14);
        for i in 0..n {
            let home = self.rng.below(self.orgs.len());
            let ty = match self.rng.below(20) {
                0..=9 => Some("employee"),
                10..=14 => Some("contractor"),
                15..=17 => Some("service"),
                _ => None,
            };
            let owner = self.rng.chance(0.3);
            let mut attrs = Vec::new();
            if self.rng.chance(0.65) {
                attrs.push(("department", DEPARTMENTS[self.rng.below(3)]));
            }
            if self.rng.chance(0.35) {
                attrs.push(("region", REGIONS[self.rng.below(2)]));
            }
            let above: Vec<usize> = self
                .tenants
                .iter()
                .copied()
                .filter(|&t| self.is_anc_or_self(t, home))
                .collect();
            let declared_in = if !above.is_empty() && self.rng.chance(0.3) {
                self.rng.pick(&above)
            } else {
                None
            };
            self.users.push(GUser {
                id: format!("u{i}"),
                home,
                ty,
                owner,
                attrs,
                declared_in,
            });
        }
    }

    fn ident_types(&mut self) -> Vec<&'static str> {
        match self.rng.below(4) {
            0 => vec!["employee"],
            1 => vec!["employee", "contractor"],
            2 => vec!["contractor", "service"],
            _ => vec!["service"],
        }
    }

    // ------------------------------------------------------------------ roles

    fn provider_roles(&mut self) {
        let mut names: Vec<&str> = ROLE_NAMES.to_vec();
        for i in 0..names.len() {
            let j = i + self.rng.below(names.len() - i);
            names.swap(i, j);
        }
        let n = self.rng.range(4, 9);
        for (i, name) in names.iter().take(n).enumerate() {
            let earlier: Vec<usize> = (0..i).collect();
            let from = if i > 0 && self.rng.chance(0.15) {
                self.rng.pick(&earlier)
            } else {
                None
            };
            let k = if from.is_some() {
                self.rng.range(0, 1)
            } else {
                self.rng.range(1, 3)
            };
            let grants = (0..k).map(|_| self.perm_pattern()).collect();
            let remove = if from.is_some() && self.rng.chance(0.7) {
                let k = self.rng.range(1, 2);
                (0..k).map(|_| self.remove_pattern()).collect()
            } else {
                Vec::new()
            };
            let includes = if i > 0 && self.rng.chance(0.35) {
                self.rng.some_of(&earlier, 2)
            } else {
                Vec::new()
            };
            let ident = if self.rng.chance(0.2) {
                Some(self.ident_types())
            } else {
                None
            };
            let disabled = self.rng.chance(0.08);
            let status_written = !disabled && self.rng.chance(0.1);
            let published = !self.rng.chance(0.12);
            let locked = self.rng.chance(0.07);
            let assignable_by = if i > 0 && self.rng.chance(0.15) {
                self.rng.pick(&earlier).into_iter().collect()
            } else {
                Vec::new()
            };
            let self_service = if self.rng.chance(0.1) {
                Some(self.rng.chance(0.5))
            } else {
                None
            };
            let description = self.rng.chance(0.25);
            self.roles.push(GRole {
                owner: None,
                name: (*name).to_owned(),
                grants,
                includes,
                from,
                remove,
                ident,
                disabled,
                status_written,
                published,
                locked,
                assignable_by,
                self_service,
                description,
            });
        }
    }

    fn custom_roles(&mut self) {
        for ti in 0..self.tenants.len() {
            let s = self.tenants[ti];
            let k = match self.rng.below(20) {
                0..=6 => 0,
                7..=13 => 1,
                14..=17 => 2,
                _ => 3,
            };
            for _ in 0..k {
                // Names visible from above this tenant: shadowing them is W101.
                let above = self.orgs[s].parent;
                let shadowable: Vec<String> = (0..self.roles.len())
                    .filter(|&r| {
                        self.visible(r, above)
                            && !self.roles[r].locked
                            && self.resolve_bare(&self.roles[r].name, above) == Some(r)
                            && !self
                                .roles
                                .iter()
                                .any(|x| x.owner == Some(s) && x.name == self.roles[r].name)
                    })
                    .map(|r| self.roles[r].name.clone())
                    .collect();
                let name = if !shadowable.is_empty() && self.rng.chance(0.15) {
                    self.rng.pick(&shadowable).unwrap_or_default()
                } else {
                    let base = CUSTOM_BASES[self.rng.below(CUSTOM_BASES.len())];
                    let mut name = format!("{base}-{}", self.orgs[s].id);
                    let mut n = 2;
                    while self
                        .roles
                        .iter()
                        .any(|x| x.owner == Some(s) && x.name == name)
                    {
                        name = format!("{base}{n}-{}", self.orgs[s].id);
                        n += 1;
                    }
                    name
                };
                let visible: Vec<usize> = (0..self.roles.len())
                    .filter(|&r| self.visible(r, Some(s)))
                    .collect();
                let usable: Vec<usize> = self.usable(Some(s));
                let from = if self.rng.chance(0.5) {
                    self.rng.pick(&visible)
                } else {
                    None
                };
                let k = if from.is_some() {
                    self.rng.range(0, 2)
                } else {
                    self.rng.range(1, 2)
                };
                let grants = (0..k).map(|_| self.perm_pattern()).collect();
                let remove = if from.is_some() && self.rng.chance(0.6) {
                    let k = self.rng.range(1, 2);
                    (0..k).map(|_| self.remove_pattern()).collect()
                } else {
                    Vec::new()
                };
                let includes = if self.rng.chance(0.3) {
                    self.rng.pick(&usable).into_iter().collect()
                } else {
                    Vec::new()
                };
                let ident = if self.rng.chance(0.12) {
                    Some(self.ident_types())
                } else {
                    None
                };
                let disabled = self.rng.chance(0.05);
                let published = !self.rng.chance(0.1);
                let description = self.rng.chance(0.2);
                self.roles.push(GRole {
                    owner: Some(s),
                    name,
                    grants,
                    includes,
                    from,
                    remove,
                    ident,
                    disabled,
                    status_written: false,
                    published,
                    locked: false,
                    assignable_by: Vec::new(),
                    self_service: None,
                    description,
                });
            }
        }
    }

    // ------------------------------------------------------------ assignments

    fn inherit(&mut self) -> Option<bool> {
        if self.rng.chance(0.5) {
            None
        } else {
            Some(self.rng.chance(0.6))
        }
    }

    fn provider_assignments(&mut self) {
        let n = self.rng.range(3, 9);
        let customs: Vec<usize> = (0..self.roles.len())
            .filter(|&r| self.roles[r].owner.is_some())
            .collect();
        let types: Vec<usize> = (0..self.roles.len())
            .filter(|&r| self.roles[r].owner.is_none())
            .collect();
        for _ in 0..n {
            let role = if !customs.is_empty() && self.rng.chance(0.15) {
                self.rng.pick(&customs)
            } else {
                self.rng.pick(&types)
            }
            .unwrap_or(0);
            let near = match self.roles[role].owner {
                Some(o) => self.subtree(o),
                None => (0..self.orgs.len()).collect(),
            };
            let inherit = self.inherit();
            let locked = self.rng.chance(0.25);
            let (user, org) = if self.rng.chance(0.7) {
                let u = self.rng.below(self.users.len());
                let org = if self.rng.chance(0.5) {
                    None
                } else {
                    self.rng.pick(&near)
                };
                (Some(u), org)
            } else {
                (None, self.rng.pick(&near))
            };
            self.asgs.push(GAsg {
                scope: None,
                what: What::Role(role),
                user,
                org,
                inherit,
                locked,
                sibling: false,
            });
        }
        for _ in 0..self.rng.range(1, 3) {
            let p = self.rng.below(self.policies.len());
            let inherit = self.inherit();
            let (user, org) = if self.rng.chance(0.6) {
                let u = self.rng.below(self.users.len());
                let org = if self.rng.chance(0.6) {
                    None
                } else {
                    Some(self.rng.below(self.orgs.len()))
                };
                (Some(u), org)
            } else {
                (None, Some(self.rng.below(self.orgs.len())))
            };
            self.asgs.push(GAsg {
                scope: None,
                what: What::Policy(p),
                user,
                org,
                inherit,
                locked: false,
                sibling: false,
            });
        }
    }

    // ------------------------------------------------------------------ rules

    fn kind_labels(&self) -> Vec<&'static str> {
        KINDS.iter().map(|k| k.0).collect()
    }

    fn condition(&mut self, scope: Option<usize>) -> GCond {
        let mut c = GCond::default();
        if self.rng.chance(0.35) {
            c.owner = Some(self.rng.chance(0.8));
        }
        if self.rng.chance(0.25) {
            c.ty = Some(TYPES[self.rng.below(3)]);
        }
        if self.rng.chance(0.2) {
            let ks = self.kind_labels();
            c.org_kind = self.rng.pick(&ks);
        }
        if self.rng.chance(0.2) {
            let orgs: Vec<usize> = match scope {
                Some(s) => self.subtree(s),
                None => (0..self.orgs.len()).collect(),
            };
            c.org = self.rng.pick(&orgs);
        }
        if self.rng.chance(0.25) {
            c.attrs.push(if self.rng.chance(0.7) {
                ("department", DEPARTMENTS[self.rng.below(3)])
            } else {
                ("region", REGIONS[self.rng.below(2)])
            });
        }
        c
    }

    fn places(&mut self) -> Vec<GPlace> {
        let mut at = Vec::new();
        if self.rng.chance(0.6) {
            at.push(GPlace::Home);
        }
        if self.rng.chance(0.4) {
            let ks = self.kind_labels();
            at.push(GPlace::Kinds(self.rng.some_of(&ks, 2)));
        }
        if self.rng.chance(0.3) {
            at.push(GPlace::Any);
        }
        if at.is_empty() {
            at.push(GPlace::Home);
        }
        at
    }

    fn rule(&mut self, scope: Option<usize>, index: usize) -> GRule {
        let name = if self.rng.chance(0.8) {
            Some(match scope {
                None => format!("auto-{index}"),
                Some(s) => format!("auto-{}-{index}", self.orgs[s].id),
            })
        } else {
            None
        };
        let when = self.condition(scope);
        let usable = self.usable(scope);
        let mut grants = Vec::new();
        for _ in 0..self.rng.range(1, 2) {
            let roles = self.rng.some_of(&usable, 2);
            let at = self.places();
            let inherit = self.inherit();
            let description = self.rng.chance(0.1);
            grants.push(GGrant {
                roles,
                at,
                inherit,
                description,
            });
        }
        let locked = match (scope, self.rng.below(20)) {
            (Some(_), _) => None,
            (None, 0..=9) => None,
            (None, 10..=16) => Some(false),
            (None, _) => Some(true),
        };
        GRule {
            scope,
            name,
            when,
            grants,
            locked,
            sibling: false,
        }
    }

    fn provider_rules(&mut self) {
        for i in 0..self.rng.range(1, 3) {
            let r = self.rule(None, i);
            self.rules.push(r);
        }
    }

    // ----------------------------------------------------------- publications

    /// Roles that some locked item is about (publication, assignment, rule).
    fn lock_relevant(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for p in self.pubs.iter().filter(|p| p.locked) {
            out.push(p.role);
        }
        for a in self.asgs.iter().filter(|a| a.locked) {
            if let What::Role(r) = a.what {
                out.push(r);
            }
        }
        for rule in self
            .rules
            .iter()
            .filter(|r| r.scope.is_none() && r.locked != Some(false))
        {
            for g in &rule.grants {
                out.extend(&g.roles);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn add_pub(&mut self, p: GPub, seen: &mut HashSet<(usize, usize)>) -> bool {
        if seen.insert((p.role, p.org)) {
            self.pubs.push(p);
            true
        } else {
            false
        }
    }

    fn provider_publications(&mut self) {
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        let n = self.rng.range(0, 5);
        let relevant = self.lock_relevant();
        for _ in 0..n {
            let role = if !relevant.is_empty() && self.rng.chance(0.4) {
                self.rng.pick(&relevant).unwrap_or(0)
            } else {
                self.rng.below(self.roles.len())
            };
            let org = match self.roles[role].owner {
                Some(o) if !self.rng.chance(0.1) => {
                    let sub = self.subtree(o);
                    self.rng.pick(&sub).unwrap_or(o)
                }
                _ => self.rng.below(self.orgs.len()),
            };
            let inside = self.roles[role]
                .owner
                .is_none_or(|o| self.is_anc_or_self(o, org));
            let publish = inside && self.rng.chance(0.6);
            let locked = self.rng.chance(0.4);
            let write_publish = !publish || self.rng.chance(0.3);
            let added = self.add_pub(
                GPub {
                    scope: None,
                    role,
                    org,
                    publish,
                    write_publish,
                    locked,
                    sibling: false,
                },
                &mut seen,
            );
            // Published again below a provider non-publication.
            let below = self.strict_below(org);
            if added && !publish && inside && !below.is_empty() && self.rng.chance(0.3) {
                let z = self.rng.pick(&below).unwrap_or(org);
                let locked = self.rng.chance(0.3);
                let write_publish = self.rng.chance(0.5);
                self.add_pub(
                    GPub {
                        scope: None,
                        role,
                        org: z,
                        publish: true,
                        write_publish,
                        locked,
                        sibling: false,
                    },
                    &mut seen,
                );
            }
        }
    }

    fn tenant_items(&mut self) {
        let mut seen: HashSet<(usize, usize)> = self.pubs.iter().map(|p| (p.role, p.org)).collect();
        for ti in 0..self.tenants.len() {
            let s = self.tenants[ti];
            let sub = self.subtree(s);
            let usable = self.usable(Some(s));
            // Assignments.
            let members: Vec<usize> = (0..self.users.len())
                .filter(|&u| self.is_anc_or_self(s, self.users[u].home))
                .collect();
            for _ in 0..self.rng.range(1, 4) {
                let Some(role) = self.rng.pick(&usable) else {
                    break;
                };
                let inherit = self.inherit();
                let (user, org) = if !members.is_empty() && self.rng.chance(0.6) {
                    let u = self.rng.pick(&members).unwrap_or(0);
                    let org = if self.rng.chance(0.5) {
                        None
                    } else {
                        self.rng.pick(&sub)
                    };
                    (Some(u), org)
                } else {
                    (None, self.rng.pick(&sub))
                };
                self.asgs.push(GAsg {
                    scope: Some(s),
                    what: What::Role(role),
                    user,
                    org,
                    inherit,
                    locked: false,
                    sibling: false,
                });
            }
            // Publications, non-publications and re-publications below them.
            let relevant: Vec<usize> = self
                .lock_relevant()
                .into_iter()
                .filter(|r| usable.contains(r))
                .collect();
            for _ in 0..self.rng.range(0, 4) {
                // Now and then a locked role: only provider files may publish it (§8).
                let locked: Vec<usize> = (0..self.roles.len())
                    .filter(|&r| self.roles[r].locked)
                    .collect();
                let role = if !locked.is_empty() && self.rng.chance(0.03) {
                    self.rng.pick(&locked)
                } else if !relevant.is_empty() && self.rng.chance(0.55) {
                    self.rng.pick(&relevant)
                } else {
                    self.rng.pick(&usable)
                };
                let Some(role) = role else {
                    break;
                };
                let org = self.rng.pick(&sub).unwrap_or(s);
                let publish = self.rng.chance(0.45);
                let write_publish = !publish || self.rng.chance(0.4);
                let added = self.add_pub(
                    GPub {
                        scope: Some(s),
                        role,
                        org,
                        publish,
                        write_publish,
                        locked: false,
                        sibling: false,
                    },
                    &mut seen,
                );
                let below = self.strict_below(org);
                if added && !publish && !below.is_empty() && self.rng.chance(0.5) {
                    let z = self.rng.pick(&below).unwrap_or(org);
                    // In this file or in the file of a tenant between here and z.
                    let files: Vec<usize> = self
                        .tenants
                        .iter()
                        .copied()
                        .filter(|&t| self.is_anc_or_self(s, t) && self.is_anc_or_self(t, z))
                        .collect();
                    let scope = self.rng.pick(&files).unwrap_or(s);
                    let write_publish = self.rng.chance(0.5);
                    self.add_pub(
                        GPub {
                            scope: Some(scope),
                            role,
                            org: z,
                            publish: true,
                            write_publish,
                            locked: false,
                            sibling: false,
                        },
                        &mut seen,
                    );
                }
            }
            // Rules.
            let k = match self.rng.below(20) {
                0..=9 => 0,
                10..=16 => 1,
                _ => 2,
            };
            for i in 0..k {
                let r = self.rule(Some(s), i);
                if !r.grants.iter().all(|g| g.roles.is_empty()) {
                    self.rules.push(r);
                }
            }
        }
    }

    /// Now and then a tenant file names a role it may not see (SPEC §14.11).
    fn sibling_injection(&mut self) {
        if !self.rng.chance(0.1) {
            return;
        }
        let mut pairs = Vec::new();
        for &s in &self.tenants {
            for r in 0..self.roles.len() {
                if let Some(t) = self.roles[r].owner {
                    if !self.is_anc_or_self(t, s) {
                        pairs.push((s, r));
                    }
                }
            }
        }
        let Some((s, role)) = self.rng.pick(&pairs) else {
            return;
        };
        let sub = self.subtree(s);
        let org = self.rng.pick(&sub).unwrap_or(s);
        let form = self.rng.below(20);
        if form >= 15 {
            self.rules.push(GRule {
                scope: Some(s),
                name: None,
                when: GCond::default(),
                grants: vec![GGrant {
                    roles: vec![role],
                    at: vec![GPlace::Home],
                    inherit: Some(true),
                    description: false,
                }],
                locked: None,
                sibling: true,
            });
        } else if form >= 7 {
            self.asgs.push(GAsg {
                scope: Some(s),
                what: What::Role(role),
                user: None,
                org: Some(org),
                inherit: None,
                locked: false,
                sibling: true,
            });
        } else {
            let publish = self.rng.chance(0.3);
            self.pubs.push(GPub {
                scope: Some(s),
                role,
                org,
                publish,
                write_publish: true,
                locked: false,
                sibling: true,
            });
        }
    }

    /// Drops most assignments that would be E007 or E009 (not all: some
    /// sets keep errors).
    fn drop_most_errors(&mut self) {
        let mut keep = Vec::new();
        for a in &self.asgs {
            let What::Role(r) = a.what else {
                keep.push(true);
                continue;
            };
            if a.sibling {
                keep.push(true);
                continue;
            }
            let at = a
                .org
                .unwrap_or_else(|| a.user.map_or(0, |u| self.users[u].home));
            let unpublished = !self.published(r, at);
            let wrong_type = a.user.is_some_and(|u| {
                let ty = self.users[u].ty.unwrap_or("employee");
                self.roles[r]
                    .ident
                    .as_ref()
                    .is_some_and(|ts| !ts.contains(&ty))
            });
            keep.push(!(unpublished || wrong_type));
        }
        let mut kept = Vec::new();
        for (a, ok) in std::mem::take(&mut self.asgs).into_iter().zip(keep) {
            if ok || self.rng.chance(0.05) {
                kept.push(a);
            }
        }
        self.asgs = kept;
    }

    // ----------------------------------------------------------------- render

    fn role_value(&mut self, r: usize) -> V {
        let scope = self.roles[r].owner;
        let includes: Vec<usize> = self.roles[r].includes.clone();
        let includes: Vec<String> = includes.iter().map(|&i| self.ref_name(i, scope)).collect();
        let from = self.roles[r].from.map(|f| self.ref_name(f, scope));
        let assignable: Vec<usize> = self.roles[r].assignable_by.clone();
        let assignable: Vec<String> = assignable
            .iter()
            .map(|&i| self.ref_name(i, scope))
            .collect();
        let role = &self.roles[r];
        Obj::default()
            .opt(
                "description",
                role.description.then(|| st(format!("Role {}", role.name))),
            )
            .opt(
                "grants",
                (!role.grants.is_empty()).then(|| strs(&role.grants)),
            )
            .opt("includes", (!includes.is_empty()).then(|| strs(&includes)))
            .opt("from", from.map(st))
            .opt(
                "remove",
                (!role.remove.is_empty()).then(|| strs(&role.remove)),
            )
            .opt("identity_types", role.ident.as_ref().map(|t| strs(t)))
            .opt(
                "status",
                if role.disabled {
                    Some(st("disabled"))
                } else if role.status_written {
                    Some(st("active"))
                } else {
                    None
                },
            )
            .opt("published", (!role.published).then_some(V::B(false)))
            .opt("locked", role.locked.then_some(V::B(true)))
            .opt(
                "assignable_by",
                (!assignable.is_empty()).then(|| strs(&assignable)),
            )
            .opt("self_service", role.self_service.map(V::B))
            .v()
    }

    fn render(mut self, seed: u64) -> Set {
        let mut provider = Doc::new(
            if self.rng.chance(0.15) {
                "00-provider.toml".to_owned()
            } else {
                "00-provider.yaml".to_owned()
            },
            "provider".to_owned(),
            false,
        );
        provider.toml = provider.path.ends_with(".toml");
        let mut tenant_docs: Vec<Doc> = self
            .tenants
            .iter()
            .zip(&self.tenant_toml)
            .map(|(&t, &toml)| {
                let id = &self.orgs[t].id;
                Doc::new(
                    format!("tenants/{id}.{}", if toml { "toml" } else { "yaml" }),
                    id.clone(),
                    toml,
                )
            })
            .collect();
        let tenant_of = |tenants: &[usize], scope: Option<usize>| -> Option<usize> {
            scope.and_then(|s| tenants.iter().position(|&t| t == s))
        };

        // Catalog (provider only).
        for (id, actions, gated) in &self.modules {
            provider.put(
                0,
                id,
                Obj::default()
                    .with("actions", strs(actions))
                    .opt("gated", gated.then_some(V::B(true)))
                    .v(),
            );
        }
        for (id, modules) in &self.policies {
            provider.put(1, id, Obj::default().with("modules", strs(modules)).v());
        }
        if self.kinds_declared {
            for (k, parents) in KINDS {
                provider.put(2, k, Obj::default().with("parents", strs(parents)).v());
            }
        }
        for o in &self.orgs {
            let v = Obj::default()
                .opt("kind", o.kind.map(st))
                .opt("parent", o.parent.map(|p| st(self.orgs[p].id.clone())))
                .opt("name", o.named.then(|| st(format!("Org {}", o.id))))
                .v();
            match tenant_of(&self.tenants, o.declared_in) {
                Some(t) => tenant_docs[t].put(3, &o.id, v),
                None => provider.put(3, &o.id, v),
            }
        }
        for u in &self.users {
            let attrs = V::M(
                u.attrs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), st(*v)))
                    .collect(),
            );
            let v = Obj::default()
                .with("org", st(self.orgs[u.home].id.clone()))
                .opt("type", u.ty.map(st))
                .opt("owner", u.owner.then_some(V::B(true)))
                .opt("attributes", (!u.attrs.is_empty()).then_some(attrs))
                .v();
            match tenant_of(&self.tenants, u.declared_in) {
                Some(t) => tenant_docs[t].put(4, &u.id, v),
                None => provider.put(4, &u.id, v),
            }
        }
        for r in 0..self.roles.len() {
            let v = self.role_value(r);
            let name = self.roles[r].name.clone();
            match tenant_of(&self.tenants, self.roles[r].owner) {
                Some(t) => tenant_docs[t].put(5, &name, v),
                None => provider.put(5, &name, v),
            }
        }

        // Assignments.
        let mut sibling_refs: Vec<SiblingRef> = Vec::new();
        let asgs = std::mem::take(&mut self.asgs);
        for a in &asgs {
            let (key, name) = match a.what {
                What::Role(r) if a.sibling => ("role", self.qualified(r)),
                What::Role(r) => ("role", self.ref_name(r, a.scope)),
                What::Policy(p) => ("policy", self.policies[p].0.clone()),
            };
            let v = Obj::default()
                .with(key, st(name.clone()))
                .opt("user", a.user.map(|u| st(self.users[u].id.clone())))
                .opt("org", a.org.map(|o| st(self.orgs[o].id.clone())))
                .opt("inherit", a.inherit.map(V::B))
                .opt("locked", a.locked.then_some(V::B(true)))
                .v();
            let mut marks = Vec::new();
            if a.sibling {
                marks.push(Mark::Sibling(sibling_refs.len()));
                sibling_refs.push(SiblingRef {
                    file: String::new(),
                    line: 0,
                    role: name,
                });
            }
            match tenant_of(&self.tenants, a.scope) {
                Some(t) => tenant_docs[t].push(0, v, marks),
                None => provider.push(0, v, marks),
            }
        }

        // Publications.
        let mut pubs: Vec<PubRecord> = Vec::new();
        let gpubs = std::mem::take(&mut self.pubs);
        for p in &gpubs {
            let name = if p.sibling {
                self.qualified(p.role)
            } else {
                self.ref_name(p.role, p.scope)
            };
            let v = Obj::default()
                .with("role", st(name.clone()))
                .with("org", st(self.orgs[p.org].id.clone()))
                .opt("publish", p.write_publish.then_some(V::B(p.publish)))
                .opt("locked", p.locked.then_some(V::B(true)))
                .v();
            let mut marks = vec![Mark::Pub(pubs.len())];
            pubs.push(PubRecord {
                file: String::new(),
                line: 0,
                scope: p.scope.map(|s| self.orgs[s].id.clone()),
                role: name.clone(),
                org: self.orgs[p.org].id.clone(),
                publish: p.publish,
                locked: p.locked,
            });
            if p.sibling {
                marks.push(Mark::Sibling(sibling_refs.len()));
                sibling_refs.push(SiblingRef {
                    file: String::new(),
                    line: 0,
                    role: name,
                });
            }
            match tenant_of(&self.tenants, p.scope) {
                Some(t) => tenant_docs[t].push(1, v, marks),
                None => provider.push(1, v, marks),
            }
        }

        // Automatic rules.
        let rules = std::mem::take(&mut self.rules);
        for rule in &rules {
            let w = &rule.when;
            let when = Obj::default()
                .opt("owner", w.owner.map(V::B))
                .opt("type", w.ty.map(st))
                .opt("org_kind", w.org_kind.map(st))
                .opt("org", w.org.map(|o| st(self.orgs[o].id.clone())))
                .opt(
                    "attributes",
                    (!w.attrs.is_empty()).then(|| {
                        V::M(
                            w.attrs
                                .iter()
                                .map(|(k, v)| ((*k).to_owned(), st(*v)))
                                .collect(),
                        )
                    }),
                );
            let when = (!when.0.is_empty()).then(|| when.v());
            let mut grants = Vec::new();
            for g in &rule.grants {
                let roles: Vec<String> = g
                    .roles
                    .iter()
                    .map(|&r| {
                        if rule.sibling {
                            self.qualified(r)
                        } else {
                            self.ref_name(r, rule.scope)
                        }
                    })
                    .collect();
                let at: Vec<V> =
                    g.at.iter()
                        .map(|p| match p {
                            GPlace::Home => st("self"),
                            GPlace::Kinds(ks) => Obj::default().with("descendants", strs(ks)).v(),
                            GPlace::Any => Obj::default().with("descendants", st("any")).v(),
                        })
                        .collect();
                grants.push(
                    Obj::default()
                        .with("roles", strs(&roles))
                        .with("at", V::L(at))
                        .opt("inherit", g.inherit.map(V::B))
                        .opt(
                            "description",
                            g.description.then(|| st("granted automatically")),
                        )
                        .v(),
                );
            }
            let v = Obj::default()
                .opt("name", rule.name.clone().map(st))
                .opt("when", when)
                .with("grant", V::L(grants))
                .opt("locked", rule.locked.map(V::B))
                .v();
            let mut marks = Vec::new();
            if rule.sibling {
                marks.push(Mark::Sibling(sibling_refs.len()));
                sibling_refs.push(SiblingRef {
                    file: String::new(),
                    line: 0,
                    role: self.qualified(rule.grants[0].roles[0]),
                });
            }
            match tenant_of(&self.tenants, rule.scope) {
                Some(t) => tenant_docs[t].push(2, v, marks),
                None => provider.push(2, v, marks),
            }
        }

        let mut files = Vec::new();
        for doc in std::iter::once(&provider).chain(tenant_docs.iter()) {
            let (text, marks) = doc.render();
            for (mark, line) in marks {
                match mark {
                    Mark::Pub(i) => {
                        pubs[i].file = doc.path.clone();
                        pubs[i].line = line;
                    }
                    Mark::Sibling(i) => {
                        sibling_refs[i].file = doc.path.clone();
                        sibling_refs[i].line = line;
                    }
                }
            }
            files.push((doc.path.clone(), text));
        }
        files.sort();
        pubs.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));

        let roles = self
            .roles
            .iter()
            .map(|r| RoleRecord {
                owner: r.owner.map(|o| self.orgs[o].id.clone()),
                name: r.name.clone(),
                grants: r.grants.clone(),
                includes: r.includes.clone(),
                from: r.from,
                remove: r.remove.clone(),
            })
            .collect();
        let modules = self
            .modules
            .iter()
            .map(|(m, a, _)| (m.clone(), a.clone()))
            .collect();
        Set {
            seed,
            files,
            pubs,
            roles,
            modules,
            sibling_refs,
        }
    }
}
