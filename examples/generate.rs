//! Seeded generator of valid synthetic policy sets, for benchmarks and load
//! tests of `trellis check`, `compile` and `query`.
//!
//! ```sh
//! cargo run --release --example generate -- --tier S|M|L [--seed N] --out DIR [--queries N] [--resources]
//! ```
//!
//! Writes `DIR/provider.yaml` (catalog, role types, the top of the org tree,
//! provider assignments, publications, automatic rules, exclusions),
//! `DIR/tenants/<customer>.yaml` (every 10th one as `.toml`) for each customer
//! with data of its own, and `DIR/queries.jsonl` (JSON lines for
//! `trellis query --batch`). Stale `*.yaml`, `*.toml` and `*.jsonl` files in
//! `DIR` and `DIR/tenants` are removed first.
//!
//! The output is valid by construction (no errors): every id is well formed
//! and declared, kinds follow `kinds`, a role is assigned only where it is
//! published, custom roles stay in their owner's subtree, exclusions hold, no
//! `by:` delegation. Assignments that another single assignment would imply
//! (W104) are avoided conservatively. The output depends only on the tier and
//! the seed. Standard library only.
//!
//! `--resources` adds resources (manual: *Resources and dimensions*) on top
//! of the same set: three `dimensions`, a `dimension` on about a quarter of
//! the modules, a handful of resources per customer with users (of orgs of
//! its subtree; declared in its tenant file, or for every 4th customer in the
//! provider file), two resources of no org per dimension (provider file),
//! `resources:` restrictions on about a third of the custom roles whose
//! permissions touch a dimension and on about a fifth of such user
//! assignments (naming resources of the assignment's customer or of no org),
//! and as many resource questions as org-level ones appended to
//! `queries.jsonl` (`{"user", "permission", "resource"}`, with `"org"` only
//! for a resource of no org). Everything it adds is drawn from a second
//! random stream, after the rest is generated, so the set without the
//! resource keys and the org-level questions are byte for byte those of the
//! same tier and seed without `--resources`. Restrictions only narrow what an
//! assignment gives, so the W104 avoidance above still holds.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const NONE: u32 = u32::MAX;

// ---------------------------------------------------------------- RNG

/// SplitMix64: small, fast, good enough for synthetic data, reproducible.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get(self.below(v.len()))
        }
    }
}

// ---------------------------------------------------------------- parameters

#[derive(Clone, Copy)]
struct Tier {
    name: &'static str,
    orgs: usize,
    users: usize,
    assignments: usize,
    roles: usize,
    modules: usize,
}

const TIERS: [Tier; 3] = [
    Tier {
        name: "S",
        orgs: 1_000,
        users: 10_000,
        assignments: 30_000,
        roles: 100,
        modules: 40,
    },
    Tier {
        name: "M",
        orgs: 10_000,
        users: 100_000,
        assignments: 300_000,
        roles: 500,
        modules: 100,
    },
    Tier {
        name: "L",
        orgs: 100_000,
        users: 1_000_000,
        assignments: 2_000_000,
        roles: 2_000,
        modules: 200,
    },
];

struct Args {
    tier: Tier,
    seed: u64,
    out: PathBuf,
    queries: usize,
    resources: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo run --release --example generate -- --tier S|M|L [--seed N] --out DIR [--queries N] [--resources]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut tier = None;
    let mut seed = 1u64;
    let mut out = None;
    let mut queries = 100_000usize;
    let mut resources = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--tier" => {
                let v = val().to_ascii_uppercase();
                tier = Some(
                    *TIERS
                        .iter()
                        .find(|t| t.name == v)
                        .unwrap_or_else(|| usage()),
                );
            }
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(PathBuf::from(val())),
            "--queries" => queries = val().parse().unwrap_or_else(|_| usage()),
            "--resources" => resources = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    match (tier, out) {
        (Some(tier), Some(out)) => Args {
            tier,
            seed,
            out,
            queries,
            resources,
        },
        _ => usage(),
    }
}

// ---------------------------------------------------------------- vocabulary

const ACTIONS: [&str; 8] = [
    "create",
    "read",
    "update",
    "delete",
    "events",
    "visualizer",
    "schedule",
    "export",
];
const MODULE_WORDS: [&str; 20] = [
    "templates",
    "blueprints",
    "finance",
    "insights",
    "billing",
    "devices",
    "reports",
    "alerts",
    "inventory",
    "tickets",
    "assets",
    "contracts",
    "schedules",
    "metrics",
    "audit",
    "directory",
    "network",
    "storage",
    "backup",
    "catalog",
];
const ROLE_WORDS: [&str; 10] = [
    "viewer", "editor", "operator", "admin", "auditor", "analyst", "manager", "support", "billing",
    "planner",
];
const DEPARTMENTS: [&str; 5] = ["it", "finance", "ops", "sales", "hr"];
const KINDS: [&str; 4] = ["distributor", "partner", "customer", "unit"];
const K_DIST: u8 = 0;
const K_PARTNER: u8 = 1;
const K_CUSTOMER: u8 = 2;
const K_UNIT: u8 = 3;
const MAX_DEPTH: u8 = 6;
const TYPES: [&str; 3] = ["employee", "contractor", "service"];

// ---------------------------------------------------------------- model

struct Module {
    name: String,
    actions: Vec<u8>,
    gated: bool,
    base: u32,
    /// Dimension index (`--resources`), or `NONE`.
    dim: u32,
}

#[derive(Clone, Copy)]
enum Pattern {
    Module(u32),
    One(u32, u8),
    Action(u8),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Given by user assignments.
    User,
    /// Given by org assignments. Disjoint `includes` closures from `User`, so
    /// that a user assignment and an org assignment never imply each other.
    Org,
    /// Given by automatic rules only.
    Auto,
    /// Never held by anyone: the roles of the exclusions.
    Reserve,
}

struct Role {
    name: String,
    class: Class,
    /// Customer index for a custom role, `NONE` for a role type.
    owner: u32,
    grants: Vec<Pattern>,
    includes: Vec<u32>,
    from: Option<u32>,
    remove: Vec<u32>,
    restricted: bool,
    employee_only: bool,
    locked: bool,
    /// May be non-published by providers and tenants (never in a locked item).
    pool: bool,
    assignable_by: Option<u32>,
    self_service: bool,
    two_step: bool,
    excludes: Option<u32>,
    description: Option<String>,
    /// Concrete permissions conferred (own grants, includes, clone).
    perms: Vec<u32>,
    /// Index in `World::restrictions` of its own `resources:`, or `NONE`.
    res: u32,
}

struct Policy {
    name: String,
    modules: Vec<u32>,
    description: String,
}

struct Orgs {
    id: Vec<String>,
    kind: Vec<u8>,
    parent: Vec<u32>,
    depth: Vec<u8>,
    /// Customer index of the customer subtree the org is in, or `NONE`.
    cust: Vec<u32>,
    /// No users are homed in its subtree and it has no units.
    empty: Vec<bool>,
    pre: Vec<u32>,
    end: Vec<u32>,
    by_pre: Vec<u32>,
}

impl Orgs {
    fn len(&self) -> usize {
        self.id.len()
    }
    fn push(&mut self, id: String, kind: u8, parent: u32, cust: u32) -> u32 {
        let depth = if parent == NONE {
            1
        } else {
            self.depth[parent as usize] + 1
        };
        self.id.push(id);
        self.kind.push(kind);
        self.parent.push(parent);
        self.depth.push(depth);
        self.cust.push(cust);
        self.empty.push(false);
        (self.id.len() - 1) as u32
    }
    /// Is `x` in the subtree of `y` (`y` itself included)?
    fn within(&self, x: u32, y: u32) -> bool {
        let (px, py) = (self.pre[x as usize], self.pre[y as usize]);
        py <= px && px < self.end[y as usize]
    }
    fn is_leaf(&self, x: u32) -> bool {
        self.end[x as usize] == self.pre[x as usize] + 1
    }
    fn compute_preorder(&mut self) {
        let n = self.len();
        let mut count = vec![0u32; n + 1];
        for &p in &self.parent {
            if p != NONE {
                count[p as usize] += 1;
            }
        }
        let mut start = vec![0u32; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + count[i];
        }
        let mut fill = start.clone();
        let mut children = vec![0u32; start[n] as usize];
        for (i, &p) in self.parent.iter().enumerate() {
            if p != NONE {
                children[fill[p as usize] as usize] = i as u32;
                fill[p as usize] += 1;
            }
        }
        self.pre = vec![0; n];
        self.end = vec![0; n];
        self.by_pre = Vec::with_capacity(n);
        // Iterative DFS: (org, next child position).
        let mut stack: Vec<(u32, u32)> = Vec::new();
        for root in (0..n as u32).filter(|&o| self.parent[o as usize] == NONE) {
            self.pre[root as usize] = self.by_pre.len() as u32;
            self.by_pre.push(root);
            stack.push((root, start[root as usize]));
            while let Some(top) = stack.last_mut() {
                let (o, pos) = *top;
                if pos < start[o as usize + 1] {
                    top.1 += 1;
                    let c = children[pos as usize];
                    self.pre[c as usize] = self.by_pre.len() as u32;
                    self.by_pre.push(c);
                    stack.push((c, start[c as usize]));
                } else {
                    self.end[o as usize] = self.by_pre.len() as u32;
                    stack.pop();
                }
            }
        }
    }
}

struct Users {
    home: Vec<u32>,
    typ: Vec<u8>,
    owner: Vec<bool>,
    /// 0: none, else 1 + index in DEPARTMENTS.
    dept: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Asg {
    /// `NONE` for an org assignment.
    user: u32,
    role: u32,
    org: u32,
    inherit: bool,
    locked: bool,
    /// 0: provider.yaml, c + 1: the tenant file of customer c.
    file: u32,
    /// Index in `World::restrictions` of its `resources:`, or `NONE`.
    res: u32,
}

/// A resource (`--resources`).
struct Res {
    id: String,
    dim: u32,
    /// `NONE`: of no org.
    org: u32,
    /// 0: provider.yaml, c + 1: the tenant file of customer c.
    file: u32,
}

/// A `resources:` restriction: (dimension, resources) pairs.
type Restriction = Vec<(u32, Vec<u32>)>;

#[derive(Clone, Copy)]
struct PolicyAsg {
    policy: u32,
    /// `NONE` for an org assignment.
    user: u32,
    /// `NONE`: the user's home org.
    org: u32,
}

#[derive(Clone, Copy)]
struct Publication {
    role: u32,
    org: u32,
    publish: bool,
    file: u32,
}

struct TenantRule {
    cust: u32,
    role: u32,
}

struct World {
    modules: Vec<Module>,
    /// Permission id -> (module, action).
    perms: Vec<(u32, u8)>,
    policies: Vec<Policy>,
    roles: Vec<Role>,
    n_types: usize,
    closure: Vec<Vec<u64>>,
    auto_roles: [u32; 3],
    reserve: Vec<u32>,
    orgs: Orgs,
    /// Org of each customer.
    customers: Vec<u32>,
    /// Units of customer c: orgs `unit_range[c].0 .. unit_range[c].1`.
    unit_range: Vec<(u32, u32)>,
    /// Custom roles of customer c: roles `custom_range[c].0 .. .1`.
    custom_range: Vec<(u32, u32)>,
    users: Users,
    /// Users homed in customer c's subtree (CSR).
    cust_users_start: Vec<u32>,
    cust_users: Vec<u32>,
    asgs: Vec<Asg>,
    policy_asgs: Vec<PolicyAsg>,
    pubs: Vec<Publication>,
    pub_map: HashMap<u64, bool>,
    tenant_rules: Vec<TenantRule>,
    exclusions: Vec<(String, Vec<u32>, Option<&'static str>)>,
    /// `--resources`: dimension names (empty without the flag).
    dims: Vec<&'static str>,
    res: Vec<Res>,
    restrictions: Vec<Restriction>,
}

fn key(role: u32, org: u32) -> u64 {
    (u64::from(role) << 32) | u64::from(org)
}

impl World {
    fn holds(&self, b: u32, a: u32) -> bool {
        if a == b {
            return true;
        }
        let (a, b) = (a as usize, b as usize);
        a < self.n_types
            && b < self.n_types
            && self.closure[b]
                .get(a / 64)
                .is_some_and(|w| w >> (a % 64) & 1 == 1)
    }

    fn published(&self, role: u32, x: u32) -> bool {
        let mut o = x;
        while o != NONE {
            if let Some(&p) = self.pub_map.get(&key(role, o)) {
                return p;
            }
            o = self.orgs.parent[o as usize];
        }
        let r = &self.roles[role as usize];
        if r.owner == NONE {
            !r.restricted
        } else {
            self.orgs.within(x, self.customers[r.owner as usize])
        }
    }

    fn add_pub(&mut self, role: u32, org: u32, publish: bool, file: u32) -> bool {
        let k = key(role, org);
        if self.pub_map.contains_key(&k) {
            return false;
        }
        self.pub_map.insert(k, publish);
        self.pubs.push(Publication {
            role,
            org,
            publish,
            file,
        });
        true
    }

    fn perm_text(&self, p: u32) -> String {
        let (m, a) = self.perms[p as usize];
        format!("{}:{}", self.modules[m as usize].name, ACTIONS[a as usize])
    }

    fn pattern_text(&self, p: Pattern) -> String {
        match p {
            Pattern::Module(m) => format!("{}:*", self.modules[m as usize].name),
            Pattern::One(m, a) => {
                format!("{}:{}", self.modules[m as usize].name, ACTIONS[a as usize])
            }
            Pattern::Action(a) => format!("*:{}", ACTIONS[a as usize]),
        }
    }

    fn expand(&self, p: Pattern, out: &mut Vec<u32>) {
        match p {
            Pattern::Module(m) => {
                let md = &self.modules[m as usize];
                out.extend((0..md.actions.len() as u32).map(|i| md.base + i));
            }
            Pattern::One(m, a) => {
                let md = &self.modules[m as usize];
                if let Some(i) = md.actions.iter().position(|&x| x == a) {
                    out.push(md.base + i as u32);
                }
            }
            Pattern::Action(a) => {
                for md in &self.modules {
                    if let Some(i) = md.actions.iter().position(|&x| x == a) {
                        out.push(md.base + i as u32);
                    }
                }
            }
        }
    }

    fn random_pattern(&self, rng: &mut Rng) -> Pattern {
        let m = rng.below(self.modules.len()) as u32;
        let md = &self.modules[m as usize];
        let a = md.actions[rng.below(md.actions.len())];
        let x = rng.f64();
        if x < 0.45 {
            Pattern::Module(m)
        } else if x < 0.96 {
            Pattern::One(m, a)
        } else {
            Pattern::Action(a)
        }
    }

    /// Org of a random customer-subtree member of customer c.
    fn cust_org_count(&self, c: u32) -> usize {
        let (s, e) = self.unit_range[c as usize];
        1 + (e - s) as usize
    }
    fn cust_org(&self, c: u32, i: usize) -> u32 {
        if i == 0 {
            self.customers[c as usize]
        } else {
            self.unit_range[c as usize].0 + i as u32 - 1
        }
    }
    fn cust_user_list(&self, c: u32) -> &[u32] {
        let s = self.cust_users_start[c as usize] as usize;
        let e = self.cust_users_start[c as usize + 1] as usize;
        &self.cust_users[s..e]
    }
}

// ---------------------------------------------------------------- generation

fn build_catalog(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let mut base = 0u32;
    for i in 0..tier.modules {
        let mut acts: Vec<u8> = (0..ACTIONS.len() as u8).collect();
        // Fisher-Yates, then keep 3..=7 in vocabulary order.
        for k in (1..acts.len()).rev() {
            let j = rng.below(k + 1);
            acts.swap(k, j);
        }
        acts.truncate(rng.range(3, 7));
        acts.sort_unstable();
        let gated = rng.chance(0.05);
        let name = format!("{}-{}", MODULE_WORDS[i % MODULE_WORDS.len()], i);
        for &a in &acts {
            w.perms.push((i as u32, a));
        }
        let n = acts.len() as u32;
        w.modules.push(Module {
            name,
            actions: acts,
            gated,
            base,
            dim: NONE,
        });
        base += n;
    }
    if !w.modules.iter().any(|m| m.gated) {
        if let Some(m) = w.modules.last_mut() {
            m.gated = true;
        }
    }
    for (i, m) in w.modules.iter().enumerate() {
        if m.gated {
            w.policies.push(Policy {
                name: format!("access-{}", m.name),
                modules: vec![i as u32],
                description: format!("Access to {}", m.name),
            });
        }
    }
    for b in 0..3 {
        let k = rng.range(2, 4);
        let mut mods: Vec<u32> = Vec::new();
        while mods.len() < k {
            let m = rng.below(w.modules.len()) as u32;
            if !mods.contains(&m) {
                mods.push(m);
            }
        }
        mods.sort_unstable();
        w.policies.push(Policy {
            name: format!("bundle-{b}"),
            modules: mods,
            description: format!("Feature bundle {b}"),
        });
    }
}

fn new_role(name: String, class: Class) -> Role {
    Role {
        name,
        class,
        owner: NONE,
        grants: Vec::new(),
        includes: Vec::new(),
        from: None,
        remove: Vec::new(),
        restricted: false,
        employee_only: false,
        locked: false,
        pool: false,
        assignable_by: None,
        self_service: false,
        two_step: false,
        excludes: None,
        description: None,
        perms: Vec::new(),
        res: NONE,
    }
}

fn build_role_types(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let n_types = (tier.roles * 2 / 5).max(16);
    let n_general = n_types - 6;
    for i in 0..n_general {
        let class = if i % 3 == 2 { Class::Org } else { Class::User };
        let mut r = new_role(format!("{}-{}", ROLE_WORDS[i % ROLE_WORDS.len()], i), class);
        for _ in 0..rng.range(1, 3) {
            r.grants.push(w.random_pattern(rng));
        }
        if i >= 4 && rng.chance(0.4) {
            let want = rng.range(1, 2);
            for _ in 0..8 {
                if r.includes.len() >= want {
                    break;
                }
                let j = rng.below(i) as u32;
                if w.roles[j as usize].class == class && !r.includes.contains(&j) {
                    r.includes.push(j);
                }
            }
        }
        let x = rng.f64();
        if x < 0.04 {
            r.restricted = true;
        } else if x < 0.07 {
            r.locked = true;
        } else if x < 0.12 && class == Class::User {
            r.employee_only = true;
        } else if i % 7 == 5 {
            r.pool = true;
        }
        if i > 0 && rng.chance(0.1) {
            r.assignable_by = Some(rng.below(i) as u32);
        }
        r.self_service = class == Class::User && rng.chance(0.05);
        r.two_step = rng.chance(0.03);
        if rng.chance(0.2) {
            r.description = Some(format!("Synthetic role {i}"));
        }
        w.roles.push(r);
    }
    let user_roles: Vec<u32> = (0..n_general as u32)
        .filter(|&j| w.roles[j as usize].class == Class::User)
        .collect();
    let auto_names = [
        "auto-distributor-owner",
        "auto-partner-owner",
        "auto-finance",
    ];
    for (k, name) in auto_names.iter().enumerate() {
        let mut r = new_role((*name).to_owned(), Class::Auto);
        r.grants.push(w.random_pattern(rng));
        if let Some(&j) = rng.pick(&user_roles) {
            r.includes.push(j);
        }
        r.description = Some("Granted by an automatic rule".to_owned());
        w.auto_roles[k] = w.roles.len() as u32;
        w.roles.push(r);
    }
    for k in 0..3 {
        let mut r = new_role(format!("reserved-{k}"), Class::Reserve);
        r.grants.push(w.random_pattern(rng));
        r.description = Some("Held by nobody: separation of duty".to_owned());
        w.reserve.push(w.roles.len() as u32);
        w.roles.push(r);
    }
    // `excludes` shorthand between two reserve roles.
    let (r0, r1) = (w.reserve[0], w.reserve[1]);
    w.roles[r0 as usize].excludes = Some(r1);
    w.n_types = w.roles.len();

    // Closures and permissions: includes point to smaller indices only.
    let words = w.n_types.div_ceil(64);
    for i in 0..w.n_types {
        let mut bits = vec![0u64; words];
        bits[i / 64] |= 1 << (i % 64);
        let mut perms = Vec::new();
        for &g in &w.roles[i].grants {
            w.expand(g, &mut perms);
        }
        for &j in &w.roles[i].includes {
            for (b, o) in bits.iter_mut().zip(&w.closure[j as usize]) {
                *b |= o;
            }
            perms.extend_from_slice(&w.roles[j as usize].perms);
        }
        perms.sort_unstable();
        perms.dedup();
        w.closure.push(bits);
        w.roles[i].perms = perms;
    }
}

fn build_orgs(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let n_dist = (tier.orgs / 100).max(2);
    let n_part = tier.orgs / 25;
    let n_cust = tier.orgs / 4;
    let n_units = tier.orgs - n_dist - n_part - n_cust;
    let o = &mut w.orgs;
    for i in 0..n_dist {
        o.push(format!("d{i}"), K_DIST, NONE, NONE);
    }
    for i in 0..n_part {
        let p = rng.below(n_dist) as u32;
        o.push(format!("p{i}"), K_PARTNER, p, NONE);
    }
    for i in 0..n_cust {
        let p = if rng.chance(0.3) || n_part == 0 {
            rng.below(n_dist) as u32
        } else {
            (n_dist + rng.below(n_part)) as u32
        };
        let id = o.push(format!("c{i}"), K_CUSTOMER, p, i as u32);
        w.customers.push(id);
    }
    // ~3% of customers are empty: no units, no users, no tenant file.
    let mut empty_cust = vec![false; n_cust];
    for e in empty_cust.iter_mut() {
        *e = rng.chance(0.03);
    }
    let live: Vec<u32> = (0..n_cust as u32)
        .filter(|&c| !empty_cust[c as usize])
        .collect();
    let mut units_of = vec![0u32; n_cust];
    if !live.is_empty() {
        for _ in 0..n_units {
            // Skewed: some customers are much larger than others.
            let c = if rng.chance(0.3) {
                live[rng.below(live.len().div_ceil(20))]
            } else {
                live[rng.below(live.len())]
            };
            units_of[c as usize] += 1;
        }
    }
    for c in 0..n_cust {
        let corg = w.customers[c];
        let start = o.len() as u32;
        for k in 0..units_of[c] {
            // Parent: the customer, or an earlier unit not at the maximal depth.
            let mut parent = corg;
            if k > 0 && rng.chance(0.6) {
                let cand = start + rng.below(k as usize) as u32;
                if o.depth[cand as usize] < MAX_DEPTH {
                    parent = cand;
                }
            }
            o.push(format!("c{c}-u{k}"), K_UNIT, parent, c as u32);
        }
        w.unit_range.push((start, o.len() as u32));
        o.empty[corg as usize] = empty_cust[c];
    }
    o.compute_preorder();
}

fn build_users(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let homes: Vec<u32> = (0..w.orgs.len() as u32)
        .filter(|&o| !w.orgs.empty[o as usize])
        .collect();
    let u = &mut w.users;
    for _ in 0..tier.users {
        u.home.push(homes[rng.below(homes.len())]);
        let x = rng.f64();
        u.typ.push(if x < 0.85 {
            0
        } else if x < 0.95 {
            1
        } else {
            2
        });
        u.owner.push(rng.chance(0.08));
        u.dept.push(if rng.chance(0.25) {
            1 + rng.below(DEPARTMENTS.len()) as u8
        } else {
            0
        });
    }
    let n_cust = w.customers.len();
    let mut count = vec![0u32; n_cust + 1];
    for &h in &u.home {
        let c = w.orgs.cust[h as usize];
        if c != NONE {
            count[c as usize + 1] += 1;
        }
    }
    for c in 0..n_cust {
        count[c + 1] += count[c];
    }
    let mut fill = count.clone();
    w.cust_users = vec![0; count[n_cust] as usize];
    for (i, &h) in u.home.iter().enumerate() {
        let c = w.orgs.cust[h as usize];
        if c != NONE {
            w.cust_users[fill[c as usize] as usize] = i as u32;
            fill[c as usize] += 1;
        }
    }
    w.cust_users_start = count;
}

fn build_custom_roles(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let n_custom = tier.roles.saturating_sub(w.n_types);
    let n_cust = w.customers.len();
    let with_users: Vec<u32> = (0..n_cust as u32)
        .filter(|&c| !w.cust_user_list(c).is_empty())
        .collect();
    let mut per = vec![0u32; n_cust];
    if !with_users.is_empty() {
        for _ in 0..n_custom {
            per[with_users[rng.below(with_users.len())] as usize] += 1;
        }
    }
    let sources: Vec<u32> = (0..w.n_types as u32)
        .filter(|&r| matches!(w.roles[r as usize].class, Class::User | Class::Org))
        .collect();
    for (c, &n) in per.iter().enumerate() {
        let start = w.roles.len() as u32;
        for k in 0..n {
            let class = if rng.chance(0.25) {
                Class::Org
            } else {
                Class::User
            };
            let word = ROLE_WORDS[rng.below(ROLE_WORDS.len())];
            let mut r = new_role(format!("local-{word}-{k}"), class);
            r.owner = c as u32;
            let mut perms = Vec::new();
            let src = sources[rng.below(sources.len())];
            if rng.chance(0.7) {
                r.from = Some(src);
                let sp = &w.roles[src as usize].perms;
                if sp.len() >= 2 {
                    let p = sp[rng.below(sp.len())];
                    r.remove.push(p);
                    perms.extend(sp.iter().copied().filter(|&q| q != p));
                } else {
                    perms.extend_from_slice(sp);
                }
                if rng.chance(0.3) {
                    r.grants.push(w.random_pattern(rng));
                }
            } else {
                for _ in 0..rng.range(1, 2) {
                    r.grants.push(w.random_pattern(rng));
                }
            }
            for &g in &r.grants {
                w.expand(g, &mut perms);
            }
            perms.sort_unstable();
            perms.dedup();
            r.perms = perms;
            if rng.chance(0.15) {
                r.description = Some(format!(
                    "Custom role of {}",
                    w.orgs.id[w.customers[c] as usize]
                ));
            }
            w.roles.push(r);
        }
        w.custom_range.push((start, w.roles.len() as u32));
    }
}

fn build_publications(w: &mut World, rng: &mut Rng) {
    let tops: Vec<u32> = (0..w.orgs.len() as u32)
        .filter(|&o| w.orgs.kind[o as usize] <= K_PARTNER)
        .collect();
    let partners: Vec<u32> = (0..w.orgs.len() as u32)
        .filter(|&o| w.orgs.kind[o as usize] == K_PARTNER && !w.orgs.is_leaf(o))
        .collect();
    let pool: Vec<u32> = (0..w.n_types as u32)
        .filter(|&r| w.roles[r as usize].pool)
        .collect();
    // Role types with `published: false`, published on a few top subtrees.
    for r in 0..w.n_types as u32 {
        if w.roles[r as usize].restricted {
            for _ in 0..rng.range(1, 3) {
                let o = tops[rng.below(tops.len())];
                w.add_pub(r, o, true, 0);
            }
        }
    }
    // Provider non-publications on partner subtrees, re-published deeper.
    let n = (partners.len() / 10).max(1);
    for _ in 0..n {
        let (Some(&p), Some(&r)) = (rng.pick(&partners), rng.pick(&pool)) else {
            break;
        };
        if !w.add_pub(r, p, false, 0) {
            continue;
        }
        let (s, e) = (w.orgs.pre[p as usize] + 1, w.orgs.end[p as usize]);
        if s < e {
            let q = w.orgs.by_pre[(s + rng.below((e - s) as usize) as u32) as usize];
            w.add_pub(r, q, true, 0);
        }
    }
    // Tenant non-publications of pool roles on units (never of a role in a
    // locked item), sometimes re-published below.
    for c in 0..w.customers.len() as u32 {
        let (us, ue) = w.unit_range[c as usize];
        if us == ue || !rng.chance(0.05) {
            continue;
        }
        let Some(&r) = rng.pick(&pool) else { break };
        let u = us + rng.below((ue - us) as usize) as u32;
        if !w.add_pub(r, u, false, c + 1) {
            continue;
        }
        let (s, e) = (w.orgs.pre[u as usize] + 1, w.orgs.end[u as usize]);
        if s < e && rng.chance(0.5) {
            let q = w.orgs.by_pre[(s + rng.below((e - s) as usize) as u32) as usize];
            w.add_pub(r, q, true, c + 1);
        }
    }
}

/// Does user assignment `b` imply `a` (same user) — conservatively (it ignores
/// publication, which can only make `b` imply less)?
fn covers(w: &World, b: &Asg, a: &Asg) -> bool {
    let reach = (a.org == b.org || (b.inherit && w.orgs.within(a.org, b.org)))
        && (!a.inherit || b.inherit || w.orgs.is_leaf(a.org));
    reach && w.holds(b.role, a.role)
}

fn build_assignments(w: &mut World, tier: &Tier, rng: &mut Rng) {
    let n_orgs = w.orgs.len();
    let n_org_asg = tier.assignments / 12;
    let types_of = |class: Class, unlocked_only: bool, w: &World| -> Vec<u32> {
        (0..w.n_types as u32)
            .filter(|&r| {
                let role = &w.roles[r as usize];
                role.class == class && !(unlocked_only && role.locked)
            })
            .collect()
    };
    let org_all = types_of(Class::Org, false, w);
    let org_unlocked = types_of(Class::Org, true, w);
    let user_all = types_of(Class::User, false, w);
    let user_unlocked = types_of(Class::User, true, w);
    let user_all_emp: Vec<u32> = user_all
        .iter()
        .copied()
        .filter(|&r| !w.roles[r as usize].employee_only)
        .collect();
    let user_unlocked_emp: Vec<u32> = user_unlocked
        .iter()
        .copied()
        .filter(|&r| !w.roles[r as usize].employee_only)
        .collect();

    // ---- org assignments
    // Custom org-class roles: one guaranteed assignment each (no W103).
    let mut org_asg: Vec<Vec<(u32, bool)>> = vec![Vec::new(); n_orgs];
    let mut custom_orgs: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut out: Vec<Asg> = Vec::new();
    for c in 0..w.customers.len() as u32 {
        let (s, e) = w.custom_range[c as usize];
        for r in s..e {
            if w.roles[r as usize].class != Class::Org {
                continue;
            }
            let x = w.cust_org(c, rng.below(w.cust_org_count(c)));
            let inherit = !rng.chance(0.15);
            org_asg[x as usize].push((r, inherit));
            custom_orgs.entry(r).or_default().push(x);
            out.push(Asg {
                user: NONE,
                role: r,
                org: x,
                inherit,
                locked: false,
                file: c + 1,
                res: NONE,
            });
        }
    }
    let live_orgs: Vec<u32> = (0..n_orgs as u32)
        .filter(|&o| !w.orgs.empty[o as usize])
        .collect();
    let mut cands: Vec<(u8, u32, u32, bool, bool)> = Vec::new();
    for _ in 0..n_org_asg * 4 {
        let x = live_orgs[rng.below(live_orgs.len())];
        let c = w.orgs.cust[x as usize];
        let mut role = NONE;
        if c != NONE && rng.chance(0.3) {
            let (s, e) = w.custom_range[c as usize];
            let customs: Vec<u32> = (s..e)
                .filter(|&r| w.roles[r as usize].class == Class::Org)
                .collect();
            if let Some(&r) = rng.pick(&customs) {
                role = r;
            }
        }
        if role == NONE {
            let list = if c == NONE { &org_all } else { &org_unlocked };
            let Some(&r) = rng.pick(list) else { continue };
            role = r;
        }
        if !w.published(role, x) {
            continue;
        }
        let inherit = !rng.chance(0.15);
        let locked = c == NONE && !w.roles[role as usize].pool && rng.chance(0.1);
        cands.push((w.orgs.depth[x as usize], x, role, inherit, locked));
    }
    // Top-down: only an ancestor (or the same org) can imply a candidate.
    cands.sort_by_key(|&(d, x, _, _, _)| (d, x));
    // Accept every candidate no accepted one implies (nor is implied by),
    // then keep a random subset: dropping assignments never makes another
    // one redundant.
    let mut accepted: Vec<Asg> = Vec::new();
    for &(_, x, r, inherit, locked) in &cands {
        let mut conflict = org_asg[x as usize]
            .iter()
            .any(|&(b, _)| w.holds(b, r) || w.holds(r, b));
        let mut o = w.orgs.parent[x as usize];
        while !conflict && o != NONE {
            conflict = org_asg[o as usize]
                .iter()
                .any(|&(b, binh)| binh && w.holds(b, r));
            o = w.orgs.parent[o as usize];
        }
        if !conflict && w.roles[r as usize].owner != NONE {
            let list = custom_orgs.entry(r).or_default();
            conflict = list
                .iter()
                .any(|&y| w.orgs.within(x, y) || w.orgs.within(y, x));
            if !conflict {
                list.push(x);
            }
        }
        if conflict {
            continue;
        }
        org_asg[x as usize].push((r, inherit));
        let c = w.orgs.cust[x as usize];
        let file = if c == NONE { 0 } else { c + 1 };
        accepted.push(Asg {
            user: NONE,
            role: r,
            org: x,
            inherit,
            locked,
            file,
            res: NONE,
        });
    }
    drop(org_asg);
    let keep = n_org_asg.saturating_sub(out.len()).min(accepted.len());
    let mut idx: Vec<usize> = (0..accepted.len()).collect();
    for k in 0..keep {
        let j = k + rng.below(idx.len() - k);
        idx.swap(k, j);
    }
    idx.truncate(keep);
    idx.sort_unstable();
    out.extend(idx.into_iter().map(|i| accepted[i]));

    // ---- user assignments
    let mut per_user: Vec<u32> = vec![0; w.users.home.len()];
    // User assignments make up the rest of the tier's total (a little over,
    // for the few candidates rejected below).
    let n_user_asg = tier.assignments.saturating_sub(out.len()) * 101 / 100;
    let mean = n_user_asg as f64 / w.users.home.len().max(1) as f64;
    for k in per_user.iter_mut() {
        *k = (mean * 2.0 * rng.f64()).round() as u32;
    }
    // Custom user-class roles: one guaranteed assignment each (no W103).
    let mut forced: Vec<Vec<u32>> = vec![Vec::new(); w.users.home.len()];
    for c in 0..w.customers.len() as u32 {
        let (s, e) = w.custom_range[c as usize];
        let members = w.cust_user_list(c);
        for r in s..e {
            if w.roles[r as usize].class == Class::User && !members.is_empty() {
                let u = members[rng.below(members.len())];
                forced[u as usize].push(r);
            }
        }
    }
    let mut mine: Vec<Asg> = Vec::new();
    for u in 0..w.users.home.len() as u32 {
        mine.clear();
        let home = w.users.home[u as usize];
        let c = w.orgs.cust[home as usize];
        let employee = w.users.typ[u as usize] == 0;
        for &r in &forced[u as usize] {
            let a = Asg {
                user: u,
                role: r,
                org: home,
                inherit: true,
                locked: false,
                file: c + 1,
                res: NONE,
            };
            if !mine.iter().any(|b| covers(w, b, &a) || covers(w, &a, b)) {
                mine.push(a);
            }
        }
        let want = per_user[u as usize] as usize;
        let mut tries = 0;
        while mine.len() < want && tries < want * 4 {
            tries += 1;
            let (pre, end) = (w.orgs.pre[home as usize], w.orgs.end[home as usize]);
            let x = rng.f64();
            let (org, inherit) = if x < 0.70 {
                (home, true)
            } else if x < 0.82 {
                if end - pre < 2 {
                    continue;
                }
                let d =
                    w.orgs.by_pre[(pre + 1 + rng.below((end - pre - 1) as usize) as u32) as usize];
                (d, !rng.chance(0.3))
            } else if x < 0.90 {
                (home, false)
            } else {
                // Explicit link outside the home subtree.
                let o = if c != NONE && rng.chance(0.8) {
                    w.cust_org(c, rng.below(w.cust_org_count(c)))
                } else {
                    live_orgs[rng.below(live_orgs.len())]
                };
                if w.orgs.within(o, home) {
                    continue;
                }
                (o, !rng.chance(0.3))
            };
            let tenant = c != NONE && w.orgs.cust[org as usize] == c;
            let file = if tenant { c + 1 } else { 0 };
            let mut role = NONE;
            if tenant && rng.chance(0.25) {
                let (s, e) = w.custom_range[c as usize];
                if s < e {
                    let r = s + rng.below((e - s) as usize) as u32;
                    if w.roles[r as usize].class == Class::User {
                        role = r;
                    }
                }
            }
            if role == NONE {
                let list = match (tenant, employee) {
                    (true, true) => &user_unlocked,
                    (true, false) => &user_unlocked_emp,
                    (false, true) => &user_all,
                    (false, false) => &user_all_emp,
                };
                let Some(&r) = rng.pick(list) else { continue };
                role = r;
            }
            if !w.published(role, org) {
                continue;
            }
            let locked = !tenant && !w.roles[role as usize].pool && rng.chance(0.05);
            let a = Asg {
                user: u,
                role,
                org,
                inherit,
                locked,
                file,
                res: NONE,
            };
            if mine.iter().any(|b| covers(w, b, &a) || covers(w, &a, b)) {
                continue;
            }
            mine.push(a);
        }
        out.extend_from_slice(&mine);
    }
    // Stable order: by file, then as generated.
    out.sort_by_key(|a| a.file);
    w.asgs = out;

    // ---- policy assignments (provider only)
    let policy_orgs: Vec<u32> = (0..n_orgs as u32)
        .filter(|&o| w.orgs.kind[o as usize] <= K_CUSTOMER && !w.orgs.empty[o as usize])
        .collect();
    let mut porgs: HashSet<u64> = HashSet::new();
    let per_policy = (w.customers.len() / 40).max(2);
    for p in 0..w.policies.len() as u32 {
        let mut placed: Vec<u32> = Vec::new();
        for _ in 0..per_policy {
            let o = policy_orgs[rng.below(policy_orgs.len())];
            if placed
                .iter()
                .any(|&y| w.orgs.within(o, y) || w.orgs.within(y, o))
            {
                continue;
            }
            placed.push(o);
            porgs.insert(key(p, o));
            w.policy_asgs.push(PolicyAsg {
                policy: p,
                user: NONE,
                org: o,
            });
        }
    }
    let mut pusers: HashSet<u64> = HashSet::new();
    let n_pu = (w.users.home.len() / 100).max(5);
    for _ in 0..n_pu {
        let u = rng.below(w.users.home.len()) as u32;
        let p = rng.below(w.policies.len()) as u32;
        let mut o = w.users.home[u as usize];
        let mut covered = false;
        while o != NONE && !covered {
            covered = porgs.contains(&key(p, o));
            o = w.orgs.parent[o as usize];
        }
        if covered || !pusers.insert(key(p, u)) {
            continue;
        }
        w.policy_asgs.push(PolicyAsg {
            policy: p,
            user: u,
            org: NONE,
        });
    }
}

fn build_rules_and_exclusions(w: &mut World, rng: &mut Rng) {
    // Tenant rules: owners get one of the customer's custom roles.
    for c in 0..w.customers.len() as u32 {
        let (s, e) = w.custom_range[c as usize];
        if s < e && rng.chance(0.1) {
            let r = s + rng.below((e - s) as usize) as u32;
            w.tenant_rules.push(TenantRule { cust: c, role: r });
        }
    }
    let res = w.reserve.clone();
    w.exclusions.push(("sod-reserved".to_owned(), res, None));
    // Custom roles of two different customers: only ever held by users homed
    // in their own customer, so nobody holds both, even at one org.
    let owners: Vec<u32> = (0..w.customers.len() as u32)
        .filter(|&c| w.custom_range[c as usize].0 < w.custom_range[c as usize].1)
        .take(2)
        .collect();
    if let [a, b] = owners[..] {
        let roles = vec![w.custom_range[a as usize].0, w.custom_range[b as usize].0];
        w.exclusions
            .push(("sod-disjoint-tenants".to_owned(), roles, Some("org")));
    }
}

// ---------------------------------------------------------------- resources

const DIMENSIONS: [&str; 3] = ["cloud_account", "device", "application"];
/// Short id prefix of each dimension's resources.
const DIM_PREFIX: [&str; 3] = ["acct", "dev", "app"];

impl World {
    /// The dimensions of the modules of role `r`'s permissions (sorted).
    fn role_dims(&self, r: u32) -> Vec<u32> {
        let mut d: Vec<u32> = self.roles[r as usize]
            .perms
            .iter()
            .map(|&p| self.modules[self.perms[p as usize].0 as usize].dim)
            .filter(|&d| d != NONE)
            .collect();
        d.sort_unstable();
        d.dedup();
        d
    }
    fn perm_dim(&self, p: u32) -> u32 {
        self.modules[self.perms[p as usize].0 as usize].dim
    }
    /// What restriction `k` (or `NONE`) lists on `dim`; `None`: every resource.
    fn restricted_to(&self, k: u32, dim: u32) -> Option<&[u32]> {
        let r = self.restrictions.get(k as usize)?;
        r.iter().find(|(d, _)| *d == dim).map(|(_, l)| l.as_slice())
    }
}

/// A restriction on one (sometimes two) of `dims`, naming resources of
/// `shared` (no org) or `own` (a customer's) of each dimension.
fn random_restriction(
    w: &World,
    rng: &mut Rng,
    dims: &[u32],
    own: &[u32],
    shared: &[u32],
) -> Restriction {
    let mut chosen: Vec<u32> = Vec::new();
    let want = if dims.len() > 1 && rng.chance(0.2) {
        2
    } else {
        1
    };
    while chosen.len() < want {
        let d = dims[rng.below(dims.len())];
        if !chosen.contains(&d) {
            chosen.push(d);
        }
    }
    chosen.sort_unstable();
    chosen
        .into_iter()
        .map(|d| {
            let pool: Vec<u32> = own
                .iter()
                .chain(shared)
                .copied()
                .filter(|&q| w.res[q as usize].dim == d)
                .collect();
            let k = rng.range(1, pool.len().min(3));
            let mut list: Vec<u32> = Vec::with_capacity(k);
            while list.len() < k {
                let q = pool[rng.below(pool.len())];
                if !list.contains(&q) {
                    list.push(q);
                }
            }
            list.sort_unstable();
            (d, list)
        })
        .collect()
}

/// `--resources`: dimensions, module dimensions, resources and restrictions,
/// drawn from their own stream `rng` after everything else.
fn build_resources(w: &mut World, rng: &mut Rng) {
    let n_dims = DIMENSIONS.len() as u32;
    w.dims = DIMENSIONS.to_vec();
    for m in &mut w.modules {
        if rng.chance(0.25) {
            m.dim = rng.below(n_dims as usize) as u32;
        }
    }
    // Every dimension has a module: the first modules without one.
    for d in 0..n_dims {
        if !w.modules.iter().any(|m| m.dim == d) {
            if let Some(m) = w.modules.iter_mut().find(|m| m.dim == NONE) {
                m.dim = d;
            }
        }
    }
    // Resources of no org (provider file), two per dimension.
    let mut shared = Vec::new();
    for d in 0..n_dims {
        for k in 0..2 {
            shared.push(w.res.len() as u32);
            w.res.push(Res {
                id: format!("shared-{}{k}", DIM_PREFIX[d as usize]),
                dim: d,
                org: NONE,
                file: 0,
            });
        }
    }
    // A handful per customer with users, of orgs of its subtree.
    let mut own: Vec<Vec<u32>> = vec![Vec::new(); w.customers.len()];
    for c in 0..w.customers.len() as u32 {
        if w.cust_user_list(c).is_empty() {
            continue;
        }
        let cid = w.orgs.id[w.customers[c as usize] as usize].clone();
        let file = if c % 4 == 0 { 0 } else { c + 1 };
        for k in 0..rng.range(2, 6) {
            let d = rng.below(n_dims as usize) as u32;
            let org = w.cust_org(c, rng.below(w.cust_org_count(c)));
            own[c as usize].push(w.res.len() as u32);
            w.res.push(Res {
                id: format!("{cid}-{}{k}", DIM_PREFIX[d as usize]),
                dim: d,
                org,
                file,
            });
        }
    }
    // Custom roles: about a third of those touching a dimension.
    for (c, mine) in own.iter().enumerate() {
        let (s, e) = w.custom_range[c];
        for r in s..e {
            let dims = w.role_dims(r);
            if dims.is_empty() || !rng.chance(0.3) {
                continue;
            }
            let k = random_restriction(w, rng, &dims, mine, &shared);
            w.roles[r as usize].res = w.restrictions.len() as u32;
            w.restrictions.push(k);
        }
    }
    // User assignments (not locked ones): about a fifth of those whose role
    // touches a dimension; resources of the customer of the assignment's org.
    for i in 0..w.asgs.len() {
        let a = w.asgs[i];
        if a.user == NONE || a.locked {
            continue;
        }
        let dims = w.role_dims(a.role);
        if dims.is_empty() || !rng.chance(0.2) {
            continue;
        }
        let c = w.orgs.cust[a.org as usize];
        let mine: &[u32] = if c == NONE { &[] } else { &own[c as usize] };
        let k = random_restriction(w, rng, &dims, mine, &shared);
        w.asgs[i].res = w.restrictions.len() as u32;
        w.restrictions.push(k);
    }
}

fn restriction_text(w: &World, fmt: Fmt, k: u32) -> String {
    let mut m = Inline::new(fmt);
    for (d, list) in &w.restrictions[k as usize] {
        let ids: Vec<String> = list.iter().map(|&q| w.res[q as usize].id.clone()).collect();
        m.list(w.dims[*d as usize], &ids, false);
    }
    m.done()
}

fn res_body(w: &World, fmt: Fmt, q: &Res) -> String {
    let mut m = Inline::new(fmt);
    m.s("dimension", w.dims[q.dim as usize]);
    if q.org != NONE {
        m.s("org", &w.orgs.id[q.org as usize]);
    }
    m.done()
}

// ---------------------------------------------------------------- output

fn role_ref(w: &World, r: u32, in_provider: bool) -> String {
    let role = &w.roles[r as usize];
    if role.owner != NONE && in_provider {
        format!(
            "\"{}::{}\"",
            w.orgs.id[w.customers[role.owner as usize] as usize], role.name
        )
    } else {
        role.name.clone()
    }
}

/// Minimal writer for the two formats: flow-style YAML or inline-table TOML.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Yaml,
    Toml,
}

/// One inline map: `{ k: v, ... }` or `{ k = v, ... }`.
struct Inline {
    fmt: Fmt,
    buf: String,
}

impl Inline {
    fn new(fmt: Fmt) -> Self {
        Inline {
            fmt,
            buf: String::with_capacity(96),
        }
    }
    fn raw(&mut self, k: &str, v: &str) -> &mut Self {
        if !self.buf.is_empty() {
            self.buf.push_str(", ");
        }
        self.buf.push_str(k);
        self.buf
            .push_str(if self.fmt == Fmt::Yaml { ": " } else { " = " });
        self.buf.push_str(v);
        self
    }
    /// A string: plain in YAML (ids are plain-safe), quoted in TOML.
    fn s(&mut self, k: &str, v: &str) -> &mut Self {
        match self.fmt {
            Fmt::Yaml => self.raw(k, v),
            Fmt::Toml => self.raw(k, &format!("\"{v}\"")),
        }
    }
    /// A string that is always quoted.
    fn q(&mut self, k: &str, v: &str) -> &mut Self {
        self.raw(k, &format!("\"{v}\""))
    }
    fn list(&mut self, k: &str, items: &[String], quote: bool) -> &mut Self {
        let q = quote || self.fmt == Fmt::Toml;
        let parts: Vec<String> = items
            .iter()
            .map(|i| if q { format!("\"{i}\"") } else { i.clone() })
            .collect();
        self.raw(k, &format!("[{}]", parts.join(", ")))
    }
    fn done(&self) -> String {
        format!("{{ {} }}", self.buf)
    }
}

fn write_user(w: &World, f: &mut impl Write, fmt: Fmt, u: u32) -> io::Result<()> {
    let mut m = Inline::new(fmt);
    m.s("org", &w.orgs.id[w.users.home[u as usize] as usize]);
    let t = w.users.typ[u as usize];
    if t != 0 {
        m.s("type", TYPES[t as usize]);
    }
    if w.users.owner[u as usize] {
        m.raw("owner", "true");
    }
    let d = w.users.dept[u as usize];
    if d != 0 {
        let mut a = Inline::new(fmt);
        a.s("department", DEPARTMENTS[d as usize - 1]);
        m.raw("attributes", &a.done());
    }
    match fmt {
        Fmt::Yaml => writeln!(f, "  u{u}: {}", m.done()),
        Fmt::Toml => writeln!(f, "u{u} = {}", m.done()),
    }
}

fn write_org(w: &World, f: &mut impl Write, fmt: Fmt, o: u32) -> io::Result<()> {
    let mut m = Inline::new(fmt);
    let k = w.orgs.kind[o as usize];
    m.s("kind", KINDS[k as usize]);
    let p = w.orgs.parent[o as usize];
    if p != NONE {
        m.s("parent", &w.orgs.id[p as usize]);
    }
    if k != K_UNIT {
        let title = ["Distributor", "Partner", "Customer", "Unit"][k as usize];
        m.q("name", &format!("{title} {}", &w.orgs.id[o as usize][1..]));
    }
    match fmt {
        Fmt::Yaml => writeln!(f, "  {}: {}", w.orgs.id[o as usize], m.done()),
        Fmt::Toml => writeln!(f, "{} = {}", w.orgs.id[o as usize], m.done()),
    }
}

fn role_body(w: &World, fmt: Fmt, r: u32) -> String {
    let role = &w.roles[r as usize];
    let mut m = Inline::new(fmt);
    if let Some(d) = &role.description {
        m.q("description", d);
    }
    if let Some(src) = role.from {
        m.s("from", &w.roles[src as usize].name);
        if !role.remove.is_empty() {
            let rm: Vec<String> = role.remove.iter().map(|&p| w.perm_text(p)).collect();
            m.list("remove", &rm, true);
        }
    }
    if !role.includes.is_empty() {
        let inc: Vec<String> = role
            .includes
            .iter()
            .map(|&j| w.roles[j as usize].name.clone())
            .collect();
        m.list("includes", &inc, false);
    }
    if !role.grants.is_empty() {
        let g: Vec<String> = role.grants.iter().map(|&p| w.pattern_text(p)).collect();
        m.list("grants", &g, true);
    }
    if let Some(x) = role.excludes {
        m.list("excludes", &[w.roles[x as usize].name.clone()], false);
    }
    if let Some(a) = role.assignable_by {
        m.list("assignable_by", &[w.roles[a as usize].name.clone()], false);
    }
    if role.self_service {
        m.raw("self_service", "true");
    }
    if role.two_step {
        m.s("approval", "two-step");
    }
    if role.employee_only {
        m.list("identity_types", &["employee".to_owned()], false);
    }
    if role.restricted {
        m.raw("published", "false");
    }
    if role.locked {
        m.raw("locked", "true");
    }
    if role.res != NONE {
        m.raw("resources", &restriction_text(w, fmt, role.res));
    }
    m.done()
}

fn asg_body(w: &World, fmt: Fmt, a: &Asg, in_provider: bool) -> String {
    let mut m = Inline::new(fmt);
    let rr = role_ref(w, a.role, in_provider);
    if rr.starts_with('"') {
        m.raw("role", &rr);
    } else {
        m.s("role", &rr);
    }
    if a.user != NONE {
        m.s("user", &format!("u{}", a.user));
    }
    if a.user == NONE || a.org != w.users.home[a.user as usize] {
        m.s("org", &w.orgs.id[a.org as usize]);
    }
    if !a.inherit {
        m.raw("inherit", "false");
    }
    if a.locked {
        m.raw("locked", "true");
    }
    if a.res != NONE {
        m.raw("resources", &restriction_text(w, fmt, a.res));
    }
    m.done()
}

fn pub_body(w: &World, fmt: Fmt, p: &Publication) -> String {
    let mut m = Inline::new(fmt);
    m.s("role", &w.roles[p.role as usize].name);
    m.s("org", &w.orgs.id[p.org as usize]);
    if !p.publish {
        m.raw("publish", "false");
    }
    m.done()
}

fn write_provider(w: &World, dir: &Path, args: &Args) -> io::Result<u64> {
    let path = dir.join("provider.yaml");
    let mut f = BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
    let y = Fmt::Yaml;
    writeln!(
        f,
        "# Generated by examples/generate.rs --tier {} --seed {}{}: a synthetic, valid policy set.",
        args.tier.name,
        args.seed,
        if args.resources { " --resources" } else { "" }
    )?;
    writeln!(f, "scope: provider\n")?;
    writeln!(f, "kinds:")?;
    writeln!(f, "  distributor: {{ parents: [] }}")?;
    writeln!(f, "  partner: {{ parents: [distributor] }}")?;
    writeln!(f, "  customer: {{ parents: [distributor, partner] }}")?;
    writeln!(f, "  unit: {{ parents: [customer, unit] }}\n")?;
    if !w.dims.is_empty() {
        writeln!(f, "dimensions:")?;
        for d in &w.dims {
            writeln!(f, "  {d}: {{}}")?;
        }
        writeln!(f)?;
    }
    writeln!(f, "modules:")?;
    for m in &w.modules {
        let acts: Vec<&str> = m.actions.iter().map(|&a| ACTIONS[a as usize]).collect();
        let gated = if m.gated { ", gated: true" } else { "" };
        let dim = if m.dim == NONE {
            String::new()
        } else {
            format!(", dimension: {}", w.dims[m.dim as usize])
        };
        writeln!(
            f,
            "  {}: {{ actions: [{}]{gated}{dim} }}",
            m.name,
            acts.join(", ")
        )?;
    }
    writeln!(f, "\npolicies:")?;
    for p in &w.policies {
        let mods: Vec<&str> = p
            .modules
            .iter()
            .map(|&m| w.modules[m as usize].name.as_str())
            .collect();
        writeln!(
            f,
            "  {}: {{ modules: [{}], description: \"{}\" }}",
            p.name,
            mods.join(", "),
            p.description
        )?;
    }
    writeln!(f, "\nroles:")?;
    for r in 0..w.n_types as u32 {
        writeln!(f, "  {}: {}", w.roles[r as usize].name, role_body(w, y, r))?;
    }
    writeln!(f, "\norgs:")?;
    for o in 0..w.orgs.len() as u32 {
        if w.orgs.kind[o as usize] != K_UNIT {
            write_org(w, &mut f, y, o)?;
        }
    }
    let mut provider_res = w.res.iter().filter(|q| q.file == 0).peekable();
    if provider_res.peek().is_some() {
        writeln!(f, "\nresources:")?;
        for q in provider_res {
            writeln!(f, "  {}: {}", q.id, res_body(w, y, q))?;
        }
    }
    writeln!(f, "\nusers:")?;
    for u in 0..w.users.home.len() as u32 {
        if w.orgs.cust[w.users.home[u as usize] as usize] == NONE {
            write_user(w, &mut f, y, u)?;
        }
    }
    writeln!(f, "\nassignments:")?;
    for a in w.asgs.iter().take_while(|a| a.file == 0) {
        writeln!(f, "  - {}", asg_body(w, y, a, true))?;
    }
    for p in &w.policy_asgs {
        let pol = &w.policies[p.policy as usize].name;
        if p.user == NONE {
            writeln!(
                f,
                "  - {{ policy: {pol}, org: {} }}",
                w.orgs.id[p.org as usize]
            )?;
        } else {
            writeln!(f, "  - {{ policy: {pol}, user: u{} }}", p.user)?;
        }
    }
    let mut provider_pubs = w.pubs.iter().filter(|p| p.file == 0).peekable();
    if provider_pubs.peek().is_some() {
        writeln!(f, "\npublications:")?;
        for p in provider_pubs {
            writeln!(f, "  - {}", pub_body(w, y, p))?;
        }
    }
    let [ad, ap, af] = w.auto_roles.map(|r| w.roles[r as usize].name.clone());
    writeln!(f, "\nautomatic:")?;
    writeln!(f, "  - name: distributor-owners")?;
    writeln!(f, "    when: {{ owner: true, org_kind: distributor }}")?;
    writeln!(f, "    grant:")?;
    writeln!(
        f,
        "      - {{ roles: [{ad}], at: [self, {{ descendants: [customer] }}] }}"
    )?;
    writeln!(f, "  - name: partner-owners")?;
    writeln!(f, "    when: {{ owner: true, org_kind: partner }}")?;
    writeln!(
        f,
        "    grant: [{{ roles: [{ap}], at: [self], inherit: true }}]"
    )?;
    writeln!(f, "    locked: false")?;
    writeln!(f, "  - name: finance-staff")?;
    writeln!(
        f,
        "    when: {{ type: employee, attributes: {{ department: finance }} }}"
    )?;
    writeln!(f, "    grant: [{{ roles: [{af}], at: [self] }}]")?;
    writeln!(f, "\nexclusions:")?;
    for (name, roles, per) in &w.exclusions {
        let names: Vec<String> = roles.iter().map(|&r| role_ref(w, r, true)).collect();
        let per = per.map(|p| format!(", per: {p}")).unwrap_or_default();
        writeln!(
            f,
            "  - {{ name: {name}, roles: [{}], max: 1{per} }}",
            names.join(", ")
        )?;
    }
    f.flush()?;
    Ok(fs::metadata(&path)?.len())
}

/// Per-file index ranges of `items` sorted by file (file 0 = provider).
fn ranges_by_file(files: impl Iterator<Item = u32>, n_files: usize) -> Vec<usize> {
    let mut start = vec![0usize; n_files + 2];
    for f in files {
        start[f as usize + 1] += 1;
    }
    for i in 0..=n_files {
        start[i + 1] += start[i];
    }
    start
}

struct Written {
    files: usize,
    toml: usize,
    bytes: u64,
}

fn write_tenants(w: &World, dir: &Path) -> io::Result<Written> {
    let tdir = dir.join("tenants");
    fs::create_dir_all(&tdir)?;
    let n_cust = w.customers.len();
    let asg_start = ranges_by_file(w.asgs.iter().map(|a| a.file), n_cust);
    let mut tpubs: Vec<Vec<&Publication>> = vec![Vec::new(); n_cust];
    for p in w.pubs.iter().filter(|p| p.file != 0) {
        tpubs[p.file as usize - 1].push(p);
    }
    let mut trules: Vec<Vec<u32>> = vec![Vec::new(); n_cust];
    for r in &w.tenant_rules {
        trules[r.cust as usize].push(r.role);
    }
    let mut tres: Vec<Vec<&Res>> = vec![Vec::new(); n_cust];
    for q in w.res.iter().filter(|q| q.file != 0) {
        tres[q.file as usize - 1].push(q);
    }
    let mut out = Written {
        files: 0,
        toml: 0,
        bytes: 0,
    };
    for c in 0..n_cust {
        let (us, ue) = w.unit_range[c];
        let (rs, re) = w.custom_range[c];
        let users = w.cust_user_list(c as u32);
        let asgs = &w.asgs[asg_start[c + 1]..asg_start[c + 2]];
        if us == ue
            && rs == re
            && users.is_empty()
            && asgs.is_empty()
            && tpubs[c].is_empty()
            && tres[c].is_empty()
        {
            continue;
        }
        let cid = &w.orgs.id[w.customers[c] as usize];
        let fmt = if out.files % 10 == 9 {
            Fmt::Toml
        } else {
            Fmt::Yaml
        };
        let path = tdir.join(format!(
            "{cid}.{}",
            if fmt == Fmt::Toml { "toml" } else { "yaml" }
        ));
        let mut f = BufWriter::with_capacity(1 << 16, fs::File::create(&path)?);
        match fmt {
            Fmt::Yaml => {
                writeln!(f, "scope: {cid}")?;
                if us < ue {
                    writeln!(f, "orgs:")?;
                    for o in us..ue {
                        write_org(w, &mut f, fmt, o)?;
                    }
                }
                if !users.is_empty() {
                    writeln!(f, "users:")?;
                    for &u in users {
                        write_user(w, &mut f, fmt, u)?;
                    }
                }
                if !tres[c].is_empty() {
                    writeln!(f, "resources:")?;
                    for q in &tres[c] {
                        writeln!(f, "  {}: {}", q.id, res_body(w, fmt, q))?;
                    }
                }
                if rs < re {
                    writeln!(f, "roles:")?;
                    for r in rs..re {
                        writeln!(
                            f,
                            "  {}: {}",
                            w.roles[r as usize].name,
                            role_body(w, fmt, r)
                        )?;
                    }
                }
                if !asgs.is_empty() {
                    writeln!(f, "assignments:")?;
                    for a in asgs {
                        writeln!(f, "  - {}", asg_body(w, fmt, a, false))?;
                    }
                }
                if !tpubs[c].is_empty() {
                    writeln!(f, "publications:")?;
                    for p in &tpubs[c] {
                        writeln!(f, "  - {}", pub_body(w, fmt, p))?;
                    }
                }
                if !trules[c].is_empty() {
                    writeln!(f, "automatic:")?;
                    for &r in &trules[c] {
                        let name = &w.roles[r as usize].name;
                        writeln!(
                            f,
                            "  - {{ name: owners-{name}, when: {{ owner: true }}, grant: [{{ roles: [{name}], at: [self], inherit: true }}] }}"
                        )?;
                    }
                }
            }
            Fmt::Toml => {
                out.toml += 1;
                writeln!(f, "scope = \"{cid}\"")?;
                // Top-level arrays first: after a [table] header every key
                // belongs to that table.
                if !asgs.is_empty() {
                    writeln!(f, "assignments = [")?;
                    for a in asgs {
                        writeln!(f, "  {},", asg_body(w, fmt, a, false))?;
                    }
                    writeln!(f, "]")?;
                }
                if !tpubs[c].is_empty() {
                    writeln!(f, "publications = [")?;
                    for p in &tpubs[c] {
                        writeln!(f, "  {},", pub_body(w, fmt, p))?;
                    }
                    writeln!(f, "]")?;
                }
                if !trules[c].is_empty() {
                    writeln!(f, "automatic = [")?;
                    for &r in &trules[c] {
                        let name = &w.roles[r as usize].name;
                        writeln!(
                            f,
                            "  {{ name = \"owners-{name}\", when = {{ owner = true }}, grant = [{{ roles = [\"{name}\"], at = [\"self\"], inherit = true }}] }},"
                        )?;
                    }
                    writeln!(f, "]")?;
                }
                if us < ue {
                    writeln!(f, "\n[orgs]")?;
                    for o in us..ue {
                        write_org(w, &mut f, fmt, o)?;
                    }
                }
                if !users.is_empty() {
                    writeln!(f, "\n[users]")?;
                    for &u in users {
                        write_user(w, &mut f, fmt, u)?;
                    }
                }
                if rs < re {
                    writeln!(f, "\n[roles]")?;
                    for r in rs..re {
                        writeln!(f, "{} = {}", w.roles[r as usize].name, role_body(w, fmt, r))?;
                    }
                }
                if !tres[c].is_empty() {
                    writeln!(f, "\n[resources]")?;
                    for q in &tres[c] {
                        writeln!(f, "{} = {}", q.id, res_body(w, fmt, q))?;
                    }
                }
            }
        }
        f.flush()?;
        drop(f);
        out.files += 1;
        out.bytes += fs::metadata(&path)?.len();
    }
    Ok(out)
}

fn write_queries(
    w: &World,
    dir: &Path,
    n: usize,
    rng: &mut Rng,
    res_rng: Option<&mut Rng>,
) -> io::Result<u64> {
    let path = dir.join("queries.jsonl");
    let mut f = BufWriter::with_capacity(1 << 20, fs::File::create(&path)?);
    let user_asgs: Vec<&Asg> = w.asgs.iter().filter(|a| a.user != NONE).collect();
    let n_users = w.users.home.len();
    for _ in 0..n {
        let (user, org, perm) = match rng.pick(&user_asgs) {
            Some(a) if rng.chance(0.6) => {
                let role = &w.roles[a.role as usize];
                let (pre, end) = (w.orgs.pre[a.org as usize], w.orgs.end[a.org as usize]);
                let org = if a.inherit && end - pre > 1 && rng.chance(0.5) {
                    w.orgs.by_pre[(pre + rng.below((end - pre) as usize) as u32) as usize]
                } else {
                    a.org
                };
                let perm = match rng.pick(&role.perms) {
                    Some(&p) => p,
                    None => rng.below(w.perms.len()) as u32,
                };
                (a.user, org, perm)
            }
            _ => (
                rng.below(n_users) as u32,
                rng.below(w.orgs.len()) as u32,
                rng.below(w.perms.len()) as u32,
            ),
        };
        writeln!(
            f,
            "{{\"user\": \"u{user}\", \"org\": \"{}\", \"permission\": \"{}\"}}",
            w.orgs.id[org as usize],
            w.perm_text(perm)
        )?;
    }
    if let Some(rr) = res_rng {
        write_resource_queries(w, &mut f, n, rr)?;
    }
    f.flush()?;
    Ok(fs::metadata(&path)?.len())
}

/// `n` questions about resources, each with a permission of the resource's
/// dimension, asked at the resource's org (a resource of no org: at an org
/// the line names). Three in four start from a user assignment whose role
/// has resource permissions, about a resource of that dimension in the
/// assignment's reach (or of no org), mostly one its restrictions allow;
/// the rest are a random user, resource and permission of its dimension.
fn write_resource_queries(
    w: &World,
    f: &mut impl Write,
    n: usize,
    rng: &mut Rng,
) -> io::Result<()> {
    let n_dims = w.dims.len();
    let mut perms_of_dim: Vec<Vec<u32>> = vec![Vec::new(); n_dims];
    for p in 0..w.perms.len() as u32 {
        let d = w.perm_dim(p);
        if d != NONE {
            perms_of_dim[d as usize].push(p);
        }
    }
    let mut shared_of_dim: Vec<Vec<u32>> = vec![Vec::new(); n_dims];
    // Resources of an org, by the preorder number of their org.
    let mut by_pre: Vec<(u32, u32)> = Vec::new();
    for (i, q) in w.res.iter().enumerate() {
        if q.org == NONE {
            shared_of_dim[q.dim as usize].push(i as u32);
        } else {
            by_pre.push((w.orgs.pre[q.org as usize], i as u32));
        }
    }
    by_pre.sort_unstable();
    let role_res_perms: Vec<Vec<u32>> = (0..w.roles.len())
        .map(|r| {
            w.roles[r]
                .perms
                .iter()
                .copied()
                .filter(|&p| w.perm_dim(p) != NONE)
                .collect()
        })
        .collect();
    let cands: Vec<&Asg> = w
        .asgs
        .iter()
        .filter(|a| a.user != NONE && !role_res_perms[a.role as usize].is_empty())
        .collect();
    let n_users = w.users.home.len();
    let mut inside: Vec<u32> = Vec::new();
    let mut outside: Vec<u32> = Vec::new();
    for _ in 0..n {
        let (user, perm, q, at) = match rng.pick(&cands) {
            Some(a) if rng.chance(0.75) => {
                let perm = *rng.pick(&role_res_perms[a.role as usize]).unwrap_or(&0);
                let d = w.perm_dim(perm);
                let pre = w.orgs.pre[a.org as usize];
                let end = if a.inherit {
                    w.orgs.end[a.org as usize]
                } else {
                    pre + 1
                };
                let lo = by_pre.partition_point(|&(p, _)| p < pre);
                let hi = by_pre.partition_point(|&(p, _)| p < end);
                let role = &w.roles[a.role as usize];
                // The role's own restriction binds its own permissions: a
                // custom role's are all its own, role types have none.
                let allowed = |q: u32| {
                    [a.res, role.res]
                        .iter()
                        .all(|&k| w.restricted_to(k, d).is_none_or(|l| l.contains(&q)))
                };
                inside.clear();
                outside.clear();
                let reach = by_pre[lo..hi].iter().map(|&(_, q)| q);
                for q in reach.chain(shared_of_dim[d as usize].iter().copied()) {
                    if w.res[q as usize].dim != d {
                        continue;
                    }
                    if allowed(q) {
                        inside.push(q);
                    } else {
                        outside.push(q);
                    }
                }
                let q = match (rng.pick(&inside), rng.pick(&outside)) {
                    (Some(&i), Some(&o)) => {
                        if rng.chance(0.8) {
                            i
                        } else {
                            o
                        }
                    }
                    (Some(&q), None) | (None, Some(&q)) => q,
                    (None, None) => continue,
                };
                let at = if a.inherit && end - pre > 1 && rng.chance(0.5) {
                    w.orgs.by_pre[(pre + rng.below((end - pre) as usize) as u32) as usize]
                } else {
                    a.org
                };
                (a.user, perm, q, at)
            }
            _ => {
                let q = rng.below(w.res.len()) as u32;
                let d = w.res[q as usize].dim as usize;
                let perm = *rng.pick(&perms_of_dim[d]).unwrap_or(&0);
                (
                    rng.below(n_users) as u32,
                    perm,
                    q,
                    rng.below(w.orgs.len()) as u32,
                )
            }
        };
        let r = &w.res[q as usize];
        if r.org == NONE {
            writeln!(
                f,
                "{{\"user\": \"u{user}\", \"org\": \"{}\", \"permission\": \"{}\", \"resource\": \"{}\"}}",
                w.orgs.id[at as usize],
                w.perm_text(perm),
                r.id
            )?;
        } else {
            writeln!(
                f,
                "{{\"user\": \"u{user}\", \"permission\": \"{}\", \"resource\": \"{}\"}}",
                w.perm_text(perm),
                r.id
            )?;
        }
    }
    Ok(())
}

fn clean(dir: &Path) -> io::Result<()> {
    for d in [dir.to_path_buf(), dir.join("tenants")] {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e?.path();
            let stale = p.is_file()
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| matches!(x, "yaml" | "toml" | "jsonl"));
            if stale {
                fs::remove_file(&p)?;
            }
        }
    }
    Ok(())
}

fn run(args: &Args) -> io::Result<()> {
    let t0 = Instant::now();
    let tier = args.tier;
    let mut rng = Rng::new(args.seed);
    let mut w = World {
        modules: Vec::new(),
        perms: Vec::new(),
        policies: Vec::new(),
        roles: Vec::new(),
        n_types: 0,
        closure: Vec::new(),
        auto_roles: [0; 3],
        reserve: Vec::new(),
        orgs: Orgs {
            id: Vec::new(),
            kind: Vec::new(),
            parent: Vec::new(),
            depth: Vec::new(),
            cust: Vec::new(),
            empty: Vec::new(),
            pre: Vec::new(),
            end: Vec::new(),
            by_pre: Vec::new(),
        },
        customers: Vec::new(),
        unit_range: Vec::new(),
        custom_range: Vec::new(),
        users: Users {
            home: Vec::new(),
            typ: Vec::new(),
            owner: Vec::new(),
            dept: Vec::new(),
        },
        cust_users_start: Vec::new(),
        cust_users: Vec::new(),
        asgs: Vec::new(),
        policy_asgs: Vec::new(),
        pubs: Vec::new(),
        pub_map: HashMap::new(),
        tenant_rules: Vec::new(),
        exclusions: Vec::new(),
        dims: Vec::new(),
        res: Vec::new(),
        restrictions: Vec::new(),
    };
    build_catalog(&mut w, &tier, &mut rng);
    build_role_types(&mut w, &tier, &mut rng);
    build_orgs(&mut w, &tier, &mut rng);
    build_users(&mut w, &tier, &mut rng);
    build_custom_roles(&mut w, &tier, &mut rng);
    build_publications(&mut w, &mut rng);
    build_assignments(&mut w, &tier, &mut rng);
    build_rules_and_exclusions(&mut w, &mut rng);
    // A stream of its own, so that the rest is the same with and without.
    let mut res_rng = Rng::new(args.seed ^ 0x7265_736f_7572_6365);
    if args.resources {
        build_resources(&mut w, &mut res_rng);
    }
    let t_gen = t0.elapsed();

    fs::create_dir_all(&args.out)?;
    clean(&args.out)?;
    let pbytes = write_provider(&w, &args.out, args)?;
    let tw = write_tenants(&w, &args.out)?;
    let qbytes = write_queries(
        &w,
        &args.out,
        args.queries,
        &mut rng,
        args.resources.then_some(&mut res_rng),
    )?;

    let n_user_asg = w.asgs.iter().filter(|a| a.user != NONE).count();
    let n_custom = w.roles.len() - w.n_types;
    eprintln!(
        "tier {} seed {}: {} orgs, {} users, {} assignments ({} user, {} org) + {} policy assignments, \
         {} roles ({} role types, {} custom), {} modules ({} gated), {} policies, {} publication entries",
        tier.name,
        args.seed,
        w.orgs.len(),
        w.users.home.len(),
        w.asgs.len(),
        n_user_asg,
        w.asgs.len() - n_user_asg,
        w.policy_asgs.len(),
        w.roles.len(),
        w.n_types,
        n_custom,
        w.modules.len(),
        w.modules.iter().filter(|m| m.gated).count(),
        w.policies.len(),
        w.pubs.len(),
    );
    if args.resources {
        let of_org = w.res.iter().filter(|q| q.org != NONE).count();
        let in_provider = w.res.iter().filter(|q| q.file == 0).count();
        let restricted_roles = w.roles.iter().filter(|r| r.res != NONE).count();
        let restricted_asgs = w.asgs.iter().filter(|a| a.res != NONE).count();
        eprintln!(
            "resources: {} dimensions, {} modules with a dimension, {} resources ({} of an org, {} of no org; {} declared in provider.yaml), \
             {} restricted custom roles, {} restricted user assignments, {} resource questions",
            w.dims.len(),
            w.modules.iter().filter(|m| m.dim != NONE).count(),
            w.res.len(),
            of_org,
            w.res.len() - of_org,
            in_provider,
            restricted_roles,
            restricted_asgs,
            args.queries,
        );
    }
    eprintln!(
        "wrote {}: provider.yaml {:.1} MB, {} tenant files ({} TOML) {:.1} MB, queries.jsonl {} lines {:.1} MB",
        args.out.display(),
        pbytes as f64 / 1e6,
        tw.files,
        tw.toml,
        tw.bytes as f64 / 1e6,
        if args.resources { 2 * args.queries } else { args.queries },
        qbytes as f64 / 1e6,
    );
    eprintln!("generated in {:.2?}, total {:.2?}", t_gen, t0.elapsed());
    Ok(())
}

fn main() {
    let args = parse_args();
    if let Err(e) = run(&args) {
        eprintln!("generate: {e}");
        std::process::exit(1);
    }
}
