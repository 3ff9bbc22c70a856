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
//! About 40% of the sets ([`DIMENSION_SETS`]) also use SPEC §15: 1–3
//! dimensions, modules with a `dimension` (gated ones too), resources of no
//! org (provider) and of orgs (the provider's file or a tenant file above
//! the org), `resources` on role types and custom roles (clones included),
//! on assignments and on rule grant items (tenant files naming only what
//! they may), dimensioned roles (`dimensions`, `multiple`, some
//! self-service) whose every assignment and grant item names what they
//! require, an assigner role `steward` (restricted by its definition now
//! and then, held directly or through `steward-plus`, by admins whose
//! assignments are restricted or not) with roles made for it (`tied`,
//! `bundle`), `by:` assignments chosen within the admin's scope — and one
//! outside it in about one set in ten (E013) — and `by: self`. Now and then
//! a mistake about resources (E002, E004, E010, E016). All of that draws
//! from a second random stream: a set without dimensions is exactly what
//! the generator made for that seed before §15 existed.
//!
//! Besides the files, a [`Set`] lists every publication entry it wrote
//! (file, line, scope, the role name as written) and every role's
//! definition (grants, includes, from, remove), so that tests can judge the
//! set without trusting the resolver.

use std::collections::{BTreeSet, HashSet};
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
    /// True `percent` times in a hundred.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.chance(percent as f64 / 100.0)
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
    /// The dimensions it declares (SPEC §15); none for most sets.
    pub dimensions: Vec<String>,
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

const MAP_SECTIONS: [&str; 8] = [
    "modules",
    "policies",
    "kinds",
    "orgs",
    "users",
    "roles",
    "dimensions",
    "resources",
];
const LIST_SECTIONS: [&str; 3] = ["assignments", "publications", "automatic"];

/// One policy file being built.
struct Doc {
    path: String,
    scope: String,
    toml: bool,
    maps: [Vec<(String, V)>; 8],
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

/// Share of the sets that declare dimensions (SPEC §15).
pub const DIMENSION_SETS: f64 = 0.4;
/// Dimension ids, and the prefix of their resources' ids.
const DIMENSIONS: [(&str, &str); 3] = [
    ("cloud_account", "acct"),
    ("inventory", "inv"),
    ("application", "app"),
];

/// A set of resources of one dimension: `None` is every resource.
type Res = Option<BTreeSet<usize>>;

fn res_on(r: &GRestr, d: usize) -> Res {
    r.iter()
        .find(|(x, _)| *x == d)
        .map(|(_, v)| v.iter().copied().collect())
}
fn res_meet(a: Res, b: Res) -> Res {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
    }
}
fn res_join(a: Res, b: Res) -> Res {
    match (a, b) {
        (None, _) | (_, None) => None,
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
    }
}
fn res_within(a: &Res, b: &Res) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a.is_subset(b),
    }
}

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
    /// `resources` (SPEC §15): restricts the role's own permissions.
    resources: GRestr,
    /// `dimensions`: what every assignment of it must name.
    dims: Vec<usize>,
    multiple: Option<bool>,
}

/// A restriction as written: (dimension, resources), by dimension; indices
/// into [`G::dims`] and [`G::res`].
type GRestr = Vec<(usize, Vec<usize>)>;

struct GDim {
    id: String,
    /// Resource ids of the dimension start with it.
    prefix: &'static str,
    description: bool,
}

struct GRes {
    id: String,
    dim: usize,
    org: Option<usize>,
    /// `None`: the provider file; else the tenant scope (an org index).
    declared_in: Option<usize>,
    description: bool,
    /// Written with an error on purpose (not a resource to name).
    broken: bool,
}

#[derive(Clone, Copy)]
enum GBy {
    Admin(usize),
    Myself,
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
    /// `resources` (SPEC §15): restricts everything it gives.
    resources: GRestr,
    by: Option<GBy>,
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
    resources: GRestr,
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
    /// SPEC §15, drawn from [`G::drng`] so that a set without dimensions
    /// is exactly what the generator made before they existed.
    drng: Rng,
    dims: Vec<GDim>,
    res: Vec<GRes>,
    /// Per module (same order as `modules`): its dimension.
    module_dims: Vec<Option<usize>>,
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
        drng: Rng::new(seed ^ 0x7E50_17CE_D1AE_0015),
        dims: Vec::new(),
        res: Vec::new(),
        module_dims: Vec::new(),
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
    g.resources_part();
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
                resources: Vec::new(),
                dims: Vec::new(),
                multiple: None,
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
                    resources: Vec::new(),
                    dims: Vec::new(),
                    multiple: None,
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
                resources: Vec::new(),
                by: None,
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
                resources: Vec::new(),
                by: None,
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
                resources: Vec::new(),
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
                    resources: Vec::new(),
                    by: None,
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
                    resources: Vec::new(),
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
                resources: Vec::new(),
                by: None,
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

    // ----------------------------------------------------- resources (§15)

    /// Dimensions, resources, restrictions, dimensioned roles and delegated
    /// assignments, for a share of the sets. Everything here draws from
    /// `drng`, never from `rng`: a set without dimensions is byte for byte
    /// what the generator made before §15, and one with dimensions keeps
    /// the same skeleton (orgs, users, roles, assignments, rules).
    fn resources_part(&mut self) {
        if !self.drng.chance(DIMENSION_SETS) {
            return;
        }
        self.declare_dimensions();
        self.declare_resources();
        self.module_dimensions();
        self.role_restrictions();
        self.dimensioned_roles();
        self.item_restrictions();
        self.delegation();
        self.self_service_assignments();
        self.required_dimensions();
        self.resource_errors();
    }

    fn declare_dimensions(&mut self) {
        let all: Vec<usize> = (0..DIMENSIONS.len()).collect();
        for i in self.drng.some_of(&all, DIMENSIONS.len()) {
            let description = self.drng.chance(0.5);
            self.dims.push(GDim {
                id: DIMENSIONS[i].0.to_owned(),
                prefix: DIMENSIONS[i].1,
                description,
            });
        }
    }

    /// Per dimension: 0–2 resources of no org (provider) and 0–4 of orgs
    /// (the provider's file or a tenant file above the org).
    fn declare_resources(&mut self) {
        for d in 0..self.dims.len() {
            let free = match self.drng.below(20) {
                0..=2 => 0,
                3..=12 => 1,
                _ => 2,
            };
            let owned = self.drng.range(0, 4);
            for i in 0..free + owned {
                let (org, declared_in) = if i < free {
                    (None, None)
                } else {
                    let o = self.drng.below(self.orgs.len());
                    let above: Vec<usize> = self
                        .tenants
                        .iter()
                        .copied()
                        .filter(|&t| self.is_anc_or_self(t, o))
                        .collect();
                    let declared_in = if !above.is_empty() && self.drng.chance(0.5) {
                        self.drng.pick(&above)
                    } else {
                        None
                    };
                    (Some(o), declared_in)
                };
                let description = self.drng.chance(0.2);
                self.res.push(GRes {
                    id: format!("{}-{}", self.dims[d].prefix, i + 1),
                    dim: d,
                    org,
                    declared_in,
                    description,
                    broken: false,
                });
            }
        }
    }

    /// About half of the modules are resource modules (at least one).
    fn module_dimensions(&mut self) {
        let n = self.dims.len();
        self.module_dims = Vec::new();
        for _ in 0..self.modules.len() {
            let d = if self.drng.chance(0.55) {
                Some(self.drng.below(n))
            } else {
                None
            };
            self.module_dims.push(d);
        }
        if self.module_dims.iter().all(Option::is_none) {
            let i = self.drng.below(self.modules.len());
            self.module_dims[i] = Some(self.drng.below(n));
        }
    }

    /// The resources of `d` a file of `scope` may name (SPEC §15: of an org
    /// in its subtree, or of no org).
    fn visible_res(&self, d: usize, scope: Option<usize>) -> Vec<usize> {
        (0..self.res.len())
            .filter(|&r| {
                let res = &self.res[r];
                !res.broken
                    && res.dim == d
                    && res
                        .org
                        .is_none_or(|o| scope.is_none_or(|s| self.is_anc_or_self(s, o)))
            })
            .collect()
    }

    /// 1..=`max` resources of `d` that a file of `scope` may name, mostly
    /// of no org or of `near`'s subtree; none when there is none.
    fn pick_resources(
        &mut self,
        d: usize,
        scope: Option<usize>,
        near: Option<usize>,
        max: usize,
    ) -> Vec<usize> {
        let all = self.visible_res(d, scope);
        let close: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&r| match (self.res[r].org, near) {
                (Some(o), Some(n)) => self.is_anc_or_self(n, o),
                _ => true,
            })
            .collect();
        let pool = if !close.is_empty() && self.drng.chance(0.75) {
            close
        } else {
            all
        };
        self.drng.some_of(&pool, max)
    }

    /// A restriction on 1–2 dimensions, 1–2 resources each.
    fn random_restriction(&mut self, scope: Option<usize>, near: Option<usize>) -> GRestr {
        let dims: Vec<usize> = (0..self.dims.len())
            .filter(|&d| !self.visible_res(d, scope).is_empty())
            .collect();
        let mut out = Vec::new();
        for d in self.drng.some_of(&dims, 2) {
            let ids = self.pick_resources(d, scope, near, 2);
            if !ids.is_empty() {
                out.push((d, ids));
            }
        }
        out
    }

    /// Adds `d` with `ids` to a restriction (kept sorted by dimension).
    fn restrict(r: &mut GRestr, d: usize, ids: Vec<usize>) {
        match r.iter_mut().find(|(x, _)| *x == d) {
            Some((_, v)) => {
                v.extend(ids);
                v.sort_unstable();
                v.dedup();
            }
            None => {
                r.push((d, ids));
                r.sort_by_key(|(x, _)| *x);
            }
        }
    }

    /// `resources` on role types and custom roles (clones included: `from`
    /// copies permissions, not restrictions).
    fn role_restrictions(&mut self) {
        for r in 0..self.roles.len() {
            let owner = self.roles[r].owner;
            let p = if owner.is_none() { 0.3 } else { 0.45 };
            if self.drng.chance(p) {
                self.roles[r].resources = self.random_restriction(owner, owner);
            }
        }
    }

    /// Dimensions that have a resource of no org: every file may name one,
    /// so a dimensioned role on them can be assigned from any file.
    fn free_dimensions(&self) -> Vec<usize> {
        (0..self.dims.len())
            .filter(|&d| self.res.iter().any(|r| r.dim == d && r.org.is_none()))
            .collect()
    }

    fn dimensioned_roles(&mut self) {
        let eligible = self.free_dimensions();
        if eligible.is_empty() {
            return;
        }
        for r in 0..self.roles.len() {
            let p = if self.roles[r].owner.is_none() {
                0.2
            } else {
                0.1
            };
            if !self.drng.chance(p) {
                continue;
            }
            let dims = if eligible.len() > 1 && self.drng.chance(0.15) {
                self.drng.some_of(&eligible, 2)
            } else {
                self.drng.pick(&eligible).into_iter().collect()
            };
            self.roles[r].dims = dims;
            self.roles[r].multiple = match self.drng.below(20) {
                0..=8 => None,
                9..=15 => Some(true),
                _ => Some(false),
            };
            // Self-service now and then: `by: self` must name them too.
            if self.roles[r].owner.is_none() && self.drng.chance(0.25) {
                self.roles[r].self_service = Some(true);
            }
        }
    }

    /// `resources` on some role assignments and rule grant items.
    fn item_restrictions(&mut self) {
        for i in 0..self.asgs.len() {
            let a = &self.asgs[i];
            if a.sibling || matches!(a.what, What::Policy(_)) || !self.drng.chance(0.3) {
                continue;
            }
            let near = a.org.or(a.user.map(|u| self.users[u].home));
            let scope = a.scope;
            self.asgs[i].resources = self.random_restriction(scope, near);
        }
        for ri in 0..self.rules.len() {
            if self.rules[ri].sibling {
                continue;
            }
            let scope = self.rules[ri].scope;
            for gi in 0..self.rules[ri].grants.len() {
                if self.drng.chance(0.3) {
                    self.rules[ri].grants[gi].resources = self.random_restriction(scope, scope);
                }
            }
        }
    }

    /// A permission (or `module:*`) for a new role.
    fn dperm(&mut self) -> String {
        let mi = self.drng.below(self.modules.len());
        let (m, actions, _) = &self.modules[mi];
        if self.drng.chance(0.75) {
            format!("{m}:{}", actions[self.drng.below(actions.len())])
        } else {
            format!("{m}:*")
        }
    }

    /// `r` and its `includes` closure by definition.
    fn def_closure(&self, r: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![r];
        while let Some(x) = stack.pop() {
            if !out.contains(&x) {
                out.push(x);
                stack.extend(self.roles[x].includes.iter().copied());
            }
        }
        out
    }

    /// The dimensions giving `r` must name (SPEC §15).
    fn required(&self, r: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .def_closure(r)
            .into_iter()
            .flat_map(|x| self.roles[x].dims.clone())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `r` and its `includes` closure for a user of type `ty` (never
    /// through a disabled role or one `ty` may not hold).
    fn held_closure(&self, r: usize, ty: &str) -> Vec<usize> {
        let can = |x: usize| {
            !self.roles[x].disabled
                && self.roles[x]
                    .ident
                    .as_ref()
                    .is_none_or(|ts| ts.contains(&ty))
        };
        let mut out = Vec::new();
        let mut stack = vec![r];
        while let Some(x) = stack.pop() {
            if can(x) && !out.contains(&x) {
                out.push(x);
                stack.extend(self.roles[x].includes.iter().copied());
            }
        }
        out
    }

    fn new_role(&mut self, name: &str, includes: Vec<usize>, restricted: f64) -> usize {
        let k = self.drng.range(0, 2);
        let grants = (0..k).map(|_| self.dperm()).collect();
        let resources = if self.drng.chance(restricted) {
            self.random_restriction(None, None)
        } else {
            Vec::new()
        };
        let description = self.drng.chance(0.3);
        self.roles.push(GRole {
            owner: None,
            name: name.to_owned(),
            grants,
            includes,
            from: None,
            remove: Vec::new(),
            ident: None,
            disabled: false,
            status_written: false,
            published: true,
            locked: false,
            assignable_by: Vec::new(),
            self_service: None,
            description,
            resources,
            dims: Vec::new(),
            multiple: None,
        });
        self.roles.len() - 1
    }

    /// An assigner role `steward` (restricted by its definition now and
    /// then), perhaps held through `steward-plus` that includes it, given
    /// to 1–3 admins by provider assignments restricted or not; each admin
    /// then assigns roles `steward` may assign with `by:`, with resources
    /// chosen to lie in the admin's scope (SPEC §15), and now and then
    /// outside it (E013 on purpose).
    fn delegation(&mut self) {
        let s = self.new_role("steward", Vec::new(), 0.35);
        let s2 = self
            .drng
            .chance(0.4)
            .then(|| self.new_role("steward-plus", vec![s], 0.3));
        // Roles made for delegation: one tied to resources by its
        // definition (like the steward's own, now and then), one that
        // includes an existing role (which it does not restrict).
        let mut made_for = Vec::new();
        if self.drng.chance(0.6) {
            let t = self.new_role("tied", Vec::new(), 1.0);
            if self.drng.chance(0.5) && !self.roles[s].resources.is_empty() {
                let own = self.roles[s].resources.clone();
                let (d, ids) = own[self.drng.below(own.len())].clone();
                let ids = self.drng.some_of(&ids, 2);
                self.roles[t].resources = vec![(d, ids)];
            }
            made_for.push(t);
        }
        if self.drng.chance(0.5) {
            let open: Vec<usize> = (0..s).filter(|&r| self.roles[r].owner.is_none()).collect();
            if let Some(inc) = self.drng.pick(&open) {
                made_for.push(self.new_role("bundle", vec![inc], 0.7));
            }
        }
        for &r in &made_for {
            self.roles[r].assignable_by.push(s);
        }
        let mut any = !made_for.is_empty();
        for r in 0..s {
            let p = if self.roles[r].owner.is_none() {
                0.35
            } else {
                0.3
            };
            if !self.roles[r].locked && self.drng.chance(p) {
                self.roles[r].assignable_by.push(s);
                any = true;
            }
        }
        if !any {
            let open: Vec<usize> = (0..s).filter(|&r| !self.roles[r].locked).collect();
            if let Some(r) = self.drng.pick(&open) {
                self.roles[r].assignable_by.push(s);
            }
        }
        let users: Vec<usize> = (0..self.users.len()).collect();
        let k = self.drng.range(1, 3);
        // One set in ten or so has a `by:` assignment outside its admin's
        // scope, or where the admin does not hold the assigner role.
        let fail_at = self.drng.chance(0.12).then(|| self.drng.below(2));
        let mut made = 0;
        for admin in self.drng.some_of(&users, k) {
            let home = self.users[admin].home;
            let mut path = vec![home];
            while let Some(p) = self.orgs[*path.last().unwrap_or(&home)].parent {
                path.push(p);
            }
            let mut grants: Vec<(usize, bool, GRestr)> = Vec::new();
            for _ in 0..if self.drng.chance(0.35) { 2 } else { 1 } {
                let y = if self.drng.chance(0.5) {
                    home
                } else {
                    self.drng.pick(&path).unwrap_or(home)
                };
                let inherit = match self.drng.below(10) {
                    0..=5 => None,
                    6..=8 => Some(true),
                    _ => Some(false),
                };
                let resources = if self.drng.chance(0.55) {
                    self.random_restriction(None, Some(y))
                } else {
                    Vec::new()
                };
                let role = match s2 {
                    Some(s2) if self.drng.chance(0.4) => s2,
                    _ => s,
                };
                self.asgs.push(GAsg {
                    scope: None,
                    what: What::Role(role),
                    user: Some(admin),
                    org: (y != home).then_some(y),
                    inherit,
                    locked: false,
                    sibling: false,
                    resources: resources.clone(),
                    by: None,
                });
                grants.push((y, inherit != Some(false), resources));
            }
            let held: Vec<usize> = (0..self.orgs.len())
                .filter(|&x| {
                    grants
                        .iter()
                        .any(|(y, inh, _)| x == *y || (*inh && self.is_anc_or_self(*y, x)))
                })
                .collect();
            for _ in 0..self.drng.range(1, 4) {
                let fail = fail_at == Some(made);
                made += 1;
                self.by_assignment(admin, s, &grants, &held, fail);
            }
        }
    }

    /// What an admin holding `s` through `grants` manages on `d` at `x`:
    /// the union over the grants reaching `x` of what the grant and `s`
    /// itself list.
    fn scope_at(&self, s: usize, grants: &[(usize, bool, GRestr)], x: usize, d: usize) -> Res {
        let own = res_on(&self.roles[s].resources, d);
        grants
            .iter()
            .filter(|(y, inh, _)| x == *y || (*inh && self.is_anc_or_self(*y, x)))
            .map(|(_, _, r)| res_meet(res_on(r, d), own.clone()))
            .fold(Some(BTreeSet::new()), res_join)
    }

    /// One `by: admin` assignment, within the admin's scope unless `fail`.
    fn by_assignment(
        &mut self,
        admin: usize,
        s: usize,
        grants: &[(usize, bool, GRestr)],
        held: &[usize],
        fail: bool,
    ) {
        let targets: Vec<usize> = (0..self.users.len())
            .filter(|&u| held.contains(&self.users[u].home))
            .collect();
        let others: Vec<usize> = targets.iter().copied().filter(|&u| u != admin).collect();
        let pool = if !others.is_empty() && self.drng.chance(0.8) {
            others
        } else {
            targets
        };
        let Some(u) = self.drng.pick(&pool) else {
            return;
        };
        let home = self.users[u].home;
        let elsewhere: Vec<usize> = (0..self.orgs.len()).filter(|x| !held.contains(x)).collect();
        let x = if fail && !elsewhere.is_empty() && self.drng.chance(0.5) {
            // Where the admin does not hold the assigner role.
            self.drng.pick(&elsewhere).unwrap_or(home)
        } else if self.drng.chance(0.6) {
            home
        } else {
            self.drng.pick(held).unwrap_or(home)
        };
        let ty = self.users[u].ty.unwrap_or("employee");
        let roles: Vec<usize> = (0..self.roles.len())
            .filter(|&r| {
                let role = &self.roles[r];
                role.assignable_by.contains(&s)
                    && !role.disabled
                    && !role.locked
                    && role.ident.as_ref().is_none_or(|ts| ts.contains(&ty))
                    && self.published(r, x)
            })
            .collect();
        let Some(r) = self.drng.pick(&roles) else {
            return;
        };
        let files: Vec<usize> = self
            .tenants
            .iter()
            .copied()
            .filter(|&t| {
                self.is_anc_or_self(t, x)
                    && self.is_anc_or_self(t, home)
                    && self.visible(r, Some(t))
            })
            .collect();
        let scope = if !files.is_empty() && self.drng.chance(0.35) {
            self.drng.pick(&files)
        } else {
            None
        };
        let required = self.required(r);
        let single = self.roles[r].multiple != Some(true);
        let closure = self.held_closure(r, ty);
        let scopes: Vec<Res> = (0..self.dims.len())
            .map(|d| {
                res_meet(
                    self.scope_at(s, grants, x, d),
                    self.scope_at(s, grants, home, d),
                )
            })
            .collect();
        for _ in 0..6 {
            let mut g: GRestr = Vec::new();
            for (d, sc) in scopes.iter().enumerate() {
                let must = required.contains(&d);
                if !(must || (sc.is_some() && self.drng.chance(0.8)) || self.drng.chance(0.25)) {
                    continue;
                }
                let max = if single && self.roles[r].dims.contains(&d) {
                    1
                } else {
                    2
                };
                let all = self.visible_res(d, scope);
                let pool: Vec<usize> = match sc {
                    // Outside the scope, on purpose.
                    Some(l) if fail => all.iter().copied().filter(|i| !l.contains(i)).collect(),
                    Some(l) if self.drng.chance(0.85) => {
                        all.iter().copied().filter(|i| l.contains(i)).collect()
                    }
                    _ => all.clone(),
                };
                let mut ids = self.drng.some_of(&pool, max);
                if ids.is_empty() && must {
                    ids = self.drng.some_of(&all, 1);
                }
                if !ids.is_empty() {
                    g.push((d, ids));
                }
            }
            let within_scope = scopes.iter().enumerate().all(|(d, sc)| {
                let reach = closure
                    .iter()
                    .map(|c| res_meet(res_on(&g, d), res_on(&self.roles[*c].resources, d)))
                    .fold(Some(BTreeSet::new()), res_join);
                res_within(&reach, sc)
            });
            if within_scope != fail {
                let inherit = if self.drng.chance(0.8) {
                    None
                } else {
                    Some(self.drng.chance(0.5))
                };
                self.asgs.push(GAsg {
                    scope,
                    what: What::Role(r),
                    user: Some(u),
                    org: (x != home).then_some(x),
                    inherit,
                    locked: false,
                    sibling: false,
                    resources: g,
                    by: Some(GBy::Admin(admin)),
                });
                return;
            }
        }
    }

    /// `by: self` assignments of self-service roles, naming the dimensions
    /// they require.
    fn self_service_assignments(&mut self) {
        let roles: Vec<usize> = (0..self.roles.len())
            .filter(|&r| {
                let role = &self.roles[r];
                role.self_service == Some(true) && !role.disabled && !role.locked
            })
            .collect();
        if roles.is_empty() || !self.drng.chance(0.6) {
            return;
        }
        for _ in 0..self.drng.range(1, 2) {
            let Some(r) = self.drng.pick(&roles) else {
                return;
            };
            let users: Vec<usize> = (0..self.users.len())
                .filter(|&u| {
                    let ty = self.users[u].ty.unwrap_or("employee");
                    self.roles[r]
                        .ident
                        .as_ref()
                        .is_none_or(|ts| ts.contains(&ty))
                        && self.published(r, self.users[u].home)
                })
                .collect();
            let Some(u) = self.drng.pick(&users) else {
                continue;
            };
            let home = self.users[u].home;
            let mut g = if self.drng.chance(0.3) {
                self.random_restriction(None, Some(home))
            } else {
                Vec::new()
            };
            for d in self.required(r) {
                if !g.iter().any(|(x, _)| *x == d) {
                    let ids = self.pick_resources(d, None, Some(home), 1);
                    Self::restrict(&mut g, d, ids);
                }
            }
            self.asgs.push(GAsg {
                scope: None,
                what: What::Role(r),
                user: Some(u),
                org: None,
                inherit: None,
                locked: false,
                sibling: false,
                resources: g,
                by: Some(GBy::Myself),
            });
        }
    }

    /// Every assignment and rule grant item names the dimensions its roles
    /// require (else E002); a user assignment of a dimensioned role that
    /// is not `multiple` names one resource on each of its dimensions, and
    /// one user gets it once (else E016) — but now and then twice.
    fn required_dimensions(&mut self) {
        for i in 0..self.asgs.len() {
            let a = &self.asgs[i];
            let What::Role(r) = a.what else { continue };
            if a.sibling {
                continue;
            }
            let (scope, near) = (a.scope, a.org.or(a.user.map(|u| self.users[u].home)));
            for d in self.required(r) {
                if !self.asgs[i].resources.iter().any(|(x, _)| *x == d) {
                    let ids = self.pick_resources(d, scope, near, 1);
                    if !ids.is_empty() {
                        Self::restrict(&mut self.asgs[i].resources, d, ids);
                    }
                }
            }
            let role = &self.roles[r];
            if self.asgs[i].user.is_some() && role.multiple != Some(true) {
                for (d, ids) in &mut self.asgs[i].resources {
                    if role.dims.contains(d) {
                        ids.truncate(1);
                    }
                }
            }
        }
        for ri in 0..self.rules.len() {
            if self.rules[ri].sibling {
                continue;
            }
            let scope = self.rules[ri].scope;
            for gi in 0..self.rules[ri].grants.len() {
                let mut need: Vec<usize> = self.rules[ri].grants[gi]
                    .roles
                    .iter()
                    .flat_map(|&r| self.required(r))
                    .collect();
                need.sort_unstable();
                need.dedup();
                for d in need {
                    if !self.rules[ri].grants[gi]
                        .resources
                        .iter()
                        .any(|(x, _)| *x == d)
                    {
                        let ids = self.pick_resources(d, scope, scope, 2);
                        if !ids.is_empty() {
                            Self::restrict(&mut self.rules[ri].grants[gi].resources, d, ids);
                        }
                    }
                }
            }
        }
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        let mut keep = Vec::new();
        for a in &self.asgs {
            let single = match (a.what, a.user) {
                (What::Role(r), Some(u)) if !a.sibling => {
                    let role = &self.roles[r];
                    (!role.dims.is_empty() && role.multiple != Some(true)).then_some((u, r))
                }
                _ => None,
            };
            keep.push(single.is_none_or(|key| seen.insert(key)));
        }
        let mut kept = Vec::new();
        for (a, ok) in std::mem::take(&mut self.asgs).into_iter().zip(keep) {
            if ok || self.drng.chance(0.04) {
                kept.push(a);
            }
        }
        self.asgs = kept;
    }

    /// Now and then a mistake about resources (a few percent of the sets):
    /// an unknown resource (E004), a tenant naming a resource outside its
    /// subtree or declaring one of no org (E010), an assignment missing a
    /// required dimension (E002).
    fn resource_errors(&mut self) {
        let roll = self.drng.below(100);
        let role_asgs: Vec<usize> = (0..self.asgs.len())
            .filter(|&i| matches!(self.asgs[i].what, What::Role(_)) && !self.asgs[i].sibling)
            .collect();
        match roll {
            0..=1 => {
                let Some(i) = self.drng.pick(&role_asgs) else {
                    return;
                };
                let d = self.drng.below(self.dims.len());
                self.res.push(GRes {
                    id: format!("{}-gone", self.dims[d].prefix),
                    dim: d,
                    org: None,
                    declared_in: None,
                    description: false,
                    broken: true,
                });
                let gone = self.res.len() - 1;
                Self::restrict(&mut self.asgs[i].resources, d, vec![gone]);
            }
            2..=3 => {
                let tenant: Vec<usize> = role_asgs
                    .iter()
                    .copied()
                    .filter(|&i| self.asgs[i].scope.is_some())
                    .collect();
                let Some(i) = self.drng.pick(&tenant) else {
                    return;
                };
                let s = self.asgs[i].scope;
                let outside: Vec<usize> = (0..self.res.len())
                    .filter(|&r| {
                        self.res[r].org.is_some_and(|o| !self.in_scope(o, s)) && !self.res[r].broken
                    })
                    .collect();
                if let Some(r) = self.drng.pick(&outside) {
                    let d = self.res[r].dim;
                    Self::restrict(&mut self.asgs[i].resources, d, vec![r]);
                }
            }
            4 => {
                let Some(t) = self.drng.pick(&self.tenants.clone()) else {
                    return;
                };
                let d = self.drng.below(self.dims.len());
                self.res.push(GRes {
                    id: format!("{}-stray", self.dims[d].prefix),
                    dim: d,
                    org: None,
                    declared_in: Some(t),
                    description: false,
                    broken: false,
                });
            }
            5..=6 => {
                let dimensioned: Vec<usize> = role_asgs
                    .iter()
                    .copied()
                    .filter(|&i| match self.asgs[i].what {
                        What::Role(r) => !self.required(r).is_empty(),
                        What::Policy(_) => false,
                    })
                    .collect();
                if let Some(i) = self.drng.pick(&dimensioned) {
                    if let What::Role(r) = self.asgs[i].what {
                        let need = self.required(r);
                        self.asgs[i].resources.retain(|(d, _)| !need.contains(d));
                    }
                }
            }
            _ => {}
        }
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
            .opt("resources", self.restriction_value(&role.resources))
            .opt(
                "dimensions",
                (!role.dims.is_empty()).then(|| {
                    V::L(
                        role.dims
                            .iter()
                            .map(|d| st(self.dims[*d].id.clone()))
                            .collect(),
                    )
                }),
            )
            .opt("multiple", role.multiple.map(V::B))
            .v()
    }

    /// `resources: { dimension: [ids] }`, or nothing for no restriction.
    fn restriction_value(&self, r: &GRestr) -> Option<V> {
        (!r.is_empty()).then(|| {
            V::M(
                r.iter()
                    .map(|(d, ids)| {
                        let ids = ids.iter().map(|i| st(self.res[*i].id.clone())).collect();
                        (self.dims[*d].id.clone(), V::L(ids))
                    })
                    .collect(),
            )
        })
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
        for (mi, (id, actions, gated)) in self.modules.iter().enumerate() {
            let dim = self.module_dims.get(mi).copied().flatten();
            provider.put(
                0,
                id,
                Obj::default()
                    .with("actions", strs(actions))
                    .opt("gated", gated.then_some(V::B(true)))
                    .opt("dimension", dim.map(|d| st(self.dims[d].id.clone())))
                    .v(),
            );
        }
        for d in &self.dims {
            let v = Obj::default()
                .opt(
                    "description",
                    d.description.then(|| st(format!("Dimension {}", d.id))),
                )
                .v();
            provider.put(6, &d.id, v);
        }
        for r in self.res.iter().filter(|r| !r.broken) {
            let v = Obj::default()
                .with("dimension", st(self.dims[r.dim].id.clone()))
                .opt("org", r.org.map(|o| st(self.orgs[o].id.clone())))
                .opt(
                    "description",
                    r.description.then(|| st(format!("Resource {}", r.id))),
                )
                .v();
            match tenant_of(&self.tenants, r.declared_in) {
                Some(t) => tenant_docs[t].put(7, &r.id, v),
                None => provider.put(7, &r.id, v),
            }
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
                .opt(
                    "by",
                    a.by.map(|b| match b {
                        GBy::Admin(u) => st(self.users[u].id.clone()),
                        GBy::Myself => st("self"),
                    }),
                )
                .opt("resources", self.restriction_value(&a.resources))
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
                        .opt("resources", self.restriction_value(&g.resources))
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
            dimensions: self.dims.iter().map(|d| d.id.clone()).collect(),
        }
    }
}
